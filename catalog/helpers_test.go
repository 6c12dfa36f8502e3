package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/internal/fakes"
	"github.com/uprinfo/presession/internal/testenv"
)

// dirBlobs is catalog.Blobs over a directory, as the storage package's
// directory backend will be.
type dirBlobs struct{ root string }

func (d dirBlobs) WriteObject(_ context.Context, key string, data []byte, _ string) error {
	p := filepath.Join(d.root, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), p)
}

func (d dirBlobs) ReadObject(_ context.Context, key string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(d.root, filepath.FromSlash(key)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &presession.Error{Code: presession.ENOTFOUND, Message: "no object " + key, Err: err}
	}
	return b, err
}

func (d dirBlobs) ListKeys(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), ".tmp-") {
			return err
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		if k := filepath.ToSlash(rel); strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
		return nil
	})
	return keys, err
}

// flakyBlobs fails every write while fail is set.
type flakyBlobs struct {
	catalog.Blobs
	fail atomic.Bool
}

func (f *flakyBlobs) WriteObject(ctx context.Context, key string, data []byte, ct string) error {
	if f.fail.Load() {
		return errors.New("storage is down")
	}
	return f.Blobs.WriteObject(ctx, key, data, ct)
}

// hookLog records playlist-hook calls per session/country.
type hookLog struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *hookLog) record(_ context.Context, session, country string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == nil {
		h.n = map[string]int{}
	}
	h.n[session+"/"+country]++
}

func (h *hookLog) count(session, country string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[session+"/"+country]
}

type env struct {
	cat    *catalog.Catalog
	rdb    *redis.Client
	prefix string
	blobs  *flakyBlobs
	dir    string
	hooks  *hookLog
	ids    atomic.Int64
}

// newEnv returns a catalog on a fresh Redis DB (with a random key prefix)
// and a fresh storage directory, whose clock ticks 1 ms per reading.
func newEnv(t *testing.T) *env {
	t.Helper()
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	e := &env{rdb: rdb, dir: t.TempDir(), hooks: &hookLog{}, prefix: "t" + testenv.RandomHex(3) + ":"}
	e.blobs = &flakyBlobs{Blobs: dirBlobs{root: e.dir}}
	var tick atomic.Int64
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e.cat = catalog.New(rdb, e.blobs,
		catalog.WithPrefix(e.prefix),
		catalog.WithPlaylistHook(e.hooks.record),
		catalog.WithClock(func() time.Time { return base.Add(time.Duration(tick.Add(1)) * time.Millisecond) }),
	)
	return e
}

// newStatement creates an uploading statement.
func (e *env) newStatement(t *testing.T, session, country, inv string) *presession.Statement {
	t.Helper()
	s := &presession.Statement{
		ID:           fmt.Sprintf("st%05d", e.ids.Add(1)),
		Session:      session,
		Country:      country,
		Organisation: "Org " + inv,
		InvitationID: inv,
		Title:        "A statement",
		Language:     "en",
		SourceKey:    "uploads/x",
	}
	if err := e.cat.Create(context.Background(), s); err != nil {
		t.Fatalf("create: %v", err)
	}
	return s
}

// statementAt creates a statement and drives it to st by legal steps.
func (e *env) statementAt(t *testing.T, session, country, inv string, st presession.Status) *presession.Statement {
	t.Helper()
	s := e.newStatement(t, session, country, inv)
	for _, to := range fakes.PathTo(st) {
		var err error
		if s, err = e.cat.Transition(context.Background(), s.ID, to, "worker", "setup reason"); err != nil {
			t.Fatalf("setup %s → %s: %v", s.Status, to, err)
		}
	}
	return s
}

// manifest reads the statement's manifest from storage.
func (e *env) manifest(t *testing.T, id string) *presession.Statement {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, "statements", id, "statement.json"))
	if err != nil {
		t.Fatalf("manifest of %s: %v", id, err)
	}
	var s presession.Statement
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("manifest of %s: %v", id, err)
	}
	return &s
}

// orderFile reads the order document from storage.
func (e *env) orderFile(t *testing.T, session, country string) *presession.Order {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.dir, "orders", session, country+".json"))
	if err != nil {
		t.Fatalf("order file %s/%s: %v", session, country, err)
	}
	var o presession.Order
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatalf("order file %s/%s: %v", session, country, err)
	}
	return &o
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := presession.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func ids(ss []*presession.Statement) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	return out
}
