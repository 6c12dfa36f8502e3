package people_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/a11y"
	"github.com/uprinfo/presession/web"
)

// TestPagesAccessible scans the staff accounts page (members in every
// state, a live and a revoked token), the page a reviewer gets there, and
// the set-password page (the form, a refusal, a used link) with axe in
// Chromium at 1280 and 390 px, in English, French and Spanish.
func TestPagesAccessible(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	by := presession.ActorService
	admin, _, err := e.dir.Add(ctx, "ada@example.org", "Ada Admin", presession.RoleAdmin, by)
	if err != nil {
		t.Fatal(err)
	}
	rev, revLink, err := e.dir.Add(ctx, "rita.reviewer.with.a.rather.long.address@delegations.example.org", "Rita Reviewer", presession.RoleReviewer, by)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.SetPassword(ctx, linkToken(t, revLink), "seven quiet harbours at dawn"); err != nil {
		t.Fatal(err)
	}
	obs, _, err := e.dir.Add(ctx, "olga@example.org", "Olga Observer", presession.RoleObserver, presession.ActorMember(admin.ID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.Disable(ctx, obs.ID, by); err != nil {
		t.Fatal(err)
	}
	_, pending, err := e.dir.Add(ctx, "new@example.org", "Nadia New", presession.RoleReviewer, by)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.dir.CreateToken(ctx, "programme export", presession.RoleObserver, by); err != nil {
		t.Fatal(err)
	}
	old, _, err := e.dir.CreateToken(ctx, "old script", presession.RoleReviewer, by)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.RevokeToken(ctx, old.ID, by); err != nil {
		t.Fatal(err)
	}
	cookieOf := func(id presession.Identity) []a11y.Cookie {
		sid, err := e.dir.StartSession(ctx, id, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return []a11y.Cookie{{Name: web.StaffCookie, Value: sid, URL: e.srv.URL}}
	}
	adminCookie := cookieOf(admin.Identity())
	revCookie := cookieOf(rev.Identity())

	var pages []a11y.Page
	for _, l := range []string{"en", "fr", "es"} {
		pages = append(pages,
			a11y.Page{Name: "people " + l, URL: e.srv.URL + "/staff/people?lang=" + l, Cookies: adminCookie, WaitFor: "#members-table"},
			a11y.Page{Name: "set password " + l, URL: e.srv.URL + "/staff/password?lang=" + l + "&t=" + url.QueryEscape(linkToken(t, pending))},
			a11y.Page{Name: "set password, used link " + l, URL: e.srv.URL + "/staff/password?lang=" + l + "&t=" + url.QueryEscape(linkToken(t, revLink))})
	}
	pages = append(pages, a11y.Page{Name: "people for a reviewer", URL: e.srv.URL + "/staff/people?lang=en", Cookies: revCookie})
	for _, r := range a11y.Scan(t, pages...) {
		if r.Lang == "" {
			t.Errorf("%s: no lang", r.Name)
		}
	}
}
