package media

import (
	"context"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
)

// qualityClip makes a 10 s 640x360 fixture with lavfi: the picture and
// sound filter chains given (the sound is lossless FLAC so that clipping
// stays clipped).
func qualityClip(t *testing.T, dir, name, video, audio string) string {
	t.Helper()
	out := filepath.Join(dir, name+".mkv")
	args := []string{"-v", "error", "-y", "-f", "lavfi", "-i", video}
	if audio != "" {
		args = append(args, "-f", "lavfi", "-i", audio)
	}
	args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "flac", "-ac", "2", out)
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", name, err, b)
	}
	return out
}

// TestQualityReport runs the whole transcode on fixtures with known
// faults and checks each is reported within half a second of where it is,
// and nothing else. The still picture lasts 10 s, not 30: the still
// finding is a share of the statement, not a length.
func TestQualityReport(t *testing.T) {
	testenv.FFmpeg(t)
	const (
		moving = "testsrc2=s=640x360:r=25:d=10"
		tone   = "sine=f=440:r=48000:d=10"
	)
	// speech-like: pink noise with a syllable-rate tremolo, at -40 LUFS.
	speech40 := "anoisesrc=c=pink:r=48000:a=0.02:d=10:seed=7,tremolo=f=4:d=0.7,volume=" + quietGain
	type want struct {
		kind       string
		start, end float64
	}
	for _, tc := range []struct {
		name, video, audio string
		limit              float64
		want               []want
	}{
		{"clean", moving, tone, 0, nil},
		{"black 3s", moving + ",drawbox=enable='between(t,3,6)':c=black:t=fill", tone, 0, []want{{"black", 3, 6}}},
		{"frozen 5s", "testsrc2=s=640x360:r=25:d=10,split=3[a][b][c];[a]trim=0:3[a1];[b]trim=start_frame=75:end_frame=76,loop=loop=124:size=1,setpts=N/25/TB[b1];[c]trim=8:10,setpts=PTS-STARTPTS[c1];[a1][b1][c1]concat=n=3:v=1:a=0", tone, 0, []want{{"frozen", 3, 8}}},
		{"silence 4s", moving, tone + ",volume=enable='between(t,4,8)':volume=0", 0, []want{{"silent", 4, 8}}},
		{"clipped tone", moving, tone + ",volume=enable='between(t,4,7)':volume=30dB", 0, []want{{"clipped", 4, 7}}},
		{"quiet -40 LUFS", moving, speech40, 0, []want{{"quiet", 0, 10}}},
		{"still image", "testsrc2=s=640x360:r=25:d=0.04,loop=loop=249:size=1,setpts=N/25/TB", tone, 0, []want{{"still", 0, 10}}},
		{"very dark", moving + ",lutyuv=y=16+(val-16)*0.15:u=128:v=128", tone, 0, []want{{"dark", 0, 10}}},
		{"portrait", "testsrc2=s=360x640:r=25:d=10", tone, 0, []want{{"portrait", 0, 10}}},
		{"audio short", moving, "sine=f=440:r=48000:d=6", 0, []want{{"audio_short", 6, 10}}},
		{"over the limit", moving, tone, 9.5, []want{{"over_limit", 9.5, 10}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := qualityClip(t, dir, "src", tc.video, tc.audio)
			q, m := measure(t, src, dir, tc.limit)
			if len(q.Findings) != len(tc.want) {
				t.Fatalf("findings %+v, want %+v (measures %+v)", q.Findings, tc.want, m)
			}
			for i, w := range tc.want {
				f := q.Findings[i]
				if f.Kind != w.kind || math.Abs(f.Start-w.start) > 0.5 || math.Abs(f.End-w.end) > 0.5 {
					t.Errorf("finding %d = %s %.2f–%.2f, want %s %.2f–%.2f", i, f.Kind, f.Start, f.End, w.kind, w.start, w.end)
				}
				if f.Text == "" || !strings.HasPrefix(f.Key, "warning.quality_") {
					t.Errorf("finding %d has no sentence: %+v", i, f)
				}
			}
			wantSummary := "looks fine"
			if len(tc.want) > 0 {
				wantSummary = "needs attention (1)"
			}
			if q.Summary != wantSummary {
				t.Errorf("summary %q, want %q", q.Summary, wantSummary)
			}
			if tc.name == "quiet -40 LUFS" && (q.Loudness == nil || math.Abs(q.Loudness.Integrated+40) > 1) {
				t.Errorf("loudness %+v, want about -40 LUFS", q.Loudness)
			}
			if tc.audio != "" && q.Loudness == nil {
				t.Error("no loudness measured")
			}
		})
	}
}

// quietGain brings the speech-like noise of the quiet fixture to -40 LUFS.
const quietGain = "3.88"

func measure(t *testing.T, src, dir string, limit float64) (*presession.Quality, Measures) {
	t.Helper()
	ctx := context.Background()
	info, err := Probe(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Preset = "ultrafast"
	plan, err := NewPlan(src, info, filepath.Join(dir, "out"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.PrepareOutput(); err != nil {
		t.Fatal(err)
	}
	_, m, err := RunMeasured(ctx, ForceInput(plan.Args(), src, info.InputFormat()), plan.Duration, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m.Report(QualityFacts{Info: info, MaxSeconds: limit}), m
}
