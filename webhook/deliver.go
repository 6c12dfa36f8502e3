package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hibiken/asynq"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/asynqlog"
)

// Queue is the Asynq queue of deliveries.
const Queue = "webhook"

// TypeDeliver is the task type of one delivery.
const TypeDeliver = "webhook:deliver"

// Delivery settings.
const (
	// AttemptTimeout bounds one attempt: connecting, sending, the answer.
	AttemptTimeout = 10 * time.Second
	// MaxRetry is how often a failed delivery is tried again; with
	// Backoff that spans about six hours.
	MaxRetry = 12
	// Retention keeps a finished delivery's task ID taken for a day, so
	// an occurrence told again meanwhile is not delivered twice.
	Retention = 24 * time.Hour
)

// Backoff is the delay before retry n+1 (n retries done so far): 30 s
// doubling each time, capped at 1 h, plus up to a tenth of jitter. The 12
// retries wait 30 s, 1, 2, 4, 8, 16, 32 min, then 1 h five times: about
// 6 h 4 min in all.
func Backoff(n int, _ error, _ *asynq.Task) time.Duration {
	d := time.Hour
	if n < 7 {
		d = 30 * time.Second << n
	}
	return d + rand.N(d/10+1)
}

// task is the payload of a delivery: the body is made when the occurrence
// is told, so every attempt sends the same bytes.
type task struct {
	Endpoint   string                    `json:"endpoint"`
	Occurrence string                    `json:"occurrence"`
	Type       presession.OccurrenceType `json:"type"`
	Body       json.RawMessage           `json:"body"`
}

// taskID names the delivery of an occurrence to an endpoint.
func taskID(occurrence, endpoint string) string { return "webhook:" + occurrence + ":" + endpoint }

// Client queues deliveries.
type Client struct {
	q   *asynq.Client
	reg *Registry
	log *slog.Logger
}

// NewClient returns a client that queues on the Redis of opt the
// deliveries to reg's endpoints.
func NewClient(opt asynq.RedisConnOpt, reg *Registry, log *slog.Logger) *Client {
	return &Client{q: asynq.NewClient(opt), reg: reg, log: log}
}

// Close closes the Asynq client.
func (c *Client) Close() error { return c.q.Close() }

// Occurred is the occurrence hook: it queues a delivery of o to every
// endpoint subscribed to its type. It only talks to Redis, for at most
// 3 s, and logs what fails rather than failing the change that was told.
func (c *Client) Occurred(ctx context.Context, o presession.Occurrence) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), enqueueTimeout)
	defer cancel()
	if err := c.Enqueue(ctx, o); err != nil {
		c.log.ErrorContext(ctx, "queue webhook deliveries", "occurrence", o.ID, "type", o.Type, "err", err)
	}
}

// enqueueTimeout bounds how long the occurrence hook waits for Redis.
const enqueueTimeout = 3 * time.Second

// Enqueue queues a delivery of o to every endpoint subscribed to its type.
// A delivery of the same occurrence to the same endpoint already queued,
// running or done within Retention is not queued again.
func (c *Client) Enqueue(ctx context.Context, o presession.Occurrence) error {
	eps, err := c.reg.Subscribed(ctx, o.Type)
	if err != nil || len(eps) == 0 {
		return err
	}
	body, err := Body(o)
	if err != nil {
		return err
	}
	var errs []error
	for _, ep := range eps {
		b, _ := json.Marshal(task{Endpoint: ep.ID, Occurrence: o.ID, Type: o.Type, Body: body})
		t := asynq.NewTask(TypeDeliver, b, asynq.Queue(Queue), asynq.TaskID(taskID(o.ID, ep.ID)),
			asynq.MaxRetry(MaxRetry), asynq.Timeout(AttemptTimeout+20*time.Second), asynq.Retention(Retention))
		_, err := c.q.EnqueueContext(ctx, t)
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
			errs = append(errs, fmt.Errorf("webhook: queue %s to %s: %w", o.ID, ep.ID, err))
		}
	}
	return errors.Join(errs...)
}

// ServerConfig holds the delivery server's settings.
type ServerConfig struct {
	Concurrency     int           // deliveries at once; default 10
	ShutdownTimeout time.Duration // default 30 s
	// RetryDelay is the delay before a retry; nil: Backoff. Tests make it
	// short.
	RetryDelay asynq.RetryDelayFunc
	// CheckInterval is how often retries that are due are moved back to
	// the queue; default Asynq's (5 s). Tests make it short.
	CheckInterval time.Duration
}

// Server delivers the queued webhooks.
type Server struct {
	cfg   ServerConfig
	redis asynq.RedisConnOpt
	reg   *Registry
	http  *http.Client
	log   *slog.Logger
	now   func() time.Time
}

// NewServer returns the delivery server of reg's endpoints, on the Redis
// of opt, connecting where guard allows.
func NewServer(cfg ServerConfig, opt asynq.RedisConnOpt, reg *Registry, guard *Guard, log *slog.Logger) *Server {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 10
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.RetryDelay == nil {
		cfg.RetryDelay = Backoff
	}
	return &Server{cfg: cfg, redis: opt, reg: reg, http: guard.Client(AttemptTimeout), log: log, now: time.Now}
}

// Run serves the webhook queue until ctx is done, then shuts down: running
// deliveries get ShutdownTimeout to finish, unfinished ones go back to the
// queue.
func (s *Server) Run(ctx context.Context) error {
	srv := asynq.NewServer(s.redis, asynq.Config{
		Concurrency:              s.cfg.Concurrency,
		Queues:                   map[string]int{Queue: 1},
		Logger:                   asynqlog.Logger{L: s.log.With("queue", Queue)},
		LogLevel:                 asynq.WarnLevel,
		ShutdownTimeout:          s.cfg.ShutdownTimeout,
		RetryDelayFunc:           s.cfg.RetryDelay,
		DelayedTaskCheckInterval: s.cfg.CheckInterval,
		BaseContext:              func() context.Context { return context.WithoutCancel(ctx) },
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeDeliver, s.deliver)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("webhook: start: %w", err)
	}
	<-ctx.Done()
	srv.Shutdown()
	return nil
}

// deliver makes one attempt, records it, and says whether to retry.
func (s *Server) deliver(ctx context.Context, t *asynq.Task) error {
	var p task
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("webhook task payload: %v: %w", err, asynq.SkipRetry)
	}
	log := s.log.With("task", t.Type(), "endpoint", p.Endpoint, "occurrence", p.Occurrence)
	ep, err := s.reg.Get(ctx, p.Endpoint)
	if presession.ErrorCode(err) == presession.ENOTFOUND {
		log.InfoContext(ctx, "webhook removed; delivery dropped")
		return nil
	}
	if err != nil {
		return err
	}
	if ep.Disabled {
		log.InfoContext(ctx, "webhook disabled; delivery dropped")
		return nil
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	if !ok {
		maxRetry = MaxRetry
	}
	d := presession.WebhookDelivery{Occurrence: p.Occurrence, Type: p.Type, Attempt: retried + 1, At: s.now().UTC()}
	status, err := s.post(ctx, ep, p, &d)
	switch {
	case err == nil && status >= 200 && status < 300:
		d.Outcome = presession.OutcomeDelivered
	case err == nil && status == http.StatusGone:
		d.Outcome = presession.OutcomeGone
	case retried < maxRetry:
		d.Outcome = presession.OutcomeRetrying
	default:
		d.Outcome = presession.OutcomeFailed
	}
	rctx := context.WithoutCancel(ctx)
	if rerr := s.reg.Record(rctx, ep.ID, d); rerr != nil {
		log.WarnContext(ctx, "record webhook delivery", "err", rerr)
	}
	switch d.Outcome {
	case presession.OutcomeDelivered:
		return nil
	case presession.OutcomeGone:
		log.WarnContext(ctx, "webhook answered 410 Gone; disabled", "url", ep.URL)
		if err := s.reg.Disable(rctx, ep.ID, d.At); err != nil {
			return err
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("webhook %s: %w", ep.ID, err)
	}
	return fmt.Errorf("webhook %s answered %d", ep.ID, status)
}

// post sends the delivery and fills d with the answer.
func (s *Server) post(ctx context.Context, ep *presession.Webhook, p task, d *presession.WebhookDelivery) (int, error) {
	sig, err := Sign(ep.Secret, p.Occurrence, d.At, p.Body)
	if err != nil {
		d.Error = err.Error()
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(p.Body))
	if err != nil {
		d.Error = err.Error()
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "presession-webhooks")
	req.Header.Set(HeaderID, p.Occurrence)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(d.At.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)
	res, err := s.http.Do(req)
	if err != nil {
		d.Error = describe(err)
		return 0, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, MaxResponse))
	d.Status, d.Response = res.StatusCode, excerpt(b)
	return res.StatusCode, nil
}

// describe says why a request got no answer, without the URL (listed
// beside it).
func describe(err error) string {
	var ra *refusedAddr
	var ne net.Error
	switch {
	case errors.As(err, &ra):
		return ra.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("no answer within %s", AttemptTimeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// excerpt is b as valid UTF-8 text, cut at MaxResponse bytes.
func excerpt(b []byte) string {
	if len(b) > MaxResponse {
		b = b[:MaxResponse]
	}
	for len(b) > 0 && !utf8.Valid(b) && len(b) > MaxResponse-4 {
		b = b[:len(b)-1] // a rune cut at the limit
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
