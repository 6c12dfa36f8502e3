package staff

import (
	"bytes"
	"context"
	"io"

	"github.com/uprinfo/presession"
)

// Store is the part of storage StorageBlobs needs; storage.Dir and
// storage.S3 provide it. Get of a missing key returns an error with code
// presession.ENOTFOUND.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, o presession.PutOptions) error
	Get(ctx context.Context, key string, rng *presession.Range) (io.ReadCloser, presession.ObjectInfo, error)
	List(ctx context.Context, prefix string) ([]presession.ObjectInfo, error)
	Delete(ctx context.Context, key string) error
}

// StorageBlobs is Blobs over a Store.
func StorageBlobs(s Store) Blobs { return storageBlobs{s} }

type storageBlobs struct{ s Store }

func (b storageBlobs) WriteObject(ctx context.Context, key string, data []byte, contentType string) error {
	return b.s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), presession.PutOptions{ContentType: contentType, CacheControl: "no-store"})
}

func (b storageBlobs) ReadObject(ctx context.Context, key string) ([]byte, error) {
	r, _, err := b.s.Get(ctx, key, nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func (b storageBlobs) ListKeys(ctx context.Context, prefix string) ([]string, error) {
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

func (b storageBlobs) DeleteObject(ctx context.Context, key string) error {
	return b.s.Delete(ctx, key)
}
