package media

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// WaitDelay is how long Run waits for ffmpeg to exit after SIGTERM (and
// for its pipes to close) before killing it.
const WaitDelay = 10 * time.Second

// stderrTail is how much of ffmpeg's stderr a failed Run reports.
const stderrTail = 4096

// RunError is a failed ffmpeg run: its exit status and the end of stderr.
type RunError struct {
	Err    error  // *exec.ExitError, or the context's error when cancelled
	Stderr string // last ~4 KiB
}

func (e *RunError) Error() string {
	if e.Stderr == "" {
		return fmt.Sprintf("media: ffmpeg: %v", e.Err)
	}
	return fmt.Sprintf("media: ffmpeg: %v: %s", e.Err, e.Stderr)
}

func (e *RunError) Unwrap() error { return e.Err }

// Run executes ffmpeg with args (which must include `-progress pipe:1`
// for progress to be reported, as Plan.Args does) in its own process
// group. progress, when not nil, is called with a percentage in [0, 100]
// of totalSeconds, at most once per whole percent, and with 100 when
// ffmpeg reports the end.
//
// Only the exit code counts: on SIGTERM ffmpeg still finishes its
// playlists, so outputs of a failed or cancelled run must be ignored.
// When ctx is cancelled ffmpeg gets SIGTERM, then SIGKILL after
// WaitDelay, and the error wraps ctx.Err().
func Run(ctx context.Context, args []string, totalSeconds float64, progress func(percent float64)) error {
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	cmd.SysProcAttr = procAttr()
	cmd.Cancel = func() error {
		// The whole group: ffmpeg spawns nothing today, but a filter or
		// protocol helper must not outlive the task.
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		if err != nil && !errors.Is(err, syscall.ESRCH) {
			return cmd.Process.Signal(syscall.SIGTERM)
		}
		return nil
	}
	cmd.WaitDelay = WaitDelay
	stderr := &tailBuffer{max: stderrTail}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("media: ffmpeg: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("media: start ffmpeg: %w", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		readProgress(stdout, totalSeconds, progress)
	}()
	<-done
	err = cmd.Wait()
	if ctx.Err() != nil {
		return &RunError{Err: ctx.Err(), Stderr: stderr.String()}
	}
	if err != nil {
		return &RunError{Err: err, Stderr: stderr.String()}
	}
	return nil
}

// readProgress parses `-progress` key=value blocks until EOF.
func readProgress(r io.Reader, total float64, progress func(float64)) {
	sc := bufio.NewScanner(r)
	last := -1.0
	for sc.Scan() {
		line := sc.Text()
		if progress == nil {
			continue
		}
		if line == "progress=end" {
			if last < 100 {
				last = 100
				progress(100)
			}
			continue
		}
		t, ok := progressTime(line)
		if !ok || total <= 0 {
			continue
		}
		p := min(100*t/total, 99.9) // 100 only on progress=end
		if p < 0 {
			p = 0
		}
		if p-last >= 1 || last < 0 {
			last = p
			progress(p)
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// progressTime parses out_time_us= (or out_time_ms=, which ffmpeg also
// reports in microseconds) into seconds.
func progressTime(line string) (float64, bool) {
	k, v, ok := strings.Cut(line, "=")
	if !ok || (k != "out_time_us" && k != "out_time_ms") {
		return 0, false
	}
	us, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || us < 0 {
		return 0, false // "N/A" before the first frame
	}
	return float64(us) / 1e6, true
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return tail(strings.TrimSpace(string(t.buf)), t.max)
}
