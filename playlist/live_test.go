package playlist

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
)

var update = flag.Bool("update", false, "rewrite the golden files of the live playlists")

// livePremiere is a premiere of three statements (10 s, 7 s, 13 s) from
// 09:00 Geneva time on 5 October 2026.
func livePremiere(t *testing.T) *Premiere {
	t.Helper()
	a := fakeStatement("aaa", []float64{4, 4, 2}, r720, r360)
	b := fakeStatement("bbb", []float64{4, 3}, r360)
	c := fakeStatement("ccc", []float64{4, 4, 4, 1}, r720, r360)
	res, err := Build(Input{Session: testSession(), Country: testCountry(), Statements: []*presession.Statement{a, b, c},
		StartTimes: map[string]float64{"bbb": 1.4}})
	if err != nil {
		t.Fatal(err)
	}
	geneva, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPremiere(res, time.Date(2026, 10, 5, 9, 0, 0, 0, geneva))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPremiereGolden holds the live playlists at moments of the premiere
// against golden files (go test -run TestPremiereGolden -update rewrites
// them): before the start, at the start, mid-segment, on a statement
// boundary, and at and after the last segment.
func TestPremiereGolden(t *testing.T) {
	p := livePremiere(t)
	for _, tc := range []struct {
		name string
		file string
		at   float64 // seconds after the start
	}{
		{"before", "360p.m3u8", -30},
		{"start", "360p.m3u8", 0},
		{"mid-segment", "360p.m3u8", 5.5},
		{"second-statement", "360p.m3u8", 10},
		{"third-statement", "720p.m3u8", 17.2},
		{"last-segment", "720p.m3u8", 29},
		{"after", "720p.m3u8", 3600},
		{"subs-first", "subs/fr.m3u8", 1},
		{"subs-second", "subs/fr.m3u8", 10},
		{"subs-after", "subs/fr.m3u8", 31},
		{"master", "master.m3u8", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := p.File(tc.file, p.Start.Add(time.Duration(tc.at*float64(time.Second))))
			if !ok {
				t.Fatalf("no live %s", tc.file)
			}
			golden := filepath.Join("testdata", "live", tc.name+".m3u8")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("live %s at %+gs:\n%s\nwant (%s):\n%s", tc.file, tc.at, got, golden, want)
			}
		})
	}
}

// TestPremiereRules checks what the golden files show, as rules: segments
// are listed once their start has come, each with its program date-time,
// in the build's order with its discontinuities and maps; EVENT, never
// VOD; EXT-X-ENDLIST exactly once every segment is listed.
func TestPremiereRules(t *testing.T) {
	p := livePremiere(t)
	vod := func(name string) []string {
		var uris []string
		for _, l := range strings.Split(p.files[name].body, "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				uris = append(uris, l)
			}
		}
		return uris
	}
	all := vod("360p.m3u8")
	if len(all) != 3+2+4 {
		t.Fatalf("360p lists %d segments, want 9", len(all))
	}
	starts := []float64{0, 4, 8, 10, 14, 17, 21, 25, 29}
	for at := -1.0; at <= 31; at += 0.5 {
		text, _ := p.File("360p.m3u8", p.Start.Add(time.Duration(at*float64(time.Second))))
		want := 0
		for _, s := range starts {
			if s <= at {
				want++
			}
		}
		var uris, pdts []string
		for _, l := range strings.Split(text, "\n") {
			switch {
			case strings.HasPrefix(l, "#EXT-X-PROGRAM-DATE-TIME:"):
				pdts = append(pdts, strings.TrimPrefix(l, "#EXT-X-PROGRAM-DATE-TIME:"))
			case l != "" && !strings.HasPrefix(l, "#"):
				uris = append(uris, l)
			}
		}
		if len(uris) != want || len(pdts) != want {
			t.Fatalf("at %+gs: %d segments and %d date-times, want %d:\n%s", at, len(uris), len(pdts), want, text)
		}
		for i := range uris {
			if uris[i] != all[i] {
				t.Fatalf("at %+gs: segment %d is %s, want %s", at, i, uris[i], all[i])
			}
			if wantPDT := ProgramDateTime(p.Start, starts[i]); pdts[i] != wantPDT {
				t.Fatalf("at %+gs: segment %d dated %s, want %s", at, i, pdts[i], wantPDT)
			}
		}
		if strings.Contains(text, "PLAYLIST-TYPE:VOD") || !strings.Contains(text, "#EXT-X-PLAYLIST-TYPE:EVENT\n") {
			t.Fatalf("at %+gs: not an event playlist:\n%s", at, text)
		}
		if ended := strings.Contains(text, "#EXT-X-ENDLIST"); ended != (want == len(all)) || ended != p.Ended(p.Start.Add(time.Duration(at*float64(time.Second)))) {
			t.Fatalf("at %+gs: ENDLIST %v with %d of %d segments listed", at, ended, want, len(all))
		}
	}
	if got := ProgramDateTime(p.Start, 0); got != "2026-10-05T07:00:00.000Z" {
		t.Errorf("the start, 09:00 in Geneva in summer time, is dated %s", got)
	}
}

func TestPremiereCurrent(t *testing.T) {
	p := livePremiere(t)
	for _, tc := range []struct {
		at float64
		id string
	}{{-1, ""}, {0, "aaa"}, {9.9, "aaa"}, {10, "bbb"}, {16.9, "bbb"}, {17, "ccc"}, {29.9, "ccc"}, {30, ""}} {
		it, _, ok := p.Current(p.Start.Add(time.Duration(tc.at * float64(time.Second))))
		if (tc.id == "") == ok || it.ID != tc.id {
			t.Errorf("at %+gs on air %q (%v), want %q", tc.at, it.ID, ok, tc.id)
		}
	}
}

func TestPremiereEmpty(t *testing.T) {
	res, err := Build(Input{Session: testSession(), Country: testCountry()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewPremiere(res, time.Now()); presession.ErrorCode(err) != presession.EINVALID {
		t.Fatalf("premiere of nothing: %v, want EINVALID", err)
	}
}

// BenchmarkPremiereFile is the cost of one request for a live media
// playlist of 50 statements of 60 s (2 s segments): the clock and the cut.
func BenchmarkPremiereFile(b *testing.B) {
	segs := make([]float64, 30)
	for i := range segs {
		segs[i] = 2
	}
	var list []*presession.Statement
	for i := range 50 {
		list = append(list, fakeStatement("s"+strings.Repeat("x", 3)+string(rune('a'+i%26))+string(rune('a'+i/26)), segs, r720, r360))
	}
	res, err := Build(Input{Session: testSession(), Country: testCountry(), Statements: list})
	if err != nil {
		b.Fatal(err)
	}
	p, err := NewPremiere(res, time.Now().Add(-25*time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := p.File("720p.m3u8", time.Now()); !ok {
			b.Fatal("no 720p")
		}
	}
}
