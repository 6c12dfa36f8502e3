// Package catalog keeps the statements, their lifecycle, each country's
// playlist order and the invitations in Redis, and makes every change
// durable in storage.
//
// # Redis is a cache of storage
//
// Storage holds the record of truth: statements/{id}/statement.json (the
// whole statement, history included), orders/{session}/{CC}.json,
// invitations/{id}.json and viewer-links/{id}.json. Redis holds the same
// records plus the indexes that make List cheap, and the set of revoked
// ids; Reindex rebuilds all of it from storage alone.
//
// # Consistency: Redis first, then storage, with a pending mark
//
// Every change (Create, Transition, Update, SetOrder, CreateInvitation,
// RecordMail, CreateViewerLink, RevokeInvitation, RevokeViewerLink) is one
// optimistic Redis transaction (WATCH/MULTI/EXEC, retried on a lost race) that checks
// the rules against the current record, writes the new record and its
// indexes, and adds the record's name to a "dirty" set, all at once. The
// call then writes the record to storage and removes the dirty mark with a
// script that does so only if the Redis record still equals the bytes just
// written; if a newer change slipped in, it writes again. So:
//
//   - storage never holds a state that Redis did not commit (a loser of a
//     race writes nothing), and the last write to storage is always the
//     latest committed record, whatever order concurrent writers finish in;
//   - a crash, or a storage error, between the Redis commit and the storage
//     write leaves the change marked dirty in Redis. Sync writes every
//     pending record (call it at start), and Reindex calls Sync before it
//     reads storage, so it never discards a committed decision. A change is
//     acknowledged (the method returns nil) only once it is in storage; if
//     storage fails the method returns an error and the same call can be
//     retried: a Transition that finds its own change already applied but
//     still pending completes the write and succeeds.
//
// Writing storage first was rejected: with two staff racing, the loser's
// state could land in storage after the winner's and disagree with Redis.
//
// Live processing progress (SetProgress) is Redis only; it is not durable.
//
// # Key layout (prefix P, default "presession:")
//
//	P st:{id}                  string: the statement JSON (as in storage)
//	P idx:{S}:{CC}:{status}    sorted sets by creation time (µs); each of S,
//	                           CC, status may be empty = any, so every
//	                           statement is in 8 of them and every
//	                           session/country/status filter is one key
//	P inv:{invitation}         sorted set of an invitation's statements
//	P order:{S}:{CC}           string: the Order JSON (as in storage)
//	P iv:{id}                  string: an invitation's record (as in storage)
//	P ivx:{S}:{CC}             sorted sets of invitations by creation time (µs);
//	                           S, CC each may be empty = any (4 per invitation)
//	P vl:{id}                  string: a viewer link's record (as in storage)
//	P vlx:{S}:{CC}             sorted sets of viewer links by creation time (µs), as ivx
//	P revoked                  set of the ids of revoked invitations and viewer links
//	P progress                 hash id → live processing percentage
//	P dirty                    set of "st:{id}" / "order:{S}:{CC}" / "iv:{id}" / "vl:{id}" not yet in storage
//
// Multi-key transactions need all keys in one slot on a Redis Cluster:
// there, use a prefix with a hash tag such as "{presession}:".
package catalog

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
)

// Blobs is the part of object storage the catalog uses. Keys are
// slash-separated; the catalog only stores small JSON documents.
type Blobs interface {
	// WriteObject stores data under key, replacing any object there.
	WriteObject(ctx context.Context, key string, data []byte, contentType string) error
	// ReadObject returns the object's bytes, or an error with code
	// presession.ENOTFOUND when there is none.
	ReadObject(ctx context.Context, key string) ([]byte, error)
	// ListKeys returns every key that starts with prefix, at any depth.
	ListKeys(ctx context.Context, prefix string) ([]string, error)
}

// ErrExists is wrapped by the ECONFLICT error of Create when the id is taken.
var ErrExists = errors.New("catalog: statement exists")

// ErrNotDurable is wrapped when a change is committed in Redis but could not
// yet be written to storage; it stays pending until Sync (or a retry)
// writes it.
var ErrNotDurable = errors.New("catalog: change not yet written to storage")

// Catalog is the statement catalog. It is safe for concurrent use, by many
// processes sharing one Redis.
type Catalog struct {
	rdb      redis.UniversalClient
	blobs    Blobs
	prefix   string
	hook     func(ctx context.Context, session, country string)
	occurred func(ctx context.Context, o presession.Occurrence)
	now      func() time.Time
	clean    *redis.Script
}

// Option configures a Catalog.
type Option func(*Catalog)

// WithPrefix sets the prefix of every Redis key (default "presession:").
func WithPrefix(p string) Option { return func(c *Catalog) { c.prefix = p } }

// WithPlaylistHook sets fn to be called after every change that alters what
// a country's playlist shows: a Transition into or out of approved, a
// SetOrder, and an Update of an approved statement (captions, media, title…).
// It is called synchronously once the change is committed in Redis (also
// when the storage write then fails, since readers already see the change),
// so it should only enqueue work, e.g. a per-country deduplicated task.
func WithPlaylistHook(fn func(ctx context.Context, session, country string)) Option {
	return func(c *Catalog) { c.hook = fn }
}

// WithOccurrenceHook sets fn to be called after every Transition that is
// told to people and other systems (presession.StatementOccurrence: into
// uploaded, ready, failed, approved or rejected), and after every
// invitation recorded. Like the playlist hook it is called synchronously
// once the change is committed, and should only enqueue work; a retried
// call reports the same occurrence (same ID) again, so that work must be
// idempotent by the occurrence's ID.
func WithOccurrenceHook(fn func(ctx context.Context, o presession.Occurrence)) Option {
	return func(c *Catalog) { c.occurred = fn }
}

// WithClock sets the source of timestamps (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *Catalog) { c.now = now } }

// New returns a catalog on rdb whose records are made durable in blobs.
func New(rdb redis.UniversalClient, blobs Blobs, opts ...Option) *Catalog {
	c := &Catalog{rdb: rdb, blobs: blobs, prefix: "presession:", now: time.Now}
	for _, o := range opts {
		o(c)
	}
	// KEYS[1] record, KEYS[2] dirty set, ARGV[1] bytes written, ARGV[2] member.
	c.clean = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SREM', KEYS[2], ARGV[2])
  return 1
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[2], ARGV[2])
  return 1
end
return 0`)
	return c
}

func (c *Catalog) clock() time.Time { return c.now().UTC().Truncate(time.Microsecond) }

// Key names.

func (c *Catalog) kStmt(id string) string { return c.prefix + "st:" + id }
func (c *Catalog) kInv(inv string) string { return c.prefix + "inv:" + inv }
func (c *Catalog) kOrder(session, country string) string {
	return c.prefix + mOrder(session, country)
}
func (c *Catalog) kIdx(session, country string, st presession.Status) string {
	return c.prefix + "idx:" + session + ":" + country + ":" + string(st)
}
func (c *Catalog) kProgress() string { return c.prefix + "progress" }
func (c *Catalog) kDirty() string    { return c.prefix + "dirty" }

// Dirty-set members name a record relative to the prefix.
func mStmt(id string) string                { return "st:" + id }
func mOrder(session, country string) string { return "order:" + session + ":" + country }

// idxKeys returns the 8 index keys a statement with these fields is in.
func (c *Catalog) idxKeys(session, country string, st presession.Status) []string {
	keys := make([]string, 0, 8)
	for _, s := range []string{session, ""} {
		for _, cc := range []string{country, ""} {
			for _, x := range []presession.Status{st, ""} {
				keys = append(keys, c.kIdx(s, cc, x))
			}
		}
	}
	return keys
}

// statusIdxKeys returns the 4 index keys that depend on the status.
func (c *Catalog) statusIdxKeys(session, country string, st presession.Status) []string {
	keys := make([]string, 0, 4)
	for _, s := range []string{session, ""} {
		for _, cc := range []string{country, ""} {
			keys = append(keys, c.kIdx(s, cc, st))
		}
	}
	return keys
}

func score(s *presession.Statement) float64 { return float64(s.CreatedAt.UnixMicro()) }

// storageKey maps a dirty-set member to its Redis and storage keys.
func (c *Catalog) storageKey(member string) (rkey, skey string, err error) {
	switch {
	case strings.HasPrefix(member, "st:"):
		return c.prefix + member, layout.Record(strings.TrimPrefix(member, "st:")), nil
	case strings.HasPrefix(member, "iv:"):
		return c.prefix + member, layout.Invitation(strings.TrimPrefix(member, "iv:")), nil
	case strings.HasPrefix(member, "vl:"):
		return c.prefix + member, layout.ViewerLink(strings.TrimPrefix(member, "vl:")), nil
	case strings.HasPrefix(member, "order:"):
		rest := strings.TrimPrefix(member, "order:")
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			break
		}
		return c.prefix + member, layout.Order(rest[:i], rest[i+1:]), nil
	}
	return "", "", fmt.Errorf("catalog: unknown pending record %q", member)
}

// maxAttempts bounds the optimistic retries of one change. Losers of a race
// usually fail the rule check on their second read, so this is rarely near.
const maxAttempts = 100

// watch runs fn in an optimistic transaction on keys, retrying when another
// client changed a watched key before EXEC.
func (c *Catalog) watch(ctx context.Context, fn func(*redis.Tx) error, keys ...string) error {
	for i := 0; i < maxAttempts; i++ {
		err := c.rdb.Watch(ctx, fn, keys...)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
		d := time.Duration(rand.IntN(1+min(i, 10))) * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
	return (&presession.Error{Code: presession.ECONFLICT, Message: "too many concurrent changes; try again", Err: redis.TxFailedErr}).Localize("err.busy")
}

func (c *Catalog) notify(ctx context.Context, session, country string) {
	if c.hook != nil {
		c.hook(ctx, session, country)
	}
}

// tell reports o to the occurrence hook, if any.
func (c *Catalog) tell(ctx context.Context, o presession.Occurrence) {
	if c.occurred != nil {
		c.occurred(ctx, o)
	}
}
