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
	"github.com/uprinfo/presession/audit"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/desk"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/metrics"
	"github.com/uprinfo/presession/notify"
	"github.com/uprinfo/presession/passkey"
	"github.com/uprinfo/presession/people"
	"github.com/uprinfo/presession/playlist"
	"github.com/uprinfo/presession/programme"
	"github.com/uprinfo/presession/review"
	"github.com/uprinfo/presession/staff"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/upload"
	"github.com/uprinfo/presession/web"
	"github.com/uprinfo/presession/webhook"
	"github.com/uprinfo/presession/worker"
)

// roles says which parts of the service a process runs.
type roles struct{ http, workers bool }

// runService starts the configured roles and blocks until ctx is done,
// then shuts them down gracefully. In order: build the parts, start the
// workers, register the routes (starting upload's background work), serve
// HTTP; at the end stop, then release the parts.
func runService(ctx context.Context, cfg config.Config, log *slog.Logger, stderr io.Writer, r roles) error {
	p, err := build(ctx, cfg, log, stderr, r)
	defer p.close()
	if err != nil {
		return err
	}
	errc := make(chan error, 2)
	var workersDone <-chan struct{}
	if r.workers {
		if workersDone, err = p.startWorkers(ctx, errc); err != nil {
			return err
		}
	}
	mux, up, err := p.routes(ctx, errc)
	if err != nil {
		return err
	}
	srv, err := p.listen(mux, errc)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", p.cfg.ShutdownTimeout)
	case err := <-errc:
		return err
	}
	p.stop(srv, up, workersDone)
	log.Info("stopped")
	return nil
}

// parts are the components a service process is made of, built once by
// build and shared by the roles that use them.
type parts struct {
	cfg        config.Config // its secrets loaded
	log        *slog.Logger
	roles      roles
	sessions   *presession.Sessions
	rdb        *redis.Client
	queueOpt   asynq.RedisClientOpt
	queue      *worker.Client
	store      storage.Store
	cat        *catalog.Catalog
	audit      *audit.Log
	staff      *staff.Directory
	signer     *token.Signer
	site       *web.Site
	reg        *prometheus.Registry
	processing *metrics.Processing // nil unless the process runs workers
	uploads    *metrics.Uploads
	mediaCache *metrics.MediaCache // nil unless the process serves HTTP
	webhooks   *webhook.Registry
	hooks      *webhook.Client // queues webhook deliveries
	notify     *notify.Service // queues mail from occurrences; sends it in worker processes
	closers    []func()        // what close releases, the last acquired first

	programme *programme.Store // staff's changes to the programme over the sessions file's slots
}

// onClose adds f to what close releases.
func (p *parts) onClose(f func()) { p.closers = append(p.closers, f) }

// close releases what the parts hold, in the reverse order of acquiring.
func (p *parts) close() {
	for i := len(p.closers) - 1; i >= 0; i-- {
		p.closers[i]()
	}
}

// build makes the parts of a process running roles r: it logs what the
// service runs on (its first log line) and prints a staff token it
// generated, connects Redis and storage, brings the catalog up to date
// and registers the metrics. The parts it returns, also with an error,
// must be closed.
func build(ctx context.Context, cfg config.Config, log *slog.Logger, stderr io.Writer, r roles) (*parts, error) {
	p := &parts{log: log, roles: r}
	if err := cfg.LoadSecrets(); err != nil {
		return p, configError{err}
	}
	p.cfg = cfg
	sessions, err := loadSessions(cfg)
	if err != nil {
		return p, err
	}
	p.sessions = sessions
	announce(cfg, log, stderr)
	if err := p.connect(ctx); err != nil {
		return p, err
	}
	if err := p.openCatalog(ctx); err != nil {
		return p, err
	}

	signer := token.NewSigner(cfg.SecretKeys()...)
	bundle, err := i18n.Load()
	if err != nil {
		return p, err
	}
	auth := &web.Auth{Signer: signer, StaffToken: cfg.StaffToken.Reveal(), PublicURL: givenPublicURL(cfg),
		Directory:      p.staff,
		SignIns:        web.NewThrottle(p.rdb, keyPrefix, "signin", web.SignInMaxFailures, web.SignInWindow),
		AccountSignIns: web.NewThrottle(p.rdb, keyPrefix, "signin", web.SignInAccountMaxFailures, web.SignInWindow),
		TrustedProxies: cfg.TrustedProxies, Revocations: p.cat}
	site, err := web.NewSite(sessions, bundle, auth, log)
	if err != nil {
		return p, err
	}
	site.MediaOrigin = cfg.S3.BrowserOrigin()
	site.Audit = p.audit
	p.signer, p.site = signer, site
	if err := p.newNotify(); err != nil {
		return p, err
	}
	return p, p.registerMetrics()
}

// announce logs what the service runs on and prints a generated staff
// token, once.
func announce(cfg config.Config, log *slog.Logger, stderr io.Writer) {
	if cfg.Embedded() || cfg.EmbeddedStorage() {
		log.Info("running on the embedded default: "+embeddedWhat(cfg)+"; set REDIS_URL and S3_ENDPOINT (see README) to use real Redis and S3",
			"data_dir", cfg.DataDir, buildAttrs())
	} else {
		log.Info("running on Redis and S3", "redis", cfg.Redis.Addr, "s3", cfg.S3.Endpoint, "bucket", cfg.S3.Bucket, buildAttrs())
	}
	if cfg.GeneratedStaffToken {
		fmt.Fprintf(stderr, "\n  Staff token (shown once; also saved in %s/staff-token):\n  %s\n\n", cfg.DataDir, cfg.StaffToken.Reveal())
	}
}

// connect reaches Redis (starting the in-process one on the embedded
// default) and storage, and makes the task queue's client.
func (p *parts) connect(ctx context.Context) error {
	redisOpts := p.cfg.Redis
	if p.cfg.Embedded() {
		m, err := startEmbeddedRedis()
		if err != nil {
			return fmt.Errorf("start embedded redis: %w", err)
		}
		p.onClose(m.Close)
		redisOpts = &redis.Options{Addr: m.Addr()}
	}
	rdb := redis.NewClient(redisOpts)
	p.rdb = rdb
	p.onClose(func() { rdb.Close() })
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("REDIS_URL: cannot reach Redis at %s: %w", redisOpts.Addr, err)
	}

	store, err := openStore(ctx, p.cfg)
	if err != nil {
		return err
	}
	p.store = store
	p.queueOpt = queueOpt(redisOpts)
	queue := worker.NewClient(p.queueOpt, rdb, keyPrefix)
	p.queue = queue
	p.onClose(func() { queue.Close() })
	p.webhooks = webhook.NewRegistry(rdb, store, keyPrefix)
	hooks := webhook.NewClient(p.queueOpt, p.webhooks, p.log)
	p.hooks = hooks
	p.onClose(func() { hooks.Close() })
	return nil
}

// queueOpt is Asynq's connection to the Redis of ro.
func queueOpt(ro *redis.Options) asynq.RedisClientOpt {
	return asynq.RedisClientOpt{Network: ro.Network, Addr: ro.Addr, Username: ro.Username,
		Password: ro.Password, DB: ro.DB, TLSConfig: ro.TLSConfig}
}

// occurred is the occurrence hook of the catalog and of the workers'
// playlist rebuilds: it queues the webhook deliveries and the mail. Each
// is bounded and logs its own failure.
func (p *parts) occurred(ctx context.Context, o presession.Occurrence) {
	p.hooks.Occurred(ctx, o)
	if p.notify != nil { // made after the catalog; set before anything is told
		p.notify.Occurred(ctx, o)
	}
}

// openCatalog makes the catalog, whose playlist changes queue rebuilds,
// and brings it up to date with storage: rebuilt from it on the embedded
// default, else with the changes a stop left undurable written to it.
func (p *parts) openCatalog(ctx context.Context) error {
	queue, log := p.queue, p.log
	cat := catalog.New(p.rdb, catalog.StorageBlobs(p.store), catalog.WithPrefix(keyPrefix),
		catalog.WithPlaylistHook(func(ctx context.Context, session, country string) {
			if err := queue.EnqueuePlaylist(ctx, session, country); err != nil {
				log.Error("queue playlist rebuild", "session", session, "country", country, "err", err)
			}
		}),
		catalog.WithOccurrenceHook(p.occurred))
	p.cat = cat
	p.audit = audit.New(p.rdb, catalog.StorageBlobs(p.store), keyPrefix)
	if p.cfg.Embedded() {
		// The in-process Redis starts empty: storage is the record of truth.
		n, err := cat.Reindex(ctx)
		if err != nil {
			return fmt.Errorf("rebuild the catalog from storage: %w", err)
		}
		log.Info("catalog rebuilt from storage", "statements", n)
		if n, err = p.audit.Reindex(ctx); err != nil {
			return fmt.Errorf("rebuild the audit trail from storage: %w", err)
		}
		log.Info("audit trail rebuilt from storage", "entries", n)
	} else if err := cat.Sync(ctx); err != nil {
		return fmt.Errorf("write pending catalog changes to storage: %w", err)
	}
	if _, err := p.webhooks.Restore(ctx); err != nil {
		return fmt.Errorf("restore the webhooks from storage: %w", err)
	}
	p.staff = newDirectory(p.rdb, p.store, p.cfg)
	// An empty Redis (the in-process one at every start, a real one that
	// lost its data) gets the staff directory back from storage.
	if n, restored, err := p.staff.Restore(ctx); err != nil {
		return fmt.Errorf("restore the staff directory from storage: %w", err)
	} else if restored {
		log.Info("staff directory rebuilt from storage", "records", n)
	}
	p.programme = programme.NewStore(p.rdb, catalog.StorageBlobs(p.store), keyPrefix, p.sessions, nil)
	if p.cfg.Embedded() {
		if _, err := p.programme.Reindex(ctx); err != nil {
			return fmt.Errorf("restore the programme from storage: %w", err)
		}
	}
	return nil
}

// newDirectory is the staff directory on rdb, durable in store.
func newDirectory(rdb redis.UniversalClient, store storage.Store, cfg config.Config) *staff.Directory {
	return staff.New(rdb, staff.StorageBlobs(store), staff.Config{Prefix: keyPrefix, PublicURL: cfg.PublicURL,
		StaffToken: cfg.StaffToken.Reveal()})
}

// registerMetrics makes the process's registry, one per process. Every
// process reports its own work and runtime; the cluster-wide gauges
// (statements per status, Asynq's queues) come from the HTTP roles only,
// so N workers don't multiply the catalog and queue scans.
func (p *parts) registerMetrics() error {
	reg := prometheus.NewRegistry()
	p.reg = reg
	if err := registerAll(reg, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return err
	}
	if p.roles.workers {
		p.processing = metrics.NewProcessing(worker.TaskTypes()...)
		if err := reg.Register(p.processing); err != nil {
			return err
		}
	}
	p.uploads = metrics.NewUploads()
	if p.roles.http {
		inspector := asynq.NewInspector(p.queueOpt)
		p.onClose(func() { inspector.Close() })
		p.mediaCache = metrics.NewMediaCache(p.cfg.MediaCacheBytes)
		return registerAll(reg, p.uploads, p.mediaCache, metrics.NewStatements(p.cat),
			metrics.Cached(asynqmetrics.NewQueueMetricsCollector(inspector), queueMetricsInterval))
	}
	return nil
}

// startWorkers runs the task queues' workers until ctx is done (the
// returned channel closes when they have stopped; an error goes to errc)
// and requeues what a stop may have left behind.
func (p *parts) startWorkers(ctx context.Context, errc chan<- error) (<-chan struct{}, error) {
	cfg := p.cfg
	if err := os.MkdirAll(cfg.WorkDir(), 0o750); err != nil {
		return nil, configError{fmt.Errorf("PRESESSION_DATA_DIR: %v", err)}
	}
	w := worker.New(worker.Config{Concurrency: cfg.Concurrency, WorkDir: cfg.WorkDir(), KeyPrefix: keyPrefix,
		ShutdownTimeout: cfg.ShutdownTimeout, Metrics: p.processing, Occurred: p.occurred}, p.queueOpt, p.rdb, p.queue, p.cat, p.store,
		&playlist.Rebuilder{Sessions: p.sessions, Catalog: p.cat, Store: p.store, Log: p.log}, p.sessions, p.log)
	deliveries := webhook.NewServer(webhook.ServerConfig{ShutdownTimeout: cfg.ShutdownTimeout}, p.queueOpt, p.webhooks,
		p.guard(), p.log)
	workersDone := make(chan struct{})
	mailDone := make(chan struct{})
	go func() {
		defer close(workersDone)
		delivered := make(chan struct{})
		go func() {
			defer close(delivered)
			if err := deliveries.Run(ctx); err != nil {
				select {
				case errc <- err:
				default: // another part's error stops the process already
					p.log.Error("webhook queue", "err", err)
				}
			}
		}()
		if err := w.Run(ctx); err != nil {
			errc <- err
		}
		<-delivered
		<-mailDone
	}()
	go func() {
		defer close(mailDone)
		if err := p.notify.Run(ctx); err != nil {
			select {
			case errc <- err:
			default: // another part's error stops the process already
				p.log.Error("mail queue", "err", err)
			}
		}
	}()
	if err := reconcile(ctx, p.cat, p.queue, p.sessions, p.log); err != nil {
		p.log.Error("reconcile at start", "err", err)
	}
	return workersDone, nil
}

// routes registers the process's routes on a new mux. The HTTP roles
// serve everything; a worker-only process serves its health and metrics
// on the same address, for orchestrators' checks and Prometheus. The
// upload service (nil without the HTTP roles) starts its background work
// until ctx is done; an error goes to errc.
func (p *parts) routes(ctx context.Context, errc chan<- error) (*http.ServeMux, *upload.Service, error) {
	mux := http.NewServeMux()
	rdb, site := p.rdb, p.site
	healthz, readyz := site.Health([]web.Check{
		{Name: "redis", Fn: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
		{Name: "storage", Fn: p.store.Ping},
		web.BinaryCheck("ffmpeg").Cached(binaryCheckTTL), web.BinaryCheck("ffprobe").Cached(binaryCheckTTL),
	})
	mux.Handle("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyz)
	mux.Handle("GET /metrics", metrics.Handler(p.reg, p.log))
	if !p.roles.http {
		return mux, nil, nil
	}
	home, err := site.Home()
	if err != nil {
		return nil, nil, err
	}
	mux.Handle("GET /{$}", home)
	mux.Handle("GET /static/", web.Static())
	play, err := playlist.NewHandler(site, p.store, catalog.NewViews(p.cat))
	if err != nil {
		return nil, nil, err
	}
	var cacheMetrics playlist.CacheMetrics
	if p.mediaCache != nil {
		cacheMetrics = p.mediaCache
	}
	play.Media = playlist.NewMediaCache(p.cfg.MediaCacheBytes, cacheMetrics)
	// The premieres and the programme: slots as staff left them, a slot
	// too short for the country's approved statements refused, viewers
	// counted in Redis.
	audience := programme.NewAudience(p.rdb, keyPrefix, nil)
	p.programme.Approved = func(ctx context.Context, session, country string) (float64, error) {
		_, secs, err := play.Approved(ctx, session, country)
		return secs, err
	}
	play.WithSlots(p.programme).WithAudience(audience)
	play.Register(mux)
	prog, err := programme.NewHandler(site, p.programme, p.cfg.PublicURL, play, premiereOnAir{play}, audience)
	if err != nil {
		return nil, nil, err
	}
	site.Programme = prog
	prog.Register(mux)
	claims := desk.NewClaims(p.rdb, keyPrefix, 0)
	rev, err := review.New(site, p.cat, &token.Issuer{Signer: p.signer, Sessions: p.sessions, PublicURL: p.cfg.PublicURL,
		MaxViewerValidity: p.cfg.MaxViewerLinkValidity}, p.store, p.log, review.WithWebhooks(p.webhooks), review.WithNames(p.staff),
		review.WithClaims(claims))
	if err != nil {
		return nil, nil, err
	}
	rev.Register(mux)
	// The review desk: the queue in programme order, each reviewer's
	// statement claimed in Redis.
	dsk, err := desk.New(site, desk.NewQueue(p.cat, p.programme, claims, p.sessions), p.staff, p.log)
	if err != nil {
		return nil, nil, err
	}
	dsk.Register(mux)
	pplOpts := []people.Option{people.WithMinPasswordLength(staff.MinPasswordLength)}
	if p.cfg.SMTP.Host != "" {
		sender := mailSender(p.cfg, p.log)
		pplOpts = append(pplOpts, people.WithMail(func(ctx context.Context, lm people.LinkMail) error {
			return sender.Send(ctx, staffLinkMail(site.Bundle, lm.Member, lm.Link, lm.Lang))
		}))
	}
	ppl, err := people.New(site, p.staff, p.log, pplOpts...)
	if err != nil {
		return nil, nil, err
	}
	ppl.Register(mux)
	keys, err := passkey.New(site, p.staff, p.rdb, passkey.Config{Prefix: keyPrefix})
	if err != nil {
		return nil, nil, err
	}
	keys.Register(mux)
	site.Auth.SecondFactor = keys.SecondFactor // a member with passkeys signs in with one after the password
	(&webhook.API{Site: site, Registry: p.webhooks, Guard: p.guard()}).Register(mux)
	trail, err := audit.NewAPI(site, p.audit)
	if err != nil {
		return nil, nil, err
	}
	trail.Register(mux)
	up, err := p.newUpload()
	if err != nil {
		return nil, nil, err
	}
	p.onClose(func() { up.Close() })
	if err := up.Routes(mux, site); err != nil {
		return nil, nil, err
	}
	go func() {
		if err := up.Run(ctx); err != nil {
			errc <- err
		}
	}()
	mux.Handle("/", home) // everything unknown: a 404 in the site's shape
	return mux, up, nil
}

// guard is where webhooks may connect: public addresses, and private ones
// when PRESESSION_WEBHOOK_ALLOW_PRIVATE says so.
func (p *parts) guard() *webhook.Guard {
	return &webhook.Guard{AllowPrivate: p.cfg.WebhookAllowPrivate}
}

// newUpload makes the tus upload service.
func (p *parts) newUpload() (*upload.Service, error) {
	cfg := p.cfg
	return upload.New(upload.Config{
		MaxUploadBytes: cfg.MaxUploadBytes, MaxStatementsPerInvitation: cfg.MaxStatementsPerInvitation,
		MaxUploadsPerInvitation: cfg.MaxStatementsPerInvitation + cfg.MaxRetriesPerInvitation, MaxInvitationBytes: cfg.MaxInvitationBytes,
		AbandonedUploadAge: cfg.AbandonedUploadAge, FailedRetention: cfg.FailedRetention, S3: cfg.S3, StorageDir: cfg.StorageDir(),
		S3Tuning: upload.S3Tuning{TempDir: filepath.Join(cfg.WorkDir(), "uploads")}, ExamineDir: filepath.Join(cfg.WorkDir(), "examine"),
		RedisPrefix: keyPrefix + "upload:", PublicURL: givenPublicURL(cfg),
	}, upload.Deps{Sessions: p.sessions, Signer: p.signer, Statements: uploadStatements{p.cat}, Processor: p.queue,
		Redis: p.rdb, Logger: p.log, Metrics: p.uploads, Localizer: p.site, Revocations: p.cat, Captions: p.store})
}

// listen opens PRESESSION_ADDR and serves mux on it; an error of the
// server goes to errc.
func (p *parts) listen(mux *http.ServeMux, errc chan<- error) (*http.Server, error) {
	ln, err := net.Listen("tcp", p.cfg.Addr)
	if err != nil {
		return nil, configError{fmt.Errorf("PRESESSION_ADDR: cannot listen on %s: %v", p.cfg.Addr, err)}
	}
	// Every body but tus's is bounded in time and size; the caption
	// upload is the one that may be larger than a form.
	bodies := web.Bodies{Timeout: p.cfg.RequestBodyTimeout, Max: web.MaxBody, Log: p.log, Limits: map[string]int64{
		"/files/":           -1, // tus: its own network timeout and upload size
		review.CaptionRoute: review.MaxCaptionBytes,
		upload.CaptionRoute: upload.MaxCaptionBytes,
	}}
	srv := &http.Server{Handler: bodies.Handler(mux), ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(p.log.Handler(), slog.LevelWarn)}
	if p.roles.http {
		p.log.Info("listening", "addr", ln.Addr().String(), "public_url", p.cfg.PublicURL)
	} else {
		p.log.Info("serving /healthz, /readyz and /metrics", "addr", ln.Addr().String())
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	return srv, nil
}

// stop shuts down what runs once ctx is done. The workers stop taking
// tasks as ctx ends (worker.Run); meanwhile the HTTP server stops
// accepting and lets in-flight requests finish, both within
// ShutdownTimeout. A worker-only process keeps answering health and
// metrics until its workers are done.
func (p *parts) stop(srv *http.Server, up *upload.Service, workersDone <-chan struct{}) {
	if p.roles.http {
		p.shutdownHTTP(srv, up)
	}
	if workersDone != nil {
		<-workersDone // bounded by ShutdownTimeout and ffmpeg's exit (worker.Run)
	}
	if !p.roles.http {
		srv.Close()
	}
}

// shutdownHTTP stops the HTTP server within ShutdownTimeout.
func (p *parts) shutdownHTTP(srv *http.Server, up *upload.Service) {
	sctx, cancel := context.WithTimeout(context.Background(), p.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		// Uploads still sending at the timeout stop as at a tusd
		// shutdown: each stores what it received, so its client
		// resumes from there, and releases its upload lock.
		up.Interrupt()
		gctx, gcancel := context.WithTimeout(context.Background(), uploadCheckpointGrace)
		err = srv.Shutdown(gctx)
		gcancel()
		if err != nil {
			p.log.Warn("http shutdown: requests cut at the timeout", "err", err)
		} else {
			p.log.Info("http shutdown: uploads still sending at the timeout were stopped at their current offset")
		}
	}
}

// givenPublicURL is PRESESSION_PUBLIC_URL when it was set, else "". It is
// the base of the upload URLs the tus endpoint hands out, and the site's
// origin for the same-origin check; without it both follow the request's
// Host (the default public URL is a guess for printed links, and a client
// that reached the service at another address must be able to continue
// its upload there).
func givenPublicURL(cfg config.Config) string {
	if cfg.PublicURLSet {
		return cfg.PublicURL
	}
	return ""
}

// uploadCheckpointGrace bounds how long a stop waits, after its timeout,
// for interrupted uploads to store what they received.
const uploadCheckpointGrace = 5 * time.Second

// binaryCheckTTL is how long /readyz reuses its last check of the ffmpeg
// and ffprobe binaries (Redis and storage are checked at every request).
const binaryCheckTTL = 30 * time.Second

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
	hooks, err := webhook.NewRegistry(rdb, store, keyPrefix).Restore(ctx)
	if err != nil {
		return err
	}
	entries, err := audit.New(rdb, catalog.StorageBlobs(store), keyPrefix).Reindex(ctx)
	if err != nil {
		return err
	}
	people, err := newDirectory(rdb, store, cfg).Reindex(ctx)
	if err != nil {
		return err
	}
	progs, err := programme.NewStore(rdb, catalog.StorageBlobs(store), keyPrefix, nil, nil).Reindex(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reindexed %d statements, %d webhooks, %d audit entries and %d staff records (accounts, API tokens, sessions, set-password links) from storage\n", n, hooks, entries, people)
	fmt.Fprintf(stdout, "reindexed the programmes of %d sessions from storage\n", progs)
	return nil
}
