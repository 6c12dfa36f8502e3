package upload

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/testenv"
)

// poorLine is a TCP proxy that behaves like a poor line towards the
// server: it carries the client's bytes at rate bytes/s; once stallAt
// bytes have gone through (all connections together) the connection
// carrying them stalls for good — the proxy neither reads nor writes it
// again and holds what it has, as a dead route does, never dropping bytes
// mid-stream; and each time resets[i] bytes have gone through, that
// connection is reset.
type poorLine struct {
	ln      net.Listener
	target  string
	rate    int64
	stallAt int64
	resets  []int64

	mu      sync.Mutex
	total   int64
	stalled bool
	reset   int // connections reset so far
	done    chan struct{}
}

func newPoorLine(t *testing.T, target string, rate, stallAt int64, resets ...int64) *poorLine {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &poorLine{ln: ln, target: target, rate: rate, stallAt: stallAt, resets: resets, done: make(chan struct{})}
	t.Cleanup(func() { close(p.done); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.carry(c.(*net.TCPConn))
		}
	}()
	return p
}

func (p *poorLine) addr() string { return p.ln.Addr().String() }

func (p *poorLine) carry(client *net.TCPConn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	client.SetReadBuffer(32 << 10) // the line, not the proxy's buffers, sets the pace
	go func() {
		io.Copy(client, server)
		client.CloseWrite()
	}()
	buf := make([]byte, 16<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			stall, reset := p.account(int64(n))
			if reset {
				client.SetLinger(0)
				client.Close()
				server.(*net.TCPConn).SetLinger(0)
				server.Close()
				return
			}
			if _, werr := server.Write(buf[:n]); werr != nil {
				break
			}
			if stall {
				<-p.done // a dead route: this connection never moves again
				break
			}
			time.Sleep(time.Duration(int64(n) * int64(time.Second) / p.rate))
		}
		if err != nil {
			break
		}
	}
	client.Close()
	server.Close()
}

// account counts n more bytes and says whether this connection now
// stalls or is reset.
func (p *poorLine) account(n int64) (stall, reset bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total += n
	if !p.stalled && p.total >= p.stallAt {
		p.stalled = true
		return true, false
	}
	if len(p.resets) > 0 && p.total >= p.resets[0] {
		p.resets = p.resets[1:]
		p.reset++
		return false, true
	}
	return false, false
}

// TestPageOnPoorLine: the upload page (tus-js-client) finishes on its own
// through a slow line with a connection that stalls for good and two that
// are reset: the stalled request is dropped after the page's stall
// timeout (3 s here) and resumed from the server's offset, each reset is
// retried, nobody clicks or reloads, the file arrives whole and is not
// sent again from the start. The time it took against the line's ideal
// time is logged, not asserted.
func TestPageOnPoorLine(t *testing.T) {
	chromium := testenv.Chromium(t)
	script := testenv.NodeScript(t, "upload-poorline.mjs")
	e := newEnv(t, "s3", func(c *Config) { c.StallTimeout = 3 * time.Second })
	srv, patched := e.pageServer(0)
	tok, inv := e.invite("AD", "Civil Voice", time.Time{})
	const size, rate = 16 << 20, 2 << 20
	file, data := writeSource(t, size, 33)
	line := newPoorLine(t, strings.TrimPrefix(srv.URL, "http://"), rate, 5<<20, 9<<20, 12<<20)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	spec, _ := json.Marshal(map[string]any{"url": "http://" + line.addr() + "/upload?token=" + tok, "file": file, "chromium": chromium, "timeout": 180})
	out, err := exec.CommandContext(ctx, "node", script, string(spec)).Output()
	if err != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var res struct {
		OK       bool
		Error    string
		Events   []map[string]any
		Requests map[string]int
		Said     []string
		MS       float64
		Percent  float64
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, ev := range res.Events {
		t.Logf("page: %v", ev)
		if ev["event"] == "pageerror" {
			t.Errorf("script error: %v", ev["message"])
		}
	}
	if !res.OK {
		t.Fatalf("the page did not finish on its own: %s", res.Error)
	}
	line.mu.Lock()
	stalled, reset := line.stalled, line.reset
	line.mu.Unlock()
	if !stalled || reset != 2 {
		t.Fatalf("the line stalled %v and reset %d connections; want a stall and 2 resets", stalled, reset)
	}
	ideal := float64(size) / rate
	t.Logf("done in %.1f s, %.2f × the line's ideal %.0f s; requests %v; the page said %q", res.MS/1000, res.MS/1000/ideal, ideal, res.Requests, res.Said)
	// One HEAD to resume after the stall and after each reset.
	if res.Requests["HEAD"] < 3 || res.Percent != 100 {
		t.Errorf("requests %v, progress %.0f %%: want a resume after the stall and after each reset", res.Requests, res.Percent)
	}
	if n := patched.Load(); n > int64(len(data))*3/2 {
		t.Errorf("the server received %d bytes for a %d-byte file: the upload started over", n, len(data))
	}
	l, _ := e.st.ByInvitation(context.Background(), inv.ID)
	if len(l) != 1 || sum(e.stored(l[0].ID)) != sum(data) {
		t.Fatalf("%d statements; stored bytes differ from the file", len(l))
	}
}

// TestPageShowsRefusalMidUpload: when the server refuses an upload on a
// PATCH mid-way (a 4xx with a JSON error body in the request's language,
// as for a file found not to be a video once its first bytes arrive),
// the page shows that message at once, with the focus on it, and stops:
// no retry, the form usable again.
func TestPageShowsRefusalMidUpload(t *testing.T) {
	chromium := testenv.Chromium(t)
	script := testenv.NodeScript(t, "upload-poorline.mjs")
	e := newEnv(t, "file")
	srv, _ := e.pageServer(8 << 20) // several PATCHes of a 24 MiB file
	tok, _ := e.invite("AD", "Civil Voice", time.Time{})
	file, _ := writeSource(t, 24<<20, 34)
	const msg = "Ce fichier n’est pas une vidéo : c’est une archive ZIP. Choisissez le fichier vidéo de votre déclaration."
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var patches atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch && patches.Add(1) == 2 {
			io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
			w.Header().Set("Tus-Resumable", "1.0.0")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "ERR_NOT_VIDEO", "message": msg}})
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	spec, _ := json.Marshal(map[string]any{"url": front.URL + "/upload?lang=fr&token=" + tok, "file": file, "chromium": chromium, "expectError": true, "timeout": 60})
	out, err := exec.CommandContext(ctx, "node", script, string(spec)).Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var res struct {
		OK                         bool
		Error, Focused             string
		SubmitEnabled, PauseHidden bool
		Requests                   map[string]int
		Events                     []map[string]any
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, ev := range res.Events {
		t.Logf("page: %v", ev)
	}
	if !res.OK || !strings.Contains(res.Error, msg) || res.Focused != "error" || !res.SubmitEnabled || !res.PauseHidden {
		t.Fatalf("refusal mid-upload: %+v", res)
	}
	if n := patches.Load(); n != 2 {
		t.Errorf("%d PATCHes: the page retried a refusal (requests %v)", n, res.Requests)
	}
}
