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
	// RevokedAt is when staff revoked the invitation (nil: it stands):
	// from then its token is refused on every node, uploads in progress
	// under it stop, and what it already uploaded stays.
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	RevokedBy Actor      `json:"revoked_by,omitempty"`
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

// ViewerLink is the record of a viewing link the service issued to a
// delegation: the token's id and what it covers, for whom and by whom,
// and whether it was revoked. The signed token (package token) carries
// ID, Session, Country and Expires; this record holds the rest.
type ViewerLink struct {
	ID        string     `json:"id"`
	Session   string     `json:"session"`
	Country   string     `json:"country,omitempty"` // empty: the whole session
	For       string     `json:"for,omitempty"`     // whom it was issued for, as staff wrote it
	Expires   time.Time  `json:"expires"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy Actor      `json:"created_by"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	RevokedBy Actor      `json:"revoked_by,omitempty"`
}
