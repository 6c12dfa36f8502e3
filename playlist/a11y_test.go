package playlist

import (
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/a11y"
)

// TestWatchAccessible scans the watch page (with statements and empty) in
// every interface language with axe-core, at desktop and phone width.
func TestWatchAccessible(t *testing.T) {
	e := newEnv(t, nil)
	threeStatements(t, e)
	e.rebuild("upr36", "AD")
	key := e.viewer("upr36", "", time.Hour)
	var pages []a11y.Page
	for _, l := range []string{"en", "fr", "es"} {
		pages = append(pages,
			a11y.Page{Name: "watch " + l, URL: e.srv.URL + "/watch/upr36/AD?lang=" + l + "&key=" + key},
			a11y.Page{Name: "watch empty " + l, URL: e.srv.URL + "/watch/upr36/MW?lang=" + l + "&key=" + key})
	}
	for _, r := range a11y.Scan(t, pages...) {
		if r.Lang == "" {
			t.Errorf("%s: no lang attribute", r.Name)
		}
	}
}
