// Package staff keeps the staff directory: the accounts of the people who
// run the service, their set-password links, their sign-in sessions and
// the named API tokens admins create.
//
// # Durable: Redis is a cache of storage
//
// Every account, API token, live session and unused set-password link is
// a JSON record in Redis with a copy in storage (package layout names the
// keys: staff/members/{id}.json, staff/tokens/{id}.json,
// staff/sessions/{hash}.json, staff/links/{hash}.json), so that a restart
// on an empty Redis, or `presession reindex`, keeps them: [Directory.Reindex]
// rebuilds Redis from storage alone. A new record is written to storage
// before Redis serves it; a change is committed in Redis (WATCH/MULTI/EXEC)
// and then written to storage, again if a newer change slipped in
// meanwhile, so storage ends with the latest.
//
// Nothing secret is kept in clear: a session id, a link token and an API
// token's secret are each stored as their SHA-256; a password as its
// argon2id hash.
//
// # Sessions end everywhere at once
//
// The staff cookie holds a random session id only. Every node reads the
// same session record, so ending one (sign-out) ends it everywhere. A
// member's session records the member's Generation, which disabling,
// resetting, setting the password and changing the role each bump: the
// session is then refused on every node at its next request. A session
// signed in with the staff token records a MAC of the token, so changing
// PRESESSION_STAFF_TOKEN ends every such session.
//
// # Redis keys (prefix P)
//
//	P staff:members          hash member id → the account's JSON (as in storage)
//	P staff:emails           hash e-mail address → member id
//	P staff:tokens           hash token id → the API token's JSON (as in storage)
//	P staff:session:{hash}   string: a session's JSON, expiring when it goes idle
//	P staff:link:{hash}      string: a set-password link's JSON (kept past its use, to tell used from unknown)
//	P staff:links            hash member id → the hash of its current link
package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
)

// Blobs is the part of storage the directory's durable copy needs;
// StorageBlobs makes it of a storage.Dir or storage.S3.
type Blobs interface {
	// WriteObject stores data under key, replacing any object there.
	WriteObject(ctx context.Context, key string, data []byte, contentType string) error
	// ReadObject returns the object's bytes, or an error with code
	// presession.ENOTFOUND when there is none.
	ReadObject(ctx context.Context, key string) ([]byte, error)
	// ListKeys returns every key that starts with prefix, at any depth.
	ListKeys(ctx context.Context, prefix string) ([]string, error)
	// DeleteObject removes the object under key; a missing one is no
	// error.
	DeleteObject(ctx context.Context, key string) error
}

// Config is what the directory needs of the service's configuration.
type Config struct {
	Prefix          string        // the service's Redis key prefix
	PublicURL       string        // for set-password links: PublicURL + "/staff/password?t=..."
	StaffToken      string        // PRESESSION_STAFF_TOKEN: service sessions end when it changes
	SessionIdle     time.Duration // default 2h: a session unused this long ends
	SessionMax      time.Duration // default 12h: absolute lifetime
	SetLinkValidity time.Duration // default 72h: a set-password link's validity
	Now             func() time.Time
}

// Defaults of Config.
const (
	DefaultSessionIdle     = 2 * time.Hour
	DefaultSessionMax      = 12 * time.Hour
	DefaultSetLinkValidity = 72 * time.Hour
)

// Directory is the staff directory. It is safe for concurrent use, by many
// processes sharing one Redis.
type Directory struct {
	rdb    redis.UniversalClient
	blobs  Blobs
	cfg    Config
	prefix string // cfg.Prefix + "staff:"

	dummyOnce sync.Once
	dummy     string // a hash Authenticate checks when there is none, to cost the same
}

// New returns the directory kept in rdb under cfg.Prefix, durable in
// blobs. Zero durations in cfg take their defaults.
func New(rdb redis.UniversalClient, blobs Blobs, cfg Config) *Directory {
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = DefaultSessionIdle
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = DefaultSessionMax
	}
	if cfg.SetLinkValidity <= 0 {
		cfg.SetLinkValidity = DefaultSetLinkValidity
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Directory{rdb: rdb, blobs: blobs, cfg: cfg, prefix: cfg.Prefix + "staff:"}
}

func (d *Directory) now() time.Time { return d.cfg.Now().UTC() }

func (d *Directory) kMembers() string            { return d.prefix + "members" }
func (d *Directory) kEmails() string             { return d.prefix + "emails" }
func (d *Directory) kTokens() string             { return d.prefix + "tokens" }
func (d *Directory) kSession(hash string) string { return d.prefix + "session:" + hash }
func (d *Directory) kLink(hash string) string    { return d.prefix + "link:" + hash }
func (d *Directory) kLinks() string              { return d.prefix + "links" }

// secretBytes is the entropy of a session id, a link token and an API
// token's secret.
const secretBytes = 32

// newSecret returns a random secret, base64url without padding.
func newSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("staff: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// newID returns a random record id: 16 hex digits.
func newID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("staff: random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// wellFormed reports whether s can be a secret newSecret made, so that
// garbage costs no Redis round trip.
func wellFormed(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == secretBytes
}

// secretHash is what a session id or link token is stored as: its
// SHA-256, base64url (the session keys' form since before accounts).
func secretHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// put writes v's JSON to storage under key.
func (d *Directory) put(ctx context.Context, key string, data []byte) error {
	if err := d.blobs.WriteObject(ctx, key, data, "application/json"); err != nil {
		return fmt.Errorf("staff: store %s: %w", key, err)
	}
	return nil
}

// del removes key from storage.
func (d *Directory) del(ctx context.Context, key string) error {
	if err := d.blobs.DeleteObject(ctx, key); err != nil && presession.ErrorCode(err) != presession.ENOTFOUND {
		return fmt.Errorf("staff: delete %s: %w", key, err)
	}
	return nil
}

// hashRecord is a JSON record in a Redis hash, durable under a storage key.
type hashRecord struct {
	hash, field, key string
}

// update changes the record rec with fn, atomically (WATCH on its hash,
// retried on a lost race), then writes it to storage: again, if a newer
// change slipped in before the write, so storage ends with the latest.
// notFound is the error when the record does not exist.
func (d *Directory) update(ctx context.Context, rec hashRecord, notFound error, fn func(data []byte) ([]byte, error)) ([]byte, error) {
	var out []byte
	txf := func(tx *redis.Tx) error {
		cur, err := tx.HGet(ctx, rec.hash, rec.field).Bytes()
		switch {
		case errors.Is(err, redis.Nil):
			return notFound
		case err != nil:
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, rec.hash, rec.field, next)
			return nil
		})
		out = next
		return err
	}
	for range 20 {
		err := d.rdb.Watch(ctx, txf, rec.hash)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return out, d.settle(ctx, rec, out)
	}
	return nil, presession.Errorf(presession.ECONFLICT, "too many concurrent changes; try again")
}

// settle writes data, just committed under rec, to storage, and again
// what Redis holds as long as it changed meanwhile.
func (d *Directory) settle(ctx context.Context, rec hashRecord, data []byte) error {
	for range 10 {
		if err := d.put(ctx, rec.key, data); err != nil {
			return err
		}
		cur, err := d.rdb.HGet(ctx, rec.hash, rec.field).Bytes()
		if err != nil {
			return fmt.Errorf("staff: recheck %s: %w", rec.key, err)
		}
		if string(cur) == string(data) {
			return nil
		}
		data = cur
	}
	return nil // the writer of the newer change writes it
}

func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("staff: encode: %w", err)
	}
	return b, nil
}
