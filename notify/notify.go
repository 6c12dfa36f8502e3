// Package notify tells people by mail what happened: to an organisation,
// its invitation, that its statement arrived, could not be used, was
// rejected or approved, and reminders before its country's deadline; to
// staff, a digest of what awaits review.
//
// Every message is an Asynq task on its own "mail" queue, so nothing an
// upload, a transcode or a review does waits for a mail server. A task's
// ID names the event, the kind of message and the recipient, and a sent
// task is kept (Retention) so the same event is never mailed twice. A
// server that is down or refuses for now (4xx) is retried with backoff; a
// permanent refusal (5xx) is recorded on the invitation, with the
// server's answer, and not retried.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/asynqlog"
	"github.com/uprinfo/presession/mail"
)

// Queue is the Asynq queue of every mail task.
const Queue = "mail"

// Task types.
const (
	TypeOccurrence = "mail:occurrence" // turns an occurrence into one send task per recipient
	TypeSend       = "mail:send"       // sends one message to one recipient
)

// Kinds of message: the keys of presession.Invitation.Mail.
const (
	KindInvitation  = "invitation"
	KindReceived    = "received"
	KindFailed      = "failed"
	KindRejected    = "rejected"
	KindApproved    = "approved"
	KindReminder7d  = "reminder_7d"
	KindReminder48h = "reminder_48h"
	KindDigest      = "digest"
)

// Reminder thresholds before an invitation's deadline.
const (
	Reminder7d  = 7 * 24 * time.Hour
	Reminder48h = 48 * time.Hour
)

// kinds maps the occurrences mailed to an organisation to their message.
var kinds = map[presession.OccurrenceType]string{
	presession.InvitationCreated: KindInvitation,
	presession.StatementUploaded: KindReceived,
	presession.StatementFailed:   KindFailed,
	presession.StatementRejected: KindRejected,
	presession.StatementApproved: KindApproved,
}

// Invitations is what notify needs of the invitation records: who to
// write to and in which language, the invitations of a country (for
// reminders), and where to record what became of each message.
type Invitations interface {
	Invitation(ctx context.Context, id string) (*presession.Invitation, error)
	ListInvitations(ctx context.Context, session, country string) ([]*presession.Invitation, error)
	RecordMail(ctx context.Context, invitationID, kind string, d presession.Delivery) error
}

// Statements is what notify needs of the statement catalog.
type Statements interface {
	List(ctx context.Context, f presession.Filter) ([]*presession.Statement, int, error)
}

// Reasons says why a statement failed in a reader's language, as the
// upload page says it (web.Site implements it).
type Reasons interface {
	Reason(lang string, st *presession.Statement) string
}

// Config holds notify's settings.
type Config struct {
	PublicURL     string   // absolute base of every link, without a trailing slash
	StaffDigestTo []string // staff addresses of the digest; none = no digest
	Concurrency   int      // messages sent at once; default 2
	MaxRetry      int      // attempts after the first before a message is given up; default 25 (about 5 days)
	// RetryDelay is the wait before retry n (1, 2, …); default 10 s doubling
	// up to 6 h.
	RetryDelay func(n int) time.Duration
	SweepEvery time.Duration // how often reminders and the digest are checked; default 5 min
	// Retention is how long a sent message's task (so its ID) is kept,
	// which makes a repeated event a no-op; default 60 days.
	Retention       time.Duration
	DigestEvery     time.Duration // at most one digest per address this often; default 1 h
	ShutdownTimeout time.Duration
	Now             func() time.Time // the clock of reminders; default time.Now
}

// Deps are the parts notify works with.
type Deps struct {
	Sender      mail.Sender
	Invitations Invitations
	Statements  Statements
	Sessions    *presession.Sessions
	Bundle      *i18n.Bundle
	Reasons     Reasons // nil: the statement's English reason
	// UploadURL is the invitation's absolute upload link.
	UploadURL func(inv *presession.Invitation) (string, error)
	// WatchURL is the absolute link of a country's watch page.
	WatchURL func(session, country string) (string, error)
	// Slot is when an approved statement is shown, once the programme
	// knows it (issue 15); nil or false: the approval names the page only.
	Slot func(ctx context.Context, st *presession.Statement) (time.Time, bool)
	Log  *slog.Logger
}

// Service enqueues, composes and sends the messages.
type Service struct {
	cfg     Config
	deps    Deps
	redis   asynq.RedisConnOpt
	client  *asynq.Client
	layouts layouts
}

// New returns the mail service on the Redis of opt. Close it.
func New(cfg Config, opt asynq.RedisConnOpt, deps Deps) (*Service, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.MaxRetry <= 0 {
		cfg.MaxRetry = 25
	}
	if cfg.RetryDelay == nil {
		cfg.RetryDelay = Backoff
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = 5 * time.Minute
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 60 * 24 * time.Hour
	}
	if cfg.DigestEvery <= 0 {
		cfg.DigestEvery = time.Hour
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	l, err := parseLayouts()
	if err != nil {
		return nil, fmt.Errorf("notify: templates: %w", err)
	}
	return &Service{cfg: cfg, deps: deps, redis: opt, client: asynq.NewClient(opt), layouts: l}, nil
}

// Close closes the queue's client.
func (s *Service) Close() error { return s.client.Close() }

// Backoff waits 10 s before the first retry, doubling up to 6 h: a server
// down for minutes is retried within minutes, one down for a day still is.
func Backoff(n int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < n && d < 6*time.Hour; i++ {
		d *= 2
	}
	return min(d, 6*time.Hour)
}

// occurrencePayload is a TypeOccurrence task's.
type occurrencePayload struct {
	Occurrence presession.Occurrence `json:"occurrence"`
}

// sendPayload is a TypeSend task's: one message to one recipient.
type sendPayload struct {
	Event        string                `json:"event"` // what it tells: the occurrence's ID, or the reminder's or digest's
	Kind         string                `json:"kind"`
	To           string                `json:"to"`
	InvitationID string                `json:"invitation_id,omitempty"`
	Statement    *presession.Statement `json:"statement,omitempty"`
}

// taskID names one message of one event to one recipient.
func (p sendPayload) taskID() string {
	return "mail:" + p.Event + ":" + p.Kind + ":" + strings.ToLower(p.To)
}

// Occurred is the catalog's occurrence hook: it queues the mail of o, if
// it is one organisations are told of. It never fails the caller and
// waits at most a few seconds for Redis; what goes wrong is logged.
func (s *Service) Occurred(ctx context.Context, o presession.Occurrence) {
	if _, ok := kinds[o.Type]; !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), enqueueTimeout)
	defer cancel()
	b, err := json.Marshal(occurrencePayload{Occurrence: o})
	if err == nil {
		err = s.enqueue(ctx, asynq.NewTask(TypeOccurrence, b, asynq.Queue(Queue), asynq.TaskID("mail:occ:"+o.ID),
			asynq.MaxRetry(s.cfg.MaxRetry), asynq.Retention(s.cfg.Retention), asynq.Timeout(time.Minute)))
	}
	if err != nil {
		s.deps.Log.Error("queue mail", "occurrence", o.ID, "type", o.Type, "err", err)
	}
}

// enqueueTimeout bounds how long the occurrence hook waits for Redis.
const enqueueTimeout = 3 * time.Second

func (s *Service) enqueue(ctx context.Context, t *asynq.Task) error {
	_, err := s.client.EnqueueContext(ctx, t)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil // this message is queued, or was sent
	}
	if err != nil {
		return fmt.Errorf("notify: enqueue %s: %w", t.Type(), err)
	}
	return nil
}

// enqueueSend queues one message; it is a no-op when the same message was
// queued or sent before. keep is how long its ID stays taken once sent.
func (s *Service) enqueueSend(ctx context.Context, p sendPayload, keep time.Duration) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.enqueue(ctx, asynq.NewTask(TypeSend, b, asynq.Queue(Queue), asynq.TaskID(p.taskID()),
		asynq.MaxRetry(s.cfg.MaxRetry), asynq.Retention(keep), asynq.Timeout(2*time.Minute)))
}

// Handler serves the mail tasks.
func (s *Service) Handler() asynq.Handler {
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeOccurrence, s.fanOut)
	mux.HandleFunc(TypeSend, s.send)
	return mux
}

// fanOut queues the message of an occurrence to each of its invitation's
// addresses.
func (s *Service) fanOut(ctx context.Context, t *asynq.Task) error {
	var p occurrencePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	o := p.Occurrence
	kind := kinds[o.Type]
	invID := ""
	switch {
	case o.Invitation != nil:
		invID = o.Invitation.ID
	case o.Statement != nil:
		invID = o.Statement.InvitationID
	}
	if kind == "" || invID == "" {
		return nil
	}
	inv, err := s.deps.Invitations.Invitation(ctx, invID)
	if presession.ErrorCode(err) == presession.ENOTFOUND && o.Invitation != nil {
		inv, err = o.Invitation, nil
	}
	if presession.ErrorCode(err) == presession.ENOTFOUND {
		s.deps.Log.Debug("no invitation record, no mail", "occurrence", o.ID, "invitation", invID)
		return nil // issued before invitations had records, or by hand
	}
	if err != nil {
		return err
	}
	return s.queueTo(ctx, inv, sendPayload{Event: o.ID, Kind: kind, InvitationID: inv.ID, Statement: o.Statement}, s.cfg.Retention)
}

// queueTo queues p to each address of inv and records the message queued.
func (s *Service) queueTo(ctx context.Context, inv *presession.Invitation, p sendPayload, keep time.Duration) error {
	if len(inv.Emails) == 0 {
		return nil
	}
	for _, to := range inv.Emails {
		p.To = to
		if err := s.enqueueSend(ctx, p, keep); err != nil {
			return err
		}
	}
	s.record(ctx, inv.ID, p.Kind, presession.Delivery{State: presession.DeliveryQueued, At: s.cfg.Now().UTC()})
	return nil
}

func (s *Service) record(ctx context.Context, invID, kind string, d presession.Delivery) {
	if invID == "" {
		return
	}
	if err := s.deps.Invitations.RecordMail(ctx, invID, kind, d); err != nil {
		s.deps.Log.Error("record mail delivery", "invitation", invID, "kind", kind, "state", d.State, "err", err)
	}
}

// send composes and sends one message. A permanent refusal is recorded
// and ends the task; a temporary one is retried, and recorded as failed
// once the retries are spent.
func (s *Service) send(ctx context.Context, t *asynq.Task) error {
	var p sendPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	log := s.deps.Log.With("task", t.Type(), "kind", p.Kind, "event", p.Event, "invitation", p.InvitationID)
	msg, ok, err := s.compose(ctx, p)
	if err != nil {
		if presession.ErrorCode(err) == presession.ENOTFOUND {
			log.Warn("mail not sent: its invitation or session is gone", "err", err)
			return nil
		}
		return err
	}
	if !ok {
		return nil // nothing to tell any more (a reminder after an upload, an empty digest)
	}
	attempt, _ := asynq.GetRetryCount(ctx)
	attempt++
	err = s.deps.Sender.Send(ctx, msg)
	now := s.cfg.Now().UTC()
	if err == nil {
		s.record(ctx, p.InvitationID, p.Kind, presession.Delivery{State: presession.DeliverySent, At: now, Attempt: attempt})
		return nil
	}
	if perm, ok := mail.Permanent(err); ok {
		log.Warn("mail refused for good", "to", p.To, "answer", perm.Answer)
		s.record(ctx, p.InvitationID, p.Kind, presession.Delivery{State: presession.DeliveryFailed, At: now,
			Detail: p.To + ": " + perm.Answer, Attempt: attempt})
		if p.Kind == KindDigest {
			return nil // keeps its ID for DigestEvery, then the next digest tries again
		}
		return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
	}
	if max, _ := asynq.GetMaxRetry(ctx); attempt > max {
		s.record(ctx, p.InvitationID, p.Kind, presession.Delivery{State: presession.DeliveryFailed, At: now,
			Detail: fmt.Sprintf("%s: gave up after %d attempts: %v", p.To, attempt, err), Attempt: attempt})
	} else {
		s.record(ctx, p.InvitationID, p.Kind, presession.Delivery{State: presession.DeliveryQueued, At: now,
			Detail: p.To + ": " + err.Error(), Attempt: attempt})
	}
	return err
}

// Run serves the mail queue and checks reminders and the digest every
// SweepEvery until ctx is done, then stops within ShutdownTimeout.
func (s *Service) Run(ctx context.Context) error {
	srv := asynq.NewServer(s.redis, asynq.Config{
		Concurrency: s.cfg.Concurrency,
		Queues:      map[string]int{Queue: 1},
		RetryDelayFunc: func(n int, _ error, _ *asynq.Task) time.Duration {
			return s.cfg.RetryDelay(n)
		},
		ShutdownTimeout: s.cfg.ShutdownTimeout,
		Logger:          asynqlog.Logger{L: s.deps.Log.With("queue", Queue)},
		LogLevel:        asynq.WarnLevel,
	})
	if err := srv.Start(s.Handler()); err != nil {
		return fmt.Errorf("notify: start the mail queue: %w", err)
	}
	tick := time.NewTicker(s.cfg.SweepEvery)
	defer tick.Stop()
	for {
		if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.deps.Log.Error("mail sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			srv.Shutdown()
			return nil
		case <-tick.C:
		}
	}
}
