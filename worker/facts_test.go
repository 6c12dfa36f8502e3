package worker

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/media"
	"github.com/uprinfo/presession/storage"
)

// countProbes makes the worker count its runs of ffprobe.
func countProbes(w *Worker) *atomic.Int32 {
	var n atomic.Int32
	w.probe = func(ctx context.Context, input string) (*media.Info, error) {
		n.Add(1)
		return media.Probe(ctx, input)
	}
	return &n
}

// TestSourceProbedOnce: the probe task's findings travel in the transcode
// task, so a statement's source is probed once on its way to ready.
func TestSourceProbedOnce(t *testing.T) {
	s, _ := storage.NewDir(t.TempDir())
	e := newEnv(t, s)
	probes := countProbes(e.w)
	e.run(t)
	st := e.upload(t, testenv.Clip(t, t.TempDir(), "a.mp4", "640x360", 3, true))
	if err := e.client.EnqueueProcess(context.Background(), st.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.wait(t, st.ID, presession.StatusReady, presession.StatusFailed); got.Status != presession.StatusReady {
		t.Fatalf("%s (%s)", got.Status, got.Reason)
	}
	if n := probes.Load(); n != 1 {
		t.Fatalf("the source was probed %d times, want once (the transcode plans from the probe task's findings)", n)
	}
}

// TestTranscodeTaskWithoutProbe: a transcode task queued before the probe
// travelled in it (only id and duration) probes the source itself and
// makes the statement ready.
func TestTranscodeTaskWithoutProbe(t *testing.T) {
	s, _ := storage.NewDir(t.TempDir())
	e := newEnv(t, s)
	probes := countProbes(e.w)
	ctx := context.Background()
	st := e.upload(t, testenv.Clip(t, t.TempDir(), "a.mp4", "640x360", 3, true))
	if _, err := e.cat.Transition(ctx, st.ID, presession.StatusProcessing, "test", ""); err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(map[string]any{"id": st.ID, "duration": 3})
	if err := e.w.handleTranscode(ctx, asynq.NewTask(TypeTranscode, old)); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.cat.Get(ctx, st.ID); got.Status != presession.StatusReady || got.Media == nil || len(got.Media.Version) != 16 {
		t.Fatalf("%s (%s), media %+v", got.Status, got.Reason, got.Media)
	}
	if n := probes.Load(); n != 1 {
		t.Fatalf("the source was probed %d times, want once", n)
	}
}
