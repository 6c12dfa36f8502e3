package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
)

var (
	testSessions  = []string{"upr36", "upr37"}
	testCountries = []string{"AD", "BG", "HR", "MV"}
)

// fill puts statements of every status across sessions, countries and
// invitations into the catalog, with media, captions, reopenings and a
// custom order in some countries.
func fill(t *testing.T, e *env, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		session := testSessions[i%2]
		cc := testCountries[(i/2)%len(testCountries)]
		st := presession.Statuses[(i/3)%len(presession.Statuses)]
		var s *presession.Statement
		if st == presession.StatusFailed && i%2 == 0 {
			// A failure the system wrote, with its catalogue message.
			s = e.newStatement(t, session, cc, fmt.Sprintf("inv-%s-%d", cc, i%3))
			var err error
			s, err = e.cat.Transition(ctx, s.ID, st, "worker", fmt.Sprintf("the file stops at 0:%02d of 1:00", i%60),
				presession.Message{Key: "reject.truncated", Args: []string{fmt.Sprintf("0:%02d", i%60), "1:00"}})
			if err != nil {
				t.Fatal(err)
			}
		} else {
			s = e.statementAt(t, session, cc, fmt.Sprintf("inv-%s-%d", cc, i%3), st)
		}
		if i%4 == 0 && (st == presession.StatusReady || st == presession.StatusApproved) {
			if _, err := e.cat.Update(ctx, s.ID, func(s *presession.Statement) error {
				s.Media = &presession.Media{Duration: float64(i), Master: "m/" + s.ID, Renditions: []presession.Rendition{{Name: "720p", Segments: []presession.Segment{{Key: "k", Duration: 6}}}}}
				s.Captions = []presession.Caption{{Language: "en", Name: "English", Key: "c/" + s.ID, Placeholder: true}}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		if i%5 == 0 && st == presession.StatusApproved {
			for _, to := range []presession.Status{presession.StatusReady, presession.StatusRejected, presession.StatusReady, presession.StatusApproved} {
				if _, err := e.cat.Transition(ctx, s.ID, to, "staff:eve", "second look"); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Reverse the order in half the countries.
	for _, session := range testSessions {
		for _, cc := range testCountries[:2] {
			o, err := e.cat.Order(ctx, session, cc)
			if err != nil {
				t.Fatal(err)
			}
			rev := slices.Clone(o.Statements)
			slices.Reverse(rev)
			if err := e.cat.SetOrder(ctx, session, cc, rev, "staff:frank"); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// snapshot reads everything the catalog can answer.
func snapshot(t *testing.T, e *env) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	list := func(f presession.Filter) []*presession.Statement {
		l, total, err := e.cat.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("total %+v", f)] = total
		out[fmt.Sprintf("list %+v", f)] = l
		return l
	}
	all := list(presession.Filter{})
	list(presession.Filter{Offset: 7, Limit: 9})
	for _, s := range all {
		got, err := e.cat.Get(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		out["get "+s.ID] = got
		list(presession.Filter{InvitationID: s.InvitationID})
	}
	for _, session := range append(slices.Clone(testSessions), "") {
		for _, cc := range append(slices.Clone(testCountries), "") {
			for _, st := range append(slices.Clone(presession.Statuses), "") {
				list(presession.Filter{Session: session, Country: cc, Status: st})
			}
			if session != "" && cc != "" {
				o, err := e.cat.Order(ctx, session, cc)
				if err != nil {
					t.Fatal(err)
				}
				out["order "+session+"/"+cc] = o
			}
		}
	}
	return out
}

func diffSnapshots(t *testing.T, before, after map[string]any) {
	t.Helper()
	keys := make([]string, 0, len(before))
	for k := range before {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !reflect.DeepEqual(before[k], after[k]) {
			t.Errorf("%s:\nbefore %+v\nafter  %+v", k, before[k], after[k])
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d answers before, %d after", len(before), len(after))
	}
}

func TestReindexAfterFlush(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 140
	fill(t, e, n)
	before := snapshot(t, e)
	if l := before["list {Session: Country: Status:approved InvitationID: Search: Offset:0 Limit:0}"].([]*presession.Statement); len(l) < 10 {
		t.Fatalf("fill made only %d approved statements", len(l))
	}
	keyed := 0
	for _, s := range before["list {Session: Country: Status:failed InvitationID: Search: Offset:0 Limit:0}"].([]*presession.Statement) {
		if s.ReasonKey != "" && len(s.ReasonArgs) == 2 {
			keyed++
		}
	}
	if keyed < 5 {
		t.Fatalf("fill made only %d failed statements with a reason message", keyed)
	}

	if err := e.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.Get(ctx, "st00001"); presession.ErrorCode(err) != presession.ENOTFOUND {
		t.Fatalf("after FLUSHDB: %v", err)
	}
	got, err := e.cat.Reindex(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("reindexed %d statements, want %d", got, n)
	}
	diffSnapshots(t, before, snapshot(t, e))

	// Reindexing a live catalog changes nothing either.
	if _, err := e.cat.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	diffSnapshots(t, before, snapshot(t, e))

	// And it keeps working: a new approval joins the end of the order.
	s := e.statementAt(t, "upr36", "AD", "inv-new", presession.StatusApproved)
	o, _ := e.cat.Order(ctx, "upr36", "AD")
	if o.Statements[len(o.Statements)-1] != s.ID {
		t.Fatalf("new approval not at the end: %v", o.Statements)
	}
}

// TestReindexRepairsOrder: a crash between the statement's and the order's
// storage writes of an approval leaves the order file behind; reindex
// puts the approved statements back in.
func TestReindexRepairsOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.statementAt(t, "upr36", "HR", "i", presession.StatusApproved)
	b := e.statementAt(t, "upr36", "HR", "i", presession.StatusApproved)
	c := e.statementAt(t, "upr36", "HR", "i", presession.StatusApproved)
	if err := e.cat.SetOrder(ctx, "upr36", "HR", []string{b.ID, a.ID, c.ID}, "staff"); err != nil {
		t.Fatal(err)
	}
	d := e.statementAt(t, "upr36", "HR", "i", presession.StatusReady)
	// Write an order file that predates c's approval and lists a stranger.
	stale := []byte(fmt.Sprintf(`{"session":"upr36","country":"HR","statements":[%q,%q,%q]}`, b.ID, d.ID, a.ID))
	if err := os.WriteFile(filepath.Join(e.dir, "orders", "upr36", "HR.json"), stale, 0o644); err != nil {
		t.Fatal(err)
	}
	// And lose the order of a whole country.
	m := e.statementAt(t, "upr37", "MV", "i", presession.StatusApproved)
	if err := os.Remove(filepath.Join(e.dir, "orders", "upr37", "MV.json")); err != nil {
		t.Fatal(err)
	}
	if err := e.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		session, cc string
		want        []string
	}{{"upr36", "HR", []string{b.ID, a.ID, c.ID}}, {"upr37", "MV", []string{m.ID}}} {
		o, _ := e.cat.Order(ctx, tc.session, tc.cc)
		if !slices.Equal(o.Statements, tc.want) {
			t.Errorf("%s/%s: order %v, want %v", tc.session, tc.cc, o.Statements, tc.want)
		}
		if f := e.orderFile(t, tc.session, tc.cc); !slices.Equal(f.Statements, tc.want) {
			t.Errorf("%s/%s: repaired order not written back: %v", tc.session, tc.cc, f.Statements)
		}
	}
}

// TestStorageFailure: a change committed in Redis whose storage write
// fails is reported, stays pending, and is written by a retry, Sync or
// Reindex, so a decision survives the loss of Redis afterwards.
func TestStorageFailure(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.statementAt(t, "upr36", "BG", "i", presession.StatusReady)

	e.blobs.fail.Store(true)
	_, err := e.cat.Transition(ctx, s.ID, presession.StatusApproved, "staff:dan", "")
	if !errors.Is(err, catalog.ErrNotDurable) {
		t.Fatalf("approve with storage down: %v", err)
	}
	if got, _ := e.cat.Get(ctx, s.ID); got.Status != presession.StatusApproved {
		t.Fatalf("committed change not visible: %s", got.Status)
	}
	if m := e.manifest(t, s.ID); m.Status != presession.StatusReady {
		t.Fatalf("manifest %s", m.Status)
	}
	_, err = e.cat.Transition(ctx, s.ID, presession.StatusApproved, "staff:dan", "")
	if !errors.Is(err, catalog.ErrNotDurable) {
		t.Fatalf("retry with storage still down: %v", err)
	}
	// Someone else's approve is a conflict, not a retry.
	_, err = e.cat.Transition(ctx, s.ID, presession.StatusApproved, "staff:other", "")
	wantCode(t, err, presession.ECONFLICT)

	e.blobs.fail.Store(false)
	got, err := e.cat.Transition(ctx, s.ID, presession.StatusApproved, "staff:dan", "")
	if err != nil {
		t.Fatalf("retry once storage is back: %v", err)
	}
	if m := e.manifest(t, s.ID); !reflect.DeepEqual(m, got) || len(m.History) != 5 {
		t.Fatalf("manifest after retry: %+v", m)
	}
	if f := e.orderFile(t, "upr36", "BG"); !slices.Equal(f.Statements, []string{s.ID}) {
		t.Fatalf("order file after retry: %v", f.Statements)
	}
	_, err = e.cat.Transition(ctx, s.ID, presession.StatusApproved, "staff:dan", "")
	wantCode(t, err, presession.ECONFLICT) // durable now: no longer a retry

	// Reindex writes pending changes before reading storage.
	r := e.statementAt(t, "upr36", "BG", "i", presession.StatusReady)
	e.blobs.fail.Store(true)
	if _, err := e.cat.Transition(ctx, r.ID, presession.StatusRejected, "staff", "too long"); !errors.Is(err, catalog.ErrNotDurable) {
		t.Fatal(err)
	}
	if _, err := e.cat.Reindex(ctx); err == nil {
		t.Fatal("reindex with pending changes and storage down succeeded")
	}
	if got, _ := e.cat.Get(ctx, r.ID); got.Status != presession.StatusRejected {
		t.Fatalf("failed reindex lost the pending change: %s", got.Status)
	}
	e.blobs.fail.Store(false)
	if _, err := e.cat.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.cat.Get(ctx, r.ID); got.Status != presession.StatusRejected || got.Reason != "too long" {
		t.Fatalf("after reindex: %s %q", got.Status, got.Reason)
	}

	// Sync writes pending updates.
	e.blobs.fail.Store(true)
	if _, err := e.cat.Update(ctx, r.ID, func(s *presession.Statement) error { s.Title = "new title"; return nil }); !errors.Is(err, catalog.ErrNotDurable) {
		t.Fatal(err)
	}
	e.blobs.fail.Store(false)
	if err := e.cat.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if m := e.manifest(t, r.ID); m.Title != "new title" {
		t.Fatalf("manifest title %q after Sync", m.Title)
	}
	// Everything is durable now: losing Redis loses nothing.
	before := snapshot(t, e)
	if err := e.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	diffSnapshots(t, before, snapshot(t, e))
}

// gatedBlobs holds the first write of one key until released.
type gatedBlobs struct {
	catalog.Blobs
	key     string
	held    chan struct{} // closed when the first write is waiting
	release chan struct{}
	first   bool
}

func (g *gatedBlobs) WriteObject(ctx context.Context, key string, data []byte, ct string) error {
	if key == g.key && !g.first {
		g.first = true // only the first writer reaches here before release
		close(g.held)
		<-g.release
	}
	return g.Blobs.WriteObject(ctx, key, data, ct)
}

// TestSlowStorageWriteLosesToNewer: a writer whose storage write lands
// after a newer change's write does not leave its stale record in storage.
func TestSlowStorageWriteLosesToNewer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.statementAt(t, "upr36", "AD", "i", presession.StatusReady)
	g := &gatedBlobs{Blobs: dirBlobs{root: e.dir}, key: "statements/" + s.ID + "/statement.json",
		held: make(chan struct{}), release: make(chan struct{})}
	cat := catalog.New(e.rdb, g, catalog.WithPrefix(e.prefix))

	done := make(chan error)
	go func() {
		_, err := cat.Update(ctx, s.ID, func(s *presession.Statement) error { s.Title = "older"; return nil })
		done <- err
	}()
	<-g.held // the older change is committed in Redis, its storage write held
	newer, err := cat.Update(ctx, s.ID, func(s *presession.Statement) error { s.Title = "newer"; return nil })
	if err != nil {
		t.Fatal(err)
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if m := e.manifest(t, s.ID); !reflect.DeepEqual(m, newer) {
		t.Fatalf("storage holds %q, Redis %q", m.Title, newer.Title)
	}
}
