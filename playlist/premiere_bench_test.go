package playlist

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

// Premiere load: one segment, many viewers at once.
const (
	premiereSegment = 2 << 20 // bytes
	premiereConns   = 64
	premiereRound   = 2 * time.Second
	premiereRounds  = 3 // per server, alternating, so that other load on the machine falls on both
)

// BenchmarkPremiere serves one 2 MiB segment to 64 concurrent connections
// on loopback: from presession (S3 on versitygw behind it, the real Redis
// catalog, a viewer key checked on every request) and from nginx serving
// the same bytes from disk, in alternating rounds of the same run. It
// reports both rates, their ratio (x_nginx, goal ≥ 0.8), presession with
// its media cache off (x_nginx_uncached, the rate before it), and the
// storage reads the cached rounds made of the segment (goal 1: the first
// 64 requests arrive together on an empty cache).
func BenchmarkPremiere(b *testing.B) {
	nginx := nginxBinary(b)
	ctx := context.Background()
	cfg := testenv.S3Bucket(b)
	s3, err := storage.NewS3(ctx, storage.Config{Endpoint: cfg.Endpoint, Region: cfg.Region, Bucket: cfg.Bucket, AccessKey: cfg.AccessKey, SecretKey: cfg.SecretKey})
	if err != nil {
		b.Fatal(err)
	}
	rdb := redis.NewClient(testenv.RedisDB(b))
	b.Cleanup(func() { rdb.Close() })
	cat := catalog.New(rdb, catalog.StorageBlobs(s3), catalog.WithPrefix("bench:"))

	// One approved statement of 10 minutes (4 rungs of 100 segments: its
	// record is what every request reads from Redis), whose first 720p
	// segment is 2 MiB.
	segs := make([]float64, 100)
	for i := range segs {
		segs[i] = 6
	}
	st := fakeStatement("01JPREMIERE0000000000000000", segs, r1080, r720, r360,
		rungSpec{"240p", 426, 240, 400000, 350000, "avc1.640015,mp4a.40.2", 25})
	st.Media.Version = "premiere1"
	seg := make([]byte, premiereSegment)
	rand.Read(seg)
	segKey := st.Media.Renditions[1].Segments[0].Key
	if err := s3.Put(ctx, segKey, bytes.NewReader(seg), int64(len(seg)), presession.PutOptions{}); err != nil {
		b.Fatal(err)
	}
	rec, _ := json.Marshal(st)
	if err := s3.Put(ctx, layout.Record(st.ID), bytes.NewReader(rec), int64(len(rec)), presession.PutOptions{ContentType: "application/json"}); err != nil {
		b.Fatal(err)
	}
	if _, err := cat.Reindex(ctx); err != nil {
		b.Fatal(err)
	}

	signer := token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	key, _ := signer.SignViewer(token.Viewer{Session: "upr36", Country: "AD", Expires: time.Now().Add(time.Hour)})
	counted := newCountingStore(s3)
	serve := func(cache *MediaCache) string {
		bundle, err := i18n.Load()
		if err != nil {
			b.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		site, err := web.NewSite(presession.Builtin(), bundle, &web.Auth{Signer: signer, StaffToken: "bench-staff-token"}, log)
		if err != nil {
			b.Fatal(err)
		}
		h, err := NewHandler(site, counted, catalog.NewViews(cat))
		if err != nil {
			b.Fatal(err)
		}
		h.Media = cache
		mux := http.NewServeMux()
		h.Register(mux)
		srv := httptest.NewServer(mux)
		b.Cleanup(srv.Close)
		return srv.URL + layout.MediaURL(st.ID, segKey) + "?v=" + st.Media.Version + "&key=" + key
	}
	cachedURL := serve(NewMediaCache(256<<20, nil))
	uncachedURL := serve(nil)
	nginxURL := startNginx(b, nginx, map[string][]byte{layout.MediaURL(st.ID, segKey): seg}) + layout.MediaURL(st.ID, segKey)

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * premiereConns, MaxIdleConnsPerHost: premiereConns,
		MaxConnsPerHost: premiereConns, DisableCompression: true}}
	for _, u := range []string{nginxURL, uncachedURL} {
		if err := fetchOnce(client, u, len(seg)); err != nil {
			b.Fatal(err)
		}
	}
	before := counted.Reads(segKey)
	var app, ng, reads float64
	for b.Loop() {
		var appN, ngN int
		var appT, ngT time.Duration
		for range premiereRounds {
			n, d, err := hammer(client, cachedURL, len(seg))
			if err != nil {
				b.Fatal(err)
			}
			appN, appT = appN+n, appT+d
			if n, d, err = hammer(client, nginxURL, len(seg)); err != nil {
				b.Fatal(err)
			}
			ngN, ngT = ngN+n, ngT+d
		}
		app, ng = float64(appN)/appT.Seconds(), float64(ngN)/ngT.Seconds()
		reads = float64(counted.Reads(segKey) - before)
	}
	n, d, err := hammer(client, uncachedURL, len(seg))
	if err != nil {
		b.Fatal(err)
	}
	uncached := float64(n) / d.Seconds()
	b.ReportMetric(app, "presession_req/s")
	b.ReportMetric(ng, "nginx_req/s")
	b.ReportMetric(app/ng, "x_nginx")
	b.ReportMetric(uncached/ng, "x_nginx_uncached")
	b.ReportMetric(reads, "storage_reads/segment")
}

// hammer fetches url from premiereConns connections at once for
// premiereRound, and returns the requests completed and the time taken.
func hammer(client *http.Client, url string, size int) (int, time.Duration, error) {
	var done atomic.Int64
	var first error
	var once sync.Once
	stop := time.Now().Add(premiereRound)
	start := time.Now()
	var wg sync.WaitGroup
	for range premiereConns {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if err := fetchOnce(client, url, size); err != nil {
					once.Do(func() { first = err })
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	return int(done.Load()), time.Since(start), first
}

// fetchOnce gets url and reads its body in large reads (as wrk does:
// the load generator, in this process, should cost the servers little).
func fetchOnce(client *http.Client, url string, size int) error {
	res, err := client.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	buf := readBufs.Get().(*[]byte)
	defer readBufs.Put(buf)
	n := int64(0)
	for {
		k, err := res.Body.Read(*buf)
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if res.StatusCode != 200 || n != int64(size) {
		return fmt.Errorf("%s: %d, %d bytes, want 200 and %d", url, res.StatusCode, n, size)
	}
	return nil
}

var readBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// nginxBinary is Debian's nginx (scripts/test.sh --bench installs it);
// the benchmark is skipped without it.
func nginxBinary(b *testing.B) string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	if testenv.Required() {
		b.Fatal("nginx is not installed (scripts/test.sh --bench installs it)")
	}
	b.Skip("nginx is not installed")
	return ""
}

// startNginx serves files (URL path → bytes) from a temporary directory
// with nginx on a free loopback port, until the benchmark ends, and
// returns its base URL.
func startNginx(b *testing.B, bin string, files map[string][]byte) string {
	dir := b.TempDir()
	root := filepath.Join(dir, "root")
	for p, body := range files {
		f := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(f, body, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	// Workers may run as nobody: let them reach the files (the test's
	// temporary directories are private).
	for d := root; d != filepath.Clean(os.TempDir()) && d != filepath.Dir(d); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	conf := fmt.Sprintf(`daemon off;
worker_processes auto;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	types { video/iso.segment m4s; }
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen %[2]s;
		root %[3]s;
	}
}
`, dir, addr, root)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf"))
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt) // nginx: fast shutdown
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			b.Fatalf("nginx exited at start: %v\n%s%s", waitErr, stderr.String(), log)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
