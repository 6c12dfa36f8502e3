package web_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/a11y"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/staff"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

func newSite(t *testing.T) *web.Site {
	t.Helper()
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	s, err := web.NewSite(presession.Builtin(), b, &web.Auth{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")), StaffToken: "staff-token-for-tests"},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func server(t *testing.T, s *web.Site) *httptest.Server {
	t.Helper()
	home, err := s.Home()
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", home)
	mux.Handle("GET /static/", web.Static())
	healthz, readyz := s.Health([]web.Check{
		{Name: "good", Fn: func(context.Context) error { return nil }},
		{Name: "bad", Fn: func(context.Context) error { return errors.New("down") }},
	})
	mux.Handle("GET /healthz", healthz)
	mux.Handle("GET /readyz", readyz)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url, accept string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept-Language", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHomeLanguages(t *testing.T) {
	srv := server(t, newSite(t))
	for _, tc := range []struct {
		accept, url string
		want        []string
	}{
		{"en", "/", []string{`lang="en"`, "Sessions and upload deadlines", "Bulgaria", "20 May 2020, 23:59 UTC", "extended", "10:00"}},
		{"fr-FR,fr;q=0.9", "/", []string{`lang="fr"`, "Sessions et dates limites", "Bulgarie", "20 mai 2020, 23:59 UTC", "prolongée", "États-Unis"}},
		{"en", "/?lang=es", []string{`lang="es"`, "Sesiones y plazos", "20 de mayo de 2020", "Islas Marshall"}},
	} {
		code, body := get(t, srv.URL+tc.url, tc.accept)
		if code != 200 {
			t.Fatalf("%s: %d", tc.url, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s (%s): missing %q", tc.url, tc.accept, w)
			}
		}
	}
}

func TestHealth(t *testing.T) {
	srv := server(t, newSite(t))
	if code, _ := get(t, srv.URL+"/healthz", ""); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	code, body := get(t, srv.URL+"/readyz", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"bad":"failing: down"`) || !strings.Contains(body, `"good":"ok"`) {
		t.Fatalf("readyz %d %s", code, body)
	}
}

func TestErrorsInRequestLanguage(t *testing.T) {
	s := newSite(t)
	for _, tc := range []struct {
		lang   string
		err    error
		status int
		want   string
	}{
		{"en", presession.Errorf(presession.ENOTFOUND, "no such statement"), 404, "no such statement"},
		{"fr", presession.Errorf(presession.EUNAUTHORIZED, "x").Localize("auth.staff_required"), 401, "Connexion du personnel requise"},
		{"es", presession.Errorf(presession.EFORBIDDEN, "x").Localize("auth.cross_site"), 403, "Esta solicitud no procede"},
		{"en", errors.New("secret detail"), 500, "internal error"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/?lang="+tc.lang, nil)
		s.Error(rec, req, tc.err)
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.want) || strings.Contains(rec.Body.String(), "secret detail") {
			t.Errorf("%v: %d %s", tc.err, rec.Code, rec.Body.String())
		}
		if !strings.Contains(rec.Body.String(), `"code":"`+presession.ErrorCode(tc.err)+`"`) {
			t.Errorf("code missing: %s", rec.Body.String())
		}
	}
}

// staffSessions returns a staff directory (which keeps the staff
// sessions) on its own Redis database and storage directory, for the
// staff token "staff-token-for-tests".
func staffSessions(t *testing.T) *staff.Directory {
	t.Helper()
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	return directory(t, rdb, t.TempDir(), "staff-token-for-tests")
}

// directory is the staff directory on rdb, durable in the directory dir,
// for the staff token tok.
func directory(t testing.TB, rdb redis.UniversalClient, dir, tok string) *staff.Directory {
	t.Helper()
	store, err := storage.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return staff.New(rdb, staff.StorageBlobs(store), staff.Config{Prefix: "t:", StaffToken: tok})
}

// signIn signs in with a's staff token and returns the staff cookie.
func signIn(t *testing.T, a *web.Auth) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := a.SignIn(rec, httptest.NewRequest("POST", "/staff/login", nil), a.StaffToken); err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == web.StaffCookie {
			return c
		}
	}
	t.Fatal("sign-in set no staff cookie")
	return nil
}

func TestAuth(t *testing.T) {
	s := newSite(t)
	a := s.Auth
	a.Directory = staffSessions(t)
	cookie := signIn(t, a)
	if strings.Contains(cookie.Value, "staff-token-for-tests") || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("staff cookie %+v", cookie)
	}
	for _, tc := range []struct {
		name   string
		method string
		header map[string]string
		cookie bool
		want   string // "" = allowed, else error code
	}{
		{"bearer", "POST", map[string]string{"Authorization": "Bearer staff-token-for-tests"}, false, ""},
		{"wrong bearer", "GET", map[string]string{"Authorization": "Bearer nope"}, false, presession.EUNAUTHORIZED},
		{"nothing", "GET", nil, false, presession.EUNAUTHORIZED},
		{"cookie get", "GET", nil, true, ""},
		{"cookie post same origin", "POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, true, ""},
		{"cookie post cross site", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, true, presession.EFORBIDDEN},
		{"cookie post origin match", "POST", map[string]string{"Origin": "http://example.com"}, true, ""},
		{"cookie post other origin", "POST", map[string]string{"Origin": "http://evil.example"}, true, presession.EFORBIDDEN},
		{"cookie post no headers", "POST", nil, true, presession.EFORBIDDEN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://example.com/api/v1/statements", nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if tc.cookie {
				r.AddCookie(cookie)
			}
			if got := presession.ErrorCode(a.Principal(r).RequireStaff()); got != tc.want {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
}

// TestHomeAccessible scans the landing page with axe-core in Chromium in
// every language, at desktop and phone width.
func TestHomeAccessible(t *testing.T) {
	srv := server(t, newSite(t))
	var pages []a11y.Page
	for _, l := range i18n.Languages {
		pages = append(pages, a11y.Page{Name: "home " + l, URL: srv.URL + "/?lang=" + l})
	}
	for _, r := range a11y.Scan(t, pages...) {
		if !strings.HasSuffix(r.Name, r.Lang) {
			t.Errorf("%s: html lang=%q", r.Name, r.Lang)
		}
	}
}

// TestErrorsTranslated answers a representative coded error of each
// package that produces them in fr and es: the same code in every
// language, the message in the request's language, with statuses,
// countries and dates in its arguments read in that language too.
func TestErrorsTranslated(t *testing.T) {
	s := newSite(t)
	ss := presession.Builtin()
	signer := token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	issuer := &token.Issuer{Signer: signer, Sessions: ss, PublicURL: "http://x", Now: func() time.Time { return now }}
	expired, _ := signer.SignViewer(token.Viewer{Session: "upr36", Country: "BG", Expires: time.Date(2025, 1, 31, 18, 30, 0, 0, time.UTC)})
	// A catalog that is never reached: Transition checks its arguments first.
	cat := catalog.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), nil)

	must := func(err error) error {
		t.Helper()
		if err == nil {
			t.Fatal("no error")
		}
		return err
	}
	transition := must(presession.CheckTransition(presession.StatusApproved, presession.StatusProcessing))
	_, _, lookup := ss.Lookup("upr36", "fr")
	_, _, closed := issuer.Invite("upr36", "AD", "Example NGO", time.Time{})
	_, expiredErr := signer.ParseViewer(expired, now)
	decode := web.DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader("{")), 100, &struct{}{})
	_, reason := cat.Transition(context.Background(), "0123456789abcdef", presession.StatusRejected, "staff", " ")
	staff := s.Auth.Principal(httptest.NewRequest("GET", "/", nil)).RequireStaff()

	for _, tc := range []struct {
		name   string
		err    error
		code   string
		en, fr string
		es     string
	}{
		{"domain: transition", transition, presession.ECONFLICT,
			"A statement that is “Approved” cannot become “Processing”.",
			"Une déclaration « Approuvée » ne peut pas passer à « Traitement en cours ».",
			"Una declaración «Aprobada» no puede pasar a «Procesando»."},
		{"domain: lookup", lookup, presession.ENOTFOUND,
			`Country "FR" is not under review in UPR Pre-session 36.`,
			`Le pays "FR" n'est pas examiné dans UPR Pre-session 36.`,
			`El país "FR" no se examina en UPR Pre-session 36.`},
		{"token: closed country", closed, presession.EFORBIDDEN,
			"Andorra's upload deadline (31 January 2020, 23:59 UTC) has passed",
			"La date limite d'envoi pour Andorre (31 janvier 2020, 23:59 UTC) est passée",
			"El plazo de envío para Andorra (31 de enero de 2020, 23:59 UTC) ha vencido"},
		{"token: expired viewer", expiredErr, presession.EUNAUTHORIZED,
			"This viewing link expired on 31 January 2025, 18:30 UTC;",
			"Ce lien de visionnage a expiré le 31 janvier 2025, 18:30 UTC ;",
			"Este enlace de visualización caducó el 31 de enero de 2025, 18:30 UTC;"},
		{"web: body", decode, presession.EINVALID,
			"The request body is not the expected JSON: unexpected EOF",
			"Le corps de la requête n'est pas le JSON attendu : unexpected EOF",
			"El cuerpo de la solicitud no es el JSON esperado: unexpected EOF"},
		{"web: staff", staff, presession.EUNAUTHORIZED,
			"Staff sign-in required", "Connexion du personnel requise", "Se requiere iniciar sesión como personal"},
		{"catalog: reason", reason, presession.EINVALID,
			"A reason is required to mark a statement “Rejected”.",
			"Un motif est requis pour passer une déclaration à « Refusée ».",
			"Se requiere un motivo para pasar una declaración a «Rechazada»."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for lang, want := range map[string]string{"en": tc.en, "fr": tc.fr, "es": tc.es} {
				rec := httptest.NewRecorder()
				req := httptest.NewRequest("GET", "/api/v1/x", nil)
				req.Header.Set("Accept-Language", lang)
				s.Error(rec, req, tc.err)
				var body web.ErrorBody
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
					t.Fatalf("%s: %v: %s", lang, err, rec.Body)
				}
				if body.Error.Code != tc.code || rec.Code != web.Status(tc.err) {
					t.Errorf("%s: code %q status %d, want %q %d", lang, body.Error.Code, rec.Code, tc.code, web.Status(tc.err))
				}
				if !strings.Contains(body.Error.Message, want) {
					t.Errorf("%s: message %q, want it to contain %q", lang, body.Error.Message, want)
				}
			}
		})
	}
}

// TestMessageArguments: arguments that name a status, a country, a time or
// another coded error read in the message's language; others pass as they are.
func TestMessageArguments(t *testing.T) {
	s := newSite(t)
	inner := presession.Errorf(presession.ENOTFOUND, "there is no session %q", "x").Localize("err.session_unknown", "x")
	for _, tc := range []struct {
		lang string
		err  error
		want string
	}{
		{"fr", presession.Errorf(presession.ECONFLICT, "x").Localize("staff.err.reopen", presession.StatusReady), "celle-ci est « Prête pour examen »"},
		{"es", presession.Errorf(presession.ECONFLICT, "x").Localize("staff.err.reopen", presession.StatusUploaded), "esta está «Subida, en espera de procesamiento»"},
		{"es", presession.Errorf(presession.EFORBIDDEN, "x").Localize("err.viewer_other_country", presession.Country{Code: "US", Name: "United States"}, "S"), "no incluye Estados Unidos en S"},
		{"fr", presession.Errorf(presession.EFORBIDDEN, "x").Localize("err.nothing_approved", presession.Country{Code: "MH"}), "sur Îles Marshall"},
		{"fr", presession.Errorf(presession.EUNAUTHORIZED, "x").Localize("auth.viewer_expired", time.Date(2026, 7, 1, 9, 5, 0, 0, time.UTC)), "a expiré le 1er juillet 2026, 09:05 UTC"},
		{"es", presession.Errorf(presession.EINVALID, "x").Localize("staff.err.caption_invalid", inner), "no se puede usar: No existe la sesión \"x\"."},
		{"en", presession.Errorf(presession.EINVALID, "plain %d", 3), "plain 3"},
	} {
		if got := s.Message(tc.lang, tc.err); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want it to contain %q", tc.lang, got, tc.want)
		}
	}
}

// TestPrincipal reads every kind of credential, alone and in the
// combinations where the routes' rules differ: the kind the first
// credential decides (playlists, media, watch pages), the staff routes'
// rule (a bearer token, else the staff cookie) and an invitation's own
// routes' rule (a bearer token, else ?token=).
func TestPrincipal(t *testing.T) {
	const secret = "0123456789abcdef0123456789abcdef"
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	signer := token.NewSigner([]byte(secret))
	a := &web.Auth{Signer: signer, StaffToken: "staff-token-for-tests", Now: func() time.Time { return now }, Directory: staffSessions(t)}
	staffCookie := signIn(t, a)
	invTok, inv := signer.SignInvitation(token.Invitation{Session: "upr36", Country: "BG", Organisation: "Org"})
	viewTok, _ := signer.SignViewer(token.Viewer{Session: "upr36", Country: "BG", Expires: now.Add(time.Hour)})
	expired, _ := signer.SignViewer(token.Viewer{Session: "upr36", Country: "BG", Expires: now.Add(-time.Hour)})

	type want struct {
		kind   web.Kind
		source web.Source
		err    string // code of Err
		key    bool   // Key is the viewer token
		staff  string // code of RequireStaff
		inv    string // code of RequireInvitation
	}
	for _, tc := range []struct {
		name   string
		method string
		query  string
		bearer string
		cookie []*http.Cookie
		want   want
	}{
		{"nothing", "GET", "", "", nil,
			want{web.KindAnonymous, web.SourceNone, presession.EUNAUTHORIZED, false, presession.EUNAUTHORIZED, presession.EUNAUTHORIZED}},
		{"staff bearer", "POST", "", "staff-token-for-tests", nil,
			want{web.KindStaff, web.SourceBearer, "", false, "", presession.EUNAUTHORIZED}},
		{"invitation bearer", "GET", "", invTok, nil,
			want{web.KindInvitation, web.SourceBearer, "", false, presession.EUNAUTHORIZED, ""}},
		{"bad bearer beats a good key", "GET", "key=" + viewTok, "nope", nil,
			want{web.KindAnonymous, web.SourceBearer, presession.EUNAUTHORIZED, false, presession.EUNAUTHORIZED, presession.EUNAUTHORIZED}},
		{"key", "GET", "key=" + viewTok, "", nil,
			want{web.KindViewer, web.SourceKey, "", true, presession.EUNAUTHORIZED, presession.EUNAUTHORIZED}},
		{"expired key", "GET", "key=" + expired, "", nil,
			want{web.KindAnonymous, web.SourceKey, presession.EUNAUTHORIZED, false, presession.EUNAUTHORIZED, presession.EUNAUTHORIZED}},
		{"key before token", "GET", "key=" + viewTok + "&token=" + invTok, "", nil,
			want{web.KindViewer, web.SourceKey, "", true, presession.EUNAUTHORIZED, ""}},
		{"token", "GET", "token=" + invTok, "", nil,
			want{web.KindInvitation, web.SourceToken, "", false, presession.EUNAUTHORIZED, ""}},
		{"key before staff cookie", "GET", "key=" + viewTok, "", []*http.Cookie{staffCookie},
			want{web.KindViewer, web.SourceKey, "", true, "", presession.EUNAUTHORIZED}},
		{"staff cookie", "GET", "", "", []*http.Cookie{staffCookie},
			want{web.KindStaff, web.SourceStaffCookie, "", false, "", presession.EUNAUTHORIZED}},
		{"staff cookie cross-site", "POST", "", "", []*http.Cookie{staffCookie, {Name: web.ViewerCookie, Value: viewTok}},
			want{web.KindViewer, web.SourceViewerCookie, "", false, presession.EFORBIDDEN, presession.EUNAUTHORIZED}},
		{"forged staff cookie", "GET", "", "", []*http.Cookie{{Name: web.StaffCookie, Value: strings.Repeat("0", len(staffCookie.Value))}},
			want{web.KindAnonymous, web.SourceNone, presession.EUNAUTHORIZED, false, presession.EUNAUTHORIZED, presession.EUNAUTHORIZED}},
		{"viewer cookie", "GET", "", "", []*http.Cookie{{Name: web.ViewerCookie, Value: viewTok}},
			want{web.KindViewer, web.SourceViewerCookie, "", false, presession.EUNAUTHORIZED, presession.EUNAUTHORIZED}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://example.com/x?"+tc.query, nil)
			if tc.bearer != "" {
				r.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			for _, c := range tc.cookie {
				r.AddCookie(c)
			}
			p := a.Principal(r)
			gotInv, _, invErr := p.RequireInvitation()
			got := want{p.Kind, p.Source, presession.ErrorCode(p.Err()), p.Key == viewTok,
				presession.ErrorCode(p.RequireStaff()), presession.ErrorCode(invErr)}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if (p.Kind == web.KindInvitation) != (p.Invitation != nil) || (p.Kind == web.KindViewer) != (p.Viewer != nil) {
				t.Errorf("kind %v with invitation %v and viewer %v", p.Kind, p.Invitation, p.Viewer)
			}
			if invErr == nil && gotInv.ID != inv.ID {
				t.Errorf("invitation %+v, want %s", gotInv, inv.ID)
			}
		})
	}
}

// TestJSONNotMarkup: every JSON answer, an error included, says nosniff
// and escapes <, > and &, so a string a client chose (here in an error
// message) never reads as markup.
func TestJSONNotMarkup(t *testing.T) {
	s := newSite(t)
	for name, write := range map[string]func(http.ResponseWriter, *http.Request){
		"error": func(w http.ResponseWriter, r *http.Request) {
			s.Error(w, r, presession.Errorf(presession.EINVALID, `there is no statement "<script>alert(1)</script>&"`))
		},
		"value": func(w http.ResponseWriter, r *http.Request) {
			s.JSON(w, http.StatusOK, map[string]string{"title": `<script>alert(1)</script>&`})
		},
	} {
		rec := httptest.NewRecorder()
		write(rec, httptest.NewRequest("GET", "/api/v1/x", nil))
		body := rec.Body.String()
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", name, got)
		}
		if strings.ContainsAny(body, "<>&") || !strings.Contains(body, `\u003cscript\u003e`) || !strings.Contains(body, `\u0026`) {
			t.Errorf("%s: markup not escaped: %s", name, body)
		}
		var v any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestReadyzBinaryCheckCached: 30 parallel /readyz start the checked
// program once (a script standing in for ffmpeg, counting its runs),
// while a live check still runs at every request.
func TestReadyzBinaryCheckCached(t *testing.T) {
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	bin := filepath.Join(dir, "fakeffmpeg")
	script := "#!/bin/sh\necho run >> " + runs + "\nsleep 0.3\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var live atomic.Int64
	s := newSite(t)
	_, readyz := s.Health([]web.Check{
		{Name: "redis", Fn: func(context.Context) error { live.Add(1); return nil }},
		web.BinaryCheck(bin).Cached(time.Minute),
	})
	srv := httptest.NewServer(readyz)
	t.Cleanup(srv.Close)
	const n = 30
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Get(srv.URL)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			codes <- res.StatusCode
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("readyz %d", c)
		}
	}
	out, err := os.ReadFile(runs)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(out), "run"); got != 1 {
		t.Errorf("%d parallel /readyz ran the binary %d times, want 1", n, got)
	}
	if got := live.Load(); got != n {
		t.Errorf("the live check ran %d times, want %d", got, n)
	}
}

// TestSameOrigin compares the whole origin, scheme, host and port, with
// PRESESSION_PUBLIC_URL's when it is set, else with the request's own.
func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		name      string
		publicURL string
		tls       bool
		method    string
		host      string
		header    map[string]string
		want      bool
	}{
		{"safe method", "", false, "GET", "example.com", nil, true},
		{"no headers", "", false, "POST", "example.com", nil, false},
		{"sec-fetch-site same-origin", "", false, "POST", "example.com", map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"sec-fetch-site same-site", "", false, "POST", "example.com", map[string]string{"Sec-Fetch-Site": "same-site"}, false},
		{"sec-fetch-site decides over Origin", "", false, "POST", "example.com",
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://example.com"}, false},
		{"origin = request", "", false, "POST", "example.com", map[string]string{"Origin": "http://example.com"}, true},
		{"origin other scheme than request", "", false, "POST", "example.com", map[string]string{"Origin": "https://example.com"}, false},
		{"origin https over TLS", "", true, "POST", "example.com", map[string]string{"Origin": "https://example.com"}, true},
		{"origin http over TLS", "", true, "POST", "example.com", map[string]string{"Origin": "http://example.com"}, false},
		{"origin other port", "", false, "POST", "example.com:8080", map[string]string{"Origin": "http://example.com:8081"}, false},
		{"origin same port", "", false, "PUT", "example.com:8080", map[string]string{"Origin": "http://example.com:8080"}, true},
		{"origin default port", "", false, "POST", "example.com:80", map[string]string{"Origin": "http://example.com"}, true},
		{"origin case", "", false, "POST", "Example.COM", map[string]string{"Origin": "HTTP://example.com"}, true},
		{"origin other host", "", false, "POST", "example.com", map[string]string{"Origin": "http://evil.example"}, false},
		{"origin null", "", false, "POST", "example.com", map[string]string{"Origin": "null"}, false},
		{"origin with user info", "", false, "POST", "example.com", map[string]string{"Origin": "http://x@example.com"}, false},
		{"public https, origin https", "https://presession.example.org/", false, "POST", "127.0.0.1:8080",
			map[string]string{"Origin": "https://presession.example.org"}, true},
		{"public https, origin http", "https://presession.example.org", false, "POST", "presession.example.org",
			map[string]string{"Origin": "http://presession.example.org"}, false},
		{"public https, origin = request host only", "https://presession.example.org", false, "POST", "127.0.0.1:8080",
			map[string]string{"Origin": "http://127.0.0.1:8080"}, false},
		{"public with port 443", "https://presession.example.org:443", false, "POST", "x",
			map[string]string{"Origin": "https://presession.example.org"}, true},
		{"public other port", "https://presession.example.org:8443", false, "POST", "x",
			map[string]string{"Origin": "https://presession.example.org"}, false},
		{"public IPv6", "http://[::1]:8080", false, "POST", "x", map[string]string{"Origin": "http://[::1]:8080"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &web.Auth{PublicURL: tc.publicURL}
			r := httptest.NewRequest(tc.method, "http://"+tc.host+"/staff/logout", nil)
			r.Host = tc.host
			if !tc.tls {
				r.TLS = nil
			} else if r.TLS == nil {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if got := a.SameOrigin(r); got != tc.want {
				t.Errorf("SameOrigin = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCookiesSecure: every cookie the site sets is Secure when it is
// reached over https, by its own TLS or as its public URL says (behind a
// TLS proxy), and only then.
func TestCookiesSecure(t *testing.T) {
	sessions := staffSessions(t)
	for _, tc := range []struct {
		publicURL string
		tls       bool
		want      bool
	}{
		{"", false, false},
		{"", true, true},
		{"http://presession.example.org", false, false},
		{"https://presession.example.org", false, true},
		{"HTTPS://presession.example.org", false, true},
		{"https://presession.example.org", true, true},
	} {
		a := &web.Auth{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")), StaffToken: "staff-token-for-tests", PublicURL: tc.publicURL,
			Directory: sessions}
		r := httptest.NewRequest("POST", "/staff/login", nil)
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		rec := httptest.NewRecorder()
		if err := a.SignIn(rec, r, a.StaffToken); err != nil {
			t.Fatal(err)
		}
		a.SetViewerCookie(rec, r, "viewer-token", time.Now().Add(time.Hour))
		a.ClearStaffCookie(rec, r)
		cookies := rec.Result().Cookies()
		if len(cookies) != 3 {
			t.Fatalf("%d cookies", len(cookies))
		}
		for _, c := range cookies {
			if c.Secure != tc.want {
				t.Errorf("public URL %q, TLS %v: cookie %s Secure=%v, want %v", tc.publicURL, tc.tls, c.Name, c.Secure, tc.want)
			}
		}
	}
}

// TestStaffSessionEndsWithToken: changing the staff token ends the
// sessions that began with the old one, on a store both processes share.
func TestStaffSessionEndsWithToken(t *testing.T) {
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	dir := t.TempDir()
	signer := token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	old := &web.Auth{Signer: signer, StaffToken: "staff-token-for-tests", Directory: directory(t, rdb, dir, "staff-token-for-tests")}
	cookie := signIn(t, old)
	rotated := &web.Auth{Signer: signer, StaffToken: "another-staff-token-0123", Directory: directory(t, rdb, dir, "another-staff-token-0123")}
	// In this order: a node with the rotated token ends the session it
	// refuses, for every node.
	for _, tc := range []struct {
		name string
		a    *web.Auth
		want string
	}{{"same token", old, ""}, {"rotated token", rotated, presession.EUNAUTHORIZED}, {"same token after", old, presession.EUNAUTHORIZED}} {
		r := httptest.NewRequest("GET", "/api/v1/statements", nil)
		r.AddCookie(cookie)
		if got := presession.ErrorCode(tc.a.Principal(r).RequireStaff()); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestStaffSessionStoreDown: when the session store cannot be reached, a
// staff cookie is an internal error (logged, 500), not a sign-in prompt.
func TestStaffSessionStoreDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	a := &web.Auth{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")), StaffToken: "staff-token-for-tests",
		Directory: directory(t, rdb, t.TempDir(), "staff-token-for-tests")}
	r := httptest.NewRequest("GET", "/api/v1/statements", nil)
	r.AddCookie(&http.Cookie{Name: web.StaffCookie, Value: strings.Repeat("A", 43)})
	if got := presession.ErrorCode(a.Principal(r).RequireStaff()); got != presession.EINTERNAL {
		t.Errorf("RequireStaff with Redis down: %q, want %q", got, presession.EINTERNAL)
	}
}

// TestClientAddr believes X-Forwarded-For only from a trusted proxy, and
// only up to the first address that is not one.
func TestClientAddr(t *testing.T) {
	a := &web.Auth{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	for _, tc := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"192.0.2.1:5000", nil, "192.0.2.1"},
		{"192.0.2.1:5000", []string{"198.51.100.7"}, "192.0.2.1"}, // not from a proxy: its say does not count
		{"10.0.0.2:5000", nil, "10.0.0.2"},
		{"10.0.0.2:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"10.0.0.2:5000", []string{"203.0.113.9, 198.51.100.7"}, "198.51.100.7"}, // the client's own claim comes first
		{"10.0.0.2:5000", []string{"203.0.113.9, 198.51.100.7, 10.0.0.3"}, "198.51.100.7"},
		{"10.0.0.2:5000", []string{"203.0.113.9", "198.51.100.7, 10.1.1.1"}, "198.51.100.7"},
		{"10.0.0.2:5000", []string{"10.9.9.9, 10.0.0.3"}, "10.9.9.9"},
		{"10.0.0.2:5000", []string{"garbage, 10.0.0.3"}, "10.0.0.3"},
		{"[::1]:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"[::ffff:192.0.2.1]:5000", nil, "192.0.2.1"},
	} {
		r := httptest.NewRequest("POST", "/staff/login", nil)
		r.RemoteAddr = tc.remote
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := a.ClientAddr(r).String(); got != tc.want {
			t.Errorf("%s %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

// slowPost sends a request whose body of n bytes comes one byte per
// every, and returns what the server answered (status line and all) and
// when, measured from the first byte of the body.
func slowPost(t *testing.T, addr, path string, header map[string]string, n int, every time.Duration) (string, time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var req strings.Builder
	req.WriteString("POST " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Length: " + strconv.Itoa(n) + "\r\n")
	for k, v := range header {
		req.WriteString(k + ": " + v + "\r\n")
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	answered := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(conn) // until the server closes the connection
		answered <- string(b)
	}()
	for i := 0; i < n; i++ {
		select {
		case out := <-answered:
			return out, time.Since(start)
		case <-time.After(every):
		}
		if _, err := conn.Write([]byte("a")); err != nil {
			break // the server is done with us
		}
	}
	select {
	case out := <-answered:
		return out, time.Since(start)
	case <-time.After(10 * time.Second):
		t.Fatal("no answer 10 s after the whole body was sent")
	}
	return "", 0
}

// TestBodies: a body is cut at the deadline and at its size bound, which
// a route may raise; an exempt route (tus) is bounded by neither.
func TestBodies(t *testing.T) {
	var logs testenv.SyncBuffer
	s := newSite(t)
	mux := http.NewServeMux()
	read := func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				err = presession.Errorf(presession.ETOOLARGE, "too large")
			}
			s.Error(w, r, err)
			return
		}
		s.JSON(w, http.StatusOK, map[string]int{"read": len(b)})
	}
	mux.HandleFunc("POST /form", read)
	mux.HandleFunc("PUT /big/{id}", read)
	mux.HandleFunc("/files/", read)
	mux.HandleFunc("POST /work", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		select {
		case <-time.After(1500 * time.Millisecond):
		case <-r.Context().Done():
			t.Errorf("the request ended while its handler worked past the body's deadline: %v", r.Context().Err())
			return
		}
		w.Header().Set("Connection", "close")
		s.JSON(w, http.StatusOK, map[string]int{"read": len(b)})
	})
	bodies := web.Bodies{Timeout: time.Second, Max: 1000, Limits: map[string]int64{"PUT /big/{id}": 5000, "/files/": -1},
		Log: slog.New(slog.NewTextHandler(&logs, nil))}
	srv := httptest.NewServer(bodies.Handler(mux))
	t.Cleanup(srv.Close)

	send := func(method, path string, n int) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(strings.Repeat("x", n)))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, tc := range []struct {
		method, path string
		n, want      int
	}{
		{"POST", "/form", 1000, 200},
		{"POST", "/form", 1001, 413},
		{"PUT", "/big/1", 5000, 200},
		{"PUT", "/big/1", 5001, 413},
		{"PUT", "/files/abc", 100000, 200},
	} {
		if got, body := send(tc.method, tc.path, tc.n); got != tc.want {
			t.Errorf("%s %s with %d bytes: %d, want %d: %s", tc.method, tc.path, tc.n, got, tc.want, body)
		}
	}

	addr := strings.TrimPrefix(srv.URL, "http://")
	out, after := slowPost(t, addr, "/form?lang=fr", nil, 20, 200*time.Millisecond)
	if !strings.HasPrefix(out, "HTTP/1.1 408") || !strings.Contains(out, `"code":"timeout"`) || !strings.Contains(out, "en 1 secondes") {
		t.Errorf("slow body: %q", out)
	}
	if after < 900*time.Millisecond || after > 3*time.Second {
		t.Errorf("slow body answered %s after it began, want about the 1 s deadline", after)
	}
	if !strings.Contains(logs.String(), "request body too slow") || !strings.Contains(logs.String(), "path=/form") {
		t.Errorf("the cut is not logged: %s", logs.String())
	}
	// Once a body is in, the deadline no longer applies: a handler that
	// works past it keeps its request (the server watches the connection
	// for a hang-up once the body is read), and the connection serves the
	// next request.
	out, _ = slowPost(t, addr, "/work", nil, 3, 200*time.Millisecond)
	if !strings.HasPrefix(out, "HTTP/1.1 200") || !strings.Contains(out, `"read":3`) {
		t.Errorf("a body in time, then work past the deadline: %q", out)
	}
	// tus keeps its own network timeout: a slow PATCH is not cut here.
	out, _ = slowPost(t, addr, "/files/abc", map[string]string{"Connection": "close"}, 8, 200*time.Millisecond)
	if !strings.HasPrefix(out, "HTTP/1.1 200") || !strings.Contains(out, `"read":8`) {
		t.Errorf("slow tus body: %q", out)
	}
}

// TestPagePolicy: the pages may load media and send requests to the site
// itself, plus the storage's public origin for media and the public URL's
// origin for requests, and nowhere else.
func TestPagePolicy(t *testing.T) {
	for _, tc := range []struct {
		name, media, public string
		want                []string
	}{
		{"directory storage", "", "", []string{"media-src 'self' blob: data:;", "connect-src 'self';"}},
		{"S3 and a public URL", "http://localhost:9000", "https://presession.example.org/base",
			[]string{"media-src 'self' blob: data: http://localhost:9000;", "connect-src 'self' https://presession.example.org;"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSite(t)
			s.MediaOrigin, s.Auth.PublicURL = tc.media, tc.public
			srv := server(t, s)
			res, err := http.Get(srv.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			csp := res.Header.Get("Content-Security-Policy")
			for _, w := range append(tc.want, "default-src 'self';", "script-src 'self';", "frame-ancestors 'none';") {
				if !strings.Contains(csp, w) {
					t.Errorf("CSP lacks %q: %s", w, csp)
				}
			}
			for _, src := range strings.Fields(strings.ReplaceAll(csp, ";", " ")) {
				if src == "https:" || src == "http:" || src == "*" {
					t.Errorf("CSP allows any host (%s): %s", src, csp)
				}
			}
		})
	}
}
