package main

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/storage"
)

// commandBackends are the Redis and the storage a command records in: on
// REDIS_URL and storage as configured, or, on the embedded default, a
// throwaway in-process Redis over the storage directory, so that what the
// command records lands in storage, where a running embedded service
// finds it at its next start.
type commandBackends struct {
	rdb     *redis.Client
	ropts   *redis.Options // rdb's, for queues on the same Redis
	store   storage.Store
	closers []func() // what close releases, the last acquired first
}

// openCommandBackends opens a command's Redis and storage; on error it has
// released what it opened.
func openCommandBackends(ctx context.Context, cfg config.Config) (*commandBackends, error) {
	b := &commandBackends{ropts: cfg.Redis}
	if cfg.Embedded() {
		m, err := startEmbeddedRedis()
		if err != nil {
			return nil, fmt.Errorf("start embedded redis: %w", err)
		}
		b.onClose(m.Close)
		b.ropts = &redis.Options{Addr: m.Addr()}
	}
	b.rdb = redis.NewClient(b.ropts)
	b.onClose(func() { b.rdb.Close() })
	if err := b.rdb.Ping(ctx).Err(); err != nil {
		b.close()
		return nil, fmt.Errorf("REDIS_URL: cannot reach Redis at %s: %w", b.ropts.Addr, err)
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		b.close()
		return nil, err
	}
	b.store = store
	return b, nil
}

func (b *commandBackends) onClose(f func()) { b.closers = append(b.closers, f) }

// close releases what the command opened, the last acquired first.
func (b *commandBackends) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}
