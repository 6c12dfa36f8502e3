package staff

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
)

// How often a session in use is written back: its idle expiry in Redis
// at most once a minute, its copy in storage at most every ten minutes
// (a copy restored by a reindex may so end up to ten minutes early, never
// late).
const (
	SessionRefresh       = time.Minute
	SessionDurableWindow = 10 * time.Minute
)

// session is one sign-in, as stored under the hash of its id.
type session struct {
	Kind presession.IdentityKind `json:"kind,omitempty"` // empty: a service session from before accounts
	// Member and Generation name the member and the generation of its
	// account the session began in.
	Member     string `json:"member,omitempty"`
	Generation int    `json:"generation,omitempty"`
	// Credential is, for a service session, a MAC of the staff token it
	// began with, so that changing PRESESSION_STAFF_TOKEN ends it.
	Credential string    `json:"credential,omitempty"`
	Started    time.Time `json:"started"`
	Expires    time.Time `json:"expires,omitzero"` // absolute end; zero: Started + SessionMax
	Seen       time.Time `json:"seen,omitzero"`    // when its idle expiry was last pushed back
	Stored     time.Time `json:"stored,omitzero"`  // when its storage copy was last written
	Remote     string    `json:"remote,omitempty"` // the client address it began from
}

// credential is what a service session records of the staff token.
func (d *Directory) credential() string {
	m := hmac.New(sha256.New, []byte(d.cfg.StaffToken))
	m.Write([]byte("presession staff session v1"))
	return hex.EncodeToString(m.Sum(nil))
}

func noSession() error {
	return presession.Errorf(presession.ENOTFOUND, "no such staff session (never started, ended or expired)")
}

// StartSession begins a session of id (a member or the service; an API
// token has none) from the client address remote, and returns its id,
// the staff cookie's value. A member's session is bound to the current
// generation of its account, which must not be disabled.
func (d *Directory) StartSession(ctx context.Context, id presession.Identity, remote string) (string, error) {
	now := d.now().Truncate(time.Second)
	s := session{Kind: id.Kind, Started: now, Expires: now.Add(d.cfg.SessionMax), Seen: now, Stored: now, Remote: remote}
	switch id.Kind {
	case presession.IdentityService:
		if d.cfg.StaffToken == "" {
			return "", errors.New("staff: service session without a staff token")
		}
		s.Credential = d.credential()
	case presession.IdentityMember:
		m, err := d.Member(ctx, id.ID)
		if err != nil {
			return "", err
		}
		if m.Disabled {
			return "", disabled()
		}
		s.Member, s.Generation = m.ID, m.Generation
	default:
		return "", fmt.Errorf("staff: no session for a %s identity", id.Kind)
	}
	sid, err := newSecret()
	if err != nil {
		return "", err
	}
	data, err := marshal(s)
	if err != nil {
		return "", err
	}
	h := secretHash(sid)
	if err := d.put(ctx, layout.StaffSession(h), data); err != nil {
		return "", err
	}
	if err := d.rdb.Set(ctx, d.kSession(h), data, d.cfg.SessionIdle).Err(); err != nil {
		return "", fmt.Errorf("staff: start session: %w", err)
	}
	return sid, nil
}

// SessionIdentity returns who the session sid is: ENOTFOUND when there is
// none (never started, ended, idle or past its lifetime), and when its
// member is disabled or its generation changed, or, for a service
// session, the staff token changed. It pushes the idle expiry back, at
// most once every SessionRefresh.
func (d *Directory) SessionIdentity(ctx context.Context, sid string) (presession.Identity, error) {
	if !wellFormed(sid) {
		return presession.Identity{}, noSession()
	}
	h := secretHash(sid)
	data, err := d.rdb.Get(ctx, d.kSession(h)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return presession.Identity{}, noSession()
	case err != nil:
		return presession.Identity{}, fmt.Errorf("staff: session: %w", err)
	}
	var s session
	if err := json.Unmarshal(data, &s); err != nil {
		return presession.Identity{}, fmt.Errorf("staff: decode session: %w", err)
	}
	now := d.now()
	id, live, err := d.judge(ctx, &s, now)
	if err != nil {
		return presession.Identity{}, err
	}
	if !live {
		return presession.Identity{}, errors.Join(noSession(), d.drop(ctx, h))
	}
	if now.Sub(s.Seen) >= SessionRefresh {
		if err := d.touch(ctx, h, s, now); err != nil {
			return presession.Identity{}, err
		}
	}
	return id, nil
}

// judge tells whether s is live at now, and who it is.
func (d *Directory) judge(ctx context.Context, s *session, now time.Time) (presession.Identity, bool, error) {
	if d.expired(s, now) {
		return presession.Identity{}, false, nil
	}
	switch s.Kind {
	case "", presession.IdentityService:
		ok := d.cfg.StaffToken != "" && subtle.ConstantTimeCompare([]byte(s.Credential), []byte(d.credential())) == 1
		return presession.ServiceIdentity(), ok, nil
	case presession.IdentityMember:
		m, err := d.Member(ctx, s.Member)
		switch {
		case presession.ErrorCode(err) == presession.ENOTFOUND:
			return presession.Identity{}, false, nil
		case err != nil:
			return presession.Identity{}, false, err
		}
		return m.Identity(), !m.Disabled && m.Generation == s.Generation, nil
	}
	return presession.Identity{}, false, nil
}

// expired tells whether s is past its lifetime or idle at now, filling
// in the ends of a session from before accounts.
func (d *Directory) expired(s *session, now time.Time) bool {
	if s.Expires.IsZero() {
		s.Expires = s.Started.Add(d.cfg.SessionMax)
	}
	if s.Seen.IsZero() {
		s.Seen = s.Started
	}
	return !now.Before(s.Expires) || now.Sub(s.Seen) >= d.cfg.SessionIdle
}

// touch pushes the idle expiry of the session h back from now (never
// past its absolute end), and its storage copy's when that is old. A
// session ended meanwhile stays ended.
func (d *Directory) touch(ctx context.Context, h string, s session, now time.Time) error {
	s.Seen = now
	durable := now.Sub(s.Stored) >= SessionDurableWindow
	if durable {
		s.Stored = now
	}
	data, err := marshal(s)
	if err != nil {
		return err
	}
	ttl := min(d.cfg.SessionIdle, s.Expires.Sub(now))
	ok, err := d.rdb.SetXX(ctx, d.kSession(h), data, ttl).Result()
	if err != nil {
		return fmt.Errorf("staff: refresh session: %w", err)
	}
	if ok && durable {
		return d.put(ctx, layout.StaffSession(h), data)
	}
	return nil
}

// drop removes the session h, from Redis and storage.
func (d *Directory) drop(ctx context.Context, h string) error {
	if err := d.rdb.Del(ctx, d.kSession(h)).Err(); err != nil {
		return fmt.Errorf("staff: end session: %w", err)
	}
	return d.del(ctx, layout.StaffSession(h))
}

// EndSession ends the session sid on every node; ending one that is not
// live does nothing.
func (d *Directory) EndSession(ctx context.Context, sid string) error {
	if !wellFormed(sid) {
		return nil
	}
	return d.drop(ctx, secretHash(sid))
}
