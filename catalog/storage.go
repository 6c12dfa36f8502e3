package catalog

import (
	"context"
	"io"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/blobs"
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

// StorageBlobs is Blobs over a Store. The records it writes are marked
// no-cache.
func StorageBlobs(s Store) Blobs { return blobs.New(s, "no-cache") }
