package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/storage"
)

// backend opens a fresh, empty store of one kind for a test.
type backend struct {
	name string
	open func(t *testing.T) storage.Store
}

var backends = []backend{
	{"dir", func(t *testing.T) storage.Store {
		t.Helper()
		d, err := storage.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return d
	}},
	{"s3", func(t *testing.T) storage.Store {
		t.Helper()
		b := testenv.S3Bucket(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := storage.NewS3(ctx, storage.Config{
			Endpoint: b.Endpoint, Region: b.Region, Bucket: b.Bucket,
			AccessKey: b.AccessKey, SecretKey: b.SecretKey,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

// conformance is the behaviour both backends must share.
var conformance = []struct {
	name string
	run  func(t *testing.T, ctx context.Context, s storage.Store)
}{
	{"PutGetStat", func(t *testing.T, ctx context.Context, s storage.Store) {
		data := pattern(1000, 1)
		put(t, s, "a/b/c.bin", data, storage.PutOptions{ContentType: "application/x-test", CacheControl: "max-age=60"})
		got, info := get(t, s, "a/b/c.bin", nil)
		if !bytes.Equal(got, data) {
			t.Fatalf("Get returned %d bytes, not what was put", len(got))
		}
		want := storage.ObjectInfo{Key: "a/b/c.bin", Size: 1000, ContentType: "application/x-test", CacheControl: "max-age=60"}
		checkInfo(t, "Get", info, want)
		st, err := s.Stat(ctx, "a/b/c.bin")
		if err != nil {
			t.Fatal(err)
		}
		checkInfo(t, "Stat", st, want)
		if st.ETag == "" || info.ETag != st.ETag {
			t.Errorf("ETag: Get %q, Stat %q", info.ETag, st.ETag)
		}
		if d := time.Since(st.ModTime); d < -time.Minute || d > time.Minute {
			t.Errorf("ModTime %v is not about now", st.ModTime)
		}
	}},
	{"EmptyObject", func(t *testing.T, ctx context.Context, s storage.Store) {
		put(t, s, "empty", nil, storage.PutOptions{})
		got, info := get(t, s, "empty", nil)
		if len(got) != 0 || info.Size != 0 {
			t.Fatalf("got %d bytes, size %d", len(got), info.Size)
		}
		if _, _, err := s.Get(ctx, "empty", &storage.Range{Start: 0, End: -1}); !errors.Is(err, storage.ErrInvalidRange) {
			t.Fatalf("range on empty object: %v, want ErrInvalidRange", err)
		}
	}},
	{"UnknownSizeMultipart", func(t *testing.T, ctx context.Context, s storage.Store) {
		const n = storage.PartSize + 3<<20 // two parts on S3
		h := sha256.New()
		r := io.TeeReader(io.LimitReader(newPatternReader(7), n), h)
		if err := s.Put(ctx, "big/unknown.mp4", onlyReader{r}, -1, storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		rc, info, err := s.Get(ctx, "big/unknown.mp4", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if info.Size != n || info.ContentType != "video/mp4" {
			t.Errorf("info %+v, want size %d, video/mp4", info, n)
		}
		checkHash(t, rc, h)
	}},
	{"ShortReaderFails", func(t *testing.T, ctx context.Context, s storage.Store) {
		if err := s.Put(ctx, "short", bytes.NewReader(make([]byte, 10)), 20, storage.PutOptions{}); err == nil {
			t.Fatal("Put of 10 bytes declared as 20 succeeded")
		}
		if _, err := s.Stat(ctx, "short"); presession.ErrorCode(err) != presession.ENOTFOUND {
			t.Fatalf("after a failed Put, Stat = %v, want ENOTFOUND", err)
		}
	}},
	{"CanceledPut", func(t *testing.T, ctx context.Context, s storage.Store) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Put(cctx, "canceled", bytes.NewReader([]byte("x")), 1, storage.PutOptions{}); err == nil {
			t.Fatal("Put with a canceled context succeeded")
		}
		if _, err := s.Stat(ctx, "canceled"); presession.ErrorCode(err) != presession.ENOTFOUND {
			t.Fatalf("after a canceled Put, Stat = %v, want ENOTFOUND", err)
		}
	}},
	{"Range", func(t *testing.T, ctx context.Context, s storage.Store) {
		data := pattern(1000, 2)
		put(t, s, "r/obj", data, storage.PutOptions{})
		for _, c := range []struct {
			rng        storage.Range
			start, end int // data[start:end]
		}{
			{storage.Range{Start: 0, End: 9}, 0, 10},          // first bytes
			{storage.Range{Start: 100, End: 199}, 100, 200},   // middle
			{storage.Range{Start: 990, End: -1}, 990, 1000},   // from an offset to the end
			{storage.Range{Start: -10, End: -1}, 990, 1000},   // suffix: the last 10 bytes
			{storage.Range{Start: 995, End: 5000}, 995, 1000}, // end clamped
			{storage.Range{Start: 999, End: 999}, 999, 1000},  // last byte
			{storage.Range{Start: 0, End: -1}, 0, 1000},       // all
		} {
			got, info := get(t, s, "r/obj", &c.rng)
			if !bytes.Equal(got, data[c.start:c.end]) {
				t.Errorf("%s: got %d bytes, want data[%d:%d]", c.rng, len(got), c.start, c.end)
			}
			if info.Size != 1000 {
				t.Errorf("%s: info.Size %d, want the whole object's 1000", c.rng, info.Size)
			}
		}
		for _, rng := range []storage.Range{{Start: 1000, End: -1}, {Start: 2000, End: 3000}, {Start: 5, End: 4}} {
			if _, _, err := s.Get(ctx, "r/obj", &rng); !errors.Is(err, storage.ErrInvalidRange) {
				t.Errorf("%s: err %v, want ErrInvalidRange", rng, err)
			}
		}
	}},
	{"ContentTypeInferred", func(t *testing.T, ctx context.Context, s storage.Store) {
		for key, want := range map[string]string{
			"hls/master.m3u8":  "application/vnd.apple.mpegurl",
			"hls/720/seg.m4s":  "video/iso.segment",
			"dl/statement.mp4": "video/mp4",
			"img/poster.jpg":   "image/jpeg",
			"cap/en.vtt":       "text/vtt; charset=utf-8",
			"manifest.json":    "application/json",
			"noext":            "application/octet-stream",
		} {
			put(t, s, key, []byte("x"), storage.PutOptions{})
			st, err := s.Stat(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			if st.ContentType != want || st.CacheControl != "" {
				t.Errorf("%s: content type %q, cache control %q; want %q, none", key, st.ContentType, st.CacheControl, want)
			}
		}
	}},
	{"Overwrite", func(t *testing.T, ctx context.Context, s storage.Store) {
		put(t, s, "o/x.m3u8", []byte("first version, longer"), storage.PutOptions{ContentType: "text/plain", CacheControl: "no-store"})
		put(t, s, "o/x.m3u8", []byte("second"), storage.PutOptions{})
		got, info := get(t, s, "o/x.m3u8", nil)
		if string(got) != "second" {
			t.Fatalf("got %q after overwrite", got)
		}
		checkInfo(t, "Get", info, storage.ObjectInfo{Key: "o/x.m3u8", Size: 6, ContentType: "application/vnd.apple.mpegurl"})
		objs := list(t, s, "o/")
		if len(objs) != 1 {
			t.Fatalf("List after overwrite: %v", keys(objs))
		}
	}},
	{"List", func(t *testing.T, ctx context.Context, s storage.Store) {
		all := []string{"s/1/a.m4s", "s/1/b/c.ts", "s/1/b/d/e.vtt", "s/10/x", "s/2", "t/z", "u"}
		for i, k := range slices.Backward(all) { // put out of order
			put(t, s, k, pattern(i+1, byte(i)), storage.PutOptions{CacheControl: "max-age=1"})
		}
		for prefix, want := range map[string][]string{
			"":         all,
			"s/1":      {"s/1/a.m4s", "s/1/b/c.ts", "s/1/b/d/e.vtt", "s/10/x"},
			"s/1/":     {"s/1/a.m4s", "s/1/b/c.ts", "s/1/b/d/e.vtt"},
			"s/1/b/":   {"s/1/b/c.ts", "s/1/b/d/e.vtt"},
			"s/1/b/c":  {"s/1/b/c.ts"},
			"s/2":      {"s/2"},
			"u":        {"u"},
			"none/":    nil,
			"s/1/a.m4": {"s/1/a.m4s"},
		} {
			got := list(t, s, prefix)
			if !slices.Equal(keys(got), want) {
				t.Errorf("List(%q) = %q, want %q", prefix, keys(got), want)
			}
			for _, o := range got {
				if o.Size != int64(slices.Index(all, o.Key)+1) || o.ETag == "" || o.ModTime.IsZero() {
					t.Errorf("List(%q): %+v: wrong size or missing ETag/ModTime", prefix, o)
				}
			}
		}
	}},
	{"Delete", func(t *testing.T, ctx context.Context, s storage.Store) {
		put(t, s, "d/a", []byte("a"), storage.PutOptions{CacheControl: "no-cache"})
		put(t, s, "d/b", []byte("b"), storage.PutOptions{})
		for range 2 { // the second time the key is missing: still no error
			if err := s.Delete(ctx, "d/a"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Stat(ctx, "d/a"); presession.ErrorCode(err) != presession.ENOTFOUND {
			t.Fatalf("Stat after Delete: %v", err)
		}
		if err := s.Delete(ctx, "never/was"); err != nil {
			t.Fatalf("Delete of a missing key: %v", err)
		}
		if got := keys(list(t, s, "")); !slices.Equal(got, []string{"d/b"}) {
			t.Fatalf("left %q", got)
		}
	}},
	{"DeletePrefix", func(t *testing.T, ctx context.Context, s storage.Store) {
		for _, k := range []string{"st/1/hls/a.m4s", "st/1/hls/b.m4s", "st/1/src", "st/10/src", "st/2/src"} {
			put(t, s, k, []byte(k), storage.PutOptions{CacheControl: "max-age=5"})
		}
		if err := s.DeletePrefix(ctx, "st/1/"); err != nil {
			t.Fatal(err)
		}
		if got := keys(list(t, s, "")); !slices.Equal(got, []string{"st/10/src", "st/2/src"}) {
			t.Fatalf("after DeletePrefix(st/1/): %q", got)
		}
		if err := s.DeletePrefix(ctx, "nothing/"); err != nil {
			t.Fatalf("DeletePrefix of nothing: %v", err)
		}
		if err := s.DeletePrefix(ctx, ""); !errors.Is(err, storage.ErrInvalidKey) {
			t.Fatalf("DeletePrefix(\"\"): %v, want ErrInvalidKey", err)
		}
		if err := s.DeletePrefix(ctx, "st"); err != nil {
			t.Fatal(err)
		}
		if got := list(t, s, ""); len(got) != 0 {
			t.Fatalf("after DeletePrefix(st): %q", keys(got))
		}
	}},
	{"Missing", func(t *testing.T, ctx context.Context, s storage.Store) {
		put(t, s, "dir/file", []byte("x"), storage.PutOptions{})
		for _, key := range []string{"nope", "dir/nope", "dir", "dir/file/below"} {
			if _, err := s.Stat(ctx, key); presession.ErrorCode(err) != presession.ENOTFOUND {
				t.Errorf("Stat(%q) = %v, want ENOTFOUND", key, err)
			}
			if _, _, err := s.Get(ctx, key, nil); presession.ErrorCode(err) != presession.ENOTFOUND {
				t.Errorf("Get(%q) = %v, want ENOTFOUND", key, err)
			}
			if _, _, err := s.Get(ctx, key, &storage.Range{Start: 0, End: 0}); presession.ErrorCode(err) != presession.ENOTFOUND {
				t.Errorf("Get(%q, range) = %v, want ENOTFOUND", key, err)
			}
			_, err := s.Stat(ctx, key)
			if msg := presession.ErrorMessage(err); msg != "the file "+key+" is not in storage" {
				t.Errorf("Stat(%q): message %q", key, msg)
			}
			if _, _, err := s.Open(ctx, key); presession.ErrorCode(err) != presession.ENOTFOUND {
				t.Errorf("Open(%q) = %v, want ENOTFOUND", key, err)
			}
		}
	}},
	{"Open", func(t *testing.T, ctx context.Context, s storage.Store) {
		data := pattern(5000, 4)
		put(t, s, "o/seg.m4s", data, storage.PutOptions{CacheControl: "max-age=60"})
		st, err := s.Stat(ctx, "o/seg.m4s")
		if err != nil {
			t.Fatal(err)
		}
		f, info, err := s.Open(ctx, "o/seg.m4s")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		checkInfo(t, "Open", info, storage.ObjectInfo{Key: "o/seg.m4s", Size: 5000, ContentType: "video/iso.segment", CacheControl: "max-age=60"})
		if info.ETag != st.ETag || !info.ModTime.Equal(st.ModTime) {
			t.Errorf("Open: ETag %q, ModTime %v; Stat: %q, %v", info.ETag, info.ModTime, st.ETag, st.ModTime)
		}
		for _, tc := range []struct {
			off    int64
			whence int
			n      int
			want   []byte
		}{
			{0, io.SeekStart, 100, data[:100]},
			{100, io.SeekCurrent, 50, data[200:250]},
			{-50, io.SeekEnd, 100, data[4950:]},
			{10, io.SeekStart, 10, data[10:20]},
		} {
			if _, err := f.Seek(tc.off, tc.whence); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(io.LimitReader(f, int64(tc.n)))
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("Seek(%d, %d), read %d: %d bytes, %v", tc.off, tc.whence, tc.n, len(got), err)
			}
		}
		// What HTTP serving does with it: Range requests read only their bytes.
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/x", nil)
		req.Header.Set("Range", "bytes=1000-1099")
		http.ServeContent(rec, req, "", info.ModTime, f)
		if rec.Code != http.StatusPartialContent || !bytes.Equal(rec.Body.Bytes(), data[1000:1100]) {
			t.Fatalf("ServeContent of a range: %d, %d bytes", rec.Code, rec.Body.Len())
		}
		if _, _, err := s.Open(ctx, "../x"); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Open(../x) = %v, want ErrInvalidKey", err)
		}
	}},
	{"PublicURL", func(t *testing.T, ctx context.Context, s storage.Store) {
		data := pattern(300, 5)
		put(t, s, "p/v.mp4", data, storage.PutOptions{})
		u, err := s.PublicURL(ctx, "p/v.mp4", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PublicURL(ctx, "a//b", time.Minute); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("PublicURL(a//b) = %v, want ErrInvalidKey", err)
		}
		if _, ok := s.(*storage.Dir); ok {
			if u != "" {
				t.Fatalf("Dir PublicURL = %q, want none", u)
			}
			return
		}
		if status, body, _ := fetch(t, u, ""); status != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("GET %s: %d, %d bytes", u, status, len(body))
		}
	}},
	{"InvalidKeys", func(t *testing.T, ctx context.Context, s storage.Store) {
		for _, key := range []string{"", "/abs", "/etc/passwd", "../x", "a/../../x", "a/./b", "..", ".", "a//b", "a/",
			`a\b`, `..\x`, "a\x00b", "a\nb", ".hidden", "a/.b.meta", "a/.tmp-1"} {
			if err := s.Put(ctx, key, strings.NewReader("x"), 1, storage.PutOptions{}); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
			}
			if _, _, err := s.Get(ctx, key, nil); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Get(%q) = %v, want ErrInvalidKey", key, err)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Stat(%q) = %v, want ErrInvalidKey", key, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("Delete(%q) = %v, want ErrInvalidKey", key, err)
			}
			if _, err := s.URL(ctx, key, time.Minute); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("URL(%q) = %v, want ErrInvalidKey", key, err)
			}
		}
		for _, prefix := range []string{"/", "../", "a//", `a\`, "a/.", ".x"} {
			if _, err := s.List(ctx, prefix); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("List(%q) = %v, want ErrInvalidKey", prefix, err)
			}
			if err := s.DeletePrefix(ctx, prefix); !errors.Is(err, storage.ErrInvalidKey) {
				t.Errorf("DeletePrefix(%q) = %v, want ErrInvalidKey", prefix, err)
			}
		}
	}},
	{"PutFile", func(t *testing.T, ctx context.Context, s storage.Store) {
		data := pattern(3<<20, 9)
		path := filepath.Join(t.TempDir(), "source.bin")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.PutFile(ctx, "f/out.mp4", path, storage.PutOptions{CacheControl: "public, max-age=31536000, immutable"}); err != nil {
			t.Fatal(err)
		}
		got, info := get(t, s, "f/out.mp4", nil)
		if !bytes.Equal(got, data) {
			t.Fatal("PutFile: content differs")
		}
		checkInfo(t, "Get", info, storage.ObjectInfo{Key: "f/out.mp4", Size: int64(len(data)), ContentType: "video/mp4", CacheControl: "public, max-age=31536000, immutable"})
		if err := s.PutFile(ctx, "f/none", filepath.Join(t.TempDir(), "missing"), storage.PutOptions{}); err == nil {
			t.Fatal("PutFile of a missing file succeeded")
		}
	}},
	{"URL", func(t *testing.T, ctx context.Context, s storage.Store) {
		data := pattern(5000, 3)
		put(t, s, "u/v.mp4", data, storage.PutOptions{})
		u, err := s.URL(ctx, "u/v.mp4", 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := s.(*storage.Dir); ok {
			if !filepath.IsAbs(u) {
				t.Fatalf("Dir URL %q is not an absolute path", u)
			}
			got, err := os.ReadFile(u)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("reading %s: %v, equal %t", u, err, bytes.Equal(got, data))
			}
			if _, err := s.URL(ctx, "u/missing", time.Minute); presession.ErrorCode(err) != presession.ENOTFOUND {
				t.Fatalf("Dir URL of a missing key: %v", err)
			}
			return
		}
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			t.Fatalf("S3 URL %q is not HTTP", u)
		}
		status, body, hdr := fetch(t, u, "")
		if status != http.StatusOK || !bytes.Equal(body, data) {
			t.Fatalf("GET presigned: %d, %d bytes, equal %t", status, len(body), bytes.Equal(body, data))
		}
		if ct := hdr.Get("Content-Type"); ct != "video/mp4" {
			t.Errorf("presigned GET Content-Type %q", ct)
		}
		status, body, hdr = fetch(t, u, "bytes=100-199")
		if status != http.StatusPartialContent || !bytes.Equal(body, data[100:200]) || hdr.Get("Content-Range") != "bytes 100-199/5000" {
			t.Fatalf("ranged GET presigned: %d, %d bytes, Content-Range %q", status, len(body), hdr.Get("Content-Range"))
		}
	}},
	{"Ping", func(t *testing.T, ctx context.Context, s storage.Store) {
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}},
}

func TestConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range conformance {
				t.Run(c.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
					defer cancel()
					c.run(t, ctx, b.open(t))
				})
			}
		})
	}
}

// TestLargeObjectBoundedMemory streams a 200 MiB object through each
// backend, in and out, and checks that the heap never grows by more than
// a bounded amount: nothing holds the object in memory.
func TestLargeObjectBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("200 MiB")
	}
	const (
		size  = 200 << 20
		limit = 64 << 20 // heap growth allowed above the baseline
	)
	for _, b := range backends {
		for _, known := range []bool{true, false} {
			name := b.name + "/size-known"
			if !known {
				name = b.name + "/size-unknown"
			}
			t.Run(name, func(t *testing.T) {
				// Not parallel: the heap is shared by the whole test binary.
				s := b.open(t)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()

				m := startHeapMonitor()
				h := sha256.New()
				var src io.Reader = onlyReader{io.TeeReader(io.LimitReader(newPatternReader(42), size), h)}
				n := int64(size)
				if !known {
					n = -1
				}
				start := time.Now()
				if err := s.Put(ctx, "large/source.mp4", src, n, storage.PutOptions{}); err != nil {
					t.Fatal(err)
				}
				putTime := time.Since(start)
				start = time.Now()
				rc, info, err := s.Get(ctx, "large/source.mp4", nil)
				if err != nil {
					t.Fatal(err)
				}
				checkHash(t, rc, h)
				rc.Close()
				getTime := time.Since(start)
				base, peak := m.stop()
				if info.Size != size {
					t.Errorf("size %d, want %d", info.Size, size)
				}
				growth := int64(peak) - int64(base)
				t.Logf("200 MiB: put %v, get %v; heap in use baseline %.1f MiB, peak %.1f MiB, growth %.1f MiB (limit %d MiB)",
					putTime.Round(time.Millisecond), getTime.Round(time.Millisecond),
					mib(base), mib(peak), float64(growth)/(1<<20), limit>>20)
				if growth > limit {
					t.Errorf("heap grew by %.1f MiB streaming 200 MiB, limit %d MiB", float64(growth)/(1<<20), limit>>20)
				}
				if err := s.Delete(ctx, "large/source.mp4"); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

type heapMonitor struct {
	base uint64
	peak atomic.Uint64
	done chan struct{}
	wg   sync.WaitGroup
}

// startHeapMonitor records HeapInuse after a GC as the baseline, then
// samples it every 5 ms until stop.
func startHeapMonitor() *heapMonitor {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m := &heapMonitor{base: ms.HeapInuse, done: make(chan struct{})}
	m.peak.Store(ms.HeapInuse)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-m.done:
				return
			case <-tick.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > m.peak.Load() {
				m.peak.Store(ms.HeapInuse)
			}
		}
	}()
	return m
}

func (m *heapMonitor) stop() (base, peak uint64) {
	close(m.done)
	m.wg.Wait()
	return m.base, m.peak.Load()
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// patternReader yields an endless deterministic byte stream without
// holding more than one 64 KiB block: each block is a fixed random-looking
// block with its index mixed into the first eight bytes.
type patternReader struct {
	block []byte
	buf   []byte
	n     uint64
}

func newPatternReader(seed byte) *patternReader {
	return &patternReader{block: pattern(64<<10, seed)}
}

func (p *patternReader) Read(b []byte) (int, error) {
	if len(p.buf) == 0 {
		p.n++
		p.buf = append(p.buf[:0], p.block...)
		binary.LittleEndian.PutUint64(p.buf, p.n*0x9E3779B97F4A7C15)
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	return n, nil
}

// pattern returns n deterministic pseudo-random bytes.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// onlyReader hides every method but Read (io.ReaderAt, WriterTo, Len…),
// as a network stream would.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func put(t *testing.T, s storage.Store, key string, data []byte, o storage.PutOptions) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), o); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t *testing.T, s storage.Store, key string, rng *storage.Range) ([]byte, storage.ObjectInfo) {
	t.Helper()
	rc, info, err := s.Get(context.Background(), key, rng)
	if err != nil {
		t.Fatalf("Get(%q, %v): %v", key, rng, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	return b, info
}

func list(t *testing.T, s storage.Store, prefix string) []storage.ObjectInfo {
	t.Helper()
	objs, err := s.List(context.Background(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return objs
}

func keys(objs []storage.ObjectInfo) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.Key)
	}
	return ks
}

func checkInfo(t *testing.T, op string, got, want storage.ObjectInfo) {
	t.Helper()
	if got.Key != want.Key || got.Size != want.Size || got.ContentType != want.ContentType || got.CacheControl != want.CacheControl {
		t.Errorf("%s: info {Key:%q Size:%d ContentType:%q CacheControl:%q}, want {Key:%q Size:%d ContentType:%q CacheControl:%q}", op,
			got.Key, got.Size, got.ContentType, got.CacheControl, want.Key, want.Size, want.ContentType, want.CacheControl)
	}
}

func checkHash(t *testing.T, r io.Reader, want hash.Hash) {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h.Sum(nil), want.Sum(nil)) {
		t.Fatalf("content read back differs: sha256 %x, put %x", h.Sum(nil), want.Sum(nil))
	}
}

func fetch(t *testing.T, u, rng string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b, resp.Header
}
