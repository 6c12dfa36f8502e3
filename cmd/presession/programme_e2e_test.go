package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/config"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/programme"
)

// progStart starts the binary with env and waits for /healthz; the
// returned function stops it (SIGTERM) and returns its log.
func progStart(t *testing.T, bin string, env []string, addr string) (stop func() string) {
	t.Helper()
	log := &kbLog{}
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	stop = func() string {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		}
		return log.String()
	}
	t.Cleanup(func() { stop() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("presession exited at start (%v):\n%s", err, log)
		default:
		}
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("presession did not answer /healthz within 20 s:\n%s", log)
		}
	}
}

// TestProgrammeService runs the binary on the embedded default with a
// sessions file whose Andorra has a slot: the home page shows the
// programme, the calendar files are public, staff give Croatia a slot
// through the API and see it on the staff programme page, and after a
// restart (the in-process Redis starts empty) the slot is still there,
// restored from storage.
func TestProgrammeService(t *testing.T) {
	dir := t.TempDir()
	sessions := filepath.Join(dir, "sessions.json")
	if err := os.WriteFile(sessions, []byte(`{"sessions": [{"id": "upr60", "title": "UPR Pre-session 60", "upload_deadline": "2039-01-31T23:59:59Z",
  "max_statement_seconds": 600, "languages": ["en", "fr"],
  "countries": [{"code": "AD", "name": "Andorra", "slot": {"start": "2040-10-02T09:00:00+02:00", "minutes": 30, "questions_url": "https://meet.example.org/ad"}},
                {"code": "HR", "name": "Croatia"}]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := kbFreeAddr(t)
	staff := testenv.RandomHex(24)
	env := append(os.Environ(),
		"PRESESSION_DATA_DIR="+filepath.Join(dir, "data"), "PRESESSION_ADDR="+addr,
		"PRESESSION_PUBLIC_URL=http://"+addr, "PRESESSION_STAFF_TOKEN="+staff, "PRESESSION_SESSIONS="+sessions,
		"PRESESSION_SECRET="+testenv.RandomHex(32), "REDIS_URL=", "S3_ENDPOINT=")
	bin := testenv.Binary(t)
	base := "http://" + addr
	get := func(path string, hdr ...string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}

	stop := progStart(t, bin, env, addr)
	if st, body, _ := get("/?lang=fr"); st != 200 || !strings.Contains(body, "Programme") || !strings.Contains(body, `href="/programme/upr60/ad.ics"`) ||
		!strings.Contains(body, "2 octobre 2040, 09:00–09:30") {
		t.Fatalf("home page: %d\n%s", st, body)
	}
	if st, body, h := get("/programme/upr60.ics"); st != 200 || h.Get("Content-Type") != "text/calendar; charset=utf-8" ||
		!strings.Contains(body, "UID:upr60-ad@127.0.0.1") || !strings.Contains(body, "DTSTART:20401002T070000Z") {
		t.Fatalf("calendar: %d %q\n%s", st, h.Get("Content-Type"), body)
	}
	req, _ := http.NewRequest("PUT", base+"/api/v1/sessions/upr60/countries/hr/slot",
		strings.NewReader(`{"start": "2040-10-02T09:30:00+02:00", "minutes": 25, "note": "Questions in French"}`))
	req.Header.Set("Authorization", "Bearer "+staff)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("staff slot for Croatia: %d %s", res.StatusCode, b)
	}
	if st, body, _ := get("/staff/programme", "Authorization", "Bearer "+staff); st != 200 || !strings.Contains(body, "Croatia") || !strings.Contains(body, "25 min") {
		t.Fatalf("staff programme: %d\n%s", st, body)
	}
	if st, _, _ := get("/staff/programme"); st != 401 {
		t.Fatalf("staff programme without staff: %d", st)
	}
	stop()

	progStart(t, bin, env, addr)
	if st, body, _ := get("/programme/upr60/hr.ics"); st != 200 || !strings.Contains(body, "DTSTART:20401002T073000Z") || !strings.Contains(body, "DTEND:20401002T075500Z") {
		t.Fatalf("Croatia's calendar after a restart: %d\n%s", st, body)
	}
}

// TestReindexProgramme: staff's programme changes survive a flushed
// Redis through `presession reindex`, which puts them back from storage.
func TestReindexProgramme(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	redisURL := testenv.RedisURL(t)
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"REDIS_URL": redisURL, "PRESESSION_DATA_DIR": dir}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(cfg.Redis)
	defer rdb.Close()
	sessions := presession.Builtin()
	prog := programme.NewStore(rdb, catalog.StorageBlobs(store), keyPrefix, sessions, nil)
	slot := &presession.Slot{Start: time.Now().Add(48 * time.Hour).Truncate(time.Second), Minutes: 30}
	if _, err := prog.SetSlot(ctx, "upr36", "BG", slot, presession.ActorService); err != nil {
		t.Fatal(err)
	}
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if s, _ := prog.Slot(ctx, "upr36", "BG"); s != nil {
		t.Fatalf("after the flush Bulgaria still has %+v", s)
	}
	var out strings.Builder
	if err := runReindex(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "reindexed the programmes of 1 sessions") {
		t.Errorf("reindex said %q", out.String())
	}
	if s, err := prog.Slot(ctx, "upr36", "BG"); err != nil || s == nil || !s.Start.Equal(slot.Start) || s.Minutes != 30 {
		t.Fatalf("after reindex Bulgaria has %+v (%v)", s, err)
	}
}
