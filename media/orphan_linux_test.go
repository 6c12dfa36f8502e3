package media

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/uprinfo/presession/internal/testenv"
)

// TestMain lets a test re-execute this binary as a stand-in worker.
func TestMain(m *testing.M) {
	if marker := os.Getenv("MEDIA_TEST_CHILD_RUN"); marker != "" {
		// A long transcode of a generated source; the parent kills us.
		_, err := Run(context.Background(), []string{"-v", "error", "-re", "-f", "lavfi", "-i",
			"testsrc2=size=" + marker + ":rate=25:duration=300", "-f", "null", "-"}, 300, nil)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// ffmpegWith lists the pids of ffmpeg processes whose command line holds s.
func ffmpegWith(s string) []string {
	var pids []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err == nil && bytes.HasPrefix(cmd, []byte("ffmpeg\x00")) && bytes.Contains(cmd, []byte(s)) {
			pids = append(pids, filepath.Base(d))
		}
	}
	return pids
}

// TestNoOrphanWhenWorkerKilled: a worker killed with SIGKILL (no chance to
// cancel) takes its ffmpeg with it.
func TestNoOrphanWhenWorkerKilled(t *testing.T) {
	testenv.FFmpeg(t)
	marker := fmt.Sprintf("%dx%d", 200+2*(os.Getpid()%50), 120+2*(time.Now().Nanosecond()%40))
	child := exec.Command(os.Args[0], "-test.run", "^$")
	child.Env = append(os.Environ(), "MEDIA_TEST_CHILD_RUN="+marker)
	var stderr strings.Builder
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(ffmpegWith("size="+marker)) == 0 {
		if time.Now().After(deadline) {
			child.Process.Kill()
			t.Fatalf("ffmpeg never started: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	deadline = time.Now().Add(5 * time.Second)
	for {
		pids := ffmpegWith("size=" + marker)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range pids {
				var pid int
				fmt.Sscan(p, &pid)
				syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Fatalf("ffmpeg %v outlived its killed worker", pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
