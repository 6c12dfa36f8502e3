package playlist

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/uprinfo/presession/internal/testenv"
)

// TestShift: a shifted fMP4 segment reads, in ffprobe, at its old times
// plus the shift, on every track.
func TestShift(t *testing.T) {
	testenv.FFmpeg(t)
	dir := t.TempDir()
	run(t, "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=2",
		"-f", "lavfi", "-i", "sine=sample_rate=48000:duration=2", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
		"-f", "hls", "-hls_segment_type", "fmp4", "-hls_time", "2",
		"-hls_segment_options", "movflags=+negative_cts_offsets:video_track_timescale=90000",
		"-hls_segment_filename", filepath.Join(dir, "seg_%05d.m4s"), filepath.Join(dir, "index.m3u8"))
	init, _ := os.ReadFile(filepath.Join(dir, "init.mp4"))
	seg, _ := os.ReadFile(filepath.Join(dir, "seg_00000.m4s"))
	scales, err := Timescales(init)
	if err != nil || len(scales) != 2 {
		t.Fatalf("timescales %v %v", scales, err)
	}
	first := func(b []byte, stream string) float64 {
		f := filepath.Join(t.TempDir(), "x.mp4")
		os.WriteFile(f, append(append([]byte{}, init...), b...), 0o644)
		out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", stream, "-show_entries", "packet=dts_time",
			"-of", "csv=p=0", "-read_intervals", "%+#1", f).Output()
		if err != nil {
			t.Fatal(err)
		}
		v, _ := strconv.ParseFloat(strings.TrimSpace(strings.Split(string(out), "\n")[0]), 64)
		return v
	}
	v0, a0 := first(seg, "v:0"), first(seg, "a:0")
	shifted := append([]byte{}, seg...)
	if err := Shift(shifted, scales, 9.5); err != nil {
		t.Fatal(err)
	}
	if v, a := first(shifted, "v:0"), first(shifted, "a:0"); v-v0 < 9.499 || v-v0 > 9.501 || a-a0 < 9.499 || a-a0 > 9.501 {
		t.Fatalf("video %.3f→%.3f, audio %.3f→%.3f; want +9.5 on both", v0, v, a0, a)
	}
	if err := Shift([]byte("not a segment"), scales, 1); err == nil {
		t.Fatal("garbage shifted")
	}
	if err := Shift(append([]byte{}, seg...), map[uint32]uint32{}, 1); err == nil {
		t.Fatal("shifted without timescales")
	}
}
