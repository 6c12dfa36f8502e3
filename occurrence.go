package presession

import (
	"strconv"
	"time"
)

// OccurrenceType names something that happened which people or other
// systems are told about: by mail (organisations, staff) and by webhooks.
// The values are the webhook event types.
type OccurrenceType string

// The occurrences the service tells about.
const (
	StatementUploaded OccurrenceType = "statement.uploaded"
	StatementReady    OccurrenceType = "statement.ready"
	StatementFailed   OccurrenceType = "statement.failed"
	StatementApproved OccurrenceType = "statement.approved"
	StatementRejected OccurrenceType = "statement.rejected"
	PlaylistUpdated   OccurrenceType = "playlist.updated"
	InvitationCreated OccurrenceType = "invitation.created"
)

// OccurrenceTypes lists every occurrence type, for validation and pages.
var OccurrenceTypes = []OccurrenceType{StatementUploaded, StatementReady, StatementFailed,
	StatementApproved, StatementRejected, PlaylistUpdated, InvitationCreated}

// Occurrence is one thing that happened, as it is told. Its ID is the same
// however often it is reported (a retried transition, a re-enqueued task),
// so whoever tells it (a mail, a webhook delivery) can be idempotent by it.
type Occurrence struct {
	ID         string         `json:"id"`
	Type       OccurrenceType `json:"type"`
	At         time.Time      `json:"at"`
	Session    string         `json:"session"`
	Country    string         `json:"country"`
	Statement  *Statement     `json:"statement,omitempty"`
	Invitation *Invitation    `json:"invitation,omitempty"`
	// Version is the playlist build's version (playlist.updated only).
	Version string `json:"version,omitempty"`
}

// StatementOccurrence returns the occurrence of s's latest transition when
// it is one that is told (into uploaded, ready, failed, approved or
// rejected); ok is false for the others. Its ID names the statement and
// the transition's place in the history.
func StatementOccurrence(s *Statement) (o Occurrence, ok bool) {
	var t OccurrenceType
	switch s.Status {
	case StatusUploaded:
		t = StatementUploaded
	case StatusReady:
		t = StatementReady
	case StatusFailed:
		t = StatementFailed
	case StatusApproved:
		t = StatementApproved
	case StatusRejected:
		t = StatementRejected
	default:
		return Occurrence{}, false
	}
	at := s.UpdatedAt
	if n := len(s.History); n > 0 {
		at = s.History[n-1].At
	}
	return Occurrence{ID: "stmt_" + s.ID + "_" + strconv.Itoa(len(s.History)), Type: t, At: at,
		Session: s.Session, Country: s.Country, Statement: s}, true
}
