// Package token signs and verifies the two kinds of bearer tokens the
// service hands out: invitations (upload rights for one organisation, one
// session and one country) and viewer tokens (watch rights for a session or
// one of its countries, until an expiry).
//
// A token is base64url(payload) "." base64url(HMAC-SHA-256(kind || payload)),
// with no padding: compact, URL-safe, and verified in constant time. The
// kind is inside the MAC, so a viewer token never verifies as an
// invitation.
package token

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/uprinfo/presession"
)

const (
	kindInvitation = "inv"
	kindViewer     = "view"
)

// Invitation grants an organisation uploads for one session and country.
type Invitation struct {
	ID           string    `json:"id"`
	Session      string    `json:"s"`
	Country      string    `json:"c"`
	Organisation string    `json:"o"`
	Until        time.Time `json:"u,omitzero"` // extension past the country's deadline
	IssuedAt     time.Time `json:"iat"`
}

// Viewer grants a delegation viewing of a session, or of one country in it
// when Country is set, until Expires.
type Viewer struct {
	ID       string    `json:"id"`
	Session  string    `json:"s"`
	Country  string    `json:"c,omitempty"`
	Expires  time.Time `json:"exp"`
	IssuedAt time.Time `json:"iat"`
}

// Allows reports whether the viewer token covers the session and country.
func (v Viewer) Allows(session, country string) bool {
	return v.Session == session && (v.Country == "" || strings.EqualFold(v.Country, country))
}

// Signer signs tokens with its newest key and verifies them with any of
// its keys, so a key can be rotated without breaking the links issued
// under the previous one: put the new key first, keep the old one after
// it until those links have expired or been replaced.
type Signer struct{ keys [][]byte }

// NewSigner returns a signer for keys, newest first (at least one; 32
// bytes each are expected).
func NewSigner(keys ...[]byte) *Signer {
	s := &Signer{}
	for _, k := range keys {
		s.keys = append(s.keys, append([]byte(nil), k...))
	}
	return s
}

// NewID returns a random 16-character identifier.
func NewID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// SignInvitation returns the token of inv, filling ID and IssuedAt when unset.
func (s *Signer) SignInvitation(inv Invitation) (string, Invitation) {
	if inv.ID == "" {
		inv.ID = NewID()
	}
	if inv.IssuedAt.IsZero() {
		inv.IssuedAt = time.Now().UTC().Truncate(time.Second)
	}
	inv.Country = strings.ToUpper(inv.Country)
	return s.sign(kindInvitation, inv), inv
}

// SignViewer returns the token of v, filling ID and IssuedAt when unset.
func (s *Signer) SignViewer(v Viewer) (string, Viewer) {
	if v.ID == "" {
		v.ID = NewID()
	}
	if v.IssuedAt.IsZero() {
		v.IssuedAt = time.Now().UTC().Truncate(time.Second)
	}
	v.Country = strings.ToUpper(v.Country)
	return s.sign(kindViewer, v), v
}

// ParseInvitation verifies tok as an invitation. Deadlines are not checked
// here: the caller knows the session's.
func (s *Signer) ParseInvitation(tok string) (Invitation, error) {
	var inv Invitation
	if err := s.verify(kindInvitation, tok, &inv); err != nil {
		return Invitation{}, err
	}
	if inv.ID == "" || inv.Session == "" || inv.Country == "" || inv.Organisation == "" {
		return Invitation{}, invalid()
	}
	return inv, nil
}

// ParseViewer verifies tok as a viewer token valid at now.
func (s *Signer) ParseViewer(tok string, now time.Time) (Viewer, error) {
	var v Viewer
	if err := s.verify(kindViewer, tok, &v); err != nil {
		return Viewer{}, err
	}
	if v.Session == "" || v.Expires.IsZero() {
		return Viewer{}, invalid()
	}
	if now.After(v.Expires) {
		return Viewer{}, presession.Errorf(presession.EUNAUTHORIZED,
			"this viewing link expired on %s; ask the organisers for a new one", v.Expires.UTC().Format("2006-01-02 15:04 UTC")).
			Localize("auth.viewer_expired", v.Expires.UTC())
	}
	return v, nil
}

func invalid() error {
	return presession.Errorf(presession.EUNAUTHORIZED,
		"the link's token is not valid (it may be incomplete or altered); open the full link you were sent, or ask the organisers for a new one").
		Localize("auth.token_invalid")
}

func mac(key []byte, kind string, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)
}

func (s *Signer) sign(kind string, v any) string {
	payload, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs above are marshalled
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(mac(s.keys[0], kind, payload))
}

func (s *Signer) verify(kind, tok string, v any) error {
	p, m, ok := strings.Cut(strings.TrimSpace(tok), ".")
	if !ok || p == "" || m == "" {
		return invalid()
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p)
	sum, err2 := enc.DecodeString(m)
	if err1 != nil || err2 != nil {
		return invalid()
	}
	if !slices.ContainsFunc(s.keys, func(k []byte) bool { return hmac.Equal(sum, mac(k, kind, payload)) }) {
		return invalid()
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return invalid()
	}
	return nil
}
