package people_test

import (
	"context"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/people"
)

// TestMembersAPI walks an account through the API as an admin would (with
// the staff token, the service): add, list, disable, enable, change the
// role, reset; each answer is the member without secrets, each change is
// audited with the account and a detail, and refusals carry their code and
// a message in the request's language.
func TestMembersAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	var added people.LinkResponse
	if st, code, msg := e.api("POST", "/api/v1/staff", people.AddRequest{Email: " Rita@Example.ORG ", Name: "Rita Reviewer", Role: "reviewer", Language: "fr"}, &added); st != 201 {
		t.Fatalf("add: %d %s %s", st, code, msg)
	}
	m := added.Member
	if m.Email != "rita@example.org" || m.Role != presession.RoleReviewer || m.State != people.StatePending || m.HasPassword ||
		m.CreatedBy != presession.ActorService || m.CreatedByName != "service" || !added.Mailed {
		t.Errorf("added %+v", added)
	}
	if !strings.HasPrefix(added.SetPasswordURL, e.srv.URL+"/staff/password?t=") {
		t.Errorf("link %q", added.SetPasswordURL)
	}
	if l := e.mails.last(); l.Link != added.SetPasswordURL || l.Lang != "fr" || l.Reset || l.Member.ID != m.ID {
		t.Errorf("mailed %+v", l)
	}
	if a, ok := e.audit.find("member.create", m.ID); !ok || a.Actor != presession.ActorService || a.Outcome != "ok" || !strings.Contains(a.Detail, "rita@example.org") {
		t.Errorf("audit of the creation: %+v %v", a, ok)
	}

	for _, tc := range []struct {
		name, lang string
		body       any
		status     int
		code, msg  string
	}{
		{"same address", "en", people.AddRequest{Email: "rita@example.org", Name: "Another Rita", Role: "observer"}, 409, presession.ECONFLICT, ""},
		{"no role", "fr", people.AddRequest{Email: "o@example.org", Name: "O"}, 400, presession.EINVALID, "Choisissez un rôle"},
		{"unknown role", "es", people.AddRequest{Email: "o@example.org", Name: "O", Role: "boss"}, 400, presession.EINVALID, "no es una función"},
		{"no name", "en", people.AddRequest{Email: "o@example.org", Role: "observer"}, 400, presession.EINVALID, ""},
		{"bad address", "en", people.AddRequest{Email: "not an address", Name: "O", Role: "observer"}, 400, presession.EINVALID, ""},
		{"unknown field", "en", map[string]string{"email": "o@example.org", "name": "O", "role": "observer", "admin": "yes"}, 400, presession.EINVALID, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, code, msg := e.api("POST", "/api/v1/staff?lang="+tc.lang, tc.body, nil)
			if st != tc.status || code != tc.code || !strings.Contains(msg, tc.msg) {
				t.Errorf("%d %s %q, want %d %s containing %q", st, code, msg, tc.status, tc.code, tc.msg)
			}
		})
	}

	var list people.MembersResponse
	if st, _, body := e.api("GET", "/api/v1/staff", nil, &list); st != 200 || len(list.Members) != 1 || list.Members[0].ID != m.ID {
		t.Fatalf("list: %d %+v", st, list)
	} else if strings.Contains(body, "password_hash") || strings.Contains(body, "generation") {
		t.Errorf("the list shows secrets or internals: %s", body)
	}

	steps := []struct {
		path, action string
		body         any
		check        func(people.Member) bool
	}{
		{"/disable", "member.disable", nil, func(v people.Member) bool { return v.Disabled && v.State == people.StateDisabled }},
		{"/enable", "member.enable", nil, func(v people.Member) bool { return !v.Disabled && v.State == people.StatePending }},
		{"/role", "member.role", people.RoleRequest{Role: "Observer"}, func(v people.Member) bool { return v.Role == presession.RoleObserver }},
	}
	for _, s := range steps {
		var v people.Member
		if st, code, msg := e.api("POST", "/api/v1/staff/"+m.ID+s.path, s.body, &v); st != 200 || !s.check(v) {
			t.Errorf("%s: %d %s %s %+v", s.path, st, code, msg, v)
		}
		if a, ok := e.audit.find(s.action, m.ID); !ok || a.Outcome != "ok" {
			t.Errorf("%s not audited: %+v", s.action, a)
		}
	}
	if a, _ := e.audit.find("member.role", m.ID); !strings.Contains(a.Detail, "observer") {
		t.Errorf("the role change's audit does not say the new role: %q", a.Detail)
	}
	if st, code, _ := e.api("POST", "/api/v1/staff/"+m.ID+"/role", people.RoleRequest{Role: "boss"}, nil); st != 400 || code != presession.EINVALID {
		t.Errorf("bad role: %d %s", st, code)
	}
	if st, code, _ := e.api("POST", "/api/v1/staff/nobody/disable", nil, nil); st != 404 || code != presession.ENOTFOUND {
		t.Errorf("unknown member: %d %s", st, code)
	}

	var reset people.LinkResponse
	if st, code, msg := e.api("POST", "/api/v1/staff/"+m.ID+"/reset", nil, &reset); st != 200 || !reset.Mailed || reset.SetPasswordURL == added.SetPasswordURL {
		t.Fatalf("reset: %d %s %s %+v", st, code, msg, reset)
	}
	if l := e.mails.last(); !l.Reset || l.Link != reset.SetPasswordURL {
		t.Errorf("reset mailed %+v", l)
	}
	if _, err := e.dir.SetLinkMember(ctx, linkToken(t, added.SetPasswordURL)); presession.ErrorCode(err) == "" {
		t.Errorf("the first link still works after the reset")
	}

	// A mail that fails leaves the link shown, with why.
	e.mails.mu.Lock()
	e.mails.failing = true
	e.mails.mu.Unlock()
	var unmailed people.LinkResponse
	if st, _, _ := e.api("POST", "/api/v1/staff", people.AddRequest{Email: "obs@example.org", Name: "Olga Observer", Role: "observer"}, &unmailed); st != 201 ||
		unmailed.Mailed || unmailed.SetPasswordURL == "" || !strings.Contains(unmailed.MailError, "refused") {
		t.Errorf("with mail failing: %d %+v", st, unmailed)
	}

	// Without a credential, or with a wrong one: refused, not audited.
	if st, code, _ := e.api("GET", "/api/v1/staff", nil, nil, header("X-None", "1")); st != 401 || code != presession.EUNAUTHORIZED {
		t.Errorf("anonymous list: %d %s", st, code)
	}
	if st, _, _ := e.api("POST", "/api/v1/staff/"+m.ID+"/disable", nil, nil, bearer("wrong")); st != 401 {
		t.Errorf("wrong token: %d", st)
	}
}

// TestTokensAPI: a token is created with a name and a role, its secret
// shown once and never listed; revoking it is recorded, and it is listed
// as revoked, by whom.
func TestTokensAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var created people.TokenResponse
	if st, code, msg := e.api("POST", "/api/v1/tokens", people.TokenRequest{Name: "programme export", Role: "observer"}, &created); st != 201 {
		t.Fatalf("create: %d %s %s", st, code, msg)
	}
	if created.Secret == "" || created.Token.Name != "programme export" || created.Token.Role != presession.RoleObserver ||
		created.Token.Revoked || created.Token.CreatedByName != "service" {
		t.Errorf("created %+v", created)
	}
	id := created.Token.ID
	if a, ok := e.audit.find("token.create", id); !ok || !strings.Contains(a.Detail, "programme export") {
		t.Errorf("creation audit %+v", a)
	}
	for _, tc := range []struct {
		name string
		body people.TokenRequest
		code string
	}{
		{"no role", people.TokenRequest{Name: "x"}, presession.EINVALID},
		{"bad role", people.TokenRequest{Name: "x", Role: "root"}, presession.EINVALID},
		{"no name", people.TokenRequest{Role: "observer"}, presession.EINVALID},
	} {
		if st, code, _ := e.api("POST", "/api/v1/tokens", tc.body, nil); st != 400 || code != tc.code {
			t.Errorf("%s: %d %s", tc.name, st, code)
		}
	}
	var list people.TokensResponse
	st, _, body := e.api("GET", "/api/v1/tokens", nil, &list)
	if st != 200 || len(list.Tokens) != 1 || list.Tokens[0].ID != id {
		t.Fatalf("list: %d %s", st, body)
	}
	if strings.Contains(body, created.Secret) || strings.Contains(body, `"hash"`) {
		t.Errorf("the list shows the secret or its hash: %s", body)
	}
	var revoked people.Token
	if st, code, msg := e.api("DELETE", "/api/v1/tokens/"+id, nil, &revoked); st != 200 || !revoked.Revoked || revoked.RevokedBy != presession.ActorService || revoked.RevokedByName != "service" {
		t.Errorf("revoke: %d %s %s %+v", st, code, msg, revoked)
	}
	if a, ok := e.audit.find("token.revoke", id); !ok || a.Outcome != "ok" {
		t.Errorf("revocation audit %+v", a)
	}
	if st, code, _ := e.api("DELETE", "/api/v1/tokens/nope", nil, nil); st != 404 || code != presession.ENOTFOUND {
		t.Errorf("unknown token: %d %s", st, code)
	}
}
