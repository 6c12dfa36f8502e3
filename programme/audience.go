package programme

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// AudienceWindow is how recently a viewer must have asked for a
// premiere's live playlists to count as watching.
const AudienceWindow = time.Minute

// audienceRefresh is how often one node writes the same viewer again: a
// player polls its playlists every few seconds, and the count needs only
// to know the viewer is still there within the window.
const audienceRefresh = 10 * time.Second

// Audience counts who is watching each country's premiere: the distinct
// viewer tokens that asked for its live playlists in the last
// AudienceWindow. It keeps a sorted set per country in Redis, each token
// scored by when it last asked, so that every node's viewers count, and
// the count of a whole session is one round trip.
type Audience struct {
	rdb    redis.Cmdable
	prefix string
	now    func() time.Time

	mu     sync.Mutex
	recent map[string]time.Time // session/country/viewer → when this node last wrote it
}

// NewAudience returns the audience counter in rdb under prefix (the
// service's key prefix). now nil is time.Now.
func NewAudience(rdb redis.Cmdable, prefix string, now func() time.Time) *Audience {
	if now == nil {
		now = time.Now
	}
	return &Audience{rdb: rdb, prefix: prefix + "audience:", now: now, recent: map[string]time.Time{}}
}

func (a *Audience) key(session, country string) string {
	return a.prefix + session + ":" + strings.ToUpper(country)
}

// Seen records that viewer (a viewer token's id) asked for the live
// playlists of a country now. The same viewer is written again at most
// every 10 s from one node; older entries are dropped as it writes, and a
// country nobody watches any more expires.
func (a *Audience) Seen(ctx context.Context, session, country, viewer string) error {
	now := a.now()
	id := session + "/" + strings.ToUpper(country) + "/" + viewer
	a.mu.Lock()
	if last, ok := a.recent[id]; ok && now.Sub(last) < audienceRefresh && !now.Before(last) {
		a.mu.Unlock()
		return nil
	}
	if len(a.recent) >= 100_000 {
		clear(a.recent)
	}
	a.recent[id] = now
	a.mu.Unlock()
	k := a.key(session, country)
	_, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, k, redis.Z{Score: float64(now.UnixMilli()), Member: viewer})
		p.ZRemRangeByScore(ctx, k, "-inf", "("+strconv.FormatInt(now.Add(-AudienceWindow).UnixMilli(), 10))
		p.Expire(ctx, k, 2*AudienceWindow)
		return nil
	})
	if err != nil {
		a.mu.Lock()
		delete(a.recent, id)
		a.mu.Unlock()
		return fmt.Errorf("audience %s/%s: %w", session, country, err)
	}
	return nil
}

// Count returns, for each of countries of session, how many distinct
// viewers asked for its live playlists in the last AudienceWindow: one
// round trip to Redis however many countries.
func (a *Audience) Count(ctx context.Context, session string, countries []string) (map[string]int, error) {
	since := strconv.FormatInt(a.now().Add(-AudienceWindow).UnixMilli(), 10)
	cmds := make([]*redis.IntCmd, len(countries))
	_, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range countries {
			cmds[i] = p.ZCount(ctx, a.key(session, c), since, "+inf")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audience %s: %w", session, err)
	}
	out := make(map[string]int, len(countries))
	for i, c := range countries {
		out[strings.ToUpper(c)] = int(cmds[i].Val())
	}
	return out, nil
}
