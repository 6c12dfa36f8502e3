package playlist

import (
	"strings"
	"testing"
	"time"
)

// TestPremiereSubtitlesEarly: a live subtitle playlist lists each
// statement's subtitle segment one target duration of its own before the
// statement starts, so that a player reloading it every target duration
// (up to a statement's length) has the captions when the statement
// begins; its dates stay the statements' starts, and it ends once every
// segment is listed. Media playlists keep to the clock (TestPremiereRules).
func TestPremiereSubtitlesEarly(t *testing.T) {
	p := livePremiere(t)
	const target = 13 // the longest statement
	starts := []float64{0, 10, 17}
	for at := -20.0; at <= 31; at += 0.5 {
		text, _ := p.File("subs/fr.m3u8", p.Start.Add(time.Duration(at*float64(time.Second))))
		want := 0
		for _, s := range starts {
			if s <= at+target {
				want++
			}
		}
		var n int
		var pdts []string
		for _, l := range strings.Split(text, "\n") {
			switch {
			case strings.HasPrefix(l, "#EXT-X-PROGRAM-DATE-TIME:"):
				pdts = append(pdts, strings.TrimPrefix(l, "#EXT-X-PROGRAM-DATE-TIME:"))
			case l != "" && !strings.HasPrefix(l, "#"):
				n++
			}
		}
		if n != want {
			t.Fatalf("at %+gs: %d subtitle segments, want %d:\n%s", at, n, want, text)
		}
		for i, d := range pdts {
			if d != ProgramDateTime(p.Start, starts[i]) {
				t.Fatalf("at %+gs: subtitle segment %d dated %s, want its statement's start", at, i, d)
			}
		}
		if ended := strings.Contains(text, "#EXT-X-ENDLIST"); ended != (want == len(starts)) {
			t.Fatalf("at %+gs: ENDLIST %v with %d of %d listed", at, ended, want, len(starts))
		}
	}
}
