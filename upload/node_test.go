package upload

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// nodeEvent is one line of e2e/upload-tus.mjs's output.
type nodeEvent struct {
	Event   string `json:"event"`
	At      int64  `json:"at"`
	From    int64  `json:"from"`
	URL     string `json:"url"`
	Message string `json:"message"`
}

// runNode runs upload-tus.mjs with opts; onEvent sees each event as it
// comes. It returns every event.
func runNode(t *testing.T, script string, opts map[string]any, onEvent func(nodeEvent)) []nodeEvent {
	t.Helper()
	js, _ := json.Marshal(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, string(js))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var events []nodeEvent
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var ev nodeEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Logf("node: %s", sc.Text())
			continue
		}
		events = append(events, ev)
		if onEvent != nil {
			onEvent(ev)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node: %v; events %+v", err, events)
	}
	return events
}

func writeSource(t *testing.T, size int, seed uint64) (string, []byte) {
	t.Helper()
	data := randomBytes(size, seed)
	p := filepath.Join(t.TempDir(), "statement.mp4")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, data
}

// checkOneUpload checks the node run succeeded on one upload URL and that
// the stored bytes are the source's.
func checkOneUpload(t *testing.T, e *env, events []nodeEvent, data []byte, wantAborts int) string {
	t.Helper()
	var url string
	aborts := 0
	for _, ev := range events {
		switch ev.Event {
		case "aborted":
			aborts++
		case "error":
			t.Fatalf("tus-js-client: %s", ev.Message)
		}
		if ev.URL != "" {
			if url != "" && ev.URL != url {
				t.Fatalf("upload URL changed from %s to %s: resumption started over", url, ev.URL)
			}
			url = ev.URL
		}
	}
	if last := events[len(events)-1]; last.Event != "success" || aborts != wantAborts {
		t.Fatalf("events %+v; want %d aborts then success", events, wantAborts)
	}
	id := idOf(url)
	st := e.statement(id)
	if st.Status != presession.StatusUploaded || !e.proc.queued(context.Background(), id) {
		t.Fatalf("statement %s: %s", id, st.Status)
	}
	if l, _ := e.st.ByInvitation(context.Background(), st.InvitationID); len(l) != 1 {
		t.Fatalf("%d statements for the invitation; resumption created new uploads", len(l))
	}
	if got := e.stored(id); sum(got) != sum(data) {
		t.Fatalf("stored bytes differ from the source: %s", describeDiff(got, data))
	}
	return id
}

// TestTusJSClientResumes: tus-js-client uploads a 40 MiB file, aborted at
// three offsets and resumed each time with findPreviousUploads and
// resumeFromPreviousUpload.
func TestTusJSClientResumes(t *testing.T) {
	script := testenv.NodeScript(t, "upload-tus.mjs")
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			// A 64 MiB/s line, so that the client's progress events come
			// often enough to stop at the chosen offsets.
			_, srv := e.node(func(h http.Handler) http.Handler { return throttle(h, 64<<20) })
			tok, _ := e.invite("AD", "Civil Voice", time.Time{})
			file, data := writeSource(t, 40<<20+4321, 11)
			events := runNode(t, script, map[string]any{
				"endpoint": srv.URL + "/files/", "token": tok, "file": file,
				"metadata":   map[string]string{"filename": "statement.mp4", "filetype": "video/mp4", "title": "Resumed", "language": "fr"},
				"urlStorage": filepath.Join(t.TempDir(), "urls.json"),
				// The client's progress runs some MiB ahead of the server (socket
				// buffers), so the stops are far apart.
				"stops": []int64{3<<20 + 17, 15 << 20, 28 << 20},
			}, nil)
			checkOneUpload(t, e, events, data, 3)
			for _, ev := range events {
				if ev.Event == "resumed" && ev.From == 0 {
					t.Errorf("a resumption started from 0: %+v", events)
				}
			}
		})
	}
}

// TestTusJSClientServerRestart: the server process is killed (SIGKILL)
// in the middle of an upload and started again on the same address;
// tus-js-client's retries resume the upload on the new process.
func TestTusJSClientServerRestart(t *testing.T) {
	script := testenv.NodeScript(t, "upload-tus.mjs")
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			cfg := e.cfg
			cfg.LockTTL = 2 * time.Second // the killed node's lock frees quickly
			cc := childConfig{Addr: "127.0.0.1:0", RedisAddr: e.ropts.Addr, RedisDB: e.ropts.DB, Config: cfg, Throttle: 16 << 20}
			srv := startChild(t, cc)
			cc.Addr = srv.addr
			tok, _ := e.invite("AD", "Civil Voice", time.Time{})
			file, data := writeSource(t, 32<<20+99, 12)
			restarted := false
			events := runNode(t, script, map[string]any{
				"endpoint": "http://" + srv.addr + "/files/", "token": tok, "file": file,
				"metadata":    map[string]string{"filename": "statement.mov", "title": "Across a restart", "language": "es"},
				"urlStorage":  filepath.Join(t.TempDir(), "urls.json"),
				"signalAt":    12 << 20,
				"retryDelays": []int{200, 500, 1000, 1000, 2000, 2000, 3000, 3000},
			}, func(ev nodeEvent) {
				if ev.Event == "signal" {
					srv.kill()
					srv = startChild(t, cc)
					restarted = true
				}
			})
			if !restarted {
				t.Fatal("the upload finished before the server was killed")
			}
			id := checkOneUpload(t, e, events, data, 0)
			if st := e.statement(id); !strings.HasSuffix(st.Filename, ".mov") {
				t.Errorf("filename %q", st.Filename)
			}
		})
	}
}

// describeDiff says where got first differs from want, where that
// differing run ends, and what the bytes there are.
func describeDiff(got, want []byte) string {
	n := min(len(got), len(want))
	off := 0
	for off < n && got[off] == want[off] {
		off++
	}
	if off == n {
		return fmt.Sprintf("%d bytes stored, %d sent; equal up to %d", len(got), len(want), n)
	}
	// The run ends where 32 bytes agree again (random bytes agree by chance
	// one in 256).
	end := off
	for end < n && !bytes.Equal(got[end:min(end+32, n)], want[end:min(end+32, n)]) {
		end++
	}
	var what string
	switch i := bytes.Index(want, got[off:min(off+64, n)]); {
	case bytes.Count(got[off:end], []byte{0}) == end-off:
		what = "all zero"
	case i >= 0:
		what = fmt.Sprintf("the source's from offset %d", i)
	default:
		what = "found nowhere in the source"
	}
	return fmt.Sprintf("%d bytes stored, %d sent; they differ from offset %d (%.3f MiB) to %d (%d bytes); the stored bytes there are %s",
		len(got), len(want), off, float64(off)/(1<<20), end, end-off, what)
}
