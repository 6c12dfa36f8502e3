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

// NewReason is the reason of a transition from its text and at most one
// catalogue message (EINVALID for more), as the catalog's Transition takes
// them. A message with an empty key is none.
func NewReason(text string, msg ...Message) (Reason, error) {
	if len(msg) > 1 {
		return Reason{}, Errorf(EINVALID, "a transition takes at most one reason message, not %d", len(msg))
	}
	r := Reason{Text: text}
	if len(msg) == 1 {
		r.Message = msg[0]
	}
	return r.normal(), nil
}

// normal trims the text, drops a message without a key and copies the
// arguments of one with a key, so the statement never shares them with
// the caller.
func (r Reason) normal() Reason {
	r.Text = strings.TrimSpace(r.Text)
	if r.Message.Key == "" {
		r.Message = Message{}
		return r
	}
	r.Message.Args = slices.Clone(r.Message.Args)
	if len(r.Message.Args) == 0 {
		r.Message.Args = nil
	}
	return r
}

// keepsReason reports whether a statement in s shows why it is there.
func (s Status) keepsReason() bool { return s == StatusRejected || s == StatusFailed }

// CheckMove checks what a transition to status to by actor by for reason
// why needs, whatever the statement's current status: EINVALID for a
// message on a status that keeps no reason or one out of bounds, an
// unknown status, no actor, no reason for rejected or failed, or a reason
// longer than MaxReasonLength. A statement's Apply checks the same.
func CheckMove(to Status, by Actor, why Reason) error {
	return checkMove(to, by, why.normal())
}

func checkMove(to Status, by Actor, why Reason) error {
	if m := why.Message; m.Key != "" {
		if !to.keepsReason() {
			return Errorf(EINVALID, "a statement that becomes %s keeps no reason, so no reason message %q", to, m.Key)
		}
		if len(m.Key) > maxMessageKey || len(m.Args) > maxMessageArgs {
			return Errorf(EINVALID, "the reason message %.40q is too long or has more than %d arguments", m.Key, maxMessageArgs)
		}
		for _, a := range m.Args {
			if utf8.RuneCountInString(a) > MaxReasonLength {
				return Errorf(EINVALID, "an argument of the reason message %q is longer than %d characters", m.Key, MaxReasonLength)
			}
		}
	}
	if !to.Valid() {
		return Errorf(EINVALID, "unknown status %q", to).Localize("err.status_unknown", string(to))
	}
	if by == "" {
		return Errorf(EINVALID, "a transition needs an actor")
	}
	if to.keepsReason() && why.Text == "" {
		return Errorf(EINVALID, "a reason is required to mark a statement %s", to).Localize("err.reason_required", to)
	}
	if utf8.RuneCountInString(why.Text) > MaxReasonLength {
		return Errorf(EINVALID, "the reason is longer than %d characters", MaxReasonLength).Localize("err.reason_long", MaxReasonLength)
	}
	return nil
}

// Apply moves s to status to at now, by actor by, for reason why (its text
// trimmed). It refuses what CheckMove refuses, and a move the lifecycle
// does not allow from the current status (ECONFLICT naming both; see
// CheckTransition), changing nothing then. Otherwise it sets Status and
// UpdatedAt; keeps the reason (text and message) on rejected and failed
// and clears it on any other status; resets Progress to 0 on processing
// and 100 on ready; sets UploadedAt on the first move to uploaded; and
// appends the event (time, actor, from, to, reason text) to History.
func (s *Statement) Apply(to Status, by Actor, why Reason, now time.Time) error {
	why = why.normal()
	if err := checkMove(to, by, why); err != nil {
		return err
	}
	from := s.Status
	if err := CheckTransition(from, to); err != nil {
		return err
	}
	s.Status, s.UpdatedAt = to, now
	s.Reason, s.ReasonKey, s.ReasonArgs = "", "", nil
	if to.keepsReason() {
		s.Reason, s.ReasonKey, s.ReasonArgs = why.Text, why.Message.Key, why.Message.Args
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
	s.History = append(s.History, Event{At: now, Actor: by, From: from, To: to, Reason: why.Text})
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
