// Package audit keeps the audit trail: who (a member of staff, an API
// token, or the service token) did what, to what, when, and how it ended,
// for every action staff routes record (web.Site.Staff) and every other
// one a package records itself (sign-in, accounts, revocations).
//
//   - [Log] records entries (it is the site's web.Auditor) and answers
//     queries by actor, by action (exact, or a family such as
//     "statement."), since a time, newest first.
//   - [API] serves GET /api/v1/audit, as JSON or CSV, and the audit page
//     at /staff/audit.
//
// # Storage first, then Redis
//
// Every entry is one object in storage (layout.Audit: the day's
// directory, then its time, so a listing is chronological), written
// before the entry reaches Redis: an entry Redis shows is durable. Redis
// holds the entries and the indexes that answer a query without reading
// storage; Reindex rebuilds them from storage alone (an embedded Redis at
// start, `presession reindex`). Entries are immutable: an id is recorded
// once, and recording it again is refused (ECONFLICT).
//
// # Redis keys (prefix P)
//
//	P audit:e             hash id → the entry's JSON (as in storage)
//	P audit:t             sorted set of every entry's id by time (µs)
//	P audit:a:{actor}     the same, one per actor
//	P audit:x:{action}    the same, one per action
//	P audit:f:{family}    the same, one per action family (what precedes the first ".")
//	P audit:actors        hash actor → the name it last acted under
//	P audit:actions       set of the actions recorded
//
// A multi-key script writes an entry: on a Redis Cluster, use a prefix
// with a hash tag such as "{presession}:".
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/blobs"
	"github.com/uprinfo/presession/internal/redisbulk"
	"github.com/uprinfo/presession/layout"
)

// Blobs is the part of object storage the audit uses (catalog.StorageBlobs
// provides it over storage.Dir and storage.S3). Keys are slash-separated.
type Blobs interface {
	// WriteObject stores data under key, replacing any object there.
	WriteObject(ctx context.Context, key string, data []byte, contentType string) error
	// ReadObject returns the object's bytes, or an error with code
	// presession.ENOTFOUND when there is none.
	ReadObject(ctx context.Context, key string) ([]byte, error)
	// ListKeys returns every key that starts with prefix, at any depth.
	ListKeys(ctx context.Context, prefix string) ([]string, error)
}

// Log is the audit trail. It is safe for concurrent use, by many
// processes sharing one Redis.
type Log struct {
	rdb    redis.UniversalClient
	blobs  Blobs
	prefix string
	now    func() time.Time
	add    *redis.Script
}

// New returns the audit trail on rdb (keys under prefix) whose entries
// are durable in blobs.
func New(rdb redis.UniversalClient, blobs Blobs, prefix string) *Log {
	return &Log{rdb: rdb, blobs: blobs, prefix: prefix, now: time.Now, add: redis.NewScript(addScript)}
}

func (l *Log) kEntries() string                 { return l.prefix + "audit:e" }
func (l *Log) kTime() string                    { return l.prefix + "audit:t" }
func (l *Log) kActor(a presession.Actor) string { return l.prefix + "audit:a:" + string(a) }
func (l *Log) kAction(action string) string     { return l.prefix + "audit:x:" + action }
func (l *Log) kFamily(family string) string     { return l.prefix + "audit:f:" + family }
func (l *Log) kActors() string                  { return l.prefix + "audit:actors" }
func (l *Log) kActions() string                 { return l.prefix + "audit:actions" }

// family is the family of an action: what precedes its first "." ("" for
// an action without one, such as "signin").
func family(action string) string {
	f, _, ok := strings.Cut(action, ".")
	if !ok {
		return ""
	}
	return f
}

// addScript records one entry unless its id is recorded already (0).
//
//	KEYS: entries, time, actor, action, family (or action again), actors, actions
//	ARGV: id, JSON, score, actor, name, action
const addScript = `
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[6], ARGV[4], ARGV[5])
redis.call('SADD', KEYS[7], ARGV[6])
return 1
`

// score is an entry's place in the sorted sets: its time in µs.
func score(t time.Time) float64 { return float64(t.UnixMicro()) }

func (l *Log) keys(e *presession.AuditEntry) []string {
	fam := l.kAction(e.Action)
	if f := family(e.Action); f != "" {
		fam = l.kFamily(f)
	}
	return []string{l.kEntries(), l.kTime(), l.kActor(e.Actor), l.kAction(e.Action), fam, l.kActors(), l.kActions()}
}

// MaxField bounds the length of an entry's actor, action, target and
// detail; longer ones are cut.
const MaxField = 1000

// Record records e: in storage, then in Redis. An empty ID is given a
// random one, a zero At the current time, an empty Outcome "ok". An entry
// without actor or action is refused (EINVALID), as is an id already
// recorded (ECONFLICT).
func (l *Log) Record(ctx context.Context, e presession.AuditEntry) error {
	if e.ID == "" {
		e.ID = newID()
	}
	if e.At.IsZero() {
		e.At = l.now()
	}
	e.At = e.At.UTC()
	if e.Outcome == "" {
		e.Outcome = "ok"
	}
	e.Target, e.Detail, e.ActorName = cut(e.Target), cut(e.Detail), cut(e.ActorName)
	switch {
	case !validID(e.ID):
		return presession.Errorf(presession.EINVALID, "audit: entry id %q is not valid", e.ID)
	case e.Actor == "" || len(e.Actor) > MaxField:
		return presession.Errorf(presession.EINVALID, "audit: an entry needs an actor")
	case !ValidAction(e.Action):
		return presession.Errorf(presession.EINVALID, "audit: action %q is not valid", e.Action)
	}
	exists, err := l.rdb.HExists(ctx, l.kEntries(), e.ID).Result()
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", e.ID, err)
	}
	if exists {
		return presession.Errorf(presession.ECONFLICT, "audit: entry %s is recorded already; entries are never changed", e.ID)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", e.ID, err)
	}
	if err := l.blobs.WriteObject(ctx, layout.Audit(e.At, e.ID), b, "application/json"); err != nil {
		return fmt.Errorf("audit: store %s: %w", e.ID, err)
	}
	added, err := l.add.Run(ctx, l.rdb, l.keys(&e), e.ID, b, score(e.At), string(e.Actor), name(&e), e.Action).Int()
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", e.ID, err)
	}
	if added == 0 {
		return presession.Errorf(presession.ECONFLICT, "audit: entry %s is recorded already; entries are never changed", e.ID)
	}
	return nil
}

// name is the name e's actor is shown under: the name it acted under,
// else the actor itself.
func name(e *presession.AuditEntry) string {
	if e.ActorName != "" {
		return e.ActorName
	}
	return string(e.Actor)
}

func cut(s string) string {
	if len(s) <= MaxField {
		return s
	}
	i := MaxField
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// ValidAction reports whether s can be an action or, ending in ".", an
// action family: lower-case letters, digits, "_" and ".", at most 100.
func ValidAction(s string) bool {
	if s == "" || len(s) > 100 || s[0] == '.' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func newID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// queryBatch is how many ids a query reads from an index at a time.
const queryBatch = 500

// Query returns the entries f selects, newest first, at most f.Limit of
// them (every one when 0).
func (l *Log) Query(ctx context.Context, f presession.AuditFilter) ([]presession.AuditEntry, error) {
	out, _, err := l.Page(ctx, f, 0)
	return out, err
}

// Page is Query after skipping the first offset matches; more reports
// whether matches follow the page (with f.Limit > 0).
func (l *Log) Page(ctx context.Context, f presession.AuditFilter, offset int) (entries []presession.AuditEntry, more bool, err error) {
	key := l.kTime()
	switch {
	case f.Actor != "":
		key = l.kActor(f.Actor)
	case strings.HasSuffix(f.Action, "."):
		key = l.kFamily(family(f.Action))
	case f.Action != "":
		key = l.kAction(f.Action)
	}
	min := "-inf"
	if !f.Since.IsZero() {
		min = strconv.FormatInt(f.Since.UnixMicro(), 10)
	}
	want := -1 // every match
	if f.Limit > 0 {
		want = offset + f.Limit + 1 // one more tells whether more follow
	}
	skipped := 0
	for from := int64(0); ; from += queryBatch {
		ids, err := l.rdb.ZRevRangeByScore(ctx, key, &redis.ZRangeBy{Max: "+inf", Min: min, Offset: from, Count: queryBatch}).Result()
		if err != nil {
			return nil, false, fmt.Errorf("audit: query: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		raws, err := l.rdb.HMGet(ctx, l.kEntries(), ids...).Result()
		if err != nil {
			return nil, false, fmt.Errorf("audit: query: %w", err)
		}
		for i, raw := range raws {
			s, ok := raw.(string)
			if !ok {
				continue // removed by a reindex meanwhile
			}
			var e presession.AuditEntry
			if err := json.Unmarshal([]byte(s), &e); err != nil {
				return nil, false, fmt.Errorf("audit: entry %s: %w", ids[i], err)
			}
			if !f.Matches(&e) {
				continue
			}
			if skipped < offset {
				skipped++
				continue
			}
			entries = append(entries, e)
			if want > 0 && offset+len(entries) == want {
				return entries[:f.Limit], true, nil
			}
		}
		if len(ids) < queryBatch {
			break
		}
	}
	if entries == nil {
		entries = []presession.AuditEntry{}
	}
	return entries, false, nil
}

// Actor is an actor the audit has seen, with the name it last acted under.
type Actor struct {
	Actor presession.Actor `json:"actor"`
	Name  string           `json:"name"`
}

// Actors returns every actor recorded, by name.
func (l *Log) Actors(ctx context.Context) ([]Actor, error) {
	m, err := l.rdb.HGetAll(ctx, l.kActors()).Result()
	if err != nil {
		return nil, fmt.Errorf("audit: actors: %w", err)
	}
	out := make([]Actor, 0, len(m))
	for a, n := range m {
		out = append(out, Actor{Actor: presession.Actor(a), Name: n})
	}
	slices.SortFunc(out, func(a, b Actor) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(string(a.Actor), string(b.Actor))
	})
	return out, nil
}

// Actions returns every action recorded, sorted.
func (l *Log) Actions(ctx context.Context) ([]string, error) {
	out, err := l.rdb.SMembers(ctx, l.kActions()).Result()
	if err != nil {
		return nil, fmt.Errorf("audit: actions: %w", err)
	}
	slices.Sort(out)
	return out, nil
}

// readConcurrency bounds the storage reads of Reindex.
const readConcurrency = 16

// Reindex rebuilds every audit key in Redis from storage alone and
// returns the number of entries. It replaces the audit's keys: run it at
// start or from the command line, not while other processes record.
func (l *Log) Reindex(ctx context.Context) (int, error) {
	keys, err := l.blobs.ListKeys(ctx, layout.Audits)
	if err != nil {
		return 0, fmt.Errorf("audit: reindex: list: %w", err)
	}
	keys = slices.DeleteFunc(keys, func(k string) bool {
		_, id, ok := layout.ParseAudit(k)
		return !ok || !validID(id)
	})
	slices.Sort(keys) // chronological: the latest name of an actor is written last
	// An entry and its bytes in storage, which Redis keeps as they are.
	type stored struct {
		e   *presession.AuditEntry
		raw []byte
	}
	entries, err := blobs.ReadAll(ctx, l.blobs, keys, readConcurrency, "audit: reindex", func(k string, raw []byte) (*stored, error) {
		var e presession.AuditEntry
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("audit: reindex: %s is not an audit entry: %w", k, err)
		}
		at, id, _ := layout.ParseAudit(k)
		if e.ID != id || !e.At.Equal(at) || e.Actor == "" || !ValidAction(e.Action) {
			return nil, fmt.Errorf("audit: reindex: %s holds an invalid entry (id %q, at %s, action %q)", k, e.ID, e.At, e.Action)
		}
		return &stored{&e, raw}, nil
	})
	if err != nil {
		return 0, err
	}
	if err := l.deleteAll(ctx); err != nil {
		return 0, err
	}
	if err := redisbulk.Pipelined(ctx, l.rdb, len(entries), func(p redis.Pipeliner, i int) error {
		e := entries[i].e
		k := l.keys(e)
		p.HSet(ctx, k[0], e.ID, entries[i].raw)
		z := redis.Z{Score: score(e.At), Member: e.ID}
		for _, zk := range k[1:5] {
			p.ZAdd(ctx, zk, z)
		}
		p.HSet(ctx, k[5], string(e.Actor), name(e))
		p.SAdd(ctx, k[6], e.Action)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("audit: reindex: %w", err)
	}
	return len(entries), nil
}

// deleteAll removes every audit key under the prefix.
func (l *Log) deleteAll(ctx context.Context) error {
	if err := redisbulk.DeleteMatching(ctx, l.rdb, redisbulk.GlobEscape(l.prefix)+"audit:*"); err != nil {
		return fmt.Errorf("audit: reindex: clear: %w", err)
	}
	return nil
}
