package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
)

// The staff sign-in's allowance of failures per client address.
const (
	SignInMaxFailures = 5
	SignInWindow      = 15 * time.Minute
)

// Throttle counts failed attempts per key (a client address) in Redis, so
// that every node sharing it counts together. A key that has failed max
// times within window of its first failure waits until that window ends.
type Throttle struct {
	rdb    redis.Cmdable
	prefix string
	max    int64
	window time.Duration
}

// NewThrottle returns a throttle kept in rdb under prefix (the service's
// own key prefix) and name.
func NewThrottle(rdb redis.Cmdable, prefix, name string, max int, window time.Duration) *Throttle {
	return &Throttle{rdb: rdb, prefix: prefix + "throttle:" + name + ":", max: int64(max), window: window}
}

// Wait returns how long key must wait before its next attempt: 0 while it
// has failed fewer than max times in the window.
func (t *Throttle) Wait(ctx context.Context, key string) (time.Duration, error) {
	k := t.prefix + key
	pipe := t.rdb.Pipeline()
	n := pipe.Get(ctx, k)
	ttl := pipe.PTTL(ctx, k)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("throttle: %w", err)
	}
	if c, err := n.Int64(); err != nil || c < t.max {
		return 0, nil
	}
	if d := ttl.Val(); d > 0 {
		return d, nil
	}
	return 0, nil
}

// failScript counts a failure; the first one of a window starts it.
var failScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

// Fail records a failed attempt of key.
func (t *Throttle) Fail(ctx context.Context, key string) error {
	if err := failScript.Run(ctx, t.rdb, []string{t.prefix + key}, t.window.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}

// Reset forgets key's failures, after an attempt of it succeeded.
func (t *Throttle) Reset(ctx context.Context, key string) error {
	if err := t.rdb.Del(ctx, t.prefix+key).Err(); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}

// TooManyAttempts is the refusal of an attempt from a client that must
// wait until until; RetryAt reads the instant back.
func TooManyAttempts(until time.Time) error {
	// A person is told a minute on the clock: the next one after until.
	if t := until.Truncate(time.Minute); t.Before(until) {
		until = t.Add(time.Minute)
	}
	until = until.UTC()
	return presession.Errorf(presession.ETOOMANY, "too many failed sign-ins from your address; try again after %s",
		until.Format("15:04 UTC")).Localize("auth.signin_throttled", until)
}

// RetryAt returns when the client refused by err may try again, for a
// refusal made by TooManyAttempts.
func RetryAt(err error) (time.Time, bool) {
	var e *presession.Error
	if !errors.As(err, &e) || e.Code != presession.ETOOMANY || len(e.Args) == 0 {
		return time.Time{}, false
	}
	t, ok := e.Args[0].(time.Time)
	return t, ok
}

// SetRetryAfter sets the Retry-After header of an answer refusing err,
// when err says when to try again (RetryAt).
func SetRetryAfter(w http.ResponseWriter, err error) {
	if t, ok := RetryAt(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(time.Until(t).Seconds()+0.5))))
	}
}

// ClientAddr is the address r comes from: its peer's or, when the peer is
// one of TrustedProxies, the last address in X-Forwarded-For that is not
// one of them (each proxy appends the address it received the request
// from, so the addresses before the first untrusted one are the client's
// own say).
func (a *Auth) ClientAddr(r *http.Request) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := peer.Addr().Unmap()
	if !a.trusted(addr) {
		return addr
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr // a hop we cannot read: the request is the last proxy's
		}
		addr = hop.Unmap()
		if !a.trusted(addr) {
			return addr
		}
	}
	return addr
}

func (a *Auth) trusted(addr netip.Addr) bool {
	for _, p := range a.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// throttleKey is what a client address is counted as: itself, or for IPv6
// its /64, which one subscriber commonly holds whole.
func throttleKey(addr netip.Addr) string {
	if addr.Is6() {
		if p, err := addr.Prefix(64); err == nil {
			return p.String()
		}
	}
	return addr.String()
}
