package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/internal/testenv"
)

// TestRolesOnEveryStaffRoute is the role × route table: the service is
// built as `serve` builds it, and every staff route any package registered
// (web.Site.StaffRoutes, so a route added later is in the table without
// being listed here) is asked by an API token of each role and by the
// staff token. A role without the route's permission is refused with 403
// before the handler runs; a role with it gets past the check (the
// handler may still refuse the made-up ids and bodies, but never with 401
// or 403). An observer can change nothing: no route that changes anything
// needs only PermRead, every one is audited unless it only touches state
// that lapses by itself (web.Route.Transient), and a reviewer cannot
// manage staff.
func TestRolesOnEveryStaffRoute(t *testing.T) {
	ctx := context.Background()
	staffToken := testenv.RandomHex(24)
	p, srv := inProcess(t, map[string]string{"PRESESSION_STAFF_TOKEN": staffToken})

	bearer := map[string]string{"service": staffToken}
	for _, role := range presession.Roles {
		_, secret, err := p.staff.CreateToken(ctx, "test "+string(role), role, presession.ActorService)
		if err != nil {
			t.Fatal(err)
		}
		bearer[string(role)] = secret
	}
	routes := p.site.StaffRoutes()
	if len(routes) < 28 {
		t.Fatalf("only %d staff routes registered; the table is incomplete", len(routes))
	}
	wildcard := regexp.MustCompile(`\{([a-z]+)(\.\.\.)?\}`)
	values := map[string]string{"s": "upr36", "cc": "AD", "id": "nonexistent0", "lang": "en", "name": "x"}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		changes := method != "GET" && method != "HEAD"
		if changes && rt.Perm == presession.PermRead {
			t.Errorf("%s changes something but an observer may call it (PermRead)", rt.Pattern)
		}
		if changes && rt.Action == "" && !rt.Transient {
			t.Errorf("%s changes something but is not audited", rt.Pattern)
		}
		url := srv.URL + wildcard.ReplaceAllStringFunc(path, func(w string) string {
			return values[wildcard.FindStringSubmatch(w)[1]]
		})
		for who, tok := range bearer {
			role := presession.RoleAdmin
			if who != "service" {
				role = presession.Role(who)
			}
			t.Run(rt.Pattern+"/"+who, func(t *testing.T) {
				req, err := http.NewRequest(method, url, strings.NewReader("{}"))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				allowed := role.Can(rt.Perm)
				switch {
				case !allowed && resp.StatusCode != http.StatusForbidden:
					t.Errorf("%s may not (%s needs %s), got %d %s", who, rt.Pattern, rt.Perm, resp.StatusCode, body)
				case allowed && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized):
					t.Errorf("%s may (%s needs %s), got %d %s", who, rt.Pattern, rt.Perm, resp.StatusCode, body)
				}
			})
		}
	}
	for _, rt := range routes {
		if rt.Perm == presession.PermManage && presession.RoleReviewer.Can(rt.Perm) {
			t.Errorf("a reviewer may %s", rt.Pattern)
		}
	}
}

// inProcess builds the service as serve does, on the test's Redis and a
// storage directory, with env over that, and serves its routes.
func inProcess(t *testing.T, env map[string]string) (*parts, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	base := map[string]string{"REDIS_URL": testenv.RedisURL(t), "PRESESSION_DATA_DIR": t.TempDir(),
		"PRESESSION_SECRET": testenv.RandomHex(32), "PRESESSION_STAFF_TOKEN": testenv.RandomHex(24), "PRESESSION_ADDR": "127.0.0.1:0"}
	for k, v := range env {
		base[k] = v
	}
	cfg, err := config.Load(func(k string) string { return base[k] })
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := build(ctx, cfg, log, io.Discard, roles{http: true})
	t.Cleanup(p.close)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	mux, _, err := p.routes(runCtx, make(chan error, 4))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return p, srv
}

// TestPeopleMailsLink: with SMTP_URL set, a member added on the people
// API gets their set-password link by mail, in the language asked for.
func TestPeopleMailsLink(t *testing.T) {
	mp := testenv.SharedMailpit(t)
	staffToken := testenv.RandomHex(24)
	_, srv := inProcess(t, map[string]string{"PRESESSION_STAFF_TOKEN": staffToken, "SMTP_URL": "smtp://" + mp.SMTPAddr,
		"MAIL_FROM": "Pre-session <presession@example.org>", "PRESESSION_PUBLIC_URL": "https://presession.example.org"})
	to := "ana-" + testenv.RandomHex(4) + "@example.org"
	var added struct {
		SetPasswordURL string `json:"set_password_url"`
		Mailed         bool   `json:"mailed"`
	}
	mustCall(t, 201, "POST", srv.URL+"/api/v1/staff", staffToken, map[string]string{"email": to, "name": "Ana López", "role": "reviewer", "language": "es"}, &added)
	if !added.Mailed || !strings.HasPrefix(added.SetPasswordURL, "https://presession.example.org/staff/password?t=") {
		t.Fatalf("added: %+v", added)
	}
	var got []testenv.MailSummary
	eventually(t, 10*time.Second, "the link's mail", func() bool { got = mp.Messages(t, to); return len(got) == 1 })
	msg := mp.Message(t, got[0].ID)
	if !strings.Contains(msg.Text, added.SetPasswordURL) || !strings.Contains(msg.Text, "Ana López") {
		t.Fatalf("mail %q:\n%s", msg.Subject, msg.Text)
	}
}
