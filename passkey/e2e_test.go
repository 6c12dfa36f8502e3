package passkey_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/passkey"
	"github.com/uprinfo/presession/review"
	"github.com/uprinfo/presession/staff"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

const staffToken = "staff-token-for-tests-0123456789abcdef"

// audit keeps the entries the site records.
type audit struct {
	mu      sync.Mutex
	entries []presession.AuditEntry
}

func (a *audit) Record(_ context.Context, e presession.AuditEntry) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
	return nil
}

// has reports whether an entry of action by actor with detail and
// outcome was recorded.
func (a *audit) has(action string, actor presession.Actor, detail, outcome string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.entries {
		if e.Action == action && e.Actor == actor && (detail == "" || strings.HasPrefix(e.Detail, detail)) && e.Outcome == outcome {
			return true
		}
	}
	return false
}

// env is the sign-in page, the dashboard and the passkey routes on an
// httptest server reached as localhost, with the real staff directory on
// Redis and a storage directory.
type env struct {
	srv   *httptest.Server
	mux   *http.ServeMux
	url   string // the server as http://localhost:port
	dir   *staff.Directory
	audit *audit
}

func newEnv(t *testing.T) *env {
	t.Helper()
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	store, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{audit: &audit{}}
	e.dir = staff.New(rdb, staff.StorageBlobs(store), staff.Config{Prefix: "t:", StaffToken: staffToken, PublicURL: "http://localhost"})
	signer := token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	auth := &web.Auth{Signer: signer, StaffToken: staffToken, Directory: e.dir,
		SignIns:        web.NewThrottle(rdb, "t:", "signin", web.SignInMaxFailures, web.SignInWindow),
		AccountSignIns: web.NewThrottle(rdb, "t:", "signin", web.SignInAccountMaxFailures, web.SignInWindow),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	sessions := presession.Builtin()
	site, err := web.NewSite(sessions, bundle, auth, log)
	if err != nil {
		t.Fatal(err)
	}
	site.Audit = e.audit
	mux := http.NewServeMux()
	mux.Handle("GET /static/", web.Static())
	cat := catalog.New(rdb, catalog.StorageBlobs(store), catalog.WithPrefix("t:"))
	rev, err := review.New(site, cat, &token.Issuer{Signer: signer, Sessions: sessions, PublicURL: "http://localhost"}, store, log)
	if err != nil {
		t.Fatal(err)
	}
	rev.Register(mux)
	pk, err := passkey.New(site, e.dir, rdb, passkey.Config{Prefix: "t:"})
	if err != nil {
		t.Fatal(err)
	}
	pk.Register(mux)
	auth.SecondFactor = pk.SecondFactor
	e.mux = mux
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.url = strings.Replace(e.srv.URL, "127.0.0.1", "localhost", 1)
	return e
}

// member adds a member with a password set from their link.
func (e *env) member(t *testing.T, email, password string, role presession.Role) *presession.Member {
	t.Helper()
	ctx := context.Background()
	m, link, err := e.dir.Add(ctx, email, "Ada Reviewer", role, presession.ActorService)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.SetPassword(ctx, u.Query().Get("t"), password); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPasskeysInChromium drives e2e/passkeys.mjs (playwright-core,
// axe-core) with Chromium's virtual authenticator: a member adds a passkey
// on /staff/me, signs in with it alone, then with the password and the
// passkey as second factor, removes it, and the removed passkey no longer
// signs in; while the member is disabled neither the passkey alone nor the
// passkey step of a password sign-in begun before signs them in. This test checks the account and the audit at the end.
func TestPasskeysInChromium(t *testing.T) {
	t.Parallel()
	chromium := testenv.Chromium(t)
	modules := testenv.NodeModules(t)
	e := newEnv(t)
	const email, password = "ada@example.org", "correct horse battery staple 7"
	m := e.member(t, email, password, presession.RoleReviewer)

	// Test-only hook: the script disables and enables the member, as an
	// admin would.
	e.mux.HandleFunc("POST /test/member", func(w http.ResponseWriter, r *http.Request) {
		f := e.dir.Enable
		if r.URL.Query().Get("disabled") == "1" {
			f = e.dir.Disable
		}
		if _, err := f(r.Context(), m.ID, presession.ActorService); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})

	dir := t.TempDir()
	script := filepath.Join(testenv.RepoRoot(t), "e2e", "passkeys.mjs")
	cctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, "node", script)
	cmd.Dir = modules
	cmd.Env = append(os.Environ(), "BASE_URL="+e.url, "CHROMIUM="+chromium,
		"USER_DATA_DIR="+filepath.Join(dir, "profile"), "NODE_MODULES_DIR="+modules,
		"EMAIL="+email, "PASSWORD="+password, "MEMBER_URL="+e.url+"/test/member", "SCREENSHOT_DIR="+os.Getenv("PASSKEY_SCREENSHOTS"))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("passkeys.mjs (%s):\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("passkeys.mjs: %v", err)
	}

	got, err := e.dir.Member(context.Background(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Passkeys) != 0 {
		t.Errorf("member keeps %d passkeys after removing the one", len(got.Passkeys))
	}
	actor := presession.ActorMember(m.ID)
	for _, want := range []struct{ action, detail, outcome string }{
		{"passkey.add", "passkey ", "ok"},
		{"passkey.rename", "passkey ", "ok"},
		{"signin", "passkey", "ok"},
		{"signin", "password+passkey", "ok"},
		{"passkey.remove", "passkey ", "ok"},
	} {
		if !e.audit.has(want.action, actor, want.detail, want.outcome) {
			t.Errorf("the audit has no %s %q %s by %s; it has %+v", want.action, want.detail, want.outcome, actor, e.audit.entries)
		}
	}
	if !e.audit.has("signin", actor, "passkey", presession.EFORBIDDEN) {
		t.Errorf("the refused sign-in of the disabled member is not in the audit: %+v", e.audit.entries)
	}
	if !e.audit.has("signin", actor, "passkey", presession.EUNAUTHORIZED) {
		t.Errorf("the refused sign-in with the removed passkey is not in the audit: %+v", e.audit.entries)
	}
}
