package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
)

// TestUploadCaptionsInChromium runs e2e/upload-captions.mjs against the
// real binary on the embedded default: in French, by keyboard, an
// organisation sends its video with a captions file the server refuses
// (the reason shown next to the field, in French, the video sent all the
// same), then the corrected file; once the in-process worker has made the
// statement ready, the staff API shows the French track as the
// organisation's draft, and its file holds the organisation's cue text.
func TestUploadCaptionsInChromium(t *testing.T) {
	testenv.FFmpeg(t)
	chromium := testenv.Chromium(t)
	modules := testenv.NodeModules(t)

	dir := t.TempDir()
	addr := kbFreeAddr(t)
	staff := testenv.RandomHex(24)
	env := append(os.Environ(),
		"PRESESSION_DATA_DIR="+filepath.Join(dir, "data"), "PRESESSION_ADDR="+addr,
		"PRESESSION_PUBLIC_URL=http://"+addr, "PRESESSION_STAFF_TOKEN="+staff,
		"PRESESSION_SECRET="+testenv.RandomHex(32), "PRESESSION_LOG_LEVEL=info",
		"REDIS_URL=", "S3_ENDPOINT=")
	bin := testenv.Binary(t)
	kbStartServer(t, bin, env, addr)
	cmd := exec.Command(bin, "invite", "--session", "upr36", "--country", "BG", "--org", "Voix citoyennes", "--until", "2030-01-01")
	cmd.Env = env
	link, err := cmd.Output()
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	base := "http://" + addr

	clip := testenv.Clip(t, dir, "declaration.mp4", "320x240", 4, true)
	bad := filepath.Join(dir, "bad.srt")
	good := filepath.Join(dir, "good.srt")
	os.WriteFile(bad, []byte("1\n00:00:02,000 --> 00:00:03,000\nDeux\n\n2\n00:00:00,500 --> 00:00:01,500\nUn\n"), 0o644)
	os.WriteFile(good, []byte("1\n00:00:00,500 --> 00:00:02,000\nBonjour à toutes et à tous.\n\n2\n00:00:02,000 --> 00:00:03,800\nNous parlons pour quarante organisations.\n"), 0o644)

	spec, _ := json.Marshal(map[string]any{"url": strings.TrimSpace(string(link)) + "&lang=fr", "clip": clip, "bad": bad, "good": good,
		"langName": "Français", "chromium": chromium, "nodeModules": modules})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	node := exec.CommandContext(ctx, "node", filepath.Join(testenv.RepoRoot(t), "e2e", "upload-captions.mjs"), string(spec))
	var stderr strings.Builder
	node.Stderr = &stderr
	out, err := node.Output()
	var res struct {
		OK     bool             `json:"ok"`
		Error  string           `json:"error"`
		Events []map[string]any `json:"events"`
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("upload-captions.mjs: %v (%v)\n%s\n%s", err, jerr, out, stderr.String())
	}
	ev := map[string]map[string]any{}
	for _, e := range res.Events {
		t.Logf("page: %v", e)
		ev[e["event"].(string)] = e
		if e["event"] == "pageerror" {
			t.Errorf("script error: %v", e["message"])
		}
	}
	if !res.OK {
		t.Fatalf("page run failed: %s\n%s", res.Error, stderr.String())
	}
	r := ev["refused"]
	if msg, _ := r["message"].(string); r["lang"] != "fr" || r["invalid"] != "true" || r["progress"] != 100.0 || r["sendVisible"] != true ||
		!strings.Contains(msg, "Non accepté : le fichier de sous-titres ne peut pas être utilisé : ligne 6 : le sous-titre commence à 00:00:00.500, avant le précédent (00:00:02.000)") ||
		!strings.Contains(msg, "L'envoi de votre vidéo continue") {
		t.Errorf("refused: %v", r)
	}
	if s := ev["sent"]; s["lang"] != "fr" || s["cleared"] != nil || s["error"] != "" || !strings.Contains(s["status"].(string), "Vos sous-titres en Français ont été reçus") {
		t.Errorf("sent: %v", s)
	}

	// The staff API: the statement processed, its French track the
	// organisation's draft with its cue text.
	var list struct {
		Statements []struct {
			ID           string               `json:"id"`
			Status       string               `json:"status"`
			InvitationID string               `json:"invitation_id"`
			Captions     []presession.Caption `json:"captions"`
			WarningsText []string             `json:"warnings_text"`
		} `json:"statements"`
	}
	eventually(t, 90*time.Second, "the statement ready", func() bool {
		mustCall(t, http.StatusOK, "GET", base+"/api/v1/statements?session=upr36&country=BG", staff, nil, &list)
		return len(list.Statements) == 1 && (list.Statements[0].Status == "ready" || list.Statements[0].Status == "failed")
	})
	st := list.Statements[0]
	if st.Status != "ready" || len(st.Captions) != 3 || len(st.WarningsText) != 0 {
		t.Fatalf("statement: %+v", st)
	}
	for _, c := range st.Captions {
		if c.Language != "fr" {
			if !c.Placeholder || c.Draft {
				t.Errorf("%s track: %+v", c.Language, c)
			}
			continue
		}
		if c.Placeholder || !c.Draft || c.UpdatedBy != "cso:"+st.InvitationID || len(c.History) != 1 ||
			c.History[0].Source != presession.CaptionFromDraft || c.History[0].Cues != 2 {
			t.Errorf("French track: %+v", c)
		}
	}
	vtt := mustCall(t, http.StatusOK, "GET", base+"/media/"+st.ID+"/subs/fr.vtt", staff, nil, nil)
	for _, want := range []string{"WEBVTT", "00:00:00.500 --> 00:00:02.000\nBonjour à toutes et à tous.", "Nous parlons pour quarante organisations."} {
		if !strings.Contains(string(vtt), want) {
			t.Errorf("the French track's file lacks %q:\n%s", want, vtt)
		}
	}
}
