package playlist

import (
	"container/list"
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/metrics"
)

// CacheMetrics is what the media cache reports; *metrics.MediaCache
// provides it.
type CacheMetrics interface {
	// CacheLookup counts one request for an object of kind: served from
	// memory, read from storage, served by another request's read, or
	// past the cache.
	CacheLookup(kind metrics.MediaKind, result metrics.CacheResult)
	// CacheSize reports what the cache holds after a change.
	CacheSize(bytes int64, objects int)
	// CacheEvicted counts objects dropped to make room.
	CacheEvicted(n int)
}

// MediaCache keeps immutable media (segments, init segments, images and
// shifted segments) in memory in front of storage: at most max bytes,
// the least recently used dropped first; an object larger than a
// sixteenth of it is not kept. Concurrent misses for one key make one
// storage read, the others wait for it: a premiere has every viewer ask
// for the same segment within the same few seconds.
//
// It keys on what the caller names, so the caller must name a
// generation of the media (Media.Version) in the key: the cache never
// asks storage whether an object changed.
type MediaCache struct {
	max, maxObject int64
	metrics        CacheMetrics

	mu      sync.Mutex
	lru     *list.List // of *cached, most recent first
	entries map[string]*list.Element
	bytes   int64

	group singleflight.Group
}

// cached is one object in memory: its bytes and what storage said of it.
type cached struct {
	key  string
	body []byte
	info presession.ObjectInfo
}

// entryOverhead is what an entry costs besides its body and key: the map
// slot, the list element, the info.
const entryOverhead = 256

func (c *cached) cost() int64 { return int64(cap(c.body)+len(c.key)) + entryOverhead }

// NewMediaCache returns a cache of at most maxBytes (0 or less: a cache
// that keeps nothing and collapses nothing); m may be nil.
func NewMediaCache(maxBytes int64, m CacheMetrics) *MediaCache {
	c := &MediaCache{max: max(maxBytes, 0), metrics: m, lru: list.New(), entries: map[string]*list.Element{}}
	c.maxObject = c.max / 16
	if m != nil {
		m.CacheSize(0, 0)
	}
	return c
}

// Enabled reports whether the cache keeps anything.
func (c *MediaCache) Enabled() bool { return c != nil && c.max > 0 }

// errTooLarge is a load's answer for an object the cache does not keep
// and the caller streams instead.
var errTooLarge = errors.New("playlist: object too large for the media cache")

// loadTimeout bounds one storage read made for the cache. It runs apart
// from the request that started it, whose client may leave while others
// wait for the same bytes.
const loadTimeout = time.Minute

// get returns the object of key from memory, else from load, which
// every concurrent get of key shares. load returns errTooLarge (passed
// on) for an object the cache must not keep; its result is kept when no
// larger than the object bound.
func (c *MediaCache) get(ctx context.Context, key string, kind metrics.MediaKind, load func(ctx context.Context, limit int64) (*cached, error)) (*cached, error) {
	if o := c.lookup(key); o != nil {
		c.count(kind, metrics.CacheHit)
		return o, nil
	}
	leader := false
	v, err, _ := c.group.Do(key, func() (any, error) {
		leader = true
		if o := c.lookup(key); o != nil { // stored while this get waited for the lock
			return o, nil
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		o, err := load(lctx, c.maxObject)
		if err != nil {
			return nil, err
		}
		o.key = key
		c.add(o)
		return o, nil
	})
	switch {
	case errors.Is(err, errTooLarge):
		c.count(kind, metrics.CacheBypass)
	case leader:
		c.count(kind, metrics.CacheMiss)
	default:
		c.count(kind, metrics.CacheCollapsed)
	}
	if err != nil {
		return nil, err
	}
	return v.(*cached), nil
}

// bypass counts a request the cache did not serve (disabled, or media
// not in a state to keep).
func (c *MediaCache) bypass(kind metrics.MediaKind) { c.count(kind, metrics.CacheBypass) }

func (c *MediaCache) count(kind metrics.MediaKind, r metrics.CacheResult) {
	if c != nil && c.metrics != nil {
		c.metrics.CacheLookup(kind, r)
	}
}

func (c *MediaCache) lookup(key string) *cached {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(e)
	return e.Value.(*cached)
}

// add keeps o unless it is over the object bound, dropping the least
// recently used objects until it fits.
func (c *MediaCache) add(o *cached) {
	if int64(len(o.body)) > c.maxObject || o.cost() > c.max {
		return
	}
	c.mu.Lock()
	if e, ok := c.entries[o.key]; ok {
		c.bytes -= e.Value.(*cached).cost()
		c.lru.Remove(e)
	}
	evicted := 0
	for c.bytes+o.cost() > c.max {
		last := c.lru.Back()
		old := c.lru.Remove(last).(*cached)
		delete(c.entries, old.key)
		c.bytes -= old.cost()
		evicted++
	}
	c.entries[o.key] = c.lru.PushFront(o)
	c.bytes += o.cost()
	bytes, n := c.bytes, len(c.entries)
	c.mu.Unlock()
	if c.metrics != nil {
		if evicted > 0 {
			c.metrics.CacheEvicted(evicted)
		}
		c.metrics.CacheSize(bytes, n)
	}
}

// Len reports the number of objects and bytes (bodies, keys and
// overhead) held.
func (c *MediaCache) Len() (objects int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries), c.bytes
}

// readObject reads the object of key whole when it is no larger than
// limit; errTooLarge (nothing read) when it is.
func readObject(ctx context.Context, store Store, key string, limit int64) (*cached, error) {
	body, info, err := store.Get(ctx, key, nil)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	if info.Size > limit {
		return nil, errTooLarge
	}
	b, err := readBody(body, info.Size, limit)
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return &cached{body: b, info: info}, nil
}

// readBody reads an object's body of size bytes (-1: not known) into a
// slice of its own size, the memory the cache counts; at most limit+1
// bytes when the size is not known or over limit.
func readBody(body io.Reader, size, limit int64) ([]byte, error) {
	if size >= 0 && size <= limit {
		b := make([]byte, size)
		if _, err := io.ReadFull(body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(io.LimitReader(body, limit+1))
}
