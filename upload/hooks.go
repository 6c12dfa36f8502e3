package upload

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/metrics"
	"github.com/uprinfo/presession/token"
)

func compileOrigin(expr string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("upload: AllowOrigin %q is not a regular expression: %v", expr, err)
	}
	return re, nil
}

var errUnavailable = tusError(ErrCodeUnavailable, http.StatusServiceUnavailable, "upload.tus.unavailable",
	"the service is briefly unavailable; please try again in a minute")

// preCreate authorizes and validates a new upload, and records its
// statement (uploading) under a fresh id, which becomes the upload's id.
// Recording it now makes the per-invitation limit count uploads in
// progress, and lets the organisation see them.
func (s *Service) preCreate(hook handler.HookEvent) (handler.HTTPResponse, handler.FileInfoChanges, error) {
	var none handler.FileInfoChanges
	ctx := hook.Context
	st := state(ctx)
	if st == nil || st.inv.ID == "" { // route authenticates first; be safe
		return handler.HTTPResponse{}, none, tusError(ErrCodeUnauthorized, http.StatusUnauthorized, "upload.tus.token_missing", "the invitation token is missing")
	}
	inv := st.inv
	now := s.deps.Now()
	sess, country, err := checkOpen(s.deps.Sessions, inv, now)
	if err != nil {
		return handler.HTTPResponse{}, none, err
	}
	if !hook.Upload.SizeIsDeferred || !isRecording(hook.Upload.MetaData) {
		if err := checkSize(hook.Upload, s.cfg.MaxUploadBytes); err != nil {
			return handler.HTTPResponse{}, none, err
		}
	}
	if hook.Upload.IsPartial || hook.Upload.IsFinal {
		return handler.HTTPResponse{}, none, tusError(ErrCodeConcatenation, http.StatusBadRequest, "upload.tus.concatenation", "concatenation of uploads is not supported; upload the file as one")
	}
	meta, err := metadata(sess, inv, hook.Upload.MetaData)
	if err != nil {
		return handler.HTTPResponse{}, none, err
	}

	// Count and create under one lock per invitation, so that parallel
	// creations cannot pass the limit together.
	unlock, err := s.lockInvitation(ctx, inv.ID)
	if err != nil {
		return handler.HTTPResponse{}, none, err
	}
	defer unlock()
	list, err := s.deps.Statements.ByInvitation(ctx, inv.ID)
	if err != nil {
		s.log.Error("counting an invitation's statements", "invitation", inv.ID, "err", err)
		return handler.HTTPResponse{}, none, errUnavailable
	}
	use := usageOf(list)
	if err := s.checkAllowance(use, hook.Upload.Size, country); err != nil {
		st.refused = metrics.RefusedLimit
		return handler.HTTPResponse{}, none, err
	}
	if hook.Upload.SizeIsDeferred {
		meta[metaSizeCap] = strconv.FormatInt(s.sizeCap(use), 10) // a recording (recording.go)
	}
	id := token.NewID()
	stmt := newStatement(id, hook.Upload.Size, meta, now)
	if err := s.deps.Statements.Create(ctx, stmt); err != nil {
		s.log.Error("recording a new statement", "statement", id, "err", err)
		return handler.HTTPResponse{}, none, errUnavailable
	}
	st.created = id
	s.log.Info("upload started", "statement", id, "invitation", inv.ID, "session", inv.Session, "country", inv.Country, "size", hook.Upload.Size)
	return handler.HTTPResponse{}, handler.FileInfoChanges{ID: id, MetaData: meta}, nil
}

// usage is what an invitation's statements take of its allowances.
type usage struct {
	live  int   // not failed: places under MaxStatementsPerInvitation
	all   int   // every statement it created, under MaxUploadsPerInvitation
	bytes int64 // declared sizes of those whose source storage holds or will hold
}

func usageOf(list []*presession.Statement) usage {
	var u usage
	for _, st := range list {
		u.all++
		if st.Status != presession.StatusFailed {
			u.live++
		}
		if st.SourceDeletedAt.IsZero() {
			u.bytes += st.Size
		}
	}
	return u
}

// checkAllowance refuses a new upload of size bytes that would take an
// invitation with usage u past one of its limits.
func (s *Service) checkAllowance(u usage, size int64, country presession.Country) error {
	switch room := s.cfg.MaxInvitationBytes; {
	case u.live >= s.cfg.MaxStatementsPerInvitation:
		return tusError(ErrCodeLimit, http.StatusConflict, "upload.tus.limit",
			"this invitation already has %d statements, the most one organisation may send for %s; ask the organisers if one must be replaced",
			u.live, country.Name).as(u.live, country)
	case u.all >= s.cfg.MaxUploadsPerInvitation:
		return tusError(ErrCodeUploads, http.StatusConflict, "upload.tus.uploads_limit",
			"this invitation has already started %d uploads, failed and cancelled ones included, the most one invitation may start; ask the organisers for a new link if you must send another file",
			u.all)
	case room > 0 && u.bytes+size > room:
		return tusError(ErrCodeInvitationFull, http.StatusRequestEntityTooLarge, "upload.tus.invitation_full",
			"this file (%s) does not fit in what one invitation may keep in storage: its uploads already take %s of %s (the files of failed statements count until they are deleted); ask the organisers if you need more room",
			i18n.Size(size), i18n.Size(u.bytes), i18n.Size(room))
	}
	return nil
}

// newStatement is the record of an upload from its saved metadata, which
// holds everything the record needs (so the sweep can rebuild a lost one).
func newStatement(id string, size int64, meta handler.MetaData, now time.Time) *presession.Statement {
	now = now.UTC()
	return &presession.Statement{
		ID:           id,
		Session:      meta[metaSession],
		Country:      meta[metaCountry],
		Organisation: meta[metaOrganisation],
		InvitationID: meta[metaInvitation],
		Title:        meta["title"],
		Speaker:      meta["speaker"],
		Language:     meta["language"],
		Filename:     meta["filename"],
		Filetype:     meta["filetype"],
		Size:         size,
		SourceKey:    layout.Source(id),
		Status:       presession.StatusUploading,
		CreatedAt:    now,
		UpdatedAt:    now,
		History:      []presession.Event{{At: now, Actor: presession.ActorCSO(meta[metaInvitation]), To: presession.StatusUploading}},
	}
}

func (s *Service) lockInvitation(ctx context.Context, invID string) (func(), error) {
	lk, _ := s.locker.NewLock("invitation:" + invID)
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := lk.Lock(lctx, nil); err != nil {
		if errors.Is(err, handler.ErrLockTimeout) {
			return nil, tusError(ErrCodeUnavailable, http.StatusServiceUnavailable, "upload.tus.busy", "another upload for this invitation is starting; try again in a moment")
		}
		s.log.Error("locking an invitation", "invitation", invID, "err", err)
		return nil, errUnavailable
	}
	return func() { lk.Unlock() }, nil
}

// preFinish records a complete upload before tusd answers the request that
// completed it, under the upload's lock. Doing it here rather than on the
// CompleteUploads channel means the client hears "done" only once the
// statement is uploaded and queued; if that fails it gets a 503, retries
// with a HEAD, and the HEAD records it (see wrap), or the sweep does.
// Every step is idempotent, so a repeat does no harm.
func (s *Service) preFinish(hook handler.HookEvent) (handler.HTTPResponse, error) {
	if err := s.record(hook.Context, hook.Upload); err != nil {
		s.log.Error("recording a finished upload failed; it will be retried", "upload", hook.Upload.ID, "err", err)
		return handler.HTTPResponse{}, tusError(ErrCodeNotRecorded, http.StatusServiceUnavailable, "upload.tus.not_recorded",
			"your file arrived complete and is safe, but we could not record it just now; it will be recorded automatically, or try again in a minute")
	}
	s.deps.Metrics.UploadFinished()
	return handler.HTTPResponse{}, nil
}

// record makes the statement of a complete upload uploaded and queues its
// processing: idempotent, and it rebuilds a lost record from the upload's
// metadata.
func (s *Service) record(ctx context.Context, info handler.FileInfo) error {
	id := statementID(info.ID)
	st, err := s.deps.Statements.Get(ctx, id)
	if presession.ErrorCode(err) == presession.ENOTFOUND {
		st = newStatement(id, info.Size, info.MetaData, s.deps.Now())
		if err = s.deps.Statements.Create(ctx, st); presession.ErrorCode(err) == presession.ECONFLICT {
			st, err = s.deps.Statements.Get(ctx, id)
		}
	}
	if err == nil {
		st, err = s.recordSize(ctx, st, info.Size)
	}
	if err != nil {
		return err
	}
	if st.Status == presession.StatusUploading {
		st, err = s.deps.Statements.Transition(ctx, id, presession.StatusUploaded, "cso:"+info.MetaData[metaInvitation], "")
		if presession.ErrorCode(err) == presession.ECONFLICT { // moved meanwhile
			st, err = s.deps.Statements.Get(ctx, id)
		}
		if err != nil {
			return err
		}
		s.log.Info("upload finished", "statement", id, "size", info.Size)
	}
	if st.Status == presession.StatusUploaded {
		return s.deps.Processor.EnqueueProcess(ctx, id)
	}
	return nil
}

// finishUnrecorded records a complete upload whose statement is still
// uploading (or missing), e.g. after a 503 from preFinish. It takes the
// upload's lock only if free: a busy upload is left to the sweep.
func (s *Service) finishUnrecorded(ctx context.Context, uploadID string) error {
	id := statementID(uploadID)
	st, err := s.deps.Statements.Get(ctx, id)
	switch {
	case err != nil && presession.ErrorCode(err) != presession.ENOTFOUND:
		return err
	case err == nil && st.Status == presession.StatusUploaded:
		// Recorded, but perhaps not queued: queueing is idempotent.
		return s.deps.Processor.EnqueueProcess(ctx, id)
	case err == nil && st.Status != presession.StatusUploading:
		return nil
	}
	_, err = s.finishLocked(ctx, uploadID)
	return err
}

// finishLocked assembles and records upload id if all its bytes are in.
// done is false when the upload is incomplete or its lock busy.
func (s *Service) finishLocked(ctx context.Context, uploadID string) (done bool, err error) {
	unlock, ok, err := s.locker.TryLock(ctx, uploadID)
	if err != nil || !ok {
		return false, err
	}
	defer unlock()
	up, err := s.store.core().GetUpload(ctx, uploadID)
	if err != nil {
		return false, err
	}
	info, err := up.GetInfo(ctx)
	if err != nil {
		return false, err
	}
	if info.SizeIsDeferred || info.Offset != info.Size {
		return false, nil
	}
	if err := s.store.assemble(ctx, up, info); err != nil {
		return false, fmt.Errorf("assemble: %w", err)
	}
	return true, s.record(ctx, info)
}

// preTerminate lets an organisation cancel an unfinished upload (its
// statement becomes failed, "upload cancelled"), never a finished one: its
// bytes are the statement's source.
func (s *Service) preTerminate(hook handler.HookEvent) (handler.HTTPResponse, error) {
	info := hook.Upload
	if !info.SizeIsDeferred && info.Offset == info.Size {
		return handler.HTTPResponse{}, tusError(ErrCodeComplete, http.StatusConflict, "upload.tus.complete",
			"this upload is complete and its statement is with the organisers; it cannot be cancelled here, ask the organisers to withdraw it")
	}
	id := statementID(info.ID)
	inv := "cso:" + info.MetaData[metaInvitation]
	text, msg := cancelled()
	_, err := s.deps.Statements.Transition(hook.Context, id, presession.StatusFailed, inv, text, msg)
	switch presession.ErrorCode(err) {
	case "", presession.ENOTFOUND:
	case presession.ECONFLICT:
		// Already failed (or, impossibly, further along): cancel anyway.
	default:
		s.log.Error("recording a cancelled upload", "statement", id, "err", err)
		return handler.HTTPResponse{}, errUnavailable
	}
	s.log.Info("upload cancelled", "statement", id)
	return handler.HTTPResponse{}, nil
}

// SweepResult counts what a sweep did.
type SweepResult struct {
	Seen      int // uploads in storage
	Finished  int // complete uploads recorded now (their recording had failed)
	Abandoned int // unfinished uploads removed
	Expired   int // sources of failed statements deleted after FailedRetention
}

// Sweep finishes complete uploads whose statement is still uploading or
// missing, removes unfinished uploads with no write for
// AbandonedUploadAge (S3 multipart upload aborted, .info and .part
// deleted), marking their statements failed, and deletes the sources of
// statements failed for FailedRetention. One node sweeps at a time; a
// node that finds the sweep lock taken returns at once.
func (s *Service) Sweep(ctx context.Context) (SweepResult, error) {
	var res SweepResult
	unlock, ok, err := s.locker.TryLock(ctx, "sweep")
	if err != nil || !ok {
		return res, err
	}
	defer unlock()
	entries, err := s.store.list(ctx)
	if err != nil {
		return res, fmt.Errorf("upload sweep: list: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		res.Seen++
		id := statementID(e.Info.ID)
		st, err := s.deps.Statements.Get(ctx, id)
		if err == nil && st.Status == presession.StatusUploaded {
			// Recorded, but perhaps not queued: queueing is idempotent.
			if err := s.deps.Processor.EnqueueProcess(ctx, id); err != nil {
				errs = append(errs, fmt.Errorf("%s: enqueue: %w", id, err))
			}
			continue
		}
		if err == nil && st.Status != presession.StatusUploading {
			continue // recorded and under way; its .info stays with the source
		}
		if err != nil && presession.ErrorCode(err) != presession.ENOTFOUND {
			errs = append(errs, err)
			continue
		}
		done, err := s.finishLocked(ctx, e.Info.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
			continue
		}
		if done {
			res.Finished++
			s.log.Info("sweep recorded a finished upload", "statement", id)
			continue
		}
		gone, err := s.removeIfAbandoned(ctx, e)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
		}
		if gone {
			res.Abandoned++
		}
	}
	if sl, ok := s.deps.Statements.(StaleLister); ok {
		n, err := s.failOrphans(ctx, sl)
		res.Abandoned += n
		if err != nil {
			errs = append(errs, err)
		}
		n, err = s.expireFailed(ctx, sl)
		res.Expired += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	if res.Finished+res.Abandoned+res.Expired > 0 {
		s.log.Info("upload sweep", "seen", res.Seen, "finished", res.Finished, "abandoned", res.Abandoned, "expired", res.Expired)
	}
	return res, errors.Join(errs...)
}

func (s *Service) removeIfAbandoned(ctx context.Context, e entry) (bool, error) {
	now := s.deps.Now()
	if now.Sub(e.Modified) < s.cfg.AbandonedUploadAge {
		return false, nil
	}
	last, err := s.store.lastWrite(ctx, e)
	if err != nil {
		return false, err
	}
	if now.Sub(last) < s.cfg.AbandonedUploadAge {
		return false, nil
	}
	unlock, ok, err := s.locker.TryLock(ctx, e.Info.ID)
	if err != nil || !ok {
		return false, err // being written right now: not abandoned
	}
	defer unlock()
	up, err := s.store.core().GetUpload(ctx, e.Info.ID)
	if err != nil {
		return false, err
	}
	info, err := up.GetInfo(ctx)
	if err != nil {
		return false, err
	}
	if !info.SizeIsDeferred && info.Offset == info.Size {
		return false, nil // completed meanwhile; the next sweep records it
	}
	if err := s.store.terminate(ctx, up); err != nil {
		return false, fmt.Errorf("terminate: %w", err)
	}
	id := statementID(e.Info.ID)
	text, msg := abandoned(s.cfg.AbandonedUploadAge)
	_, err = s.deps.Statements.Transition(ctx, id, presession.StatusFailed, "system", text, msg)
	switch presession.ErrorCode(err) {
	case "", presession.ENOTFOUND, presession.ECONFLICT:
	default:
		return true, err
	}
	if err := s.markSourceDeleted(ctx, id, ""); err != nil {
		return true, err
	}
	s.log.Info("removed an abandoned upload", "statement", id, "last_write", last, "received", info.Offset, "size", info.Size)
	return true, nil
}

func cancelled() (string, presession.Message) {
	return i18n.Reason("reason.upload_cancelled", "upload cancelled by the organisation")
}

// abandoned says how long no data arrived as people say it: "7 days",
// "36 hours", "1m30s".
func abandoned(d time.Duration) (string, presession.Message) {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return i18n.Reason("reason.upload_abandoned_days", "upload abandoned: no data arrived for %s days; start the upload again", strconv.Itoa(int(d/(24*time.Hour))))
	case d >= 2*time.Hour && d%time.Hour == 0:
		return i18n.Reason("reason.upload_abandoned_hours", "upload abandoned: no data arrived for %s hours; start the upload again", strconv.Itoa(int(d/time.Hour)))
	}
	return i18n.Reason("reason.upload_abandoned", "upload abandoned: no data arrived for %s; start the upload again", d.String())
}

func neverStarted() (string, presession.Message) {
	return i18n.Reason("reason.upload_never_started", "upload abandoned: the upload never started; start it again")
}

func notCreated() (string, presession.Message) {
	return i18n.Reason("reason.upload_not_created", "the upload could not be started; please try again")
}

// failOrphans fails statements still uploading, older than
// AbandonedUploadAge, that have no upload in storage.
func (s *Service) failOrphans(ctx context.Context, sl StaleLister) (int, error) {
	list, err := sl.Stale(ctx, presession.StatusUploading)
	if err != nil {
		return 0, fmt.Errorf("upload sweep: list uploading statements: %w", err)
	}
	n := 0
	var errs []error
	for _, st := range list {
		if s.deps.Now().Sub(st.CreatedAt) < s.cfg.AbandonedUploadAge {
			continue
		}
		_, err := s.store.readInfo(ctx, st.ID)
		if err == nil {
			continue // the sweep of uploads decides
		}
		if !errors.Is(err, handler.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		text, msg := neverStarted()
		_, err = s.deps.Statements.Transition(ctx, st.ID, presession.StatusFailed, "system", text, msg)
		if err != nil && presession.ErrorCode(err) != presession.ECONFLICT {
			errs = append(errs, err)
			continue
		}
		if err := s.markSourceDeleted(ctx, st.ID, ""); err != nil { // there never were bytes
			errs = append(errs, err)
		}
		n++
	}
	return n, errors.Join(errs...)
}

// expireFailed deletes the sources of statements failed for
// FailedRetention or longer, with what tusd kept of their uploads, and
// records it on each statement, which stays failed with its reason.
func (s *Service) expireFailed(ctx context.Context, sl StaleLister) (int, error) {
	list, err := sl.Stale(ctx, presession.StatusFailed)
	if err != nil {
		return 0, fmt.Errorf("upload sweep: list failed statements: %w", err)
	}
	n := 0
	var errs []error
	for _, st := range list {
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		since := failedAt(st)
		if !st.SourceDeletedAt.IsZero() || s.deps.Now().Sub(since) < s.cfg.FailedRetention {
			continue
		}
		done, err := s.removeSource(ctx, st.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: delete the source: %w", st.ID, err))
			continue
		}
		if !done {
			continue // its upload is being written: the next sweep
		}
		warning := fmt.Sprintf("the uploaded file was deleted on %s: the sources of failed statements are kept for %s", FormatDeadline(s.deps.Now()), sayDuration(s.cfg.FailedRetention))
		if err := s.markSourceDeleted(ctx, st.ID, warning); err != nil {
			errs = append(errs, err)
			continue
		}
		s.log.Info("deleted the source of a failed statement", "statement", st.ID, "failed_at", since, "size", st.Size)
		n++
	}
	return n, errors.Join(errs...)
}

// failedAt is when st last became failed.
func failedAt(st *presession.Statement) time.Time {
	for i := len(st.History) - 1; i >= 0; i-- {
		if st.History[i].To == presession.StatusFailed {
			return st.History[i].At
		}
	}
	return st.UpdatedAt
}

// removeSource deletes the source of statement id and tusd's state of its
// upload, under the upload's lock when there still is an upload; done is
// false when that lock is busy.
func (s *Service) removeSource(ctx context.Context, id string) (done bool, err error) {
	info, err := s.store.readInfo(ctx, id)
	switch {
	case errors.Is(err, handler.ErrNotFound):
		return true, s.store.remove(ctx, id)
	case err != nil:
		return false, err
	}
	unlock, ok, err := s.locker.TryLock(ctx, info.ID)
	if err != nil || !ok {
		return false, err
	}
	defer unlock()
	return true, s.store.remove(ctx, id)
}

// markSourceDeleted records that storage no longer holds statement id's
// source (once: a repeat changes nothing), with warning for staff if any.
// A statement that is gone needs nothing.
func (s *Service) markSourceDeleted(ctx context.Context, id, warning string) error {
	now := s.deps.Now().UTC()
	_, err := s.deps.Statements.Update(ctx, id, func(st *presession.Statement) error {
		if !st.SourceDeletedAt.IsZero() {
			return nil
		}
		st.SourceDeletedAt = now
		if warning != "" {
			st.Warnings = append(st.Warnings, warning)
		}
		return nil
	})
	if presession.ErrorCode(err) == presession.ENOTFOUND {
		return nil
	}
	return err
}

// sayDuration writes d as people say it: "3 days", "36 hours", "1m30s".
func sayDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	case d >= 2*time.Hour && d%time.Hour == 0:
		return strconv.Itoa(int(d/time.Hour)) + " hours"
	}
	return d.String()
}
