package playlist

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/metrics"
	"github.com/uprinfo/presession/storage"
)

// countingStore counts the storage reads of each key (Get and Open), and
// can hold the Gets of one key until released: concurrent requests then
// pile up behind the first read.
type countingStore struct {
	Store
	mu    sync.Mutex
	reads map[string]int
	hold  string        // key whose Gets wait for release
	gate  chan struct{} // closed to release them
}

func newCountingStore(s Store) *countingStore {
	return &countingStore{Store: s, reads: map[string]int{}}
}

func (c *countingStore) count(key string) {
	c.mu.Lock()
	c.reads[key]++
	c.mu.Unlock()
}

func (c *countingStore) Reads(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads[key]
}

func (c *countingStore) Get(ctx context.Context, key string, rng *presession.Range) (io.ReadCloser, presession.ObjectInfo, error) {
	c.count(key)
	c.mu.Lock()
	gate := c.gate
	held := key == c.hold
	c.mu.Unlock()
	if held && gate != nil {
		<-gate
	}
	return c.Store.Get(ctx, key, rng)
}

func (c *countingStore) Open(ctx context.Context, key string) (io.ReadSeekCloser, presession.ObjectInfo, error) {
	c.count(key)
	return c.Store.Open(ctx, key)
}

// cacheCounts records what the cache reports, as the metrics do.
type cacheCounts struct {
	mu      sync.Mutex
	lookups map[metrics.MediaKind]map[metrics.CacheResult]int
	evicted int
	bytes   int64
	objects int
}

func newCacheCounts() *cacheCounts {
	return &cacheCounts{lookups: map[metrics.MediaKind]map[metrics.CacheResult]int{}}
}

func (c *cacheCounts) CacheLookup(kind metrics.MediaKind, r metrics.CacheResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lookups[kind] == nil {
		c.lookups[kind] = map[metrics.CacheResult]int{}
	}
	c.lookups[kind][r]++
}

func (c *cacheCounts) CacheSize(bytes int64, objects int) {
	c.mu.Lock()
	c.bytes, c.objects = bytes, objects
	c.mu.Unlock()
}

func (c *cacheCounts) CacheEvicted(n int) {
	c.mu.Lock()
	c.evicted += n
	c.mu.Unlock()
}

func (c *cacheCounts) get(kind metrics.MediaKind, r metrics.CacheResult) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lookups[kind][r]
}

// cachedEnv is a playlist service with a media cache of size bytes in
// front of a counting store: a directory, or a bucket of the test S3.
func cachedEnv(t *testing.T, backend string, size int64) (*env, *countingStore, *cacheCounts) {
	t.Helper()
	var inner Store
	if backend == "s3" {
		cfg := testenv.S3Bucket(t)
		s3, err := storage.NewS3(context.Background(), storage.Config{Endpoint: cfg.Endpoint, Region: cfg.Region, Bucket: cfg.Bucket, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey})
		if err != nil {
			t.Fatal(err)
		}
		inner = s3
	} else {
		d, err := storage.NewDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		inner = d
	}
	cs := newCountingStore(inner)
	e := newEnv(t, cs)
	counts := newCacheCounts()
	e.h.Media = NewMediaCache(size, counts)
	return e, cs, counts
}

// readStored returns the bytes stored at key, without counting.
func readStored(t *testing.T, cs *countingStore, key string) []byte {
	t.Helper()
	body, _, err := cs.Store.Get(context.Background(), key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMediaCacheServes: on a directory and on S3, a segment, an init
// segment, an image and a shifted segment are read from storage once and
// then served from memory, whole and by range, with their validators; N
// concurrent requests for one object that is not yet in memory make one
// storage read between them.
func TestMediaCacheServes(t *testing.T) {
	for _, backend := range []string{"dir", "s3"} {
		t.Run(backend, func(t *testing.T) {
			e, cs, counts := cachedEnv(t, backend, 64<<20)
			st := genStatement(t, cs.Store, "c1", "AD", 4, clipLo)
			st.Media.Version = "g1"
			e.cat.Put(st)
			key := e.viewer("upr36", "AD", time.Hour)
			for _, tc := range []struct {
				path, key string
				kind      metrics.MediaKind
			}{
				{"hls/240p/seg_00000.m4s?v=g1", "statements/c1/hls/240p/seg_00000.m4s", metrics.MediaSegment},
				{"hls/240p/init.mp4?v=g1", "statements/c1/hls/240p/init.mp4", metrics.MediaInit},
				{"poster.jpg?v=g1", "statements/c1/poster.jpg", metrics.MediaImage},
				{"hls/240p/seg_00001.m4s?v=g1&at=12.5", "statements/c1/hls/240p/seg_00001.m4s", metrics.MediaShifted},
			} {
				t.Run(string(tc.kind), func(t *testing.T) {
					want := readStored(t, cs, tc.key)
					if tc.kind == metrics.MediaShifted {
						scales, err := Timescales(readStored(t, cs, "statements/c1/hls/240p/init.mp4"))
						if err != nil {
							t.Fatal(err)
						}
						if err := Shift(want, scales, 12.5); err != nil {
							t.Fatal(err)
						}
					}
					before := cs.Reads(tc.key)
					first := e.get("/media/c1/"+tc.path+"&key="+key, "")
					if first.status != 200 || first.body != string(want) {
						t.Fatalf("first: %d, %d bytes, want 200 and the %d stored", first.status, len(first.body), len(want))
					}
					tag := first.header.Get("ETag")
					for i, rq := range []struct {
						hdr        []string
						status     int
						start, end int
					}{
						{nil, 200, 0, len(want)},
						{[]string{"Range", "bytes=100-199"}, 206, 100, 200},
						{[]string{"Range", "bytes=-50"}, 206, len(want) - 50, len(want)},
						{[]string{"If-None-Match", tag}, 304, 0, 0},
					} {
						r := e.get("/media/c1/"+tc.path+"&key="+key, "", rq.hdr...)
						if r.status != rq.status || r.body != string(want[rq.start:rq.end]) {
							t.Errorf("request %d %v: %d, %d bytes; want %d and bytes %d–%d", i, rq.hdr, r.status, len(r.body), rq.status, rq.start, rq.end)
						}
						if rq.status == 206 && r.header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", rq.start, rq.end-1, len(want)) {
							t.Errorf("request %d: Content-Range %q", i, r.header.Get("Content-Range"))
						}
					}
					if n := cs.Reads(tc.key) - before; n != 1 {
						t.Errorf("%d storage reads of %s for 5 requests, want 1", n, tc.key)
					}
					if h, m := counts.get(tc.kind, metrics.CacheHit), counts.get(tc.kind, metrics.CacheMiss); h != 4 || m != 1 {
						t.Errorf("%s: %d hits, %d misses; want 4 and 1", tc.kind, h, m)
					}
				})
			}

			// Concurrent misses: the first read is held until every
			// request has arrived.
			const n = 16
			segKey := "statements/c1/hls/240p/seg_00001.m4s"
			want := readStored(t, cs, segKey)
			gate := make(chan struct{})
			cs.mu.Lock()
			cs.hold, cs.gate = segKey, gate
			cs.mu.Unlock()
			var arrived atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				arrived.Add(1)
				e.srv.Config.Handler.ServeHTTP(w, r)
			}))
			defer srv.Close()
			before := cs.Reads(segKey)
			bodies := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					res, err := http.Get(srv.URL + "/media/c1/hls/240p/seg_00001.m4s?v=g1&key=" + key)
					if err != nil {
						t.Error(err)
						return
					}
					defer res.Body.Close()
					b, _ := io.ReadAll(res.Body)
					bodies[i] = string(b)
				})
			}
			for arrived.Load() < n {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // let them reach the cache; the count holds either way
			close(gate)
			wg.Wait()
			for i, b := range bodies {
				if b != string(want) {
					t.Errorf("request %d: %d bytes, want the %d stored", i, len(b), len(want))
				}
			}
			if got := cs.Reads(segKey) - before; got != 1 {
				t.Errorf("%d concurrent requests made %d storage reads, want 1", n, got)
			}
			miss, shared, hit := counts.get(metrics.MediaSegment, metrics.CacheMiss), counts.get(metrics.MediaSegment, metrics.CacheCollapsed), counts.get(metrics.MediaSegment, metrics.CacheHit)
			if miss != 2 || miss+shared+hit != 5+n {
				t.Errorf("segment lookups: %d misses, %d collapsed, %d hits; want 2 misses of %d", miss, shared, hit, 5+n)
			}
			t.Logf("%d concurrent requests: %d collapsed into the one read", n, shared)
		})
	}
}

// TestMediaCacheEviction: the cache holds at most its size, dropping the
// least recently used object first, and keeps no object larger than a
// sixteenth of it.
func TestMediaCacheEviction(t *testing.T) {
	counts := newCacheCounts()
	c := NewMediaCache(16<<10, counts) // objects up to 1 KiB
	loads := map[string]int{}
	get := func(key string, size int) {
		t.Helper()
		o, err := c.get(context.Background(), key, metrics.MediaSegment, func(_ context.Context, limit int64) (*cached, error) {
			loads[key]++
			if int64(size) > limit {
				return nil, errTooLarge
			}
			return &cached{body: bytes.Repeat([]byte{'x'}, size)}, nil
		})
		if size > 1<<10 {
			if err != errTooLarge {
				t.Fatalf("%s: %v, want errTooLarge", key, err)
			}
			return
		}
		if err != nil || len(o.body) != size {
			t.Fatalf("%s: %v", key, err)
		}
	}
	for i := range 12 {
		get(fmt.Sprint("k", i), 1000)
	}
	objects, size := c.Len()
	if objects != 12 || size > 16<<10 || counts.evicted != 0 {
		t.Fatalf("12 objects of 1000 bytes: %d held, %d bytes, %d evicted", objects, size, counts.evicted)
	}
	get("k0", 1000) // k0 used again: k1 is now the least recent
	for i := 12; i < 20; i++ {
		get(fmt.Sprint("k", i), 1000)
	}
	objects, size = c.Len()
	if size > 16<<10 || objects >= 20 || counts.evicted != 20-objects || counts.bytes != size || counts.objects != objects {
		t.Fatalf("20 objects: %d held, %d bytes, %d evicted; reported %d, %d", objects, size, counts.evicted, counts.objects, counts.bytes)
	}
	for _, tc := range []struct {
		key  string
		kept bool
	}{{"k0", true}, {"k1", false}, {"k2", false}, {"k19", true}} {
		n := loads[tc.key]
		get(tc.key, 1000)
		if kept := loads[tc.key] == n; kept != tc.kept {
			t.Errorf("%s kept: %v, want %v", tc.key, kept, tc.kept)
		}
	}
	for range 3 {
		get("big", 4<<10)
	}
	if loads["big"] != 3 || counts.get(metrics.MediaSegment, metrics.CacheBypass) != 3 {
		t.Errorf("an object over the bound: %d loads, %d bypasses; want 3 of each", loads["big"], counts.get(metrics.MediaSegment, metrics.CacheBypass))
	}
	if _, size := c.Len(); size > 16<<10 {
		t.Errorf("%d bytes held, over 16 KiB", size)
	}
	off := NewMediaCache(0, nil)
	if off.Enabled() || (*MediaCache)(nil).Enabled() {
		t.Error("a cache of 0 bytes (or none) is enabled")
	}
}

// TestMediaCacheControl: what each kind of media may be kept as, by
// version, state and credential.
func TestMediaCacheControl(t *testing.T) {
	e, cs, _ := cachedEnv(t, "dir", 64<<20)
	st := genStatement(t, cs.Store, "h1", "AD", 4, clipLo)
	st.Media.Version = "g1"
	e.cat.Put(st)
	old := genStatement(t, cs.Store, "h0", "AD", 4, clipLo) // media from before versions
	e.cat.Put(old)
	key := e.viewer("upr36", "AD", time.Hour)
	files := []struct {
		rel    string
		legacy string
	}{
		{"hls/240p/seg_00000.m4s", segmentCache},
		{"hls/240p/seg_00001.m4s?at=8", segmentCache},
		{"hls/240p/init.mp4", segmentCache},
		{"poster.jpg", fileCache},
		{"thumb.jpg", fileCache},
	}
	with := func(rel, q string) string {
		if strings.Contains(rel, "?") {
			return rel + "&" + q
		}
		return rel + "?" + q
	}
	for _, f := range files {
		for _, tc := range []struct {
			name, path, bearer, want string
		}{
			{"version, viewer key", "/media/h1/" + with(f.rel, "v=g1&key="+key), "", sharedImmutable},
			{"version, staff", "/media/h1/" + with(f.rel, "v=g1"), e.staff, segmentCache},
			{"another version", "/media/h1/" + with(f.rel, "v=g0&key="+key), "", revalidateCache},
			{"no version in the URL", "/media/h1/" + with(f.rel, "key="+key), "", revalidateCache},
			{"media before versions", "/media/h0/" + with(f.rel, "key="+key), "", f.legacy},
		} {
			r := e.get(tc.path, tc.bearer)
			if r.status != 200 || r.header.Get("Cache-Control") != tc.want {
				t.Errorf("%s, %s: %d %q, want %q", f.rel, tc.name, r.status, r.header.Get("Cache-Control"), tc.want)
			}
		}
	}
	// Being processed again: nothing is kept, by anyone.
	e.move("h1", presession.StatusReady, presession.StatusProcessing)
	for _, f := range files {
		if r := e.get("/media/h1/"+with(f.rel, "v=g1"), e.staff); r.status != 200 || r.header.Get("Cache-Control") != revalidateCache {
			t.Errorf("%s while processing: %d %q, want %q", f.rel, r.status, r.header.Get("Cache-Control"), revalidateCache)
		}
	}
}

// TestMediaCacheReprocessed: a statement processed again has its files
// rewritten under the same keys and a new version; nothing of the old
// media is served for it afterwards, from memory or in a playlist, and
// while it is being processed its media are read from storage.
func TestMediaCacheReprocessed(t *testing.T) {
	for _, backend := range []string{"dir", "s3"} {
		t.Run(backend, func(t *testing.T) {
			e, cs, _ := cachedEnv(t, backend, 64<<20)
			first := genStatement(t, cs.Store, "p1", "AD", 4, clipLo)
			first.Media.Version = "g1"
			e.cat.Put(genStatement(t, cs.Store, "p0", "AD", 4, clipLo)) // so that p1 is shifted in the stream
			e.cat.Put(first)
			e.rebuild("upr36", "AD")
			key := e.viewer("upr36", "AD", time.Hour)
			seg := "statements/p1/hls/240p/seg_00000.m4s"
			oldSeg, newSeg := readStored(t, cs, seg), readStored(t, cs, "statements/p1/hls/240p/seg_00001.m4s")
			if bytes.Equal(oldSeg, newSeg) {
				t.Fatal("the two segments are the same bytes")
			}
			rung := e.get("/playlists/upr36/AD/240p.m3u8?key="+key, "")
			at := ""
			for _, line := range strings.Split(rung.body, "\n") {
				if strings.HasPrefix(line, "/media/p1/hls/240p/seg_00000.m4s?v=g1&at=") {
					at, _, _ = strings.Cut(strings.TrimPrefix(line, "/media/p1/hls/240p/seg_00000.m4s?v=g1&at="), "&")
				}
			}
			if at == "" || !strings.Contains(rung.body, `#EXT-X-MAP:URI="/media/p1/hls/240p/init.mp4?v=g1&key=`) {
				t.Fatalf("the stitched rung does not list p1's media at version g1:\n%s", rung.body)
			}
			// Into memory: the segment as stored, and as shifted.
			raw := "/media/p1/hls/240p/seg_00000.m4s?v=g1&key=" + key
			shifted := "/media/p1/hls/240p/seg_00000.m4s?v=g1&at=" + at + "&key=" + key
			if r := e.get(raw, ""); r.body != string(oldSeg) {
				t.Fatal("first read: not the stored segment")
			}
			oldShifted := e.get(shifted, "").body

			// Processing again: the worker rewrites the files, then the
			// record names their new version, then the statement is ready
			// and approved again.
			e.move("p1", presession.StatusReady, presession.StatusProcessing)
			if err := cs.Store.Put(context.Background(), seg, bytes.NewReader(newSeg), int64(len(newSeg)), storage.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			if r := e.get("/media/p1/hls/240p/seg_00000.m4s?v=g1", e.staff); r.body != string(newSeg) || r.header.Get("Cache-Control") != revalidateCache {
				t.Errorf("while processing: %d bytes (new: %v), %q; want the new bytes, %q", len(r.body), r.body == string(newSeg), r.header.Get("Cache-Control"), revalidateCache)
			}
			cur, _ := e.cat.Get(context.Background(), "p1")
			cur.Media.Version = "g2"
			e.cat.Put(cur)
			e.move("p1", presession.StatusReady, presession.StatusApproved)
			e.rebuild("upr36", "AD")

			rung = e.get("/playlists/upr36/AD/240p.m3u8?key="+key, "")
			if strings.Contains(rung.body, "v=g1") || !strings.Contains(rung.body, "/media/p1/hls/240p/seg_00000.m4s?v=g2&at="+at) {
				t.Errorf("the rebuilt rung still names version g1, or not g2:\n%s", rung.body)
			}
			own := e.get("/media/p1/hls/240p/index.m3u8?key="+key, "")
			if !strings.Contains(own.body, "seg_00000.m4s?v=g2&key=") || !strings.Contains(own.body, `init.mp4?v=g2&key=`) {
				t.Errorf("the statement's own playlist does not name version g2:\n%s", own.body)
			}
			for _, q := range []string{"v=g2", "v=g1", ""} {
				r := e.get("/media/p1/hls/240p/seg_00000.m4s?"+q+"&key="+key, "")
				if r.body != string(newSeg) {
					t.Errorf("?%s after reprocessing: the old segment (%v)", q, r.body == string(oldSeg))
				}
			}
			newShifted := e.get("/media/p1/hls/240p/seg_00000.m4s?v=g2&at="+at+"&key="+key, "")
			if newShifted.body == oldShifted || newShifted.header.Get("Cache-Control") != sharedImmutable {
				t.Errorf("shifted after reprocessing: the old bytes (%v), %q", newShifted.body == oldShifted, newShifted.header.Get("Cache-Control"))
			}
		})
	}
}

// TestMediaCacheAccess: what is in memory is served only to whom storage
// would have served it: access is decided before the cache is asked.
func TestMediaCacheAccess(t *testing.T) {
	e, cs, counts := cachedEnv(t, "dir", 64<<20)
	st := genStatement(t, cs.Store, "a1", "AD", 4, clipLo)
	st.Media.Version = "g1"
	e.cat.Put(st)
	pending := genStatement(t, cs.Store, "a2", "AD", 4, clipLo)
	pending.Media.Version = "g1"
	pending.Status = presession.StatusReady
	e.cat.Put(pending)
	ad, hr := e.viewer("upr36", "AD", time.Hour), e.viewer("upr36", "HR", time.Hour)
	for _, p := range []string{"hls/240p/seg_00000.m4s?v=g1", "hls/240p/init.mp4?v=g1", "poster.jpg?v=g1", "hls/240p/seg_00001.m4s?v=g1&at=8"} {
		if r := e.get("/media/a1/"+p+"&key="+ad, ""); r.status != 200 {
			t.Fatalf("%s for Andorra's viewer: %d", p, r.status)
		}
		if r := e.get("/media/a2/"+p, e.staff); r.status != 200 {
			t.Fatalf("%s of a statement awaiting review, for staff: %d", p, r.status)
		}
		for _, tc := range []struct {
			name, path, bearer string
			status             int
		}{
			{"another country's viewer", "/media/a1/" + p + "&key=" + hr, "", 404},
			{"no credential", "/media/a1/" + p, "", 401},
			{"a bad key", "/media/a1/" + p + "&key=nope", "", 401},
			{"Andorra's viewer, a statement not approved", "/media/a2/" + p + "&key=" + ad, "", 404},
		} {
			if r := e.get(tc.path, tc.bearer); r.status != tc.status || strings.Contains(r.body, "ftyp") {
				t.Errorf("%s, %s: %d, want %d", p, tc.name, r.status, tc.status)
			}
		}
	}
	if counts.get(metrics.MediaSegment, metrics.CacheHit) != 0 {
		t.Errorf("a refused request counted as a hit")
	}
}

// TestBuildNamesMediaVersions: a build lists each statement's segments,
// init segments, posters and thumbnails at its media version (the shift
// after it), and those of media without a version as before.
func TestBuildNamesMediaVersions(t *testing.T) {
	a := fakeStatement("va", []float64{6, 4}, r720)
	b := fakeStatement("vb", []float64{6, 4}, r720)
	a.Media.Version, b.Media.Version = "aaaa", "bb/b" // escaped in URLs
	c := fakeStatement("vc", []float64{6, 4}, r720)
	res, err := Build(Input{Session: testSession(), Country: testCountry(), Statements: []*presession.Statement{a, b, c}})
	if err != nil {
		t.Fatal(err)
	}
	rung := res.Files["720p.m3u8"]
	for _, want := range []string{
		`#EXT-X-MAP:URI="/media/va/hls/720p/init.mp4?v=aaaa"`, "\n/media/va/hls/720p/seg_00001.m4s?v=aaaa\n",
		`#EXT-X-MAP:URI="/media/vb/hls/720p/init.mp4?v=bb%2Fb"`, "\n/media/vb/hls/720p/seg_00000.m4s?v=bb%2Fb&at=10\n",
		`#EXT-X-MAP:URI="/media/vc/hls/720p/init.mp4"`, "\n/media/vc/hls/720p/seg_00000.m4s?at=20\n",
	} {
		if !strings.Contains(rung, want) {
			t.Errorf("rung lacks %q:\n%s", want, rung)
		}
	}
	items := res.Playlist.Statements
	if items[0].Poster != "/media/va/poster.jpg?v=aaaa" || items[0].Thumbnail != "/media/va/thumb.jpg?v=aaaa" ||
		items[0].HLS != "/media/va/hls/master.m3u8" || items[0].MP4 != "/media/va/download.mp4" || items[2].Poster != "/media/vc/poster.jpg" {
		t.Errorf("items: %+v", items)
	}
	if keyed := WithKey(rung, "K"); !strings.Contains(keyed, "/media/vb/hls/720p/seg_00000.m4s?v=bb%2Fb&at=10&key=K\n") {
		t.Errorf("keyed rung:\n%s", keyed)
	}
}
