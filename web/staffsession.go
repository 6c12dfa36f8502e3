package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
)

// StaffSessionTTL is how long a staff sign-in lasts: the staff cookie's
// Max-Age and its session's lifetime in Redis.
const StaffSessionTTL = 12 * time.Hour

// StaffSessions are the staff sign-ins, kept server-side in Redis. The
// staff cookie holds only a random session id; every node sharing the
// Redis looks it up, so signing out (End) ends the session everywhere and
// a copied cookie stops working with it. A session lasts StaffSessionTTL
// and ends early when the staff token it began with changes.
//
// This is the store that per-person staff accounts (issue 14) extend
// rather than replace: a StaffSession then also names the person and
// their role, Start takes who signed in, and a person's sessions can be
// listed and ended together when they are disabled or reset.
type StaffSessions struct {
	rdb    redis.Cmdable
	prefix string
	ttl    time.Duration
}

// StaffSession is one staff sign-in, as stored.
type StaffSession struct {
	Started time.Time `json:"started"`
	Remote  string    `json:"remote,omitempty"` // the client address it began from
	// Credential is a MAC of the staff token the session began with, so
	// that changing PRESESSION_STAFF_TOKEN ends it.
	Credential string `json:"credential"`
}

// NewStaffSessions returns the staff sessions kept in rdb under prefix
// (the service's own key prefix), each lasting ttl.
func NewStaffSessions(rdb redis.Cmdable, prefix string, ttl time.Duration) *StaffSessions {
	return &StaffSessions{rdb: rdb, prefix: prefix + "staff:session:", ttl: ttl}
}

// sessionIDBytes is the entropy of a session id.
const sessionIDBytes = 32

// key is where the session id is stored: a hash of it, so the ids of live
// sessions cannot be read from Redis.
func (s *StaffSessions) key(id string) string {
	sum := sha256.Sum256([]byte(id))
	return s.prefix + base64.RawURLEncoding.EncodeToString(sum[:])
}

// wellFormed reports whether id can be a session id Start made, so that
// garbage in a cookie costs no Redis round trip.
func wellFormed(id string) bool {
	b, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil && len(b) == sessionIDBytes
}

// Start begins a session and returns its id, the staff cookie's value.
func (s *StaffSessions) Start(ctx context.Context, ss StaffSession) (string, error) {
	raw := make([]byte, sessionIDBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("staff session: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	data, err := json.Marshal(ss)
	if err != nil {
		return "", fmt.Errorf("staff session: %w", err)
	}
	if err := s.rdb.Set(ctx, s.key(id), data, s.ttl).Err(); err != nil {
		return "", fmt.Errorf("staff session: start: %w", err)
	}
	return id, nil
}

// Get returns the live session id names: ENOTFOUND when there is none
// (never started, ended, or expired).
func (s *StaffSessions) Get(ctx context.Context, id string) (StaffSession, error) {
	var ss StaffSession
	if !wellFormed(id) {
		return ss, errNoStaffSession()
	}
	data, err := s.rdb.Get(ctx, s.key(id)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return ss, errNoStaffSession()
	case err != nil:
		return ss, fmt.Errorf("staff session: get: %w", err)
	}
	if err := json.Unmarshal(data, &ss); err != nil {
		return ss, fmt.Errorf("staff session: decode: %w", err)
	}
	return ss, nil
}

// End ends the session id names, on every node; ending one that is not
// live does nothing.
func (s *StaffSessions) End(ctx context.Context, id string) error {
	if !wellFormed(id) {
		return nil
	}
	if err := s.rdb.Del(ctx, s.key(id)).Err(); err != nil {
		return fmt.Errorf("staff session: end: %w", err)
	}
	return nil
}

func errNoStaffSession() error {
	return presession.Errorf(presession.ENOTFOUND, "no such staff session (never started, ended or expired)")
}
