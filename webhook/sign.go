package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/uprinfo/presession"
)

// The Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every endpoint secret.
const SecretPrefix = "whsec_"

// secretBytes is the length of a generated key (the specification asks
// for 24 to 64 bytes).
const secretBytes = 32

// NewSecret returns a new endpoint secret: "whsec_" and the base64 of 32
// random bytes.
func NewSecret() string {
	b := make([]byte, secretBytes)
	rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// NewID returns a new endpoint ID.
func NewID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "wh_" + hex.EncodeToString(b)
}

// Sign returns the webhook-signature header of a delivery as the Standard
// Webhooks specification defines it: "v1," and the base64 of the
// HMAC-SHA256, keyed with the secret's bytes (the base64 after "whsec_"),
// of "{id}.{timestamp}.{body}", timestamp in unix seconds.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return "", errors.New("webhook: the secret is not whsec_ followed by base64")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// payload is a delivery's body: the specification's recommended shape.
type payload struct {
	Type      presession.OccurrenceType `json:"type"`
	Timestamp string                    `json:"timestamp"` // RFC 3339: when it happened
	Data      any                       `json:"data"`
}

// statementData is what a statement.* body tells of the statement.
type statementData struct {
	ID           string            `json:"id"`
	Session      string            `json:"session"`
	Country      string            `json:"country"`
	Organisation string            `json:"organisation"`
	Title        string            `json:"title"`
	Status       presession.Status `json:"status"`
	Reason       string            `json:"reason,omitempty"`
}

// invitationData is what an invitation.created body tells.
type invitationData struct {
	ID           string     `json:"id"`
	Session      string     `json:"session"`
	Country      string     `json:"country"`
	Organisation string     `json:"organisation"`
	Language     string     `json:"language,omitempty"`
	Until        *time.Time `json:"until,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
}

// playlistData is what a playlist.updated body tells.
type playlistData struct {
	Session string `json:"session"`
	Country string `json:"country"`
	Version string `json:"version"`
}

// Body returns the body a delivery of o carries.
func Body(o presession.Occurrence) ([]byte, error) {
	p := payload{Type: o.Type, Timestamp: o.At.UTC().Format(time.RFC3339)}
	switch {
	case o.Statement != nil:
		s := o.Statement
		p.Data = statementData{ID: s.ID, Session: s.Session, Country: s.Country, Organisation: s.Organisation,
			Title: s.Title, Status: s.Status, Reason: s.Reason}
	case o.Invitation != nil:
		in := o.Invitation
		p.Data = invitationData{ID: in.ID, Session: in.Session, Country: in.Country, Organisation: in.Organisation,
			Language: in.Language, Until: in.Until, CreatedAt: in.CreatedAt}
	case o.Type == presession.PlaylistUpdated:
		p.Data = playlistData{Session: o.Session, Country: o.Country, Version: o.Version}
	default:
		return nil, errors.New("webhook: occurrence " + o.ID + " carries nothing to tell")
	}
	return json.Marshal(p)
}
