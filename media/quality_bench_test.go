package media

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/testenv"
)

// BenchmarkQualityCost compares, on a generated 60 s 1080p source, in one
// run, the CPU time (user+sys of the ffmpeg child, from its ProcessState)
// of the transcode with the quality report's branches against the same
// transcode without them (target ≤ 1.05).
//
// go test ./media -run '^$' -bench QualityCost -benchtime 1x -timeout 30m
func BenchmarkQualityCost(b *testing.B) {
	testenv.FFmpeg(b)
	dir := b.TempDir()
	src := testenv.Clip(b, dir, "src60.mp4", "1920x1080", 60, true)
	info, err := Probe(context.Background(), src)
	if err != nil {
		b.Fatal(err)
	}
	plan := func(quality bool) Plan {
		o := DefaultOptions()
		o.Quality = quality
		p, err := NewPlan(src, info, filepath.Join(dir, "out"), o)
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	with, without := plan(true), plan(false)
	var withCPU, withoutCPU time.Duration
	run := func(p Plan, cpu *time.Duration) {
		if err := p.PrepareOutput(); err != nil {
			b.Fatal(err)
		}
		_, c := execFFmpeg(b, p.Args())
		*cpu += c
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// The machine may be shared: each iteration swaps the order.
		if i%2 == 0 {
			run(with, &withCPU)
			run(without, &withoutCPU)
		} else {
			run(without, &withoutCPU)
			run(with, &withCPU)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(withCPU.Seconds()/withoutCPU.Seconds(), "cpu_ratio")
	b.ReportMetric(withCPU.Seconds()/n, "quality_cpu_s")
	b.ReportMetric(withoutCPU.Seconds()/n, "plain_cpu_s")
}
