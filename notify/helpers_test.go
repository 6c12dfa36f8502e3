package notify_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/mail"
	"github.com/uprinfo/presession/notify"
	"github.com/uprinfo/presession/web"
)

// invitations is the invitation records, in memory.
type invitations struct {
	mu   sync.Mutex
	byID map[string]*presession.Invitation
}

func newInvitations(invs ...*presession.Invitation) *invitations {
	r := &invitations{byID: map[string]*presession.Invitation{}}
	for _, inv := range invs {
		r.byID[inv.ID] = inv
	}
	return r
}

func clone(inv *presession.Invitation) *presession.Invitation {
	c := *inv
	c.Emails = slices.Clone(inv.Emails)
	c.Mail = map[string]presession.Delivery{}
	for k, v := range inv.Mail {
		c.Mail[k] = v
	}
	return &c
}

func (r *invitations) Invitation(_ context.Context, id string) (*presession.Invitation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	inv, ok := r.byID[id]
	if !ok {
		return nil, presession.Errorf(presession.ENOTFOUND, "no invitation %s", id)
	}
	return clone(inv), nil
}

func (r *invitations) ListInvitations(_ context.Context, session, country string) ([]*presession.Invitation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*presession.Invitation
	for _, inv := range r.byID {
		if inv.Session == session && inv.Country == country {
			out = append(out, clone(inv))
		}
	}
	return out, nil
}

func (r *invitations) RecordMail(_ context.Context, id, kind string, d presession.Delivery) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	inv, ok := r.byID[id]
	if !ok {
		return presession.Errorf(presession.ENOTFOUND, "no invitation %s", id)
	}
	if inv.Mail == nil {
		inv.Mail = map[string]presession.Delivery{}
	}
	inv.Mail[kind] = d
	return nil
}

func (r *invitations) delivery(id, kind string) presession.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id].Mail[kind]
}

// statements is the catalog's List, in memory.
type statements struct {
	mu  sync.Mutex
	all []*presession.Statement
}

func (s *statements) add(st *presession.Statement) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = append(s.all, st)
}

func (s *statements) List(_ context.Context, f presession.Filter) ([]*presession.Statement, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*presession.Statement
	for _, st := range s.all {
		if (f.InvitationID == "" || st.InvitationID == f.InvitationID) && (f.Status == "" || st.Status == f.Status) {
			c := *st
			out = append(out, &c)
		}
	}
	n := len(out)
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, n, nil
}

// countingSender counts what it was asked to send.
type countingSender struct {
	mail.Sender
	mu    sync.Mutex
	calls map[string]int // by message ID
}

func (c *countingSender) Send(ctx context.Context, m mail.Message) error {
	c.mu.Lock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[m.ID]++
	c.mu.Unlock()
	return c.Sender.Send(ctx, m)
}

func (c *countingSender) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

func smtpSender(t *testing.T, addr string) mail.Sender {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return mail.NewSMTP(mail.SMTPConfig{Host: host, Port: p, From: "Pre-session <presession@example.org>", Timeout: 3 * time.Second})
}

// clock is a test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

type fixture struct {
	svc   *notify.Service
	invs  *invitations
	sts   *statements
	clock *clock
}

const publicURL = "https://presession.example.org"

// start makes the mail service on a fresh Redis DB and runs it (retries
// every 300 ms) until the test ends.
func start(t *testing.T, sender mail.Sender, invs *invitations, sts *statements, now time.Time, with ...func(*notify.Config)) *fixture {
	t.Helper()
	ro := testenv.RedisDB(t)
	opt := asynq.RedisClientOpt{Addr: ro.Addr, DB: ro.DB}
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	sessions := presession.Builtin()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	site, err := web.NewSite(sessions, bundle, &web.Auth{}, log)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: now}
	cfg := notify.Config{PublicURL: publicURL, MaxRetry: 200,
		RetryDelay: func(int) time.Duration { return 300 * time.Millisecond }, SweepEvery: time.Hour,
		ShutdownTimeout: 5 * time.Second, Now: clk.Now}
	for _, f := range with {
		f(&cfg)
	}
	svc, err := notify.New(cfg, opt, notify.Deps{
		Sender: sender, Invitations: invs, Statements: sts, Sessions: sessions, Bundle: bundle, Reasons: site,
		UploadURL: func(inv *presession.Invitation) (string, error) {
			return publicURL + "/upload?token=tok-" + inv.ID, nil
		},
		WatchURL: func(session, country string) (string, error) {
			return publicURL + "/watch/" + session + "/" + country + "?key=viewer", nil
		},
		Log: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := svc.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		svc.Close()
	})
	return &fixture{svc: svc, invs: invs, sts: sts, clock: clk}
}

// digestTo sends the staff digest to addrs.
func digestTo(addrs ...string) func(*notify.Config) {
	return func(c *notify.Config) { c.StaffDigestTo = addrs }
}

// eventually waits up to d for ok.
func eventually(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
