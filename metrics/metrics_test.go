package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/uprinfo/presession"
)

// scrape serves reg through Handler and parses the text it writes.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	Handler(reg, slog.New(slog.NewTextHandler(io.Discard, nil))).ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value returns the value of the family's series whose labels include
// labels (name, value pairs); counters, gauges and histogram counts.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
	if f.GetHelp() == "" {
		t.Errorf("%s has no HELP", name)
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.Label {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("%s%v: no such series", name, labels)
	return 0
}

func TestUploadsAndProcessing(t *testing.T) {
	reg := prometheus.NewRegistry()
	u := NewUploads()
	p := NewProcessing("statement:probe", "statement:transcode")
	reg.MustRegister(u, p)

	fams := scrape(t, reg)
	for _, r := range RefusalReasons {
		if v := value(t, fams, "presession_uploads_refused_total", "reason", string(r)); v != 0 {
			t.Errorf("refused %s = %v before any refusal", r, v)
		}
	}
	for _, r := range TranscodeResults {
		value(t, fams, "presession_transcodes_total", "result", string(r))
	}
	value(t, fams, "presession_task_failures_total", "type", "statement:transcode")

	u.UploadStarted()
	u.UploadStarted()
	u.UploadFinished()
	u.UploadRefused(RefusedDeadline)
	u.UploadRefused("something new")
	u.BytesReceived(1000)
	u.BytesReceived(-5)
	p.Transcoded(TranscodeReady, 30, 15*time.Second)
	p.Transcoded(TranscodeInterrupted, 30, 3*time.Second)
	p.TaskFailed("statement:probe")
	p.PlaylistRebuilt(PlaylistRebuilt)
	p.PlaylistRebuilt(PlaylistBusy)

	fams = scrape(t, reg)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"presession_uploads_started_total", nil, 2},
		{"presession_uploads_finished_total", nil, 1},
		{"presession_uploads_refused_total", []string{"reason", "deadline"}, 1},
		{"presession_uploads_refused_total", []string{"reason", "invalid"}, 1},
		{"presession_upload_received_bytes_total", nil, 1000},
		{"presession_transcodes_total", []string{"result", "ready"}, 1},
		{"presession_transcodes_total", []string{"result", "interrupted"}, 1},
		{"presession_transcodes_total", []string{"result", "failed"}, 0},
		{"presession_processing_duration_seconds", nil, 1},
		{"presession_processing_realtime_factor", nil, 1},
		{"presession_task_failures_total", []string{"type", "statement:probe"}, 1},
		{"presession_playlist_rebuilds_total", []string{"result", "rebuilt"}, 1},
		{"presession_playlist_rebuilds_total", []string{"result", "busy"}, 1},
	} {
		if got := value(t, fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if s := fams["presession_processing_realtime_factor"].Metric[0].Histogram.GetSampleSum(); s != 2 {
		t.Errorf("realtime factor sum %v, want 2 (30 s in 15 s)", s)
	}
}

type counts struct {
	mu  sync.Mutex
	m   map[presession.Status]int
	err error
}

func (c *counts) Counts(ctx context.Context) (map[presession.Status]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m, c.err
}

func TestStatements(t *testing.T) {
	c := &counts{m: map[presession.Status]int{presession.StatusReady: 3, presession.StatusProcessing: 1}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewStatements(c), NewUploads())
	fams := scrape(t, reg)
	for _, st := range presession.Statuses {
		want := float64(c.m[st])
		if got := value(t, fams, "presession_statements", "status", string(st)); got != want {
			t.Errorf("statements{status=%s} = %v, want %v", st, got, want)
		}
	}

	// The catalog down: the other metrics are still served.
	c.err = errors.New("redis: connection refused")
	fams = scrape(t, reg)
	if _, ok := fams["presession_statements"]; ok {
		t.Error("statements served although the catalog failed")
	}
	value(t, fams, "presession_uploads_started_total")
}

// slow counts its collections, as an expensive scan would.
type slow struct {
	n    atomic.Int32
	desc *prometheus.Desc
}

func (s *slow) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(s, ch) }
func (s *slow) Collect(ch chan<- prometheus.Metric) {
	n := s.n.Add(1)
	time.Sleep(10 * time.Millisecond)
	ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(n), "default")
}

func TestCached(t *testing.T) {
	inner := &slow{desc: prometheus.NewDesc("asynq_queue_size", "Number of tasks in a queue", []string{"queue"}, nil)}
	c := Cached(inner, 15*time.Second).(*cached)
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	c.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	reg := prometheus.NewRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	if n := inner.n.Load(); n != 0 {
		t.Fatalf("registering collected the inner collector %d times", n)
	}
	// Many concurrent scrapes: one collection.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if got := value(t, scrape(t, reg), "asynq_queue_size", "queue", "default"); got != 1 {
				t.Errorf("scrape served %v, want the first collection", got)
			}
		}()
	}
	wg.Wait()
	advance(14 * time.Second)
	value(t, scrape(t, reg), "asynq_queue_size")
	if n := inner.n.Load(); n != 1 {
		t.Fatalf("collected %d times within the interval, want 1", n)
	}
	advance(time.Second)
	if got := value(t, scrape(t, reg), "asynq_queue_size"); got != 2 {
		t.Fatalf("after the interval served %v, want a fresh collection", got)
	}
	if n := inner.n.Load(); n != 2 {
		t.Fatalf("collected %d times, want 2", n)
	}
}
