package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/media"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/worker"
)

// cluster is one real Redis database and one versitygw bucket that the
// test's presession processes share, with the test's own handles on the
// catalog, storage and queues to set work up and check results.
type cluster struct {
	env   []string
	redis *redis.Options
	rdb   *redis.Client
	store storage.Store
	cat   *catalog.Catalog
	queue *worker.Client
	insp  *asynq.Inspector
}

func newCluster(t testing.TB) *cluster {
	t.Helper()
	testenv.FFmpeg(t)
	ro := testenv.RedisDB(t)
	b := testenv.S3Bucket(t)
	ctx := context.Background()
	store, err := storage.NewS3(ctx, storage.Config{Endpoint: b.Endpoint, Region: b.Region, Bucket: b.Bucket,
		AccessKey: b.AccessKey, SecretKey: b.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{redis: ro, rdb: redis.NewClient(ro), store: store}
	t.Cleanup(func() { c.rdb.Close() })
	opt := asynq.RedisClientOpt{Addr: ro.Addr, DB: ro.DB}
	c.queue = worker.NewClient(opt, c.rdb, keyPrefix)
	t.Cleanup(func() { c.queue.Close() })
	c.insp = asynq.NewInspector(opt)
	t.Cleanup(func() { c.insp.Close() })
	c.cat = catalog.New(c.rdb, catalog.StorageBlobs(store), catalog.WithPrefix(keyPrefix))
	c.env = append(b.Env(),
		fmt.Sprintf("REDIS_URL=redis://%s/%d", ro.Addr, ro.DB),
		"PRESESSION_SECRET="+testenv.RandomHex(32), "PRESESSION_STAFF_TOKEN="+testenv.RandomHex(24),
		"PRESESSION_ADDR=127.0.0.1:0", "WORKER_CONCURRENCY=1", "PRESESSION_LOG_LEVEL=info")
	return c
}

// submit puts file in storage as a new statement's source, records the
// statement as uploaded and queues its processing, as the upload endpoint
// does when an upload finishes.
func (c *cluster) submit(t testing.TB, file string) string {
	t.Helper()
	ctx := context.Background()
	id := "st" + testenv.RandomHex(6)
	key := "uploads/" + id
	if err := c.store.PutFile(ctx, key, file, storage.PutOptions{ContentType: "video/mp4"}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	st := &presession.Statement{ID: id, Session: "upr36", Country: "BG", Organisation: "Example NGO", InvitationID: "inv-" + id,
		Title: "Statement", Speaker: "A. Speaker", Language: "en", Filename: filepath.Base(file), Size: fi.Size(),
		SourceKey: key, Status: presession.StatusUploaded}
	if err := c.cat.Create(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := c.queue.EnqueueProcess(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

// waitReady waits until every statement is ready and returns them.
func (c *cluster) waitReady(t testing.TB, ids []string, within time.Duration) []*presession.Statement {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var out []*presession.Statement
		for _, id := range ids {
			st, err := c.cat.Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if st.Status == presession.StatusFailed {
				t.Fatalf("statement %s failed: %s", id, st.Reason)
			}
			if st.Status == presession.StatusReady {
				out = append(out, st)
			}
		}
		if len(out) == len(ids) {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d statements ready after %v", len(out), len(ids), within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkMedia checks that a ready statement's media is whole in storage:
// everything its record names, and the manifest.
func (c *cluster) checkMedia(t testing.TB, st *presession.Statement) {
	t.Helper()
	m := st.Media
	if m == nil || len(m.Renditions) == 0 || m.Master == "" || m.MP4 == "" {
		t.Fatalf("statement %s: incomplete media %+v", st.ID, m)
	}
	objs, err := c.store.List(context.Background(), "statements/"+st.ID+"/")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	want := []string{layout.Manifest(st.ID), m.Master, m.MP4, m.Poster, m.Thumbnail}
	for _, r := range m.Renditions {
		want = append(want, r.Playlist, r.Init)
		for _, s := range r.Segments {
			want = append(want, s.Key)
		}
	}
	for _, k := range want {
		if !slices.Contains(keys, k) {
			t.Errorf("statement %s: %s missing from storage", st.ID, k)
		}
	}
}

// proc is one running presession process.
type proc struct {
	name string
	role string
	cmd  *exec.Cmd
	out  *testenv.SyncBuffer
	addr string
	done chan struct{}
	err  error
}

var addrLine = regexp.MustCompile(`msg=(?:listening|"serving /healthz, /readyz and /metrics") addr=(\S+)`)

// start runs `presession role` with the cluster's environment plus extra,
// its own data dir (extra may name another), and waits until it serves
// /healthz. Its log is shown if the test fails; it is stopped at the end
// of the test.
func (c *cluster) start(t testing.TB, name, role string, extra ...string) *proc {
	t.Helper()
	env := append(append(slices.Clone(c.env), "PRESESSION_DATA_DIR="+t.TempDir()), extra...)
	return launch(t, name, role, env)
}

// launch runs `presession role` (no role: the default command) with env
// on top of the test's environment, minus the service's own variables
// (so a stray REDIS_URL cannot turn an embedded run into another), and
// waits until it serves /healthz. Its log is shown if the test fails; it
// is stopped at the end of the test.
func launch(t testing.TB, name, role string, env []string) *proc {
	t.Helper()
	p := &proc{name: name, role: role, out: &testenv.SyncBuffer{}, done: make(chan struct{})}
	var args []string
	if role != "" {
		args = []string{role}
	}
	p.cmd = exec.Command(testenv.Binary(t), args...)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "REDIS_URL" || strings.HasPrefix(k, "S3_") ||
			(strings.HasPrefix(k, "PRESESSION_") && !strings.HasPrefix(k, "PRESESSION_TEST_")) || k == "WORKER_CONCURRENCY" {
			continue
		}
		p.cmd.Env = append(p.cmd.Env, kv)
	}
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() || os.Getenv("PRESESSION_TEST_LOGS") != "" {
			t.Logf("log of %s (%s):\n%s", p.name, role, p.out)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for p.addr == "" {
		if m := addrLine.FindStringSubmatch(p.out.String()); m != nil {
			p.addr = m[1]
			break
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited at start (%v):\n%s", name, p.err, p.out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen within 20 s:\n%s", name, p.out)
		}
	}
	for {
		resp, err := http.Get("http://" + p.addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: /healthz did not answer 200 within 20 s (%v):\n%s", name, err, p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and returns how long the process took to exit and
// its exit code, failing the test if it outlives within.
func (p *proc) stop(t testing.TB, within time.Duration) (time.Duration, int) {
	t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("%s still running %v after SIGTERM:\n%s", p.name, within, p.out)
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		code = ee.ExitCode()
	} else if p.err != nil {
		t.Fatal(p.err)
	}
	return time.Since(start), code
}

// exitCode waits for the process to end (it must within d) and returns its
// exit code; -1 for a death by signal.
func (p *proc) exitCode(t testing.TB, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("%s still running after %v:\n%s", p.name, d, p.out)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	} else if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// scrape reads and parses the process's /metrics.
func (p *proc) scrape(t testing.TB) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		t.Fatalf("%s: GET /metrics: %v", p.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: GET /metrics: %s", p.name, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("%s: parse /metrics: %v", p.name, err)
	}
	return fams
}

// scrapeTranscodes scrapes the worker's metrics once it counts n transcode
// executions (or after 5 s): it counts one as its handler returns, just
// after the statement turned ready.
func (p *proc) scrapeTranscodes(t testing.TB, n float64) map[string]*dto.MetricFamily {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		fams := p.scrape(t)
		if metric(t, fams, "presession_transcodes_total") >= n || time.Now().After(deadline) {
			return fams
		}
	}
}

// metric returns the value of a counter or gauge series; labels are name,
// value pairs the series must have. A missing family fails the test; a
// family without the series is 0.
func metric(t testing.TB, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
	sum := 0.0
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			if !slices.ContainsFunc(m.Label, func(l *dto.LabelPair) bool {
				return l.GetName() == labels[i] && l.GetValue() == labels[i+1]
			}) {
				continue next
			}
		}
		sum += m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
	}
	return sum
}

// TestWorkerSIGTERMRequeues stops a `presession worker` with SIGTERM in the
// middle of a transcode: it exits 0 within its shutdown timeout plus
// ffmpeg's exit, the statement stays processing (not failed) and its task
// goes back to the queue; a second worker then makes it ready, once.
func TestWorkerSIGTERMRequeues(t *testing.T) {
	c := newCluster(t)
	const shutdown = 2 * time.Second
	// 720p: its transcode outlasts the shutdown timeout even on an idle
	// machine (a 25 s 360p source took 3 s, and the stop found it done).
	clip := testenv.Clip(t, t.TempDir(), "statement.mp4", "1280x720", 20, true)
	id := c.submit(t, clip)

	a := c.start(t, "worker A", "worker", "PRESESSION_SHUTDOWN_TIMEOUT="+shutdown.String())
	if v := metric(t, a.scrape(t), "presession_transcodes_total"); v != 0 {
		t.Fatalf("a fresh worker reports %v transcodes", v)
	}
	// The transcode's work dir appears just before ffmpeg starts.
	work := filepath.Join(envValue(a.cmd.Env, "PRESESSION_DATA_DIR"), "work")
	for deadline := time.Now().Add(30 * time.Second); ; {
		if entries, _ := filepath.Glob(filepath.Join(work, "transcode-"+id+"-*")); len(entries) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("worker A started no transcode within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // ffmpeg under way
	if st, _ := c.cat.Get(context.Background(), id); st.Status != presession.StatusProcessing {
		t.Fatalf("statement %s before the stop, want processing", st.Status)
	}

	bound := shutdown + media.WaitDelay + 5*time.Second
	took, code := a.stop(t, bound)
	t.Logf("worker A exited %v after SIGTERM (shutdown timeout %v), code %d", took.Round(time.Millisecond), shutdown, code)
	if code != 0 {
		t.Fatalf("worker A exit code %d:\n%s", code, a.out)
	}
	if !strings.Contains(a.out.String(), "transcode interrupted") {
		t.Fatalf("worker A did not report the interrupted transcode:\n%s", a.out)
	}
	st, err := c.cat.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != presession.StatusProcessing {
		t.Fatalf("after the stop the statement is %s (%s), want processing", st.Status, st.Reason)
	}
	info, err := c.insp.GetTaskInfo(worker.QueueTranscode, "transcode:"+id)
	if err != nil {
		t.Fatal(err)
	}
	if info.State != asynq.TaskStatePending || info.Retried != 0 {
		t.Fatalf("transcode task after the stop: %s, retried %d; want pending and not counted as a retry", info.State, info.Retried)
	}

	b := c.start(t, "worker B", "worker", "PRESESSION_SHUTDOWN_TIMEOUT="+shutdown.String())
	st = c.waitReady(t, []string{id}, 60*time.Second)[0]
	c.checkMedia(t, st)
	readies := 0
	for _, ev := range st.History {
		if ev.To == presession.StatusReady {
			readies++
		}
	}
	if readies != 1 {
		t.Fatalf("%d transitions to ready, want 1: %+v", readies, st.History)
	}
	fams := b.scrapeTranscodes(t, 1)
	if r, all := metric(t, fams, "presession_transcodes_total", "result", "ready"), metric(t, fams, "presession_transcodes_total"); r != 1 || all != 1 {
		t.Fatalf("worker B: %v transcodes ready of %v, want 1 of 1", r, all)
	}
	if n := metric(t, fams, "presession_task_failures_total", "type", worker.TypeTranscode); n != 0 {
		t.Fatalf("worker B counts %v transcode failures", n)
	}
	if n := metric(t, fams, "presession_processing_duration_seconds"); n != 1 {
		t.Fatalf("worker B observed %v processing durations, want 1", n)
	}
	if _, code := b.stop(t, bound); code != 0 {
		t.Fatalf("worker B exit code %d", code)
	}
}

func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val // the last one wins, as in the process
		}
	}
	return v
}

// TestScaleOut runs one `presession serve` and `presession worker`s on one
// Redis and one bucket: a batch of statements with one worker, then a
// second batch with two. Every statement is transcoded exactly once (the
// workers' transcode counters add up to the batch), the two workers share
// the second batch and transcode at the same time, and the serve process's
// /metrics reports the catalog and the queues.
//
// The wall time of each batch and their ratio are logged, not asserted:
// one ffmpeg already keeps two cores busy, so on the 2-core machines the
// suite runs on (shared with the rest of the suite) a second worker
// cannot make a batch measurably faster; the gain needs more cores.
// What the test asserts is what makes it possible: concurrent, exactly
// once, shared work.
func TestScaleOut(t *testing.T) {
	c := newCluster(t)
	const batch = 6
	clip := testenv.Clip(t, t.TempDir(), "statement.mp4", "640x360", 8, true)

	api := c.start(t, "serve", "serve")
	a := c.start(t, "worker A", "worker")
	one := c.processBatch(t, clip, batch, a)
	b := c.start(t, "worker B", "worker")
	two := c.processBatch(t, clip, batch, a, b)
	t.Logf("batch of %d: one worker %v, two workers %v: ratio %.2f on %d CPUs (BenchmarkScaleOut measures it with a core per worker)", batch,
		one.Round(time.Millisecond), two.Round(time.Millisecond), two.Seconds()/one.Seconds(), runtime.NumCPU())
	for _, w := range []*proc{a, b} {
		if _, n := transcodes(t, w); n == 0 {
			t.Errorf("%s transcoded nothing: the work was not shared", w.name)
		}
	}

	// The serve process reports the cluster: the catalog and the queues.
	fams := api.scrape(t)
	if n := metric(t, fams, "presession_statements", "status", "ready"); n != 2*batch {
		t.Errorf("serve reports %v ready statements, want %d", n, 2*batch)
	}
	for _, name := range []string{"asynq_queue_size", "asynq_tasks_processed_total", "presession_uploads_refused_total",
		"presession_uploads_started_total", "process_cpu_seconds_total", "go_goroutines"} {
		metric(t, fams, name)
	}
	if _, ok := fams["presession_transcodes_total"]; ok {
		t.Error("serve runs no workers but reports transcodes")
	}
}

// BenchmarkScaleOut measures what more worker machines buy: each worker
// is pinned to a core of its own (a one-core machine, ffmpeg included),
// and the same batch is processed by one worker, then by two. It reports
// the wall-time ratio two/one (1 would mean no gain, 0.5 a perfect one).
func BenchmarkScaleOut(b *testing.B) {
	if runtime.NumCPU() < 2 {
		b.Skip("needs two cores")
	}
	c := newCluster(b)
	const batch = 6
	clip := testenv.Clip(b, b.TempDir(), "statement.mp4", "1280x720", 10, true)
	c.start(b, "serve", "serve")
	a := c.start(b, "worker A", "worker")
	pin(b, a, 0)
	var one, two time.Duration
	for b.Loop() {
		one = c.processBatch(b, clip, batch, a)
		w := c.start(b, "worker B", "worker")
		pin(b, w, 1)
		two = c.processBatch(b, clip, batch, a, w)
	}
	b.ReportMetric(one.Seconds(), "s_one_worker")
	b.ReportMetric(two.Seconds(), "s_two_workers")
	b.ReportMetric(two.Seconds()/one.Seconds(), "two/one")
}

// pin binds a process (every thread, and the ffmpeg it starts later) to
// one CPU.
func pin(tb testing.TB, p *proc, cpu int) {
	tb.Helper()
	if out, err := exec.Command("taskset", "-a", "-p", "-c", strconv.Itoa(cpu), strconv.Itoa(p.cmd.Process.Pid)).CombinedOutput(); err != nil {
		tb.Fatalf("taskset: %v\n%s", err, out)
	}
}

// transcodes returns a worker's transcode executions that made a
// statement ready, and all of them.
func transcodes(t testing.TB, p *proc) (ready, all float64) {
	fams := p.scrape(t)
	return metric(t, fams, "presession_transcodes_total", "result", "ready"), metric(t, fams, "presession_transcodes_total")
}

// processBatch submits batch copies of clip and waits until all are ready;
// each must be transcoded exactly once, with as many transcodes at once as
// workers (of concurrency 1). It returns the wall time.
func (c *cluster) processBatch(t testing.TB, clip string, batch int, workers ...*proc) time.Duration {
	t.Helper()
	var before []float64
	for _, w := range workers {
		_, all := transcodes(t, w)
		before = append(before, all)
	}
	// Sample how many transcodes run at once, across processes.
	sampling, sampled := make(chan struct{}), make(chan int)
	go func() {
		most := 0
		for {
			if active, err := c.insp.ListActiveTasks(worker.QueueTranscode); err == nil {
				most = max(most, len(active))
			}
			select {
			case <-sampling:
				sampled <- most
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	var ids []string
	for range batch {
		ids = append(ids, c.submit(t, clip))
	}
	sts := c.waitReady(t, ids, 5*time.Minute)
	took := time.Since(start)
	close(sampling)
	if most := <-sampled; most != len(workers) {
		t.Errorf("at most %d transcodes ran at once with %d worker(s) of concurrency 1", most, len(workers))
	}
	for _, st := range sts {
		c.checkMedia(t, st)
	}
	// A worker counts an execution as its handler returns, just
	// after the statement turned ready.
	var all float64
	var per []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		all, per = 0, nil
		for i, w := range workers {
			_, n := transcodes(t, w)
			all += n - before[i]
			per = append(per, fmt.Sprintf("%s %v", w.name, n-before[i]))
		}
		if all >= float64(batch) || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("batch of %d with %d worker(s): %v; transcode executions: %s", batch, len(workers), took.Round(time.Millisecond), strings.Join(per, ", "))
	if all != float64(batch) {
		t.Fatalf("%v transcode executions for %d statements, want exactly one each", all, batch)
	}
	return took
}
