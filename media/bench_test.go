package media

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/testenv"
)

// BenchmarkPipeline compares, on a generated 60 s 1080p source, in one run:
//
//	wall_ratio: our Plan+Run+Collect wall time / the same single ffmpeg
//	            command run by hand with exec (target ≤ 1.05);
//	cpu_ratio:  our ffmpeg CPU time (user+sys) / a naive pipeline that runs
//	            one ffmpeg per rung, one for the MP4 and one for the images,
//	            each decoding the source (target ≤ 0.9).
//
// go test ./media -run '^$' -bench Pipeline -benchtime 2x -timeout 30m
func BenchmarkPipeline(b *testing.B) {
	testenv.FFmpeg(b)
	dir := b.TempDir()
	src := testenv.Clip(b, dir, "src60.mp4", "1920x1080", 60, true)
	info, err := Probe(context.Background(), src)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := NewPlan(src, info, filepath.Join(dir, "ours"), DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	// The machine may be shared: each iteration swaps the order of the
	// two single-process runs, and the wall ratio compares the fastest
	// run of each (the one least disturbed by other load).
	var handWall, oursWall []time.Duration
	var oursCPU, handCPU, naiveCPU, naiveWall time.Duration
	hand := func() {
		if err := plan.PrepareOutput(); err != nil {
			b.Fatal(err)
		}
		w, c := execFFmpeg(b, plan.Args())
		handWall = append(handWall, w)
		handCPU += c
	}
	ours := func() {
		if err := plan.PrepareOutput(); err != nil {
			b.Fatal(err)
		}
		before := childCPU()
		start := time.Now()
		if _, err := Run(context.Background(), plan.Args(), plan.Duration, func(float64) {}); err != nil {
			b.Fatal(err)
		}
		if _, err := Collect(plan); err != nil {
			b.Fatal(err)
		}
		oursWall = append(oursWall, time.Since(start))
		oursCPU += childCPU() - before
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			hand()
			ours()
		} else {
			ours()
			hand()
		}
		if i == 0 { // the naive baseline once: its CPU time is stable
			start := time.Now()
			for _, args := range naiveCommands(plan, filepath.Join(dir, "naive")) {
				_, c := execFFmpeg(b, args)
				naiveCPU += c
			}
			naiveWall = time.Since(start)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(slices.Min(oursWall).Seconds()/slices.Min(handWall).Seconds(), "wall_ratio")
	b.ReportMetric(oursCPU.Seconds()/n/naiveCPU.Seconds(), "cpu_ratio")
	b.ReportMetric(slices.Min(handWall).Seconds(), "hand_wall_s")
	b.ReportMetric(slices.Min(oursWall).Seconds(), "ours_wall_s")
	b.ReportMetric(naiveWall.Seconds(), "naive_wall_s")
	b.ReportMetric(oursCPU.Seconds()/n, "ours_cpu_s")
	b.ReportMetric(handCPU.Seconds()/n, "hand_cpu_s")
	b.ReportMetric(naiveCPU.Seconds(), "naive_cpu_s")
}

// execFFmpeg runs ffmpeg and returns its wall and CPU (user+sys) time.
func execFFmpeg(b *testing.B, args []string) (time.Duration, time.Duration) {
	b.Helper()
	cmd := exec.Command("ffmpeg", args...)
	cmd.Stdout = io.Discard
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("ffmpeg %v: %v", args, err)
	}
	wall := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return wall, time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func childCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// naiveCommands is the baseline: the same outputs with the same encoder
// settings, one ffmpeg per rung, one for the MP4, one for the images.
func naiveCommands(p Plan, out string) [][]string {
	os.RemoveAll(out)
	head := []string{"-hide_banner", "-nostdin", "-y", "-v", "error", "-i", p.Input}
	gop := fmt.Sprint(p.GOP())
	enc := func(r Rung) []string {
		return []string{
			"-vf", fmt.Sprintf("scale=%d:%d,setsar=1,format=yuv420p", r.Width, r.Height),
			"-af", "aformat=channel_layouts=stereo,loudnorm=I=-16:TP=-1.5:LRA=11,aresample=48000",
			"-c:v", "libx264", "-preset", p.Preset, "-profile:v", "high",
			"-b:v", kbps(r.VideoKbps), "-maxrate", kbps(r.MaxRateKbps), "-bufsize", kbps(2 * r.VideoKbps),
			"-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
			"-force_key_frames", fmt.Sprintf("expr:gte(t,n_forced*%d)", p.GOPSeconds),
			"-c:a", "aac", "-b:a", kbps(p.AudioKbps), "-ar", "48000", "-ac", "2",
		}
	}
	var cmds [][]string
	for _, r := range p.Rungs {
		d := filepath.Join(out, r.Name)
		os.MkdirAll(d, 0o755)
		c := append(append([]string{}, head...), enc(r)...)
		c = append(c, "-f", "hls", "-hls_time", fmt.Sprint(p.SegmentSecs), "-hls_playlist_type", "vod",
			"-hls_flags", "independent_segments", "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
			"-hls_segment_filename", filepath.Join(d, "seg_%05d.m4s"), filepath.Join(d, "index.m3u8"))
		cmds = append(cmds, c)
	}
	c := append(append([]string{}, head...), enc(p.Download)...)
	cmds = append(cmds, append(c, "-movflags", "+faststart", filepath.Join(out, "download.mp4")))
	sb := p.Storyboard
	cmds = append(cmds, append(append([]string{}, head...),
		"-filter_complex", fmt.Sprintf("[0:v]split=2[a][b];[a]select=gte(t\\,%.3f)*eq(selected_n\\,0),split=2[p][t];[p]scale=%d:%d[po];[t]scale=%d:%d[th];[b]select=gte(t\\,selected_n*%g),scale=%d:%d,tile=%dx%d[sb]",
			p.PosterAt, p.PosterW, p.PosterH, p.ThumbW, p.ThumbH, sb.Interval, sb.TileWidth, sb.TileHeight, sb.Cols, sb.Rows),
		"-map", "[po]", "-frames:v", "1", "-update", "1", filepath.Join(out, "poster.jpg"),
		"-map", "[th]", "-frames:v", "1", "-update", "1", filepath.Join(out, "thumb.jpg"),
		"-map", "[sb]", "-frames:v", "1", "-update", "1", filepath.Join(out, "storyboard.jpg")))
	return cmds
}
