// Package metrics holds the service's Prometheus collectors. Nothing here
// is global: main creates the collectors, registers them on its one
// registry and hands each to the package it measures, through a small
// interface that package declares (worker.Metrics, upload.Metrics).
//
//   - Uploads: tus uploads started, finished, refused by reason, and the
//     bytes received (the upload endpoint's hook).
//   - Processing: transcode executions by result, processing time and
//     realtime factor of each transcode, task failures by type, playlist
//     rebuilds by result (the worker's hook).
//   - Statements: statements per status, asked of the catalog at scrape time.
//   - Media cache: media requests by kind and how the in-memory cache
//     answered them, what it holds, its evictions (the playlist handler's).
//   - Cached: bounds the cost of an expensive collector, such as Asynq's
//     queue scan, by re-collecting it at most once per interval.
//
// Every metric of ours is named presession_*; Asynq's queue metrics keep
// their asynq_* names.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/uprinfo/presession"
)

const namespace = "presession"

// Label names.
const (
	labelReason = "reason" // uploads_refused_total: a Refusal
	labelResult = "result" // transcodes_total: a TranscodeResult; playlist_rebuilds_total: a PlaylistResult
	labelType   = "type"   // task_failures_total: an Asynq task type
	labelStatus = "status" // statements: a presession.Status
)

// Refusal is why an upload was refused: a value of the reason label.
type Refusal string

// Refusal reasons of an upload: the fixed set of the reason label.
const (
	RefusedUnauthorized Refusal = "unauthorized" // no, bad or expired invitation
	RefusedDeadline     Refusal = "deadline"     // the country's upload deadline has passed
	RefusedTooLarge     Refusal = "too_large"    // above PRESESSION_MAX_UPLOAD_BYTES
	RefusedInvalid      Refusal = "invalid"      // bad metadata or protocol use
	RefusedLimit        Refusal = "limit"        // one of the invitation's limits (statements, uploads, bytes) is reached
)

// RefusalReasons lists the values of the reason label.
var RefusalReasons = []Refusal{RefusedUnauthorized, RefusedDeadline, RefusedTooLarge, RefusedInvalid, RefusedLimit}

// Handler serves the registry's metrics in the Prometheus text format. A
// collector that fails (Redis down during a scrape) leaves its metrics out
// and is logged; the rest is still served.
func Handler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		ErrorLog:            slogPrinter{log},
		MaxRequestsInFlight: 4,
		Timeout:             30 * time.Second,
		Registry:            reg, // promhttp_metric_handler_errors_total
	})
}

type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.l.Warn("metrics", "err", v) }

// Uploads counts the tus endpoint's work. Its methods are safe for
// concurrent use; a nil *Uploads is not valid, pass none instead.
type Uploads struct {
	started, finished prometheus.Counter
	refused           *prometheus.CounterVec
	bytes             prometheus.Counter
}

// NewUploads returns the upload collectors, every refusal reason at zero.
func NewUploads() *Uploads {
	u := &Uploads{
		started: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "uploads_started_total",
			Help: "Uploads created (tus POST accepted)."}),
		finished: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "uploads_finished_total",
			Help: "Uploads received completely and recorded as statements."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "uploads_refused_total",
			Help: "Upload requests refused, by reason: unauthorized, deadline, too_large, invalid, limit."}, []string{labelReason}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "upload_received_bytes_total",
			Help: "Bytes of upload bodies received and stored."}),
	}
	for _, r := range RefusalReasons {
		u.refused.WithLabelValues(string(r))
	}
	return u
}

// UploadStarted counts a created upload.
func (u *Uploads) UploadStarted() { u.started.Inc() }

// UploadFinished counts an upload received whole.
func (u *Uploads) UploadFinished() { u.finished.Inc() }

// UploadRefused counts a refused request; reason is one of
// RefusalReasons (anything else counts as invalid).
func (u *Uploads) UploadRefused(reason Refusal) {
	switch reason {
	case RefusedUnauthorized, RefusedDeadline, RefusedTooLarge, RefusedLimit:
	default:
		reason = RefusedInvalid
	}
	u.refused.WithLabelValues(string(reason)).Inc()
}

// BytesReceived counts n bytes of upload body written.
func (u *Uploads) BytesReceived(n int64) {
	if n > 0 {
		u.bytes.Add(float64(n))
	}
}

// Describe implements prometheus.Collector.
func (u *Uploads) Describe(ch chan<- *prometheus.Desc) {
	u.started.Describe(ch)
	u.finished.Describe(ch)
	u.refused.Describe(ch)
	u.bytes.Describe(ch)
}

// Collect implements prometheus.Collector.
func (u *Uploads) Collect(ch chan<- prometheus.Metric) {
	u.started.Collect(ch)
	u.finished.Collect(ch)
	u.refused.Collect(ch)
	u.bytes.Collect(ch)
}

// TranscodeResult is how a transcode execution ended: a value of the
// result label of transcodes_total.
type TranscodeResult string

// Transcode results: the fixed set of the result label.
const (
	TranscodeReady       TranscodeResult = "ready"       // the statement became ready
	TranscodeFailed      TranscodeResult = "failed"      // the statement was marked failed
	TranscodeError       TranscodeResult = "error"       // a transient error or a timeout: the task is retried
	TranscodeInterrupted TranscodeResult = "interrupted" // the worker stopped (shutdown): the task went back to its queue
	TranscodeSuperseded  TranscodeResult = "superseded"  // staff moved the statement on meanwhile; the result was dropped
)

// TranscodeResults lists the values of the result label.
var TranscodeResults = []TranscodeResult{TranscodeReady, TranscodeFailed, TranscodeError, TranscodeInterrupted, TranscodeSuperseded}

// PlaylistResult is how a playlist task ended: a value of the result
// label of playlist_rebuilds_total.
type PlaylistResult string

// Playlist rebuild results.
const (
	PlaylistRebuilt PlaylistResult = "rebuilt" // written
	PlaylistSkipped PlaylistResult = "skipped" // a later rebuild already covered this change
	PlaylistBusy    PlaylistResult = "busy"    // another worker held the country's lock; retried in a second
	PlaylistError   PlaylistResult = "error"   // failed; retried
)

// PlaylistResults lists the values of the result label.
var PlaylistResults = []PlaylistResult{PlaylistRebuilt, PlaylistSkipped, PlaylistBusy, PlaylistError}

// Processing measures the workers.
type Processing struct {
	transcodes *prometheus.CounterVec
	duration   prometheus.Histogram
	realtime   prometheus.Histogram
	failures   *prometheus.CounterVec
	playlists  *prometheus.CounterVec
}

// NewProcessing returns the worker collectors; taskTypes are the task
// types to show at zero before their first failure.
func NewProcessing(taskTypes ...string) *Processing {
	p := &Processing{
		transcodes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "transcodes_total",
			Help: "Transcode executions (one ffmpeg run per execution) by result: ready, failed, error (retried), interrupted (shutdown; requeued), superseded."},
			[]string{labelResult}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "processing_duration_seconds",
			Help:    "Wall time of a successful transcode execution: source read, ffmpeg, uploads of every output, manifest.",
			Buckets: prometheus.ExponentialBuckets(5, 2, 10)}), // 5 s … 43 min
		realtime: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "processing_realtime_factor",
			Help:    "Seconds of statement processed per second of wall time, per successful transcode (above 1 is faster than realtime).",
			Buckets: []float64{0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10}}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "task_failures_total",
			Help: "Asynq task executions that failed (retried or archived), by task type; shutdowns and lock waits are not failures."},
			[]string{labelType}),
		playlists: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "playlist_rebuilds_total",
			Help: "Playlist rebuild tasks by result: rebuilt, skipped (already covered), busy (lock held elsewhere), error."},
			[]string{labelResult}),
	}
	for _, r := range TranscodeResults {
		p.transcodes.WithLabelValues(string(r))
	}
	for _, r := range PlaylistResults {
		p.playlists.WithLabelValues(string(r))
	}
	for _, t := range taskTypes {
		p.failures.WithLabelValues(t)
	}
	return p
}

// Transcoded counts one transcode execution; a ready one also records its
// wall time and realtime factor.
func (p *Processing) Transcoded(result TranscodeResult, mediaSeconds float64, took time.Duration) {
	p.transcodes.WithLabelValues(string(result)).Inc()
	if result == TranscodeReady && took > 0 {
		p.duration.Observe(took.Seconds())
		if mediaSeconds > 0 {
			p.realtime.Observe(mediaSeconds / took.Seconds())
		}
	}
}

// TaskFailed counts a failed task execution of type taskType.
func (p *Processing) TaskFailed(taskType string) { p.failures.WithLabelValues(taskType).Inc() }

// PlaylistRebuilt counts a playlist task's outcome.
func (p *Processing) PlaylistRebuilt(result PlaylistResult) {
	p.playlists.WithLabelValues(string(result)).Inc()
}

// Describe implements prometheus.Collector.
func (p *Processing) Describe(ch chan<- *prometheus.Desc) {
	p.transcodes.Describe(ch)
	p.duration.Describe(ch)
	p.realtime.Describe(ch)
	p.failures.Describe(ch)
	p.playlists.Describe(ch)
}

// Collect implements prometheus.Collector.
func (p *Processing) Collect(ch chan<- prometheus.Metric) {
	p.transcodes.Collect(ch)
	p.duration.Collect(ch)
	p.realtime.Collect(ch)
	p.failures.Collect(ch)
	p.playlists.Collect(ch)
}

// StatusCounter is what Statements asks at scrape time (the catalog).
type StatusCounter interface {
	Counts(ctx context.Context) (map[presession.Status]int, error)
}

// Statements is a collector of the number of statements per status.
type Statements struct {
	counter StatusCounter
	timeout time.Duration
	desc    *prometheus.Desc
}

// NewStatements returns the collector; each scrape asks counter, within
// 5 seconds.
func NewStatements(counter StatusCounter) *Statements {
	return &Statements{counter: counter, timeout: 5 * time.Second,
		desc: prometheus.NewDesc(namespace+"_statements", "Statements per status, as the catalog holds them at scrape time.",
			[]string{labelStatus}, nil)}
}

// Describe implements prometheus.Collector.
func (s *Statements) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

// Collect implements prometheus.Collector.
func (s *Statements) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	counts, err := s.counter.Counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(s.desc, err)
		return
	}
	for _, st := range presession.Statuses {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}

// Cached wraps a collector whose collection is expensive (Asynq's queue
// scan reads every queue's sets and samples their memory) so that it runs
// at most once per interval, however many scrapes come: in between, the
// last result is served again. Concurrent scrapes share one collection.
//
// The wrapper describes nothing (an unchecked collector): describing the
// inner one would mean collecting it at registration.
func Cached(c prometheus.Collector, interval time.Duration) prometheus.Collector {
	return &cached{inner: c, interval: interval, now: time.Now}
}

type cached struct {
	inner    prometheus.Collector
	interval time.Duration
	now      func() time.Time

	mu   sync.Mutex
	at   time.Time
	last []prometheus.Metric
}

func (c *cached) Describe(chan<- *prometheus.Desc) {}

func (c *cached) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if now := c.now(); c.last == nil || now.Sub(c.at) >= c.interval {
		fresh := make(chan prometheus.Metric)
		go func() {
			c.inner.Collect(fresh)
			close(fresh)
		}()
		ms := []prometheus.Metric{}
		for m := range fresh {
			ms = append(ms, m)
		}
		c.last, c.at = ms, now
	}
	ms := c.last
	c.mu.Unlock()
	for _, m := range ms {
		ch <- m
	}
}
