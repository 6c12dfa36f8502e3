package upload

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
)

func twoLockers(t *testing.T, ttl time.Duration) (*Locker, *Locker, *redis.Client) {
	t.Helper()
	opts := testenv.RedisDB(t)
	var ls [2]*Locker
	for i := range ls {
		rdb := redis.NewClient(opts)
		ls[i] = NewLocker(rdb, "t:", ttl, nil)
		t.Cleanup(func() { ls[i].Close(); rdb.Close() })
	}
	ctl := redis.NewClient(opts)
	t.Cleanup(func() { ctl.Close() })
	time.Sleep(50 * time.Millisecond) // subscriptions up
	return ls[0], ls[1], ctl
}

func lock(t *testing.T, l *Locker, id string, timeout time.Duration, release func()) (handler.Lock, error) {
	t.Helper()
	lk, _ := l.NewLock(id)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return lk, lk.Lock(ctx, release)
}

func TestLockerExclusiveAndRelease(t *testing.T) {
	a, b, _ := twoLockers(t, 2*time.Second)
	var released atomic.Int32
	la, err := lock(t, a, "u1", time.Second, func() { released.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	// Another node asks; the holder is told once it writes (see
	// askRelease), and when it unlocks the waiter gets the lock promptly.
	time.AfterFunc(200*time.Millisecond, func() {
		if released.Load() != 0 {
			t.Error("holder asked to release before it started writing")
		}
		a.writing("u1")
	})
	go func() {
		for released.Load() == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		la.Unlock()
	}()
	start := time.Now()
	lb, err := lock(t, b, "u1", 5*time.Second, nil)
	if err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("hand-over took %v", d)
	}
	if released.Load() == 0 {
		t.Error("holder was not asked to release")
	}
	// Held elsewhere and not let go: the waiter times out.
	if _, err := lock(t, a, "u1", 300*time.Millisecond, nil); !errors.Is(err, handler.ErrLockTimeout) {
		t.Fatalf("want ErrLockTimeout, got %v", err)
	}
	if _, ok, _ := a.TryLock(context.Background(), "u1"); ok {
		t.Fatal("TryLock took a held lock")
	}
	lb.Unlock()
	unlock, ok, err := a.TryLock(context.Background(), "u1")
	if err != nil || !ok {
		t.Fatalf("TryLock after unlock: %v %v", ok, err)
	}
	unlock()
}

func TestLockerRenewalAndExpiry(t *testing.T) {
	a, b, ctl := twoLockers(t, 600*time.Millisecond)
	ctx := context.Background()
	la, err := lock(t, a, "u2", time.Second, func() {})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // 2.5 TTLs: renewal keeps it
	if _, ok, _ := b.TryLock(ctx, "u2"); ok {
		t.Fatal("lock expired while held")
	}
	la.Unlock()

	// A crashed holder: a key nobody renews. It frees itself after the TTL.
	ctl.Set(ctx, "t:lock:u3", "dead-node", 600*time.Millisecond)
	start := time.Now()
	lb, err := lock(t, b, "u3", 3*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 400*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("acquired after %v; want about the TTL", d)
	}
	// Unlock leaves a key that is not ours alone.
	ctl.Set(ctx, "t:lock:u3", "someone-else", time.Minute)
	lb.Unlock()
	if v, _ := ctl.Get(ctx, "t:lock:u3").Result(); v != "someone-else" {
		t.Fatalf("Unlock deleted another holder's key: %q", v)
	}
}

func TestLockerLostLockInterrupts(t *testing.T) {
	a, _, ctl := twoLockers(t, 300*time.Millisecond)
	lost := make(chan struct{})
	la, err := lock(t, a, "u4", time.Second, func() { close(lost) })
	if err != nil {
		t.Fatal(err)
	}
	defer la.Unlock()
	a.writing("u4") // a PATCH holds it
	ctl.Set(context.Background(), "t:lock:u4", "usurper", time.Minute)
	select {
	case <-lost:
	case <-time.After(2 * time.Second):
		t.Fatal("holder not interrupted when its lock was lost")
	}
}

// TestTwoServers: two nodes sharing Redis and S3 serve one upload, PATCHes
// and HEADs interleaved between them; a HEAD on one node while the other
// is mid-PATCH makes the PATCH stop and the HEAD see a consistent offset.
func TestTwoServers(t *testing.T) {
	e := newEnv(t, "s3")
	_, srvB := e.node()
	srvA := e.srv
	servers := map[string]*httptest.Server{"A": srvA, "B": srvB}
	tok, _ := e.invite("AD", "Civil Voice", time.Time{})
	data := randomBytes(24<<20+777, 7)
	url := e.mustCreate(srvA.URL, tok, int64(len(data)))
	id := idOf(url)

	var off int64
	head := func(srv string) int64 {
		t.Helper()
		r := e.do("HEAD", onServer(url, servers[srv]), tok, nil, nil)
		n, err := strconv.ParseInt(r.header.Get("Upload-Offset"), 10, 64)
		if r.status != 200 || err != nil {
			t.Fatalf("HEAD on %s: %d %s", srv, r.status, r.body)
		}
		return n
	}
	// Chunks alternate between the nodes, with HEADs on the other one.
	for i, n := range []int64{3 << 20, 6 << 20, 1 << 20, 5<<20 + 3} {
		srv, other := "A", "B"
		if i%2 == 1 {
			srv, other = "B", "A"
		}
		r := e.patch(onServer(url, servers[srv]), tok, off, data[off:off+n])
		if r.status != 204 {
			t.Fatalf("PATCH %d on %s: %d %s", i, srv, r.status, r.body)
		}
		off += n
		if h := head(other); h != off {
			t.Fatalf("HEAD on %s after PATCH %d: %d, want %d", other, i, h, off)
		}
	}

	// A slow PATCH on A (a client on a poor line); B's HEAD asks A for the
	// lock, A ends the PATCH with what it has, and B reports that offset.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PATCH", onServer(url, srvA), pr)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Upload-Offset", strconv.FormatInt(off, 10))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.ContentLength = int64(len(data)) - off
	done := make(chan *http.Response, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- nil
			return
		}
		res.Body.Close()
		done <- res
	}()
	slow := int64(2<<20 + 5)
	pw.Write(data[off : off+slow])
	time.Sleep(300 * time.Millisecond) // A holds the lock, mid-body
	start := time.Now()
	h := head("B")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("HEAD on B waited %v for A's lock", d)
	}
	pw.CloseWithError(errors.New("client gone"))
	<-done
	t.Logf("HEAD on B during A's PATCH: %d after %v (PATCH began at %d, %d bytes sent)", h, time.Since(start), off, slow)
	if h != off+slow && h != off {
		t.Fatalf("HEAD on B during A's PATCH: %d; want %d (or %d)", h, off+slow, off)
	}
	off = head("A")

	// The rest through B, finishing the upload.
	if r := e.patch(onServer(url, srvB), tok, off, data[off:]); r.status != 204 {
		t.Fatalf("last PATCH: %d %s", r.status, r.body)
	}
	if st := e.statement(id); st.Status != presession.StatusUploaded {
		t.Fatalf("status %s", st.Status)
	}
	if sum(e.stored(id)) != sum(data) {
		t.Fatal("stored bytes differ from the source")
	}
}
