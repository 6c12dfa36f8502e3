package people_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/people"
	"github.com/uprinfo/presession/staff"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

// The directory of package staff is what the pages run on.
var _ people.Directory = (*staff.Directory)(nil)

const staffToken = "staff-token-for-people-tests-0123456789"

// env is the people handler on an httptest server, on a real staff
// directory (Redis and a storage directory).
type env struct {
	t     *testing.T
	rdb   *redis.Client
	dir   *staff.Directory
	srv   *httptest.Server
	site  *web.Site
	mails *mails
	audit *audit
	h     *people.Handler
}

// mails records the links the handler mails; failing makes sending fail.
type mails struct {
	mu      sync.Mutex
	sent    []people.LinkMail
	failing bool
}

func (m *mails) send(_ context.Context, l people.LinkMail) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failing {
		return presession.Errorf(presession.EINTERNAL, "the mail server refused the message")
	}
	m.sent = append(m.sent, l)
	return nil
}

func (m *mails) last() people.LinkMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.sent) == 0 {
		return people.LinkMail{}
	}
	return m.sent[len(m.sent)-1]
}

// audit records the audit entries of the staff routes.
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

func (a *audit) find(action, target string) (presession.AuditEntry, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.entries {
		if e.Action == action && e.Target == target {
			return e, true
		}
	}
	return presession.AuditEntry{}, false
}

// has reports whether action by actor was recorded with outcome.
func (a *audit) has(action string, actor presession.Actor, outcome string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.entries {
		if e.Action == action && e.Actor == actor && e.Outcome == outcome {
			return true
		}
	}
	return false
}

func newEnv(t *testing.T) *env {
	t.Helper()
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	store, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := &env{t: t, rdb: rdb, mails: &mails{}, audit: &audit{}}
	mux := http.NewServeMux()
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.dir = staff.New(rdb, staff.StorageBlobs(store), staff.Config{Prefix: "t:", PublicURL: e.srv.URL, StaffToken: staffToken})
	auth := &web.Auth{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")), StaffToken: staffToken,
		Directory: e.dir, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	site, err := web.NewSite(presession.Builtin(), bundle, auth, log)
	if err != nil {
		t.Fatal(err)
	}
	site.Audit = e.audit
	e.site = site
	h, err := people.New(site, e.dir, log, people.WithMail(e.mails.send), people.WithMinPasswordLength(staff.MinPasswordLength))
	if err != nil {
		t.Fatal(err)
	}
	h.Register(mux)
	e.h = h
	mux.Handle("GET /static/", web.Static())
	return e
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (e *env) do(method, path string, body io.Reader, opts ...func(*http.Request)) *http.Response {
	e.t.Helper()
	r, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range opts {
		o(r)
	}
	res, err := noRedirect.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func header(k, v string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

// api sends a JSON request with opts (default: the staff token) and
// decodes a 2xx answer into out; it returns the status and, for errors,
// the error's code and message.
func (e *env) api(method, path string, body, out any, opts ...func(*http.Request)) (int, string, string) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	if len(opts) == 0 {
		opts = []func(*http.Request){bearer(staffToken)}
	}
	res := e.do(method, path, rd, opts...)
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 400 {
		var eb web.ErrorBody
		if err := json.Unmarshal(data, &eb); err != nil || eb.Error.Message == "" {
			e.t.Fatalf("%s %s: %d with a body that is not a JSON error: %s", method, path, res.StatusCode, data)
		}
		return res.StatusCode, eb.Error.Code, eb.Error.Message
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return res.StatusCode, "", string(data)
}

func (e *env) page(path string, opts ...func(*http.Request)) (int, string, *http.Response) {
	e.t.Helper()
	res := e.do("GET", path, nil, opts...)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res
}

// form posts values to path as the browser does from the site's page.
func (e *env) form(path, values string, opts ...func(*http.Request)) (int, string, *http.Response) {
	e.t.Helper()
	opts = append([]func(*http.Request){header("Content-Type", "application/x-www-form-urlencoded"), header("Sec-Fetch-Site", "same-origin")}, opts...)
	res := e.do("POST", path, strings.NewReader(values), opts...)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res
}

// linkToken is the t= of a set-password URL.
func linkToken(t *testing.T, u string) string {
	t.Helper()
	i := strings.Index(u, "?t=")
	if i < 0 {
		t.Fatalf("not a set-password URL: %q", u)
	}
	return u[i+3:]
}

// cookie is the staff cookie a response set ("" when none).
func cookie(res *http.Response) string {
	for _, c := range res.Cookies() {
		if c.Name == web.StaffCookie && c.MaxAge >= 0 {
			return c.Value
		}
	}
	return ""
}
