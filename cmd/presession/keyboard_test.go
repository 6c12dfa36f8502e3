package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/testenv"
)

// TestKeyboardWalk runs e2e/keyboard-walk.mjs in Chromium against the real
// binary on the embedded default: in English, French and Spanish, an
// organisation uploads a statement with the keyboard alone, staff approve
// it with the keyboard once the in-process worker has made it ready, and a
// delegation plays the country's stream and jumps with its chapter list,
// the focus visible at every stop and the page in the walk's language.
func TestKeyboardWalk(t *testing.T) {
	testenv.FFmpeg(t)
	chromium := testenv.Chromium(t)
	modules := testenv.NodeModules(t)
	start := time.Now()

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

	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("presession %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return strings.TrimSpace(string(out))
	}
	// One invitation per language: each may send up to 3 statements.
	type walk struct {
		Lang       string `json:"lang"`
		Upload     string `json:"upload"`
		Clip       string `json:"clip"`
		Spoken     string `json:"spoken"`
		SpokenName string `json:"spokenName"`
		Title      string `json:"title"`
		Speaker    string `json:"speaker"`
	}
	walks := []walk{
		{Lang: "en", Spoken: "fr", SpokenName: "Français", Title: "Access to education in rural areas", Speaker: "Ana Petrova, director"},
		{Lang: "fr", Spoken: "es", SpokenName: "Español", Title: "Liberté de la presse et des médias", Speaker: "Élise Martin"},
		{Lang: "es", Spoken: "en", SpokenName: "English", Title: "Derechos de las personas con discapacidad", Speaker: "José Núñez"},
	}
	for i := range walks {
		w := &walks[i]
		w.Upload = cli("invite", "--session", "upr36", "--country", "BG", "--org", "Organisation "+w.Lang, "--until", "2030-01-01")
		w.Clip = testenv.Clip(t, dir, "statement-"+w.Lang+".mp4", "320x240", 3+0.5*float64(i), true)
	}
	viewer := cli("viewer-link", "--session", "upr36", "--country", "BG")

	spec, _ := json.Marshal(map[string]any{
		"base": "http://" + addr, "staffToken": staff, "chromium": chromium,
		"nodeModules": modules, "profile": filepath.Join(dir, "profile"), "repo": testenv.RepoRoot(t),
		"viewer": viewer, "walks": walks,
		// What each language must say, written out here rather than
		// computed with the code under test.
		"country":  map[string]string{"en": "Bulgaria", "fr": "Bulgarie", "es": "Bulgaria"},
		"deadline": map[string]string{"en": "1 January 2030, 23:59 UTC", "fr": "1er janvier 2030, 23:59 UTC", "es": "1 de enero de 2030, 23:59 UTC"},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(testenv.RepoRoot(t), "e2e", "keyboard-walk.mjs"), string(spec))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	walkStart := time.Now()
	out, err := cmd.Output()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var res struct {
		OK         bool              `json:"ok"`
		Error      string            `json:"error"`
		PageErrors []string          `json:"pageErrors"`
		Statements map[string]string `json:"statements"`
		Stops      struct {
			Checked    int `json:"checked"`
			UAControls int `json:"uaControls"`
		} `json:"stops"`
		Timings map[string]int `json:"timings"`
	}
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &res); jerr != nil {
		t.Fatalf("keyboard-walk.mjs: %v (%v)\n%s\n%s", err, jerr, out, stderr.String())
	}
	for _, l := range lines[:len(lines)-1] {
		t.Log(l)
	}
	if !res.OK || err != nil {
		t.Fatalf("keyboard walk failed: %s\npage errors: %v\n%s", res.Error, res.PageErrors, stderr.String())
	}
	if len(res.Statements) != 3 || res.Stops.Checked < 100 {
		t.Fatalf("walk result: %d statements, %d focus stops checked", len(res.Statements), res.Stops.Checked)
	}
	t.Logf("walk %v (upload %d ms, approve %d ms, watch %d ms); %d focus stops checked, %d inside the player's own controls; test %v",
		time.Since(walkStart).Round(time.Millisecond), res.Timings["upload"], res.Timings["approve"], res.Timings["watch"],
		res.Stops.Checked, res.Stops.UAControls, time.Since(start).Round(time.Millisecond))
}

// kbFreeAddr returns a loopback address with a port free a moment ago.
func kbFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// kbStartServer runs `presession` (all roles) with env until the test ends
// and waits for /healthz on addr. Its log is shown if the test fails.
func kbStartServer(t *testing.T, bin string, env []string, addr string) {
	t.Helper()
	log := &kbLog{}
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() || os.Getenv("PRESESSION_TEST_LOGS") != "" {
			t.Logf("log of presession:\n%s", log)
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("presession exited at start (%v):\n%s", err, log)
		default:
		}
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("presession did not answer /healthz within 20 s:\n%s", log)
		}
	}
}

// kbLog is a process log written by its pipes and read by the test.
type kbLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *kbLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *kbLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
