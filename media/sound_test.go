package media

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/uprinfo/presession/internal/testenv"
)

// TestNaNSoundDoesNotFailTheRun: samples that decode to NaN — what a
// decoder can make of a damaged stretch, here written straight into a
// float PCM track — used to reach the AAC encoder through loudnorm and
// fail the whole run ("Input contains (near) NaN/+-Inf").
func TestNaNSoundDoesNotFailTheRun(t *testing.T) {
	testenv.FFmpeg(t)
	t.Parallel()
	dir := t.TempDir()
	src := testenv.Clip(t, dir, "float.mov", "320x180", 4, true,
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "pcm_f32le")
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "packet=pos,size",
		"-of", "csv=p=0", src).Output()
	if err != nil {
		t.Fatal(err)
	}
	packets := strings.Fields(string(out))
	if len(packets) < 40 {
		t.Fatalf("%d audio packets", len(packets))
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packets[20:22] { // about 0.17 s, a second and a half in
		f := strings.Split(p, ",") // size, pos
		size, _ := strconv.Atoi(f[0])
		pos, _ := strconv.Atoi(f[1])
		for i := pos; i+4 <= pos+size; i += 4 {
			binary.LittleEndian.PutUint32(b[i:], 0x7fc00000) // a quiet NaN
		}
	}
	nan := filepath.Join(dir, "nan.mov")
	if err := os.WriteFile(nan, b, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	info, err := Probe(ctx, nan)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(nan, info, filepath.Join(dir, "out"), DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.PrepareOutput(); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, plan.Args(), plan.Duration, nil); err != nil {
		t.Fatalf("run: %v", err)
	}
	if res, err := Collect(plan); err != nil || res.Duration < 3.9 {
		t.Fatalf("collect: %v %+v", err, res)
	}
}
