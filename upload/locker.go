package upload

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tus/tusd/v2/pkg/handler"
)

// Locker is a handler.Locker on Redis, so that several upload nodes behind
// one load balancer can serve the same upload.
//
// A lock is a key holding a random token, set with NX and a TTL. While held,
// the TTL is renewed every TTL/3; Unlock deletes the key only if it still
// holds our token. A node that crashes stops renewing, and the key expires.
//
// tusd's release request is honoured across nodes: a node that wants a lock
// held elsewhere publishes "request" on the lock's channel; the node that
// holds it calls the holder's requestRelease, which makes tusd end its
// request and unlock. Unlock publishes "free", so waiters retry at once
// instead of at their next poll. One pattern subscription per Locker
// carries every lock's channel.
type Locker struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
	poll   time.Duration
	log    *slog.Logger

	mu      sync.Mutex
	held    map[string]*redisLock             // locks this process holds, by id
	waiters map[string]map[chan struct{}]bool // processes waiting for a lock, by id

	stop context.CancelFunc
	done chan struct{}
}

const (
	msgRequest = "request"
	msgFree    = "free"
)

// NewLocker returns a Locker whose keys start with prefix (for example
// "upload:") and live for ttl (30 s when zero) unless renewed. Close stops
// its subscription.
func NewLocker(rdb redis.UniversalClient, prefix string, ttl time.Duration, log *slog.Logger) *Locker {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Locker{
		rdb: rdb, prefix: prefix, ttl: ttl, poll: 250 * time.Millisecond, log: log,
		held: map[string]*redisLock{}, waiters: map[string]map[chan struct{}]bool{},
		stop: cancel, done: make(chan struct{}),
	}
	ps := rdb.PSubscribe(ctx, l.channel("*"))
	go l.listen(ctx, ps)
	return l
}

// Close stops the subscription. Held locks stay until unlocked or expired.
func (l *Locker) Close() error {
	l.stop()
	<-l.done
	return nil
}

func (l *Locker) key(id string) string     { return l.prefix + "lock:" + id }
func (l *Locker) channel(id string) string { return l.prefix + "lock-events:" + id }

func (l *Locker) listen(ctx context.Context, ps *redis.PubSub) {
	defer close(l.done)
	defer ps.Close()
	ch := ps.Channel(redis.WithChannelSize(1000))
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-ch:
			if !ok {
				return
			}
			id := strings.TrimPrefix(m.Channel, l.channel(""))
			l.mu.Lock()
			switch m.Payload {
			case msgRequest:
				if h := l.held[id]; h != nil {
					l.askRelease(h)
				}
			case msgFree:
				for w := range l.waiters[id] {
					select {
					case w <- struct{}{}:
					default:
					}
				}
			}
			l.mu.Unlock()
		}
	}
}

// askRelease calls the holder's requestRelease, or, while the request
// holding the lock has not started writing, defers the call until it does
// (see writing). l.mu is held.
//
// Why defer: tusd v2.9.1's requestRelease cancels the request's context,
// and a goroutine of tusd then reads the request's body reader, which the
// request's own goroutine assigns just before it starts writing: calling
// requestRelease earlier is a data race inside tusd. A request that has not
// started writing releases the lock soon anyway.
func (l *Locker) askRelease(h *redisLock) {
	if h.requestRelease == nil {
		return
	}
	if h.writing {
		go h.requestRelease()
	} else {
		h.pending = true
	}
}

// writing marks the lock on id as held by a request that is writing, and
// passes on a release request that came before.
func (l *Locker) writing(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h := l.held[id]; h != nil && !h.writing {
		h.writing = true
		if h.pending {
			h.pending = false
			go h.requestRelease()
		}
	}
}

// NewLock implements handler.Locker.
func (l *Locker) NewLock(id string) (handler.Lock, error) {
	return &redisLock{l: l, id: id}, nil
}

// TryLock takes the lock on id if it is free, without asking a holder to
// release it. ok is false when another request holds it.
func (l *Locker) TryLock(ctx context.Context, id string) (unlock func(), ok bool, err error) {
	lk := &redisLock{l: l, id: id}
	ok, err = lk.try(ctx)
	if err != nil || !ok {
		return nil, ok, err
	}
	lk.held(nil)
	return func() { lk.Unlock() }, true, nil
}

type redisLock struct {
	l              *Locker
	id             string
	token          string
	requestRelease func()
	stopRenew      context.CancelFunc
	renewDone      chan struct{}
	// writing and pending are guarded by l.mu; see askRelease.
	writing, pending bool
}

// Lua: delete or extend the key only while it holds our token.
var (
	unlockScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`)
	renewScript  = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end`)
)

func (lk *redisLock) try(ctx context.Context) (bool, error) {
	if lk.token == "" {
		b := make([]byte, 16)
		rand.Read(b)
		lk.token = hex.EncodeToString(b)
	}
	return lk.l.rdb.SetNX(ctx, lk.l.key(lk.id), lk.token, lk.l.ttl).Result()
}

// Lock implements handler.Lock: it polls until the key is free (woken early
// by the holder's "free"), asking the holder to release it, and gives up
// with handler.ErrLockTimeout when ctx is done.
func (lk *redisLock) Lock(ctx context.Context, requestRelease func()) error {
	l := lk.l
	wake := make(chan struct{}, 1)
	l.mu.Lock()
	if l.waiters[lk.id] == nil {
		l.waiters[lk.id] = map[chan struct{}]bool{}
	}
	l.waiters[lk.id][wake] = true
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.waiters[lk.id], wake)
		if len(l.waiters[lk.id]) == 0 {
			delete(l.waiters, lk.id)
		}
		l.mu.Unlock()
	}()

	var lastRequest time.Time
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		ok, err := lk.try(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return handler.ErrLockTimeout
			}
			return err
		}
		if ok {
			lk.held(requestRelease)
			return nil
		}
		// Ask the holder to let go; again every second in case the first
		// request crossed the holder's acquisition.
		if time.Since(lastRequest) >= time.Second {
			lastRequest = time.Now()
			if err := l.rdb.Publish(ctx, l.channel(lk.id), msgRequest).Err(); err != nil && ctx.Err() == nil {
				l.log.Warn("upload lock: publish release request", "upload", lk.id, "error", err)
			}
		}
		timer.Reset(l.poll)
		select {
		case <-ctx.Done():
			return handler.ErrLockTimeout
		case <-wake:
		case <-timer.C:
		}
	}
}

// held records the lock as ours and starts renewing it.
func (lk *redisLock) held(requestRelease func()) {
	l := lk.l
	lk.requestRelease = requestRelease
	l.mu.Lock()
	l.held[lk.id] = lk
	l.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	lk.stopRenew, lk.renewDone = cancel, make(chan struct{})
	go lk.renew(ctx)
}

func (lk *redisLock) renew(ctx context.Context) {
	defer close(lk.renewDone)
	l := lk.l
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := renewScript.Run(ctx, l.rdb, []string{l.key(lk.id)}, lk.token, l.ttl.Milliseconds()).Int()
			if ctx.Err() != nil {
				return
			}
			switch {
			case err != nil:
				// Redis unreachable: keep trying; the key lives one TTL.
				l.log.Warn("upload lock: renew", "upload", lk.id, "error", err)
			case n == 0:
				// The key expired or was taken: stop writing at once.
				l.log.Error("upload lock lost; interrupting the request that held it", "upload", lk.id)
				l.mu.Lock()
				l.askRelease(lk)
				l.mu.Unlock()
				return
			}
		}
	}
}

// Unlock implements handler.Lock.
func (lk *redisLock) Unlock() error {
	l := lk.l
	if lk.stopRenew != nil {
		lk.stopRenew()
		<-lk.renewDone
	}
	l.mu.Lock()
	if l.held[lk.id] == lk {
		delete(l.held, lk.id)
	}
	l.mu.Unlock()
	// Release even when the request that held the lock was cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := unlockScript.Run(ctx, l.rdb, []string{l.key(lk.id)}, lk.token).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	l.rdb.Publish(ctx, l.channel(lk.id), msgFree)
	return nil
}
