package desk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
)

// ClaimTTL is how long a claim lasts unless renewed: long enough to ride
// out a dropped heartbeat or two (the review page renews every
// RenewEvery), short enough that a reviewer who closed the laptop lid
// holds a statement back for two minutes at most.
const ClaimTTL = 2 * time.Minute

// RenewEvery is how often the review page renews its claim: four times
// per ClaimTTL, so three lost renewals in a row still keep it.
const RenewEvery = 30 * time.Second

// IdleRelease is how long a review page left untouched (no key, click or
// playback) keeps renewing its claim: ten minutes is longer than any
// statement takes to watch at normal speed, and an abandoned tab gives its
// statement back to the queue after that.
const IdleRelease = 10 * time.Minute

// SkipTTL is how long a reviewer's skips last: a staff session's longest
// life (12 h), after which the skipped statements come round again.
const SkipTTL = 12 * time.Hour

// Claims records which reviewer is looking at which statement, in Redis,
// so two reviewers never get the same statement at once: a claim is a key
// per statement naming its holder, with a time to live; each reviewer
// holds one claim at most (a key naming it), so taking the next statement
// lets go of the last. Skips are a set per reviewer.
//
// Keys (prefix first):
//
//	desk:claim:{statement}  the actor holding it, expiring after TTL
//	desk:held:{actor}       the claim key the actor holds
//	desk:skip:{actor}       the statements the actor skipped
type Claims struct {
	rdb    redis.Cmdable
	prefix string
	ttl    time.Duration
}

// NewClaims returns the claims kept in rdb under prefix, each lasting ttl
// unless renewed (0: ClaimTTL).
func NewClaims(rdb redis.Cmdable, prefix string, ttl time.Duration) *Claims {
	if ttl <= 0 {
		ttl = ClaimTTL
	}
	return &Claims{rdb: rdb, prefix: prefix, ttl: ttl}
}

// TTL is how long a claim lasts unless renewed.
func (c *Claims) TTL() time.Duration { return c.ttl }

func (c *Claims) kClaim(id string) string    { return c.prefix + "desk:claim:" + id }
func (c *Claims) kHeld(actor string) string  { return c.prefix + "desk:held:" + actor }
func (c *Claims) kSkips(actor string) string { return c.prefix + "desk:skip:" + actor }

// claimScript takes or renews KEYS[1] (a statement's claim) for ARGV[1]
// for ARGV[2] ms, unless another actor holds it, whose name it returns;
// the claim the actor held before (KEYS[2] names it) is let go. One
// script, so that two reviewers asking at once cannot both win.
var claimScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return cur end
local prev = redis.call('GET', KEYS[2])
if prev and prev ~= KEYS[1] and redis.call('GET', prev) == ARGV[1] then
  redis.call('DEL', prev)
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SET', KEYS[2], KEYS[1], 'PX', ARGV[2])
return ''
`)

// releaseScript lets go of KEYS[1] if ARGV[1] holds it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if redis.call('GET', KEYS[2]) == KEYS[1] then redis.call('DEL', KEYS[2]) end
return 1
`)

// Claim takes statement id for actor, or renews actor's claim on it, and
// lets go of any other statement actor held. When another actor holds
// it, it changes nothing and returns that actor with ok false.
func (c *Claims) Claim(ctx context.Context, id string, actor presession.Actor) (holder presession.Actor, ok bool, err error) {
	res, err := claimScript.Run(ctx, c.rdb, []string{c.kClaim(id), c.kHeld(string(actor))}, string(actor), c.ttl.Milliseconds()).Text()
	if err != nil {
		return "", false, fmt.Errorf("desk: claim %s: %w", id, err)
	}
	if res != "" {
		return presession.Actor(res), false, nil
	}
	return actor, true, nil
}

// Release lets go of actor's claim on id; nothing happens when actor
// does not hold it.
func (c *Claims) Release(ctx context.Context, id string, actor presession.Actor) error {
	if err := releaseScript.Run(ctx, c.rdb, []string{c.kClaim(id), c.kHeld(string(actor))}, string(actor)).Err(); err != nil {
		return fmt.Errorf("desk: release %s: %w", id, err)
	}
	return nil
}

// Held is the statement actor holds a claim on ("" for none).
func (c *Claims) Held(ctx context.Context, actor presession.Actor) (string, error) {
	key, err := c.rdb.Get(ctx, c.kHeld(string(actor))).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("desk: held by %s: %w", actor, err)
	}
	return strings.TrimPrefix(key, c.kClaim("")), nil
}

// Holders returns who holds each of ids that is claimed.
func (c *Claims) Holders(ctx context.Context, ids []string) (map[string]presession.Actor, error) {
	out := map[string]presession.Actor{}
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = c.kClaim(id)
	}
	vals, err := c.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("desk: holders: %w", err)
	}
	for i, v := range vals {
		if s, ok := v.(string); ok && s != "" {
			out[ids[i]] = presession.Actor(s)
		}
	}
	return out, nil
}

// Skip records that actor skipped id (it comes round again after the
// rest of the queue, or after SkipTTL) and lets go of actor's claim on it.
func (c *Claims) Skip(ctx context.Context, id string, actor presession.Actor) error {
	if _, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, c.kSkips(string(actor)), id)
		p.Expire(ctx, c.kSkips(string(actor)), SkipTTL)
		return nil
	}); err != nil {
		return fmt.Errorf("desk: skip %s: %w", id, err)
	}
	return c.Release(ctx, id, actor)
}

// Skipped returns the statements actor skipped.
func (c *Claims) Skipped(ctx context.Context, actor presession.Actor) (map[string]bool, error) {
	ids, err := c.rdb.SMembers(ctx, c.kSkips(string(actor))).Result()
	if err != nil {
		return nil, fmt.Errorf("desk: skipped by %s: %w", actor, err)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// ClearSkips forgets actor's skips: the skipped statements are offered
// again.
func (c *Claims) ClearSkips(ctx context.Context, actor presession.Actor) error {
	if err := c.rdb.Del(ctx, c.kSkips(string(actor))).Err(); err != nil {
		return fmt.Errorf("desk: clear skips of %s: %w", actor, err)
	}
	return nil
}
