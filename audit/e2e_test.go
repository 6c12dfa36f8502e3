package audit_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
)

// TestPageInChromium drives the audit page in Chromium with
// e2e/audit-page.mjs (playwright-core, axe-core): filter by person and
// action and page with the keyboard, download the CSV of the filter, in
// en, fr and es at desktop and phone width, axe clean in every state.
func TestPageInChromium(t *testing.T) {
	t.Parallel()
	chromium := testenv.Chromium(t)
	modules := testenv.NodeModules(t)
	s := newServer(t)
	root := testenv.RepoRoot(t)
	// A stand-in for review's /staff/assets/ (the dashboard's stylesheet,
	// which the page shares) and the site's /static/.
	s.mux.Handle("GET /staff/assets/", http.StripPrefix("/staff/assets/", http.FileServer(http.Dir(filepath.Join(root, "review", "assets")))))
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.Dir(filepath.Join(root, "web", "static")))))

	ctx := context.Background()
	const ana = presession.Actor("staff:0a1b2c3d")
	at := time.Now().UTC().Add(-2 * time.Hour)
	total, anaStatements := 0, 0
	record := func(e presession.AuditEntry) {
		t.Helper()
		at = at.Add(time.Second)
		e.At = at
		if err := s.log.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
		total++
	}
	for i := range 70 {
		action, outcome := "statement.approve", "ok"
		switch i % 5 {
		case 1:
			action = "statement.reject"
		case 2:
			action = "statement.reopen"
		case 4:
			outcome = presession.EFORBIDDEN
		}
		record(presession.AuditEntry{Actor: ana, ActorName: "Ana López", Action: action, Target: "st" + strconv.Itoa(1000+i),
			Remote: "203.0.113.7", Outcome: outcome})
		anaStatements++
		if i%10 == 0 {
			record(presession.AuditEntry{Actor: ana, ActorName: "Ana López", Action: "signin", Remote: "203.0.113.7"})
			record(presession.AuditEntry{Actor: presession.ActorService, ActorName: "service", Action: "statement.approve", Target: "st" + strconv.Itoa(2000+i)})
			record(presession.AuditEntry{Actor: "token:ci", ActorName: "Nightly export, a token with a long name that wraps on a phone",
				Action: "invitation.import", Target: "upr36", Detail: "12 invitations from a file called invitations-for-the-forty-seventh-session.csv"})
		}
	}

	dir := t.TempDir()
	script := filepath.Join(root, "e2e", "audit-page.mjs")
	cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, "node", script)
	cmd.Dir = modules
	cmd.Env = append(os.Environ(),
		"BASE_URL="+s.srv.URL, "STAFF_TOKEN="+staffToken, "CHROMIUM="+chromium,
		"USER_DATA_DIR="+filepath.Join(dir, "profile"), "NODE_MODULES_DIR="+modules,
		"ANA="+string(ana), "ANA_STATEMENT_ENTRIES="+strconv.Itoa(anaStatements), "TOTAL="+strconv.Itoa(total),
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("audit-page.mjs (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("audit-page.mjs: %v", err)
	}
}
