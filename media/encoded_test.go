package media

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEncoded(t *testing.T) {
	p := Plan{OutDir: t.TempDir(), Duration: 20, SegmentSecs: 6, Rungs: []Rung{{RungSpec: RungSpec{Name: "720p"}}, {RungSpec: RungSpec{Name: "360p"}}}}
	if err := os.MkdirAll(p.RungDir("720p"), 0o755); err != nil {
		t.Fatal(err)
	}
	for n, want := range []float64{0, 0, 6, 12, 18, 20} {
		if n > 0 {
			os.WriteFile(filepath.Join(p.RungDir("720p"), "seg_0000"+string(rune('0'+n-1))+".m4s"), nil, 0o644)
		}
		if got := p.Encoded(); got != want {
			t.Errorf("%d segments on disk: %v s, want %v", n, got, want)
		}
	}
}
