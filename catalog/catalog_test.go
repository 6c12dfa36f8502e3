package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/internal/fakes"
)

// TestTransitionTable drives a fresh statement to every status and tries
// every target status from there. The lifecycle's rules are the domain's
// (its own table test covers them); here, what Redis and storage hold is
// the domain's Apply of the move, or unchanged when refused, and the
// indexes, the order and the playlist hook follow.
func TestTransitionTable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	targets := append(slices.Clone(presession.Statuses), "bogus")
	for _, from := range presession.Statuses {
		for _, to := range targets {
			t.Run(fmt.Sprintf("%s→%s", from, to), func(t *testing.T) {
				t.Parallel()
				session := fmt.Sprintf("s-%s-%s", from, to) // own session: hook calls are this case's
				s := e.statementAt(t, session, "AD", "inv1", from)
				hooksBefore := e.hooks.count(session, "AD")
				before, err := e.cat.Get(ctx, s.ID)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := e.cat.Get(ctx, s.ID)
				got, err := e.cat.Transition(ctx, s.ID, to, "staff:alice", "because")
				after, gerr := e.cat.Get(ctx, s.ID)
				if gerr != nil {
					t.Fatal(gerr)
				}
				order, oerr := e.cat.Order(ctx, session, "ad")
				if oerr != nil {
					t.Fatal(oerr)
				}
				inOrder := slices.Contains(order.Statements, s.ID)
				hooks := e.hooks.count(session, "AD") - hooksBefore

				if !to.Valid() {
					wantCode(t, err, presession.EINVALID)
					if !reflect.DeepEqual(after, before) {
						t.Fatalf("statement changed by a refused transition")
					}
					return
				}
				if !from.CanTransition(to) {
					wantCode(t, err, presession.ECONFLICT)
					if !strings.Contains(err.Error(), string(from)) {
						t.Errorf("conflict %q does not name the current status %s", err, from)
					}
					if !reflect.DeepEqual(after, before) {
						t.Fatalf("statement changed by a refused transition")
					}
					if inOrder != (from == presession.StatusApproved) || hooks != 0 {
						t.Errorf("order membership %v, hook calls %d after a refused transition", inOrder, hooks)
					}
					return
				}
				if err != nil {
					t.Fatalf("legal transition refused: %v", err)
				}
				if len(after.History) != len(before.History)+1 {
					t.Fatalf("history grew by %d events, want 1", len(after.History)-len(before.History))
				}
				if err := want.Apply(presession.Move{To: to, By: "staff:alice", Reason: presession.Reason{Text: "because"}}, after.History[len(after.History)-1].At); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(after, want) {
					t.Errorf("Redis record\n%+v\nthe domain's move\n%+v", after, want)
				}
				if !reflect.DeepEqual(got, after) {
					t.Errorf("Transition returned\n%+v\nGet returns\n%+v", got, after)
				}
				if m := e.manifest(t, s.ID); !reflect.DeepEqual(m, after) {
					t.Errorf("manifest in storage\n%+v\nRedis record\n%+v", m, after)
				}
				for _, st := range presession.Statuses {
					l, _, err := e.cat.List(ctx, presession.Filter{Session: session, Country: "AD", Status: st})
					if err != nil {
						t.Fatal(err)
					}
					if in, want := slices.Contains(ids(l), s.ID), st == to; in != want {
						t.Errorf("in the %s index: %v, want %v", st, in, want)
					}
				}
				if want := to == presession.StatusApproved; inOrder != want {
					t.Errorf("in the order: %v, want %v (%v)", inOrder, want, order.Statements)
				}
				wantHooks := 0
				if from == presession.StatusApproved || to == presession.StatusApproved {
					wantHooks = 1
				}
				if hooks != wantHooks {
					t.Errorf("playlist hook called %d times, want %d", hooks, wantHooks)
				}
			})
		}
	}
}

// TestTransitionRefused: a move the domain refuses whatever the status
// (see its TestMoveRules) is refused before Redis is read, with the
// domain's error, and writes nothing; a missing statement is ENOTFOUND.
func TestTransitionRefused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.statementAt(t, "upr36", "AD", "inv1", presession.StatusReady)
	msg := presession.Message{Key: "reject.truncated", Args: []string{"0:24", "1:00"}}
	unreachable := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { unreachable.Close() })
	down := catalog.New(unreachable, nil)
	for _, tc := range []struct {
		name          string
		to            presession.Status
		actor, reason string
		msg           []presession.Message
	}{
		{"no reason", presession.StatusRejected, "staff", "", nil},
		{"blank reason", presession.StatusRejected, "staff", "  \n ", nil},
		{"long reason", presession.StatusRejected, "staff", strings.Repeat("x", presession.MaxReasonLength+1), nil},
		{"no actor", presession.StatusApproved, "", "", nil},
		{"message kept nowhere", presession.StatusApproved, "staff", "", []presession.Message{msg}},
		{"two messages", presession.StatusRejected, "staff", "x", []presession.Message{msg, msg}},
		{"too many arguments", presession.StatusRejected, "staff", "x", []presession.Message{{Key: "k", Args: make([]string, 9)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := presession.NewMove(tc.to, presession.Actor(tc.actor), tc.reason, tc.msg...)
			_, got := e.cat.Transition(ctx, s.ID, tc.to, tc.actor, tc.reason, tc.msg...)
			wantCode(t, got, presession.EINVALID)
			if got.Error() != err.Error() {
				t.Errorf("catalog says %q, the domain %q", got, err)
			}
			// Redis is never reached.
			if _, derr := down.Transition(ctx, s.ID, tc.to, tc.actor, tc.reason, tc.msg...); derr == nil || derr.Error() != err.Error() {
				t.Errorf("with Redis down: %v", derr)
			}
			if after, _ := e.cat.Get(ctx, s.ID); !reflect.DeepEqual(after, s) {
				t.Fatalf("a refused transition was written: %+v", after)
			}
		})
	}
	_, err := e.cat.Transition(ctx, "nope", presession.StatusApproved, "staff", "")
	wantCode(t, err, presession.ENOTFOUND)
}

// TestReasonMessage: a failure's catalogue message is stored with its
// reason, in Redis and storage, survives the loss of Redis, and goes
// whenever the reason goes.
func TestReasonMessage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	msg := presession.Message{Key: "reject.truncated", Args: []string{"0:24", "1:00"}}
	reason := "the file stops at 0:24 of 1:00 — the upload may have been cut; please upload it again"
	want := func(t *testing.T, s *presession.Statement, where string, reason, key string, args []string) {
		t.Helper()
		if s.Reason != reason || s.ReasonKey != key || !slices.Equal(s.ReasonArgs, args) {
			t.Errorf("%s: reason %q key %q args %q, want %q %q %q", where, s.Reason, s.ReasonKey, s.ReasonArgs, reason, key, args)
		}
	}
	check := func(t *testing.T, id, reason, key string, args []string) {
		t.Helper()
		got, err := e.cat.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want(t, got, "redis", reason, key, args)
		want(t, e.manifest(t, id), "storage", reason, key, args)
	}

	p := e.statementAt(t, "upr36", "AD", "inv1", presession.StatusProcessing)
	args := slices.Clone(msg.Args)
	s, err := e.cat.Transition(ctx, p.ID, presession.StatusFailed, "worker", reason, msg)
	if err != nil {
		t.Fatal(err)
	}
	msg.Args[0] = "changed by the caller afterwards"
	want(t, s, "returned", reason, msg.Key, args)
	check(t, p.ID, reason, msg.Key, args)
	if last := s.History[len(s.History)-1]; last.Reason != reason {
		t.Errorf("history keeps %q", last.Reason)
	}

	// Only Transition changes it.
	_, err = e.cat.Update(ctx, p.ID, func(s *presession.Statement) error { s.ReasonArgs = []string{"0:25", "1:00"}; return nil })
	wantCode(t, err, presession.EINVALID)
	_, err = e.cat.Update(ctx, p.ID, func(s *presession.Statement) error { s.ReasonKey = ""; return nil })
	wantCode(t, err, presession.EINVALID)

	// It survives the loss of Redis.
	if err := e.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	check(t, p.ID, reason, msg.Key, args)

	// A re-run clears it with the reason; failing again without a message
	// leaves none behind.
	s, err = e.cat.Transition(ctx, p.ID, presession.StatusUploaded, "system", "")
	if err != nil {
		t.Fatal(err)
	}
	want(t, s, "re-run", "", "", nil)
	check(t, p.ID, "", "", nil)
	for _, to := range []presession.Status{presession.StatusProcessing, presession.StatusFailed} {
		if _, err := e.cat.Transition(ctx, p.ID, to, "worker", "something else"); err != nil {
			t.Fatal(err)
		}
	}
	check(t, p.ID, "something else", "", nil)
	if err := e.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	check(t, p.ID, "something else", "", nil)

	// A rejection may carry one too, and reopening clears it.
	r := e.statementAt(t, "upr36", "AD", "inv1", presession.StatusReady)
	if _, err := e.cat.Transition(ctx, r.ID, presession.StatusRejected, "system", reason, msg); err != nil {
		t.Fatal(err)
	}
	check(t, r.ID, reason, msg.Key, msg.Args)
	if _, err := e.cat.Transition(ctx, r.ID, presession.StatusReady, "staff", "second look"); err != nil {
		t.Fatal(err)
	}
	check(t, r.ID, "", "", nil)

	// An empty message is none.
	if s, err := e.cat.Transition(ctx, r.ID, presession.StatusRejected, "staff", "typed by staff", presession.Message{}); err != nil {
		t.Fatal(err)
	} else {
		want(t, s, "staff rejection", "typed by staff", "", nil)
	}
}

// TestApproveRejectRace has staff approve and reject the same statement at
// once, many times: exactly one wins each time.
func TestApproveRejectRace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const contenders, rounds = 8, 60
	for round := range rounds {
		s := e.statementAt(t, "upr36", "BG", "inv1", presession.StatusReady)
		start := make(chan struct{})
		errs := make([]error, contenders)
		var wg sync.WaitGroup
		for i := range contenders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				to, reason := presession.StatusApproved, ""
				if i%2 == 1 {
					to, reason = presession.StatusRejected, "off topic"
				}
				_, errs[i] = e.cat.Transition(ctx, s.ID, to, fmt.Sprintf("staff:%d", i), reason)
			}()
		}
		close(start)
		wg.Wait()

		got, err := e.cat.Get(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		winners := 0
		for i, err := range errs {
			if err == nil {
				winners++
				continue
			}
			if presession.ErrorCode(err) != presession.ECONFLICT || !strings.Contains(err.Error(), string(got.Status)) {
				t.Fatalf("round %d contender %d: %v (status %s)", round, i, err, got.Status)
			}
		}
		decisions := 0
		for _, ev := range got.History {
			if ev.To == presession.StatusApproved || ev.To == presession.StatusRejected {
				decisions++
			}
		}
		if winners != 1 || decisions != 1 {
			t.Fatalf("round %d: %d winners, %d decisions in history, want 1 and 1", round, winners, decisions)
		}
		if m := e.manifest(t, s.ID); !reflect.DeepEqual(m, got) {
			t.Fatalf("round %d: manifest disagrees with Redis:\n%+v\n%+v", round, m, got)
		}
	}
	// Every approved one joined the order once, in approval order.
	approved, _, err := e.cat.List(ctx, presession.Filter{Session: "upr36", Country: "BG", Status: presession.StatusApproved})
	if err != nil {
		t.Fatal(err)
	}
	o, err := e.cat.Order(ctx, "upr36", "BG")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Statements, ids(approved)) {
		t.Fatalf("order %v, approved %v", o.Statements, ids(approved))
	}
	if f := e.orderFile(t, "upr36", "BG"); !slices.Equal(f.Statements, o.Statements) {
		t.Fatalf("order file %v, Redis %v", f.Statements, o.Statements)
	}
}

func TestCreate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.newStatement(t, "upr36", "ad", "inv1")
	if s.Country != "AD" || s.Status != presession.StatusUploading || s.CreatedAt.IsZero() || len(s.History) != 1 || s.History[0].Actor != "cso:inv1" {
		t.Fatalf("defaults not filled in: %+v", s)
	}
	got, err := e.cat.Get(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("Get\n%+v\nwant\n%+v", got, s)
	}

	// A second Create (the upload-finished hook firing twice) changes nothing.
	dup := *got
	dup.Title, dup.History = "other", nil
	err = e.cat.Create(ctx, &dup)
	wantCode(t, err, presession.ECONFLICT)
	if !errors.Is(err, catalog.ErrExists) {
		t.Fatalf("%v is not ErrExists", err)
	}
	if again, _ := e.cat.Get(ctx, s.ID); !reflect.DeepEqual(again, got) {
		t.Fatalf("second Create changed the record")
	}
	if l, n, _ := e.cat.List(ctx, presession.Filter{}); n != 1 || len(l) != 1 {
		t.Fatalf("List after duplicate create: %d total", n)
	}

	// Concurrent creates of one id: one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := e.cat.Create(ctx, &presession.Statement{ID: "same", Session: "upr36", Country: "AD"})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if !errors.Is(err, catalog.ErrExists) {
				t.Errorf("concurrent create: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent creates won", wins)
	}

	for name, bad := range map[string]presession.Statement{
		"empty id":       {Session: "upr36", Country: "AD"},
		"slash in id":    {ID: "a/b", Session: "upr36", Country: "AD"},
		"dot-dot id":     {ID: "..", Session: "upr36", Country: "AD"},
		"no session":     {ID: "x1", Country: "AD"},
		"bad country":    {ID: "x2", Session: "upr36", Country: "XX"},
		"starts ready":   {ID: "x3", Session: "upr36", Country: "AD", Status: presession.StatusReady},
		"unknown status": {ID: "x4", Session: "upr36", Country: "AD", Status: "bogus"},
	} {
		t.Run(name, func(t *testing.T) {
			wantCode(t, e.cat.Create(ctx, &bad), presession.EINVALID)
		})
	}
	_, err = e.cat.Get(ctx, "missing")
	wantCode(t, err, presession.ENOTFOUND)
}

func TestUpdate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.statementAt(t, "upr36", "HR", "inv1", presession.StatusProcessing)

	media := &presession.Media{Duration: 61.5, Master: "media/" + s.ID + "/master.m3u8"}
	u, err := e.cat.Update(ctx, s.ID, func(st *presession.Statement) error {
		st.Media = media
		st.Warnings = append(st.Warnings, "no audio track")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(u.Media, media) || !u.UpdatedAt.After(s.UpdatedAt) {
		t.Fatalf("update not applied: %+v", u)
	}
	if m := e.manifest(t, s.ID); !reflect.DeepEqual(m.Media, media) || len(m.Warnings) != 1 {
		t.Fatalf("manifest not updated: %+v", m)
	}

	// A no-op leaves UpdatedAt alone.
	same, err := e.cat.Update(ctx, s.ID, func(*presession.Statement) error { return nil })
	if err != nil || !same.UpdatedAt.Equal(u.UpdatedAt) {
		t.Fatalf("no-op update: %v, updated at %v → %v", err, u.UpdatedAt, same.UpdatedAt)
	}

	for name, fn := range map[string]func(*presession.Statement){
		"status":  func(st *presession.Statement) { st.Status = presession.StatusReady },
		"reason":  func(st *presession.Statement) { st.Reason = "x" },
		"history": func(st *presession.Statement) { st.History = st.History[:1] },
		"country": func(st *presession.Statement) { st.Country = "BG" },
		"id":      func(st *presession.Statement) { st.ID = "other" },
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.cat.Update(ctx, s.ID, func(st *presession.Statement) error {
				st.Title = "changed too"
				fn(st)
				return nil
			})
			wantCode(t, err, presession.EINVALID)
			if got, _ := e.cat.Get(ctx, s.ID); got.Title != s.Title || got.Status != presession.StatusProcessing {
				t.Fatalf("refused update was written: %+v", got)
			}
		})
	}

	boom := presession.Errorf(presession.EINVALID, "bad captions")
	if _, err := e.cat.Update(ctx, s.ID, func(*presession.Statement) error { return boom }); err != boom {
		t.Fatalf("fn error: got %v", err)
	}
	_, err = e.cat.Update(ctx, "missing", func(*presession.Statement) error { return nil })
	wantCode(t, err, presession.ENOTFOUND)

	// Updating an approved statement (captions) rebuilds the playlist; a
	// ready one does not.
	r := e.statementAt(t, "upr36", "MV", "inv2", presession.StatusReady)
	caption := func(st *presession.Statement) error {
		st.Captions = []presession.Caption{{Language: "fr", Name: "Français", Key: "c/fr.vtt"}}
		return nil
	}
	if _, err := e.cat.Update(ctx, r.ID, caption); err != nil {
		t.Fatal(err)
	}
	if n := e.hooks.count("upr36", "MV"); n != 0 {
		t.Fatalf("hook called %d times for a ready statement", n)
	}
	if _, err := e.cat.Transition(ctx, r.ID, presession.StatusApproved, "staff", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.cat.Update(ctx, r.ID, func(st *presession.Statement) error {
		st.Captions[0].Placeholder = false
		st.Captions[0].Key = "c/fr2.vtt"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n := e.hooks.count("upr36", "MV"); n != 2 {
		t.Fatalf("hook called %d times, want 2 (approve, captions)", n)
	}
}

func TestConcurrentUpdates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.statementAt(t, "upr36", "HR", "inv1", presession.StatusReady)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.cat.Update(ctx, s.ID, func(st *presession.Statement) error {
				st.Warnings = append(st.Warnings, fmt.Sprint(i))
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := e.cat.Get(ctx, s.ID)
	if len(got.Warnings) != 20 {
		t.Fatalf("%d of 20 concurrent updates kept", len(got.Warnings))
	}
	if m := e.manifest(t, s.ID); !reflect.DeepEqual(m, got) {
		t.Fatalf("manifest is not the latest record")
	}
}

func TestOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	approve := func(id string) {
		t.Helper()
		if _, err := e.cat.Transition(ctx, id, presession.StatusApproved, "staff:bob", ""); err != nil {
			t.Fatal(err)
		}
	}
	wantOrder := func(want ...string) {
		t.Helper()
		o, err := e.cat.Order(ctx, "upr36", "MH")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(o.Statements, want) && (len(want) > 0 || len(o.Statements) > 0) {
			t.Fatalf("order %v, want %v", o.Statements, want)
		}
		if f := e.orderFile(t, "upr36", "MH"); !reflect.DeepEqual(f, o) {
			t.Fatalf("order file %+v, Redis %+v", f, o)
		}
	}
	if o, err := e.cat.Order(ctx, "upr36", "MH"); err != nil || len(o.Statements) != 0 {
		t.Fatalf("empty order: %+v %v", o, err)
	}
	var st []string
	for range 4 {
		st = append(st, e.statementAt(t, "upr36", "MH", "inv1", presession.StatusReady).ID)
	}
	a, b, c, d := st[0], st[1], st[2], st[3]
	approve(a)
	approve(b)
	approve(c)
	wantOrder(a, b, c)

	if err := e.cat.SetOrder(ctx, "upr36", "mh", []string{c, a, b}, "staff:carol"); err != nil {
		t.Fatal(err)
	}
	wantOrder(c, a, b)
	if o, _ := e.cat.Order(ctx, "upr36", "MH"); o.UpdatedBy != "staff:carol" || o.UpdatedAt.IsZero() {
		t.Fatalf("order does not record who set it: %+v", o)
	}
	if n := e.hooks.count("upr36", "MH"); n != 4 {
		t.Fatalf("hook called %d times, want 4", n)
	}

	approve(d) // joins the end
	wantOrder(c, a, b, d)
	if _, err := e.cat.Transition(ctx, a, presession.StatusReady, "staff", "re-check"); err != nil {
		t.Fatal(err) // reopening leaves the order
	}
	wantOrder(c, b, d)

	other := e.statementAt(t, "upr36", "AD", "inv9", presession.StatusApproved).ID
	for name, tc := range map[string]struct {
		ids     []string
		code    string
		mention string
	}{
		"missing one":     {[]string{c, b}, presession.ECONFLICT, d},
		"not approved":    {[]string{c, b, d, a}, presession.ECONFLICT, a},
		"other country":   {[]string{c, b, d, other}, presession.EINVALID, other},
		"unknown":         {[]string{c, b, d, "ghost"}, presession.EINVALID, "ghost"},
		"listed twice":    {[]string{c, b, d, b}, presession.EINVALID, b},
		"empty":           {nil, presession.ECONFLICT, c},
		"other session":   {[]string{c, b, d}, "", ""},
		"exactly the set": {[]string{d, c, b}, "", ""},
	} {
		t.Run(name, func(t *testing.T) {
			session := "upr36"
			if name == "other session" {
				session = "upr37"
			}
			err := e.cat.SetOrder(ctx, session, "MH", tc.ids, "staff")
			if name == "other session" {
				wantCode(t, err, presession.EINVALID)
				return
			}
			wantCode(t, err, tc.code)
			if err != nil && !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("%q does not name %s", err, tc.mention)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.statementAt(t, "upr36", "AD", "inv1", presession.StatusProcessing)
	if err := e.cat.SetProgress(ctx, s.ID, 42.5); err != nil {
		t.Fatal(err)
	}
	got, _ := e.cat.Get(ctx, s.ID)
	if got.Progress != 42.5 {
		t.Fatalf("Get progress %v", got.Progress)
	}
	l, _, _ := e.cat.List(ctx, presession.Filter{InvitationID: "inv1"})
	if len(l) != 1 || l[0].Progress != 42.5 {
		t.Fatalf("List progress %+v", l)
	}
	if m := e.manifest(t, s.ID); m.Progress != 0 {
		t.Fatalf("progress written to storage: %v", m.Progress)
	}
	for _, bad := range []float64{-1, 101} {
		wantCode(t, e.cat.SetProgress(ctx, s.ID, bad), presession.EINVALID)
	}
	r, err := e.cat.Transition(ctx, s.ID, presession.StatusReady, "worker", "")
	if err != nil {
		t.Fatal(err)
	}
	// A late report from the worker does not show on a ready statement.
	_ = e.cat.SetProgress(ctx, s.ID, 99)
	if got, _ := e.cat.Get(ctx, s.ID); got.Progress != 100 || r.Progress != 100 {
		t.Fatalf("ready progress %v / %v", got.Progress, r.Progress)
	}
}

func TestListFilters(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var all []*presession.Statement
	for i := range 30 {
		cc := []string{"AD", "BG", "HR"}[i%3]
		st := presession.Statuses[i%len(presession.Statuses)]
		all = append(all, e.statementAt(t, "upr36", cc, fmt.Sprint("inv", i%4), st))
	}
	check := func(f presession.Filter, keep func(*presession.Statement) bool) {
		t.Helper()
		var want []string
		for _, s := range all {
			if keep(s) {
				want = append(want, s.ID)
			}
		}
		got, total, err := e.cat.List(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if total != len(want) {
			t.Fatalf("%+v: total %d, want %d", f, total, len(want))
		}
		lo := min(f.Offset, len(want))
		hi := len(want)
		if f.Limit > 0 {
			hi = min(lo+f.Limit, hi)
		}
		if !slices.Equal(ids(got), want[lo:hi]) && (hi > lo || len(got) > 0) {
			t.Fatalf("%+v: %v, want %v", f, ids(got), want[lo:hi])
		}
	}
	check(presession.Filter{}, func(*presession.Statement) bool { return true })
	check(presession.Filter{Offset: 5, Limit: 7}, func(*presession.Statement) bool { return true })
	check(presession.Filter{Offset: 50, Limit: 7}, func(*presession.Statement) bool { return true })
	check(presession.Filter{Session: "upr36", Country: "bg"}, func(s *presession.Statement) bool { return s.Country == "BG" })
	check(presession.Filter{Country: "HR", Status: presession.StatusReady}, func(s *presession.Statement) bool {
		return s.Country == "HR" && s.Status == presession.StatusReady
	})
	check(presession.Filter{InvitationID: "inv2", Limit: 3, Offset: 1}, func(s *presession.Statement) bool { return s.InvitationID == "inv2" })
	check(presession.Filter{InvitationID: "inv2", Status: presession.StatusUploading}, func(s *presession.Statement) bool {
		return s.InvitationID == "inv2" && s.Status == presession.StatusUploading
	})
	check(presession.Filter{Session: "nope"}, func(*presession.Statement) bool { return false })
	_, _, err := e.cat.List(ctx, presession.Filter{Status: "bogus"})
	wantCode(t, err, presession.EINVALID)

	stale, err := e.cat.Stale(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, st := range []presession.Status{presession.StatusUploaded, presession.StatusProcessing} {
		for _, s := range all {
			if s.Status == st {
				want = append(want, s.ID)
			}
		}
	}
	if !slices.Equal(ids(stale), want) {
		t.Fatalf("stale %v, want %v", ids(stale), want)
	}

	counts, err := e.cat.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != len(presession.Statuses) {
		t.Fatalf("counts %v: want every status", counts)
	}
	for _, st := range presession.Statuses {
		n := 0
		for _, s := range all {
			if s.Status == st {
				n++
			}
		}
		if counts[st] != n {
			t.Errorf("counts[%s] = %d, want %d", st, counts[st], n)
		}
	}

	byCountry, err := e.cat.CountryCounts(ctx, "upr36", []string{"ad", "BG", "HR", "FR"})
	if err != nil {
		t.Fatal(err)
	}
	wantCC := map[string]map[presession.Status]int{}
	for _, s := range all {
		if wantCC[s.Country] == nil {
			wantCC[s.Country] = map[presession.Status]int{}
		}
		wantCC[s.Country][s.Status]++
	}
	if fmt.Sprint(byCountry) != fmt.Sprint(wantCC) {
		t.Errorf("country counts %v, wantCC %v", byCountry, wantCC)
	}
}

// TestInMemoryDouble: the other packages' in-memory catalog agrees with
// this one on a run of moves: the same refusals, statements and playlist
// order.
func TestInMemoryDouble(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fake := fakes.NewCatalog()
	var ids []string
	for range 3 {
		s := e.statementAt(t, "upr36", "AD", "inv1", presession.StatusReady)
		fake.Put(s)
		ids = append(ids, s.ID)
	}
	// strip drops the times, which come from different clocks.
	strip := func(s *presession.Statement) *presession.Statement {
		if s == nil {
			return nil
		}
		s.UpdatedAt = time.Time{}
		for i := range s.History {
			s.History[i].At = time.Time{}
		}
		return s
	}
	for i, step := range []struct {
		n             int
		to            presession.Status
		actor, reason string
	}{
		{0, presession.StatusApproved, "staff", ""},
		{1, presession.StatusApproved, "staff", ""},
		{2, presession.StatusRejected, "staff", "off topic"},
		{2, presession.StatusApproved, "staff", ""}, // refused
		{0, presession.StatusReady, "staff", "second look"},
		{2, presession.StatusReady, "staff", ""},
		{2, presession.StatusApproved, "staff", ""},
		{0, presession.StatusApproved, "staff", ""},
		{1, presession.StatusRejected, "staff", ""}, // refused
		{1, presession.StatusProcessing, "worker", ""},
		{1, presession.StatusFailed, "worker", "the file is damaged"},
	} {
		got, err := e.cat.Transition(ctx, ids[step.n], step.to, step.actor, step.reason)
		fgot, ferr := fake.Transition(ctx, ids[step.n], step.to, step.actor, step.reason)
		if presession.ErrorCode(err) != presession.ErrorCode(ferr) || presession.ErrorMessage(err) != presession.ErrorMessage(ferr) {
			t.Fatalf("step %d: catalog says %v, the double %v", i, err, ferr)
		}
		if !reflect.DeepEqual(strip(got), strip(fgot)) {
			t.Fatalf("step %d: catalog returns\n%+v\nthe double\n%+v", i, got, fgot)
		}
		approved, err := e.cat.ApprovedInOrder(ctx, "upr36", "AD")
		if err != nil {
			t.Fatal(err)
		}
		fapproved, _ := fake.ApprovedInOrder(ctx, "upr36", "AD")
		for j := range approved {
			strip(approved[j])
		}
		for j := range fapproved {
			strip(fapproved[j])
		}
		if !reflect.DeepEqual(approved, fapproved) {
			t.Fatalf("step %d: catalog's playlist\n%+v\nthe double's\n%+v", i, approved, fapproved)
		}
	}
	_, err := e.cat.Get(ctx, "nope")
	_, ferr := fake.Get(ctx, "nope")
	if presession.ErrorMessage(err) != presession.ErrorMessage(ferr) {
		t.Fatalf("missing: catalog says %v, the double %v", err, ferr)
	}
}

// TestLockCaption: a caption track's lock is one writer's at a time; the
// next waits for its release, or gives up when its context ends.
func TestLockCaption(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	release, err := e.cat.LockCaption(ctx, "st1", "fr")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := e.cat.LockCaption(short, "st1", "fr"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock while held: %v", err)
	}
	other, err := e.cat.LockCaption(ctx, "st1", "en") // another track: not held
	if err != nil {
		t.Fatal(err)
	}
	other()
	got := make(chan error, 1)
	go func() {
		r, err := e.cat.LockCaption(ctx, "st1", "fr")
		if err == nil {
			r()
		}
		got <- err
	}()
	release()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting writer never got the lock")
	}
}
