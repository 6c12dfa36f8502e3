package desk_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/desk"
	"github.com/uprinfo/presession/internal/testenv"
)

// TestClaims: a claim is one reviewer's until it lapses or is let go; a
// reviewer holds one at most; only the holder lets go; skips are per
// reviewer.
func TestClaims(t *testing.T) {
	ctx := context.Background()
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	c := desk.NewClaims(rdb, "c:", 300*time.Millisecond)
	ana, ben := presession.Actor("staff:ana"), presession.Actor("staff:ben")

	claim := func(id string, a presession.Actor, wantOK bool, wantHolder presession.Actor) {
		t.Helper()
		holder, ok, err := c.Claim(ctx, id, a)
		if err != nil {
			t.Fatal(err)
		}
		if ok != wantOK || holder != wantHolder {
			t.Fatalf("%s claims %s: holder %q ok %v, want %q %v", a, id, holder, ok, wantHolder, wantOK)
		}
	}
	holders := func(want map[string]presession.Actor) {
		t.Helper()
		got, err := c.Holders(ctx, []string{"s1", "s2", "s3"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("holders %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("holders %v, want %v", got, want)
			}
		}
	}
	claim("s1", ana, true, ana)
	claim("s1", ben, false, ana)
	claim("s1", ana, true, ana) // renewed
	claim("s2", ben, true, ben)
	holders(map[string]presession.Actor{"s1": ana, "s2": ben})

	claim("s3", ana, true, ana) // taking the next lets go of the last
	holders(map[string]presession.Actor{"s3": ana, "s2": ben})
	if held, _ := c.Held(ctx, ana); held != "s3" {
		t.Fatalf("ana holds %q", held)
	}

	if err := c.Release(ctx, "s3", ben); err != nil { // not ben's: nothing happens
		t.Fatal(err)
	}
	holders(map[string]presession.Actor{"s3": ana, "s2": ben})
	if err := c.Release(ctx, "s3", ana); err != nil {
		t.Fatal(err)
	}
	holders(map[string]presession.Actor{"s2": ben})
	if held, _ := c.Held(ctx, ana); held != "" {
		t.Fatalf("ana still holds %q", held)
	}

	time.Sleep(400 * time.Millisecond) // past the claims' life
	holders(map[string]presession.Actor{})
	claim("s2", ana, true, ana)

	if err := c.Skip(ctx, "s2", ana); err != nil {
		t.Fatal(err)
	}
	holders(map[string]presession.Actor{})
	if sk, _ := c.Skipped(ctx, ana); !sk["s2"] || len(sk) != 1 {
		t.Fatalf("ana skipped %v", sk)
	}
	if sk, _ := c.Skipped(ctx, ben); len(sk) != 0 {
		t.Fatalf("ben skipped %v", sk)
	}
	if ttl := rdb.TTL(ctx, "c:desk:skip:staff:ana").Val(); ttl <= 0 || ttl > desk.SkipTTL {
		t.Fatalf("skips last %v", ttl)
	}
}

// TestSort: countries by programme slot first, then those without; the
// longest waiting first within each.
func TestSort(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	st := func(id, cc string, hours int) *presession.Statement {
		return &presession.Statement{ID: id, Session: "upr36", Country: cc, UploadedAt: t0.Add(time.Duration(hours) * time.Hour)}
	}
	for _, tc := range []struct {
		name   string
		list   []*presession.Statement
		starts map[string]time.Time
		want   []string
	}{
		{"oldest first without a programme", []*presession.Statement{st("a", "AD", 3), st("b", "BG", 1), st("c", "AD", 2)}, nil, []string{"b", "c", "a"}},
		{"slot first, then oldest", []*presession.Statement{st("a", "AD", 1), st("b", "BG", 5), st("c", "HR", 3), st("d", "BG", 4)},
			map[string]time.Time{"upr36/HR": t0.Add(48 * time.Hour), "upr36/BG": t0.Add(24 * time.Hour)}, []string{"d", "b", "c", "a"}},
		{"creation time when never uploaded", []*presession.Statement{{ID: "x", Session: "upr36", Country: "AD", CreatedAt: t0.Add(time.Hour)}, st("y", "AD", 2)},
			nil, []string{"x", "y"}},
		{"ties by id", []*presession.Statement{st("z", "AD", 1), st("m", "AD", 1)}, nil, []string{"m", "z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			desk.Sort(tc.list, tc.starts)
			var got []string
			for _, s := range tc.list {
				got = append(got, s.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("order %v, want %v", got, tc.want)
			}
		})
	}
}

// TestNext: two reviewers are never given the same statement; a reload
// keeps one's statement; a skipped statement comes after the rest and
// round again; a decided one leaves the queue.
func TestNext(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	t0 := time.Now().UTC().Add(-10 * time.Hour).Truncate(time.Second)
	s1 := e.ready("AD", "One", t0, 20, nil)
	s2 := e.ready("BG", "Two", t0.Add(time.Hour), 20, nil)
	s3 := e.ready("AD", "Three", t0.Add(2*time.Hour), 20, nil)
	s4 := e.ready("HR", "Four", t0.Add(3*time.Hour), 20, nil)
	e.slots.starts["upr36/HR"] = time.Now().Add(24 * time.Hour) // Croatia's slot comes first
	ana, ben := presession.Actor("staff:ana"), presession.Actor("staff:ben")
	next := func(a presession.Actor, sc desk.Scope, want *presession.Statement) {
		t.Helper()
		got, _, err := e.queue.Next(ctx, sc, a)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case want == nil && got != nil:
			t.Fatalf("%s got %s (%s), want none", a, got.ID, got.Title)
		case want != nil && (got == nil || got.ID != want.ID):
			t.Fatalf("%s got %v, want %s (%s)", a, got, want.ID, want.Title)
		}
	}
	all := desk.Scope{}
	next(ana, all, s4) // the slot first
	next(ben, all, s1) // then the longest waiting
	next(ana, all, s4) // a reload keeps it
	next(ben, desk.Scope{Session: "upr36", Country: "AD"}, s1)

	if err := e.queue.Claims().Skip(ctx, s4.ID, ana); err != nil {
		t.Fatal(err)
	}
	next(ana, all, s2) // s1 is ben's
	if _, err := e.cat.Transition(ctx, s2.ID, presession.StatusApproved, string(ana), ""); err != nil {
		t.Fatal(err)
	}
	next(ana, all, s3)
	if _, err := e.cat.Transition(ctx, s3.ID, presession.StatusRejected, string(ana), "off topic"); err != nil {
		t.Fatal(err)
	}
	next(ana, all, s4) // only the skipped one is left: round again
	next(ben, all, s1)
	if _, err := e.cat.Transition(ctx, s1.ID, presession.StatusApproved, string(ben), ""); err != nil {
		t.Fatal(err)
	}
	next(ben, all, nil) // s4 is ana's
	if held, _ := e.queue.Claims().Held(ctx, ben); held != "" {
		t.Fatalf("ben still holds %s", held)
	}
	counts, err := e.queue.Counts(ctx, desk.Scope{Session: "upr36"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]desk.Counts{}
	for _, c := range counts {
		got[c.Country] = c
	}
	if len(counts) < 14 || got["AD"].Approved != 1 || got["AD"].Awaiting != 0 || got["BG"].Approved != 1 || got["HR"].Awaiting != 1 {
		t.Fatalf("counts %+v", got)
	}
}

// TestReviewPage: the page shows a reviewer their statement with its
// findings, captions, decisions and keys, and another reviewer another
// statement; an observer may not take statements off the queue; a bad
// scope is said in the page's language; the API answers alike.
func TestReviewPage(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	t0 := time.Now().UTC().Add(-time.Hour)
	s1 := e.ready("AD", "Water rights", t0, 42, []presession.Finding{{Kind: "black", Start: 3, End: 6, Text: "The picture is black", Key: "quality.black", Args: []string{"3"}}})
	s2 := e.ready("BG", "Prisons", t0.Add(time.Minute), 30, nil)
	for _, m := range []struct {
		email, name string
		role        presession.Role
	}{
		{"ana@example.org", "Ana", presession.RoleReviewer}, {"ben@example.org", "Ben", presession.RoleReviewer}, {"olga@example.org", "Olga", presession.RoleObserver},
	} {
		e.member(m.email, m.name, m.role, "seven quiet harbours at dawn")
	}
	tokens := map[string]string{}
	for _, who := range []string{"Ana", "Ben", "Olga"} {
		role := presession.RoleReviewer
		if who == "Olga" {
			role = presession.RoleObserver
		}
		_, secret, err := e.dir.CreateToken(ctx, who, role, presession.ActorService)
		if err != nil {
			t.Fatal(err)
		}
		tokens[who] = secret
	}
	call := func(who, method, path string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, e.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tokens[who])
		req.Header.Set("Accept-Language", "fr")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	get := func(who, path string) (int, string) { t.Helper(); return call(who, "GET", path) }
	post := func(who, path string) (int, string) { t.Helper(); return call(who, "POST", path) }
	code, page := get("Ana", "/staff/review?lang=en")
	if code != 200 || !strings.Contains(page, `data-id="`+s1.ID+`"`) || !strings.Contains(page, "Keyboard shortcuts") ||
		!strings.Contains(page, `data-start="3"`) || !strings.Contains(page, "Save captions") || !strings.Contains(page, "Statements per country") {
		t.Fatalf("Ana's page %d:\n%s", code, page)
	}
	code, page = get("Ben", "/staff/review?lang=fr")
	if code != 200 || !strings.Contains(page, `data-id="`+s2.ID+`"`) || !strings.Contains(page, "Raccourcis clavier") {
		t.Fatalf("Ben's page %d:\n%s", code, page)
	}
	if code, _ := get("Olga", "/staff/review"); code != http.StatusForbidden {
		t.Fatalf("an observer gets %d", code)
	}
	code, page = get("Ana", "/staff/review?lang=es&session=upr36&country=ZZ")
	if code != 200 || !strings.Contains(page, "ZZ no es uno de los países") {
		t.Fatalf("a bad scope: %d\n%s", code, page)
	}

	code, body := get("Ben", "/api/v1/review/next")
	var nx desk.NextJSON
	if err := json.Unmarshal([]byte(body), &nx); code != 200 || err != nil || nx.Statement.ID != s2.ID {
		t.Fatalf("next for Ben: %d %s", code, body)
	}
	if code, body := post("Ana", "/api/v1/review/"+s2.ID+"/claim"); code != http.StatusConflict || !strings.Contains(body, "Ben examine cette déclaration") {
		t.Fatalf("Ana claims Ben's: %d %s", code, body)
	}
	if code, _ := post("Ben", "/api/v1/review/"+s2.ID+"/release"); code != http.StatusNoContent {
		t.Fatalf("release: %d", code)
	}
	if code, body := post("Ana", "/api/v1/review/"+s2.ID+"/claim"); code != 200 {
		t.Fatalf("Ana claims the released one: %d %s", code, body)
	}
	if code, _ := post("Ana", "/api/v1/review/"+s2.ID+"/skip"); code != http.StatusNoContent {
		t.Fatalf("skip: %d", code)
	}
	if code, _ := get("Ana", "/api/v1/review/next"); code != 200 {
		t.Fatalf("next after skip: %d", code)
	}
}
