package media

import (
	"errors"
	"strings"
	"testing"
)

func TestPlaceholderVTT(t *testing.T) {
	for _, tc := range []struct{ lang, name, pending string }{
		{"en", "English", "Captions are being prepared"},
		{"fr", "Français", "Sous-titres en préparation"},
		{"es", "Español", "Subtítulos en preparación"},
		{"fr-CA", "Français", "Sous-titres en préparation"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			if got := LanguageName(tc.lang); got != tc.name {
				t.Errorf("LanguageName = %q", got)
			}
			vtt := PlaceholderVTT(tc.lang, 73.25, "Ana <Pérez>", "Droits & Libertés")
			// It must round-trip through our own parser, covering the whole duration.
			out, err := ParseCaptions(vtt, 73.25)
			if err != nil {
				t.Fatalf("%v\n%s", err, vtt)
			}
			s := string(out)
			for _, want := range []string{"WEBVTT\n" + TimestampMap + "\n", "00:00:00.000 --> 00:00:05.000\nAna &lt;Pérez&gt; — Droits &amp; Libertés\n", "00:00:05.000 --> 00:01:13.250\n" + tc.pending + "\n"} {
				if !strings.Contains(s, want) {
					t.Errorf("missing %q in\n%s", want, s)
				}
			}
		})
	}
}

func TestParseCaptions(t *testing.T) {
	srt := "\ufeff1\r\n00:00:01,000 --> 00:00:04,500\r\n<font color=\"red\">Hello</font> {\\an8}world\r\n\r\n2\r\n00:00:05,000 --> 00:00:07,000\r\nSecond line\r\nwraps\r\n"
	vtt := "WEBVTT - title\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\nNOTE hi\n\nintro\n00:01.000 --> 00:04.000 align:start\n<v Ana>Hola</v>\n\n00:00:04.000 --> 00:00:06.000\nDos\n"
	for _, tc := range []struct {
		name    string
		in      string
		max     float64
		want    string // substring of output
		errLine int    // >0: expected error line; -1: whole-file error
		errText string
	}{
		{name: "srt", in: srt, max: 10, want: "WEBVTT\n" + TimestampMap + "\n\n00:00:01.000 --> 00:00:04.500\nHello world\n\n00:00:05.000 --> 00:00:07.000\nSecond line\nwraps\n"},
		{name: "vtt", in: vtt, max: 10, want: "WEBVTT\n" + TimestampMap + "\n\nintro\n00:00:01.000 --> 00:00:04.000 align:start\n<v Ana>Hola</v>\n\n00:00:04.000 --> 00:00:06.000\nDos\n"},
		{name: "end before start", in: "1\n00:00:05,000 --> 00:00:04,000\nx\n", max: 10, errLine: 2, errText: "ends (00:00:04.000) before it starts"},
		{name: "past the end", in: "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na\n\n00:00:12.000 --> 00:00:13.000\nb\n", max: 10, errLine: 6, errText: "after the end of the video"},
		{name: "end clamped", in: "WEBVTT\n\n00:00:09.000 --> 00:00:10.900\na\n", max: 10, want: "00:00:09.000 --> 00:00:10.900"},
		{name: "start within the tolerance past the end", in: "WEBVTT\n\n00:00:10.500 --> 00:00:13.000\na\n", max: 10, want: "00:00:10.500 --> 00:00:11.000"},
		{name: "start at the tolerance's bound", in: "WEBVTT\n\n00:00:11.000 --> 00:00:13.000\na\n", max: 10, errLine: 3, errText: "after the end of the video"},
		{name: "out of order", in: "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\na\n\n00:00:01.000 --> 00:00:02.000\nb\n", max: 10, errLine: 6, errText: "time order"},
		{name: "small overlap sorted", in: "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\na\n\n00:00:04.800 --> 00:00:05.500\nb\n", max: 10, want: "00:00:04.800 --> 00:00:05.500\nb\n\n00:00:05.000"},
		{name: "garbage", in: "hello\nworld\n", max: 10, errLine: 1, errText: "expected a cue timing"},
		{name: "bad time", in: "WEBVTT\n\n00:00:xx --> 00:00:02.000\na\n", max: 10, errLine: 3, errText: "start time"},
		{name: "empty", in: "WEBVTT\n\n", max: 10, errLine: -1, errText: "no captions"},
		{name: "too big", in: "WEBVTT\n\n" + strings.Repeat("x", MaxCaptionBytes), max: 10, errLine: -1, errText: "at most 1024 KiB"},
		{name: "latin1", in: "1\n00:00:01,000 --> 00:00:02,000\n\xe9t\xe9\n", max: 10, errLine: -1, errText: "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := ParseCaptions([]byte(tc.in), tc.max)
			if tc.errLine == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(out), tc.want) {
					t.Errorf("output\n%s\nlacks\n%s", out, tc.want)
				}
				if n, want := CountCues(out), strings.Count(tc.in, "-->"); n != want {
					t.Errorf("CountCues = %d, want %d", n, want)
				}
				return
			}
			var ce *CaptionError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *CaptionError", err)
			}
			if (tc.errLine > 0 && ce.Line != tc.errLine) || (tc.errLine < 0 && ce.Line != 0) || !strings.Contains(ce.Error(), tc.errText) {
				t.Errorf("error %q (line %d), want line %d with %q", ce.Error(), ce.Line, tc.errLine, tc.errText)
			}
		})
	}
}

func TestWriteMasterAndSubtitlePlaylist(t *testing.T) {
	res := &Result{Rungs: []RungResult{
		{Name: "720p", Width: 1280, Height: 720, Bandwidth: 3100000, AverageBandwidth: 2900000, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 25, Playlist: "hls/720p/index.m3u8"},
		{Name: "360p", Width: 640, Height: 360, Bandwidth: 950000, AverageBandwidth: 900000, Codecs: "avc1.64001e,mp4a.40.2", FrameRate: 25, Playlist: "hls/360p/index.m3u8"},
	}}
	got := string(WriteMaster(res, []SubtitleTrack{
		{Language: "fr", URI: "captions/fr.m3u8", Default: true},
		{Language: "en", Name: "English", URI: "captions/en.m3u8"},
	}))
	want := `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS

#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="fr",NAME="Français",DEFAULT=YES,AUTOSELECT=YES,URI="captions/fr.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="en",NAME="English",DEFAULT=NO,AUTOSELECT=YES,URI="captions/en.m3u8"

#EXT-X-STREAM-INF:BANDWIDTH=3100000,AVERAGE-BANDWIDTH=2900000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000,SUBTITLES="subs"
hls/720p/index.m3u8

#EXT-X-STREAM-INF:BANDWIDTH=950000,AVERAGE-BANDWIDTH=900000,CODECS="avc1.64001e,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000,SUBTITLES="subs"
hls/360p/index.m3u8
`
	if got != want {
		t.Errorf("master:\n%s\nwant:\n%s", got, want)
	}
	if m := string(WriteMaster(res, nil)); strings.Contains(m, "SUBTITLES") {
		t.Errorf("master without captions mentions SUBTITLES:\n%s", m)
	}
	sub := string(WriteSubtitlePlaylist(73.25, "fr.vtt"))
	wantSub := "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:74\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:73.250,\nfr.vtt\n#EXT-X-ENDLIST\n"
	if sub != wantSub {
		t.Errorf("subtitle playlist:\n%s", sub)
	}
}
