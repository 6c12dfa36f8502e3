package media

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/uprinfo/presession/i18n"
)

// The logs in testdata/ffmpeg51 are the stderr of Plan.Args runs by
// ffmpeg 5.1 (Debian 12) on 12 s 320x180 clips (x264 ultrafast + AAC,
// faststart), machine paths replaced by /in and /out:
//
//	clean             the clip as made
//	damaged_middle    bytes 37.5%–62.5% overwritten with random bytes
//	damaged_most      bytes 10%–90% overwritten
//	damaged_no_audio  a clip without sound, bytes 45%–55% overwritten
//	source_cut        the clean clip read over HTTP from a server that
//	                  closes the connection half-way and then answers 503
//
// The damaged stretches' true times come from ffprobe's packet positions:
// the packets overlapping the overwritten bytes.
const (
	goldenInput = "/in/source.mp4"
	goldenURL   = "http://storage.example/uploads/st1?X-Amz-Signature=abc"
)

// replay feeds a captured ffmpeg log to a damageLog line by line, as Run
// does.
func replay(t *testing.T, name string, inputs ...string) *damageLog {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "ffmpeg51", name+".stderr.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, in := range inputs {
		args = append(args, "-i", in)
	}
	d := newDamageLog(args)
	sc := bufio.NewScanner(z)
	sc.Buffer(nil, 64<<10)
	for sc.Scan() {
		d.line(sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDamageFromLog(t *testing.T) {
	const duration = 12
	for _, tc := range []struct {
		name        string
		input       string
		from, to    float64 // the damaged stretch; from == to: none
		mostly      bool
		readFailure bool
	}{
		{name: "clean", input: goldenInput},
		{name: "damaged_middle", input: goldenInput, from: 4.416, to: 7.44},
		{name: "damaged_most", input: goldenInput, from: 1.12, to: 10.8, mostly: true},
		{name: "damaged_no_audio", input: goldenInput, from: 5.4, to: 6.6},
		{name: "source_cut", input: goldenURL, readFailure: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := replay(t, tc.name, tc.input)
			if got := d.readError != ""; got != tc.readFailure {
				t.Fatalf("read failure %q, want %v", d.readError, tc.readFailure)
			}
			if tc.readFailure {
				if !strings.HasPrefix(d.readError, goldenURL+": ") {
					t.Errorf("read failure line %q", d.readError)
				}
				return
			}
			dm := d.damage(duration)
			if tc.from == tc.to {
				if len(dm.Spans) != 0 || dm.Errors != 0 {
					t.Fatalf("a clean run has damage %+v", dm)
				}
				return
			}
			if len(dm.Spans) != 1 || dm.Errors == 0 {
				t.Fatalf("damage %+v, want one stretch", dm)
			}
			// The stretch covers the damaged packets, within a second each side.
			sp := dm.Spans[0]
			if sp.Start > tc.from || sp.Start < tc.from-1 || sp.End < tc.to || sp.End > tc.to+1 {
				t.Errorf("damaged %.2f–%.2f, want %.2f–%.2f within a second outside", sp.Start, sp.End, tc.from, tc.to)
			}
			if got := dm.Mostly(duration); got != tc.mostly {
				t.Errorf("mostly damaged = %v (%.2f s of %d)", got, dm.Seconds(), duration)
			}
		})
	}
}

func TestParseLogLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		want logLine
	}{
		{"[h264 @ 0x55c0615bd2c0] [error] error while decoding MB 32 19", logLine{"h264", "error", "error while decoding MB 32 19"}},
		{"[error] Error while decoding stream #0:1: Invalid data found when processing input", logLine{"", "error", "Error while decoding stream #0:1: Invalid data found when processing input"}},
		{"[swscaler @ 0x55c061b38480] [swscaler @ 0x55c061b45480] [warning] deprecated pixel format used", logLine{"swscaler", "warning", "deprecated pixel format used"}},
		{"[showinfo@clock @ 0x55b268e56c40] [info] n:   1 pts:     13 pts_time:0.52    pos:       -1", logLine{"showinfo@clock", "info", "n:   1 pts:     13 pts_time:0.52    pos:       -1"}},
		{"[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55df98f079c0] [error] stream 1, offset 0x825ec: partial file", logLine{"mov,mp4,m4a,3gp,3g2,mj2", "error", "stream 1, offset 0x825ec: partial file"}},
		{"[info]       vendor_id       : [0][0][0][0]", logLine{"", "info", "      vendor_id       : [0][0][0][0]"}},
		{"No such file or directory", logLine{"", "", "No such file or directory"}},
		{"[q] is not a level", logLine{"", "", "[q] is not a level"}},
	} {
		if got := parseLogLine(tc.line); got != tc.want {
			t.Errorf("parseLogLine(%q) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
}

// TestDamageLogPlacesErrors: an error lies between the clock lines around
// it; errors only of the plan's own encoders, muxers and filters, or of
// the network while it reconnects, are no damage.
func TestDamageLogPlacesErrors(t *testing.T) {
	clock := func(t float64) string {
		return fmt.Sprintf("[%s @ 0x1] [info] n: 1 pts: 1 pts_time:%g pos: -1 fmt:yuv420p", ClockFilter, t)
	}
	d := newDamageLog([]string{"-i", "/in/a.mp4"})
	for _, l := range []string{
		"[libx264 @ 0x2] [error] something of ours",
		"[http @ 0x3] [error] Stream ends prematurely at 532366, should be 1064732",
		"[Parsed_loudnorm_2 @ 0x4] [error] a filter",
		clock(0), clock(0.52), clock(1.04),
		"[h264 @ 0x5] [error] Invalid NAL unit size (1116062267 > 8723).",
		"[h264 @ 0x5] [warning] not an error",
		"[NULL @ 0x7] [error] missing picture in access unit with size 8727",
		clock(1.56), clock(9.2), clock(9.72),
		"[aac @ 0x6] [error] Reserved bit set.",
		clock(10.24), clock(20),
		"[error] Error while decoding stream #0:1: Invalid data found when processing input", // after the last clock: to the end
	} {
		d.line(l)
	}
	got := d.damage(30)
	want := []Span{{1.04, 1.56}, {9.72, 10.24}, {20, 30}}
	if !slices.Equal(got.Spans, want) || got.Errors != 4 {
		t.Fatalf("damage %+v, want %+v and 3 errors", got, want)
	}
	if d.readError != "" {
		t.Fatalf("read error %q", d.readError)
	}
	// A demuxer giving up on invalid data: the rest is damaged.
	d.line(clock(25))
	d.line("[error] /in/a.mp4: Invalid data found when processing input")
	if got := d.damage(40); d.readError != "" || got.Spans[len(got.Spans)-1] != (Span{20, 40}) {
		t.Fatalf("after invalid data: read error %q, damage %v", d.readError, got.Spans)
	}
	// The input failing to be read is no damage: the run failed.
	d.line("[error] /in/a.mp4: Input/output error")
	if d.readError != "/in/a.mp4: Input/output error" {
		t.Fatalf("read error %q", d.readError)
	}
}

func TestMergeSpans(t *testing.T) {
	got := merge([]Span{{20, 21}, {1, 2}, {3.5, 4}, {9, 9.5}, {-1, 0.5}, {29, 40}}, 3, 30)
	want := []Span{{0, 4}, {9, 9.5}, {20, 21}, {29, 30}}
	if !slices.Equal(got, want) {
		t.Fatalf("merge = %v, want %v", got, want)
	}
	// Scattered errors beyond maxSpans widen the gap until they fit,
	// still covering every one.
	d := &damageLog{}
	for i := range 400 {
		d.spans = append(d.spans, Span{float64(i) * 4, float64(i)*4 + 0.5})
	}
	dm := d.damage(1600)
	if len(dm.Spans) > maxSpans || dm.Spans[0].Start != 0 || dm.Spans[len(dm.Spans)-1].End != 399*4+0.5 {
		t.Fatalf("%d spans from %v to %v", len(dm.Spans), dm.Spans[0], dm.Spans[len(dm.Spans)-1])
	}
}

func TestDamageMissing(t *testing.T) {
	d := Damage{Spans: []Span{{10, 12}}}
	if got := d.Missing(59.6, 60); !slices.Equal(got.Spans, d.Spans) {
		t.Errorf("within the slack: %v", got.Spans)
	}
	got := d.Missing(40, 60)
	if want := []Span{{10, 12}, {40, 60}}; !slices.Equal(got.Spans, want) {
		t.Errorf("missing end: %v, want %v", got.Spans, want)
	}
	if got.Mostly(60) || !(Damage{}).Missing(25, 60).Mostly(60) {
		t.Error("Mostly: 22 s of 60 is not most, 35 s is")
	}
	if (Damage{Spans: []Span{{0, 30}}}).Mostly(60) {
		t.Error("exactly half is not most")
	}
}

// TestDamageMessages: the warning and the rejection name catalogue
// messages that take exactly their arguments, in every language, and the
// English message is the text word for word.
func TestDamageMessages(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	d := Damage{Spans: []Span{{24.3, 31.2}, {62, 65}}}
	text, msg := d.Warning()
	if want := "the picture or sound is damaged at 0:24–0:32, 1:02–1:05 (0:10 in all); watch those parts before approving the statement"; text != want {
		t.Errorf("warning %q\n   want %q", text, want)
	}
	rej := d.Rejection(14)
	if rej.Code != RejectDamaged || !strings.Contains(rej.Reason, "damaged for 0:10 of 0:14") || !strings.Contains(rej.Reason, "please") {
		t.Errorf("rejection %s %q", rej.Code, rej.Reason)
	}
	type message struct {
		key, text string
		args      []string
	}
	for _, m := range []message{{msg.Key, text, msg.Args}, {rej.Key, rej.Reason, rej.Args}} {
		for _, lang := range i18n.Languages {
			got, ok := b.Message(lang, m.key, m.args)
			if !ok {
				t.Errorf("%s %s: the message takes other arguments than %q", lang, m.key, m.args)
			}
			if lang == "en" && got != m.text {
				t.Errorf("%s: English message differs:\n  message %s\n  text    %s", m.key, got, m.text)
			}
		}
	}
	// Many stretches: the first few are named, the rest counted.
	var many Damage
	for i := range 10 {
		many.Spans = append(many.Spans, Span{float64(i * 10), float64(i*10) + 1})
	}
	if text, _ := many.Warning(); !strings.Contains(text, "0:50–0:51, … (0:10 in all)") {
		t.Errorf("warning for 10 stretches: %q", text)
	}
	if text, _ := (Damage{Spans: []Span{{7.2, 7.6}}}).Warning(); !strings.Contains(text, "at 0:07–0:08 (0:01 in all)") {
		t.Errorf("warning for a short stretch: %q", text)
	}
}

// TestReadLogTail: a failed run's stderr keeps warnings and errors, not
// the information lines or the clock, and no presigned signature.
func TestReadLogTail(t *testing.T) {
	log := strings.Join([]string{
		"[info] Input #0, mov,mp4,m4a,3gp,3g2,mj2, from '" + goldenURL + "':",
		fmt.Sprintf("[%s @ 0x1] [info] n: 0 pts: 0 pts_time:0 pos: -1", ClockFilter),
		"[http @ 0x2] [warning] Will reconnect at 532366 in 0 second(s), error=Input/output error.",
		"[error] " + goldenURL + ": Input/output error",
	}, "\n") + "\n"
	d := newDamageLog([]string{"-i", goldenURL})
	tb := &tailBuffer{max: stderrTail}
	readLog(strings.NewReader(log), d, newQualityLog(), tb)
	got := tb.String()
	want := "[http @ 0x2] [warning] Will reconnect at 532366 in 0 second(s), error=Input/output error.\n" +
		"[error] http://storage.example/uploads/st1?…: Input/output error"
	if got != want {
		t.Fatalf("tail:\n%s\nwant:\n%s", got, want)
	}
	if d.readError == "" {
		t.Fatal("the read failure went unnoticed")
	}
}

func TestClockUp(t *testing.T) {
	for in, want := range map[float64]string{0: "0:00", 0.2: "0:01", 7: "0:07", 7.0000001: "0:07", 59.5: "1:00", 3599.1: "1:00:00"} {
		if got := clockUp(in); got != want {
			t.Errorf("clockUp(%v) = %s, want %s", in, got, want)
		}
	}
}
