package worker

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

func TestCleanWorkDir(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "transcode-a-1", "out", "hls", "720p")
	live := filepath.Join(dir, "transcode-b-2", "out", "hls", "720p")
	other := filepath.Join(dir, "uploads")
	for _, d := range []string{old, live, other} {
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "seg_00000.m4s"), []byte("x"), 0o644)
	}
	past := time.Now().Add(-2 * time.Hour)
	for _, p := range []string{old, filepath.Join(old, "seg_00000.m4s"), filepath.Dir(old), filepath.Dir(filepath.Dir(old)), filepath.Join(dir, "transcode-a-1"),
		filepath.Join(live, "..", "..", ".."), other, filepath.Join(other, "seg_00000.m4s")} {
		os.Chtimes(p, past, past)
	}
	if n := cleanWorkDir(dir, time.Hour); n != 1 {
		t.Fatalf("removed %d, want 1", n)
	}
	for p, want := range map[string]bool{filepath.Join(dir, "transcode-a-1"): false, filepath.Join(dir, "transcode-b-2"): true, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists=%v, want %v", p, err == nil, want)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	task := asynq.NewTask(TypeTranscode, nil)
	if d := retryDelay(3, asynq.ErrLeaseExpired, task); d != time.Second {
		t.Errorf("after a lease expiry: %v", d)
	}
	if d := retryDelay(3, os.ErrDeadlineExceeded, task); d < 10*time.Second {
		t.Errorf("after an ordinary failure: %v", d)
	}
}
