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

// ErrSourceRead is a RunError's Err when ffmpeg could not read its input
// to the end (a network failure its reconnects did not overcome): it then
// ends the input and exits 0, so the outputs are cut short. Retrying may
// help.
var ErrSourceRead = errors.New("the source could not be read to its end")

// Run executes ffmpeg with args (which must include `-progress pipe:1`
// for progress to be reported, as Plan.Args does) in its own process
// group. progress, when not nil, is called with a percentage in [0, 100]
// of totalSeconds, at most once per whole percent, and with 100 when
// ffmpeg reports the end.
//
// Run follows ffmpeg's log as it comes and returns what the decoders
// could not read (see Damage; Plan.Args logs with levels and has the
// clock that places errors in time). A line in which ffmpeg says it
// could not read an input fails the run with ErrSourceRead.
//
// Only the exit code counts: on SIGTERM ffmpeg still finishes its
// playlists, so outputs of a failed or cancelled run must be ignored.
// When ctx is cancelled ffmpeg gets SIGTERM, then SIGKILL after
// WaitDelay, and the error wraps ctx.Err().
func Run(ctx context.Context, args []string, totalSeconds float64, progress func(percent float64)) (Damage, error) {
	d, _, err := RunMeasured(ctx, args, totalSeconds, progress)
	return d, err
}

// RunMeasured is Run that also returns what the quality branches of the
// graph (Plan.Quality) measured; Measures.Report makes the report of it.
func RunMeasured(ctx context.Context, args []string, totalSeconds float64, progress func(percent float64)) (Damage, Measures, error) {
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
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return Damage{}, Measures{}, fmt.Errorf("media: ffmpeg: %w", err)
	}
	stderrPipe, err := cmd.StderrPipe()
	if err != nil {
		return Damage{}, Measures{}, fmt.Errorf("media: ffmpeg: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return Damage{}, Measures{}, fmt.Errorf("media: start ffmpeg: %w", err)
	}
	stderr := &tailBuffer{max: stderrTail}
	dlog := newDamageLog(args)
	qlog := newQualityLog()
	var wg sync.WaitGroup
	wg.Go(func() { readProgress(stdout, totalSeconds, progress) })
	wg.Go(func() { readLog(stderrPipe, dlog, qlog, stderr) })
	wg.Wait()
	err = cmd.Wait()
	damage := dlog.damage(totalSeconds)
	measures := qlog.measures(totalSeconds)
	if ctx.Err() != nil {
		return damage, measures, &RunError{Err: ctx.Err(), Stderr: stderr.String()}
	}
	if err != nil {
		return damage, measures, &RunError{Err: err, Stderr: stderr.String()}
	}
	if dlog.readError != "" {
		return damage, measures, &RunError{Err: ErrSourceRead, Stderr: stderr.String()}
	}
	return damage, measures, nil
}

// readLog feeds ffmpeg's log to dlog line by line until EOF, and keeps
// the notable lines (warnings and errors; not the clock or the
// information ffmpeg prints at info level) in tail, with presigned input
// URLs shortened.
func readLog(r io.Reader, dlog *damageLog, qlog *qualityLog, tail *tailBuffer) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10) // av_log lines are at most a few KiB
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		l := dlog.line(line)
		qlog.line(l)
		if !l.notable() {
			continue
		}
		for _, in := range dlog.inputs {
			if isHTTP(in) {
				line = strings.ReplaceAll(line, in, redactURL(in))
			}
		}
		tail.Write([]byte(line + "\n"))
	}
	_, _ = io.Copy(io.Discard, r) // a line too long for the scanner: keep ffmpeg from blocking
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
