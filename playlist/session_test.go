package playlist

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/a11y"
	"github.com/uprinfo/presession/token"
)

// TestSessionPage: a session-wide viewer link lands on the list of
// countries, each linking to its watch page with the key; a country link
// sees only its country; other credentials are refused.
func TestSessionPage(t *testing.T) {
	e := newEnv(t, nil)
	threeStatements(t, e)
	e.rebuild("upr36", "AD")
	all := e.viewer("upr36", "", time.Hour)
	bg := e.viewer("upr36", "BG", time.Hour)
	inv, _ := e.signer.SignInvitation(token.Invitation{Session: "upr36", Country: "AD", Organisation: "X"})
	expired := e.viewer("upr36", "", -time.Minute)

	r := e.get("/watch/upr36?lang=fr&key="+url.QueryEscape(all), "")
	if r.status != 200 || strings.Count(r.body, `href="/watch/upr36/`) != 14 {
		t.Fatalf("session-wide link: %d, %d country links\n%s", r.status, strings.Count(r.body, `href="/watch/upr36/`), r.body)
	}
	for _, want := range []string{"Andorre", `/watch/upr36/ad?key=` + url.QueryEscape(all), "3 déclarations", "aucune approuvée"} {
		if !strings.Contains(r.body, strings.ReplaceAll(want, "&", "&amp;")) {
			t.Errorf("missing %q", want)
		}
	}
	r = e.get("/watch/upr36?key="+url.QueryEscape(bg), "")
	if r.status != 200 || strings.Count(r.body, `href="/watch/upr36/`) != 1 || !strings.Contains(r.body, "/watch/upr36/bg?key=") {
		t.Fatalf("country link: %d\n%s", r.status, r.body)
	}
	if r := e.get("/watch/upr36", e.staff); r.status != 200 {
		t.Fatalf("staff: %d", r.status)
	}
	for name, tc := range map[string]struct {
		path, bearer string
		status       int
	}{
		"no credentials": {"/watch/upr36", "", 401},
		"expired":        {"/watch/upr36?key=" + url.QueryEscape(expired), "", 401},
		"invitation":     {"/watch/upr36", inv, 403},
		"unknown":        {"/watch/upr99?key=" + url.QueryEscape(all), "", 404},
	} {
		if r := e.get(tc.path, tc.bearer); r.status != tc.status {
			t.Errorf("%s: %d, want %d", name, r.status, tc.status)
		}
	}
	var pages []a11y.Page
	for _, l := range []string{"en", "fr", "es"} {
		pages = append(pages, a11y.Page{Name: "session " + l, URL: e.srv.URL + "/watch/upr36?lang=" + l + "&key=" + url.QueryEscape(all)})
	}
	a11y.Scan(t, pages...)
}
