package playlist

import (
	"strings"
	"testing"

	"github.com/uprinfo/presession"
)

func TestSegmentVTT(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\n00:00.500 --> 00:02.000\nHi\n",
			"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n00:00.500 --> 00:02.000\nHi\n"},
		{"\ufeffWEBVTT - title\r\n\r\n00:00.500 --> 00:02.000\r\nHi\r\n",
			"WEBVTT - title\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n00:00.500 --> 00:02.000\nHi\n"},
		{"", "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n"},
		{"1\n00:00:01,000 --> 00:00:02,000\nSRT\n", "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n"},
	} {
		if got := SegmentVTT(tc.in, 126000); got != tc.want {
			t.Errorf("SegmentVTT(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestBuildCaptionTrack(t *testing.T) {
	a := fakeStatement("a", []float64{6, 4}, r360)
	b := fakeStatement("b", []float64{5}, r360)
	caps := map[string]string{
		"en/a": "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n\nNOTE hello\n\nc1\n00:00:00.500 --> 00:00:02.000 line:90%\nFirst <b>a</b>\n\n00:09.000 --> 00:12.000\nclipped\n\n00:11.000 --> 00:12.000\ndropped\n",
		"en/b": "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nSecond\ntwo lines\n",
	}
	r, err := Build(Input{Session: testSession(), Country: testCountry(), Statements: []*presession.Statement{a, b}, Captions: caps})
	if err != nil {
		t.Fatal(err)
	}
	want := "WEBVTT\n" +
		"\ns0-2\n00:00:00.500 --> 00:00:02.000 line:90%\nFirst <b>a</b>\n" +
		"\ns0-3\n00:00:09.000 --> 00:00:10.000\nclipped\n" +
		"\ns1-1\n00:00:11.000 --> 00:00:13.000\nSecond\ntwo lines\n"
	if got := r.Files["captions/en.vtt"]; got != want {
		t.Errorf("stitched track:\n%s\nwant:\n%s", got, want)
	}
	if got := r.Files["captions/fr.vtt"]; got != "WEBVTT\n" {
		t.Errorf("fr track without captions: %q", got)
	}
	if c := r.Cues["en/b"]; !strings.Contains(c.Text, "Second") {
		t.Errorf("cue source %+v", c)
	}
	if got := r.Playlist.Languages[0].VTT; got != "/playlists/upr36/AD/captions/en.vtt" {
		t.Errorf("track URL %s", got)
	}
}
