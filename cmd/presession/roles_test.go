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
// needs only PermRead, and a reviewer cannot manage staff.
func TestRolesOnEveryStaffRoute(t *testing.T) {
	ctx := context.Background()
	staffToken := testenv.RandomHex(24)
	env := map[string]string{"REDIS_URL": testenv.RedisURL(t), "PRESESSION_DATA_DIR": t.TempDir(),
		"PRESESSION_SECRET": testenv.RandomHex(32), "PRESESSION_STAFF_TOKEN": staffToken, "PRESESSION_ADDR": "127.0.0.1:0"}
	cfg, err := config.Load(func(k string) string { return env[k] })
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
		if changes && rt.Action == "" {
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
