package drafts

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/media"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      float64
		cues     int
		key      string // of the refusal
	}{
		{name: "srt", in: "1\n00:00:01,000 --> 00:00:02,000\nHi\n\n2\n00:09:59,000 --> 00:10:30,000\nBye\n", max: 600, cues: 2},
		{name: "a cue ending past the limit is clamped later, not refused", in: "WEBVTT\n\n00:09:00.000 --> 00:11:00.000\nx\n", max: 600, cues: 1},
		{name: "a cue starting past the limit", in: "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na\n\n00:10:02.000 --> 00:10:03.000\nb\n", max: 600, key: "reject.caption.past_limit"},
		{name: "no limit", in: "WEBVTT\n\n02:00:00.000 --> 02:00:01.000\nx\n", cues: 1},
		{name: "syntax", in: "WEBVTT\n\n00:00:05.000 --> 00:00:04.000\nx\n", max: 600, key: "reject.caption.ends_first"},
		{name: "empty", in: "", max: 600, key: "reject.caption.empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := Check([]byte(tc.in), tc.max)
			var ce *media.CaptionError
			switch {
			case tc.key == "" && err != nil:
				t.Fatal(err)
			case tc.key == "" && n != tc.cues:
				t.Errorf("%d cues, want %d", n, tc.cues)
			case tc.key != "" && (!errors.As(err, &ce) || ce.Key != tc.key):
				t.Errorf("err %v, want a refusal %s", err, tc.key)
			}
		})
	}
}

// TestTrack: a usable draft makes the organisation's track, the same each
// time from the same file; an unusable one a placeholder saying why.
func TestTrack(t *testing.T) {
	st := &presession.Statement{ID: "0123456789abcdef", InvitationID: "inv7",
		Captions: []presession.Caption{{Language: "fr", Name: "Français (France)", Placeholder: true}}}
	at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	d := &Draft{Data: []byte("1\r\n00:00:01,000 --> 00:00:02,000\r\nBonjour\r\n\r\n2\r\n00:00:03,000 --> 00:00:09,000\r\nMerci\r\n"), At: at, ETag: "e1"}
	vtt, c := Track(st, "fr", "k.vtt", d, 5)
	want := presession.Caption{Language: "fr", Name: "Français (France)", Key: "k.vtt", Draft: true, UpdatedAt: at, UpdatedBy: "cso:inv7",
		History: []presession.CaptionChange{{At: at, By: "cso:inv7", Source: presession.CaptionFromDraft, Cues: 2}}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("track %+v\nwant  %+v", c, want)
	}
	if !strings.Contains(string(vtt), "00:00:03.000 --> 00:00:05.000\nMerci\n") {
		t.Errorf("vtt (the last cue clamped to the end):\n%s", vtt)
	}
	vtt2, c2 := Track(st, "fr", "k.vtt", d, 5)
	if string(vtt2) != string(vtt) || !reflect.DeepEqual(c2, c) {
		t.Error("the same draft made another track")
	}

	vtt, c = Track(st, "fr", "k.vtt", d, 1.5)
	if vtt != nil || !c.Placeholder || c.Draft || c.DraftRefusedKey != "reject.caption.after_end" ||
		!strings.Contains(c.DraftRefused, "line 6: the cue starts at 00:00:03.000, after the end of the video") {
		t.Errorf("unusable draft: %q %+v", vtt, c)
	}
	if !c.OpenToDraft() {
		t.Error("a placeholder is open to the next draft")
	}
}
