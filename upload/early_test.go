package upload

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/metrics"
	"github.com/uprinfo/presession/token"
)

// received sums the body bytes the endpoint read (a Metrics).
type received struct {
	n       atomic.Int64
	refused atomic.Int64
}

func (r *received) UploadStarted()                {}
func (r *received) UploadFinished()               {}
func (r *received) UploadRefused(metrics.Refusal) { r.refused.Add(1) }
func (r *received) BytesReceived(n int64)         { r.n.Add(n) }

// noise is an endless stream of pseudo-random bytes.
type noise struct{ state uint64 }

func (z *noise) Read(p []byte) (int, error) {
	for i := range p {
		if i%8 == 0 {
			z.state = z.state*6364136223846793005 + 1442695040888963407
		}
		p[i] = byte(z.state >> (8 * (i % 8)))
	}
	return len(p), nil
}

// clip makes a test clip with ffmpeg's lavfi sources in dir, once per test
// binary run, and returns its bytes.
var clips sync.Map

func clip(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	if b, ok := clips.Load(name); ok {
		return b.([]byte)
	}
	dir, err := os.MkdirTemp("", "clips-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, name)
	cmd := exec.Command("ffmpeg", append(append([]string{"-v", "error", "-y"}, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v: %s", name, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	clips.Store(name, b)
	return b
}

var (
	// 620 s of a small noisy picture, above the test session's 600 s.
	longArgs = []string{"-f", "lavfi", "-i", "nullsrc=s=160x144:r=1,noise=alls=100:allf=t", "-f", "lavfi", "-i", "sine=f=440:r=8000",
		"-t", "620", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "18", "-c:a", "aac", "-b:a", "16k"}
	goodArgs = []string{"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25", "-f", "lavfi", "-i", "sine=f=440:r=48000",
		"-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "10", "-c:a", "aac"}
	// A WebM as MediaRecorder writes it: live, so with no duration in
	// its header, and larger than headBytes so that its beginning is probed.
	liveArgs = []string{"-f", "lavfi", "-i", "nullsrc=s=320x240:r=25,noise=alls=100:allf=t", "-f", "lavfi", "-i", "sine=f=440:r=48000",
		"-t", "6", "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "8M", "-c:a", "libopus", "-live", "1", "-f", "webm"}
	audioArgs = []string{"-f", "lavfi", "-i", "sine=f=440:r=48000", "-t", "20", "-c:a", "aac", "-f", "mp4"}
	imageArgs = []string{"-f", "lavfi", "-i", "testsrc2=s=640x360", "-frames:v", "1"}
)

// moovAt returns where the top-level moov box of an MP4 starts.
func moovAt(t testing.TB, b []byte) int64 {
	t.Helper()
	for off := int64(0); off+8 <= int64(len(b)); {
		size := int64(binary.BigEndian.Uint32(b[off:]))
		if string(b[off+4:off+8]) == "moov" {
			return off
		}
		if size == 1 {
			size = int64(binary.BigEndian.Uint64(b[off+8:]))
		}
		if size < 8 {
			break
		}
		off += size
	}
	t.Fatal("no moov box")
	return 0
}

// zipStream is a real ZIP archive of one stored entry of noise, streamed.
func zipStream(size int64) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		zw := zip.NewWriter(pw)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "statement.mp4", Method: zip.Store})
		if err == nil {
			_, err = io.CopyN(w, &noise{state: 3}, size)
		}
		if err == nil {
			err = zw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// TestRefusedEarly sends files that will never be accepted, each in one
// PATCH as tus-js-client does by default (its chunk size is unlimited),
// streamed from a generator: the endpoint refuses each while it arrives,
// reading at most 16 MiB of a 300 MiB non-video, and as soon as a
// video's duration is known; storage keeps nothing of it, the statement
// fails with the reason, and later requests get the same refusal.
func TestRefusedEarly(t *testing.T) {
	const big = 300 << 20
	long := clip(t, "long.mp4", longArgs...)
	longFront := clip(t, "long-front.mp4", append(append([]string{}, longArgs...), "-movflags", "+faststart")...)
	audio := clip(t, "audio.mp4", append(append([]string{}, audioArgs...), "-movflags", "+faststart")...)
	image := clip(t, "image.png", imageArgs...)
	cases := []struct {
		name string
		size int64
		body func() io.Reader
		key  string // the reason's catalogue key
		// atMost is the most the endpoint may read; atLeast the least
		// (an MP4's index at its end is only known once it arrives).
		atMost, atLeast int64
	}{
		{"random bytes", big, func() io.Reader { return &noise{state: 1} }, "reject.damaged", 16 << 20, 0},
		{"zip", big, func() io.Reader { return zipStream(big - 200) }, "reject.archive", 16 << 20, 0},
		{"pdf named .mp4", big, func() io.Reader {
			return io.MultiReader(strings.NewReader("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"), &noise{state: 2})
		}, "reject.document", 16 << 20, 0},
		{"image", int64(len(image)), func() io.Reader { return bytes.NewReader(image) }, "reject.image", int64(len(image)), 0},
		{"audio only", int64(len(audio)), func() io.Reader { return bytes.NewReader(audio) }, "reject.audio_only", int64(len(audio)), 0},
		{"too long, index first", int64(len(longFront)), func() io.Reader { return bytes.NewReader(longFront) }, "reject.too_long", 16 << 20, 0},
		{"too long, index last", int64(len(long)), func() io.Reader { return bytes.NewReader(long) }, "reject.too_long", int64(len(long)), moovAt(t, long)},
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			m := &received{}
			e := newEnvWith(t, kind, func(e *env) { e.metrics = m }, func(c *Config) { c.MaxUploadBytes = 400 << 20 })
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					tok, _ := e.invite("AD", "Org "+tc.name, time.Time{})
					url := e.mustCreate(e.srv.URL, tok, tc.size)
					id := idOf(url)
					before := m.n.Load()
					status, body := streamPatch(t, url, tok, tc.size, tc.body())
					got := m.n.Load() - before
					t.Logf("%s: the endpoint read %s (%d bytes) of %s before refusing", tc.name, HumanBytes(got), got, HumanBytes(tc.size))
					if got > tc.atMost || got < tc.atLeast {
						t.Errorf("read %d bytes before refusing; want between %d and %d", got, tc.atLeast, tc.atMost)
					}
					// The PATCH that brought the deciding bytes is answered
					// with the refusal, unless the client could not read the
					// answer while it was still sending; then the next
					// request is.
					if status != 0 && (status != http.StatusUnprocessableEntity || !strings.HasPrefix(body, ErrCodeRefused+": ")) {
						t.Errorf("PATCH: %d %q; want 422 %s", status, body, ErrCodeRefused)
					}
					st := e.statement(id)
					if st.Status != presession.StatusFailed || st.ReasonKey != tc.key || st.SourceDeletedAt.IsZero() {
						t.Errorf("statement: %s %q (%s), source deleted %v; want failed with %s", st.Status, st.Reason, st.ReasonKey, st.SourceDeletedAt, tc.key)
					}
					for _, method := range []string{"HEAD", "PATCH"} {
						r := e.do(method, url, tok, map[string]string{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}, []byte("x"))
						if r.status != http.StatusUnprocessableEntity || method == "PATCH" && r.body != ErrCodeRefused+": "+st.Reason+"\n" {
							t.Errorf("%s after the refusal: %d %q; want 422 with the reason", method, r.status, r.body)
						}
					}
					if left := e.leftovers(); len(left) != 0 {
						t.Errorf("storage still holds %v", left)
					}
				})
			}
		})
	}
}

// newEnvWith is newEnv with the env's fields set before its node starts.
func newEnvWith(t *testing.T, kind string, set func(*env), tune ...func(*Config)) *env {
	t.Helper()
	e := newEnv(t, kind, tune...)
	set(e)
	e.svc, e.srv = e.node()
	return e
}

// streamPatch sends body as one PATCH of size bytes from offset 0; status
// 0 when the client got no answer (the server closed the connection while
// the body was still being sent).
func streamPatch(t *testing.T, url, tok string, size int64, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest("PATCH", url, io.LimitReader(body, size))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Upload-Offset", "0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Logf("PATCH: %v (no answer while sending)", err)
		return 0, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestGoodFilesPass sends files that are fine through the examination:
// each arrives unchanged and is recorded, as before.
func TestGoodFilesPass(t *testing.T) {
	cases := []struct {
		name  string
		data  []byte
		chunk int // PATCH size; 0: the file in one
	}{
		{"faststart mp4", clip(t, "good-front.mp4", append(append([]string{}, goodArgs...), "-movflags", "+faststart")...), 0},
		{"mp4 with its index last", clip(t, "good-end.mp4", goodArgs...), 0},
		{"mp4 with its index last, in chunks", clip(t, "good-end.mp4", goodArgs...), 1 << 20},
		{"webm without a duration", clip(t, "live.webm", liveArgs...), 0},
		{"webm without a duration, in chunks", clip(t, "live.webm", liveArgs...), 3 << 20},
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					tok, _ := e.invite("AD", "Org "+tc.name, time.Time{})
					url := e.mustCreate(e.srv.URL, tok, int64(len(tc.data)))
					chunk := tc.chunk
					if chunk == 0 {
						chunk = len(tc.data)
					}
					for off := 0; off < len(tc.data); off += chunk {
						end := min(off+chunk, len(tc.data))
						if p := e.patch(url, tok, int64(off), tc.data[off:end]); p.status != http.StatusNoContent {
							t.Fatalf("PATCH at %d: %d %s", off, p.status, p.body)
						}
					}
					id := idOf(url)
					if st := e.statement(id); st.Status != presession.StatusUploaded {
						t.Errorf("statement %s: %s %q; want uploaded", id, st.Status, st.Reason)
					}
					if !e.proc.queued(context.Background(), id) {
						t.Error("not queued for processing")
					}
					if sum(e.stored(id)) != sum(tc.data) {
						t.Error("stored bytes differ from those sent")
					}
				})
			}
		})
	}
}

// BenchmarkRefusedEarly prints how much of each kind of refused file the
// endpoint read before refusing it, as a share of the file (the baseline:
// before, all of it crossed the line).
func BenchmarkRefusedEarly(b *testing.B) {
	const big = 300 << 20
	long := clip(b, "long.mp4", longArgs...)
	longFront := clip(b, "long-front.mp4", append(append([]string{}, longArgs...), "-movflags", "+faststart")...)
	ropts := testenv.RedisDB(b)
	rdb := redis.NewClient(ropts)
	defer rdb.Close()
	m := &received{}
	svc, err := New(Config{MaxUploadBytes: 400 << 20, MaxStatementsPerInvitation: 1 << 20, MaxUploadsPerInvitation: 1 << 20, MaxInvitationBytes: 1 << 62,
		StorageDir: b.TempDir(), ExamineDir: b.TempDir()},
		Deps{Sessions: testSessions(), Signer: token.NewSigner(testSecret), Statements: &redisStatements{rdb: rdb}, Processor: &redisProcessor{rdb: rdb},
			Redis: rdb, Metrics: m})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	mux := http.NewServeMux()
	mux.Handle("/files/", svc.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tok, _ := token.NewSigner(testSecret).SignInvitation(token.Invitation{Session: "t36", Country: "AD", Organisation: "Bench"})
	cases := []struct {
		name string
		size int64
		body func() io.Reader
	}{
		{"random", big, func() io.Reader { return &noise{state: 1} }},
		{"zip", big, func() io.Reader { return zipStream(big - 200) }},
		{"pdf", big, func() io.Reader { return io.MultiReader(strings.NewReader("%PDF-1.7\n"), &noise{state: 2}) }},
		{"too-long-index-first", int64(len(longFront)), func() io.Reader { return bytes.NewReader(longFront) }},
		{"too-long-index-last", int64(len(long)), func() io.Reader { return bytes.NewReader(long) }},
	}
	got := make([]int64, len(cases))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, tc := range cases {
			req, _ := http.NewRequest("POST", srv.URL+"/files/", nil)
			req.Header.Set("Tus-Resumable", "1.0.0")
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Upload-Length", strconv.FormatInt(tc.size, 10))
			req.Header.Set("Upload-Metadata", encodeMeta(goodMeta()))
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != http.StatusCreated {
				b.Fatalf("create: %v %v", err, res)
			}
			res.Body.Close()
			before := m.n.Load()
			req, _ = http.NewRequest("PATCH", res.Header.Get("Location"), io.LimitReader(tc.body(), tc.size))
			req.ContentLength = tc.size
			req.Header.Set("Tus-Resumable", "1.0.0")
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Upload-Offset", "0")
			req.Header.Set("Content-Type", "application/offset+octet-stream")
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
				if res.StatusCode != http.StatusUnprocessableEntity {
					b.Fatalf("%s: %d, want 422", tc.name, res.StatusCode)
				}
			}
			got[j] += m.n.Load() - before
			if i == b.N-1 {
				n := got[j] / int64(b.N)
				fmt.Printf("refused early: %-22s the endpoint read %s of %s (%.4f of the file)\n", tc.name, HumanBytes(n), HumanBytes(tc.size), float64(n)/float64(tc.size))
				b.ReportMetric(float64(n)/(1<<10), tc.name+"-KiB-read")
				b.ReportMetric(float64(n)/float64(tc.size), tc.name+"-read/size")
			}
		}
	}
}
