package main

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/audit"
	"github.com/uprinfo/presession/internal/testenv"
)

// TestAuditSurvivesReindex: on the built binary with real Redis and S3,
// approving a statement with the staff token is in GET /api/v1/audit as
// "statement.approve" by "service" on the statement, as JSON and as CSV;
// after a FLUSHDB of Redis and `presession reindex` the entry is still
// there, read from storage.
func TestAuditSurvivesReindex(t *testing.T) {
	c := newCluster(t)
	ctx := context.Background()
	id := "st" + testenv.RandomHex(6)
	st := &presession.Statement{ID: id, Session: "upr36", Country: "BG", Organisation: "Example NGO", InvitationID: "inv-" + id,
		Title: "Statement", Speaker: "A. Speaker", Language: "en", Filename: "clip.mp4", Size: 1234,
		SourceKey: "uploads/" + id, Status: presession.StatusUploaded}
	if err := c.cat.Create(ctx, st); err != nil {
		t.Fatal(err)
	}
	for _, to := range []presession.Status{presession.StatusProcessing, presession.StatusReady} {
		if _, err := c.cat.Transition(ctx, id, to, "worker", ""); err != nil {
			t.Fatal(err)
		}
	}
	p := c.start(t, "serve", "serve")
	base, staff := "http://"+p.addr, envValue(c.env, "PRESESSION_STAFF_TOKEN")
	mustCall(t, 200, "POST", base+"/api/v1/statements/"+id+"/approve", staff, nil, nil)

	check := func(when string) {
		t.Helper()
		var got audit.ListResponse
		mustCall(t, 200, "GET", base+"/api/v1/audit?"+url.Values{"action": {"statement.approve"}, "actor": {"service"}}.Encode(), staff, nil, &got)
		if len(got.Entries) != 1 {
			t.Fatalf("%s: %d entries: %+v", when, len(got.Entries), got.Entries)
		}
		if e := got.Entries[0]; e.Actor != presession.ActorService || e.ActorName != "service" || e.Target != id || e.Outcome != "ok" {
			t.Errorf("%s: entry %+v", when, e)
		}
		csv := string(mustCall(t, 200, "GET", base+"/api/v1/audit?format=csv&since=2000-01-01", staff, nil, nil))
		if !strings.Contains(csv, ",service,service,statement.approve,"+id+",") {
			t.Errorf("%s: the CSV lacks the approval:\n%s", when, csv)
		}
	}
	check("before")

	if err := c.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	var got audit.ListResponse
	mustCall(t, 200, "GET", base+"/api/v1/audit", staff, nil, &got)
	if len(got.Entries) != 0 {
		t.Fatalf("after FLUSHDB the audit still lists %d entries", len(got.Entries))
	}
	env := map[string]string{}
	for _, kv := range c.env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	env["PRESESSION_DATA_DIR"] = t.TempDir()
	code, stdout, stderr := runCLI(t, env, "reindex")
	if code != 0 || !strings.Contains(stdout, "1 audit entries") {
		t.Fatalf("reindex: exit %d\n%s%s", code, stdout, stderr)
	}
	check("after FLUSHDB and reindex")
}
