package playlist

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/fakes"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/programme"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

// pollLoad has viewers viewers, each with its own connection and URL,
// ask for their URL every period for d (bounded: about d/period requests
// each), starting spread over the first period; it returns every
// request's latency, sorted, and the number of failed requests.
func pollLoad(b *testing.B, urls []string, period, d time.Duration) ([]time.Duration, int) {
	b.Helper()
	tr := &http.Transport{MaxIdleConns: len(urls), MaxIdleConnsPerHost: len(urls), IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var (
		mu     sync.Mutex
		lat    []time.Duration
		failed int
		wg     sync.WaitGroup
	)
	end := time.Now().Add(d)
	for _, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := time.Now().Add(time.Duration(rand.Int64N(int64(period))))
			for {
				time.Sleep(time.Until(next))
				if time.Now().After(end) {
					return
				}
				t0 := time.Now()
				res, err := client.Get(u)
				ok := err == nil && res.StatusCode == 200
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				el := time.Since(t0)
				mu.Lock()
				if ok {
					lat = append(lat, el)
				} else {
					failed++
				}
				mu.Unlock()
				next = next.Add(period)
			}
		}()
	}
	wg.Wait()
	slices.Sort(lat)
	return lat, failed
}

// benchEnv is the playlist handler on an httptest server, for benchmarks.
type benchEnv struct {
	h      *Handler
	srv    *httptest.Server
	signer *token.Signer
}

func newBenchEnv(b *testing.B, store Store) *benchEnv {
	b.Helper()
	bundle, err := i18n.Load()
	if err != nil {
		b.Fatal(err)
	}
	e := &benchEnv{signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))}
	site, err := web.NewSite(presession.Builtin(), bundle, &web.Auth{Signer: e.signer, StaffToken: "staff-secret-token"},
		slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		b.Fatal(err)
	}
	if e.h, err = NewHandler(site, store, fakes.NewCatalog()); err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	e.h.Register(mux)
	e.srv = httptest.NewServer(mux)
	b.Cleanup(e.srv.Close)
	return e
}

func quantile(s []time.Duration, q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// BenchmarkLiveViewers is a premiere watched by 500 viewers, each with its
// own viewer token and connection, polling the live media playlist of 50
// statements of a minute (4 rungs, 6 s segments; the premiere 45 minutes
// into its hour) every 2 s for 20 s on loopback, the audience counted in the test Redis. It
// prints the latencies' p50 and p99 (goal: p99 under 50 ms) and, as a
// ratio, against a baseline measured in the same run: the same viewers
// polling a handler that writes the same bytes from memory (x_static_p99).
// It asserts nothing about time.
func BenchmarkLiveViewers(b *testing.B) {
	const viewers, period, span = 500, 2 * time.Second, 20 * time.Second
	b.StopTimer()
	dir := b.TempDir()
	store, err := storage.NewDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	benv := newBenchEnv(b, store)
	// 50 statements of a minute (6 s segments, 4 rungs), an hour's slot.
	segs := make([]float64, 10)
	for i := range segs {
		segs[i] = 6.006
	}
	segs[9] = 5.946
	r240 := rungSpec{"240p", 426, 240, 400000, 350000, "avc1.640015,mp4a.40.2", 25}
	list := make([]*presession.Statement, 50)
	for i := range list {
		list[i] = fakeStatement(fmt.Sprintf("01JSTATEMENT%04d", i), segs, r1080, r720, r360, r240)
	}
	res, err := Build(Input{Session: testSession(), Country: testCountry(), Statements: list})
	if err != nil {
		b.Fatal(err)
	}
	enc, err := res.Encode()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := store.Put(ctx, BuildKey("upr36", "AD"), strings.NewReader(string(enc)), int64(len(enc)), storage.PutOptions{}); err != nil {
		b.Fatal(err)
	}
	// The build was current for an hour when the slot began, 45 minutes
	// ago: the last quarter hour is still to come.
	stored := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, filepath.FromSlash(BuildKey("upr36", "AD"))), stored, stored); err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-45 * time.Minute).Truncate(time.Second)
	benv.h.WithSlots(&fixedSlots{slots: map[string]*presession.Slot{"upr36/AD": {Start: start, Minutes: 60}}})
	rdb := redis.NewClient(testenv.RedisDB(b))
	defer rdb.Close()
	aud := programme.NewAudience(rdb, "bench:", nil)
	benv.h.WithAudience(aud)
	urls := make([]string, viewers)
	for i := range urls {
		tok, _ := benv.signer.SignViewer(token.Viewer{ID: fmt.Sprintf("viewer-%03d", i), Session: "upr36", Country: "AD", Expires: time.Now().Add(time.Hour)})
		urls[i] = benv.srv.URL + "/playlists/upr36/AD/live/720p.m3u8?key=" + tok
	}
	first, err := http.Get(urls[0])
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(first.Body)
	first.Body.Close()
	if first.StatusCode != 200 || strings.Count(string(body), "#EXTINF") < 400 {
		b.Fatalf("live playlist: %d, %d segments listed", first.StatusCode, strings.Count(string(body), "#EXTINF"))
	}
	// Baseline: the same bytes and headers from memory.
	static := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Header().Set("Cache-Control", "private, max-age=1")
		w.Write(body)
	}))
	defer static.Close()
	surls := make([]string, viewers)
	for i := range surls {
		surls[i] = static.URL + "/720p.m3u8?v=" + fmt.Sprint(i)
	}

	b.StartTimer()
	base, bfail := pollLoad(b, surls, period, span)
	live, lfail := pollLoad(b, urls, period, span)
	b.StopTimer()
	counted, err := aud.Count(ctx, "upr36", []string{"AD"})
	if err != nil {
		b.Fatal(err)
	}
	p50, p99 := quantile(live, 0.50), quantile(live, 0.99)
	bp99 := quantile(base, 0.99)
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(p99)/float64(max(bp99, time.Microsecond)), "x_static_p99")
	b.ReportMetric(float64(len(live)), "requests")
	b.Logf("%d viewers every %v for %v: live playlist (%d KiB, %d segments listed) p50 %v p99 %v max %v over %d requests (%d failed); "+
		"the same bytes from memory p50 %v p99 %v (%d failed); %d viewers counted",
		viewers, period, span, len(body)>>10, strings.Count(string(body), "#EXTINF"), p50, p99, quantile(live, 1), len(live), lfail,
		quantile(base, 0.5), bp99, bfail, counted["AD"])
}
