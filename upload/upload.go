// Package upload is the tus 1.0.0 endpoint through which organisations
// send their video statements, built on tusd v2 as a library: tusd's
// s3store on S3, its filestore on the embedded default, a Redis locker so
// several nodes can serve one upload, authorization by invitation token,
// the statement record kept in step with the upload, the sweep that
// finishes uploads whose recording failed and removes abandoned ones, and
// the CSO upload page.
//
// An upload's id is its statement's id (s3store appends "+<multipart id>"),
// and its bytes end up at layout.Source(id) in storage.
package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/redis/go-redis/v9"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/drafts"
	"github.com/uprinfo/presession/metrics"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

// Statements is what the endpoint needs from the catalog.
type Statements interface {
	// Create records a new statement; an ECONFLICT-coded error if the id exists.
	Create(ctx context.Context, st *presession.Statement) error
	// Get returns the statement; an ENOTFOUND-coded error if there is none.
	Get(ctx context.Context, id string) (*presession.Statement, error)
	// Transition moves the statement to status to, recording actor and
	// reason (English, with the catalogue message that says it in other
	// languages); an ECONFLICT-coded error if the lifecycle does not allow
	// it from the current status. The first move to uploaded sets
	// UploadedAt (see presession.Statement.Apply).
	Transition(ctx context.Context, id string, to presession.Status, actor, reason string, msg ...presession.Message) (*presession.Statement, error)
	// ByInvitation returns every statement the invitation created.
	ByInvitation(ctx context.Context, invitationID string) ([]*presession.Statement, error)
	// Update applies fn to the statement atomically, for fields outside
	// the lifecycle (here SourceDeletedAt and Warnings); an
	// ENOTFOUND-coded error if there is none.
	Update(ctx context.Context, id string, fn func(*presession.Statement) error) (*presession.Statement, error)
}

// StaleLister is optional on Statements (the catalog has it): with it, the
// sweep also fails statements left uploading whose upload never came into
// being (a crash between recording the statement and creating the upload),
// and deletes the sources of statements failed for FailedRetention.
type StaleLister interface {
	Stale(ctx context.Context, statuses ...presession.Status) ([]*presession.Statement, error)
}

// Processor queues a statement for processing. It is idempotent: the task
// id derives from the statement, so a repeated call queues nothing new.
type Processor interface {
	EnqueueProcess(ctx context.Context, statementID string) error
}

// Metrics receives the endpoint's measures (metrics.Uploads implements
// it); optional. Refusal reasons are the label values the metrics
// package declares.
type Metrics interface {
	UploadStarted()
	UploadFinished()
	UploadRefused(reason metrics.Refusal)
	BytesReceived(n int64)
}

// Localizer says a refusal in the request's language; *web.Site is one.
type Localizer interface {
	// Lang is the language of the request (?lang=, the language cookie,
	// Accept-Language).
	Lang(r *http.Request) string
	// Message is err's catalogue message in lang.
	Message(lang string, err error) string
}

type noMetrics struct{}

func (noMetrics) UploadStarted()                {}
func (noMetrics) UploadFinished()               {}
func (noMetrics) UploadRefused(metrics.Refusal) {}
func (noMetrics) BytesReceived(int64)           {}

// Config is the endpoint's configuration; main fills it from config.Config.
type Config struct {
	// MaxUploadBytes is the largest accepted upload (PRESESSION_MAX_UPLOAD_BYTES).
	MaxUploadBytes int64
	// MaxStatementsPerInvitation limits the statements of one invitation
	// that are not failed; 3 when zero.
	MaxStatementsPerInvitation int
	// MaxUploadsPerInvitation limits every statement one invitation
	// creates, failed and cancelled ones included. A failed upload frees
	// its place under MaxStatementsPerInvitation, so that people can send
	// a file again after a wrong or a cut one; this higher allowance
	// keeps one link from creating statements (and filling storage)
	// without end. MaxStatementsPerInvitation + 7 when zero.
	MaxUploadsPerInvitation int
	// MaxInvitationBytes caps what one invitation keeps in storage: the
	// declared sizes (Upload-Length) of its statements whose source is
	// not deleted, a failed statement's until FailedRetention has run
	// out, and the new upload's. Uploads must declare their length at
	// creation and tusd never lets one grow past it, so the check at
	// creation (under the invitation's lock) holds for the upload's life;
	// a recording made on the page, which cannot declare its length, may
	// grow to the room left when it started (recording.go).
	// 3 × MaxUploadBytes when zero; none when both are zero.
	MaxInvitationBytes int64
	// AbandonedUploadAge is how long an unfinished upload may go without a
	// write before the sweep removes it; 7 days when zero.
	AbandonedUploadAge time.Duration
	// FailedRetention is how long the source of a failed statement stays
	// in storage, so staff can still look at what was sent, before the
	// sweep deletes it (the statement stays, failed, with its reason);
	// 72 hours when zero (PRESESSION_FAILED_RETENTION).
	FailedRetention time.Duration
	// SweepInterval is how often a node runs the sweep (finish unrecorded
	// uploads, remove abandoned ones, delete expired failed sources); 10
	// minutes when zero.
	SweepInterval time.Duration
	// S3 selects tusd's s3store when Endpoint is set; else the filestore
	// in StorageDir/uploads.
	S3         config.S3
	StorageDir string
	// S3Tuning sets part size, buffering, concurrency and the temp dir.
	S3Tuning S3Tuning
	// LockTTL is the lifetime of an upload lock in Redis unless renewed;
	// 30 s when zero.
	LockTTL time.Duration
	// RedisPrefix starts every key and channel of this package; "upload:"
	// when empty.
	RedisPrefix string
	// AllowOrigin is a regular expression of the origins browsers may
	// upload from; any origin when empty (tokens, not cookies, authorize).
	AllowOrigin string
	// PublicURL, when set, makes upload URLs absolute on it (behind a proxy
	// that rewrites Host); else they follow the request's Host.
	PublicURL string
	// StallTimeout is how long the upload page lets a request move no byte
	// and get no answer before it drops and retries it; StallTimeout (the
	// constant) when zero.
	StallTimeout time.Duration
	// ExamineDir holds the short-lived copies of uploads' beginnings that
	// ffprobe reads as they arrive (see early.go); a directory under
	// os.TempDir() when empty.
	ExamineDir string
}

// Deps are the collaborators of the endpoint.
type Deps struct {
	Sessions   *presession.Sessions
	Signer     *token.Signer
	Statements Statements
	Processor  Processor
	Redis      redis.UniversalClient
	Logger     *slog.Logger
	// S3Client overrides the client built from Config.S3 (tests, benchmarks).
	S3Client *s3.Client
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Metrics receives measures; none when nil.
	Metrics Metrics
	// Localizer translates refusals into the request's language; they
	// are in English when nil.
	Localizer Localizer
	// Captions keeps the organisations' own captions files (storage, see
	// package drafts) and the tracks started from them: with it, Routes
	// also serves CaptionRoute.
	Captions drafts.Store
	// Revocations tells which invitations staff revoked (the catalog):
	// every request under a revoked one is refused (ErrCodeRevoked), so an
	// upload in progress stops at its next PATCH. None are when nil.
	Revocations web.Revocations
}

// Service is the tus endpoint and its background sweep.
type Service struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	auth    *web.Auth // reads the invitation of a tus request; it knows no staff token
	store   backend
	locker  *Locker
	exam    *examiner
	tus     *handler.UnroutedHandler
	handler http.Handler

	// stopping ends when Interrupt is called: upload bodies in flight
	// then fail as at a tusd server's shutdown.
	stopping  context.Context
	interrupt context.CancelFunc
}

// New builds the endpoint. It does no I/O beyond creating the upload
// directory of the filestore; Run does the rest.
func New(cfg Config, deps Deps) (*Service, error) {
	if deps.Sessions == nil || deps.Signer == nil || deps.Statements == nil || deps.Processor == nil || deps.Redis == nil {
		return nil, errors.New("upload: Sessions, Signer, Statements, Processor and Redis are required")
	}
	cfg, deps = withDefaults(cfg, deps)
	s := &Service{cfg: cfg, deps: deps, log: deps.Logger.With("component", "upload"), auth: &web.Auth{Signer: deps.Signer, Now: deps.Now, Revocations: deps.Revocations}}
	s.stopping, s.interrupt = context.WithCancel(context.Background())
	if err := s.openStore(); err != nil {
		return nil, err
	}
	s.locker = NewLocker(deps.Redis, cfg.RedisPrefix, cfg.LockTTL, s.log)
	s.exam = newExaminer(examDir(cfg), s.log, s.sessionLimits)
	tus, err := s.newTus()
	if err != nil {
		return nil, err
	}
	s.tus = tus
	s.handler = s.wrap(tus.Middleware(http.HandlerFunc(s.route)))
	return s, nil
}

// withDefaults fills in what cfg and deps leave unset.
func withDefaults(cfg Config, deps Deps) (Config, Deps) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Metrics == nil {
		deps.Metrics = noMetrics{}
	}
	if cfg.MaxStatementsPerInvitation <= 0 {
		cfg.MaxStatementsPerInvitation = 3
	}
	if cfg.MaxUploadsPerInvitation <= 0 {
		cfg.MaxUploadsPerInvitation = cfg.MaxStatementsPerInvitation + 7
	}
	if cfg.MaxInvitationBytes <= 0 && cfg.MaxUploadBytes > 0 {
		cfg.MaxInvitationBytes = 3 * min(cfg.MaxUploadBytes, math.MaxInt64/3)
	}
	if cfg.AbandonedUploadAge <= 0 {
		cfg.AbandonedUploadAge = 7 * 24 * time.Hour
	}
	if cfg.FailedRetention <= 0 {
		cfg.FailedRetention = 72 * time.Hour
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = 10 * time.Minute
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = StallTimeout
	}
	if cfg.LockTTL <= 0 {
		cfg.LockTTL = 30 * time.Second
	}
	if cfg.RedisPrefix == "" {
		cfg.RedisPrefix = "upload:"
	}
	return cfg, deps
}

// openStore opens the tusd store: s3store on S3, else a filestore in
// StorageDir.
func (s *Service) openStore() error {
	cfg, deps := s.cfg, s.deps
	if cfg.S3.Endpoint != "" {
		if cfg.S3Tuning.TempDir != "" {
			if err := os.MkdirAll(cfg.S3Tuning.TempDir, 0o750); err != nil {
				return fmt.Errorf("upload: create the part staging directory: %w", err)
			}
		}
		client := deps.S3Client
		if client == nil {
			client = NewS3Client(cfg.S3)
		}
		s.store = newS3Backend(client, cfg.S3.Bucket, cfg.S3Tuning)
	} else {
		if cfg.StorageDir == "" {
			return errors.New("upload: StorageDir is required without S3")
		}
		fb, err := newFileBackend(cfg.StorageDir)
		if err != nil {
			return err
		}
		s.store = fb
	}
	return nil
}

// newTus builds tusd's handler over the store and locker, with the hooks
// that authorise, validate and record each upload.
func (s *Service) newTus() (*handler.UnroutedHandler, error) {
	cfg := s.cfg
	composer := handler.NewStoreComposer()
	gated := gatedStore{DataStore: s.store.core(), term: s.store.terminater(), locker: s.locker}
	examined := examinedStore{DataStore: gated, term: gated, svc: s}
	composer.UseCore(examined)
	composer.UseTerminater(examined)
	composer.UseLocker(s.locker)
	if _, ok := s.store.core().(handler.LengthDeferrerDataStore); ok {
		composer.UseLengthDeferrer(examined) // page recordings (recording.go)
	}

	cors := handler.DefaultCorsConfig
	if cfg.AllowOrigin != "" {
		re, err := compileOrigin(cfg.AllowOrigin)
		if err != nil {
			return nil, err
		}
		cors.AllowOrigin = re
	}
	base := "/files/"
	if cfg.PublicURL != "" {
		base = strings.TrimRight(cfg.PublicURL, "/") + "/files/"
	}
	tus, err := handler.NewUnroutedHandler(handler.Config{
		StoreComposer:           composer,
		BasePath:                base,
		MaxSize:                 cfg.MaxUploadBytes,
		DisableDownload:         true, // the worker reads the source from storage; nobody downloads it here
		DisableConcatenation:    true,
		Cors:                    &cors,
		Logger:                  tusdLogger(s.log),
		RespectForwardedHeaders: false,
		PreUploadCreateCallback: func(h handler.HookEvent) (handler.HTTPResponse, handler.FileInfoChanges, error) {
			res, changes, err := s.preCreate(h)
			return res, changes, s.localize(h.Context, err)
		},
		PreFinishResponseCallback: func(h handler.HookEvent) (handler.HTTPResponse, error) {
			res, err := s.preFinish(h)
			return res, s.localize(h.Context, err)
		},
		PreUploadTerminateCallback: func(h handler.HookEvent) (handler.HTTPResponse, error) {
			res, err := s.preTerminate(h)
			return res, s.localize(h.Context, err)
		},
		// Outwait the lock of a crashed node (it expires after LockTTL)
		// within one request, rather than failing it.
		AcquireLockTimeout: cfg.LockTTL + 5*time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	return tus, nil
}

// Handler is the tus endpoint, to mount at "/files/" (all methods).
func (s *Service) Handler() http.Handler { return s.handler }

// Close releases the locker's subscription and the examinations' copies.
func (s *Service) Close() error {
	s.exam.close()
	return s.locker.Close()
}

// Interrupt ends the uploads in flight as tusd does when its server shuts
// down: a PATCH stops reading its body, stores what it has received (the
// offset a client resumes from), answers 503 ERR_SERVER_SHUTDOWN, which
// tus clients retry, and releases its upload lock. A stop calls it when
// the HTTP server's shutdown timeout has passed with requests still
// running, then gives them a moment to return; later requests are
// interrupted as they start.
func (s *Service) Interrupt() { s.interrupt() }

// Run sweeps at once (finishing uploads whose recording failed, e.g. in a
// crash) and then every SweepInterval, until ctx is done. Only one node
// sweeps at a time.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		s.exam.expire(time.Now().Add(-examIdle))
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("upload sweep failed; retrying at the next interval", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// reqState travels in the request context from wrap to the hooks.
type reqState struct {
	inv     token.Invitation
	created string // statement created by the pre-create hook
	// refused is why the pre-create hook refused, when the status alone
	// does not tell (a 413 for the invitation's bytes is a limit).
	refused metrics.Refusal
	lang    string // of the request, when there is a Localizer
}

type ctxKey struct{}

func state(ctx context.Context) *reqState {
	st, _ := ctx.Value(ctxKey{}).(*reqState)
	return st
}

// statusWriter remembers the status written.
// measureCreation counts a creation request by its answer.
func (s *Service) measureCreation(status int, refused metrics.Refusal) {
	m := s.deps.Metrics
	if refused != "" && status != http.StatusCreated {
		m.UploadRefused(refused)
		return
	}
	switch status {
	case http.StatusCreated:
		m.UploadStarted()
	case http.StatusUnauthorized:
		m.UploadRefused(metrics.RefusedUnauthorized)
	case http.StatusForbidden:
		m.UploadRefused(metrics.RefusedDeadline)
	case http.StatusRequestEntityTooLarge:
		m.UploadRefused(metrics.RefusedTooLarge)
	case http.StatusConflict:
		m.UploadRefused(metrics.RefusedLimit)
	case http.StatusBadRequest:
		m.UploadRefused(metrics.RefusedInvalid)
	}
}

// countingReader counts the bytes of an upload body as tusd reads them.
// Once interrupted, its reads fail with tusd's ErrServerShutdown, which tusd stores as the
// body's error and answers with 503 after saving what was read.
type countingReader struct {
	io.ReadCloser
	n       int64
	stopped atomic.Bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.stopped.Load() {
		return 0, handler.ErrServerShutdown
	}
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	if err != nil && c.stopped.Load() {
		err = handler.ErrServerShutdown // the read deadline that woke it
	}
	return n, err
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap strips the mount path, carries the request state to the hooks and,
// after the response, repairs what a failed request left: a statement
// created for an upload that then could not be created, and an upload
// whose bytes are all in but whose recording failed (found on HEAD).
func (s *Service) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p, ok := strings.CutPrefix(r.URL.Path, "/files"); ok {
			r2 := *r
			u := *r.URL
			u.Path, u.RawPath = p, ""
			r2.URL = &u
			r = &r2
		}
		st := &reqState{}
		if s.deps.Localizer != nil {
			st.lang = s.deps.Localizer.Lang(r)
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, st))
		sw := &statusWriter{ResponseWriter: w}
		var body *countingReader
		if r.Body != nil && (r.Method == http.MethodPatch || r.Method == http.MethodPost) {
			body = &countingReader{ReadCloser: r.Body}
			r.Body = body
			// Interrupt: the body fails, and a read waiting for the client
			// wakes up (as tusd's own shutdown does it; its cancellation
			// of the request context races, tus/tusd#1192).
			rc := http.NewResponseController(w)
			defer context.AfterFunc(s.stopping, func() {
				body.stopped.Store(true)
				rc.SetReadDeadline(time.Now())
			})()
		}
		h.ServeHTTP(sw, r)
		if body != nil {
			s.deps.Metrics.BytesReceived(body.n)
		}
		if r.Method == http.MethodPost {
			s.measureCreation(sw.status, st.refused)
		}

		ctx := context.WithoutCancel(r.Context())
		if st.created != "" && sw.status != http.StatusCreated {
			s.abortCreated(ctx, st)
		}
		if r.Method == http.MethodDelete && sw.status == http.StatusNoContent {
			// tusd has removed the cancelled upload (the multipart upload
			// aborted): its statement holds no bytes now.
			id := statementID(strings.Trim(r.URL.Path, "/"))
			if err := s.markSourceDeleted(ctx, id, ""); err != nil {
				s.log.Warn("recording a cancelled upload's deletion failed; the sweep will after the retention", "statement", id, "err", err)
			}
		}
		if r.Method == http.MethodHead && sw.status == http.StatusOK {
			off, l := w.Header().Get("Upload-Offset"), w.Header().Get("Upload-Length")
			if off != "" && off == l {
				id := strings.Trim(r.URL.Path, "/")
				if err := s.finishUnrecorded(ctx, id); err != nil {
					s.log.Warn("recording a finished upload failed; the sweep will retry", "upload", id, "err", err)
				}
			}
		}
	})
}

// abortCreated marks failed the statement of an upload that was not
// created after all (the store refused it), so it holds no place.
func (s *Service) abortCreated(ctx context.Context, st *reqState) {
	if _, err := s.store.readInfo(ctx, st.created); err == nil {
		return // the upload exists; only a later step failed
	}
	text, msg := notCreated()
	_, err := s.deps.Statements.Transition(ctx, st.created, presession.StatusFailed, actor(st.inv), text, msg)
	if err == nil {
		err = s.markSourceDeleted(ctx, st.created, "") // there never were bytes
	}
	if err != nil {
		s.log.Error("marking a statement whose upload was not created", "statement", st.created, "err", err)
	}
}

func actor(inv token.Invitation) string { return "cso:" + inv.ID }

// route authorizes every tus request and dispatches it to tusd. POST is
// checked in the pre-create hook; every request on an existing upload must
// carry the token of the invitation that created it, else 404.
func (s *Service) route(w http.ResponseWriter, r *http.Request) {
	st := state(r.Context())
	inv, err := authenticate(s.auth.Principal(r))
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="presession uploads"`)
		s.sendError(w, r, err)
		return
	}
	st.inv = inv
	id := strings.Trim(r.URL.Path, "/")
	if id == "" {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		// A clear 413 before tusd's terse one.
		if n, err := strconv.ParseInt(r.Header.Get("Upload-Length"), 10, 64); err == nil && s.cfg.MaxUploadBytes > 0 && n > s.cfg.MaxUploadBytes {
			s.sendError(w, r, tooLarge(n, s.cfg.MaxUploadBytes))
			return
		}
		if r.Header.Get("Upload-Defer-Length") != "" && !recordingHeader(r.Header.Get("Upload-Metadata")) {
			s.sendError(w, r, checkSize(handler.FileInfo{SizeIsDeferred: true}, s.cfg.MaxUploadBytes))
			return
		}
		if err := checkMetadataHeader(r.Header.Get("Upload-Metadata")); err != nil {
			s.sendError(w, r, err)
			return
		}
		if r.Header.Get("Upload-Concat") != "" {
			s.sendError(w, r, tusError(ErrCodeConcatenation, http.StatusBadRequest, "upload.tus.concatenation", "concatenation of uploads is not supported; upload the file as one"))
			return
		}
		s.tus.PostFile(w, r)
		return
	}
	info, err := s.authorizeUpload(r.Context(), inv, id)
	if err != nil {
		s.sendError(w, r, err)
		return
	}
	switch r.Method {
	case http.MethodHead:
		s.tus.HeadFile(w, r)
	case http.MethodPatch:
		if err := checkDeferredPatch(info, r, s.cfg.MaxUploadBytes); err != nil {
			s.sendError(w, r, err)
			return
		}
		s.tus.PatchFile(w, r)
	case http.MethodDelete:
		s.tus.DelFile(w, r)
	default:
		w.Header().Set("Allow", "HEAD, PATCH, DELETE")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// authorizeUpload checks that upload id exists and belongs to inv, from
// its saved info alone (one small read; no Redis, so uploads go on while
// the catalog is briefly away).
func (s *Service) authorizeUpload(ctx context.Context, inv token.Invitation, id string) (handler.FileInfo, error) {
	sid := statementID(id)
	if !validStatementID(sid) || strings.ContainsAny(id, "/\\") {
		return handler.FileInfo{}, errNotFound
	}
	info, err := s.store.readInfo(ctx, sid)
	if errors.Is(err, handler.ErrNotFound) {
		if err := s.refusedEarly(ctx, inv.ID, sid); err != nil {
			return info, err
		}
		return info, errNotFound
	}
	if err != nil {
		s.log.Error("reading an upload's info", "upload", id, "err", err)
		return info, tusError(ErrCodeUnavailable, http.StatusServiceUnavailable, "upload.tus.storage_unavailable", "storage is briefly unavailable; your upload is safe, try again in a minute")
	}
	if info.ID != id || info.MetaData[metaInvitation] != inv.ID {
		return info, errNotFound
	}
	return info, nil
}

// validStatementID accepts what token.NewID makes: 16 lower-case hex digits.
func validStatementID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// localize returns err in the language of the request of ctx when it is a
// refusal and the service has a Localizer; the code and status stay.
func (s *Service) localize(ctx context.Context, err error) error {
	var rf refusal
	st := state(ctx)
	if err == nil || s.deps.Localizer == nil || st == nil || st.lang == "" || !errors.As(err, &rf) {
		return err
	}
	msg := (&presession.Error{Code: presession.EINVALID, Message: rf.tus.Message}).Localize(rf.key, rf.args...)
	he := handler.NewError(rf.tus.ErrorCode, s.deps.Localizer.Message(st.lang, msg), rf.tus.HTTPResponse.StatusCode)
	for k, v := range rf.tus.HTTPResponse.Header {
		he.HTTPResponse.Header[k] = v
	}
	he.HTTPResponse.Header["Content-Language"] = st.lang
	return he
}

func (s *Service) sendError(w http.ResponseWriter, r *http.Request, err error) {
	var he handler.Error
	if !errors.As(err, &he) {
		s.log.Error("upload request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		err = tusError("ERR_INTERNAL_SERVER_ERROR", http.StatusInternalServerError, "upload.tus.internal", "an internal error occurred; it has been logged, please try again")
	}
	errors.As(s.localize(r.Context(), err), &he)
	for k, v := range he.HTTPResponse.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Tus-Resumable", "1.0.0")
	w.WriteHeader(he.HTTPResponse.StatusCode)
	if r.Method != http.MethodHead {
		w.Write([]byte(he.HTTPResponse.Body))
	}
}
