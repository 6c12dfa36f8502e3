package presession

import "time"

// Invitation is the record of an invitation the service issued: which
// organisation may upload statements on one country of one session, how
// to reach it, and what became of the mail that carried its link. The
// signed token (package token) carries ID, Session, Country, Organisation
// and Until; this record holds the rest.
type Invitation struct {
	ID           string     `json:"id"`
	Session      string     `json:"session"`
	Country      string     `json:"country"` // ISO 3166-1 alpha-2, upper case
	Organisation string     `json:"organisation"`
	Emails       []string   `json:"emails,omitempty"`   // the organisation's contacts
	Language     string     `json:"language,omitempty"` // en, fr or es: the language of its mail
	Until        *time.Time `json:"until,omitempty"`    // extension past the country's deadline
	CreatedAt    time.Time  `json:"created_at"`
	CreatedBy    Actor      `json:"created_by"`
	// Mail is what became of the mail of each kind sent to the
	// organisation, by kind ("invitation", "received", "failed", …).
	Mail map[string]Delivery `json:"mail,omitempty"`
}

// Delivery is the state of one message to a recipient.
type Delivery struct {
	State   DeliveryState `json:"state"`
	At      time.Time     `json:"at"`
	Detail  string        `json:"detail,omitempty"` // the server's answer to a refusal
	Attempt int           `json:"attempt,omitempty"`
}

// DeliveryState is where a message stands.
type DeliveryState string

// Delivery states: queued, then sent, or failed for good (a permanent
// refusal, or retries exhausted). A temporary refusal stays queued.
const (
	DeliveryQueued DeliveryState = "queued"
	DeliverySent   DeliveryState = "sent"
	DeliveryFailed DeliveryState = "failed"
)

// InvitationOccurrence returns the occurrence of inv's creation. Its ID
// names the invitation, so it is the same however often it is reported.
func InvitationOccurrence(inv *Invitation) Occurrence {
	return Occurrence{ID: "inv_" + inv.ID + "_created", Type: InvitationCreated, At: inv.CreatedAt,
		Session: inv.Session, Country: inv.Country, Invitation: inv}
}
