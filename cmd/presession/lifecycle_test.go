package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/worker"
)

// procsWorkingIn returns the ids of the processes whose command line
// mentions dir (the ffmpeg of a transcode names its work dir).
func procsWorkingIn(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(dir)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// running reports whether the process exists and is not a zombie.
func running(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

// firstSegment waits for a transcode of id under work to have written a
// segment, and returns its work dir.
func firstSegment(t *testing.T, work, id string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		dirs, _ := filepath.Glob(filepath.Join(work, "transcode-"+id+"-*"))
		for _, d := range dirs {
			found := false
			filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(p, ".m4s") {
					found = true
					return filepath.SkipAll
				}
				return nil
			})
			if found {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no transcode of %s wrote a segment within %v", id, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkManifest checks that the statement's manifest lists every other
// object of its media with the size and hash in storage, and nothing that
// is not there: the manifest describes a whole run.
func (c *cluster) checkManifest(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	read := func(key string) []byte {
		t.Helper()
		body, _, err := c.store.Get(ctx, key, nil)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		defer body.Close()
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var man struct {
		Files []struct {
			Key    string `json:"key"`
			Size   int64  `json:"size"`
			SHA256 string `json:"sha256"`
		} `json:"files"`
	}
	if err := json.Unmarshal(read(worker.ManifestKey(id)), &man); err != nil {
		t.Fatal(err)
	}
	objs, err := c.store.List(ctx, "statements/"+id+"/")
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int64{}
	for _, o := range objs {
		stored[o.Key] = o.Size
	}
	delete(stored, worker.ManifestKey(id))
	delete(stored, "statements/"+id+"/statement.json") // the catalog's record, not media
	for _, f := range man.Files {
		size, ok := stored[f.Key]
		if !ok {
			t.Errorf("the manifest lists %s, which is not in storage", f.Key)
			continue
		}
		sum := sha256.Sum256(read(f.Key))
		if size != f.Size || hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("%s: %d bytes in storage, %d in the manifest; hash match %v", f.Key, size, f.Size, hex.EncodeToString(sum[:]) == f.SHA256)
		}
		delete(stored, f.Key)
	}
	// Captions may be replaced by staff later; at this point there are
	// none, so anything left is an object no run accounts for.
	for k := range stored {
		t.Errorf("%s is in storage but not in the manifest", k)
	}
	if len(man.Files) == 0 {
		t.Error("the manifest lists no files")
	}
}

// TestWorkerSIGKILL kills a `presession worker` (SIGKILL: no shutdown,
// its Asynq lease left behind) in the middle of a transcode and starts
// another: Asynq's recoverer gives the task back once the lease has
// expired, and the second worker makes the statement ready, once, with
// whole media. It logs how long the recovery took, and whether the killed
// worker's ffmpeg outlived it.
func TestWorkerSIGKILL(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	ctx := context.Background()
	clip := testenv.Clip(t, t.TempDir(), "statement.mp4", "1280x720", 20, true)
	id := c.submit(t, clip)

	a := c.start(t, "worker A", "worker")
	work := filepath.Join(envValue(a.cmd.Env, "PRESESSION_DATA_DIR"), "work")
	dir := firstSegment(t, work, id, 60*time.Second)
	ffmpegs := procsWorkingIn(dir)
	if len(ffmpegs) == 0 {
		t.Fatalf("no process works in %s", dir)
	}
	st, err := c.cat.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != presession.StatusProcessing {
		t.Fatalf("statement %s before the kill, want processing", st.Status)
	}
	if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if code := a.exitCode(t, 5*time.Second); code != -1 {
		t.Fatalf("worker A exit code %d after SIGKILL", code)
	}
	t.Logf("worker A killed at %.0f%% of the transcode", st.Progress)

	// The killed worker's ffmpeg runs in its own process group: it is
	// not killed with its parent.
	time.Sleep(500 * time.Millisecond)
	var orphans []int
	for _, pid := range ffmpegs {
		if running(pid) {
			orphans = append(orphans, pid)
		}
	}
	orphanGone := make(chan time.Duration, 1)
	if len(orphans) > 0 {
		t.Cleanup(func() {
			for _, pid := range orphans {
				if running(pid) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		})
		go func() {
			for {
				alive := false
				for _, pid := range orphans {
					alive = alive || running(pid)
				}
				if !alive {
					orphanGone <- time.Since(killed)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}

	b := c.start(t, "worker B", "worker")
	// Follow the task: its lease expires, the recoverer schedules a retry,
	// worker B takes it, the statement becomes ready.
	taskID := "transcode:" + id
	var recovered, restarted, ready time.Duration
	for deadline := killed.Add(3 * time.Minute); ; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("statement not ready 3 min after the kill (recovered after %v, restarted after %v)", recovered, restarted)
		}
		if info, err := c.insp.GetTaskInfo(worker.QueueTranscode, taskID); err == nil {
			switch {
			case recovered == 0 && info.State != asynq.TaskStateActive:
				recovered = time.Since(killed)
				t.Logf("%v after the kill: the task is %s (retried %d: %s)", recovered.Round(time.Second), info.State, info.Retried, info.LastErr)
			case recovered != 0 && restarted == 0 && info.State == asynq.TaskStateActive:
				restarted = time.Since(killed)
			}
		} else if !errors.Is(err, asynq.ErrTaskNotFound) {
			t.Fatal(err)
		}
		if st, err = c.cat.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
		if st.Status == presession.StatusFailed {
			t.Fatalf("statement failed: %s", st.Reason)
		}
		if st.Status == presession.StatusReady {
			ready = time.Since(killed)
			break
		}
	}
	orphanLife := "did not outlive the worker"
	if len(orphans) > 0 {
		select {
		case d := <-orphanGone:
			orphanLife = "ran on, orphaned, until " + d.Round(100*time.Millisecond).String() + " after the kill"
			if done, _ := filepath.Glob(filepath.Join(dir, "out", "*", "*", "index.m3u8")); len(done) > 0 {
				if b, err := os.ReadFile(done[0]); err == nil && bytes.Contains(b, []byte("#EXT-X-ENDLIST")) {
					orphanLife += ", having finished its outputs"
				} else {
					orphanLife += ", its outputs unfinished"
				}
			}
		default:
			orphanLife = "still running when the statement became ready"
		}
	}
	t.Logf("after the SIGKILL: lease recovered %v, transcode restarted %v, ready %v; the killed worker's ffmpeg (pids %v) %s",
		recovered.Round(time.Second), restarted.Round(time.Second), ready.Round(time.Second), orphans, orphanLife)

	readies := 0
	for _, ev := range st.History {
		if ev.To == presession.StatusReady {
			readies++
		}
	}
	if readies != 1 {
		t.Fatalf("%d transitions to ready, want 1: %+v", readies, st.History)
	}
	c.checkMedia(t, st)
	c.checkManifest(t, id)
	if d := st.Media.Duration; d < 19.9 || d > 20.1 {
		t.Errorf("media lasts %.3f s, the source 20 s", d)
	}
	var segs float64
	for _, r := range st.Media.Renditions {
		segs = 0
		for _, s := range r.Segments {
			segs += s.Duration
		}
		if segs < 19.9 || segs > 20.1 {
			t.Errorf("rendition %s: its segments last %.3f s", r.Name, segs)
		}
	}
	fams := b.scrape(t)
	if r, all := metric(t, fams, "presession_transcodes_total", "result", "ready"), metric(t, fams, "presession_transcodes_total"); r != 1 || all != 1 {
		t.Fatalf("worker B: %v transcodes ready of %v, want 1 of 1", r, all)
	}
}
