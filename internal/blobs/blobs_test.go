package blobs_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
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

// TestReadAll: records come in the order of the keys, a key with no object
// (deleted since the listing) is skipped, and the errors of decode and of
// the reads are all returned, joined.
func TestReadAll(t *testing.T) {
	d, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b := blobs.New(d, "no-cache")
	ctx := context.Background()
	var keys []string
	for i := range 40 {
		k := fmt.Sprintf("r/%02d.json", i)
		keys = append(keys, k)
		if i%10 == 3 {
			continue // listed, then deleted
		}
		if err := b.WriteObject(ctx, k, []byte(strconv.Itoa(i)), "application/json"); err != nil {
			t.Fatal(err)
		}
	}
	decode := func(k string, raw []byte) (*int, error) {
		n, err := strconv.Atoi(string(raw))
		if err != nil || n == 17 || n == 25 {
			return nil, fmt.Errorf("%s is bad", k)
		}
		return &n, nil
	}
	_, err = blobs.ReadAll(ctx, b, keys, 4, "test", decode)
	if err == nil || !strings.Contains(err.Error(), "r/17.json is bad") || !strings.Contains(err.Error(), "r/25.json is bad") {
		t.Fatalf("ReadAll with bad records: %v, want both errors", err)
	}
	good := slices.DeleteFunc(slices.Clone(keys), func(k string) bool { return k == "r/17.json" || k == "r/25.json" })
	got, err := blobs.ReadAll(ctx, b, good, 4, "test", decode)
	if err != nil {
		t.Fatal(err)
	}
	var want, have []int
	for i := range 40 {
		if i%10 != 3 && i != 17 && i != 25 {
			want = append(want, i)
		}
	}
	for _, n := range got {
		have = append(have, *n)
	}
	if !slices.Equal(have, want) {
		t.Fatalf("ReadAll: %v, want %v", have, want)
	}
}
