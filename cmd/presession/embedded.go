package main

import (
	"context"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// embeddedRedis is the in-process Redis of the embedded default. Its state
// is memory only: the catalog is rebuilt from storage at start.
//
// miniredis's clock moves only when told, so key expiry (Asynq's unique
// locks, the upload locker's TTLs) needs a ticker that advances it.
type embeddedRedis struct {
	*miniredis.Miniredis
	stop context.CancelFunc
}

func startEmbeddedRedis() (*embeddedRedis, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				m.FastForward(now.Sub(last))
				m.SetTime(now)
				last = now
			}
		}
	}()
	return &embeddedRedis{Miniredis: m, stop: cancel}, nil
}

func (e *embeddedRedis) Close() {
	e.stop()
	e.Miniredis.Close()
}
