package playlist

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
)

// countingAudience remembers who asked for the live playlists.
type countingAudience struct {
	mu      sync.Mutex
	viewers map[string]bool
}

func (a *countingAudience) Seen(_ context.Context, session, country, viewer string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.viewers[session+"/"+country+"/"+viewer] = true
	return nil
}

// premiereFixture is Andorra with three statements (10, 8 and 10 s) and
// a slot starting lead from now.
func premiereFixture(t *testing.T, lead time.Duration) (*env, []*presession.Statement, time.Time) {
	t.Helper()
	e := newEnv(t, nil)
	list := []*presession.Statement{
		genStatement(t, e.store, "p1", "AD", 10, clipHi, clipLo),
		genStatement(t, e.store, "p2", "AD", 8, clipHi, clipLo),
		genStatement(t, e.store, "p3", "AD", 10, clipHi, clipLo),
	}
	for _, s := range list {
		e.cat.Put(s)
	}
	e.rebuild("upr36", "AD")
	start := time.Now().Add(lead).Truncate(time.Second)
	e.h.WithSlots(&fixedSlots{slots: map[string]*presession.Slot{"upr36/AD": {Start: start, Minutes: 20, QuestionsURL: "https://meet.example.org/andorra"}}})
	return e, list, start
}

// TestChromiumPremiere watches Andorra's premiere from its watch page in
// Chromium. A page playing with Chromium's own HLS (Media Source
// Extensions taken away, as on an iPhone), opened before the start,
// shows the countdown, then plays the live stream across the first
// boundary with the second statement announced and its captions on
// screen. Two pages playing with hls.js (the page's player wherever
// there is MSE) joining 15 s apart are within one segment of each other
// at the live edge by EXT-X-PROGRAM-DATE-TIME, show the statements'
// captions from the live subtitle group, bring a viewer who went back to
// the edge with "back to live", and end on the questions link and the
// recorded stream. Every viewer token asking for the live playlists is
// told to the audience.
func TestChromiumPremiere(t *testing.T) {
	chromium := testenv.Chromium(t)
	modules := testenv.NodeModules(t)
	e, list, start := premiereFixture(t, 7*time.Second)
	aud := &countingAudience{viewers: map[string]bool{}}
	e.h.WithAudience(aud)
	key := e.viewer("upr36", "AD", time.Hour)
	st := liveStatus(t, e, key)
	if st.State != "scheduled" {
		t.Fatalf("before the start: %+v", st)
	}
	type item struct {
		ID           string  `json:"id"`
		Title        string  `json:"title"`
		Organisation string  `json:"organisation"`
		Start        float64 `json:"start"`
		Duration     float64 `json:"duration"`
	}
	var items []item
	var doc Playlist
	if r := e.get("/playlists/upr36/ad.json?key="+key, ""); r.status != 200 || json.Unmarshal([]byte(r.body), &doc) != nil {
		t.Fatalf("playlist: %d", r.status)
	}
	for _, it := range doc.Statements {
		items = append(items, item{it.ID, it.Title, it.Organisation, it.Start, it.Duration})
	}
	spec, _ := json.Marshal(map[string]any{"url": e.srv.URL + "/watch/upr36/AD?lang=en&key=" + key, "start": start.Format(time.RFC3339Nano),
		"join": 15, "statements": items})
	cmd := exec.Command("node", filepath.Join(testenv.RepoRoot(t), "e2e", "premiere-watch.mjs"), string(spec), chromium, modules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res struct {
		OK     bool     `json:"ok"`
		Error  string   `json:"error"`
		Log    []string `json:"log"`
		Native string   `json:"native"`
		Apart  float64  `json:"apart"`
		Target float64  `json:"target"`
		Pages  map[string]struct {
			Cues []string `json:"cues"`
			Now  []string `json:"now"`
		} `json:"pages"`
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("node: %v %v\n%s\n%s", err, jerr, out, stderr.String())
	}
	for _, l := range res.Log {
		t.Log(l)
	}
	if !res.OK || err != nil {
		t.Fatalf("premiere in Chromium: %s (%v)\n%s", res.Error, err, stderr.String())
	}
	t.Logf("Chromium canPlayType(application/vnd.apple.mpegurl) = %q; hls.js players %.3f s apart (target duration %g s)", res.Native, res.Apart, res.Target)
	if res.Native == "" {
		t.Errorf("this Chromium has no native HLS (canPlayType is empty): the native page could not play the live stream")
	}
	if res.Target <= 0 || res.Apart > res.Target {
		t.Errorf("the two hls.js players joined 15 s apart are %.3f s apart at the live edge, more than one segment (%g s)", res.Apart, res.Target)
	}
	// What each page announced and captioned: the native page across the
	// first boundary, the first hls.js page through the whole premiere,
	// the second from where it joined (in the second statement).
	for _, tc := range []struct {
		page      string
		announced []int
		cue       int
	}{
		{"native", []int{1}, 1},
		{"hlsjs1", []int{1, 2}, 1},
		{"hlsjs2", []int{2}, 2},
	} {
		p, ok := res.Pages[tc.page]
		if !ok {
			t.Errorf("%s: no result", tc.page)
			continue
		}
		for _, i := range tc.announced {
			want := list[i].Title + " — " + list[i].Organisation
			if !slices.ContainsFunc(p.Now, func(s string) bool { return strings.Contains(s, want) }) {
				t.Errorf("%s: the statements on air were announced as %q, never %q", tc.page, p.Now, want)
			}
		}
		if !slices.Contains(p.Cues, "CAP-"+list[tc.cue].ID) {
			t.Errorf("%s: cues %q, want CAP-%s", tc.page, p.Cues, list[tc.cue].ID)
		}
	}
	aud.mu.Lock()
	n := len(aud.viewers)
	aud.mu.Unlock()
	if n != 1 {
		t.Errorf("audience: %d viewer tokens told, want the one all three pages used", n)
	}
}
