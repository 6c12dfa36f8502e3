package desk_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/desk"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/playlist"
	"github.com/uprinfo/presession/review"
	"github.com/uprinfo/presession/staff"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

const staffToken = "desk-staff-token-0123456789abcdef"

// env is the review desk, the staff API of package review (decisions,
// captions) and the media route of package playlist on an httptest
// server, over a real catalog (Redis) and a storage directory.
type env struct {
	t         testing.TB
	rdb       *redis.Client
	srv       *httptest.Server
	cat       *catalog.Catalog
	store     *storage.Dir
	dir       *staff.Directory
	queue     *desk.Queue
	slots     *slots
	prefix    string
	storeRoot string
}

// slots is a programme: the slot start of each "session/CC".
type slots struct{ starts map[string]time.Time }

func (s *slots) Programme(_ context.Context, session string) ([]presession.Scheduled, *presession.Programme, error) {
	var out []presession.Scheduled
	for k, at := range s.starts {
		if k[:len(session)] == session {
			out = append(out, presession.Scheduled{Country: presession.Country{Code: k[len(session)+1:]}, Slot: presession.Slot{Start: at, Minutes: 30}})
		}
	}
	return out, &presession.Programme{Session: session}, nil
}

func newEnv(t testing.TB, claimTTL time.Duration) *env {
	t.Helper()
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	root := t.TempDir()
	store, err := storage.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, rdb: rdb, store: store, prefix: "d:", slots: &slots{starts: map[string]time.Time{}}, storeRoot: root}
	e.dir = staff.New(rdb, staff.StorageBlobs(store), staff.Config{Prefix: e.prefix, StaffToken: staffToken})
	e.cat = catalog.New(rdb, catalog.StorageBlobs(store), catalog.WithPrefix(e.prefix))
	sessions := presession.Builtin()
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	signer := token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	auth := &web.Auth{Signer: signer, StaffToken: staffToken, Directory: e.dir,
		SignIns:        web.NewThrottle(rdb, e.prefix, "signin", web.SignInMaxFailures, web.SignInWindow),
		AccountSignIns: web.NewThrottle(rdb, e.prefix, "signin", web.SignInAccountMaxFailures, web.SignInWindow),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Revocations: e.cat}
	site, err := web.NewSite(sessions, bundle, auth, log)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", web.Static())
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	rev, err := review.New(site, e.cat, &token.Issuer{Signer: signer, Sessions: sessions, PublicURL: e.srv.URL}, store, log, review.WithNames(e.dir))
	if err != nil {
		t.Fatal(err)
	}
	rev.Register(mux)
	play, err := playlist.NewHandler(site, store, catalog.NewViews(e.cat))
	if err != nil {
		t.Fatal(err)
	}
	play.Register(mux)
	e.queue = desk.NewQueue(e.cat, e.slots, desk.NewClaims(rdb, e.prefix, claimTTL), sessions)
	h, err := desk.New(site, e.queue, e.dir, log)
	if err != nil {
		t.Fatal(err)
	}
	h.Register(mux)
	return e
}

// member adds a member of staff with a password.
func (e *env) member(email, name string, role presession.Role, password string) *presession.Member {
	e.t.Helper()
	ctx := context.Background()
	_, link, err := e.dir.Add(ctx, email, name, role, presession.ActorService)
	if err != nil {
		e.t.Fatal(err)
	}
	u, _ := url.Parse(link)
	m, err := e.dir.SetPassword(ctx, u.Query().Get("t"), password)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// ready creates a statement of upr36/cc awaiting review, uploaded at
// uploaded, with media of duration seconds (mp4 stored at its key when
// not nil) and the session's caption tracks (placeholders unless real).
func (e *env) ready(cc, title string, uploaded time.Time, duration float64, findings []presession.Finding) *presession.Statement {
	e.t.Helper()
	ctx := context.Background()
	id := "st" + testenv.RandomHex(6)
	s := &presession.Statement{ID: id, Session: "upr36", Country: cc, Organisation: "Org of " + title, InvitationID: "inv-" + id,
		Title: title, Speaker: "Speaker of " + title, Language: "en", Filename: "clip.mp4", Filetype: "video/mp4", Size: 1234,
		SourceKey: "uploads/" + id, Status: presession.StatusUploaded}
	if err := e.cat.Create(ctx, s); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.cat.Update(ctx, id, func(s *presession.Statement) error {
		s.UploadedAt = uploaded
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.cat.Transition(ctx, id, presession.StatusProcessing, "worker", ""); err != nil {
		e.t.Fatal(err)
	}
	q := &presession.Quality{Findings: findings}
	q.Summarise()
	if _, err := e.cat.Update(ctx, id, func(s *presession.Statement) error {
		s.Media = &presession.Media{Duration: duration, Width: 320, Height: 180, Master: "statements/" + id + "/master.m3u8",
			MP4: "statements/" + id + "/download.mp4", Poster: "statements/" + id + "/poster.jpg", Thumbnail: "statements/" + id + "/thumb.jpg",
			Storyboard: "statements/" + id + "/storyboard.jpg", StoryboardVT: "statements/" + id + "/storyboard.vtt", Quality: q}
		for _, l := range []string{"en", "fr", "es"} {
			s.Captions = append(s.Captions, presession.Caption{Language: l, Name: presession.LanguageName(l),
				Key: "statements/" + id + "/subs/" + l + ".vtt", Placeholder: true})
		}
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	out, err := e.cat.Transition(ctx, id, presession.StatusReady, "worker", "")
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}
