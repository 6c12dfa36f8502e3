package worker

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/media"
	"github.com/uprinfo/presession/metrics"
	"github.com/uprinfo/presession/storage"
)

type rebuilds struct {
	mu    sync.Mutex
	calls []string
}

func (r *rebuilds) Rebuild(ctx context.Context, session, country string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, session+"/"+country)
	return nil
}

// counts records what the worker reports to its Metrics.
type counts struct {
	mu         sync.Mutex
	transcodes map[string]int
	failures   map[string]int
	playlists  map[string]int
}

func (c *counts) Transcoded(result metrics.TranscodeResult, media float64, took time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.transcodes[string(result)]++
}

func (c *counts) TaskFailed(typ string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures[typ]++
}

func (c *counts) PlaylistRebuilt(result metrics.PlaylistResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.playlists[string(result)]++
}

// get returns a copy of one of the maps.
func (c *counts) get(m *map[string]int) map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int{}
	for k, v := range *m {
		out[k] = v
	}
	return out
}

type env struct {
	w      *Worker
	client *Client
	cat    *catalog.Catalog
	store  storage.Store
	rdb    *redis.Client
	rb     *rebuilds
	mu     sync.Mutex
	runs   map[string]int
	m      *counts
}

func newEnv(t *testing.T, store storage.Store) *env {
	t.Helper()
	testenv.FFmpeg(t)
	ro := testenv.RedisDB(t)
	rdb := redis.NewClient(ro)
	t.Cleanup(func() { rdb.Close() })
	opt := asynq.RedisClientOpt{Addr: ro.Addr, DB: ro.DB}
	e := &env{store: store, rdb: rdb, rb: &rebuilds{}, runs: map[string]int{},
		m: &counts{transcodes: map[string]int{}, failures: map[string]int{}, playlists: map[string]int{}}}
	e.client = NewClient(opt, rdb, "presession:")
	t.Cleanup(func() { e.client.Close() })
	e.cat = catalog.New(rdb, catalog.StorageBlobs(store))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	e.w = New(Config{Concurrency: 1, WorkDir: t.TempDir(), KeyPrefix: "presession:", Preset: "ultrafast", ShutdownTimeout: 5 * time.Second,
		Metrics: e.m},
		opt, rdb, e.client, e.cat, store, e.rb, presession.Builtin(), log)
	e.w.transcodeHook = func(id string) {
		e.mu.Lock()
		e.runs[id]++
		e.mu.Unlock()
	}
	return e
}

func (e *env) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// upload puts a source file in storage and records its statement as
// uploaded, as the upload endpoint does.
func (e *env) upload(t *testing.T, file string) *presession.Statement {
	t.Helper()
	ctx := context.Background()
	id := "st" + testenv.RandomHex(6)
	key := "uploads/" + id
	if err := e.store.PutFile(ctx, key, file, storage.PutOptions{ContentType: "application/octet-stream"}); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(file)
	st := &presession.Statement{ID: id, Session: "upr36", Country: "BG", Organisation: "Example NGO", InvitationID: "inv1",
		Title: "Statement", Speaker: "A. Speaker", Language: "en", Filename: filepath.Base(file), Size: fi.Size(),
		SourceKey: key, Status: presession.StatusUploaded}
	if err := e.cat.Create(ctx, st); err != nil {
		t.Fatal(err)
	}
	return st
}

func (e *env) wait(t *testing.T, id string, want ...presession.Status) *presession.Statement {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, err := e.cat.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(want, st.Status) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("statement %s is %s (%s), want %v", id, st.Status, st.Reason, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func keys(t *testing.T, s storage.Store, prefix string) []string {
	t.Helper()
	objs, err := s.List(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

func TestProcessDir(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.NewDir(filepath.Join(dir, "storage"))
	if err != nil {
		t.Fatal(err)
	}
	testProcess(t, s)
}

func TestProcessS3(t *testing.T) {
	b := testenv.S3Bucket(t)
	s, err := storage.NewS3(context.Background(), storage.Config{Endpoint: b.Endpoint, Region: b.Region, Bucket: b.Bucket, AccessKey: b.AccessKey, SecretKey: b.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	testProcess(t, s)
}

// testProcess drives good and bad sources through the queues and checks
// the outcome in the catalog and in storage.
func testProcess(t *testing.T, store storage.Store) {
	e := newEnv(t, store)
	e.run(t)
	ctx := context.Background()
	clips := t.TempDir()

	good := e.upload(t, testenv.Clip(t, clips, "good.mp4", "640x360", 7, true))
	silent := e.upload(t, testenv.Clip(t, clips, "silent.mp4", "360x640", 3, false,
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"))
	junk := filepath.Join(clips, "junk.mp4")
	b := make([]byte, 64<<10)
	rand.Read(b)
	os.WriteFile(junk, b, 0o644)
	bad := e.upload(t, junk)

	for _, st := range []*presession.Statement{good, silent, bad} {
		if err := e.client.EnqueueProcess(ctx, st.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.client.EnqueueProcess(ctx, st.ID); err != nil { // a repeated notification
			t.Fatal(err)
		}
	}

	st := e.wait(t, good.ID, presession.StatusReady, presession.StatusFailed)
	if st.Status != presession.StatusReady {
		t.Fatalf("good clip: %s: %s", st.Status, st.Reason)
	}
	m := st.Media
	if m == nil || len(m.Renditions) != 1 || m.Renditions[0].Name != "360p" || m.Renditions[0].Width != 640 {
		t.Fatalf("media: %+v", m)
	}
	if d := m.Duration; d < 7-0.05 || d > 7+0.05 {
		t.Fatalf("duration %.3f, want 7 within a frame", d)
	}
	if m.Damage != nil {
		t.Fatalf("a clean clip has damage: %+v", m.Damage)
	}
	if len(st.Captions) != 3 || !st.Captions[0].Placeholder || st.Captions[1].Name != "Français" {
		t.Fatalf("captions: %+v", st.Captions)
	}
	if st.Progress != 100 {
		t.Fatalf("progress %v", st.Progress)
	}
	got := keys(t, store, "statements/"+good.ID+"/")
	for _, want := range []string{"master.m3u8", "media.json", "download.mp4", "poster.jpg", "thumb.jpg", "statement.json",
		"hls/360p/index.m3u8", "hls/360p/init.mp4", "hls/360p/seg_00000.m4s", "hls/360p/seg_00001.m4s",
		"subs/en.vtt", "subs/fr.m3u8", "subs/es.vtt"} {
		if !slices.Contains(got, "statements/"+good.ID+"/"+want) {
			t.Errorf("missing %s in %v", want, got)
		}
	}
	r, _, err := store.Get(ctx, m.Master, nil)
	if err != nil {
		t.Fatal(err)
	}
	master, _ := io.ReadAll(r)
	r.Close()
	for _, want := range []string{`TYPE=SUBTITLES`, `LANGUAGE="fr",NAME="Français"`, `RESOLUTION=640x360`, `hls/360p/index.m3u8`} {
		if !strings.Contains(string(master), want) {
			t.Errorf("master lacks %s:\n%s", want, master)
		}
	}
	// The master plays over HTTP: ffprobe reads it and its segments.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc, info, err := store.Get(r.Context(), strings.TrimPrefix(r.URL.Path, "/"), nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer rc.Close()
		w.Header().Set("Content-Type", info.ContentType)
		io.Copy(w, rc)
	}))
	defer srv.Close()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
		srv.URL+"/"+m.Master).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe master: %v\n%s", err, out)
	}
	if d, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64); d < 6.9 || d > 7.1 {
		t.Fatalf("ffprobe duration of the HLS: %s", out)
	}

	st = e.wait(t, silent.ID, presession.StatusReady, presession.StatusFailed)
	if st.Status != presession.StatusReady || len(st.Warnings) == 0 || st.Media.Renditions[0].Height != 640 || st.Media.Damage != nil {
		t.Fatalf("portrait clip without audio: %s %q warnings=%v media=%+v", st.Status, st.Reason, st.Warnings, st.Media)
	}
	if q := st.Media.Quality; q == nil || q.Summary == "looks fine" || !slices.ContainsFunc(q.Findings, func(f presession.Finding) bool { return f.Kind == "portrait" }) {
		t.Fatalf("portrait clip's quality report: %+v", st.Media.Quality)
	}
	st = e.wait(t, bad.ID, presession.StatusFailed)
	if !strings.Contains(st.Reason, "please") {
		t.Fatalf("reason for random bytes should say what to do: %q", st.Reason)
	}
	if st.ReasonKey != "reject.damaged" || len(st.ReasonArgs) != 0 {
		t.Fatalf("random bytes failed with message %q %q, want reject.damaged", st.ReasonKey, st.ReasonArgs)
	}
	if n := len(keys(t, store, "statements/"+bad.ID+"/hls/")); n != 0 {
		t.Fatalf("a rejected source left %d media files", n)
	}
	// Executions are counted as their handler returns, just after the
	// statement turned ready.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		e.mu.Lock()
		n := e.runs[good.ID] + e.runs[silent.ID]
		e.mu.Unlock()
		if n >= 2 && maps.Equal(e.m.get(&e.m.transcodes), map[string]int{"ready": 2}) {
			break
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.runs[good.ID] != 1 || e.runs[silent.ID] != 1 || e.runs[bad.ID] != 0 {
		t.Fatalf("transcode executions: %v (want one per good statement, despite repeated enqueues)", e.runs)
	}
	if got := e.m.get(&e.m.transcodes); !maps.Equal(got, map[string]int{"ready": 2}) {
		t.Errorf("transcode results %v, want 2 ready", got)
	}
	// The rejected source fails its probe task once (SkipRetry).
	deadline := time.Now().Add(5 * time.Second)
	for e.m.get(&e.m.failures)[TypeProbe] != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := e.m.get(&e.m.failures); got[TypeProbe] != 1 || got[TypeTranscode] != 0 {
		t.Errorf("task failures %v, want the rejected probe only", got)
	}
}

// TestTranscodeInterruptedThenRerun kills a transcode half-way (as a
// SIGKILLed worker would leave it) and runs the task again: the result is
// the same set of keys as one clean run, with nothing extra.
func TestTranscodeInterruptedThenRerun(t *testing.T) {
	s, _ := storage.NewDir(t.TempDir())
	e := newEnv(t, s)
	ctx := context.Background()
	clips := t.TempDir()
	clip := testenv.Clip(t, clips, "a.mp4", "640x360", 20, true)
	st := e.upload(t, clip)
	probe := NewProbeTask(st.ID)
	if err := e.w.handleProbe(ctx, probe); err != nil {
		t.Fatal(err)
	}
	info, err := media.Probe(ctx, clip)
	if err != nil {
		t.Fatal(err)
	}
	task := NewTranscodeTask(st.ID, info)

	// First run: cancelled once ffmpeg is under way.
	cctx, cancel := context.WithCancel(ctx)
	go func() { // as soon as ffmpeg has written its first segment
		for {
			if m, _ := filepath.Glob(filepath.Join(e.w.cfg.WorkDir, "*", "out", "hls", "*", "seg_*.m4s")); len(m) > 0 {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	if err := e.w.handleTranscode(cctx, task); err == nil {
		t.Fatal("interrupted transcode reported success")
	}
	if got, _ := e.cat.Get(ctx, st.ID); got.Status != presession.StatusProcessing {
		t.Fatalf("after interruption: %s", got.Status)
	}
	if err := e.w.handleTranscode(ctx, task); err != nil {
		t.Fatal(err)
	}
	first := keys(t, s, "statements/"+st.ID+"/")
	// A duplicate delivery after success does nothing.
	if err := e.w.handleTranscode(ctx, task); err != nil {
		t.Fatal(err)
	}
	// A forced re-run (the statement sent back to processing) overwrites
	// the same keys.
	if _, err := e.cat.Transition(ctx, st.ID, presession.StatusProcessing, "test", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.w.handleTranscode(ctx, task); err != nil {
		t.Fatal(err)
	}
	second := keys(t, s, "statements/"+st.ID+"/")
	if !slices.Equal(first, second) {
		t.Fatalf("keys differ between runs:\n%v\n%v", first, second)
	}
	if e.runs[st.ID] != 3 {
		t.Fatalf("executions %d", e.runs[st.ID])
	}
	if got := e.m.get(&e.m.transcodes); !maps.Equal(got, map[string]int{"interrupted": 1, "ready": 2}) {
		t.Fatalf("transcode results %v, want the interruption and two ready runs (the no-op delivery is no execution)", got)
	}
	got, _ := e.cat.Get(ctx, st.ID)
	if got.Status != presession.StatusReady {
		t.Fatalf("status %s", got.Status)
	}
	entries, _ := os.ReadDir(e.w.cfg.WorkDir)
	if len(entries) != 0 {
		t.Fatalf("work files left behind: %v", entries)
	}
}

// TestPlaylistDedup: a burst of changes to one country costs one rebuild;
// a change after the rebuild started gets its own.
func TestPlaylistDedup(t *testing.T) {
	s, _ := storage.NewDir(t.TempDir())
	e := newEnv(t, s)
	ctx := context.Background()
	for range 5 {
		if err := e.client.EnqueuePlaylist(ctx, "upr36", "bg"); err != nil {
			t.Fatal(err)
		}
	}
	e.run(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		e.rb.mu.Lock()
		n := len(e.rb.calls)
		e.rb.mu.Unlock()
		q, err := asynq.NewInspector(asynq.RedisClientOpt{Addr: e.rdb.Options().Addr, DB: e.rdb.Options().DB}).GetQueueInfo(QueueShort)
		if n >= 1 && err == nil && q.Size == 0 && q.Active == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rebuilds %d, queue %+v %v", n, q, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.rb.mu.Lock()
	if len(e.rb.calls) != 1 || e.rb.calls[0] != "upr36/BG" {
		t.Fatalf("a burst of 5 changes caused rebuilds %v, want one", e.rb.calls)
	}
	e.rb.mu.Unlock()
	if got := e.m.get(&e.m.playlists); got["rebuilt"] != 1 || got["rebuilt"]+got["skipped"]+got["busy"] < 5 || got["error"] != 0 {
		t.Fatalf("playlist results %v: want 1 rebuilt, the rest skipped or busy", got)
	}
	if got := e.m.get(&e.m.failures); len(got) != 0 {
		t.Fatalf("task failures %v: waiting for a lock is not one", got)
	}
	if err := e.client.EnqueuePlaylist(ctx, "upr36", "BG"); err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(deadline) {
		e.rb.mu.Lock()
		n := len(e.rb.calls)
		e.rb.mu.Unlock()
		if n == 2 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("a later change was not rebuilt")
}

// TestShutdownRequeues stops a worker mid-transcode: Run returns within
// ShutdownTimeout plus ffmpeg's exit, the task is back in its queue with
// its retry count untouched, the statement is still processing, nothing
// counts as a failure and no work files remain; another worker then
// finishes it, once.
func TestShutdownRequeues(t *testing.T) {
	s, _ := storage.NewDir(t.TempDir())
	e := newEnv(t, s)
	e.w.cfg.ShutdownTimeout = 300 * time.Millisecond
	e.w.cfg.Preset = "" // production's veryfast: seconds of encoding, the stop lands mid-way
	ctx := context.Background()
	st := e.upload(t, testenv.Clip(t, t.TempDir(), "a.mp4", "640x360", 20, true))
	if err := e.client.EnqueueProcess(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.w.Run(rctx) }()
	// The transcode's work dir appears just before ffmpeg starts. (The
	// progress is no sign: ffmpeg reports no output time until late.)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if entries, _ := os.ReadDir(e.w.cfg.WorkDir); len(entries) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no transcode started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	stopped := time.Now()
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	took := time.Since(stopped)
	t.Logf("Run returned %v after the stop", took.Round(time.Millisecond))
	if took > 300*time.Millisecond+5*time.Second {
		t.Errorf("Run took %v to return", took)
	}
	got, _ := e.cat.Get(ctx, st.ID)
	if got.Status != presession.StatusProcessing {
		t.Fatalf("after the stop the statement is %s (%s), want processing", got.Status, got.Reason)
	}
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: e.rdb.Options().Addr, DB: e.rdb.Options().DB})
	defer insp.Close()
	info, err := insp.GetTaskInfo(QueueTranscode, "transcode:"+st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if info.State != asynq.TaskStatePending || info.Retried != 0 {
		t.Fatalf("transcode task after the stop: %s, retried %d; want pending, 0", info.State, info.Retried)
	}
	if got := e.m.get(&e.m.transcodes); !maps.Equal(got, map[string]int{"interrupted": 1}) {
		t.Fatalf("transcode results %v, want one interrupted", got)
	}
	if got := e.m.get(&e.m.failures); len(got) != 0 {
		t.Fatalf("task failures %v: a shutdown is not one", got)
	}
	if entries, _ := os.ReadDir(e.w.cfg.WorkDir); len(entries) != 0 {
		t.Fatalf("work files left behind: %v", entries)
	}

	// Another worker takes it over.
	e.w = New(e.w.cfg, e.w.redis, e.rdb, e.client, e.cat, s, e.rb, presession.Builtin(), e.w.log)
	e.run(t)
	got = e.wait(t, st.ID, presession.StatusReady, presession.StatusFailed)
	if got.Status != presession.StatusReady {
		t.Fatalf("second worker: %s (%s)", got.Status, got.Reason)
	}
	n := 0
	for _, ev := range got.History {
		if ev.To == presession.StatusReady {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d transitions to ready, want 1: %+v", n, got.History)
	}
	// The execution is counted as its handler returns, just after the
	// statement turned ready.
	want := map[string]int{"interrupted": 1, "ready": 1}
	for deadline := time.Now().Add(5 * time.Second); !maps.Equal(e.m.get(&e.m.transcodes), want) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := e.m.get(&e.m.transcodes); !maps.Equal(got, want) {
		t.Fatalf("transcode results %v, want %v", got, want)
	}
}

// versioned is a rebuilder that reports the next scripted build.
type versioned struct {
	rebuilds
	version    string
	statements int
	changed    bool
}

func (v *versioned) RebuildVersion(ctx context.Context, session, country string) (string, int, bool, error) {
	return v.version, v.statements, v.changed, v.Rebuild(ctx, session, country)
}

// TestPlaylistUpdatedTold: a rebuild that stores a new build tells
// playlist.updated once, with the build's version; one that finds the same
// build stored tells nothing, unless that build was never told; the first
// build of an empty playlist is no news.
func TestPlaylistUpdatedTold(t *testing.T) {
	s, _ := storage.NewDir(t.TempDir())
	e := newEnv(t, s)
	vr := &versioned{}
	e.w.rebuild = vr
	var told []presession.Occurrence
	e.w.cfg.Occurred = func(_ context.Context, o presession.Occurrence) { told = append(told, o) }
	ctx := context.Background()
	rebuild := func(version string, changed bool) {
		t.Helper()
		vr.version, vr.changed = version, changed
		if vr.statements == 0 && version != "empty" {
			vr.statements = 2
		}
		v, err := e.rdb.Incr(ctx, e.client.versionKey("upr36", "AD")).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := e.w.handlePlaylist(ctx, NewPlaylistTask("upr36", "AD", v)); err != nil {
			t.Fatal(err)
		}
	}
	rebuild("empty", true) // every country's first build at the first start
	if len(told) != 0 {
		t.Fatalf("the first build of an empty playlist was told: %+v", told)
	}
	rebuild("aaaa", true)
	rebuild("aaaa", false)
	if len(told) != 1 || told[0].Type != presession.PlaylistUpdated || told[0].Session != "upr36" || told[0].Country != "AD" ||
		told[0].Version != "aaaa" || told[0].ID != "playlist_upr36_AD_2_aaaa" || told[0].At.IsZero() {
		t.Fatalf("told %+v", told)
	}
	rebuild("bbbb", true)
	if len(told) != 2 || told[1].Version != "bbbb" || told[1].ID == told[0].ID {
		t.Fatalf("after a change, told %+v", told)
	}
	// A start on an empty Redis: the stored build is not news.
	e.rdb.Del(ctx, "presession:playlist:told:upr36:AD")
	rebuild("bbbb", false)
	if len(told) != 2 {
		t.Fatalf("an unchanged build after a restart was told: %+v", told[2:])
	}
	// A rebuild that stored cccc but stopped before telling it.
	rebuild("cccc", false)
	if len(told) != 3 || told[2].Version != "cccc" {
		t.Fatalf("a build stored but never told: %+v", told)
	}
}
