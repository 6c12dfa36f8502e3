package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/asynqlog"
	"github.com/uprinfo/presession/media"
	"github.com/uprinfo/presession/metrics"
)

// Catalog is what the worker needs of the statement catalog.
type Catalog interface {
	Get(ctx context.Context, id string) (*presession.Statement, error)
	Transition(ctx context.Context, id string, to presession.Status, actor, reason string, msg ...presession.Message) (*presession.Statement, error)
	Update(ctx context.Context, id string, fn func(*presession.Statement) error) (*presession.Statement, error)
	SetProgress(ctx context.Context, id string, pct float64) error
}

// Store is what the worker needs of storage: writing the outputs, a URL
// ffmpeg reads the source at, and reading the organisation's captions
// files (Get, for drafts.Store).
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, o presession.PutOptions) error
	PutFile(ctx context.Context, key, path string, o presession.PutOptions) error
	URL(ctx context.Context, key string, ttl time.Duration) (string, error)
	Get(ctx context.Context, key string, rng *presession.Range) (io.ReadCloser, presession.ObjectInfo, error)
}

// Rebuilder rebuilds a country's playlist from the catalog.
type Rebuilder interface {
	Rebuild(ctx context.Context, session, country string) error
}

// VersionedRebuilder is a Rebuilder that also says which build it left
// stored, how many statements it plays and whether it wrote it
// (playlist.Rebuilder is one). Only its rebuilds are told as
// playlist.updated.
type VersionedRebuilder interface {
	RebuildVersion(ctx context.Context, session, country string) (version string, statements int, changed bool, err error)
}

// Metrics receives what the worker measures (metrics.Processing
// implements it). Results are the label values the metrics package
// declares.
type Metrics interface {
	// Transcoded reports one transcode execution (one ffmpeg run): how it
	// ended, the statement's duration in seconds and the wall time taken.
	Transcoded(result metrics.TranscodeResult, mediaSeconds float64, took time.Duration)
	// TaskFailed reports a task execution that failed: it will be retried
	// or archived. A shutdown's requeue is not a failure.
	TaskFailed(taskType string)
	// PlaylistRebuilt reports how a playlist task ended.
	PlaylistRebuilt(result metrics.PlaylistResult)
}

type noMetrics struct{}

func (noMetrics) Transcoded(metrics.TranscodeResult, float64, time.Duration) {}
func (noMetrics) TaskFailed(string)                                          {}
func (noMetrics) PlaylistRebuilt(metrics.PlaylistResult)                     {}

// Config holds the worker's settings.
type Config struct {
	Concurrency      int    // transcodes at once (WORKER_CONCURRENCY)
	ShortConcurrency int    // probes and playlist rebuilds at once; default 4
	WorkDir          string // per-task temporary directories go here
	KeyPrefix        string // Redis key prefix of the worker's own keys
	ShutdownTimeout  time.Duration
	Preset           string  // x264 preset; default from media
	Metrics          Metrics // nil: not measured
	// Occurred, when set, is told playlist.updated when a rebuild stores
	// a new build of a country's playlist (the same hook the catalog
	// tells its occurrences to).
	Occurred func(ctx context.Context, o presession.Occurrence)
}

// Worker serves the task queues.
type Worker struct {
	cfg      Config
	redis    asynq.RedisConnOpt
	rdb      redis.UniversalClient
	client   *Client
	catalog  Catalog
	store    Store
	rebuild  Rebuilder
	sessions *presession.Sessions
	log      *slog.Logger
	metrics  Metrics

	// inflight counts running handlers, so Run returns only once every
	// handler has (Asynq stops waiting for them at ShutdownTimeout).
	inflight sync.WaitGroup

	// transcodeHook, when set, is called after each transcode execution
	// (tests count executions with it).
	transcodeHook func(id string)

	// probe describes a source: media.Probe (tests count its runs).
	probe func(ctx context.Context, input string) (*media.Info, error)
}

// New returns a worker. client is used to enqueue follow-up tasks.
func New(cfg Config, opt asynq.RedisConnOpt, rdb redis.UniversalClient, client *Client, cat Catalog, store Store,
	rebuild Rebuilder, sessions *presession.Sessions, log *slog.Logger) *Worker {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.ShortConcurrency <= 0 {
		cfg.ShortConcurrency = 4
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	m := cfg.Metrics
	if m == nil {
		m = noMetrics{}
	}
	return &Worker{cfg: cfg, redis: opt, rdb: rdb, client: client, catalog: cat, store: store, rebuild: rebuild,
		sessions: sessions, log: log, metrics: m, probe: media.Probe}
}

// TaskTypes lists every task type the worker handles.
func TaskTypes() []string { return []string{TypeProbe, TypeTranscode, TypePlaylist} }

// Handler returns the task mux of every task type.
func (w *Worker) Handler() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeProbe, w.handleProbe)
	mux.HandleFunc(TypeTranscode, w.handleTranscode)
	mux.HandleFunc(TypePlaylist, w.handlePlaylist)
	mux.Use(w.track)
	return mux
}

// track counts the handler in inflight while it runs.
func (w *Worker) track(h asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		w.inflight.Add(1)
		defer w.inflight.Done()
		return h.ProcessTask(ctx, t)
	})
}

// isFailure tells Asynq which errors count as failures: not a wait for
// another worker's lock.
func isFailure(err error) bool { return !errors.Is(err, errBusy) }

// handleError counts failed executions by task type.
func (w *Worker) handleError(ctx context.Context, t *asynq.Task, err error) {
	if isFailure(err) {
		w.metrics.TaskFailed(t.Type())
	}
}

// Run serves both queues until ctx is done, then shuts down: no new tasks
// are taken, running ones get ShutdownTimeout to finish, and Asynq puts the
// unfinished ones back in their queue for another worker (with the same
// retry count: an interrupted task is not a failed one). It then cancels
// their handlers, which stop ffmpeg and return without touching the
// statement, and waits for them: at most ShutdownTimeout plus ffmpeg's
// exit grace (media.WaitDelay) and a few seconds.
func (w *Worker) Run(ctx context.Context) error {
	if n := cleanWorkDir(w.cfg.WorkDir, time.Hour); n > 0 {
		w.log.Info("removed work directories left by a stopped worker", "count", n)
	}
	mux := w.Handler()
	newServer := func(queue string, n int) *asynq.Server {
		return asynq.NewServer(w.redis, asynq.Config{
			Concurrency:     n,
			Queues:          map[string]int{queue: 1},
			Logger:          asynqlog.Logger{L: w.log.With("queue", queue)},
			LogLevel:        asynq.WarnLevel,
			ShutdownTimeout: w.cfg.ShutdownTimeout,
			RetryDelayFunc:  retryDelay,
			IsFailure:       isFailure,
			ErrorHandler:    asynq.ErrorHandlerFunc(w.handleError),
			BaseContext:     func() context.Context { return context.WithoutCancel(ctx) },
		})
	}
	servers := []*asynq.Server{newServer(QueueTranscode, w.cfg.Concurrency), newServer(QueueShort, w.cfg.ShortConcurrency)}
	for _, s := range servers {
		if err := s.Start(mux); err != nil {
			for _, s := range servers {
				s.Shutdown()
			}
			return fmt.Errorf("worker: start: %w", err)
		}
	}
	w.log.Info("workers started", "transcode_concurrency", w.cfg.Concurrency, "short_concurrency", w.cfg.ShortConcurrency)
	<-ctx.Done()
	for _, s := range servers {
		s.Stop() // stop taking tasks on both before waiting on either
	}
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Go(s.Shutdown) // concurrently: the bound is one ShutdownTimeout
	}
	wg.Wait()
	done := make(chan struct{})
	go func() {
		w.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		w.log.Info("workers stopped")
	case <-time.After(media.WaitDelay + 5*time.Second):
		w.log.Warn("workers stopped with handlers still running")
	}
	return nil
}

// errBusy is returned by a task that found its country's playlist being
// rebuilt by another worker; it is retried soon and not counted a failure.
var errBusy = errors.New("busy: another worker holds the lock")

func retryDelay(n int, err error, t *asynq.Task) time.Duration {
	// A lock held elsewhere clears in a moment; a lease that expired means
	// the worker died, and its task has already waited a minute for
	// Asynq's recoverer: run it again at once.
	if errors.Is(err, errBusy) || errors.Is(err, asynq.ErrLeaseExpired) {
		return time.Second
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

// cleanWorkDir removes the transcode directories under dir in which
// nothing has changed for idle: what a killed worker left behind. (A live
// transcode writes a segment every few seconds.)
func cleanWorkDir(dir string, idle time.Duration) int {
	entries, _ := filepath.Glob(filepath.Join(dir, "transcode-*"))
	n := 0
	for _, e := range entries {
		newest := time.Time{}
		filepath.WalkDir(e, func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if info, err := d.Info(); err == nil && info.ModTime().After(newest) {
				newest = info.ModTime()
			}
			return nil
		})
		if time.Since(newest) > idle && os.RemoveAll(e) == nil {
			n++
		}
	}
	return n
}
