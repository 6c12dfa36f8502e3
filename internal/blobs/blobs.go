// Package blobs keeps small whole records (the JSON documents of the
// catalog, the staff directory, the audit log and the programme) in object
// storage: the one adapter from storage.Dir or storage.S3 to the Blobs
// methods those packages declare, and the concurrent read of their
// records that a reindex does.
package blobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/uprinfo/presession"
)

// Store is the part of storage the adapter calls; storage.Dir and
// storage.S3 provide it. Get of a missing key returns an error with code
// presession.ENOTFOUND; Delete of one succeeds.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, o presession.PutOptions) error
	Get(ctx context.Context, key string, rng *presession.Range) (io.ReadCloser, presession.ObjectInfo, error)
	List(ctx context.Context, prefix string) ([]presession.ObjectInfo, error)
	Delete(ctx context.Context, key string) error
}

// Blobs reads and writes whole objects of a Store; every object it writes
// carries its Cache-Control value.
type Blobs struct {
	s            Store
	cacheControl string
}

// New returns the Blobs of s whose writes carry cacheControl.
func New(s Store, cacheControl string) Blobs { return Blobs{s, cacheControl} }

// WriteObject stores data under key, replacing any object there.
func (b Blobs) WriteObject(ctx context.Context, key string, data []byte, contentType string) error {
	return b.s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), presession.PutOptions{ContentType: contentType, CacheControl: b.cacheControl})
}

// ReadObject returns the object's bytes, or an error with code
// presession.ENOTFOUND when there is none.
func (b Blobs) ReadObject(ctx context.Context, key string) ([]byte, error) {
	r, _, err := b.s.Get(ctx, key, nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// ListKeys returns every key that starts with prefix, at any depth.
func (b Blobs) ListKeys(ctx context.Context, prefix string) ([]string, error) {
	objs, err := b.s.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys, nil
}

// DeleteObject removes the object under key; a missing one is no error.
func (b Blobs) DeleteObject(ctx context.Context, key string) error {
	return b.s.Delete(ctx, key)
}

// Reader reads whole objects: Blobs, or the Blobs a package declares.
type Reader interface {
	ReadObject(ctx context.Context, key string) ([]byte, error)
}

// ReadAll reads the objects of keys, concurrency at a time, as a reindex
// does, and makes a record of each with decode (whose error is returned
// as it is). An object deleted since keys were listed (ENOTFOUND) is
// skipped; another read error is "<op>: read <key>: <err>". The records
// keep the order of keys; the errors of all the reads are joined.
func ReadAll[T any](ctx context.Context, r Reader, keys []string, concurrency int, op string,
	decode func(key string, raw []byte) (*T, error)) ([]*T, error) {
	out := make([]*T, len(keys))
	errs := make([]error, len(keys))
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			raw, err := r.ReadObject(ctx, k)
			if presession.ErrorCode(err) == presession.ENOTFOUND {
				return // deleted since the listing
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s: read %s: %w", op, k, err)
				return
			}
			rec, err := decode(k, raw)
			if err != nil {
				errs[i] = err
				return
			}
			out[i] = rec
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(out, func(rec *T) bool { return rec == nil }), nil
}
