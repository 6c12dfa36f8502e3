package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/audit"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/storage"
)

// backend opens a fresh, empty storage of one kind.
type backend struct {
	name string
	open func(t *testing.T) catalog.Store
}

var backends = []backend{
	{"dir", func(t *testing.T) catalog.Store {
		t.Helper()
		d, err := storage.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return d
	}},
	{"s3", func(t *testing.T) catalog.Store {
		t.Helper()
		b := testenv.S3Bucket(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := storage.NewS3(ctx, storage.Config{Endpoint: b.Endpoint, Region: b.Region, Bucket: b.Bucket,
			AccessKey: b.AccessKey, SecretKey: b.SecretKey})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

// env is a Log on a fresh Redis DB and a fresh storage.
type env struct {
	log   *audit.Log
	rdb   *redis.Client
	store catalog.Store
}

func newEnv(t *testing.T, b backend) *env {
	t.Helper()
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	store := b.open(t)
	return &env{log: audit.New(rdb, catalog.StorageBlobs(store), "t:"), rdb: rdb, store: store}
}

// base is the time of the fixtures' first entry.
var base = time.Date(2026, 12, 1, 23, 59, 0, 0, time.UTC)

// fixtures are entries over two days by three actors; entry i is at
// base + i minutes.
var fixtures = []presession.AuditEntry{
	{ID: "e00", Actor: presession.ActorService, ActorName: "service", Action: "statement.approve", Target: "st1"},
	{ID: "e01", Actor: "staff:ana", ActorName: "Ana López", Action: "signin"},
	{ID: "e02", Actor: "staff:ana", ActorName: "Ana López", Action: "statement.reject", Target: "st2", Detail: "off topic"},
	{ID: "e03", Actor: "token:ci", ActorName: "CI", Action: "order.set", Target: "upr36/AD"},
	{ID: "e04", Actor: "staff:ana", ActorName: "Ana López", Action: "statement.approve", Target: "st3", Outcome: "forbidden"},
	{ID: "e05", Actor: presession.ActorService, ActorName: "service", Action: "statement.reopen", Target: "st1"},
	{ID: "e06", Actor: "staff:bo", ActorName: "Bo", Action: "statements.export"}, // not of the family "statement."
}

func (e *env) seed(t *testing.T) {
	t.Helper()
	for i, f := range fixtures {
		f.At = base.Add(time.Duration(i) * time.Minute)
		if err := e.log.Record(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
}

func ids(es []presession.AuditEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

// filterCases is the table of filters and what each selects, newest first.
var filterCases = []struct {
	name string
	f    presession.AuditFilter
	want []string
}{
	{"all", presession.AuditFilter{}, []string{"e06", "e05", "e04", "e03", "e02", "e01", "e00"}},
	{"limit", presession.AuditFilter{Limit: 2}, []string{"e06", "e05"}},
	{"actor", presession.AuditFilter{Actor: "staff:ana"}, []string{"e04", "e02", "e01"}},
	{"service", presession.AuditFilter{Actor: presession.ActorService}, []string{"e05", "e00"}},
	{"unknown actor", presession.AuditFilter{Actor: "staff:nobody"}, []string{}},
	{"action exact", presession.AuditFilter{Action: "statement.approve"}, []string{"e04", "e00"}},
	{"action without dot", presession.AuditFilter{Action: "signin"}, []string{"e01"}},
	{"action prefix", presession.AuditFilter{Action: "statement."}, []string{"e05", "e04", "e02", "e00"}},
	{"action prefix with no entries", presession.AuditFilter{Action: "member."}, []string{}},
	{"not a prefix without the dot", presession.AuditFilter{Action: "statement"}, []string{}},
	{"since", presession.AuditFilter{Since: base.Add(4 * time.Minute)}, []string{"e06", "e05", "e04"}},
	{"since is inclusive to the nanosecond", presession.AuditFilter{Since: base.Add(4*time.Minute + 1)}, []string{"e06", "e05"}},
	{"since a day", presession.AuditFilter{Since: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}, []string{"e06", "e05", "e04", "e03", "e02", "e01"}},
	{"actor and action", presession.AuditFilter{Actor: "staff:ana", Action: "statement."}, []string{"e04", "e02"}},
	{"actor, action and since", presession.AuditFilter{Actor: "staff:ana", Action: "statement.", Since: base.Add(3 * time.Minute)}, []string{"e04"}},
	{"actor and limit", presession.AuditFilter{Actor: "staff:ana", Limit: 1}, []string{"e04"}},
	{"since in the future", presession.AuditFilter{Since: base.Add(time.Hour)}, []string{}},
}

// TestQuery: the filter table on both storages, then the same answers
// after a FLUSHDB and a Reindex from storage alone.
func TestQuery(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b)
			e.seed(t)
			ctx := context.Background()
			check := func(t *testing.T) {
				t.Helper()
				for _, tc := range filterCases {
					got, err := e.log.Query(ctx, tc.f)
					if err != nil {
						t.Fatalf("%s: %v", tc.name, err)
					}
					if !slices.Equal(ids(got), tc.want) {
						t.Errorf("%s: %v, want %v", tc.name, ids(got), tc.want)
					}
				}
			}
			check(t)
			if err := e.rdb.FlushDB(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			if got, _ := e.log.Query(ctx, presession.AuditFilter{}); len(got) != 0 {
				t.Fatalf("after FLUSHDB: %v", ids(got))
			}
			n, err := e.log.Reindex(ctx)
			if err != nil || n != len(fixtures) {
				t.Fatalf("Reindex = %d, %v; want %d", n, err, len(fixtures))
			}
			check(t)
			// A second reindex changes nothing.
			if n, err := e.log.Reindex(ctx); err != nil || n != len(fixtures) {
				t.Fatalf("second Reindex = %d, %v", n, err)
			}
			check(t)
			actors, err := e.log.Actors(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := []audit.Actor{{"staff:ana", "Ana López"}, {"staff:bo", "Bo"}, {"token:ci", "CI"}, {presession.ActorService, "service"}}
			if !slices.Equal(actors, want) {
				t.Errorf("Actors = %v, want %v", actors, want)
			}
			actions, err := e.log.Actions(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"order.set", "signin", "statement.approve", "statement.reject", "statement.reopen", "statements.export"}; !slices.Equal(actions, want) {
				t.Errorf("Actions = %v, want %v", actions, want)
			}
		})
	}
}

// TestStoredChronologically: every entry is one object under audit/,
// its key naming its day and time, written as recorded; a listing of the
// prefix is in time order.
func TestStoredChronologically(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b)
			e.seed(t)
			ctx := context.Background()
			keys, err := catalog.StorageBlobs(e.store).ListKeys(ctx, layout.Audits)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range keys {
				at, id, ok := layout.ParseAudit(k)
				if !ok {
					t.Fatalf("unexpected key %s", k)
				}
				raw, err := catalog.StorageBlobs(e.store).ReadObject(ctx, k)
				if err != nil {
					t.Fatal(err)
				}
				var en presession.AuditEntry
				if err := json.Unmarshal(raw, &en); err != nil || en.ID != id || !en.At.Equal(at) {
					t.Fatalf("%s holds %+v (%v)", k, en, err)
				}
				got = append(got, id)
			}
			if want := []string{"e00", "e01", "e02", "e03", "e04", "e05", "e06"}; !slices.Equal(got, want) {
				t.Errorf("listing %v, want %v", got, want)
			}
			if keys[0] != "audit/2026/12/01/20261201T235900.000000000Z-e00.json" || keys[1] != "audit/2026/12/02/20261202T000000.000000000Z-e01.json" {
				t.Errorf("keys %v", keys[:2])
			}
		})
	}
}

// TestRecord: what Record fills in, and what it refuses.
func TestRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends[0])
	ctx := context.Background()
	before := time.Now()
	if err := e.log.Record(ctx, presession.AuditEntry{Actor: "staff:ana", ActorName: "Ana", Action: "signin"}); err != nil {
		t.Fatal(err)
	}
	got, err := e.log.Query(ctx, presession.AuditFilter{})
	if err != nil || len(got) != 1 {
		t.Fatalf("Query: %v, %v", got, err)
	}
	if g := got[0]; g.ID == "" || g.At.Before(before) || g.At.Location() != time.UTC || g.Outcome != "ok" {
		t.Errorf("recorded %+v", g)
	}
	for _, tc := range []struct {
		name string
		e    presession.AuditEntry
		code string
	}{
		{"same id again", presession.AuditEntry{ID: got[0].ID, Actor: "staff:bo", Action: "signin"}, presession.ECONFLICT},
		{"no actor", presession.AuditEntry{Action: "signin"}, presession.EINVALID},
		{"no action", presession.AuditEntry{Actor: "staff:bo"}, presession.EINVALID},
		{"action with upper case", presession.AuditEntry{Actor: "staff:bo", Action: "Statement.approve"}, presession.EINVALID},
		{"id with a slash", presession.AuditEntry{ID: "a/b", Actor: "staff:bo", Action: "signin"}, presession.EINVALID},
	} {
		if err := e.log.Record(ctx, tc.e); presession.ErrorCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	if got, _ := e.log.Query(ctx, presession.AuditFilter{}); len(got) != 1 || got[0].Actor != "staff:ana" {
		t.Errorf("a refused entry changed the audit: %+v", got)
	}
}

// TestLogPage: pages of a filter follow each other without gaps or repeats,
// and more says whether another follows.
func TestLogPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, backends[0])
	ctx := context.Background()
	const n = 1234 // more than one batch of the index
	for i := range n {
		actor := presession.Actor("staff:ana")
		if i%3 == 0 {
			actor = "staff:bo"
		}
		if err := e.log.Record(ctx, presession.AuditEntry{ID: fmt.Sprintf("p%05d", i),
			At: base.Add(time.Duration(i) * time.Second), Actor: actor, Action: "statement.approve"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		f     presession.AuditFilter
		total int
	}{
		{"all", presession.AuditFilter{Limit: 100}, n},
		{"actor", presession.AuditFilter{Actor: "staff:bo", Limit: 100}, (n + 2) / 3},
	} {
		var all []presession.AuditEntry
		for off := 0; ; off += tc.f.Limit {
			page, more, err := e.log.Page(ctx, tc.f, off)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if !more {
				break
			}
		}
		if len(all) != tc.total {
			t.Errorf("%s: %d entries over the pages, want %d", tc.name, len(all), tc.total)
		}
		for i := 1; i < len(all); i++ {
			if !all[i].At.Before(all[i-1].At) {
				t.Fatalf("%s: entry %d (%s) not older than the one before (%s)", tc.name, i, all[i].At, all[i-1].At)
			}
		}
	}
}
