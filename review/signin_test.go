package review_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
)

// audits records what a site audits.
type audits struct {
	mu      sync.Mutex
	entries []presession.AuditEntry
}

func (a *audits) Record(_ context.Context, e presession.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

func (a *audits) all() []presession.AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]presession.AuditEntry(nil), a.entries...)
}

// member adds a member of staff with password on e's directory.
func (e *env) member(email, name string, role presession.Role, password string) *presession.Member {
	e.t.Helper()
	ctx := context.Background()
	_, link, err := e.dir.Add(ctx, email, name, role, presession.ActorService)
	if err != nil {
		e.t.Fatal(err)
	}
	u, _ := url.Parse(link)
	m, err := e.dir.SetPassword(ctx, u.Query().Get("t"), password)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// signInForm posts the e-mail and password form from client (an
// X-Forwarded-For address; "" for the loopback peer itself).
func (e *env) signInForm(email, password, lang, client string) (*http.Response, string) {
	e.t.Helper()
	res := e.do("POST", "/staff/login?lang="+lang, strings.NewReader(url.Values{"email": {email}, "password": {password}}.Encode()),
		func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			if client != "" {
				r.Header.Set("X-Forwarded-For", client)
			}
		})
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, html.UnescapeString(string(b))
}

func cookieOf(res *http.Response) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == web.StaffCookie && c.Value != "" {
			return c
		}
	}
	return nil
}

const rightPassword = "a long and unusual passphrase"

// TestPasswordSignIn: a member signs in with their address and password,
// the cookie's session is theirs on the dashboard and the API, disabling
// them ends it; a member with passkeys needs the second factor; every
// attempt and the sign-out are audited.
func TestPasswordSignIn(t *testing.T) {
	t.Parallel()
	log := &audits{}
	var second sync.Map // member id → the second factor was asked
	e := newEnv(t, func(s *web.Site) {
		s.Audit = log
		s.Auth.SecondFactor = func(w http.ResponseWriter, r *http.Request, m *presession.Member) error {
			second.Store(m.ID, true)
			w.WriteHeader(http.StatusAccepted)
			return nil
		}
	})
	rita := e.member("rita@example.org", "Rita Reviewer", presession.RoleReviewer, rightPassword)

	for _, tc := range []struct {
		email, password, lang string
		status                int
		says                  string
	}{
		{"rita@example.org", "wrong password!!", "fr", http.StatusUnauthorized, "L'adresse électronique ou le mot de passe est incorrect"},
		{"nobody@example.org", rightPassword, "es", http.StatusUnauthorized, "La dirección de correo electrónico o la contraseña son incorrectas"},
		{"rita@example.org", "", "en", http.StatusBadRequest, "Enter your e-mail address and your password"},
	} {
		res, page := e.signInForm(tc.email, tc.password, tc.lang, "192.0.2.10")
		if res.StatusCode != tc.status || !strings.Contains(page, tc.says) || cookieOf(res) != nil ||
			!strings.Contains(page, `id="password-error"`) || !strings.Contains(page, `value="`+tc.email+`"`) {
			t.Errorf("%s / %q: %d\n%s", tc.email, tc.password, res.StatusCode, page)
		}
	}
	res, _ := e.signInForm("Rita@Example.org", rightPassword, "en", "192.0.2.10")
	cookie := cookieOf(res)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff" || cookie == nil || !cookie.HttpOnly {
		t.Fatalf("sign-in: %d %v", res.StatusCode, res.Cookies())
	}
	withCookie := func(r *http.Request) { r.AddCookie(cookie) }
	if st, page, _ := e.page("/staff", withCookie); st != http.StatusOK || strings.Contains(page, `action="/staff/login"`) {
		t.Fatalf("dashboard with the member's cookie: %d", st)
	}
	if res := e.do("GET", "/api/v1/statements", nil, withCookie); res.StatusCode != http.StatusOK {
		t.Errorf("API with the member's cookie: %d", res.StatusCode)
	}

	// A member with a passkey: the password alone does not sign in.
	pat := e.member("pat@example.org", "Pat", presession.RoleAdmin, rightPassword)
	if _, err := e.dir.UpdateMember(context.Background(), pat.ID, func(m *presession.Member) error {
		m.Passkeys = []presession.Passkey{{ID: "cred-1", Credential: []byte("{}")}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	res, _ = e.signInForm("pat@example.org", rightPassword, "en", "192.0.2.11")
	if _, asked := second.Load(pat.ID); res.StatusCode != http.StatusAccepted || !asked || cookieOf(res) != nil {
		t.Errorf("a member with a passkey: %d, second factor asked %v, cookies %v", res.StatusCode, asked, res.Cookies())
	}
	plain := newEnv(t) // no second factor: refused
	plain.member("pat@example.org", "Pat", presession.RoleAdmin, rightPassword)
	m, _ := plain.dir.MemberByEmail(context.Background(), "pat@example.org")
	plain.dir.UpdateMember(context.Background(), m.ID, func(m *presession.Member) error {
		m.Passkeys = []presession.Passkey{{ID: "cred-1"}}
		return nil
	})
	if res, page := plain.signInForm("pat@example.org", rightPassword, "en", ""); res.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(page, "passkey") || cookieOf(res) != nil {
		t.Errorf("passkey member without a second factor: %d\n%s", res.StatusCode, page)
	}

	// Sign-out, audited; the cookie is dead everywhere.
	res = e.do("POST", "/staff/logout", nil, withCookie, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "same-origin") })
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
	if res := e.do("GET", "/api/v1/statements", nil, withCookie); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("API after sign-out: %d", res.StatusCode)
	}

	// Disabling ends a member's session at its next request.
	res, _ = e.signInForm("rita@example.org", rightPassword, "en", "192.0.2.10")
	cookie = cookieOf(res)
	if _, err := e.dir.Disable(context.Background(), rita.ID, presession.ActorService); err != nil {
		t.Fatal(err)
	}
	if res := e.do("GET", "/api/v1/statements", nil, withCookie); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("API after the member was disabled: %d", res.StatusCode)
	}
	if st, page, _ := e.page("/staff", withCookie); st != http.StatusOK || !strings.Contains(page, `action="/staff/login"`) {
		t.Errorf("dashboard after the member was disabled: %d, want the sign-in form", st)
	}

	type entry struct {
		action  string
		actor   presession.Actor
		target  string
		outcome string
	}
	var got []entry
	for _, a := range log.all() {
		got = append(got, entry{a.Action, a.Actor, a.Target, a.Outcome})
		if a.Remote == "" || a.At.IsZero() || a.ID == "" {
			t.Errorf("entry %+v lacks its address, time or id", a)
		}
	}
	want := []entry{
		{"signin", web.ActorAnonymous, "rita@example.org", presession.EUNAUTHORIZED},
		{"signin", web.ActorAnonymous, "nobody@example.org", presession.EUNAUTHORIZED},
		{"signin", presession.ActorMember(rita.ID), "rita@example.org", "ok"},
		{"signout", presession.ActorMember(rita.ID), "rita@example.org", "ok"},
		{"signin", presession.ActorMember(rita.ID), "rita@example.org", "ok"},
	}
	if len(got) != len(want) {
		t.Fatalf("audit %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("audit entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestPasswordBruteForce is the test: 100 wrong passwords in a
// loop from loopback are throttled after a handful, and the right
// password still works for the real user afterwards from another
// address. Guesses spread over addresses meet the account's own limit.
func TestPasswordBruteForce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.member("target@example.org", "Tara", presession.RoleAdmin, rightPassword)
	refused, throttled := 0, 0
	for i := range 100 {
		res, page := e.signInForm("target@example.org", "guess number "+string(rune('a'+i%26))+"-"+strings.Repeat("x", i%7), "en", "")
		switch res.StatusCode {
		case http.StatusUnauthorized:
			refused++
		case http.StatusTooManyRequests:
			throttled++
			if !strings.Contains(page, "Too many failed sign-ins from your address. Try again after") || res.Header.Get("Retry-After") == "" {
				t.Fatalf("throttled attempt %d: %s", i+1, page)
			}
		default:
			t.Fatalf("attempt %d: %d", i+1, res.StatusCode)
		}
		if cookieOf(res) != nil {
			t.Fatalf("attempt %d set the staff cookie", i+1)
		}
	}
	if refused != web.SignInMaxFailures || throttled != 100-web.SignInMaxFailures {
		t.Errorf("%d refused, %d throttled: want %d and the rest", refused, throttled, web.SignInMaxFailures)
	}
	if res, _ := e.signInForm("target@example.org", rightPassword, "en", ""); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right password from the guessing address: %d, want 429", res.StatusCode)
	}
	res, _ := e.signInForm("target@example.org", rightPassword, "en", "198.51.100.9")
	if res.StatusCode != http.StatusSeeOther || cookieOf(res) == nil {
		t.Fatalf("the real user from another address: %d", res.StatusCode)
	}

	// Guesses from many addresses: the account's limit holds them, and
	// tells the person so.
	e.member("other@example.org", "Olga", presession.RoleObserver, rightPassword)
	n := 0
	for a := 1; n < web.SignInAccountMaxFailures; a++ {
		for range web.SignInMaxFailures - 1 {
			if n == web.SignInAccountMaxFailures {
				break
			}
			if res, _ := e.signInForm("other@example.org", "not it at all", "en", "203.0.113."+string(rune('0'+a))); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("guess %d: %d", n+1, res.StatusCode)
			}
			n++
		}
	}
	res, page := e.signInForm("other@example.org", "not it either", "fr", "192.0.2.99")
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(page, "Trop de connexions échouées à ce compte") {
		t.Errorf("past the account's limit: %d\n%s", res.StatusCode, page)
	}
}
