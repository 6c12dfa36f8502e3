package catalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
)

// Views reads statement records for a reader that only looks at them and
// reads them often: the media route reads the record of the statement on
// every request, to decide access, and a premiere makes hundreds of
// requests a second for the same few statements. Every Get reads the
// record from Redis, as Catalog.Get does, but decodes it only when its
// bytes differ from the last ones decoded: never staler than the record.
//
// What Get returns is shared between callers and must not be modified;
// its Progress is not merged in (see Catalog.Get for both).
type Views struct {
	c  *Catalog
	mu sync.Mutex
	m  map[string]view
}

type view struct {
	raw []byte
	s   *presession.Statement
}

// maxViews bounds the records a Views keeps decoded.
const maxViews = 256

// NewViews returns the read-only views of c's statements.
func NewViews(c *Catalog) *Views { return &Views{c: c, m: map[string]view{}} }

// Get returns the statement id as its record stands; ENOTFOUND when there
// is none. The statement is shared: do not modify it.
func (v *Views) Get(ctx context.Context, id string) (*presession.Statement, error) {
	raw, err := v.c.rdb.Get(ctx, v.c.kStmt(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, presession.Errorf(presession.ENOTFOUND, "statement %s not found", id).Localize("err.statement_not_found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: get %s: %w", id, err)
	}
	v.mu.Lock()
	seen, ok := v.m[id]
	v.mu.Unlock()
	if ok && bytes.Equal(seen.raw, raw) {
		return seen.s, nil
	}
	s, err := decode(raw)
	if err != nil {
		return nil, fmt.Errorf("catalog: record of %s: %w", id, err)
	}
	v.mu.Lock()
	if len(v.m) >= maxViews {
		clear(v.m)
	}
	v.m[id] = view{raw: raw, s: s}
	v.mu.Unlock()
	return s, nil
}
