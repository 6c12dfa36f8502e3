package upload

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uprinfo/presession/token"
)

// The test binary doubles as a server process that tests can kill and
// restart: with UPLOAD_TEST_CHILD set to a childConfig in JSON, TestMain
// serves the endpoint on its address until killed.
const childEnv = "UPLOAD_TEST_CHILD"

type childConfig struct {
	Addr      string // host:port to listen on; ":0" picks one
	RedisAddr string
	RedisDB   int
	Config    Config
	// Throttle limits each request body to this many bytes per second, so
	// a test can act in the middle of an upload.
	Throttle int64
}

func TestMain(m *testing.M) {
	if c := os.Getenv(childEnv); c != "" {
		if err := runChild(c); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runChild(js string) error {
	var cc childConfig
	if err := json.Unmarshal([]byte(js), &cc); err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{Addr: cc.RedisAddr, DB: cc.RedisDB})
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("UPLOAD_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	svc, err := New(cc.Config, Deps{
		Sessions: testSessions(), Signer: token.NewSigner(testSecret),
		Statements: &redisStatements{rdb: rdb}, Processor: &redisProcessor{rdb: rdb}, Redis: rdb, Logger: log,
	})
	if err != nil {
		return err
	}
	ctx := context.Background()
	go svc.Run(ctx)
	var h http.Handler = svc.Handler()
	if cc.Throttle > 0 {
		h = throttle(h, cc.Throttle)
	}
	mux := http.NewServeMux()
	mux.Handle("/files/", h)
	ln, err := net.Listen("tcp", cc.Addr)
	if err != nil {
		return err
	}
	fmt.Printf("LISTENING %s\n", ln.Addr())
	return http.Serve(ln, mux)
}

func throttle(h http.Handler, rate int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = &slowBody{ReadCloser: r.Body, rate: rate, start: time.Now()}
		}
		h.ServeHTTP(w, r)
	})
}

type slowBody struct {
	io.ReadCloser
	rate  int64
	start time.Time
	n     int64
}

func (b *slowBody) Read(p []byte) (int, error) {
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if ahead := time.Duration(b.n*int64(time.Second)/b.rate) - time.Since(b.start); ahead > 0 {
		time.Sleep(ahead)
	}
	return n, err
}

// child is a server process of the test binary.
type child struct {
	cmd  *exec.Cmd
	addr string
}

func startChild(t testing.TB, cc childConfig) *child {
	t.Helper()
	js, _ := json.Marshal(cc)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(js))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd}
	t.Cleanup(c.kill)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok {
				lines <- a
			}
		}
		close(lines)
	}()
	select {
	case a, ok := <-lines:
		if !ok {
			t.Fatal("child server exited before listening")
		}
		c.addr = a
	case <-time.After(30 * time.Second):
		t.Fatal("child server did not start")
	}
	return c
}

// kill ends the child with SIGKILL: no shutdown, no unlock, like a crash.
func (c *child) kill() {
	if c.cmd.ProcessState == nil {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	}
}
