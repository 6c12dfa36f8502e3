package people_test

import (
	"context"
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
)

// TestSetPassword: the link's page names the account and states the
// rules; a refused password shows the form again with why, in the page's
// language; the right one signs the person in (a session of their own,
// named by the staff cookie) and sends them to /staff; the link then
// works no more, and the page says to ask an admin for a new one.
func TestSetPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	m, link, err := e.dir.Add(ctx, "rita@example.org", "Rita Reviewer", presession.RoleReviewer, presession.ActorService)
	if err != nil {
		t.Fatal(err)
	}
	tok := linkToken(t, link)

	st, body, _ := e.page("/staff/password?lang=en&t=" + url.QueryEscape(tok))
	body = html.UnescapeString(body)
	if st != 200 || !strings.Contains(body, "Rita Reviewer (rita@example.org)") || !strings.Contains(body, "At least 12 characters") ||
		!strings.Contains(body, `autocomplete="new-password"`) || !strings.Contains(body, `name="t" value="`+tok+`"`) {
		t.Fatalf("form: %d\n%s", st, body)
	}

	post := func(lang, pw, confirm string) (int, string, string, string) {
		v := url.Values{"t": {tok}, "password": {pw}, "confirm": {confirm}}
		st, body, res := e.form("/staff/password?lang="+lang, v.Encode())
		return st, html.UnescapeString(body), res.Header.Get("Location"), cookie(res)
	}
	for _, tc := range []struct {
		name, lang, pw, confirm, want string
	}{
		{"empty", "en", "", "", "Enter a password"},
		{"different", "fr", "correct horse battery staple", "correct horse battery stapler", "ne sont pas identiques"},
		{"short", "fr", "court", "court", "12"},
		{"common", "es", "password1234", "password1234", "más comunes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body, loc, c := post(tc.lang, tc.pw, tc.confirm)
			if st != 400 || loc != "" || c != "" || !strings.Contains(body, tc.want) || !strings.Contains(body, `aria-invalid="true"`) ||
				!strings.Contains(body, `lang="`+tc.lang+`"`) {
				t.Errorf("%d %q cookie %q; want the form again saying %q\n%s", st, loc, c, tc.want, body)
			}
		})
	}
	if got, err := e.dir.SetLinkMember(ctx, tok); err != nil || got.PasswordHash != "" {
		t.Fatalf("a refused password used the link up: %v", err)
	}

	// From another site: refused before anything is read.
	v := url.Values{"t": {tok}, "password": {"correct horse battery staple"}, "confirm": {"correct horse battery staple"}}
	if st, _, res := e.form("/staff/password", v.Encode(), header("Sec-Fetch-Site", "cross-site")); st != 403 || cookie(res) != "" {
		t.Errorf("cross-site: %d", st)
	}

	st, _, loc, sid := post("en", "correct horse battery staple", "correct horse battery staple")
	if st != 303 || loc != "/staff" || sid == "" {
		t.Fatalf("set: %d %q cookie %q", st, loc, sid)
	}
	id, err := e.dir.SessionIdentity(ctx, sid)
	if err != nil || id.Kind != presession.IdentityMember || id.ID != m.ID || id.Role != presession.RoleReviewer {
		t.Errorf("the cookie's session: %+v %v", id, err)
	}
	if got, err := e.dir.Authenticate(ctx, "rita@example.org", "correct horse battery staple"); err != nil || got.ID != m.ID {
		t.Errorf("the password does not sign in: %v", err)
	}

	for _, tc := range []struct {
		name, path string
		status     int
		want       string
	}{
		{"used", "/staff/password?lang=en&t=" + url.QueryEscape(tok), 410, "Ask an admin for a new one"},
		{"used, in French", "/staff/password?lang=fr&t=" + url.QueryEscape(tok), 410, "Demandez-en un nouveau à un administrateur"},
		{"unknown", "/staff/password?lang=en&t=nonsense", 404, "Ask an admin for a new one"},
		{"none", "/staff/password?lang=es", 404, "Pida uno nuevo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body, _ := e.page(tc.path)
			body = html.UnescapeString(body)
			if st != tc.status || !strings.Contains(body, tc.want) || strings.Contains(body, `type="password"`) {
				t.Errorf("%d, want %d saying %q\n%s", st, tc.status, tc.want, body)
			}
		})
	}
	if st, _, _, c := post("en", "another good passphrase", "another good passphrase"); st != 410 || c != "" {
		t.Errorf("a used link set a password again: %d", st)
	}
}
