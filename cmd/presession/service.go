package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/metrics"
	"github.com/uprinfo/presession/playlist"
	"github.com/uprinfo/presession/review"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/upload"
	"github.com/uprinfo/presession/web"
	"github.com/uprinfo/presession/worker"
)

// roles says which parts of the service a process runs.
type roles struct{ http, workers bool }

// runService starts the configured roles and blocks until ctx is done,
// then shuts them down gracefully.
func runService(ctx context.Context, cfg config.Config, log *slog.Logger, stderr io.Writer, r roles) error {
	if err := cfg.LoadSecrets(); err != nil {
		return configError{err}
	}
	sessions, err := loadSessions(cfg)
	if err != nil {
		return err
	}
	if cfg.Embedded() || cfg.EmbeddedStorage() {
		log.Info("running on the embedded default: "+embeddedWhat(cfg)+"; set REDIS_URL and S3_ENDPOINT (see README) to use real Redis and S3",
			"data_dir", cfg.DataDir)
	} else {
		log.Info("running on Redis and S3", "redis", cfg.Redis.Addr, "s3", cfg.S3.Endpoint, "bucket", cfg.S3.Bucket)
	}
	if cfg.GeneratedStaffToken {
		fmt.Fprintf(stderr, "\n  Staff token (shown once; also saved in %s/staff-token):\n  %s\n\n", cfg.DataDir, cfg.StaffToken.Reveal())
	}

	redisOpts := cfg.Redis
	if cfg.Embedded() {
		m, err := startEmbeddedRedis()
		if err != nil {
			return fmt.Errorf("start embedded redis: %w", err)
		}
		defer m.Close()
		redisOpts = &redis.Options{Addr: m.Addr()}
	}
	rdb := redis.NewClient(redisOpts)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("REDIS_URL: cannot reach Redis at %s: %w", redisOpts.Addr, err)
	}

	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	queueOpt := asynq.RedisClientOpt{Network: redisOpts.Network, Addr: redisOpts.Addr, Username: redisOpts.Username,
		Password: redisOpts.Password, DB: redisOpts.DB, TLSConfig: redisOpts.TLSConfig}
	queue := worker.NewClient(queueOpt, rdb, keyPrefix)
	defer queue.Close()
	cat := catalog.New(rdb, catalog.StorageBlobs(store), catalog.WithPrefix(keyPrefix),
		catalog.WithPlaylistHook(func(ctx context.Context, session, country string) {
			if err := queue.EnqueuePlaylist(ctx, session, country); err != nil {
				log.Error("queue playlist rebuild", "session", session, "country", country, "err", err)
			}
		}))
	if cfg.Embedded() {
		// The in-process Redis starts empty: storage is the record of truth.
		n, err := cat.Reindex(ctx)
		if err != nil {
			return fmt.Errorf("rebuild the catalog from storage: %w", err)
		}
		log.Info("catalog rebuilt from storage", "statements", n)
	} else if err := cat.Sync(ctx); err != nil {
		return fmt.Errorf("write pending catalog changes to storage: %w", err)
	}

	signer := token.NewSigner([]byte(cfg.Secret.Reveal()))
	bundle, err := i18n.Load()
	if err != nil {
		return err
	}
	auth := &web.Auth{Signer: signer, StaffToken: cfg.StaffToken.Reveal()}
	site, err := web.NewSite(sessions, bundle, auth, log)
	if err != nil {
		return err
	}

	// One registry per process. Every process reports its own work and
	// runtime; the cluster-wide gauges (statements per status, Asynq's
	// queues) come from the HTTP roles only, so N workers don't multiply
	// the catalog and queue scans.
	reg := prometheus.NewRegistry()
	if err := registerAll(reg, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return err
	}
	var processing *metrics.Processing
	if r.workers {
		processing = metrics.NewProcessing(worker.TaskTypes()...)
		if err := reg.Register(processing); err != nil {
			return err
		}
	}
	uploadMetrics := metrics.NewUploads()
	if r.http {
		inspector := asynq.NewInspector(queueOpt)
		defer inspector.Close()
		if err := registerAll(reg, uploadMetrics, metrics.NewStatements(cat),
			metrics.Cached(asynqmetrics.NewQueueMetricsCollector(inspector), queueMetricsInterval)); err != nil {
			return err
		}
	}

	errc := make(chan error, 2)
	var workersDone chan struct{}
	if r.workers {
		if err := os.MkdirAll(cfg.WorkDir(), 0o750); err != nil {
			return configError{fmt.Errorf("PRESESSION_DATA_DIR: %v", err)}
		}
		w := worker.New(worker.Config{Concurrency: cfg.Concurrency, WorkDir: cfg.WorkDir(), KeyPrefix: keyPrefix,
			ShutdownTimeout: cfg.ShutdownTimeout, Metrics: processing}, queueOpt, rdb, queue, cat, store,
			&playlist.Rebuilder{Sessions: sessions, Catalog: cat, Store: store, Log: log}, sessions, log)
		workersDone = make(chan struct{})
		go func() {
			defer close(workersDone)
			if err := w.Run(ctx); err != nil {
				errc <- err
			}
		}()
		if err := reconcile(ctx, cat, queue, sessions, log); err != nil {
			log.Error("reconcile at start", "err", err)
		}
	}
	// The HTTP roles serve everything; a worker-only process serves its
	// health and metrics on the same address, for orchestrators' checks
	// and Prometheus.
	mux := http.NewServeMux()
	healthz, readyz := site.Health([]web.Check{
		{Name: "redis", Fn: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		{Name: "storage", Fn: store.Ping},
		web.BinaryCheck("ffmpeg"), web.BinaryCheck("ffprobe"),
	})
	mux.Handle("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyz)
	mux.Handle("GET /metrics", metrics.Handler(reg, log))
	var up *upload.Service
	if r.http {
		home, err := site.Home()
		if err != nil {
			return err
		}
		mux.Handle("GET /{$}", home)
		mux.Handle("GET /static/", web.Static())
		play, err := playlist.NewHandler(site, store, cat)
		if err != nil {
			return err
		}
		play.Register(mux)
		rev, err := review.New(site, cat, &token.Issuer{Signer: signer, Sessions: sessions, PublicURL: cfg.PublicURL}, store, log)
		if err != nil {
			return err
		}
		rev.Register(mux)
		up, err = upload.New(upload.Config{
			MaxUploadBytes: cfg.MaxUploadBytes, MaxStatementsPerInvitation: cfg.MaxStatementsPerInvitation,
			AbandonedUploadAge: cfg.AbandonedUploadAge, S3: cfg.S3, StorageDir: cfg.StorageDir(),
			S3Tuning:    upload.S3Tuning{TempDir: filepath.Join(cfg.WorkDir(), "uploads")},
			RedisPrefix: keyPrefix + "upload:", PublicURL: uploadBase(cfg),
		}, upload.Deps{Sessions: sessions, Signer: signer, Statements: uploadStatements{cat}, Processor: queue,
			Redis: rdb, Logger: log, Metrics: uploadMetrics, Localizer: site})
		if err != nil {
			return err
		}
		defer up.Close()
		if err := up.Routes(mux, site); err != nil {
			return err
		}
		go func() {
			if err := up.Run(ctx); err != nil {
				errc <- err
			}
		}()
		mux.Handle("/", home) // everything unknown: a 404 in the site's shape
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return configError{fmt.Errorf("PRESESSION_ADDR: cannot listen on %s: %v", cfg.Addr, err)}
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	if r.http {
		log.Info("listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)
	} else {
		log.Info("serving /healthz, /readyz and /metrics", "addr", ln.Addr().String())
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()

	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	case err := <-errc:
		return err
	}
	// The workers stop taking tasks as ctx ends (worker.Run); meanwhile
	// the HTTP server stops accepting and lets in-flight requests finish,
	// both within ShutdownTimeout. A worker-only process keeps answering
	// health and metrics until its workers are done.
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if r.http {
		if err := srv.Shutdown(sctx); err != nil {
			// Uploads still sending at the timeout stop as at a tusd
			// shutdown: each stores what it received, so its client
			// resumes from there, and releases its upload lock.
			up.Interrupt()
			gctx, gcancel := context.WithTimeout(context.Background(), uploadCheckpointGrace)
			err = srv.Shutdown(gctx)
			gcancel()
			if err != nil {
				log.Warn("http shutdown: requests cut at the timeout", "err", err)
			} else {
				log.Info("http shutdown: uploads still sending at the timeout were stopped at their current offset")
			}
		}
	}
	if workersDone != nil {
		<-workersDone // bounded by ShutdownTimeout and ffmpeg's exit (worker.Run)
	}
	if !r.http {
		srv.Close()
	}
	log.Info("stopped")
	return nil
}

// uploadBase is the base of the upload URLs the tus endpoint hands out:
// PRESESSION_PUBLIC_URL when it was set; else "", so they follow the
// request's Host (the default public URL is a guess for printed links, and
// a client that reached the service at another address must be able to
// continue its upload there).
func uploadBase(cfg config.Config) string {
	if cfg.PublicURLSet {
		return cfg.PublicURL
	}
	return ""
}

// uploadCheckpointGrace bounds how long a stop waits, after its timeout,
// for interrupted uploads to store what they received.
const uploadCheckpointGrace = 5 * time.Second

// queueMetricsInterval bounds the Asynq queue scan to one per interval,
// however many scrapers ask.
const queueMetricsInterval = 15 * time.Second

func registerAll(reg *prometheus.Registry, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	return nil
}

// keyPrefix prefixes the service's own Redis keys (Asynq keeps its own).
const keyPrefix = "presession:"

// reconcile re-queues what a stop may have left behind: statements still
// uploaded or processing (their task IDs make this a no-op when a task is
// live), and a rebuild of every country's playlist.
func reconcile(ctx context.Context, cat *catalog.Catalog, queue *worker.Client, sessions *presession.Sessions, log *slog.Logger) error {
	stale, err := cat.Stale(ctx)
	if err != nil {
		return err
	}
	for _, st := range stale {
		if err := queue.EnqueueProcess(ctx, st.ID); err != nil {
			return err
		}
	}
	n := 0
	for _, s := range sessions.List {
		for _, c := range s.Countries {
			if err := queue.EnqueuePlaylist(ctx, s.ID, c.Code); err != nil {
				return err
			}
			n++
		}
	}
	log.Info("reconciled", "requeued_statements", len(stale), "playlists", n)
	return nil
}

func embeddedWhat(cfg config.Config) string {
	switch {
	case cfg.Embedded() && cfg.EmbeddedStorage():
		return "in-process Redis and storage in " + cfg.StorageDir()
	case cfg.Embedded():
		return "in-process Redis"
	default:
		return "storage in " + cfg.StorageDir()
	}
}

// runReindex rebuilds the catalog in Redis from storage alone. Run it with
// the service stopped (or at least with no staff changes under way).
func runReindex(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	if cfg.Embedded() {
		return usageError{"reindex needs REDIS_URL: on the embedded default the catalog is rebuilt from storage at every start"}
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(cfg.Redis)
	defer rdb.Close()
	n, err := catalog.New(rdb, catalog.StorageBlobs(store)).Reindex(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reindexed %d statements from storage\n", n)
	return nil
}
