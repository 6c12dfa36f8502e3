package catalog_test

import (
	"context"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/storage"
)

// TestStorageBlobsNotFound: a record missing from storage is ENOTFOUND,
// the one not-found Reindex skips (a record deleted since the listing).
func TestStorageBlobsNotFound(t *testing.T) {
	d, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := catalog.StorageBlobs(d)
	ctx := context.Background()
	if _, err := b.ReadObject(ctx, layout.Record("st00001")); presession.ErrorCode(err) != presession.ENOTFOUND {
		t.Fatalf("ReadObject of a missing record: %v, want ENOTFOUND", err)
	}
	if err := b.WriteObject(ctx, layout.Record("st00001"), []byte(`{}`), "application/json"); err != nil {
		t.Fatal(err)
	}
	if got, err := b.ReadObject(ctx, layout.Record("st00001")); err != nil || string(got) != `{}` {
		t.Fatalf("ReadObject: %q, %v", got, err)
	}
	keys, err := b.ListKeys(ctx, layout.Statements)
	if err != nil || len(keys) != 1 || keys[0] != "statements/st00001/statement.json" {
		t.Fatalf("ListKeys: %q, %v", keys, err)
	}
}
