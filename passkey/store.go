package passkey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
)

// ChallengeTTL is how long a ceremony begun (registration or sign-in)
// may take to finish; the browser's own timeout is the same.
const ChallengeTTL = 5 * time.Minute

// PendingTTL is how long a password sign-in waits for its passkey.
const PendingTTL = 5 * time.Minute

// The kinds of ceremony a challenge was issued for.
const (
	ceremonyRegister = "register" // a signed-in member adds a passkey
	ceremonyLogin    = "login"    // a passkey alone signs in (discoverable)
	ceremonySecond   = "second"   // the passkey after the password
)

// ceremony is what the server keeps of a challenge it issued, until the
// answer comes (or ChallengeTTL passes): the library's session data, and
// whom it was for.
type ceremony struct {
	Kind    string               `json:"kind"`
	Member  string               `json:"member,omitempty"`  // register, second: the member it is for
	Pending string               `json:"pending,omitempty"` // second: the hash of the pending sign-in's id
	Session webauthn.SessionData `json:"session"`
}

// pending is a password sign-in waiting for the member's passkey.
type pending struct {
	Member     string    `json:"member"`
	Generation int       `json:"generation"` // the member's when the password was right
	Remote     string    `json:"remote,omitempty"`
	Started    time.Time `json:"started"`
}

// store keeps ceremonies and pending sign-ins in Redis, each under a hash
// of what names it (the challenge, the pending cookie's id), so that
// Redis never holds a value a browser could present.
type store struct {
	rdb    redis.Cmdable
	prefix string
}

func hashKey(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// putCeremony keeps c until its challenge is answered or ChallengeTTL
// passes.
func (s *store) putCeremony(ctx context.Context, c ceremony) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("passkey: ceremony: %w", err)
	}
	if err := s.rdb.Set(ctx, s.prefix+"passkey:challenge:"+hashKey(c.Session.Challenge), data, ChallengeTTL).Err(); err != nil {
		return fmt.Errorf("passkey: keep challenge: %w", err)
	}
	return nil
}

// takeCeremony returns the ceremony of challenge and forgets it (one use):
// EGONE when there is none (never issued, used, or expired).
func (s *store) takeCeremony(ctx context.Context, challenge string) (ceremony, error) {
	var c ceremony
	data, err := s.rdb.GetDel(ctx, s.prefix+"passkey:challenge:"+hashKey(challenge)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return c, errExpired()
	case err != nil:
		return c, fmt.Errorf("passkey: take challenge: %w", err)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("passkey: decode challenge: %w", err)
	}
	return c, nil
}

// pendingIDBytes is the entropy of a pending sign-in's id.
const pendingIDBytes = 32

// putPending records p and returns its id, the pending cookie's value.
func (s *store) putPending(ctx context.Context, p pending) (string, error) {
	raw := make([]byte, pendingIDBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("passkey: pending: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	data, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("passkey: pending: %w", err)
	}
	if err := s.rdb.Set(ctx, s.prefix+"passkey:pending:"+hashKey(id), data, PendingTTL).Err(); err != nil {
		return "", fmt.Errorf("passkey: keep pending sign-in: %w", err)
	}
	return id, nil
}

// getPending returns the pending sign-in whose id hashes to hash: EGONE
// when there is none (never started, finished, or expired).
func (s *store) getPending(ctx context.Context, hash string, take bool) (pending, error) {
	var p pending
	key := s.prefix + "passkey:pending:" + hash
	var cmd *redis.StringCmd
	if take {
		cmd = s.rdb.GetDel(ctx, key)
	} else {
		cmd = s.rdb.Get(ctx, key)
	}
	data, err := cmd.Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return p, errPendingGone()
	case err != nil:
		return p, fmt.Errorf("passkey: pending sign-in: %w", err)
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("passkey: decode pending sign-in: %w", err)
	}
	return p, nil
}

func errExpired() error {
	return presession.Errorf(presession.EGONE, "this passkey request expired or was already used; try again").Localize("staff.passkey.expired")
}

func errPendingGone() error {
	return presession.Errorf(presession.EGONE, "the sign-in waiting for your passkey expired; sign in with your email and password again").Localize("staff.passkey.pending_gone")
}
