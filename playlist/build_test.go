package playlist

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
)

type rungSpec struct {
	name          string
	w, h, bw, avg int
	codecs        string
	fps           float64
}

var (
	r1080 = rungSpec{"1080p", 1920, 1080, 5000000, 4500000, "avc1.640028,mp4a.40.2", 25}
	r720  = rungSpec{"720p", 1280, 720, 2800000, 2500000, "avc1.64001f,mp4a.40.2", 25}
	r360  = rungSpec{"360p", 640, 360, 800000, 700000, "avc1.64001e,mp4a.40.2", 25}
)

func testSession() *presession.Session {
	return &presession.Session{ID: "upr36", Title: "UPR Pre-session 36", Review: "36th UPR Working Group session",
		Languages: []string{"en", "fr", "es"}}
}

func testCountry() presession.Country { return presession.Country{Code: "AD", Name: "Andorra"} }

// fakeStatement returns an approved statement whose renditions have the
// given segment durations.
func fakeStatement(id string, segs []float64, rungs ...rungSpec) *presession.Statement {
	base := "statements/" + id + "/"
	m := &presession.Media{Master: base + "hls/master.m3u8", MP4: base + "download.mp4", MP4Size: 12345,
		Poster: base + "poster.jpg", Thumbnail: base + "thumb.jpg"}
	for _, d := range segs {
		m.Duration += d
	}
	for _, r := range rungs {
		rd := presession.Rendition{Name: r.name, Width: r.w, Height: r.h, Bandwidth: r.bw, AverageBandwidth: r.avg,
			Codecs: r.codecs, FrameRate: r.fps, Playlist: base + "hls/" + r.name + "/index.m3u8", Init: base + "hls/" + r.name + "/init.mp4"}
		for i, d := range segs {
			rd.Segments = append(rd.Segments, presession.Segment{Key: fmt.Sprintf("%shls/%s/seg_%05d.m4s", base, r.name, i), Duration: d})
			rd.TargetDuration = max(rd.TargetDuration, int(math.Round(d)))
		}
		m.Renditions = append(m.Renditions, rd)
	}
	s := &presession.Statement{ID: id, Session: "upr36", Country: "AD", Organisation: "Org " + id, Title: "Title " + id,
		Speaker: "Speaker " + id, Language: "en", Status: presession.StatusApproved, Media: m}
	for _, l := range []string{"en", "fr", "es"} {
		s.Captions = append(s.Captions, presession.Caption{Language: l, Name: presession.LanguageName(l),
			Key: base + "captions/" + l + ".vtt", Placeholder: l != "en"})
	}
	return s
}

// checkResult validates every playlist of r and their consistency.
func checkResult(t *testing.T, r *Result, n int) {
	t.Helper()
	if n == 0 {
		if len(r.Files) != 0 {
			t.Fatalf("empty build has files %v", r.Files)
		}
		return
	}
	m, err := checkMaster(r.Files["master.m3u8"])
	if err != nil {
		t.Fatalf("master: %v\n%s", err, r.Files["master.m3u8"])
	}
	var discs []string
	for _, v := range m.variants {
		name, _, _ := strings.Cut(v.uri, "?")
		text, ok := r.Files[name]
		if !ok {
			t.Fatalf("master lists %s, which the build lacks", v.uri)
		}
		info, err := checkMedia(text)
		if err != nil {
			t.Fatalf("%s: %v\n%s", v.uri, err, text)
		}
		if len(info.discontinuities) != n-1 || len(info.maps) != n {
			t.Errorf("%s: %d discontinuities and %d maps for %d statements", v.uri, len(info.discontinuities), len(info.maps), n)
		}
		var bounds []string
		for _, d := range info.discontinuities {
			bounds = append(bounds, stmtOf(info.segments[d].uri))
		}
		if discs == nil {
			discs = bounds
		} else if !slices.Equal(discs, bounds) {
			t.Errorf("%s: discontinuities before %v, other rungs %v", v.uri, bounds, discs)
		}
		var ids []string
		for _, s := range info.segments {
			if id := stmtOf(s.uri); len(ids) == 0 || ids[len(ids)-1] != id {
				ids = append(ids, id)
			}
			if stmtOf(s.mapURI) != stmtOf(s.uri) {
				t.Errorf("%s: segment %s under the map %s of another statement", v.uri, s.uri, s.mapURI)
			}
		}
		if len(ids) != n {
			t.Errorf("%s: statements %v, want %d in a row", v.uri, ids, n)
		}
	}
	subs := 0
	for _, md := range m.media {
		if unquote(md["TYPE"]) != "SUBTITLES" && md["TYPE"] != "SUBTITLES" {
			continue
		}
		subs++
		uri, _, _ := strings.Cut(unquote(md["URI"]), "?")
		info, err := checkMedia(r.Files[uri])
		if err != nil {
			t.Fatalf("%s: %v\n%s", uri, err, r.Files[uri])
		}
		if len(info.segments) != n || len(info.discontinuities) != n-1 {
			t.Errorf("%s: %d segments, %d discontinuities for %d statements", uri, len(info.segments), len(info.discontinuities), n)
		}
		for i, s := range info.segments {
			it := r.Playlist.Statements[i]
			if math.Abs(s.duration-it.Duration) > 1e-6 {
				t.Errorf("%s: segment %d lasts %g, statement %g", uri, i, s.duration, it.Duration)
			}
		}
	}
	if subs != len(r.Playlist.Languages) {
		t.Errorf("%d subtitle renditions, %d languages", subs, len(r.Playlist.Languages))
	}
}

// stmtOf returns the statement id in a /media/{id}/ URI.
func stmtOf(uri string) string {
	rest, ok := strings.CutPrefix(uri, "/media/")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "/")
	return id
}

func TestBuildStitches(t *testing.T) {
	a := fakeStatement("aaa", []float64{6, 6, 3.52}, r1080, r720, r360)
	// A 480p source: no 1080p, no 720p; a lower avc level.
	b := fakeStatement("bbb", []float64{6.006, 6.5, 1}, r360)
	b.Media.Renditions[0].Codecs = "avc1.42c01e,mp4a.40.2"
	b.Media.Renditions[0].Bandwidth = 900000
	c := fakeStatement("ccc", []float64{6, 2}, r1080, r720, r360)
	c.Media.Renditions[0].FrameRate = 30
	in := Input{Session: testSession(), Country: testCountry(), Statements: []*presession.Statement{a, b, c},
		StartTimes: map[string]float64{"bbb": 1.4}}
	r, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r, 3)

	m, _ := checkMaster(r.Files["master.m3u8"])
	var uris []string
	for _, v := range m.variants {
		uris = append(uris, v.uri)
	}
	if want := []string{"1080p.m3u8", "720p.m3u8", "360p.m3u8"}; !slices.Equal(uris, want) {
		t.Fatalf("variants %v, want %v", uris, want)
	}
	v := m.variants[0].attrs
	// Statement b stands in 1080p with its 360p at 900 kb/s; a and c
	// have 5 Mb/s there.
	want := map[string]string{"BANDWIDTH": "5000000", "RESOLUTION": "1920x1080", "FRAME-RATE": "30.000",
		"CODECS": `"avc1.640028,mp4a.40.2"`, "SUBTITLES": `"subs"`, "CLOSED-CAPTIONS": "NONE"}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("1080p %s = %s, want %s", k, v[k], w)
		}
	}
	// Duration-weighted average: a 15.52 s at 4.5M, b 13.506 s at 0.7M, c 8 s at 4.5M.
	avg := (15.52*4500000 + 13.506*700000 + 8*4500000) / (15.52 + 13.506 + 8)
	if v["AVERAGE-BANDWIDTH"] != fmt.Sprint(int64(math.Ceil(avg))) {
		t.Errorf("AVERAGE-BANDWIDTH %s, want %d", v["AVERAGE-BANDWIDTH"], int64(math.Ceil(avg)))
	}
	v360 := m.variants[2].attrs
	if v360["BANDWIDTH"] != "900000" || v360["CODECS"] != `"avc1.64001e,mp4a.40.2"` || v360["RESOLUTION"] != "640x360" {
		t.Errorf("360p attributes %v", v360)
	}
	// b's 360p stands in 1080p and 720p.
	for _, name := range []string{"1080p.m3u8", "720p.m3u8"} {
		info, _ := checkMedia(r.Files[name])
		if got := info.maps[1]; got != "/media/bbb/hls/360p/init.mp4" {
			t.Errorf("%s: map of b is %s", name, got)
		}
		// 6.5 rounds to 7 (RFC 8216: nearest integer).
		if info.target != 7 {
			t.Errorf("%s: target duration %d, want 7", name, info.target)
		}
	}
	info, _ := checkMedia(r.Files["1080p.m3u8"])
	if got := info.segments[0].uri; got != "/media/aaa/hls/1080p/seg_00000.m4s" {
		t.Errorf("first segment %s", got)
	}
	// Subtitles.
	if !strings.Contains(r.Files["master.m3u8"], `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="fr",NAME="Français",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI="subs/fr.m3u8"`) {
		t.Errorf("master lacks the French subtitles:\n%s", r.Files["master.m3u8"])
	}
	sub, _ := checkMedia(r.Files["subs/fr.m3u8"])
	if sub.segments[1].uri != "fr/bbb.vtt" || sub.target != 16 {
		t.Errorf("fr subtitles: %+v", sub)
	}
	// Cue time 0 is the statement's own media start (1.4 s) at its place
	// in the stream, where its shifted segments put it.
	var bbbStart float64
	for _, it := range r.Playlist.Statements {
		if it.ID == "bbb" {
			bbbStart = it.Start
		}
	}
	if c := r.Cues["fr/bbb"]; bbbStart == 0 || c.MPEGTS != 126000+int64(math.Round(bbbStart*90000)) || c.Key != "statements/bbb/captions/fr.vtt" || !c.Placeholder {
		t.Errorf("cue source %+v", c)
	}
	// JSON playlist.
	p := r.Playlist
	if p.Duration != 37.026 || len(p.Statements) != 3 || p.HLS != "/playlists/upr36/AD/master.m3u8" {
		t.Errorf("playlist %+v", p)
	}
	wantStarts := []float64{0, 15.52, 29.026}
	for i, it := range p.Statements {
		if it.Start != wantStarts[i] {
			t.Errorf("statement %d starts at %g, want %g", i, it.Start, wantStarts[i])
		}
	}
	it := p.Statements[1]
	if it.MP4 != "/media/bbb/download.mp4" || it.Poster != "/media/bbb/poster.jpg" || it.HLS != "/media/bbb/hls/master.m3u8" ||
		len(it.Captions) != 3 || it.Captions[1].URL != "/media/bbb/captions/fr.vtt" || it.Organisation != "Org bbb" {
		t.Errorf("item %+v", it)
	}
	if p.Country.Name != "Andorra" || p.Session.Title != "UPR Pre-session 36" || len(p.Languages) != 3 || p.Languages[2].Name != "Español" {
		t.Errorf("playlist info %+v %+v %+v", p.Session, p.Country, p.Languages)
	}
}

func TestBuildEmpty(t *testing.T) {
	failed := fakeStatement("fff", []float64{6}, r360)
	failed.Status = presession.StatusRejected
	r, err := Build(Input{Session: testSession(), Country: testCountry(), Statements: []*presession.Statement{failed}})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r, 0)
	b, _ := json.Marshal(r.Playlist)
	var doc map[string]any
	json.Unmarshal(b, &doc)
	if st, ok := doc["statements"].([]any); !ok || len(st) != 0 || doc["duration"] != 0.0 || doc["hls"] != nil {
		t.Errorf("empty playlist JSON: %s", b)
	}
	if len(r.Skipped) != 1 || r.Skipped[0].ID != "fff" {
		t.Errorf("skipped %v", r.Skipped)
	}
}

func TestBuildSkips(t *testing.T) {
	ok := fakeStatement("ok", []float64{4}, r360)
	other := fakeStatement("other", []float64{4}, r360)
	other.Country = "BG"
	nomedia := fakeStatement("nomedia", []float64{4}, r360)
	nomedia.Media = nil
	nosegs := fakeStatement("nosegs", nil, r360)
	r, err := Build(Input{Session: testSession(), Country: testCountry(), Statements: []*presession.Statement{ok, other, nomedia, nosegs, ok}})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, r, 1)
	var ids []string
	for _, s := range r.Skipped {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []string{"other", "nomedia", "nosegs", "ok"}) {
		t.Errorf("skipped %v", r.Skipped)
	}
}

func TestBuildDeterministic(t *testing.T) {
	mk := func(order ...string) *Result {
		var list []*presession.Statement
		for _, id := range order {
			list = append(list, fakeStatement(id, []float64{6, 5}, r720, r360))
		}
		r, err := Build(Input{Session: testSession(), Country: testCountry(), Statements: list})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := mk("x", "y"), mk("x", "y"), mk("y", "x")
	ea, _ := json.Marshal(a)
	eb, _ := json.Marshal(b)
	if string(ea) != string(eb) || a.Version != b.Version {
		t.Error("same input gave different builds")
	}
	if a.Version == c.Version {
		t.Error("reordering kept the version")
	}
}

func TestWithKey(t *testing.T) {
	r, err := Build(Input{Session: testSession(), Country: testCountry(),
		Statements: []*presession.Statement{fakeStatement("a", []float64{6}, r720, r360), fakeStatement("b", []float64{3}, r360)}})
	if err != nil {
		t.Fatal(err)
	}
	const key = "abc.DEF_-"
	keyed := &Result{Files: map[string]string{}, Playlist: r.Playlist.WithKey(key)}
	for name, text := range r.Files {
		keyed.Files[name] = WithKey(text, key)
	}
	checkResult(t, keyed, 2)
	for name, text := range keyed.Files {
		for _, l := range strings.Split(text, "\n") {
			if l != "" && !strings.HasPrefix(l, "#") && !strings.HasSuffix(l, "?key="+key) && !strings.HasSuffix(l, "&key="+key) {
				t.Errorf("%s: URI %q lacks the key", name, l)
			}
			if strings.Contains(l, `URI="`) && !strings.Contains(l, `?key=`+key+`"`) {
				t.Errorf("%s: %q lacks the key", name, l)
			}
		}
	}
	if got := keyed.Playlist.Statements[0].Captions[0].URL; got != "/media/a/captions/en.vtt?key="+key {
		t.Errorf("caption URL %s", got)
	}
	if r.Playlist.Statements[0].MP4 != "/media/a/download.mp4" {
		t.Error("WithKey changed the original")
	}
	if got := WithKey("#EXTM3U\nhttp://elsewhere/x.m4s\nx.m4s?v=1\n", "k"); got != "#EXTM3U\nhttp://elsewhere/x.m4s\nx.m4s?v=1&key=k\n" {
		t.Errorf("WithKey: %q", got)
	}
}

func TestMergeCodecs(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"avc1.64001f,mp4a.40.2", "avc1.64001f,mp4a.40.2"}, "avc1.64001f,mp4a.40.2"},
		{[]string{"avc1.64001f,mp4a.40.2", "avc1.640028,mp4a.40.2"}, "avc1.640028,mp4a.40.2"},
		{[]string{"avc1.42c01e,mp4a.40.2", "avc1.4d401f"}, "avc1.4d401f,mp4a.40.2"},
		{[]string{"avc1.64001f", "avc1.64001f,mp4a.40.2", "avc1.64001f,mp4a.40.5"}, "avc1.64001f,mp4a.40.2,mp4a.40.5"},
		{[]string{"", "hvc1.1.6.L93.B0"}, "hvc1.1.6.L93.B0"},
		{nil, ""},
	} {
		if got := MergeCodecs(tc.in...); got != tc.want {
			t.Errorf("MergeCodecs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
