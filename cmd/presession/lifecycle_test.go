package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/worker"
)

// procsWorkingIn returns the ids of the processes whose command line
// mentions dir (the ffmpeg of a transcode names its work dir).
func procsWorkingIn(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(dir)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// running reports whether the process exists and is not a zombie.
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

// firstSegment waits for a transcode of id under work to have written a
// segment, and returns its work dir.
func firstSegment(t *testing.T, work, id string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		dirs, _ := filepath.Glob(filepath.Join(work, "transcode-"+id+"-*"))
		for _, d := range dirs {
			found := false
			filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(p, ".m4s") {
					found = true
					return filepath.SkipAll
				}
				return nil
			})
			if found {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no transcode of %s wrote a segment within %v", id, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkManifest checks that the statement's manifest lists every other
// object of its media with the size and hash in storage, and nothing that
// is not there: the manifest describes a whole run.
func (c *cluster) checkManifest(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	read := func(key string) []byte {
		t.Helper()
		body, _, err := c.store.Get(ctx, key, nil)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		defer body.Close()
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var man struct {
		Files []struct {
			Key    string `json:"key"`
			Size   int64  `json:"size"`
			SHA256 string `json:"sha256"`
		} `json:"files"`
	}
	if err := json.Unmarshal(read(layout.Manifest(id)), &man); err != nil {
		t.Fatal(err)
	}
	objs, err := c.store.List(ctx, "statements/"+id+"/")
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int64{}
	for _, o := range objs {
		stored[o.Key] = o.Size
	}
	delete(stored, layout.Manifest(id))
	delete(stored, "statements/"+id+"/statement.json") // the catalog's record, not media
	for _, f := range man.Files {
		size, ok := stored[f.Key]
		if !ok {
			t.Errorf("the manifest lists %s, which is not in storage", f.Key)
			continue
		}
		sum := sha256.Sum256(read(f.Key))
		if size != f.Size || hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("%s: %d bytes in storage, %d in the manifest; hash match %v", f.Key, size, f.Size, hex.EncodeToString(sum[:]) == f.SHA256)
		}
		delete(stored, f.Key)
	}
	// Captions may be replaced by staff later; at this point there are
	// none, so anything left is an object no run accounts for.
	for k := range stored {
		t.Errorf("%s is in storage but not in the manifest", k)
	}
	if len(man.Files) == 0 {
		t.Error("the manifest lists no files")
	}
}

// TestWorkerSIGKILL kills a `presession worker` (SIGKILL: no shutdown,
// its Asynq lease left behind) in the middle of a transcode and starts
// another: Asynq's recoverer gives the task back once the lease has
// expired, and the second worker makes the statement ready, once, with
// whole media. It logs how long the recovery took, and whether the killed
// worker's ffmpeg outlived it.
func TestWorkerSIGKILL(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	ctx := context.Background()
	clip := testenv.Clip(t, t.TempDir(), "statement.mp4", "1280x720", 20, true)
	id := c.submit(t, clip)

	a := c.start(t, "worker A", "worker")
	work := filepath.Join(envValue(a.cmd.Env, "PRESESSION_DATA_DIR"), "work")
	dir := firstSegment(t, work, id, 60*time.Second)
	ffmpegs := procsWorkingIn(dir)
	if len(ffmpegs) == 0 {
		t.Fatalf("no process works in %s", dir)
	}
	st, err := c.cat.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != presession.StatusProcessing {
		t.Fatalf("statement %s before the kill, want processing", st.Status)
	}
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if code := a.exitCode(t, 5*time.Second); code != -1 {
		t.Fatalf("worker A exit code %d after SIGKILL", code)
	}
	t.Logf("worker A killed at %.0f%% of the transcode", st.Progress)

	// The killed worker's ffmpeg runs in its own process group, but the
	// kernel kills it with its parent (media's parent-death signal).
	time.Sleep(500 * time.Millisecond)
	var orphans []int
	for _, pid := range ffmpegs {
		if running(pid) {
			orphans = append(orphans, pid)
		}
	}
	orphanGone := make(chan time.Duration, 1)
	if len(orphans) > 0 {
		t.Errorf("ffmpeg %v outlived its SIGKILLed worker", orphans)
		t.Cleanup(func() {
			for _, pid := range orphans {
				if running(pid) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		})
		go func() {
			for {
				alive := false
				for _, pid := range orphans {
					alive = alive || running(pid)
				}
				if !alive {
					orphanGone <- time.Since(killed)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}

	b := c.start(t, "worker B", "worker")
	// Follow the task: its lease expires, the recoverer schedules a retry,
	// worker B takes it, the statement becomes ready.
	taskID := "transcode:" + id
	var recovered, restarted, ready time.Duration
	for deadline := killed.Add(3 * time.Minute); ; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("statement not ready 3 min after the kill (recovered after %v, restarted after %v)", recovered, restarted)
		}
		if info, err := c.insp.GetTaskInfo(worker.QueueTranscode, taskID); err == nil {
			switch {
			case recovered == 0 && info.State != asynq.TaskStateActive:
				recovered = time.Since(killed)
				t.Logf("%v after the kill: the task is %s (retried %d: %s)", recovered.Round(time.Second), info.State, info.Retried, info.LastErr)
			case recovered != 0 && restarted == 0 && info.State == asynq.TaskStateActive:
				restarted = time.Since(killed)
			}
		} else if !errors.Is(err, asynq.ErrTaskNotFound) {
			t.Fatal(err)
		}
		if st, err = c.cat.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
		if st.Status == presession.StatusFailed {
			t.Fatalf("statement failed: %s", st.Reason)
		}
		if st.Status == presession.StatusReady {
			ready = time.Since(killed)
			break
		}
	}
	orphanLife := "did not outlive the worker"
	if len(orphans) > 0 {
		select {
		case d := <-orphanGone:
			orphanLife = "ran on, orphaned, until " + d.Round(100*time.Millisecond).String() + " after the kill"
			if done, _ := filepath.Glob(filepath.Join(dir, "out", "*", "*", "index.m3u8")); len(done) > 0 {
				if b, err := os.ReadFile(done[0]); err == nil && bytes.Contains(b, []byte("#EXT-X-ENDLIST")) {
					orphanLife += ", having finished its outputs"
				} else {
					orphanLife += ", its outputs unfinished"
				}
			}
		default:
			orphanLife = "still running when the statement became ready"
		}
	}
	t.Logf("after the SIGKILL: lease recovered %v, transcode restarted %v, ready %v; the killed worker's ffmpeg (pids %v) %s",
		recovered.Round(time.Second), restarted.Round(time.Second), ready.Round(time.Second), orphans, orphanLife)

	readies := 0
	for _, ev := range st.History {
		if ev.To == presession.StatusReady {
			readies++
		}
	}
	if readies != 1 {
		t.Fatalf("%d transitions to ready, want 1: %+v", readies, st.History)
	}
	c.checkMedia(t, st)
	c.checkManifest(t, id)
	if d := st.Media.Duration; d < 19.9 || d > 20.1 {
		t.Errorf("media lasts %.3f s, the source 20 s", d)
	}
	var segs float64
	for _, r := range st.Media.Renditions {
		segs = 0
		for _, s := range r.Segments {
			segs += s.Duration
		}
		if segs < 19.9 || segs > 20.1 {
			t.Errorf("rendition %s: its segments last %.3f s", r.Name, segs)
		}
	}
	fams := b.scrapeTranscodes(t, 1)
	if r, all := metric(t, fams, "presession_transcodes_total", "result", "ready"), metric(t, fams, "presession_transcodes_total"); r != 1 || all != 1 {
		t.Fatalf("worker B: %v transcodes ready of %v, want 1 of 1", r, all)
	}
}

// tusRequest sends a tus request on an upload with the invitation token.
func tusRequest(t *testing.T, method, url, tok string, offset int64, body io.Reader, length int64) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+tok)
	if method == "PATCH" {
		req.Header.Set("Content-Type", "application/offset+octet-stream")
		req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
		req.ContentLength = length
	}
	return http.DefaultClient.Do(req)
}

// TestServeSIGTERMInflightPatch stops `presession serve` (SIGTERM, a
// shutdown timeout of 3 s) while a client is sending a PATCH slowly: the
// process stops accepting connections at once, waits for the PATCH up to
// the timeout, then stops it (503) having stored what it received, and
// exits 0; once serve runs again, HEAD answers at once (no lock left
// behind) with that offset, the client sends the rest, the stored bytes
// are the source's and a worker processes the statement.
func TestServeSIGTERMInflightPatch(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	const shutdown = 3 * time.Second
	a := c.start(t, "serve", "serve", "PRESESSION_SHUTDOWN_TIMEOUT="+shutdown.String())
	c.start(t, "worker", "worker")
	base := "http://" + a.addr
	staff := envValue(c.env, "PRESESSION_STAFF_TOKEN")
	tok := invite(t, base, staff, "upr36", "BG", "Slow Line", time.Now().AddDate(0, 1, 0).UTC().Format(time.DateOnly))
	file := testenv.Clip(t, t.TempDir(), "statement.mp4", "640x360", 12, true,
		"-c:v", "libx264", "-preset", "ultrafast", "-b:v", "6M", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(data))
	loc := tusCreate(t, base, tok, size, "Over a slow line").Header.Get("Location")
	id := statementOf(loc)

	// The whole file in one PATCH, at about 1 MiB/s.
	pr, pw := io.Pipe()
	var sent atomic.Int64
	go func() {
		for off := 0; off < len(data); off += 32 << 10 {
			n := min(32<<10, len(data)-off)
			if _, err := pw.Write(data[off : off+n]); err != nil {
				return
			}
			sent.Add(int64(n))
			time.Sleep(30 * time.Millisecond)
		}
		pw.Close()
	}()
	type result struct {
		status int
		err    error
	}
	patched := make(chan result, 1)
	go func() {
		resp, err := tusRequest(t, "PATCH", loc, tok, 0, pr, size)
		if err != nil {
			patched <- result{err: err}
			return
		}
		resp.Body.Close()
		patched <- result{status: resp.StatusCode}
	}()
	eventually(t, 20*time.Second, "2 MiB sent", func() bool { return sent.Load() >= 2<<20 })

	signalled := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "serve refusing new connections", func() bool {
		conn, err := net.DialTimeout("tcp", a.addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return false
		}
		return true
	})
	refused := time.Since(signalled)
	select {
	case r := <-patched:
		t.Fatalf("the PATCH ended (%+v) before serve stopped, with %d of %d bytes sent: too fast to test", r, sent.Load(), size)
	default:
	}
	code := a.exitCode(t, shutdown+5*time.Second)
	took := time.Since(signalled)
	r := <-patched
	pw.CloseWithError(errors.New("the server went away"))
	at := sent.Load()
	t.Logf("serve refused connections %v after SIGTERM and exited %v after it, code %d; the PATCH ended with %+v after %d of %d bytes",
		refused.Round(time.Millisecond), took.Round(time.Millisecond), code, r, at, size)
	if code != 0 {
		t.Fatalf("serve exit code %d", code)
	}
	if took < shutdown-100*time.Millisecond || took > shutdown+uploadCheckpointGrace+time.Second {
		t.Errorf("serve took %v to exit with a shutdown timeout of %v: it must wait for the PATCH that long, then store what it received", took, shutdown)
	}
	if r.err == nil && r.status != 503 {
		t.Errorf("the PATCH cut by the stop answered %d, want 503 (tusd's ERR_SERVER_SHUTDOWN)", r.status)
	}

	b := c.start(t, "serve again", "serve", "PRESESSION_ADDR="+a.addr, "PRESESSION_SHUTDOWN_TIMEOUT="+shutdown.String())
	headAt := time.Now()
	resp, err := tusRequest(t, "HEAD", loc, tok, 0, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	offset, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if resp.StatusCode != 200 || err != nil {
		t.Fatalf("HEAD after the restart: %s, Upload-Offset %q", resp.Status, resp.Header.Get("Upload-Offset"))
	}
	headTook := time.Since(headAt)
	t.Logf("HEAD after the restart (%v): offset %d of the %d bytes sent", headTook.Round(time.Millisecond), offset, at)
	if offset < 2<<20 || offset > at {
		t.Fatalf("tusd reports offset %d, but the client sent %d bytes (2 MiB before the stop): the stop did not store what the PATCH received", offset, at)
	}
	if headTook > 2*time.Second {
		t.Errorf("HEAD after the restart took %v: the stopped PATCH left its upload lock behind", headTook)
	}
	resp, err = tusRequest(t, "PATCH", loc, tok, offset, bytes.NewReader(data[offset:]), size-offset)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Upload-Offset") != strconv.FormatInt(size, 10) {
		t.Fatalf("PATCH of the rest: %s, Upload-Offset %s", resp.Status, resp.Header.Get("Upload-Offset"))
	}
	body, _, err := c.store.Get(context.Background(), "uploads/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	io.Copy(h, body)
	body.Close()
	if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("the stored upload differs from the source")
	}
	st := c.waitReady(t, []string{id}, 90*time.Second)[0]
	c.checkMedia(t, st)
	if _, code := b.stop(t, shutdown+5*time.Second); code != 0 {
		t.Fatalf("serve exit code %d", code)
	}
}

// TestEmbeddedRestart runs the newcomer's path: `presession` alone, no
// REDIS_URL or S3_ENDPOINT, on a data dir. A statement uploaded with
// tus-js-client is processed and approved; a second upload is left
// half-way; the process is stopped and started again on the same data dir.
// The in-process Redis started empty, yet the statement is still approved
// with its history (the catalog is rebuilt from storage), its playlist
// plays, and the half-way upload resumes and completes.
func TestEmbeddedRestart(t *testing.T) {
	t.Parallel()
	testenv.FFmpeg(t)
	script := testenv.NodeScript(t, "upload-tus.mjs")
	data := t.TempDir()
	staff := testenv.RandomHex(24)
	env := []string{"PRESESSION_DATA_DIR=" + data, "PRESESSION_STAFF_TOKEN=" + staff, "PRESESSION_ADDR=127.0.0.1:0"}
	p := launch(t, "presession", "", env)
	if first, _, _ := strings.Cut(p.out.String(), "\n"); !strings.Contains(first, "embedded default") {
		t.Errorf("first log line %q does not say it runs on the embedded default", first)
	}
	base := "http://" + p.addr
	tok := invite(t, base, staff, "upr36", "MH", "Island Voices", time.Now().AddDate(0, 1, 0).UTC().Format(time.DateOnly))
	dir := t.TempDir()
	clip := testenv.Clip(t, dir, "first.mp4", "640x360", 4, true)
	_, url := tusUpload(t, script, map[string]any{"endpoint": base + "/files/", "token": tok, "file": clip,
		"metadata": metadata("Before the restart"), "urlStorage": filepath.Join(t.TempDir(), "urls.json")})
	id := statementOf(url)
	waitMine(t, base, tok, id, []string{id}, 90*time.Second)
	mustCall(t, 200, "POST", base+"/api/v1/statements/"+id+"/approve", staff, nil, nil)
	key := viewerKey(t, base, staff, "upr36", "MH")
	waitPlaylist(t, base, "upr36", "MH", key, []string{id}, 30*time.Second)

	second := testenv.Clip(t, dir, "second.mp4", "640x360", 6, true)
	urls := filepath.Join(t.TempDir(), "urls.json")
	size := fileSize(t, second)
	opts := map[string]any{"endpoint": base + "/files/", "token": tok, "file": second,
		"metadata": metadata("Across the restart"), "urlStorage": urls, "chunkSize": 64 << 10, "quitAt": size / 2}
	_, half := tusUpload(t, script, opts)
	id2 := statementOf(half)

	if took, code := p.stop(t, 30*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	} else {
		t.Logf("stopped %v after SIGTERM", took.Round(time.Millisecond))
	}
	// The same data dir and address: the client kept its upload URL.
	launch(t, "presession again", "", append(env, "PRESESSION_ADDR="+p.addr))

	var st presession.Statement
	mustCall(t, 200, "GET", base+"/api/v1/statements/"+id, staff, nil, &st)
	var path []string
	for _, ev := range st.History {
		if ev.At.IsZero() || ev.Actor == "" {
			t.Errorf("history event without its time or actor: %+v", ev)
		}
		path = append(path, string(ev.To))
	}
	if st.Status != presession.StatusApproved || strings.Join(path, ",") != "uploading,uploaded,processing,ready,approved" {
		t.Fatalf("after the restart the statement is %s with history %v, want approved after uploading, uploaded, processing, ready", st.Status, path)
	}
	pl := waitPlaylist(t, base, "upr36", "MH", key, []string{id}, 30*time.Second)
	checkChapters(t, pl, []float64{4})
	if d := playHLS(t, base+"/playlists/upr36/MH/master.m3u8?key="+key, 25); math.Abs(d-4) > 0.5 {
		t.Errorf("after the restart the playlist lasts %.3f s, want 4 s", d)
	}

	delete(opts, "quitAt")
	events, url2 := tusUpload(t, script, opts)
	if url2 != half || events[0].Event != "resumed" || events[0].From == 0 {
		t.Fatalf("after the restart: events %+v at %s, want a resumption of %s from where it stopped", events, url2, half)
	}
	t.Logf("the upload left at %d of %d bytes resumed from %d after the restart", size/2, size, events[0].From)
	waitMine(t, base, tok, id2, []string{id, id2}, 90*time.Second)
	store, err := storage.NewDir(filepath.Join(data, "storage"))
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := store.Get(context.Background(), "uploads/"+id2, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	io.Copy(got, body)
	body.Close()
	src, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(src); !bytes.Equal(got.Sum(nil), want[:]) {
		t.Fatal("the stored upload differs from the source")
	}
}
