package people_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
)

// TestRolesPerRoute: every route of the table needs an admin's role. For
// each route and each role (members signed in with their session, API
// tokens as bearers), an observer or a reviewer is refused with 403 and
// the refusal is audited, an admin gets through; without a credential,
// 401.
func TestRolesPerRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	target, _, err := e.dir.Add(ctx, "target@example.org", "Tess Target", presession.RoleObserver, presession.ActorService)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.dir.CreateToken(ctx, "target token", presession.RoleObserver, presession.ActorService)
	if err != nil {
		t.Fatal(err)
	}
	type caller struct {
		name  string
		role  presession.Role
		actor presession.Actor
		auth  func(*http.Request)
	}
	var callers []caller
	for _, role := range presession.Roles {
		m, _, err := e.dir.Add(ctx, string(role)+"@example.org", "Member "+string(role), role, presession.ActorService)
		if err != nil {
			t.Fatal(err)
		}
		sid, err := e.dir.StartSession(ctx, m.Identity(), "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		ct, secret, err := e.dir.CreateToken(ctx, "token "+string(role), role, presession.ActorService)
		if err != nil {
			t.Fatal(err)
		}
		callers = append(callers,
			caller{"member " + string(role), role, presession.ActorMember(m.ID), func(r *http.Request) {
				r.AddCookie(&http.Cookie{Name: "presession_staff", Value: sid})
				r.Header.Set("Sec-Fetch-Site", "same-origin")
			}},
			caller{"token " + string(role), role, presession.ActorToken(ct.ID), bearer(secret)})
	}
	bodies := map[string]string{
		"POST /api/v1/staff":           `{"email":"x-%s@example.org","name":"X","role":"observer"}`,
		"POST /api/v1/staff/{id}/role": `{"role":"observer"}`,
		"POST /api/v1/tokens":          `{"name":"x","role":"observer"}`,
	}
	routes := e.h.Routes()
	if len(routes) != 9 {
		t.Fatalf("%d routes; the table below expects 9", len(routes))
	}
	for _, rt := range routes {
		if rt.Perm != presession.PermManage {
			t.Errorf("%s needs %s, want manage", rt.Pattern, rt.Perm)
		}
		method, path, _ := strings.Cut(rt.Pattern, " ")
		id := target.ID
		if strings.Contains(path, "/tokens/") {
			id = tok.ID
		}
		path = strings.ReplaceAll(path, "{id}", id)
		for _, c := range append(callers, caller{"anonymous", "", "", func(*http.Request) {}}) {
			t.Run(rt.Pattern+" "+c.name, func(t *testing.T) {
				body := strings.ReplaceAll(bodies[rt.Pattern], "%s", strings.ReplaceAll(c.name, " ", "-"))
				var st int
				var code string
				if body != "" {
					st, code, _ = e.api(method, path, jsonRaw(body), nil, c.auth)
				} else {
					st, code, _ = e.api(method, path, nil, nil, c.auth)
				}
				switch {
				case c.role == "":
					if st != 401 {
						t.Errorf("anonymous: %d %s", st, code)
					}
				case c.role.Can(presession.PermManage):
					if st >= 400 && st != 409 { // 409: the route's own refusal, past the role check
						t.Errorf("%s refused: %d %s", c.name, st, code)
					}
				default:
					if st != 403 || code != presession.EFORBIDDEN {
						t.Errorf("%s: %d %s, want 403 forbidden", c.name, st, code)
					}
					if rt.Action != "" && !e.audit.has(rt.Action, c.actor, presession.EFORBIDDEN) {
						t.Errorf("the refused %s by %s is not audited as forbidden", rt.Action, c.actor)
					}
				}
			})
		}
	}
}

// jsonRaw is a JSON body sent as written.
func jsonRaw(s string) json.RawMessage { return json.RawMessage(s) }

// TestPeoplePageAccess: the staff accounts page shows to an admin; a
// reviewer gets a page saying their role does not allow it, in their
// language; a visitor not signed in is sent to the sign-in page.
func TestPeoplePageAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	session := func(role presession.Role) func(*http.Request) {
		m, _, err := e.dir.Add(ctx, string(role)+"@example.org", "Member "+string(role), role, presession.ActorService)
		if err != nil {
			t.Fatal(err)
		}
		sid, err := e.dir.StartSession(ctx, m.Identity(), "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "presession_staff", Value: sid}) }
	}
	for _, tc := range []struct {
		name     string
		auth     func(*http.Request)
		status   int
		want     string
		location string
	}{
		{"admin", session(presession.RoleAdmin), 200, `id="members-table"`, ""},
		{"the service", bearer(staffToken), 200, `data-form="token"`, ""},
		{"reviewer", session(presession.RoleReviewer), 403, "ne le permet pas", ""},
		{"observer", session(presession.RoleObserver), 403, "ne le permet pas", ""},
		{"nobody", func(*http.Request) {}, 303, "", "/staff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body, res := e.page("/staff/people?lang=fr", tc.auth)
			if st != tc.status || !strings.Contains(body, tc.want) || res.Header.Get("Location") != tc.location {
				t.Errorf("%d %q, want %d %q containing %q", st, res.Header.Get("Location"), tc.status, tc.location, tc.want)
			}
			if tc.status == 403 && (strings.Contains(body, `data-form="member"`) || strings.Contains(body, "people.js")) {
				t.Errorf("the refusal shows the forms")
			}
		})
	}
}
