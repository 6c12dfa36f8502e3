package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/storage"
)

// Catalog is what the worker needs of the statement catalog.
type Catalog interface {
	Get(ctx context.Context, id string) (*presession.Statement, error)
	Transition(ctx context.Context, id string, to presession.Status, actor, reason string) (*presession.Statement, error)
	Update(ctx context.Context, id string, fn func(*presession.Statement) error) (*presession.Statement, error)
	SetProgress(ctx context.Context, id string, pct float64) error
}

// Store is what the worker needs of storage.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, o storage.PutOptions) error
	PutFile(ctx context.Context, key, path string, o storage.PutOptions) error
	URL(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// Rebuilder rebuilds a country's playlist from the catalog.
type Rebuilder interface {
	Rebuild(ctx context.Context, session, country string) error
}

// Config holds the worker's settings.
type Config struct {
	Concurrency      int    // transcodes at once (WORKER_CONCURRENCY)
	ShortConcurrency int    // probes and playlist rebuilds at once; default 4
	WorkDir          string // per-task temporary directories go here
	KeyPrefix        string // Redis key prefix of the worker's own keys
	ShutdownTimeout  time.Duration
	Preset           string // x264 preset; default from media
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

	// transcodeHook, when set, is called after each transcode execution
	// (tests count executions with it).
	transcodeHook func(id string)
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
	return &Worker{cfg: cfg, redis: opt, rdb: rdb, client: client, catalog: cat, store: store, rebuild: rebuild,
		sessions: sessions, log: log}
}

// Handler returns the task mux of every task type.
func (w *Worker) Handler() *asynq.ServeMux {
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeProbe, w.handleProbe)
	mux.HandleFunc(TypeTranscode, w.handleTranscode)
	mux.HandleFunc(TypePlaylist, w.handlePlaylist)
	return mux
}

// Run serves both queues until ctx is done, then shuts down: no new tasks
// are taken, running ones get ShutdownTimeout to finish, and Asynq puts the
// unfinished ones back in their queue for another worker.
func (w *Worker) Run(ctx context.Context) error {
	mux := w.Handler()
	newServer := func(queue string, n int) *asynq.Server {
		return asynq.NewServer(w.redis, asynq.Config{
			Concurrency:     n,
			Queues:          map[string]int{queue: 1},
			Logger:          asynqLogger{w.log.With("queue", queue)},
			LogLevel:        asynq.WarnLevel,
			ShutdownTimeout: w.cfg.ShutdownTimeout,
			RetryDelayFunc:  retryDelay,
			IsFailure:       func(err error) bool { return !errors.Is(err, errBusy) },
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
	for _, s := range servers {
		s.Shutdown()
	}
	w.log.Info("workers stopped")
	return nil
}

// errBusy is returned by a task that found its country's playlist being
// rebuilt by another worker; it is retried soon and not counted a failure.
var errBusy = errors.New("busy: another worker holds the lock")

func retryDelay(n int, err error, t *asynq.Task) time.Duration {
	if errors.Is(err, errBusy) {
		return time.Second
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

// asynqLogger adapts slog to Asynq's Logger.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
