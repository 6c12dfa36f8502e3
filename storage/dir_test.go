package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uprinfo/presession/storage"
)

// files lists every file and directory under root, hidden ones included.
func files(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() {
				rel += "/"
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDirLayout(t *testing.T) {
	ctx := context.Background()
	outside := t.TempDir()
	root := filepath.Join(outside, "store")
	d, err := storage.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	put(t, d, "a/b/plain.m4s", []byte("x"), storage.PutOptions{})
	put(t, d, "a/b/cached.m3u8", []byte("y"), storage.PutOptions{CacheControl: "no-cache"})
	// The object is the plain file; only non-inferable metadata gets a sidecar.
	want := []string{"a/", "a/b/", "a/b/.cached.m3u8.meta", "a/b/cached.m3u8", "a/b/plain.m4s"}
	if got := files(t, root); !slices.Equal(got, want) {
		t.Fatalf("files %q, want %q", got, want)
	}
	if p, _ := d.Path("a/b/plain.m4s"); p != filepath.Join(d.Root(), "a", "b", "plain.m4s") {
		t.Errorf("Path = %s", p)
	}

	// Leftovers of an interrupted Put are never listed.
	os.WriteFile(filepath.Join(root, "a", "b", ".tmp-123"), []byte("partial"), 0o644)
	os.MkdirAll(filepath.Join(root, ".hidden"), 0o755)
	os.WriteFile(filepath.Join(root, ".hidden", "x"), []byte("x"), 0o644)
	if got := keys(list(t, d, "")); !slices.Equal(got, []string{"a/b/cached.m3u8", "a/b/plain.m4s"}) {
		t.Fatalf("List = %q", got)
	}
	os.Remove(filepath.Join(root, "a", "b", ".tmp-123"))

	// Overwriting without metadata drops the sidecar.
	put(t, d, "a/b/cached.m3u8", []byte("z"), storage.PutOptions{})
	if _, err := os.Stat(filepath.Join(root, "a", "b", ".cached.m3u8.meta")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("sidecar left after overwrite without metadata: %v", err)
	}

	// Deleting the last objects removes the directories they left empty.
	if err := d.Delete(ctx, "a/b/plain.m4s"); err != nil {
		t.Fatal(err)
	}
	if err := d.DeletePrefix(ctx, "a/"); err != nil {
		t.Fatal(err)
	}
	if got := files(t, root); !slices.Equal(got, []string{".hidden/", ".hidden/x"}) {
		t.Fatalf("after deleting everything: %q", got)
	}
}

func TestDirKeysCannotEscape(t *testing.T) {
	ctx := context.Background()
	outside := t.TempDir()
	root := filepath.Join(outside, "store")
	d, err := storage.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"../escaped", "a/../../escaped", "/" + filepath.Join(outside, "escaped"), `..\escaped`, "..\x00/escaped"} {
		if err := d.Put(ctx, key, bytes.NewReader([]byte("x")), 1, storage.PutOptions{}); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := d.Path(key); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Path(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	if got := files(t, outside); !slices.Equal(got, []string{"store/"}) {
		t.Fatalf("files outside the root: %q", got)
	}
}

func TestDirObjectVersusPrefix(t *testing.T) {
	ctx := context.Background()
	d, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put(t, d, "a/b", []byte("x"), storage.PutOptions{})
	// A key cannot be both an object and a directory on disk: refused, and
	// the existing object stays intact.
	if err := d.Put(ctx, "a", bytes.NewReader([]byte("y")), 1, storage.PutOptions{}); err == nil {
		t.Error("Put over a key prefix succeeded")
	}
	if err := d.Put(ctx, "a/b/c", bytes.NewReader([]byte("y")), 1, storage.PutOptions{}); err == nil {
		t.Error("Put below an object succeeded")
	}
	if err := d.Delete(ctx, "a"); err != nil {
		t.Errorf("Delete of a prefix that is no object: %v", err)
	}
	if got, _ := get(t, d, "a/b", nil); string(got) != "x" {
		t.Errorf("a/b = %q", got)
	}
}

func TestConfigRedactsSecret(t *testing.T) {
	var buf bytes.Buffer
	cfg := storage.Config{Endpoint: "s3.example:9000", Bucket: "media", AccessKey: "AKID", SecretKey: "very-secret-value"}
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("storage", "s3", cfg)
	out := buf.String() + cfg.String()
	if strings.Contains(out, "very-secret-value") {
		t.Fatalf("secret in log output: %s", out)
	}
	if !strings.Contains(out, "s3.example:9000") || !strings.Contains(out, "REDACTED") {
		t.Fatalf("log output lacks the endpoint or the redaction: %s", out)
	}
}

func TestRangeResolve(t *testing.T) {
	for _, c := range []struct {
		r           storage.Range
		size        int64
		off, n      int64
		unsatisfied bool
	}{
		{storage.Range{Start: 0, End: -1}, 10, 0, 10, false},
		{storage.Range{Start: 2, End: 4}, 10, 2, 3, false},
		{storage.Range{Start: 8, End: 100}, 10, 8, 2, false},
		{storage.Range{Start: -3, End: -1}, 10, 7, 3, false},
		{storage.Range{Start: -30, End: -1}, 10, 0, 10, false},
		{storage.Range{Start: 10, End: -1}, 10, 0, 0, true},
		{storage.Range{Start: 0, End: -1}, 0, 0, 0, true},
		{storage.Range{Start: -5, End: -1}, 0, 0, 0, true},
		{storage.Range{Start: 4, End: 2}, 10, 0, 0, true},
		{storage.Range{Start: -2, End: 5}, 10, 0, 0, true},
	} {
		off, n, err := c.r.Resolve(c.size)
		if c.unsatisfied {
			if !errors.Is(err, storage.ErrInvalidRange) {
				t.Errorf("%s of %d: err %v, want ErrInvalidRange", c.r, c.size, err)
			}
			continue
		}
		if err != nil || off != c.off || n != c.n {
			t.Errorf("%s of %d = %d, %d, %v; want %d, %d", c.r, c.size, off, n, err, c.off, c.n)
		}
	}
}
