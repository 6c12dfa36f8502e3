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
// message and cover the whole duration. (ffmpeg 5.1 keeps the first
// EXT-X-MAP's moov for the whole stream; it decodes through the boundaries
// because later statements' segments are served shifted to their place in
// the stream, see playlist.Shift.)
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
	if audio < d-0.5 || math.Abs(float64(frames)/fps-d) > 0.5 {
		t.Errorf("ffmpeg decoded %.3f s of audio and %.1f s of video of a %.3f s stream", audio, float64(frames)/fps, d)
	}
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

// TestEndToEnd runs the whole product on real Redis and S3 (versitygw):
// `presession serve` and one `presession worker`. Three organisations
// invited for Bulgaria (past its deadline, with an extension) upload with
// tus-js-client, one across an abort; each sees its own statement become
// ready; staff approve, reorder and make a viewing link; the stitched
// stream decodes in ffmpeg with the sum of the durations and plays across
// a boundary in Chromium's native HLS; a rejection rebuilds it without the
// statement; and the links reach only what they should. A webhook
// receiver registered at the start is told each step, signed.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	c.env = append(c.env, "PRESESSION_WEBHOOK_ALLOW_PRIVATE=true") // the receiver is on loopback
	script := testenv.NodeScript(t, "upload-tus.mjs")
	testenv.Chromium(t)
	api := c.start(t, "serve", "serve")
	c.start(t, "worker", "worker")
	base := "http://" + api.addr
	staff := envValue(c.env, "PRESESSION_STAFF_TOKEN")
	hooks := newHookReceiver(t)
	hookID := hooks.register(t, base, staff)
	until := time.Now().AddDate(0, 1, 0).UTC().Format(time.DateOnly)

	// Landscape, portrait (its own rung shape) and silent (a silent
	// track is added): what the ladder and the stitching must reconcile.
	dir := t.TempDir()
	csos := []*cso{
		{org: "Civil Voice", seconds: 4, file: testenv.Clip(t, dir, "landscape.mp4", "640x360", 4, true)},
		{org: "Phone Rights", seconds: 5, file: testenv.Clip(t, dir, "portrait.mp4", "360x640", 5, true)},
		{org: "Quiet Watch", seconds: 4, file: testenv.Clip(t, dir, "silent.mp4", "640x360", 4, false)},
	}
	for i, o := range csos {
		o.token = invite(t, base, staff, "upr36", "BG", o.org, until)
		opts := map[string]any{"endpoint": base + "/files/", "token": o.token, "file": o.file,
			"metadata": metadata(o.org + "'s statement"), "urlStorage": filepath.Join(t.TempDir(), "urls.json")}
		if i == 1 {
			// Small chunks, so the client is stopped mid-way and resumes.
			opts["chunkSize"] = 64 << 10
			opts["stops"] = []int64{fileSize(t, o.file) / 2}
		}
		events, url := tusUpload(t, script, opts)
		if i == 1 {
			if len(events) != 3 || events[0].Event != "aborted" || events[1].Event != "resumed" || events[1].From == 0 {
				t.Fatalf("upload with an abort: events %+v, want aborted, resumed from > 0, success", events)
			}
		}
		o.id = statementOf(url)
	}
	for _, o := range csos {
		waitMine(t, base, o.token, o.id, []string{o.id}, 90*time.Second)
	}

	for _, o := range csos {
		mustCall(t, 200, "POST", base+"/api/v1/statements/"+o.id+"/approve", staff, nil, nil)
	}
	orderURL := base + "/api/v1/sessions/upr36/countries/BG/order"
	var order struct {
		Statements []string `json:"statements"`
	}
	mustCall(t, 200, "GET", orderURL, staff, nil, &order)
	if want := []string{csos[0].id, csos[1].id, csos[2].id}; !slices.Equal(order.Statements, want) {
		t.Fatalf("order after the approvals %v, want the approval order %v", order.Statements, want)
	}
	// Portrait first, then silent: the first boundary changes both the
	// picture's shape and the audio's origin.
	list := []*cso{csos[1], csos[2], csos[0]}
	ids := func(l []*cso) (ids []string) {
		for _, o := range l {
			ids = append(ids, o.id)
		}
		return ids
	}
	secs := func(l []*cso) (s []float64) {
		for _, o := range l {
			s = append(s, o.seconds)
		}
		return s
	}
	mustCall(t, 200, "PUT", orderURL, staff, map[string][]string{"statements": ids(list)}, &order)
	if !slices.Equal(order.Statements, ids(list)) {
		t.Fatalf("order after PUT %v, want %v", order.Statements, ids(list))
	}
	key := viewerKey(t, base, staff, "upr36", "BG")

	pl := waitPlaylist(t, base, "upr36", "BG", key, ids(list), 30*time.Second)
	checkChapters(t, pl, secs(list))
	for i, s := range pl.Statements {
		if s.Organisation != list[i].org {
			t.Errorf("chapter %d: organisation %q, want %q", i, s.Organisation, list[i].org)
		}
	}
	master := base + "/playlists/upr36/BG/master.m3u8?key=" + key
	if d := playHLS(t, master, 25); math.Abs(d-13) > 0.5 {
		t.Errorf("ffprobe: the stitched stream lasts %.3f s, the three statements 13 s", d)
	}
	watchInChromium(t, base+"/watch/upr36/bg?key="+key)

	// Reject the middle one: reopen, then reject with a reason.
	gone := list[1]
	mustCall(t, 200, "POST", base+"/api/v1/statements/"+gone.id+"/reopen", staff, map[string]string{"reason": "second look"}, nil)
	mustCall(t, 200, "POST", base+"/api/v1/statements/"+gone.id+"/reject", staff, map[string]string{"reason": "off topic"}, nil)
	rest := []*cso{list[0], list[2]}
	pl = waitPlaylist(t, base, "upr36", "BG", key, ids(rest), 30*time.Second)
	checkChapters(t, pl, secs(rest))
	if d := playHLS(t, master, 25); math.Abs(d-9) > 0.5 {
		t.Errorf("ffprobe: after the rejection the stream lasts %.3f s, want 9 s", d)
	}
	if got := mine(t, base, gone.token); len(got) != 1 || got[0].Status != "rejected" || got[0].Reason != "off topic" {
		t.Errorf("the rejected statement's CSO sees %+v, want rejected with its reason", got)
	}

	// The webhook receiver was told every step, and staff see the deliveries.
	eventually(t, 30*time.Second, "the webhooks of every step", func() bool {
		return len(hooks.of(t, "statement.uploaded")) >= 3 && len(hooks.of(t, "statement.approved")) >= 3 &&
			len(hooks.of(t, "statement.rejected")) >= 1 && len(hooks.of(t, "playlist.updated")) >= 2
	})
	for typ, want := range map[string][]string{"statement.uploaded": ids(csos), "statement.approved": ids(csos), "statement.rejected": {gone.id}} {
		got := hooks.of(t, typ)
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s webhooks for %v, want %v", typ, got, w)
		}
	}
	if got := hooks.of(t, "statement.ready"); len(got) < 3 {
		t.Errorf("statement.ready webhooks for %v, want each statement", got)
	}
	for _, cc := range hooks.of(t, "playlist.updated") {
		if cc != "BG" {
			t.Errorf("playlist.updated for %s; only Bulgaria's playlist changed", cc)
		}
	}
	var listed struct {
		Webhooks []struct {
			ID         string `json:"id"`
			Secret     string `json:"secret"`
			Deliveries []struct {
				Status  int    `json:"status"`
				Outcome string `json:"outcome"`
			} `json:"deliveries"`
		} `json:"webhooks"`
	}
	mustCall(t, 200, "GET", base+"/api/v1/webhooks", staff, nil, &listed)
	if len(listed.Webhooks) != 1 || listed.Webhooks[0].ID != hookID || listed.Webhooks[0].Secret != "" || len(listed.Webhooks[0].Deliveries) == 0 ||
		listed.Webhooks[0].Deliveries[0].Status != 204 || listed.Webhooks[0].Deliveries[0].Outcome != "delivered" {
		t.Errorf("listed webhooks %+v", listed)
	}

	// Access. A viewer reaches approved media of its country only.
	media := func(id, file string) string { return base + "/media/" + id + "/" + file }
	status := func(url, bearer string) int {
		t.Helper()
		code, _ := call(t, "GET", url, bearer, nil, nil)
		return code
	}
	denied := func(code int) bool { return code == 403 || code == 404 }
	kept := list[0]
	if code := status(media(kept.id, "download.mp4?key="+key), ""); code != 302 {
		t.Errorf("viewer: an approved statement's MP4: %d, want a 302 to storage", code)
	}
	for _, f := range []string{"download.mp4", "master.m3u8", "poster.jpg"} {
		if code := status(media(gone.id, f+"?key="+key), ""); !denied(code) {
			t.Errorf("viewer: the rejected statement's %s: %d, want 403/404", f, code)
		}
	}
	other := viewerKey(t, base, staff, "upr36", "AD")
	for _, u := range []string{"/playlists/upr36/BG/master.m3u8", "/playlists/upr36/BG.json", "/playlists/upr36/BG/360p.m3u8"} {
		if code := status(base+u+"?key="+other, ""); code != 403 {
			t.Errorf("Andorra's viewer link on %s: %d, want 403", u, code)
		}
	}
	if code := status(media(kept.id, "download.mp4?key="+other), ""); !denied(code) {
		t.Errorf("Andorra's viewer link on a Bulgarian statement's MP4: %d, want 403/404", code)
	}
	// A CSO reaches its own statements' media only, approved or not.
	a, b := csos[0], csos[1]
	if code := status(media(a.id, "download.mp4"), a.token); code != 302 {
		t.Errorf("CSO on its own MP4: %d, want 302", code)
	}
	if code := status(media(gone.id, "download.mp4"), gone.token); code != 302 {
		t.Errorf("CSO on its own rejected statement's MP4: %d, want 302", code)
	}
	for _, f := range []string{"download.mp4", "master.m3u8", "hls/360p/index.m3u8"} {
		if code := status(media(b.id, f), a.token); !denied(code) {
			t.Errorf("CSO A on CSO B's %s (bearer): %d, want 403/404", f, code)
		}
		if code := status(media(b.id, f+"?token="+a.token), ""); !denied(code) {
			t.Errorf("CSO A on CSO B's %s (?token=): %d, want 403/404", f, code)
		}
	}
	if code := status(base+"/playlists/upr36/BG.json", a.token); code != 403 {
		t.Errorf("a CSO's token on the delegations' playlist: %d, want 403", code)
	}
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
	t.Parallel()
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
