// Package testenv gives tests the real services that the test command
// (make test, which .ci/run calls) starts: Redis, an S3-compatible server
// (versitygw), an SMTP server that keeps what it receives (mailpit),
// ffmpeg/ffprobe, Node.js with the e2e packages, and Chromium.
//
// Each accessor fails the test when the service is missing and the run is
// one that must have it (CI=true or PRESESSION_TEST_REQUIRE=1, both set by
// the test command); otherwise it skips, so a bare `go test` on a laptop
// still runs the pure tests.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Environment variables the test command exports.
const (
	EnvRequire    = "PRESESSION_TEST_REQUIRE"     // "1": missing services fail tests
	EnvRedisAddr  = "PRESESSION_TEST_REDIS_ADDR"  // host:port of a throwaway redis-server (started with --databases 1024)
	EnvS3Endpoint = "PRESESSION_TEST_S3_ENDPOINT" // host:port of versitygw
	EnvS3Access   = "PRESESSION_TEST_S3_ACCESS_KEY"
	EnvS3Secret   = "PRESESSION_TEST_S3_SECRET_KEY"
	EnvNodePath   = "PRESESSION_TEST_NODE_MODULES" // directory holding node_modules with tus-js-client, playwright-core, axe-core
)

// Required reports whether missing services must fail the test run.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv(EnvRequire) == "1"
}

func missing(t testing.TB, what string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s is required in this run but missing; run the test command (make test), which installs and starts it", what)
	}
	t.Skipf("%s not available; run `make test` to get it", what)
}

// RedisDB returns options for a fresh, flushed Redis database that no other
// test in any package of this run uses. The database is flushed again at
// the end of the test.
func RedisDB(t testing.TB) *redis.Options {
	t.Helper()
	addr := os.Getenv(EnvRedisAddr)
	if addr == "" {
		missing(t, "Redis ("+EnvRedisAddr+")")
	}
	ctx := context.Background()
	ctl := redis.NewClient(&redis.Options{Addr: addr, DB: 0})
	defer ctl.Close()
	n, err := ctl.Incr(ctx, "testenv:nextdb").Result()
	if err != nil {
		t.Fatalf("testenv: allocate redis db at %s: %v", addr, err)
	}
	db := int(n) // DB 0 holds the counter only
	max, err := ctl.ConfigGet(ctx, "databases").Result()
	if err == nil {
		var limit int
		fmt.Sscan(max["databases"], &limit)
		if limit > 0 && db >= limit {
			t.Fatalf("testenv: ran out of redis databases (%d); start redis-server with more --databases", limit)
		}
	}
	opts := &redis.Options{Addr: addr, DB: db}
	c := redis.NewClient(opts)
	if err := c.FlushDB(ctx).Err(); err != nil {
		t.Fatalf("testenv: flush redis db %d: %v", db, err)
	}
	c.Close()
	t.Cleanup(func() {
		c := redis.NewClient(opts)
		c.FlushDB(context.Background())
		c.Close()
	})
	return opts
}

// RedisURL is RedisDB as a redis:// URL (what REDIS_URL takes).
func RedisURL(t testing.TB) string {
	t.Helper()
	o := RedisDB(t)
	return fmt.Sprintf("redis://%s/%d", o.Addr, o.DB)
}

// S3 describes a fresh bucket on the test S3 server.
type S3 struct {
	Endpoint  string // host:port, plain HTTP, path-style
	Region    string
	Bucket    string // unique to this test; not yet created
	AccessKey string
	SecretKey string
}

// S3Bucket returns credentials and a unique bucket name (not created) on
// the test S3 server.
func S3Bucket(t testing.TB) S3 {
	t.Helper()
	ep := os.Getenv(EnvS3Endpoint)
	if ep == "" {
		missing(t, "S3 server versitygw ("+EnvS3Endpoint+")")
	}
	return S3{
		Endpoint:  ep,
		Region:    "us-east-1",
		Bucket:    "t-" + RandomHex(8),
		AccessKey: os.Getenv(EnvS3Access),
		SecretKey: os.Getenv(EnvS3Secret),
	}
}

// Env returns the S3 settings as the service's environment variables.
func (s S3) Env() []string {
	return []string{
		"S3_ENDPOINT=" + s.Endpoint, "S3_REGION=" + s.Region, "S3_BUCKET=" + s.Bucket,
		"S3_ACCESS_KEY=" + s.AccessKey, "S3_SECRET_KEY=" + s.SecretKey, "S3_USE_SSL=false",
	}
}

// FFmpeg makes sure ffmpeg and ffprobe are on PATH.
func FFmpeg(t testing.TB) {
	t.Helper()
	for _, b := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(b); err != nil {
			missing(t, b)
		}
	}
}

// Chromium returns the path of Debian's chromium.
func Chromium(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err != nil {
		if _, err2 := os.Stat("/usr/bin/chromium"); err2 == nil {
			return "/usr/bin/chromium"
		}
		missing(t, "chromium")
	}
	return p
}

// NodeModules returns the directory that holds node_modules for the e2e
// scripts (tus-js-client, playwright-core, axe-core), and makes sure node
// is on PATH.
func NodeModules(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		missing(t, "node")
	}
	dir := os.Getenv(EnvNodePath)
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "e2e")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		missing(t, "e2e node_modules in "+dir+" (npm ci)")
	}
	return dir
}

// RepoRoot returns the module root.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds cmd/presession once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "presession-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "presession")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", buildPath, "./cmd/presession")
		cmd.Dir = RepoRoot(t)
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/presession: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// RandomHex returns n random bytes as hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Clip generates a test clip with ffmpeg's lavfi sources into dir and
// returns its path. extra are output options placed before the file name
// (for example "-c:v", "libx264"); spec is "WxH", seconds the duration.
func Clip(t testing.TB, dir, name, size string, seconds float64, audio bool, extra ...string) string {
	t.Helper()
	FFmpeg(t)
	out := filepath.Join(dir, name)
	args := []string{"-v", "error", "-y", "-f", "lavfi", "-i",
		fmt.Sprintf("testsrc2=size=%s:rate=25:duration=%g", size, seconds)}
	if audio {
		args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=48000:duration=%g", seconds))
	}
	if len(extra) == 0 {
		extra = []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart"}
	}
	args = append(args, extra...)
	args = append(args, out)
	cmd := exec.Command("ffmpeg", args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testenv: make clip %s: %v\n%s", name, err, strings.TrimSpace(string(b)))
	}
	return out
}

// Tool returns the path of the executable name on PATH (a tool the test
// command installs, such as docker-compose).
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name)
	}
	return p
}

// NodeScript returns a copy of the e2e script name placed next to a link
// to the run's node_modules: an ES module resolves its imports from its
// own directory, wherever the test runs.
func NodeScript(t testing.TB, name string) string {
	t.Helper()
	modules := NodeModules(t)
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(modules, "node_modules"), filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(RepoRoot(t), "e2e", name))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
