package staff_test

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/staff"
	"github.com/uprinfo/presession/storage"
)

const staffToken = "staff-token-for-tests-0123456789"

// clock is a settable clock for the directories of a test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a Redis database and a storage directory, on which a test opens
// directories: several over the same ones are several nodes.
type env struct {
	t     *testing.T
	rdb   *redis.Client
	store *storage.Dir
	clock *clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	store, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, rdb: rdb, store: store, clock: &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
}

// node is a directory on e, for the staff token tok ("" for staffToken).
func (e *env) node(tok ...string) *staff.Directory {
	cfg := staff.Config{Prefix: "t:", PublicURL: "https://presession.example.org", StaffToken: staffToken, Now: e.clock.Now}
	if len(tok) > 0 {
		cfg.StaffToken = tok[0]
	}
	return staff.New(e.rdb, staff.StorageBlobs(e.store), cfg)
}

var ctx = context.Background()

// linkToken returns the t parameter of a set-password link.
func linkToken(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Path != staff.SetPasswordPath || !strings.HasPrefix(link, "https://presession.example.org/staff/password?t=") {
		t.Fatalf("set-password link %q", link)
	}
	return u.Query().Get("t")
}

func code(err error) string { return presession.ErrorCode(err) }

// add creates a member with a password and returns it.
func add(t *testing.T, d *staff.Directory, email, name string, role presession.Role, password string) *presession.Member {
	t.Helper()
	m, link, err := d.Add(ctx, email, name, role, presession.ActorService)
	if err != nil {
		t.Fatal(err)
	}
	if password != "" {
		if m, err = d.SetPassword(ctx, linkToken(t, link), password); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

const goodPassword = "correct horse battery staple"

func TestPasswordHash(t *testing.T) {
	h1, err := staff.HashPassword(goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := staff.HashPassword(goodPassword)
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(h1) || h1 == h2 {
		t.Fatalf("hashes %q, %q: want PHC argon2id with the stated parameters, salted", h1, h2)
	}
	for _, tc := range []struct {
		hash, pw string
		want     bool
	}{
		{h1, goodPassword, true},
		{h2, goodPassword, true},
		{h1, goodPassword + " ", false},
		{h1, "", false},
		{strings.Replace(h1, "t=2", "t=3", 1), goodPassword, false}, // the parameters are part of the hash
		{"$argon2i$v=19$m=19456,t=2,p=1$AAAA$AAAA", goodPassword, false},
		{"", goodPassword, false},
		{"garbage", "garbage", false},
	} {
		if got := staff.VerifyPassword(tc.hash, tc.pw); got != tc.want {
			t.Errorf("VerifyPassword(%q, %q) = %v, want %v", tc.hash, tc.pw, got, tc.want)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		pw, want string // want: "" ok, else a word the English message has
	}{
		{goodPassword, ""},
		{"Tr0ub4dor&3-horse", ""},
		{"éàüöçñßøåœæ€", ""}, // 12 characters, more bytes
		{"short-pw", "at least 12"},
		{"éàüöçñßøåœæ", "has 11 characters"},
		{"password1234", "most common"},     // a common one with digits added
		{"PASSWORD!2024", "most common"},    // in another case, with symbols
		{"1qaz2wsx3edc4rfv", "most common"}, // on the list as it is
		{"iloveyouiloveyou", "most common"}, // repeated
		{strings.Repeat("x", 1025), "longer than 1024"},
	} {
		err := staff.CheckPassword(tc.pw)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q refused: %v", tc.pw, err)
		case tc.want != "" && (code(err) != presession.EINVALID || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: %v, want EINVALID saying %q", tc.pw, err, tc.want)
		}
	}
}

func TestAccounts(t *testing.T) {
	e := newEnv(t)
	d := e.node()
	m, link, err := d.Add(ctx, "  Ana.Lopez@Example.ORG ", " Ana López ", presession.RoleReviewer, presession.ActorService)
	if err != nil {
		t.Fatal(err)
	}
	if m.Email != "ana.lopez@example.org" || m.Name != "Ana López" || m.Role != presession.RoleReviewer || m.PasswordHash != "" ||
		m.CreatedBy != presession.ActorService || m.Generation == 0 || len(m.ID) != 16 {
		t.Fatalf("added %+v", m)
	}
	linkToken(t, link)
	for _, tc := range []struct {
		email, name string
		role        presession.Role
		want        string
	}{
		{"ANA.LOPEZ@example.org", "Other", presession.RoleObserver, presession.ECONFLICT},
		{"not an address", "X", presession.RoleObserver, presession.EINVALID},
		{"Name <x@example.org>", "X", presession.RoleObserver, presession.EINVALID},
		{"x@example.org", "  ", presession.RoleObserver, presession.EINVALID},
		{"x@example.org", strings.Repeat("n", 201), presession.RoleObserver, presession.EINVALID},
		{"x@example.org", "X", "owner", presession.EINVALID},
		{"b@example.org", "Bea", presession.RoleAdmin, ""},
		{"c@example.org", "carl", presession.RoleObserver, ""},
	} {
		_, _, err := d.Add(ctx, tc.email, tc.name, tc.role, presession.ActorService)
		if code(err) != tc.want {
			t.Errorf("Add(%q, %q, %q): %v, want %q", tc.email, tc.name, tc.role, err, tc.want)
		}
	}
	got, err := d.MemberByEmail(ctx, "Ana.Lopez@example.org")
	if err != nil || got.ID != m.ID {
		t.Fatalf("MemberByEmail: %+v %v", got, err)
	}
	if _, err := d.MemberByEmail(ctx, "nobody@example.org"); code(err) != presession.ENOTFOUND {
		t.Errorf("MemberByEmail of nobody: %v", err)
	}
	if _, err := d.Member(ctx, "0000000000000000"); code(err) != presession.ENOTFOUND {
		t.Errorf("Member of nobody: %v", err)
	}
	all, err := d.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range all {
		names = append(names, m.Name)
	}
	if strings.Join(names, ",") != "Ana López,Bea,carl" {
		t.Errorf("Members by name: %v", names)
	}

	// UpdateMember is atomic: concurrent changes on two nodes all land.
	other := e.node()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			n := []*staff.Directory{d, other}[i%2]
			if _, err := n.UpdateMember(ctx, m.ID, func(m *presession.Member) error {
				m.Name += "+"
				m.Email = "changed@example.org" // ignored: the address is the account's key
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, _ = d.Member(ctx, m.ID)
	if got.Name != "Ana López++++++++" || got.Email != m.Email || got.Generation != m.Generation {
		t.Errorf("after 8 concurrent updates: %+v", got)
	}
	if _, err := d.UpdateMember(ctx, m.ID, func(m *presession.Member) error {
		m.Name = "nope"
		return presession.Errorf(presession.EINVALID, "refused")
	}); code(err) != presession.EINVALID {
		t.Errorf("a refused update: %v", err)
	}
	// Durable: the record in storage is the latest.
	raw, err := staff.StorageBlobs(e.store).ReadObject(ctx, "staff/members/"+m.ID+".json")
	if err != nil {
		t.Fatal(err)
	}
	var stored presession.Member
	if err := json.Unmarshal(raw, &stored); err != nil || stored.Name != got.Name {
		t.Errorf("stored %+v %v, want name %q", stored, err, got.Name)
	}
	// In this order, so that each one changes the account: disabling,
	// enabling again and a new role each move the generation.
	for _, tc := range []struct {
		name string
		fn   func() (*presession.Member, error)
		bump int
	}{
		{"disable", func() (*presession.Member, error) { return d.Disable(ctx, m.ID, presession.ActorService) }, 1},
		{"enable", func() (*presession.Member, error) { return d.Enable(ctx, m.ID, presession.ActorService) }, 1},
		{"role", func() (*presession.Member, error) {
			return d.SetRole(ctx, m.ID, presession.RoleAdmin, presession.ActorService)
		}, 1},
	} {
		before, _ := d.Member(ctx, m.ID)
		after, err := tc.fn()
		if err != nil || after.Generation != before.Generation+tc.bump {
			t.Errorf("%s: %+v %v, want the generation %d from %d", tc.name, after, err, before.Generation+tc.bump, before.Generation)
		}
	}
	if _, err := d.SetRole(ctx, m.ID, "boss", presession.ActorService); code(err) != presession.EINVALID {
		t.Errorf("SetRole boss: %v", err)
	}
}

func TestLinks(t *testing.T) {
	e := newEnv(t)
	d := e.node()
	m, link, err := d.Add(ctx, "r@example.org", "Rita", presession.RoleReviewer, presession.ActorService)
	if err != nil {
		t.Fatal(err)
	}
	tok := linkToken(t, link)
	if got, err := d.SetLinkMember(ctx, tok); err != nil || got.ID != m.ID {
		t.Fatalf("SetLinkMember: %+v %v", got, err)
	}
	for _, tc := range []struct {
		tok, pw, want, says string
	}{
		{tok, "too-short", presession.EINVALID, "at least 12"},
		{tok, "password123456", presession.EINVALID, "most common"},
		{"garbage", goodPassword, presession.EUNAUTHORIZED, "not a link"},
		{strings.Repeat("A", 43), goodPassword, presession.EUNAUTHORIZED, "not a link"},
		{tok, goodPassword, "", ""},                                        // a refused password left the link usable
		{tok, goodPassword + "!", presession.EGONE, "already used"},        // once
		{tok, "another good passphrase", presession.EGONE, "already used"}, // and still
	} {
		_, err := d.SetPassword(ctx, tc.tok, tc.pw)
		if code(err) != tc.want || !strings.Contains(presession.ErrorMessage(err), tc.says) {
			t.Errorf("SetPassword(%.8s…, %q): %v, want %q saying %q", tc.tok, tc.pw, err, tc.want, tc.says)
		}
	}
	if _, err := d.SetLinkMember(ctx, tok); code(err) != presession.EGONE {
		t.Errorf("a used link: %v", err)
	}
	if got, err := d.Authenticate(ctx, "R@example.org", goodPassword); err != nil || got.ID != m.ID {
		t.Fatalf("Authenticate after setting the password: %+v %v", got, err)
	}

	// Reset: the password goes, older links are void, the new one works.
	_, first, _ := d.Reset(ctx, m.ID, presession.ActorService)
	_, second, err := d.Reset(ctx, m.ID, presession.ActorService)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Authenticate(ctx, "r@example.org", goodPassword); code(err) != presession.EUNAUTHORIZED {
		t.Errorf("Authenticate after a reset: %v", err)
	}
	if _, err := d.SetPassword(ctx, linkToken(t, first), goodPassword); code(err) != presession.EGONE {
		t.Errorf("a replaced link: %v", err)
	}
	if _, err := d.SetPassword(ctx, linkToken(t, second), "a brand new passphrase"); err != nil {
		t.Errorf("the newest link: %v", err)
	}

	// Expiry: 72 hours.
	_, link, _ = d.Add(ctx, "late@example.org", "Late", presession.RoleObserver, presession.ActorService)
	e.clock.Add(72*time.Hour - time.Second)
	if _, err := d.SetLinkMember(ctx, linkToken(t, link)); err != nil {
		t.Errorf("a link just before its expiry: %v", err)
	}
	e.clock.Add(time.Second)
	if _, err := d.SetPassword(ctx, linkToken(t, link), goodPassword); code(err) != presession.EGONE {
		t.Errorf("an expired link: %v", err)
	}
}

func TestAuthenticate(t *testing.T) {
	e := newEnv(t)
	d := e.node()
	add(t, d, "ok@example.org", "Ok", presession.RoleObserver, goodPassword)
	off := add(t, d, "off@example.org", "Off", presession.RoleObserver, goodPassword)
	if _, err := d.Disable(ctx, off.ID, presession.ActorService); err != nil {
		t.Fatal(err)
	}
	add(t, d, "new@example.org", "New", presession.RoleObserver, "")
	want := presession.ErrorMessage(staff.BadPassword())
	for _, tc := range []struct{ email, pw string }{
		{"nobody@example.org", goodPassword},
		{"off@example.org", goodPassword},
		{"new@example.org", ""},
		{"new@example.org", goodPassword},
		{"ok@example.org", "wrong password here"},
		{"ok@example.org", strings.Repeat("x", 5000)},
	} {
		m, err := d.Authenticate(ctx, tc.email, tc.pw)
		if m != nil || code(err) != presession.EUNAUTHORIZED || presession.ErrorMessage(err) != want {
			t.Errorf("Authenticate(%q, %.20q): %v %v, want the one refusal", tc.email, tc.pw, m, err)
		}
	}
	if m, err := d.Authenticate(ctx, "OK@example.org", goodPassword); err != nil || m.Email != "ok@example.org" {
		t.Errorf("Authenticate: %v %v", m, err)
	}
}

func TestSessions(t *testing.T) {
	e := newEnv(t)
	a, b := e.node(), e.node() // two nodes sharing Redis and storage
	m := add(t, a, "s@example.org", "Sam", presession.RoleReviewer, goodPassword)

	start := func(t *testing.T) string {
		t.Helper()
		sid, err := a.StartSession(ctx, m.Identity(), "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if id, err := b.SessionIdentity(ctx, sid); err != nil || id.Kind != presession.IdentityMember || id.ID != m.ID || id.Name != "Sam" {
			t.Fatalf("the other node reads %+v %v", id, err)
		}
		return sid
	}
	check := func(t *testing.T, sid, want string) {
		t.Helper()
		for i, n := range []*staff.Directory{b, a} {
			if _, err := n.SessionIdentity(ctx, sid); code(err) != want {
				t.Errorf("node %d: %v, want %q", i, err, want)
			}
		}
	}
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, sid string)
	}{
		{"sign-out", func(t *testing.T, sid string) { must(t, a.EndSession(ctx, sid)) }},
		{"disable", func(t *testing.T, _ string) { _, err := a.Disable(ctx, m.ID, presession.ActorService); must(t, err) }},
		{"reset", func(t *testing.T, _ string) { _, _, err := a.Reset(ctx, m.ID, presession.ActorService); must(t, err) }},
		{"role change", func(t *testing.T, _ string) {
			_, err := a.SetRole(ctx, m.ID, presession.RoleObserver, presession.ActorService)
			must(t, err)
		}},
		{"password set", func(t *testing.T, _ string) {
			_, link, err := a.Reset(ctx, m.ID, presession.ActorService)
			must(t, err)
			_, err = a.SetPassword(ctx, linkToken(t, link), goodPassword)
			must(t, err)
		}},
		{"idle", func(t *testing.T, _ string) { e.clock.Add(2 * time.Hour) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := a.Enable(ctx, m.ID, presession.ActorService); err != nil {
				t.Fatal(err)
			}
			sid := start(t)
			tc.end(t, sid)
			check(t, sid, presession.ENOTFOUND)
		})
	}

	// In use, a session lives past its idle time, up to its lifetime.
	sid := start(t)
	for range 23 { // 23 × 30 min = 11.5 h
		e.clock.Add(30 * time.Minute)
		check(t, sid, "")
	}
	e.clock.Add(30 * time.Minute)
	check(t, sid, presession.ENOTFOUND)

	// The service: its sessions end when the staff token changes.
	svc, err := a.StartSession(ctx, presession.ServiceIdentity(), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if id, err := b.SessionIdentity(ctx, svc); err != nil || id.Actor() != presession.ActorService || id.Role != presession.RoleAdmin {
		t.Errorf("service session: %+v %v", id, err)
	}
	if _, err := e.node("another-staff-token-0123456789").SessionIdentity(ctx, svc); code(err) != presession.ENOTFOUND {
		t.Errorf("service session under a new staff token: %v", err)
	}
	if _, err := a.StartSession(ctx, presession.Identity{Kind: presession.IdentityToken, ID: "x"}, ""); err == nil {
		t.Error("an API token got a session")
	}
	for _, bad := range []string{"", "garbage", strings.Repeat("A", 43)} {
		if _, err := a.SessionIdentity(ctx, bad); code(err) != presession.ENOTFOUND {
			t.Errorf("SessionIdentity(%q): %v", bad, err)
		}
	}
	// Nothing secret in Redis or storage: no session id in clear.
	keys, _ := e.rdb.Keys(ctx, "*").Result()
	files, _ := staff.StorageBlobs(e.store).ListKeys(ctx, "staff/")
	for _, k := range append(keys, files...) {
		if strings.Contains(k, svc) {
			t.Errorf("%s holds the session id", k)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	a, b := e.node(), e.node()
	rec, tok, err := a.CreateToken(ctx, "CI pipeline", presession.RoleReviewer, presession.ActorMember("abc"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^pst_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$`).MatchString(tok) || !strings.HasPrefix(tok, "pst_"+rec.ID+"_") {
		t.Fatalf("token %q for %+v", tok, rec)
	}
	secret := strings.TrimPrefix(tok, "pst_"+rec.ID+"_")
	list, err := b.Tokens(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("Tokens: %v %v", list, err)
	}
	raw, _ := json.Marshal(list)
	stored, _ := staff.StorageBlobs(e.store).ReadObject(ctx, "staff/tokens/"+rec.ID+".json")
	if strings.Contains(string(raw), secret) || strings.Contains(string(stored), secret) || len(stored) == 0 {
		t.Errorf("the secret is kept: %s / %s", raw, stored)
	}
	altered := tok[:len(tok)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(tok, "A")]
	for _, tc := range []struct {
		tok     string
		isToken bool
		want    string
	}{
		{tok, true, ""},
		{altered, true, presession.EUNAUTHORIZED},
		{"pst_" + rec.ID, true, presession.EUNAUTHORIZED},
		{"pst_0000000000000000_" + secret, true, presession.EUNAUTHORIZED},
		{"eyJhbGciOi.not-an-api-token", false, ""},
		{staffToken, false, ""},
	} {
		id, isToken, err := b.TokenIdentity(ctx, tc.tok)
		if isToken != tc.isToken || code(err) != tc.want {
			t.Errorf("TokenIdentity(%.24q): %v %v, want %v %q", tc.tok, isToken, err, tc.isToken, tc.want)
		}
		if tc.tok == tok && (id.Kind != presession.IdentityToken || id.ID != rec.ID || id.Name != "CI pipeline" || id.Role != presession.RoleReviewer) {
			t.Errorf("identity %+v", id)
		}
	}
	if _, _, err := a.CreateToken(ctx, "", presession.RoleAdmin, presession.ActorService); code(err) != presession.EINVALID {
		t.Errorf("a token without a name: %v", err)
	}
	if _, _, err := a.CreateToken(ctx, "x", "root", presession.ActorService); code(err) != presession.EINVALID {
		t.Errorf("a token with no role: %v", err)
	}
	revoked, err := a.RevokeToken(ctx, rec.ID, presession.ActorService)
	if err != nil || revoked.RevokedAt == nil || revoked.RevokedBy != presession.ActorService {
		t.Fatalf("RevokeToken: %+v %v", revoked, err)
	}
	if _, isToken, err := b.TokenIdentity(ctx, tok); !isToken || code(err) != presession.EUNAUTHORIZED {
		t.Errorf("a revoked token on the other node: %v %v", isToken, err)
	}
	if _, err := a.RevokeToken(ctx, "0000000000000000", presession.ActorService); code(err) != presession.ENOTFOUND {
		t.Errorf("revoking no token: %v", err)
	}

	names, err := a.Names(ctx, []presession.Actor{presession.ActorToken(rec.ID), presession.ActorService, presession.ActorMember("nobody"), "worker"})
	if err != nil || len(names) != 2 || names[presession.ActorToken(rec.ID)] != "CI pipeline" || names[presession.ActorService] != "service" {
		t.Errorf("Names: %v %v", names, err)
	}
}

// TestReindex: with Redis emptied, Reindex brings every account, token,
// live session and unused link back from storage, and nothing that ended.
func TestReindex(t *testing.T) {
	e := newEnv(t)
	d := e.node()
	m := add(t, d, "m@example.org", "Mia", presession.RoleAdmin, goodPassword)
	gone := add(t, d, "g@example.org", "Gus", presession.RoleObserver, goodPassword)
	_, link, err := d.Add(ctx, "p@example.org", "Pending", presession.RoleObserver, presession.ActorService)
	must(t, err)
	_, oldLink, err := d.Add(ctx, "q@example.org", "Quinn", presession.RoleObserver, presession.ActorService)
	must(t, err)
	q, _ := d.MemberByEmail(ctx, "q@example.org")
	_, newLink, err := d.Reset(ctx, q.ID, presession.ActorService)
	must(t, err)
	live, err := d.StartSession(ctx, m.Identity(), "192.0.2.1")
	must(t, err)
	svc, err := d.StartSession(ctx, presession.ServiceIdentity(), "192.0.2.1")
	must(t, err)
	ended, err := d.StartSession(ctx, gone.Identity(), "192.0.2.1")
	must(t, err)
	_, err = d.Disable(ctx, gone.ID, presession.ActorService)
	must(t, err)
	signedOut, err := d.StartSession(ctx, m.Identity(), "192.0.2.1")
	must(t, err)
	must(t, d.EndSession(ctx, signedOut))
	_, tok, err := d.CreateToken(ctx, "deploy", presession.RoleObserver, presession.ActorService)
	must(t, err)
	e.clock.Add(time.Minute)

	if err := e.rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	fresh := e.node()
	n, restored, err := fresh.Restore(ctx)
	if err != nil || !restored || n != 4+1+2+2 { // accounts, token, sessions, links
		t.Fatalf("Restore: %d %v %v", n, restored, err)
	}
	if _, again, _ := fresh.Restore(ctx); again {
		t.Error("Restore rebuilt a directory Redis holds")
	}
	if got, err := fresh.Authenticate(ctx, "m@example.org", goodPassword); err != nil || got.ID != m.ID {
		t.Errorf("account: %v %v", got, err)
	}
	if id, err := fresh.SessionIdentity(ctx, live); err != nil || id.ID != m.ID {
		t.Errorf("live session: %+v %v", id, err)
	}
	if id, err := fresh.SessionIdentity(ctx, svc); err != nil || id.Kind != presession.IdentityService {
		t.Errorf("service session: %+v %v", id, err)
	}
	for name, sid := range map[string]string{"disabled": ended, "signed out": signedOut} {
		if _, err := fresh.SessionIdentity(ctx, sid); code(err) != presession.ENOTFOUND {
			t.Errorf("%s session came back: %v", name, err)
		}
	}
	if id, _, err := fresh.TokenIdentity(ctx, tok); err != nil || id.Name != "deploy" {
		t.Errorf("token: %+v %v", id, err)
	}
	if _, err := fresh.SetLinkMember(ctx, linkToken(t, link)); err != nil {
		t.Errorf("unused link: %v", err)
	}
	if _, err := fresh.SetLinkMember(ctx, linkToken(t, newLink)); err != nil {
		t.Errorf("the newest link: %v", err)
	}
	if _, err := fresh.SetLinkMember(ctx, linkToken(t, oldLink)); code(err) == "" {
		t.Error("a replaced link came back")
	}
	// What ended is gone from storage too.
	files, _ := staff.StorageBlobs(e.store).ListKeys(ctx, "staff/sessions/")
	links, _ := staff.StorageBlobs(e.store).ListKeys(ctx, "staff/links/")
	if len(files) != 2 || len(links) != 2 {
		t.Errorf("stored sessions %v, links %v: want 2 and 2", files, links)
	}
	// The durable copy of a session in use is refreshed, at most every
	// SessionDurableWindow: restored, it ends at most that much early.
	for range 8 {
		e.clock.Add(15 * time.Minute)
		if _, err := fresh.SessionIdentity(ctx, live); err != nil {
			t.Fatal(err)
		}
	}
	must(t, e.rdb.FlushDB(ctx).Err())
	if _, err := fresh.Reindex(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.SessionIdentity(ctx, live); err != nil {
		t.Errorf("a session in use for 2 h, restored: %v", err)
	}
}
