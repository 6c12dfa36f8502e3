package review_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/review"
	"github.com/uprinfo/presession/staff"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
	"github.com/uprinfo/presession/webhook"
)

const staffToken = "staff-token-for-tests-0123456789abcdef"

// env is the review handler on an httptest server with a real catalog
// (Redis) and a storage directory.
type env struct {
	t      testing.TB
	rdb    *redis.Client
	srv    *httptest.Server
	mux    *http.ServeMux
	cat    *catalog.Catalog
	store  *storage.Dir
	signer *token.Signer
	issuer *token.Issuer
	hooks  chan string // "session/CC" per playlist hook call
	hooksR *webhook.Registry
	dir    *staff.Directory
}

// resolver answers hooks.example.org with a public address, so tests
// register endpoints without DNS.
type resolver struct{}

func (resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if host == "hooks.example.org" {
		return []netip.Addr{netip.MustParseAddr("203.0.113.7")}, nil
	}
	return nil, fmt.Errorf("no such host %s", host)
}

// newEnv makes the env; each opt changes its site before it serves.
func newEnv(t testing.TB, opts ...func(*web.Site)) *env { return newEnvWith(t, nil, opts...) }

// newEnvWith is newEnv with the handler made with ropts besides the
// webhooks.
func newEnvWith(t testing.TB, ropts []review.Option, opts ...func(*web.Site)) *env {
	t.Helper()
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	store, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, rdb: rdb, store: store, hooks: make(chan string, 1000)}
	e.dir = staff.New(rdb, staff.StorageBlobs(store), staff.Config{Prefix: "t:", StaffToken: staffToken})
	e.cat = catalog.New(rdb, catalog.StorageBlobs(store), catalog.WithPrefix("t:"),
		catalog.WithPlaylistHook(func(_ context.Context, s, cc string) { e.hooks <- s + "/" + cc }))
	sessions := presession.Builtin()
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	e.signer = token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	site, err := web.NewSite(sessions, bundle, e.auth(), log)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range opts {
		o(site)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", web.Static())
	e.mux = mux
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.issuer = &token.Issuer{Signer: e.signer, Sessions: sessions, PublicURL: e.srv.URL, MaxViewerValidity: 2160 * time.Hour}
	e.hooksR = webhook.NewRegistry(rdb, store, "t:")
	h, err := review.New(site, e.cat, e.issuer, store, log, append([]review.Option{review.WithWebhooks(e.hooksR)}, ropts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.Register(mux)
	(&webhook.API{Site: site, Registry: e.hooksR, Guard: &webhook.Guard{Resolver: resolver{}}}).Register(mux)
	// A stand-in for the playlist package's /media/ route, so the preview
	// player gets an answer.
	mux.HandleFunc("GET /media/", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	return e
}

// auth is a node's Auth on e's Redis: its staff sessions, sign-in
// throttle and revocations, behind a proxy on loopback (so tests name
// clients with X-Forwarded-For).
func (e *env) auth() *web.Auth {
	return &web.Auth{Signer: e.signer, StaffToken: staffToken,
		Directory:      e.dir,
		SignIns:        web.NewThrottle(e.rdb, "t:", "signin", web.SignInMaxFailures, web.SignInWindow),
		AccountSignIns: web.NewThrottle(e.rdb, "t:", "signin", web.SignInAccountMaxFailures, web.SignInWindow),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Revocations:    e.cat}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// invite returns an invitation token for org in upr36/cc.
func (e *env) invite(cc, org string) (string, token.Invitation) {
	e.t.Helper()
	link, inv, err := e.issuer.Invite("upr36", cc, org, time.Now().Add(24*time.Hour))
	if err != nil {
		e.t.Fatal(err)
	}
	return link[strings.Index(link, "token=")+len("token="):], inv
}

func (e *env) viewerToken() string {
	e.t.Helper()
	link, _, err := e.issuer.ViewerLink("upr36", "", time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return link[strings.Index(link, "key=")+len("key="):]
}

// statement creates a statement of upr36/cc in status st (walking the
// lifecycle as the upload and worker would), with fake but structurally
// valid media and placeholder captions once processed.
func (e *env) statement(cc, invID, title string, st presession.Status) *presession.Statement {
	e.t.Helper()
	ctx := context.Background()
	id := "st" + testenv.RandomHex(6)
	if invID == "" {
		invID = "inv-" + id
	}
	s := &presession.Statement{ID: id, Session: "upr36", Country: cc, Organisation: "Org of " + title, InvitationID: invID,
		Title: title, Speaker: "Speaker " + title, Language: "en", Filename: "clip.mp4", Filetype: "video/mp4", Size: 1234,
		SourceKey: "uploads/" + id, Status: presession.StatusUploaded}
	if err := e.cat.Create(ctx, s); err != nil {
		e.t.Fatal(err)
	}
	path := []presession.Status{}
	switch st {
	case presession.StatusUploaded:
	case presession.StatusProcessing:
		path = []presession.Status{presession.StatusProcessing}
	case presession.StatusFailed:
		path = []presession.Status{presession.StatusProcessing, presession.StatusFailed}
	case presession.StatusReady:
		path = []presession.Status{presession.StatusProcessing, presession.StatusReady}
	case presession.StatusApproved, presession.StatusRejected:
		path = []presession.Status{presession.StatusProcessing, presession.StatusReady, st}
	default:
		e.t.Fatalf("fixture status %s", st)
	}
	for _, to := range path {
		actor, reason := "worker", ""
		if to == presession.StatusFailed {
			reason = "the file is not a video"
		}
		if to == presession.StatusApproved || to == presession.StatusRejected {
			actor = "staff"
			if to == presession.StatusRejected {
				reason = "off topic"
			}
		}
		if to == presession.StatusReady {
			if _, err := e.cat.Update(ctx, id, func(s *presession.Statement) error {
				s.Media = fakeMedia(id, 42.5)
				for _, l := range []string{"en", "fr", "es"} {
					s.Captions = append(s.Captions, presession.Caption{Language: l, Name: presession.LanguageName(l),
						Key: "statements/" + id + "/subs/" + l + ".vtt", Placeholder: true})
				}
				return nil
			}); err != nil {
				e.t.Fatal(err)
			}
		}
		if _, err := e.cat.Transition(ctx, id, to, actor, reason); err != nil {
			e.t.Fatal(err)
		}
	}
	if st == presession.StatusProcessing {
		if err := e.cat.SetProgress(ctx, id, 37); err != nil {
			e.t.Fatal(err)
		}
	}
	got, err := e.cat.Get(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

func fakeMedia(id string, dur float64) *presession.Media {
	p := "statements/" + id + "/"
	return &presession.Media{Duration: dur, Width: 1280, Height: 720, SourceFormat: "mov,mp4,m4a,3gp,3g2,mj2", Master: p + "master.m3u8",
		Renditions: []presession.Rendition{{Name: "720p", Width: 1280, Height: 720, Bandwidth: 3000000, AverageBandwidth: 2500000,
			Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 25, Playlist: p + "720p/index.m3u8", Init: p + "720p/init.mp4", TargetDuration: 6,
			Segments: []presession.Segment{{Key: p + "720p/seg_00001.m4s", Duration: 6}, {Key: p + "720p/seg_00002.m4s", Duration: dur - 6}}}},
		MP4: "statements/" + id + "/statement.mp4", MP4Size: 99, Poster: "statements/" + id + "/poster.jpg", Thumbnail: "statements/" + id + "/thumb.jpg"}
}

// cred is one way of (not) authenticating a request.
type cred struct {
	name  string
	apply func(r *http.Request)
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

// staffCookie signs in through the form and returns the cookie.
func (e *env) staffCookie() *http.Cookie {
	e.t.Helper()
	res := e.do("POST", "/staff/login", strings.NewReader("token="+staffToken), func(r *http.Request) {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	})
	defer res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign-in: %d", res.StatusCode)
	}
	for _, c := range res.Cookies() {
		if c.Name == web.StaffCookie {
			return c
		}
	}
	e.t.Fatal("sign-in set no staff cookie")
	return nil
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

// staff sends a request with the staff bearer token and decodes a JSON
// answer into out (when non-nil); it returns the status and, for errors,
// the error code.
func (e *env) staff(method, path string, body any, out any) (int, string) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	res := e.do(method, path, rd, bearer(staffToken))
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 400 {
		var eb web.ErrorBody
		if err := json.Unmarshal(data, &eb); err != nil {
			e.t.Fatalf("%s %s: %d with a body that is not a JSON error: %s", method, path, res.StatusCode, data)
		}
		if eb.Error.Message == "" {
			e.t.Errorf("%s %s: error without a message: %s", method, path, data)
		}
		return res.StatusCode, eb.Error.Code
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return res.StatusCode, ""
}

func (e *env) get(id string) *presession.Statement {
	e.t.Helper()
	s, err := e.cat.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) drainHooks() []string {
	var out []string
	for {
		select {
		case h := <-e.hooks:
			out = append(out, h)
		default:
			return out
		}
	}
}

// otherNode serves the same handler as a second process would: its own
// Auth and staff session store, on e's Redis and catalog.
func (e *env) otherNode() *httptest.Server {
	e.t.Helper()
	bundle, err := i18n.Load()
	if err != nil {
		e.t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	site, err := web.NewSite(presession.Builtin(), bundle, e.auth(), log)
	if err != nil {
		e.t.Fatal(err)
	}
	h, err := review.New(site, e.cat, e.issuer, e.store, log)
	if err != nil {
		e.t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Register(mux)
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	return srv
}
