package worker

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/storage"
)

// overwrite copies src to dst with the bytes from fraction from to
// fraction to of its length replaced by random ones (a fixed seed, so
// the damage is the same in every run), and returns the media time the
// overwritten packets span, from ffprobe's packet positions.
func overwrite(t *testing.T, src, dst string, from, to float64, seed uint64) (start, end float64) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := int(float64(len(b))*from), int(float64(len(b))*to)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := lo; i < hi; i++ {
		b[i] = byte(r.Uint32())
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "packet=pts_time,duration_time,size,pos",
		"-of", "csv=p=0", src).Output()
	if err != nil {
		t.Fatal(err)
	}
	start, end = -1, -1
	for _, l := range strings.Fields(string(out)) {
		f := strings.Split(l, ",") // pts_time, duration_time, size, pos
		if len(f) < 4 {
			continue
		}
		pts, _ := strconv.ParseFloat(f[0], 64)
		dur, _ := strconv.ParseFloat(f[1], 64)
		size, _ := strconv.Atoi(f[2])
		pos, _ := strconv.Atoi(f[3])
		if pos < hi && pos+size > lo {
			if start < 0 || pts < start {
				start = pts
			}
			end = max(end, pts+dur)
		}
	}
	if start < 0 {
		t.Fatal("no packet in the overwritten bytes")
	}
	return start, end
}

// TestDamagedSources: a clip with a quarter of its bytes overwritten in
// the middle is ready with a warning for staff naming the damaged time;
// one with most of them overwritten fails with a reason that says what to
// do. (TestProcess* check that a clean clip has no damage.) The source is
// read over HTTP from S3, as in production.
func TestDamagedSources(t *testing.T) {
	b := testenv.S3Bucket(t)
	s, err := storage.NewS3(context.Background(), storage.Config{Endpoint: b.Endpoint, Region: b.Region, Bucket: b.Bucket, AccessKey: b.AccessKey, SecretKey: b.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, s)
	e.run(t)
	ctx := context.Background()
	clips := t.TempDir()
	clean := testenv.Clip(t, clips, "clean.mp4", "640x360", 24, true)
	quarter := filepath.Join(clips, "quarter.mp4")
	from, to := overwrite(t, clean, quarter, 0.375, 0.625, 12)
	most := filepath.Join(clips, "most.mp4")
	overwrite(t, clean, most, 0.1, 0.9, 12)

	damaged, mostly := e.upload(t, quarter), e.upload(t, most)
	for _, st := range []*presession.Statement{damaged, mostly} {
		if err := e.client.EnqueueProcess(ctx, st.ID); err != nil {
			t.Fatal(err)
		}
	}

	st := e.wait(t, damaged.ID, presession.StatusReady, presession.StatusFailed)
	if st.Status != presession.StatusReady {
		t.Fatalf("a quarter damaged: %s (%s), want ready with a warning", st.Status, st.Reason)
	}
	d := st.Media.Damage
	if d == nil || len(d.Spans) != 1 {
		t.Fatalf("damage %+v, want one stretch around %.2f–%.2f", d, from, to)
	}
	t.Logf("damaged %+v (the overwritten packets span %.2f–%.2f): %s", d.Spans, from, to, d.Warning)
	// The stretch covers the damaged packets, within two seconds each side.
	if sp := d.Spans[0]; sp.Start > from || sp.Start < from-2 || sp.End < to || sp.End > to+2 {
		t.Errorf("damaged %.2f–%.2f, the overwritten packets span %.2f–%.2f", sp.Start, sp.End, from, to)
	}
	if d.WarningKey != "warning.damaged" || len(d.WarningArgs) != 2 || !strings.HasPrefix(d.Warning, "the picture or sound is damaged at 0:") {
		t.Errorf("warning %q (%s %q)", d.Warning, d.WarningKey, d.WarningArgs)
	}
	if m := st.Media.Duration; m < 23.9 || m > 24.1 {
		t.Errorf("media of %.3f s, want the whole 24", m)
	}

	st = e.wait(t, mostly.ID, presession.StatusReady, presession.StatusFailed)
	if st.Status != presession.StatusFailed {
		t.Fatalf("mostly damaged: %s, want failed", st.Status)
	}
	if st.ReasonKey != "reject.damaged_most" || !strings.Contains(st.Reason, "please export it again") {
		t.Fatalf("mostly damaged failed with %q (%s)", st.Reason, st.ReasonKey)
	}
	if n := len(keys(t, s, "statements/"+mostly.ID+"/hls/")); n != 0 {
		t.Fatalf("a refused statement left %d media files", n)
	}
	// Refused at once, not after retries (counted as the handler returns).
	for deadline := time.Now().Add(5 * time.Second); e.m.get(&e.m.failures)[TypeTranscode] == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := e.m.get(&e.m.failures); got[TypeTranscode] != 1 {
		t.Errorf("task failures %v, want the transcode once", got)
	}
}
