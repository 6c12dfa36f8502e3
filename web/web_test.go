package web_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/a11y"
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

func TestAuth(t *testing.T) {
	s := newSite(t)
	a := s.Auth
	cookieRec := httptest.NewRecorder()
	a.SetStaffCookie(cookieRec, httptest.NewRequest("POST", "/staff/login", nil))
	cookie := cookieRec.Result().Cookies()[0]
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
			if got := presession.ErrorCode(a.Staff(r)); got != tc.want {
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
