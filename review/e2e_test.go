package review_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/webhook"
)

// TestDashboardInChromium drives the dashboard in Chromium with
// e2e/staff-dashboard.mjs (playwright-core, axe-core): sign in, see a ready
// statement, watch a progress bar move, preview, approve, reject, reorder
// by keyboard, upload captions, create links, register and remove a
// webhook, search (and find nothing, and clear the search) by keyboard,
// at desktop and phone width in en, fr and es. The script checks the API
// after each step; this test checks the catalog at the end.
func TestDashboardInChromium(t *testing.T) {
	t.Parallel()
	chromium := testenv.Chromium(t)
	modules := testenv.NodeModules(t)
	e := newEnv(t)
	ctx := context.Background()

	a1 := e.statement("AD", "", "First approved", presession.StatusApproved)
	a2 := e.statement("AD", "", "Second approved", presession.StatusApproved)
	ready := e.statement("AD", "", "Ready for review", presession.StatusReady)
	ready2 := e.statement("AD", "", "Another one", presession.StatusReady)
	proc := e.statement("AD", "", "Being processed", presession.StatusProcessing)
	e.statement("BG", "", "Failed upload", presession.StatusFailed)
	wh := &presession.Webhook{ID: "wh_seeded", URL: "https://hooks.example.org/a-rather-long-path/that/wraps/on/a/phone?with=query&and=more",
		Events: presession.OccurrenceTypes, Secret: webhook.NewSecret(), CreatedAt: time.Now().UTC(), CreatedBy: presession.ActorStaff}
	if err := e.hooksR.Add(ctx, wh); err != nil {
		t.Fatal(err)
	}
	for i, d := range []presession.WebhookDelivery{
		{Occurrence: "stmt_" + ready.ID + "_3", Type: presession.StatementReady, Status: 500, Response: strings.Repeat("Internal error; ", 64), Outcome: presession.OutcomeRetrying},
		{Occurrence: "stmt_" + ready.ID + "_3", Type: presession.StatementReady, Error: "refused to connect to 10.0.0.1, a private address, which webhooks may not reach", Outcome: presession.OutcomeRetrying},
		{Occurrence: "stmt_" + ready.ID + "_3", Type: presession.StatementReady, Status: 200, Response: `{"ok":true}`, Outcome: presession.OutcomeDelivered},
	} {
		d.Attempt, d.At = i+1, time.Now().UTC()
		if err := e.hooksR.Record(ctx, wh.ID, d); err != nil {
			t.Fatal(err)
		}
	}

	// Test-only hook: the script moves the processing statement's progress.
	e.mux.HandleFunc("POST /test/progress", func(w http.ResponseWriter, r *http.Request) {
		pct, _ := strconv.ParseFloat(r.URL.Query().Get("pct"), 64)
		if err := e.cat.SetProgress(r.Context(), r.URL.Query().Get("id"), pct); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})

	dir := t.TempDir()
	captions := filepath.Join(dir, "captions-fr.srt")
	if err := os.WriteFile(captions, []byte(goodSRT), 0o644); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(testenv.RepoRoot(t), "e2e", "staff-dashboard.mjs")
	// A deadline for a stuck browser, not a speed target: the script takes
	// about a minute on a quiet machine, its axe scans most of it.
	cctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, "node", script)
	cmd.Dir = modules
	cmd.Env = append(os.Environ(),
		"BASE_URL="+e.srv.URL, "STAFF_TOKEN="+staffToken, "CHROMIUM="+chromium,
		"USER_DATA_DIR="+filepath.Join(dir, "profile"), "NODE_MODULES_DIR="+modules,
		"READY_ID="+ready.ID, "READY2_ID="+ready2.ID, "APPROVED1_ID="+a1.ID, "APPROVED2_ID="+a2.ID,
		"PROCESSING_ID="+proc.ID, "CAPTION_FILE="+captions,
		"PROGRESS_URL="+e.srv.URL+"/test/progress?id="+proc.ID, "WEBHOOK_ID="+wh.ID,
	)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("staff-dashboard.mjs (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("staff-dashboard.mjs: %v", err)
	}

	if s := e.get(ready.ID); s.Status != presession.StatusApproved {
		t.Errorf("ready statement is %s", s.Status)
	} else if c, _ := s.Caption("fr"); c.Placeholder {
		t.Errorf("French captions still a placeholder")
	}
	if s := e.get(ready2.ID); s.Status != presession.StatusRejected || s.Reason == "" {
		t.Errorf("second statement %s %q", s.Status, s.Reason)
	}
	o, err := e.cat.Order(ctx, "upr36", "AD")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{a2.ID, a1.ID, ready.ID}; !slices.Equal(o.Statements, want) {
		t.Errorf("order %v, want %v", o.Statements, want)
	}
}
