package blobs_test

import (
	"context"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/blobs"
	"github.com/uprinfo/presession/storage"
)

// TestBlobs: what is written is read and listed back with the content type
// and Cache-Control given, a missing record is ENOTFOUND, and deleting one
// (present or not) succeeds.
func TestBlobs(t *testing.T) {
	for _, cc := range []string{"no-cache", "no-store"} {
		t.Run(cc, func(t *testing.T) {
			d, err := storage.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			b := blobs.New(d, cc)
			ctx := context.Background()
			if _, err := b.ReadObject(ctx, "a/b.json"); presession.ErrorCode(err) != presession.ENOTFOUND {
				t.Fatalf("ReadObject of a missing key: %v, want ENOTFOUND", err)
			}
			if err := b.WriteObject(ctx, "a/b.json", []byte(`{"x":1}`), "application/json"); err != nil {
				t.Fatal(err)
			}
			if got, err := b.ReadObject(ctx, "a/b.json"); err != nil || string(got) != `{"x":1}` {
				t.Fatalf("ReadObject: %q, %v", got, err)
			}
			info, err := d.Stat(ctx, "a/b.json")
			if err != nil || info.CacheControl != cc || info.ContentType != "application/json" {
				t.Fatalf("Stat: %+v, %v; want Cache-Control %q, application/json", info, err, cc)
			}
			if keys, err := b.ListKeys(ctx, "a/"); err != nil || len(keys) != 1 || keys[0] != "a/b.json" {
				t.Fatalf("ListKeys: %q, %v", keys, err)
			}
			for range 2 {
				if err := b.DeleteObject(ctx, "a/b.json"); err != nil {
					t.Fatalf("DeleteObject: %v", err)
				}
			}
			if keys, err := b.ListKeys(ctx, "a/"); err != nil || len(keys) != 0 {
				t.Fatalf("ListKeys after delete: %q, %v", keys, err)
			}
		})
	}
}
