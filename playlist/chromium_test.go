package playlist

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/testenv"
)

// TestChromiumWatch plays the watch page in Chromium (native HLS): across
// a statement boundary, then a chapter jump from the keyboard, with the
// captions of the statement on screen.
func TestChromiumWatch(t *testing.T) {
	chromium := testenv.Chromium(t)
	modules := testenv.NodeModules(t)
	e := newEnv(t, nil)
	list := threeStatements(t, e)
	e.rebuild("upr36", "AD")
	url := e.srv.URL + "/watch/upr36/AD?key=" + e.viewer("upr36", "AD", time.Hour)
	script := filepath.Join(testenv.RepoRoot(t), "e2e", "playlist-watch.mjs")
	cmd := exec.Command("node", script, url, chromium, modules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res struct {
		OK    bool     `json:"ok"`
		Error string   `json:"error"`
		Log   []string `json:"log"`
		First struct {
			Cues []string `json:"cues"`
		} `json:"first"`
		Jump struct {
			Cues []string `json:"cues"`
		} `json:"jump"`
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("node: %v %v\n%s\n%s", err, jerr, out, stderr.String())
	}
	for _, l := range res.Log {
		t.Log(l)
	}
	if !res.OK || err != nil {
		t.Fatalf("watch page in Chromium: %s (%v)\n%s", res.Error, err, stderr.String())
	}
	// The whole-stream caption track shows each statement's own cue
	// inside that statement.
	if !slices.Contains(res.First.Cues, "CAP-"+list[1].ID) {
		t.Errorf("playing across the boundary showed cues %q, want CAP-%s", res.First.Cues, list[1].ID)
	}
	if !slices.Contains(res.Jump.Cues, "CAP-"+list[2].ID) || slices.Contains(res.Jump.Cues, "CAP-"+list[1].ID) {
		t.Errorf("after the jump: cues %q, want CAP-%s only", res.Jump.Cues, list[2].ID)
	}
}
