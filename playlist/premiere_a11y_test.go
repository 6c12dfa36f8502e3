package playlist

import (
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/a11y"
)

// TestPremiereWatchAccessible scans the watch page in each state of a
// premiere, in every interface language, with axe-core at 1280 and 390
// px: before it (Andorra: the countdown), during it (Croatia: the live
// stream with its indicator and "back to live") and after it (Bulgaria,
// nothing approved: the questions link).
func TestPremiereWatchAccessible(t *testing.T) {
	e := newEnv(t, nil)
	threeStatements(t, e)
	e.rebuild("upr36", "AD")
	// Three statements of the same (cached) clip: a premiere of 2 minutes,
	// still live when a loaded machine reaches its last scan.
	for _, id := range []string{"h1", "h2", "h3"} {
		e.cat.Put(genStatement(t, e.store, id, "HR", 40, clipLo))
	}
	e.rebuild("upr36", "HR")
	now := time.Now()
	e.h.WithSlots(&fixedSlots{slots: map[string]*presession.Slot{
		"upr36/AD": {Start: now.Add(time.Hour), Minutes: 30, QuestionsURL: "https://meet.example.org/ad"},
		"upr36/HR": {Start: now.Add(2 * time.Second).Truncate(time.Second), Minutes: 30, QuestionsURL: "https://meet.example.org/hr", Note: "Questions in English and French"},
		"upr36/BG": {Start: now.Add(-2 * time.Hour), Minutes: 30, QuestionsURL: "https://meet.example.org/bg"},
	}})
	key := e.viewer("upr36", "", time.Hour)
	time.Sleep(3 * time.Second) // Croatia's premiere has begun
	var pages []a11y.Page
	for _, l := range []string{"en", "fr", "es"} { // the live ones first, while the premiere runs
		pages = append(pages, a11y.Page{Name: "watch during the premiere " + l, URL: e.srv.URL + "/watch/upr36/HR?lang=" + l + "&key=" + key, WaitFor: "#live-bar:not([hidden])"})
	}
	for _, l := range []string{"en", "fr", "es"} {
		pages = append(pages,
			a11y.Page{Name: "watch before the premiere " + l, URL: e.srv.URL + "/watch/upr36/AD?lang=" + l + "&key=" + key, WaitFor: "#countdown:not([hidden])"},
			a11y.Page{Name: "watch after the premiere " + l, URL: e.srv.URL + "/watch/upr36/BG?lang=" + l + "&key=" + key, WaitFor: "#after:not([hidden])"})
	}
	for _, r := range a11y.Scan(t, pages...) {
		if r.Lang == "" {
			t.Errorf("%s: no lang attribute", r.Name)
		}
	}
}
