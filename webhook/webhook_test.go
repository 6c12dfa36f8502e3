package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/webhook"
)

// TestSignSpecVector checks Sign against the test vector of the Standard
// Webhooks reference libraries.
func TestSignSpecVector(t *testing.T) {
	got, err := webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if _, err := webhook.Sign("whsec_not base64!", "id", time.Now(), nil); err == nil {
		t.Error("a secret that is not base64 signed")
	}
	s := webhook.NewSecret()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	if !strings.HasPrefix(s, "whsec_") || err != nil || len(key) < 24 {
		t.Errorf("NewSecret = %q (%d bytes, %v)", s, len(key), err)
	}
}

// verify checks a delivery as a receiver would, written from the
// specification independently of Sign: it returns why it is refused.
func verify(secret string, h http.Header, body []byte) string {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return "missing headers"
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return "timestamp " + ts
	}
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", id, ts, body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(sigs) {
		v, sig, _ := strings.Cut(s, ",")
		got, _ := base64.StdEncoding.DecodeString(sig)
		if v == "v1" && hmac.Equal(got, want) {
			return ""
		}
	}
	return "bad signature " + sigs
}

// fakeResolver answers every name with its addresses.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, fmt.Errorf("no such host %s", host)
}

func addrs(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

func TestGuardCheckURL(t *testing.T) {
	g := &webhook.Guard{Resolver: fakeResolver{
		"hooks.example.org": addrs("203.0.113.7", "2001:db8::7"),
		"intranet.example":  addrs("203.0.113.8", "192.168.1.20"),
		"v6.example":        addrs("fd12:3456::1"),
		"metadata.example":  addrs("169.254.169.254"),
		"cgnat.example":     addrs("100.100.100.200"),
	}}
	ctx := context.Background()
	for _, tc := range []struct{ url, want string }{
		{"https://hooks.example.org/in?x=1", "https://hooks.example.org/in?x=1"},
		{"http://hooks.example.org:8080/in#frag", "http://hooks.example.org:8080/in"},
		{"https://8.8.8.8/", "https://8.8.8.8/"},
		{"", "err.webhook_url_required"},
		{"hooks.example.org/in", "err.webhook_url_invalid"},
		{"ftp://hooks.example.org/", "err.webhook_url_scheme"},
		{"javascript:alert(1)", "err.webhook_url_invalid"},
		{"https://user:pw@hooks.example.org/", "err.webhook_url_credentials"},
		{"https://nowhere.example/", "err.webhook_url_resolve"},
		{"http://127.0.0.1:9000/", "loopback"},
		{"http://[::1]/", "loopback"},
		{"http://[::ffff:127.0.0.1]/", "loopback"},
		{"http://10.1.2.3/", "private"},
		{"http://172.16.0.1/", "private"},
		{"https://intranet.example/", "private"},
		{"https://v6.example/", "private"},
		{"https://cgnat.example/", "private"},
		{"https://metadata.example/latest", "link-local"},
		{"http://[fe80::1]/", "link-local"},
		{"http://0.0.0.0/", "unspecified"},
		{"http://[::]/", "unspecified"},
		{"http://0.1.2.3/", "unspecified"},
		{"http://239.1.2.3/", "multicast"},
		{"http://224.0.0.1/", "link-local"},
		{"http://[ff02::1]/", "link-local"},
		{"http://255.255.255.255/", "multicast"},
	} {
		got, err := g.CheckURL(ctx, tc.url)
		if strings.Contains(tc.want, "://") {
			if err != nil || got != tc.want {
				t.Errorf("CheckURL(%q) = %q, %v; want %q", tc.url, got, err, tc.want)
			}
			continue
		}
		var e *presession.Error
		if !asError(err, &e) || e.Code != presession.EINVALID {
			t.Errorf("CheckURL(%q) = %q, %v; want a refusal", tc.url, got, err)
			continue
		}
		if key := e.Key; strings.HasPrefix(tc.want, "err.") && key != tc.want ||
			!strings.HasPrefix(tc.want, "err.") && (key != "err.webhook_url_private" && key != "err.webhook_addr_private" || !strings.Contains(e.Message, "a "+tc.want+" address")) {
			t.Errorf("CheckURL(%q): %s (%s); want %s", tc.url, e.Message, e.Key, tc.want)
		}
	}
	open := &webhook.Guard{AllowPrivate: true}
	for _, u := range []string{"http://127.0.0.1:9000/", "http://10.1.2.3/", "http://[fe80::1]/"} {
		if _, err := open.CheckURL(ctx, u); err != nil {
			t.Errorf("with private addresses allowed, %s: %v", u, err)
		}
	}
}

func asError(err error, e **presession.Error) bool {
	pe, ok := err.(*presession.Error)
	*e = pe
	return ok
}

// env is a registry on a fresh Redis database and a storage directory,
// and a delivery server running on the same Redis.
type env struct {
	t      *testing.T
	rdb    *redis.Client
	opt    asynq.RedisClientOpt
	dir    string
	store  *storage.Dir
	reg    *webhook.Registry
	client *webhook.Client
	log    *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	o := testenv.RedisDB(t)
	rdb := redis.NewClient(o)
	t.Cleanup(func() { rdb.Close() })
	dir := t.TempDir()
	store, err := storage.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, rdb: rdb, opt: asynq.RedisClientOpt{Addr: o.Addr, DB: o.DB}, dir: dir, store: store,
		log: slog.New(slog.DiscardHandler)}
	if testing.Verbose() {
		e.log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	e.reg = webhook.NewRegistry(rdb, store, "t:")
	e.client = webhook.NewClient(e.opt, e.reg, e.log)
	t.Cleanup(func() { e.client.Close() })
	return e
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// serve runs a delivery server with short retry delays until the test ends.
func (e *env) serve(g *webhook.Guard) {
	e.t.Helper()
	srv := webhook.NewServer(webhook.ServerConfig{Concurrency: 2, ShutdownTimeout: 5 * time.Second,
		RetryDelay:    func(int, error, *asynq.Task) time.Duration { return 200 * time.Millisecond },
		CheckInterval: 100 * time.Millisecond}, e.opt, e.reg, g, e.log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			e.t.Errorf("server: %v", err)
		}
	})
}

func (e *env) add(url string, events ...presession.OccurrenceType) *presession.Webhook {
	e.t.Helper()
	w := &presession.Webhook{ID: webhook.NewID(), URL: url, Events: events, Secret: webhook.NewSecret(),
		CreatedAt: time.Now().UTC(), CreatedBy: presession.ActorStaff}
	if err := e.reg.Add(context.Background(), w); err != nil {
		e.t.Fatal(err)
	}
	return w
}

func (e *env) deliveries(id string) []presession.WebhookDelivery {
	e.t.Helper()
	list, err := e.reg.List(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, w := range list {
		if w.ID == id {
			if w.Secret != "" {
				e.t.Errorf("List shows the secret of %s", id)
			}
			return w.Deliveries
		}
	}
	e.t.Fatalf("webhook %s not listed", id)
	return nil
}

// receiver is an HTTP endpoint that verifies each delivery and answers
// the next status of its script (the last one once the script is done).
type receiver struct {
	mu       sync.Mutex
	secret   string
	statuses []int
	got      []delivery
	srv      *httptest.Server
}

type delivery struct {
	id, problem string
	body        []byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	rc := &receiver{statuses: statuses}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		problem := verify(rc.secret, r.Header, body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			problem = r.Method + " " + r.Header.Get("Content-Type")
		}
		rc.got = append(rc.got, delivery{id: r.Header.Get("webhook-id"), problem: problem, body: body})
		st := rc.statuses[min(len(rc.got), len(rc.statuses))-1]
		w.WriteHeader(st)
		fmt.Fprintf(w, "answer %d to attempt %d", st, len(rc.got))
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) deliveries() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.got...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func approved() presession.Occurrence {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s := &presession.Statement{ID: "st1", Session: "upr36", Country: "AD", Organisation: "Org A", Title: "Ours",
		Status: presession.StatusApproved, UpdatedAt: at,
		History: []presession.Event{{At: at, Actor: "staff", From: presession.StatusReady, To: presession.StatusApproved}}}
	o, _ := presession.StatementOccurrence(s)
	return o
}

// TestRetriesUntilDelivered: an endpoint that answers 500 twice, then 200,
// gets the occurrence three times, signed, with the same webhook-id, and
// then no more, also when the occurrence is told again.
func TestRetriesUntilDelivered(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, 500, 500, 200)
	ep := e.add(rc.srv.URL+"/hook", presession.StatementApproved, presession.StatementRejected)
	rc.secret = ep.Secret
	other := newReceiver(t, 200)
	e.add(other.srv.URL, presession.StatementUploaded) // not subscribed to approvals
	e.serve(&webhook.Guard{AllowPrivate: true})

	o := approved()
	ctx := context.Background()
	if err := e.client.Enqueue(ctx, o); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "three deliveries", func() bool { return len(rc.deliveries()) >= 3 })
	e.client.Occurred(ctx, o) // told again: already delivered
	time.Sleep(2 * time.Second)
	got := rc.deliveries()
	if len(got) != 3 {
		t.Fatalf("the endpoint got %d deliveries, want 3", len(got))
	}
	for i, d := range got {
		if d.problem != "" || d.id != o.ID || !bytes.Equal(d.body, got[0].body) {
			t.Errorf("delivery %d: id %s, %s", i+1, d.id, d.problem)
		}
	}
	var body struct {
		Type      string          `json:"type"`
		Timestamp string          `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(got[0].body, &body); err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"st1","session":"upr36","country":"AD","organisation":"Org A","title":"Ours","status":"approved"}`; body.Type != "statement.approved" ||
		body.Timestamp != "2026-03-01T10:00:00Z" || string(body.Data) != want {
		t.Errorf("body %s", got[0].body)
	}
	if n := len(other.deliveries()); n != 0 {
		t.Errorf("an endpoint not subscribed got %d deliveries", n)
	}
	waitFor(t, "three recorded attempts", func() bool { return len(e.deliveries(ep.ID)) == 3 })
	ds := e.deliveries(ep.ID)
	for i, want := range []struct {
		attempt, status int
		outcome         presession.DeliveryOutcome
	}{{3, 200, presession.OutcomeDelivered}, {2, 500, presession.OutcomeRetrying}, {1, 500, presession.OutcomeRetrying}} {
		d := ds[i]
		if d.Attempt != want.attempt || d.Status != want.status || d.Outcome != want.outcome || d.Occurrence != o.ID ||
			d.Type != presession.StatementApproved || d.Response != fmt.Sprintf("answer %d to attempt %d", want.status, want.attempt) || d.At.IsZero() {
			t.Errorf("delivery %d: %+v", i, d)
		}
	}
}

// TestGoneDisables: a 410 Gone disables the endpoint: no retry, nothing
// more queued for it.
func TestGoneDisables(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, 410)
	ep := e.add(rc.srv.URL, presession.StatementApproved)
	rc.secret = ep.Secret
	e.serve(&webhook.Guard{AllowPrivate: true})
	ctx := context.Background()
	if err := e.client.Enqueue(ctx, approved()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the endpoint disabled", func() bool {
		w, err := e.reg.Get(ctx, ep.ID)
		return err == nil && w.Disabled
	})
	o := approved()
	o.ID += "_again"
	if err := e.client.Enqueue(ctx, o); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if n := len(rc.deliveries()); n != 1 {
		t.Errorf("a gone endpoint got %d deliveries", n)
	}
	ds := e.deliveries(ep.ID)
	if len(ds) != 1 || ds[0].Outcome != presession.OutcomeGone || ds[0].Status != 410 {
		t.Errorf("deliveries %+v", ds)
	}
	// Durable: the stored record is disabled too.
	fresh := webhook.NewRegistry(e.rdb, e.store, "u:")
	if _, err := fresh.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if w, err := fresh.Get(ctx, ep.ID); err != nil || !w.Disabled || w.DisabledAt == nil {
		t.Errorf("restored: %+v %v", w, err)
	}
}

// TestRebindingRefusedAtDial: a host that resolved to a public address when
// the endpoint was registered, and resolves to loopback when a delivery
// connects, is not reached: the dialer checks the address it connects to.
func TestRebindingRefusedAtDial(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t, 200)
	port := rc.srv.URL[strings.LastIndexByte(rc.srv.URL, ':')+1:]
	g := &webhook.Guard{Resolver: fakeResolver{"localhost": addrs("203.0.113.9")}}
	u, err := g.CheckURL(context.Background(), "http://localhost:"+port+"/hook")
	if err != nil {
		t.Fatalf("registration: %v", err)
	}
	if _, err := g.CheckURL(context.Background(), rc.srv.URL); err == nil {
		t.Fatal("a loopback URL registered")
	}
	ep := e.add(u, presession.StatementApproved)
	rc.secret = ep.Secret
	e.serve(g)
	if err := e.client.Enqueue(context.Background(), approved()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "two refused attempts", func() bool { return len(e.deliveries(ep.ID)) >= 2 })
	if n := len(rc.deliveries()); n != 0 {
		t.Fatalf("the loopback receiver got %d deliveries", n)
	}
	d := e.deliveries(ep.ID)[0]
	if d.Status != 0 || !strings.Contains(d.Error, "loopback address, which webhooks may not reach") || d.Outcome != presession.OutcomeRetrying {
		t.Errorf("refused attempt recorded as %+v", d)
	}
}

// TestBackoff: the retry delays double from 30 s, are capped at 1 h, and
// the retries span hours.
func TestBackoff(t *testing.T) {
	var total time.Duration
	for n := 0; n < webhook.MaxRetry; n++ {
		d := webhook.Backoff(n, nil, nil)
		base := time.Hour
		if n < 7 {
			base = 30 * time.Second << n
		}
		if d < base || d > base+base/10 {
			t.Errorf("Backoff(%d) = %s, want %s to %s", n, d, base, base+base/10)
		}
		total += base
	}
	if total < 5*time.Hour || total > 7*time.Hour {
		t.Errorf("the retries span %s, want hours", total)
	}
}
