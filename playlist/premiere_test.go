package playlist

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uprinfo/presession"
)

// fixedSlots is a programme that tests set: package programme's Store is
// tested against Redis and storage on its own.
type fixedSlots struct {
	mu    sync.Mutex
	slots map[string]*presession.Slot
}

func (f *fixedSlots) Slot(_ context.Context, session, country string) (*presession.Slot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.slots[session+"/"+strings.ToUpper(country)], nil
}

func liveStatus(t *testing.T, e *env, key string) LiveStatus {
	t.Helper()
	r := e.get("/playlists/upr36/ad/live.json?key="+key, "")
	if r.status != 200 {
		t.Fatalf("live.json: %d %s", r.status, r.body)
	}
	var st LiveStatus
	if err := json.Unmarshal([]byte(r.body), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestPremiereOverHTTP premieres Andorra's three statements from a slot a
// few seconds into the test: before the start the live playlists answer
// with when it starts; from the start ffmpeg reads the live stream over
// HTTP, polling, until EXT-X-ENDLIST, and decodes every frame of the
// stitched stream; a statement approved during the slot is not in the
// premiere, but is in the stitched stream afterwards.
func TestPremiereOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	threeStatements(t, e)
	e.rebuild("upr36", "AD")
	start := time.Now().Add(3 * time.Second).Truncate(time.Second)
	slots := &fixedSlots{slots: map[string]*presession.Slot{"upr36/AD": {Start: start, Minutes: 20, QuestionsURL: "https://meet.example.org/ad"}}}
	e.h.WithSlots(slots)
	key := e.viewer("upr36", "AD", time.Hour)

	if st := liveStatus(t, e, key); st.State != "scheduled" || !st.Start.Equal(start) || st.HLS != "" || st.QuestionsURL != "https://meet.example.org/ad" {
		t.Fatalf("before the start: state %s start %s hls %q", st.State, st.Start, st.HLS)
	}
	r := e.get("/playlists/upr36/ad/live/master.m3u8?key="+key, "", "Accept-Language", "fr")
	if r.status != 404 || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "commence à") {
		t.Fatalf("live master before the start: %d %q, Retry-After %q", r.status, r.body, r.header.Get("Retry-After"))
	}
	if r := e.get("/playlists/upr36/ad/live/master.m3u8", ""); r.status != 401 {
		t.Fatalf("live master without a key: %d", r.status)
	}
	if r := e.get("/playlists/upr36/hr/live/master.m3u8?key="+key, ""); r.status != 403 {
		t.Fatalf("Croatia's live master with Andorra's key: %d", r.status)
	}
	vodFrames := decodedFrames(t, e.srv.URL+"/playlists/upr36/AD/master.m3u8?key="+key)

	time.Sleep(time.Until(start))
	// A statement approved once the slot has started is left out.
	late := genStatement(t, e.store, "s4", "AD", 2, clipLo)
	e.cat.Put(late)
	e.rebuild("upr36", "AD")

	st := liveStatus(t, e, key)
	if st.State != "live" || len(st.Statements) != 3 || st.Current == nil || *st.Current != 0 || !strings.Contains(st.HLS, "/live/master.m3u8?key=") {
		t.Fatalf("at the start: state %s, %d statements, current %v, hls %q", st.State, len(st.Statements), st.Current, st.HLS)
	}
	cmd := exec.Command("ffmpeg", "-v", "error", "-live_start_index", "0", "-i", e.srv.URL+st.HLS, "-map", "0:v:0", "-f", "framecrc", "-")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ffmpeg on the live stream: %v", err)
	}
	frames := 0
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && l[0] != '#' {
			frames++
		}
	}
	if frames != vodFrames {
		t.Fatalf("ffmpeg decoded %d frames of the premiere, want the stitched stream's %d", frames, vodFrames)
	}
	if now := liveStatus(t, e, key); now.State != "live" && now.State != "ended" {
		t.Fatalf("once every segment is listed: %s", now.State)
	}
	time.Sleep(time.Until(start.Add(time.Duration(st.Duration * float64(time.Second)))))
	if st := liveStatus(t, e, key); st.State != "ended" || len(st.Statements) != 3 || st.Current != nil {
		t.Fatalf("after the last statement: state %s, %d statements, current %v", st.State, len(st.Statements), st.Current)
	}
	var doc Playlist
	if r := e.get("/playlists/upr36/ad.json?key="+key, ""); r.status != 200 || json.Unmarshal([]byte(r.body), &doc) != nil || len(doc.Statements) != 4 {
		t.Fatalf("the stitched stream after the premiere: %d statements, want 4", len(doc.Statements))
	}
	live := e.get("/playlists/upr36/ad/live/"+"360p.m3u8?key="+key, "")
	if live.status != 200 || strings.Contains(live.body, "/media/s4/") || !strings.Contains(live.body, "#EXT-X-ENDLIST") {
		t.Fatalf("the premiere's playlist after it ended: %d\n%s", live.status, live.body)
	}
	sub := e.get("/playlists/upr36/ad/live/subs/fr.m3u8?key="+key, "")
	if sub.status != 200 || !strings.Contains(sub.body, "#EXT-X-PROGRAM-DATE-TIME:") {
		t.Fatalf("live subtitles: %d\n%s", sub.status, sub.body)
	}
	if cue := e.get("/playlists/upr36/ad/live/subs/fr/s1.vtt?key="+key, ""); cue.status != 200 || !strings.HasPrefix(cue.body, "WEBVTT") {
		t.Fatalf("live subtitle segment: %d %q", cue.status, cue.body)
	}
}

// TestPremiereWithoutSlot: a country without a slot has no premiere.
func TestPremiereWithoutSlot(t *testing.T) {
	e := newEnv(t, nil)
	e.h.WithSlots(&fixedSlots{})
	key := e.viewer("upr36", "AD", time.Hour)
	if st := liveStatus(t, e, key); st.State != "none" {
		t.Fatalf("no slot: %+v", st)
	}
	if r := e.get("/playlists/upr36/ad/live/master.m3u8?key="+key, ""); r.status != 404 || !strings.Contains(r.body, "no slot") {
		t.Fatalf("live master without a slot: %d %s", r.status, r.body)
	}
}
