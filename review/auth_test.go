package review_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
)

// TestAuthMatrix sends every route with every kind of credential. Each
// request is built afresh (with its own fixtures), so a request that is let
// through succeeds with the route's own status.
func TestAuthMatrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	csoTok, inv := e.invite("AD", "Matrix org")
	e.statement("AD", inv.ID, "Mine", presession.StatusReady)
	viewerTok := e.viewerToken()
	cookie := e.staffCookie()
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Errorf("staff cookie %+v", cookie)
	}

	withCookie := func(r *http.Request) { r.AddCookie(cookie) }
	creds := []cred{
		{"none", func(*http.Request) {}},
		{"cso token", bearer(csoTok)},
		{"cso token in query", func(r *http.Request) { q := r.URL.Query(); q.Set("token", csoTok); r.URL.RawQuery = q.Encode() }},
		{"viewer token", bearer(viewerTok)},
		{"viewer key in query", func(r *http.Request) { q := r.URL.Query(); q.Set("key", viewerTok); r.URL.RawQuery = q.Encode() }},
		{"wrong staff token", bearer(staffToken + "x")},
		{"staff bearer", bearer(staffToken)},
		{"staff cookie, same origin", func(r *http.Request) { withCookie(r); r.Header.Set("Sec-Fetch-Site", "same-origin") }},
		{"staff cookie, Origin matches", func(r *http.Request) { withCookie(r); r.Header.Set("Origin", e.srv.URL) }},
		{"staff cookie, no origin headers", withCookie},
		{"staff cookie, cross-site", func(r *http.Request) { withCookie(r); r.Header.Set("Sec-Fetch-Site", "cross-site") }},
		{"staff cookie, foreign Origin", func(r *http.Request) { withCookie(r); r.Header.Set("Origin", "https://evil.example") }},
		{"forged cookie", func(r *http.Request) {
			r.AddCookie(&http.Cookie{Name: cookie.Name, Value: strings.Repeat("0", len(cookie.Value))})
			r.Header.Set("Sec-Fetch-Site", "same-origin")
		}},
	}
	isStaff := func(c string, unsafe bool) bool {
		switch c {
		case "staff bearer", "staff cookie, same origin", "staff cookie, Origin matches":
			return true
		case "staff cookie, no origin headers", "staff cookie, cross-site", "staff cookie, foreign Origin":
			return !unsafe // safe methods need no origin check
		}
		return false
	}
	// denied is the status a staff route answers a credential that does
	// not admit it: 403 for a genuine cookie on a cross-site unsafe
	// request, 401 for everything else.
	denied := func(c string) int {
		if strings.HasPrefix(c, "staff cookie,") {
			return http.StatusForbidden
		}
		return http.StatusUnauthorized
	}

	type route struct {
		method, path string
		body         func() string // fresh fixtures per request
		ok           int
	}
	readyID := func() string { return e.statement("AD", "", "Ready", presession.StatusReady).ID }
	approvedID := func() string { return e.statement("AD", "", "Approved", presession.StatusApproved).ID }
	sharedReady, sharedApproved := readyID(), approvedID()
	routes := []route{
		{"GET", "/api/v1/statements", nil, 200},
		{"GET", "/api/v1/statements/{ready}", nil, 200},
		{"POST", "/api/v1/statements/{ready}/approve", nil, 200},
		{"POST", "/api/v1/statements/{ready}/reject", func() string { return `{"reason":"no"}` }, 200},
		{"POST", "/api/v1/statements/{approved}/reopen", nil, 200},
		{"PUT", "/api/v1/statements/{ready}/captions/en", func() string { return goodVTT }, 200},
		{"GET", "/api/v1/sessions/upr36/countries/AD/order", nil, 200},
		{"PUT", "/api/v1/sessions/upr36/countries/MN/order", func() string { return `{"statements":[]}` }, 200},
		{"POST", "/api/v1/invitations", func() string { return `{"session":"upr36","country":"AD","organisation":"X","until":"2099-01-01"}` }, 201},
		{"POST", "/api/v1/viewer-links", func() string { return `{"session":"upr36"}` }, 201},
	}
	for _, rt := range routes {
		for _, c := range creds {
			unsafe := rt.method != "GET"
			want := denied(c.name)
			if isStaff(c.name, unsafe) {
				want = rt.ok
			}
			// A denied request changes nothing, so it can share fixtures.
			rid, aid := sharedReady, sharedApproved
			if want < 400 {
				rid, aid = readyID(), approvedID()
			}
			path := strings.NewReplacer("{ready}", rid, "{approved}", aid).Replace(rt.path)
			var body io.Reader
			if rt.body != nil {
				body = strings.NewReader(rt.body())
			}
			res := e.do(rt.method, path, body, c.apply)
			data, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != want {
				t.Errorf("%s %s with %s: %d, want %d: %s", rt.method, rt.path, c.name, res.StatusCode, want, data)
				continue
			}
			if res.StatusCode >= 400 {
				var eb struct {
					Error struct{ Code, Message string }
				}
				if json.Unmarshal(data, &eb) != nil || eb.Error.Message == "" ||
					(res.StatusCode == 401 && eb.Error.Code != presession.EUNAUTHORIZED) || (res.StatusCode == 403 && eb.Error.Code != presession.EFORBIDDEN) {
					t.Errorf("%s %s with %s: error body %s", rt.method, rt.path, c.name, data)
				}
				if res.StatusCode == 401 && res.Header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s with %s: 401 without WWW-Authenticate", rt.method, rt.path, c.name)
				}
			}
		}
	}
	if s := e.get(sharedReady); s.Status != presession.StatusReady || len(s.History) != 3 {
		t.Errorf("a denied request changed a statement: %s, %d events", s.Status, len(s.History))
	}
	if c, _ := e.get(sharedReady).Caption("en"); !c.Placeholder {
		t.Errorf("a denied request replaced captions")
	}
	// The CSO view admits the invitation token only.
	for _, c := range creds {
		want := http.StatusUnauthorized
		if strings.HasPrefix(c.name, "cso token") {
			want = http.StatusOK
		}
		res := e.do("GET", "/api/v1/me/statements", nil, c.apply)
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET /api/v1/me/statements with %s: %d, want %d", c.name, res.StatusCode, want)
		}
	}
	// The dashboard shows the sign-in form to everyone but staff.
	for _, c := range creds {
		res := e.do("GET", "/staff", nil, c.apply)
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		dash := strings.Contains(string(data), `id="statements-table"`)
		login := strings.Contains(string(data), `action="/staff/login"`)
		if res.StatusCode != 200 || dash != isStaff(c.name, false) || login == dash {
			t.Errorf("GET /staff with %s: %d dashboard=%v login=%v", c.name, res.StatusCode, dash, login)
		}
	}
}
