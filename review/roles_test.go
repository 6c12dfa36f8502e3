package review_test

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/a11y"
	"github.com/uprinfo/presession/review"
	"github.com/uprinfo/presession/web"
)

// TestDashboardPerRole: signed in as a member, the dashboard says who and
// in which role, and shows only the actions the role may take: an
// observer reads (no review, order, caption, link or invitation
// controls, no webhooks, no staff accounts), a reviewer reviews and makes
// links but manages nothing, an admin has it all. The history names the
// members through the staff directory.
func TestDashboardPerRole(t *testing.T) {
	t.Parallel()
	var e *env
	e = newEnvWith(t, []review.Option{review.WithNames(lazyNames{&e})})
	ctx := context.Background()
	e.statement("AD", "", "Ready one", presession.StatusReady)
	e.statement("AD", "", "Approved one", presession.StatusApproved)
	e.statement("AD", "", "Approved two", presession.StatusApproved)

	controls := map[string]string{
		"approve":     `data-action="approve"`,
		"reject":      `data-form="reject"`,
		"reopen":      `data-action="reopen"`,
		"captions":    `data-form="caption"`,
		"order":       `data-action="up"`,
		"invite":      `data-form="invite"`,
		"viewer":      `data-form="viewer"`,
		"import":      `data-form="import"`,
		"webhooks":    `id="webhooks"`,
		"people":      `href="/staff/people"`,
		"invitations": `id="invitations"`,
	}
	for _, tc := range []struct {
		role  presession.Role
		label string
		shown []string
	}{
		{presession.RoleObserver, "Observer", nil},
		{presession.RoleReviewer, "Reviewer", []string{"approve", "reject", "reopen", "captions", "order", "invite", "viewer", "import", "invitations"}},
		{presession.RoleAdmin, "Admin", []string{"approve", "reject", "reopen", "captions", "order", "invite", "viewer", "import", "invitations", "webhooks", "people"}},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			name := "Member " + tc.label
			m, _, err := e.dir.Add(ctx, string(tc.role)+"@example.org", name, tc.role, presession.ActorService)
			if err != nil {
				t.Fatal(err)
			}
			sid, err := e.dir.StartSession(ctx, m.Identity(), "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			st, body, _ := e.page("/staff?lang=en", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: web.StaffCookie, Value: sid}) })
			if st != 200 {
				t.Fatalf("dashboard: %d", st)
			}
			text := html.UnescapeString(body)
			if want := "Signed in as " + name + " (" + tc.label + ")"; !strings.Contains(text, want) {
				t.Errorf("the header does not say %q", want)
			}
			for c, marker := range controls {
				want := false
				for _, s := range tc.shown {
					want = want || s == c
				}
				if got := strings.Contains(body, marker); got != want {
					t.Errorf("%s: %s shown %v, want %v", tc.role, c, got, want)
				}
			}
		})
	}

	// A decision by a member is named in the history on the dashboard.
	rev, _, err := e.dir.Add(ctx, "rita@example.org", "Rita Reviewer", presession.RoleReviewer, presession.ActorService)
	if err != nil {
		t.Fatal(err)
	}
	ready := e.statement("AD", "", "Named one", presession.StatusReady)
	if _, err := e.cat.Transition(ctx, ready.ID, presession.StatusApproved, string(presession.ActorMember(rev.ID)), ""); err != nil {
		t.Fatal(err)
	}
	if _, body, _ := e.page("/staff?lang=fr", bearer(staffToken)); !strings.Contains(html.UnescapeString(body), "par Rita Reviewer") {
		t.Errorf("the dashboard's history does not name the reviewer")
	}
}

// lazyNames resolves with the directory of the env it points to, made
// after the handler's options.
type lazyNames struct{ e **env }

func (l lazyNames) Names(ctx context.Context, actors []presession.Actor) (map[presession.Actor]string, error) {
	return (*l.e).dir.Names(ctx, actors)
}

// TestObserverDashboardAccessible scans an observer's dashboard, which
// lacks the controls of the other roles, with axe at 1280 and 390 px.
func TestObserverDashboardAccessible(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.statement("AD", "", "Ready one", presession.StatusReady)
	e.statement("AD", "", "Approved one", presession.StatusApproved)
	m, _, err := e.dir.Add(ctx, "olga@example.org", "Olga Observer", presession.RoleObserver, presession.ActorService)
	if err != nil {
		t.Fatal(err)
	}
	sid, err := e.dir.StartSession(ctx, m.Identity(), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var pages []a11y.Page
	for _, l := range []string{"en", "fr", "es"} {
		pages = append(pages, a11y.Page{Name: "observer dashboard " + l, URL: e.srv.URL + "/staff?lang=" + l,
			Cookies: []a11y.Cookie{{Name: web.StaffCookie, Value: sid, URL: e.srv.URL}}, WaitFor: "#statements-table"})
	}
	a11y.Scan(t, pages...)
}
