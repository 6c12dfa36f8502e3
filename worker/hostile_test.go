package worker

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/storage"
)

func TestHostileSourcesDir(t *testing.T) {
	s, err := storage.NewDir(filepath.Join(t.TempDir(), "storage"))
	if err != nil {
		t.Fatal(err)
	}
	testHostileSources(t, s)
}

func TestHostileSourcesS3(t *testing.T) {
	b := testenv.S3Bucket(t)
	s, err := storage.NewS3(context.Background(), storage.Config{Endpoint: b.Endpoint, Region: b.Region, Bucket: b.Bucket, AccessKey: b.AccessKey, SecretKey: b.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	testHostileSources(t, s)
}

// testHostileSources (item 1 of the security review): uploads that are
// playlists or lists of other files — an HLS playlist naming the
// instance-metadata address and another statement's file, a DASH
// manifest, an ffconcat list naming /etc/passwd — are refused from their
// bytes, at once and for good, with a reason that says what they are, and
// nothing they name is ever requested. Old but ordinary recordings go
// through (item 9), with every read of them forced to their container
// over the store's own protocol; a 16x16 picture is refused (item 11).
func testHostileSources(t *testing.T, store storage.Store) {
	ctx := context.Background()
	var mu sync.Mutex
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Method+" "+r.URL.String())
		mu.Unlock()
		w.Write([]byte("#EXTM3U\n")) // what a metadata service might answer
	}))
	defer srv.Close()

	e := newEnv(t, store)
	e.run(t)
	clips := t.TempDir()

	// Another statement's file: a path on the directory store, a
	// presigned URL on S3.
	other := "statements/st000000000000/download.mp4"
	if err := store.PutFile(ctx, other, testenv.Clip(t, clips, "other.mp4", "320x240", 2, true), storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	otherURL, err := store.URL(ctx, other, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(clips, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hostile := []struct {
		name, file, arg string
	}{
		{"hls", write("hls.mp4", "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"+
			"#EXTINF:10,\n"+srv.URL+"/latest/meta-data/iam/security-credentials/\n"+
			"#EXTINF:10,\n"+otherURL+"\n#EXT-X-ENDLIST\n"), "HLS/M3U8"},
		{"dash", write("dash.mp4", `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S" minBufferTime="PT1S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">`+
			`<Period><AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="1000"><BaseURL>`+srv.URL+`/dash.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>`), "DASH/MPD"},
		{"ffconcat", write("concat.mp4", "ffconcat version 1.0\nfile '/etc/passwd'\nfile '"+srv.URL+"/concat.mp4'\n"), "ffconcat"},
	}
	var ids []string
	for _, h := range hostile {
		st := e.upload(t, h.file)
		ids = append(ids, st.ID)
		if err := e.client.EnqueueProcess(ctx, st.ID); err != nil {
			t.Fatal(err)
		}
	}
	old := e.upload(t, testenv.Clip(t, clips, "webcam.avi", "320x240", 3, true, "-c:v", "mjpeg", "-c:a", "pcm_s16le"))
	tiny := e.upload(t, testenv.Clip(t, clips, "tiny.mp4", "16x16", 2, true))
	for _, st := range []*presession.Statement{old, tiny} {
		if err := e.client.EnqueueProcess(ctx, st.ID); err != nil {
			t.Fatal(err)
		}
	}

	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: e.rdb.Options().Addr, DB: e.rdb.Options().DB})
	defer insp.Close()
	for i, h := range hostile {
		st := e.wait(t, ids[i], presession.StatusFailed, presession.StatusReady)
		if st.Status != presession.StatusFailed || st.ReasonKey != "reject.reference" || !slices.Equal(st.ReasonArgs, []string{h.arg}) {
			t.Errorf("%s: %s %s %q (%s), want failed with reject.reference [%s]", h.name, st.Status, st.ReasonKey, st.ReasonArgs, st.Reason, h.arg)
		}
		// Refused at once: the probe task ran once and was archived,
		// with no retry. The statement fails inside the handler, so the
		// task may still be active for a moment after.
		var info *asynq.TaskInfo
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			var err error
			if info, err = insp.GetTaskInfo(QueueShort, "probe:"+ids[i]); err != nil {
				t.Fatalf("%s: probe task: %v", h.name, err)
			}
			if info.State != asynq.TaskStateActive || time.Now().After(deadline) {
				break
			}
		}
		if info.State != asynq.TaskStateArchived || info.Retried != 0 {
			t.Errorf("%s: probe task %s after %d retries, want archived after none", h.name, info.State, info.Retried)
		}
	}
	st := e.wait(t, tiny.ID, presession.StatusFailed, presession.StatusReady)
	if st.Status != presession.StatusFailed || st.ReasonKey != "reject.too_small" || !slices.Equal(st.ReasonArgs, []string{"16x16", "144"}) {
		t.Errorf("16x16 clip: %s %s %q (%s), want failed with reject.too_small", st.Status, st.ReasonKey, st.ReasonArgs, st.Reason)
	}
	st = e.wait(t, old.ID, presession.StatusFailed, presession.StatusReady)
	if st.Status != presession.StatusReady || st.Media == nil || st.Media.Duration < 2.9 {
		t.Errorf("MJPEG AVI: %s (%s) %+v, want ready", st.Status, st.Reason, st.Media)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(requests) != 0 {
		t.Errorf("the server named in the uploads received %q; want no request", requests)
	}
	for deadline := time.Now().Add(5 * time.Second); e.m.get(&e.m.failures)[TypeProbe] < len(hostile)+1 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := e.m.get(&e.m.failures); got[TypeProbe] != len(hostile)+1 || got[TypeTranscode] != 0 {
		t.Errorf("task failures %v, want one probe failure per refused source", got)
	}
}
