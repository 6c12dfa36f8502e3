package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/testenv"
)

// The end-to-end tests drive the built binary over HTTP with the clients
// people use: tus-js-client for uploads, ffmpeg/ffprobe and Chromium for
// playback, plain HTTP for the staff and CSO APIs.

// e2eScript copies e2e/name next to a link to the run's node_modules: an ES
// module resolves its imports from its own directory.
func e2eScript(t *testing.T, name string) string {
	t.Helper()
	modules := testenv.NodeModules(t)
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(modules, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "e2e", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// tusEvent is one line of e2e/upload-tus.mjs's output.
type tusEvent struct {
	Event   string `json:"event"`
	At      int64  `json:"at"`
	From    int64  `json:"from"`
	URL     string `json:"url"`
	Message string `json:"message"`
}

// tusUpload uploads with tus-js-client (e2e/upload-tus.mjs, its options
// documented there) and returns the events. A client error, or a run that
// neither succeeds nor quits as asked, fails the test; so does an upload
// URL that changes between attempts (a resumption that started over).
func tusUpload(t *testing.T, script string, opts map[string]any) (events []tusEvent, url string) {
	t.Helper()
	js, _ := json.Marshal(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, string(js))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var ev tusEvent
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			t.Logf("tus-js-client: %s", sc.Text())
			continue
		}
		events = append(events, ev)
		if ev.Event == "error" {
			t.Fatalf("tus-js-client: %s", ev.Message)
		}
		if ev.URL != "" {
			if url != "" && ev.URL != url {
				t.Fatalf("upload URL changed from %s to %s: the resumption started over", url, ev.URL)
			}
			url = ev.URL
		}
	}
	if err != nil {
		t.Fatalf("tus-js-client: %v; events %+v\n%s", err, events, stderr.String())
	}
	want := "success"
	if _, ok := opts["quitAt"]; ok {
		want = "quit"
	}
	if len(events) == 0 || events[len(events)-1].Event != want {
		t.Fatalf("tus-js-client events %+v, want the last to be %s", events, want)
	}
	return events, url
}

// statementOf is the statement id of a tus upload URL (s3store appends
// "+<multipart id>" to it).
func statementOf(uploadURL string) string {
	id, _, _ := strings.Cut(path.Base(uploadURL), "+")
	return id
}

// noRedirects reports redirects (S3 presigned media) instead of following them.
var noRedirects = &http.Client{Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// call sends a request with a bearer token ("" for none) and body (nil for
// none, []byte as is, anything else as JSON), decodes a JSON answer into
// out when it is not nil and the status is 2xx, and returns the status
// and the body.
func call(t *testing.T, method, url, bearer string, body, out any) (int, []byte) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, redact(url), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, redact(url), err)
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, redact(url), err, data)
		}
	}
	return resp.StatusCode, data
}

// mustCall is call failing the test unless the status is want.
func mustCall(t *testing.T, want int, method, url, bearer string, body, out any) []byte {
	t.Helper()
	code, data := call(t, method, url, bearer, body, out)
	if code != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, redact(url), code, want, data)
	}
	return data
}

// redact hides the key of a URL in failure messages.
func redact(u string) string {
	if i := strings.Index(u, "key="); i >= 0 {
		return u[:i] + "key=…"
	}
	return u
}

// eventually calls f every 100 ms until it reports true, failing the test
// after within.
func eventually(t *testing.T, within time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// myStatement is a statement as GET /api/v1/me/statements shows it.
type myStatement struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// mine returns the statements the invitation token sees.
func mine(t *testing.T, base, tok string) []myStatement {
	t.Helper()
	var me struct {
		Statements []myStatement `json:"statements"`
	}
	mustCall(t, 200, "GET", base+"/api/v1/me/statements", tok, nil, &me)
	return me.Statements
}

// waitMine waits until the invitation's statement id is ready, through
// the CSO's own view, and checks that view holds exactly the statements
// in ids (no one else's).
func waitMine(t *testing.T, base, tok, id string, ids []string, within time.Duration) {
	t.Helper()
	eventually(t, within, "statement "+id+" ready for its CSO", func() bool {
		list := mine(t, base, tok)
		var got []string
		status := ""
		for _, s := range list {
			got = append(got, s.ID)
			if s.ID == id {
				status = s.Status
				if s.Status == "failed" {
					t.Fatalf("statement %s failed: %s", id, s.Reason)
				}
			}
		}
		slices.Sort(got)
		if want := slices.Sorted(slices.Values(ids)); !slices.Equal(got, want) {
			t.Fatalf("the CSO sees statements %v, want %v", got, want)
		}
		return status == "ready"
	})
}

// playlistJSON is the part of GET /playlists/{s}/{cc}.json the tests read.
type playlistJSON struct {
	Duration   float64 `json:"duration"`
	HLS        string  `json:"hls"`
	Statements []struct {
		ID           string  `json:"id"`
		Organisation string  `json:"organisation"`
		Start        float64 `json:"start"`
		Duration     float64 `json:"duration"`
		MP4          string  `json:"mp4"`
		HLS          string  `json:"hls"`
	} `json:"statements"`
}

func (p playlistJSON) ids() []string {
	var ids []string
	for _, s := range p.Statements {
		ids = append(ids, s.ID)
	}
	return ids
}

// waitPlaylist polls a country's JSON playlist until it lists ids, in that
// order, and returns it.
func waitPlaylist(t *testing.T, base, session, cc, key string, ids []string, within time.Duration) playlistJSON {
	t.Helper()
	var pl playlistJSON
	eventually(t, within, fmt.Sprintf("playlist %s/%s listing %v", session, cc, ids), func() bool {
		pl = playlistJSON{}
		mustCall(t, 200, "GET", base+"/playlists/"+session+"/"+cc+".json?key="+key, "", nil, &pl)
		return slices.Equal(pl.ids(), ids)
	})
	return pl
}

// checkChapters checks that the chapters follow each other from 0 and that
// each lasts its source's seconds (within a frame or two of encoder
// padding), and the whole the sum.
func checkChapters(t *testing.T, pl playlistJSON, seconds []float64) {
	t.Helper()
	at, sum := 0.0, 0.0
	for i, s := range pl.Statements {
		if math.Abs(s.Start-at) > 0.01 {
			t.Errorf("chapter %d (%s) starts at %.3f, want %.3f", i, s.ID, s.Start, at)
		}
		if math.Abs(s.Duration-seconds[i]) > 0.25 {
			t.Errorf("chapter %d (%s) lasts %.3f s, its source %.3f s", i, s.ID, s.Duration, seconds[i])
		}
		at += s.Duration
		sum += seconds[i]
	}
	if math.Abs(pl.Duration-sum) > 0.5 {
		t.Errorf("the playlist lasts %.3f s, its statements %.3f s", pl.Duration, sum)
	}
}

// playHLS reads the stream at url as a player with only that URL would:
// ffprobe reads its duration, which it returns, and ffmpeg decodes its
// audio and its video, each of which must end well with no error-level
// message. How much ffmpeg decodes is logged, not asserted: ffmpeg 5.1
// keeps the first EXT-X-MAP's moov for the whole stream ("Found duplicated
// MOOV Atom. Skipped it") and, depending on the statements' order, stops
// decoding at a statement boundary, quietly and with exit code 0 (see the
// e2e report). Chromium, the player delegations use, plays through.
func playHLS(t *testing.T, url string, fps float64) float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", url).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", redact(url), err, out)
	}
	d, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		t.Fatalf("ffprobe %s: duration %q", redact(url), out)
	}
	decode := func(stream string) (seconds float64, frames int) {
		t.Helper()
		cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", url, "-map", stream, "-progress", "pipe:1", "-f", "null", "-")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		progress, err := cmd.Output()
		var errs []string
		for _, l := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
			// Media answers with a redirect to storage: ffmpeg's HTTP client
			// says it opens a new connection for it, at error level.
			if l != "" && !strings.Contains(l, "Cannot reuse HTTP connection for different host") {
				errs = append(errs, l)
			}
		}
		if err != nil || len(errs) > 0 {
			t.Fatalf("ffmpeg decoding %s of %s: %v\n%s", stream, redact(url), err, strings.Join(errs, "\n"))
		}
		for _, l := range strings.Split(string(progress), "\n") {
			k, v, _ := strings.Cut(l, "=")
			switch k {
			case "out_time_us":
				if us, err := strconv.ParseInt(v, 10, 64); err == nil {
					seconds = float64(us) / 1e6
				}
			case "frame":
				frames, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		return seconds, frames
	}
	audio, _ := decode("0:a")
	_, frames := decode("0:v")
	t.Logf("ffprobe: %.3f s; ffmpeg decoded %.3f s of audio and %d of %.0f video frames (%.1f s)",
		d, audio, frames, d*fps, float64(frames)/fps)
	return d
}

// watchInChromium plays the watch page at url in Chromium with
// e2e/playlist-watch.mjs: across the first statement boundary, then a
// chapter jump to the third statement.
func watchInChromium(t *testing.T, url string) {
	t.Helper()
	chromium := testenv.Chromium(t)
	modules := testenv.NodeModules(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(testenv.RepoRoot(t), "e2e", "playlist-watch.mjs"), url, chromium, modules)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res struct {
		OK    bool     `json:"ok"`
		Error string   `json:"error"`
		Log   []string `json:"log"`
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("playlist-watch.mjs: %v %v\n%s\n%s", err, jerr, out, stderr.String())
	}
	for _, l := range res.Log {
		t.Logf("chromium: %s", l)
	}
	if !res.OK || err != nil {
		t.Fatalf("the watch page in Chromium: %s (%v)\n%s", res.Error, err, stderr.String())
	}
}

// cso is one organisation uploading one statement.
type cso struct {
	org     string
	file    string
	seconds float64
	token   string
	id      string
}

// invite asks the staff API for an upload link.
func invite(t *testing.T, base, staff, session, cc, org, until string) string {
	t.Helper()
	var inv struct {
		UploadURL string `json:"upload_url"`
		Token     string `json:"token"`
	}
	mustCall(t, 201, "POST", base+"/api/v1/invitations", staff,
		map[string]string{"session": session, "country": cc, "organisation": org, "until": until}, &inv)
	if inv.Token == "" || !strings.Contains(inv.UploadURL, inv.Token) {
		t.Fatalf("invitation %+v", inv)
	}
	return inv.Token
}

// viewerKey asks the staff API for a delegation's viewing link.
func viewerKey(t *testing.T, base, staff, session, cc string) string {
	t.Helper()
	var v struct {
		URL   string `json:"url"`
		Token string `json:"token"`
	}
	mustCall(t, 201, "POST", base+"/api/v1/viewer-links", staff, map[string]string{"session": session, "country": cc}, &v)
	if v.Token == "" {
		t.Fatalf("viewer link %+v", v)
	}
	return v.Token
}

func metadata(title string) map[string]string {
	return map[string]string{"filename": "statement.mp4", "filetype": "video/mp4", "title": title,
		"speaker": "A. Speaker", "language": "en"}
}

func fileSize(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// tusCreate creates an upload of size bytes with a plain tus request and
// returns the response.
func tusCreate(t *testing.T, base, tok string, size int64, title string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/files/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Authorization", "Bearer "+tok)
	var meta []string
	for k, v := range metadata(title) {
		meta = append(meta, k+" "+base64.StdEncoding.EncodeToString([]byte(v)))
	}
	req.Header.Set("Upload-Metadata", strings.Join(meta, ","))
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("tus creation: %s", resp.Status)
	}
	return resp
}

// TestUploadURLFollowsHost: without PRESESSION_PUBLIC_URL the tus upload
// URL follows the address the client used (the default public URL,
// http://localhost:8080, is only a guess for printed links); with it, the
// upload URL is on it.
func TestUploadURLFollowsHost(t *testing.T) {
	testenv.FFmpeg(t)
	staff := testenv.RandomHex(24)
	until := time.Now().AddDate(0, 1, 0).UTC().Format(time.DateOnly)
	for _, public := range []string{"", "https://presession.example.org"} {
		env := []string{"PRESESSION_DATA_DIR=" + t.TempDir(), "PRESESSION_STAFF_TOKEN=" + staff, "PRESESSION_ADDR=127.0.0.1:0"}
		if public != "" {
			env = append(env, "PRESESSION_PUBLIC_URL="+public)
		}
		p := launch(t, "presession", "serve", env)
		base := "http://" + p.addr
		tok := invite(t, base, staff, "upr36", "BG", "Civil Voice", until)
		loc := tusCreate(t, base, tok, 10, "A statement").Header.Get("Location")
		want := base + "/files/"
		if public != "" {
			want = public + "/files/"
		}
		if !strings.HasPrefix(loc, want) {
			t.Errorf("PRESESSION_PUBLIC_URL=%q: upload URL %s, want it under %s", public, loc, want)
		}
	}
}
