package presession

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds every rule of a statement's lifecycle besides the table
// of allowed moves (transitions, in statement.go): what a new statement
// starts as, what a move needs, and which fields it changes. The catalog
// applies them atomically; test doubles apply the same ones.

// MaxReasonLength bounds the reason of a transition, in characters.
const MaxReasonLength = 2000

// Bounds of a reason's catalogue message.
const (
	maxMessageKey  = 200
	maxMessageArgs = 8
)

// Actor names who made a change, as a statement's history records it:
// "cso:<invitation id>" (ActorCSO), "staff", "worker" or "system".
type Actor string

// The actors that are not an organisation.
const (
	ActorStaff  Actor = "staff"
	ActorWorker Actor = "worker"
	ActorSystem Actor = "system"
)

// ActorCSO is the organisation that holds the invitation.
func ActorCSO(invitationID string) Actor { return Actor("cso:" + invitationID) }

// Reason says why a statement moved. Text is English, as history and logs
// keep it. A reason the system wrote may carry the catalogue Message that
// says the same in other languages; a staff rejection, kept as typed,
// carries none.
type Reason struct {
	Text    string
	Message Message
}

// KeepsReason reports whether a statement in s shows why it is there
// (rejected, failed): a move there needs a reason, any other move clears it.
func (s Status) KeepsReason() bool { return s == StatusRejected || s == StatusFailed }

// A Move is one transition asked of a statement: the status it goes to,
// who moves it and why.
type Move struct {
	To     Status
	By     Actor
	Reason Reason
}

// NewMove is the move to status to by actor by for the reason text and at
// most one catalogue message, as a catalog's Transition takes them (a
// message with an empty key is none). It checks what the move needs
// whatever the statement's status: EINVALID for more than one message, a
// message on a status that keeps no reason or one out of bounds, an
// unknown status, no actor, no reason (once trimmed) for rejected or
// failed, or a reason longer than MaxReasonLength. Apply checks the same.
func NewMove(to Status, by Actor, text string, msg ...Message) (Move, error) {
	if len(msg) > 1 {
		return Move{}, Errorf(EINVALID, "a transition takes at most one reason message, not %d", len(msg))
	}
	m := Move{To: to, By: by, Reason: Reason{Text: text}}
	if len(msg) == 1 {
		m.Reason.Message = msg[0]
	}
	m = m.normal()
	if err := m.check(); err != nil {
		return Move{}, err
	}
	return m, nil
}

// normal trims the reason, drops a message without a key and copies the
// arguments of one with a key, so the statement never shares them with
// the caller.
func (m Move) normal() Move {
	r := &m.Reason
	r.Text = strings.TrimSpace(r.Text)
	if r.Message.Key == "" {
		r.Message = Message{}
		return m
	}
	r.Message.Args = slices.Clone(r.Message.Args)
	if len(r.Message.Args) == 0 {
		r.Message.Args = nil
	}
	return m
}

// check checks a normal move; see NewMove.
func (m Move) check() error {
	if msg := m.Reason.Message; msg.Key != "" {
		if !m.To.KeepsReason() {
			return Errorf(EINVALID, "a statement that becomes %s keeps no reason, so no reason message %q", m.To, msg.Key)
		}
		if len(msg.Key) > maxMessageKey || len(msg.Args) > maxMessageArgs {
			return Errorf(EINVALID, "the reason message %.40q is too long or has more than %d arguments", msg.Key, maxMessageArgs)
		}
		for _, a := range msg.Args {
			if utf8.RuneCountInString(a) > MaxReasonLength {
				return Errorf(EINVALID, "an argument of the reason message %q is longer than %d characters", msg.Key, MaxReasonLength)
			}
		}
	}
	if !m.To.Valid() {
		return Errorf(EINVALID, "unknown status %q", m.To).Localize("err.status_unknown", string(m.To))
	}
	if m.By == "" {
		return Errorf(EINVALID, "a transition needs an actor")
	}
	if m.To.KeepsReason() && m.Reason.Text == "" {
		return Errorf(EINVALID, "a reason is required to mark a statement %s", m.To).Localize("err.reason_required", m.To)
	}
	if utf8.RuneCountInString(m.Reason.Text) > MaxReasonLength {
		return Errorf(EINVALID, "the reason is longer than %d characters", MaxReasonLength).Localize("err.reason_long", MaxReasonLength)
	}
	return nil
}

// Apply makes move m of s at now. It refuses what NewMove refuses, a
// move the lifecycle does not allow from the current status (ECONFLICT
// naming both; see CheckTransition), and a move to uploaded or processing
// once the source is deleted (EGONE: nothing is left to process),
// changing nothing then. Otherwise it
// sets Status and UpdatedAt; keeps the reason (trimmed text and message)
// on rejected and failed and clears it on any other status; resets
// Progress to 0 on processing and 100 on ready; sets UploadedAt on the
// first move to uploaded; and appends the event (time, actor, from, to,
// reason text) to History.
func (s *Statement) Apply(m Move, now time.Time) error {
	m = m.normal()
	if err := m.check(); err != nil {
		return err
	}
	from, to := s.Status, m.To
	if err := CheckTransition(from, to); err != nil {
		return err
	}
	if (to == StatusUploaded || to == StatusProcessing) && !s.SourceDeletedAt.IsZero() {
		return Errorf(EGONE, "the uploaded file of this statement was deleted on %s; it cannot be processed again, the organisation must upload it anew",
			s.SourceDeletedAt.UTC().Format("2 January 2006 at 15:04 MST")).Localize("err.source_deleted", s.SourceDeletedAt)
	}
	s.Status, s.UpdatedAt = to, now
	s.Reason, s.ReasonKey, s.ReasonArgs = "", "", nil
	if to.KeepsReason() {
		s.Reason, s.ReasonKey, s.ReasonArgs = m.Reason.Text, m.Reason.Message.Key, m.Reason.Message.Args
	}
	switch to {
	case StatusProcessing:
		s.Progress = 0
	case StatusReady:
		s.Progress = 100
	case StatusUploaded:
		if s.UploadedAt.IsZero() {
			s.UploadedAt = now
		}
	}
	s.History = append(s.History, Event{At: now, Actor: m.By, From: from, To: to, Reason: m.Reason.Text})
	return nil
}

// Begin starts the lifecycle of a new statement at now. Its status must be
// uploading (the default) or uploaded (EINVALID otherwise). Begin sets
// CreatedAt unless set, UpdatedAt, UploadedAt of one that starts uploaded
// unless set, and, when History is empty, the creation event: by the
// organisation of its invitation, or by the system when it has none.
func (s *Statement) Begin(now time.Time) error {
	if s.Status == "" {
		s.Status = StatusUploading
	}
	if s.Status != StatusUploading && s.Status != StatusUploaded {
		return Errorf(EINVALID, "a new statement must be uploading or uploaded, not %s", s.Status)
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	s.UpdatedAt = now
	if s.Status == StatusUploaded && s.UploadedAt.IsZero() {
		s.UploadedAt = now
	}
	if len(s.History) == 0 {
		by := ActorSystem
		if s.InvitationID != "" {
			by = ActorCSO(s.InvitationID)
		}
		s.History = []Event{{At: now, Actor: by, To: s.Status}}
	}
	return nil
}
