package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/testenv"
)

// TestStaffAccountsInChromium is issue 14's story of staff accounts, in
// Chromium (e2e/staff-accounts.mjs) on the built binary on the embedded
// default: an admin signed in with the staff token adds a reviewer on
// /staff/people; the reviewer opens the one-time link, sets a password,
// signs in with e-mail and password and approves a statement, whose
// history then names the reviewer; the admin disables the reviewer, and
// the reviewer's next request in the tab still open is refused. Every
// page on the way is scanned with axe at 1280 and 390 px.
func TestStaffAccountsInChromium(t *testing.T) {
	testenv.FFmpeg(t)
	chromium := testenv.Chromium(t)
	modules := testenv.NodeModules(t)
	script := testenv.NodeScript(t, "upload-tus.mjs")
	start := time.Now()

	dir := t.TempDir()
	addr := kbFreeAddr(t)
	staff := testenv.RandomHex(24)
	env := append(os.Environ(),
		"PRESESSION_DATA_DIR="+filepath.Join(dir, "data"), "PRESESSION_ADDR="+addr,
		"PRESESSION_PUBLIC_URL=http://"+addr, "PRESESSION_STAFF_TOKEN="+staff,
		"PRESESSION_SECRET="+testenv.RandomHex(32), "PRESESSION_LOG_LEVEL=info",
		"REDIS_URL=", "S3_ENDPOINT=")
	kbStartServer(t, testenv.Binary(t), env, addr)
	base := "http://" + addr

	// A statement ready for review, uploaded as an organisation would.
	tok := invite(t, base, staff, "upr36", "BG", "Rights Watch", time.Now().AddDate(0, 1, 0).UTC().Format(time.DateOnly))
	clip := testenv.Clip(t, dir, "statement.mp4", "320x240", 2, true)
	_, url := tusUpload(t, script, map[string]any{"endpoint": base + "/files/", "token": tok, "file": clip,
		"metadata": metadata("Freedom of assembly"), "urlStorage": filepath.Join(dir, "urls.json")})
	id := statementOf(url)
	waitMine(t, base, tok, id, []string{id}, 90*time.Second)

	reviewer := map[string]string{"name": "Rita Reviewer", "email": "rita@example.org", "password": "seven quiet harbours at dawn"}
	spec, _ := json.Marshal(map[string]any{"base": base, "staffToken": staff, "chromium": chromium, "nodeModules": modules,
		"statement": id, "reviewer": reviewer})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(testenv.RepoRoot(t), "e2e", "staff-accounts.mjs"), string(spec))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	storyStart := time.Now()
	out, err := cmd.Output()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res struct {
		OK         bool           `json:"ok"`
		Error      string         `json:"error"`
		PageErrors []string       `json:"pageErrors"`
		Member     string         `json:"member"`
		Refused    string         `json:"refused"`
		Scans      int            `json:"scans"`
		Timings    map[string]int `json:"timings"`
	}
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &res); jerr != nil {
		t.Fatalf("staff-accounts.mjs: %v (%v)\n%s\n%s", err, jerr, out, stderr.String())
	}
	for _, l := range lines[:len(lines)-1] {
		t.Log(l)
	}
	if !res.OK || err != nil {
		t.Fatalf("staff accounts story failed: %s\npage errors: %v\n%s", res.Error, res.PageErrors, stderr.String())
	}

	// What the story left, read back over the API with the staff token.
	var got struct {
		Status  string `json:"status"`
		History []struct {
			Actor     string `json:"actor"`
			ActorName string `json:"actor_name"`
			To        string `json:"to"`
		} `json:"history"`
	}
	mustCall(t, 200, "GET", base+"/api/v1/statements/"+id, staff, nil, &got)
	last := got.History[len(got.History)-1]
	if got.Status != "approved" || last.To != "approved" || last.Actor != "staff:"+res.Member || last.ActorName != reviewer["name"] {
		t.Errorf("statement %s, last event %+v", got.Status, last)
	}
	var members struct {
		Members []struct {
			ID, Email, State string
			HasPassword      bool `json:"has_password"`
		} `json:"members"`
	}
	mustCall(t, 200, "GET", base+"/api/v1/staff", staff, nil, &members)
	if len(members.Members) != 1 || members.Members[0].ID != res.Member || members.Members[0].State != "disabled" || !members.Members[0].HasPassword {
		t.Errorf("members after the story: %+v", members.Members)
	}
	t.Logf("story %v (add %d ms, set password %d ms, approve %d ms, disable to refusal %d ms); %d axe scans; the refusal said %q; test %v",
		time.Since(storyStart).Round(time.Millisecond), res.Timings["add"], res.Timings["setPassword"], res.Timings["approve"],
		res.Timings["disable"], res.Scans, res.Refused, time.Since(start).Round(time.Millisecond))
}
