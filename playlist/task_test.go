package playlist

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/uprinfo/presession/internal/testenv"
)

// fakeQueue refuses a TaskID it holds, as Asynq does.
type fakeQueue struct{ ids map[string]bool }

func (q *fakeQueue) EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	id := ""
	for _, o := range opts {
		if o.Type() == asynq.TaskIDOpt {
			id = o.Value().(string)
		}
	}
	if q.ids[id] {
		return nil, asynq.ErrTaskIDConflict
	}
	q.ids[id] = true
	return &asynq.TaskInfo{ID: id}, nil
}

func TestEnqueueRebuild(t *testing.T) {
	q := &fakeQueue{ids: map[string]bool{}}
	for range 4 {
		if err := EnqueueRebuild(context.Background(), q, "upr36", "ad"); err != nil {
			t.Fatal(err)
		}
	}
	if len(q.ids) != 2 || !q.ids["playlist:upr36:AD"] || !q.ids["playlist:upr36:AD:again"] {
		t.Errorf("task ids %v", q.ids)
	}
	task, _ := NewRebuildTask("upr36", "ad")
	if task.Type() != TaskRebuild || string(task.Payload()) != `{"session":"upr36","country":"AD"}` {
		t.Errorf("task %s %s", task.Type(), task.Payload())
	}
}

func TestProcessTask(t *testing.T) {
	e := newEnv(t, nil)
	task, _ := NewRebuildTask("upr36", "AD")
	if err := e.rb.ProcessTask(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Stat(context.Background(), BuildKey("upr36", "AD")); err != nil {
		t.Errorf("no build stored: %v", err)
	}
	for _, payload := range []string{"{", `{"session":"upr36","country":"ZZ"}`, `{"session":"nope","country":"AD"}`} {
		err := e.rb.ProcessTask(context.Background(), asynq.NewTask(TaskRebuild, []byte(payload)))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("payload %s: %v, want SkipRetry", payload, err)
		}
	}
}

// TestTrackStarts measures real ffmpeg fMP4 output: with B-frames the
// video presents two frames after the audio, unless negative composition
// offsets are used.
func TestTrackStarts(t *testing.T) {
	testenv.FFmpeg(t)
	for _, tc := range []struct {
		name         string
		args         []string
		video, audio float64
	}{
		{"bframes", nil, 0.08, 0},
		{"negative-cts", []string{"-hls_segment_options", "movflags=+negative_cts_offsets"}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x90:rate=25:duration=1",
				"-f", "lavfi", "-i", "sine=sample_rate=48000:duration=1", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
				"-f", "hls", "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4"}
			args = append(args, tc.args...)
			run(t, "ffmpeg", append(args, "-hls_segment_filename", filepath.Join(dir, "seg_%05d.m4s"), filepath.Join(dir, "index.m3u8"))...)
			init, _ := os.ReadFile(filepath.Join(dir, "init.mp4"))
			seg, _ := os.ReadFile(filepath.Join(dir, "seg_00000.m4s"))
			st, err := TrackStarts(init, seg[:min(len(seg), 4096)])
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprintf("%.3f %.3f", st.Video, st.Audio) != fmt.Sprintf("%.3f %.3f", tc.video, tc.audio) {
				t.Errorf("starts video %.4f audio %.4f, want %.3f %.3f", st.Video, st.Audio, tc.video, tc.audio)
			}
		})
	}
	if _, err := StartTime([]byte("junk"), nil); err == nil {
		t.Error("StartTime of junk: no error")
	}
}
