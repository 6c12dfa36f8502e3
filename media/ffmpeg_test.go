package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/testenv"
)

// process runs the whole chain the worker runs, on a local file.
func process(t *testing.T, src, out string, lim Limits) (*Info, Plan, *Result, []string) {
	t.Helper()
	ctx := context.Background()
	info, err := Probe(ctx, src)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	warnings, err := Validate(info, lim)
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	if err := CheckIntegrity(ctx, src, info); err != nil {
		t.Fatalf("integrity: %v", err)
	}
	plan, err := NewPlan(src, info, out, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.PrepareOutput(); err != nil {
		t.Fatal(err)
	}
	var last float64 = -1
	_, err = Run(ctx, plan.Args(), plan.Duration, func(p float64) {
		if p < last {
			t.Errorf("progress went back: %v after %v", p, last)
		}
		last = p
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if last != 100 {
		t.Errorf("last progress %v, want 100", last)
	}
	res, err := Collect(plan)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	return info, plan, res, warnings
}

// ffprobeJSON describes one of our own outputs (an HLS playlist, an MP4,
// a JPEG), which Probe, made for uploads, would refuse or restrict.
func ffprobeJSON(t *testing.T, path string) *Info {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	info, err := ParseProbe(out)
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	return info
}

func TestPipeline(t *testing.T) {
	testenv.FFmpeg(t)
	t.Parallel()
	dir := t.TempDir()
	const secs = 7.0
	rotated := func() string {
		// A phone clip: coded landscape with a 90° display rotation,
		// written by stream copy as phones do.
		plain := testenv.Clip(t, dir, "rot_src.mp4", "854x480", 4, true)
		out := filepath.Join(dir, "rotated.mp4")
		cmd := exec.Command("ffmpeg", "-v", "error", "-y", "-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("rotate: %v %s", err, b)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		src      func() string
		secs     float64
		rungs    []string
		portrait bool
		noAudio  bool
	}{
		{"landscape", func() string { return testenv.Clip(t, dir, "land.mp4", "854x480", secs, true) }, secs, []string{"480p", "360p"}, false, false},
		{"portrait", func() string { return testenv.Clip(t, dir, "port.mp4", "480x854", 4, true) }, 4, []string{"480p", "360p"}, true, false},
		{"rotated", rotated, 4, []string{"480p", "360p"}, true, false},
		{"no audio", func() string { return testenv.Clip(t, dir, "mute.mp4", "320x240", 3, false) }, 3, []string{"360p"}, false, true},
		{"webm", func() string {
			return testenv.Clip(t, dir, "clip.webm", "320x180", 3, true, "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-c:a", "libopus")
		}, 3, []string{"360p"}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src()
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(tc.name, " ", "_"))
			info, plan, res, warnings := process(t, src, out, DefaultLimits(600))
			if tc.noAudio != (len(warnings) > 0) {
				t.Errorf("warnings %q", warnings)
			}
			var names []string
			for _, r := range res.Rungs {
				names = append(names, r.Name)
				if tc.portrait != (r.Height > r.Width) {
					t.Errorf("rung %s is %dx%d", r.Name, r.Width, r.Height)
				}
				checkRung(t, out, r, info.Duration, plan.FrameRate)
			}
			if strings.Join(names, ",") != strings.Join(tc.rungs, ",") {
				t.Errorf("rungs %v, want %v", names, tc.rungs)
			}
			if math.Abs(res.Duration-tc.secs) > 1/plan.FrameRate+0.001 {
				t.Errorf("HLS duration %.3f, source %.3f", res.Duration, tc.secs)
			}

			// download.mp4: faststart, right size, audio present, full length.
			dl := filepath.Join(out, DownloadName)
			if !moovBeforeMdat(t, dl) {
				t.Error("download.mp4 is not faststart (mdat before moov)")
			}
			di := ffprobeJSON(t, dl)
			if di.Video == nil || di.Audio == nil || di.Audio.Channels != 2 || di.Audio.SampleRate != 48000 {
				t.Fatalf("download.mp4 streams: %+v", di)
			}
			if di.Video.Width != plan.Download.Width || di.Video.Height != plan.Download.Height || di.Video.Profile != "High" {
				t.Errorf("download.mp4 video %dx%d %s", di.Video.Width, di.Video.Height, di.Video.Profile)
			}
			if math.Abs(di.Video.Duration-tc.secs) > 1/plan.FrameRate+0.001 {
				t.Errorf("download.mp4 video %.3f s, source %.3f", di.Video.Duration, tc.secs)
			}

			// A keyframe every 2 s on the clock, and none in between.
			kf := keyframeTimes(t, dl)
			if want := int(math.Ceil(tc.secs / 2)); len(kf) != want {
				t.Errorf("download.mp4 keyframes at %v, want %d", kf, want)
			}
			for i, k := range kf {
				if math.Abs(k-kf[0]-float64(2*i)) > 1/plan.FrameRate+0.001 {
					t.Errorf("keyframe %d at %.3f", i, k)
				}
			}

			for _, f := range []File{res.Poster, res.Thumb, *res.Storyboard} {
				fi := ffprobeJSON(t, filepath.Join(out, f.Name))
				if fi.Video == nil || fi.Video.Width != f.Width || fi.Video.Height != f.Height {
					t.Errorf("%s: %+v, want %dx%d", f.Name, fi.Video, f.Width, f.Height)
				}
			}

			// The master with caption tracks, read back by ffprobe.
			var subs []SubtitleTrack
			for i, lang := range []string{"en", "fr"} {
				os.MkdirAll(filepath.Join(out, "captions"), 0o755)
				os.WriteFile(filepath.Join(out, "captions", lang+".vtt"), PlaceholderVTT(lang, res.Duration, "Ana", "Org"), 0o644)
				os.WriteFile(filepath.Join(out, "captions", lang+".m3u8"), WriteSubtitlePlaylist(res.Duration, lang+".vtt"), 0o644)
				subs = append(subs, SubtitleTrack{Language: lang, URI: "captions/" + lang + ".m3u8", Default: i == 0})
			}
			master := filepath.Join(out, "master.m3u8")
			os.WriteFile(master, WriteMaster(res, subs), 0o644)
			mi := ffprobeJSON(t, master)
			if mi.Video == nil || mi.Audio == nil || mi.Audio.Codec != "aac" || mi.Video.Codec != "h264" {
				t.Errorf("master probes as %+v", mi)
			}
			if math.Abs(mi.Duration-tc.secs) > 0.2 {
				t.Errorf("master duration %.3f", mi.Duration)
			}

			// Collect is repeatable (init already renamed).
			if again, err := Collect(plan); err != nil || len(again.Rungs) != len(res.Rungs) {
				t.Errorf("second Collect: %v", err)
			}
		})
	}
}

// checkRung checks one rung's files against its description.
func checkRung(t *testing.T, out string, r RungResult, dur, fps float64) {
	t.Helper()
	dir := filepath.Join(out, HLSDir, r.Name)
	pl, err := os.ReadFile(filepath.Join(dir, PlaylistName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS", `#EXT-X-MAP:URI="init.mp4"`, "#EXT-X-ENDLIST", "#EXT-X-TARGETDURATION:"} {
		if !bytes.Contains(pl, []byte(want)) {
			t.Errorf("%s playlist lacks %s:\n%s", r.Name, want, pl)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, InitName)); err != nil {
		t.Error(err)
	}
	for i, s := range r.Segments {
		if s.URI != "seg_0000"+string(rune('0'+i))+".m4s" && i < 10 {
			t.Errorf("segment %d named %s", i, s.URI)
		}
		if i < len(r.Segments)-1 && math.Abs(s.Duration-6) > 0.001 {
			t.Errorf("%s segment %d lasts %.3f s, want 6", r.Name, i, s.Duration)
		}
	}
	if !strings.HasPrefix(r.Codecs, "avc1.64") || !strings.HasSuffix(r.Codecs, ",mp4a.40.2") {
		t.Errorf("codecs %s", r.Codecs)
	}
	if r.Bandwidth < r.AverageBandwidth || r.AverageBandwidth <= 0 {
		t.Errorf("bandwidth %d average %d", r.Bandwidth, r.AverageBandwidth)
	}
	// The rung plays on its own: ffprobe the media playlist.
	ri := ffprobeJSON(t, filepath.Join(dir, PlaylistName))
	if ri.Video == nil || ri.Video.Width != r.Width || ri.Video.Height != r.Height || ri.Audio == nil {
		t.Errorf("%s probes as %+v %+v", r.Name, ri.Video, ri.Audio)
	}
	_ = fps
}

// keyframeTimes lists the presentation times of a file's video keyframes.
func keyframeTimes(t *testing.T, path string) []float64 {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey",
		"-show_entries", "frame=pts_time", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var ts []float64
	for _, l := range strings.Fields(string(out)) {
		ts = append(ts, parseFloat(strings.Trim(l, ",")))
	}
	return ts
}

// moovBeforeMdat reports whether the top-level moov box precedes mdat.
func moovBeforeMdat(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[off:]))
		switch string(b[off+4 : off+8]) {
		case "moov":
			return true
		case "mdat":
			return false
		}
		if size == 1 && off+16 <= len(b) {
			size = int(binary.BigEndian.Uint64(b[off+8:]))
		}
		if size < 8 {
			return false
		}
		off += size
	}
	return false
}

func TestCancelThenRerun(t *testing.T) {
	testenv.FFmpeg(t)
	t.Parallel()
	dir := t.TempDir()
	src := testenv.Clip(t, dir, "long.mp4", "640x360", 20, true)
	info, err := Probe(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	plan, err := NewPlan(src, info, out, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.PrepareOutput(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var cancelledAt time.Time
	_, err = Run(ctx, plan.Args(), plan.Duration, func(p float64) {
		if p >= 10 && cancelledAt.IsZero() {
			cancelledAt = time.Now()
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v, want context.Canceled", err)
	}
	if cancelledAt.IsZero() {
		t.Fatal("never cancelled")
	}
	if d := time.Since(cancelledAt); d > 5*time.Second {
		t.Errorf("Run returned %v after cancel", d)
	}
	// Again into the same directory, this time to the end.
	if err := plan.PrepareOutput(); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), plan.Args(), plan.Duration, nil); err != nil {
		t.Fatal(err)
	}
	res, err := Collect(plan)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Duration-20) > 0.05 || len(res.Rungs[0].Segments) != 4 {
		t.Errorf("rerun produced %.3f s in %d segments", res.Duration, len(res.Rungs[0].Segments))
	}
}

func TestRunFailureReportsStderr(t *testing.T) {
	testenv.FFmpeg(t)
	t.Parallel()
	_, err := Run(context.Background(), []string{"-v", "error", "-i", filepath.Join(t.TempDir(), "missing.mp4"), "-f", "null", "-"}, 1, nil)
	var re *RunError
	if !errors.As(err, &re) || !strings.Contains(re.Error(), "No such file or directory") {
		t.Fatalf("err = %v", err)
	}
}

func TestBadInputs(t *testing.T) {
	testenv.FFmpeg(t)
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	random := make([]byte, 64<<10)
	for i := range random {
		random[i] = byte(i*7919 + i/13)
	}
	for _, tc := range []struct {
		name     string
		src      func() string
		lim      Limits
		code     string
		contains string
	}{
		{"random bytes", func() string { return write("random.mp4", random) }, DefaultLimits(600), RejectDamaged, "could not be read as a video"},
		{"zero bytes", func() string { return write("zero.mp4", nil) }, DefaultLimits(600), RejectDamaged, "could not be read as a video"},
		{"jpeg renamed", func() string {
			p := testenv.Clip(t, dir, "still.jpg", "320x240", 0.04, false, "-frames:v", "1")
			b, _ := os.ReadFile(p)
			return write("photo.mp4", b)
		}, DefaultLimits(600), RejectImage, "this is an image in JPEG format, not a video"},
		{"truncated", func() string {
			p := testenv.Clip(t, dir, "whole.mp4", "320x240", 6, true)
			b, _ := os.ReadFile(p)
			return write("half.mp4", b[:len(b)/2])
		}, DefaultLimits(600), RejectTruncated, "of 0:06 — the upload may have been cut; please upload it again"},
		{"too long", func() string { return testenv.Clip(t, dir, "long.mp4", "160x120", 4, true) }, DefaultLimits(2), RejectTooLong, "the file is 0:04 long; statements may be at most 0:02"},
		{"audio only", func() string {
			p := filepath.Join(dir, "voice.m4a")
			b, err := exec.Command("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac", p).CombinedOutput()
			if err != nil {
				t.Fatalf("%v %s", err, b)
			}
			return p
		}, DefaultLimits(600), RejectAudioOnly, "no video, only audio"},
		{"single frame", func() string {
			return testenv.Clip(t, dir, "one.mp4", "320x240", 1, false, "-frames:v", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p")
		}, DefaultLimits(600), RejectStill, "single picture"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src()
			ctx := context.Background()
			info, err := Probe(ctx, src)
			if err == nil {
				_, err = Validate(info, tc.lim)
			}
			if err == nil {
				err = CheckIntegrity(ctx, src, info)
			}
			var r *Rejection
			if !errors.As(err, &r) {
				t.Fatalf("err = %v, want a *Rejection", err)
			}
			if r.Code != tc.code || !strings.Contains(r.Reason, tc.contains) {
				t.Errorf("rejection %s %q, want %s containing %q", r.Code, r.Reason, tc.code, tc.contains)
			}
		})
	}
}

func TestProbeMissingFileIsNotARejection(t *testing.T) {
	testenv.FFmpeg(t)
	_, err := Probe(context.Background(), filepath.Join(t.TempDir(), "nope.mp4"))
	var r *Rejection
	if err == nil || errors.As(err, &r) {
		t.Fatalf("err = %v, want a plain (retryable) error", err)
	}
}
