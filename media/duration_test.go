package media

import (
	"context"
	"math"
	"testing"

	"github.com/uprinfo/presession/internal/testenv"
)

// TestProbeRecordingWithoutDuration: a WebM written live, as MediaRecorder
// writes it (no Duration element, no cues), probes with its length
// measured from the stream and passes validation and the integrity check
// like any upload; an ordinary file keeps the length its header states.
func TestProbeRecordingWithoutDuration(t *testing.T) {
	testenv.FFmpeg(t)
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		name    string
		options []string
	}{
		{"live.webm", []string{"-c:v", "libvpx", "-deadline", "realtime", "-live", "1", "-f", "webm"}},
		{"file.webm", []string{"-c:v", "libvpx", "-deadline", "realtime"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := lavfi(t, dir, c.name, "320x240", 4, c.options, []string{"-c:a", "libopus"})
			info, err := Probe(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(info.Duration-4) > 0.2 {
				t.Fatalf("duration %.3f s, want 4 s", info.Duration)
			}
			if _, err := Validate(info, DefaultLimits(600)); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if err := CheckIntegrity(context.Background(), src, info); err != nil {
				t.Fatalf("integrity: %v", err)
			}
		})
	}
}
