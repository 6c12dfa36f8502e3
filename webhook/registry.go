// Package webhook tells the organisers' own systems what happens, by
// signed HTTP POSTs to the endpoints staff register.
//
//   - The [Registry] keeps the endpoints in Redis, each with a durable copy
//     in storage (layout.Webhook) from which [Registry.Restore] brings
//     Redis back (at start, and by reindex), and the last deliveries of
//     each endpoint (Redis only).
//   - [Client.Occurred] is the occurrence hook: it queues one Asynq task
//     per (occurrence, subscribed endpoint) on the "webhook" queue, its
//     task ID made of both, so telling an occurrence again is a no-op.
//   - The [Server] delivers them: a body and headers exactly as the
//     Standard Webhooks specification describes ([Sign]), 10 s per
//     attempt, retried with exponential backoff (30 s doubling, capped at
//     1 h, 12 retries: about six hours) until a 2xx; a 410 Gone disables
//     the endpoint. Every attempt is recorded.
//   - The [Guard] refuses endpoints on loopback, link-local, private,
//     unspecified and multicast addresses (unless the operator allows
//     private ones), when one registers and again on every connection, at
//     dial time, so a name that later resolves elsewhere (DNS rebinding)
//     reaches nothing it should not. Redirects are not followed.
//   - The [API] serves the staff routes under /api/v1/webhooks.
//
// Nothing here waits on an endpoint in the path of an upload, a transcode
// or a review: the hook only writes tasks to Redis.
//
// # Redis keys (prefix P)
//
//	P wh:endpoints      hash id → the endpoint's JSON (as in storage)
//	P wh:log:{id}       list of its latest deliveries' JSON, newest first
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
)

// Store is the part of storage the registry's durable copy needs;
// storage.Dir and storage.S3 provide it.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, o presession.PutOptions) error
	Get(ctx context.Context, key string, rng *presession.Range) (io.ReadCloser, presession.ObjectInfo, error)
	List(ctx context.Context, prefix string) ([]presession.ObjectInfo, error)
	Delete(ctx context.Context, key string) error
}

// KeptDeliveries is how many deliveries are kept per endpoint.
const KeptDeliveries = 20

// MaxResponse bounds the recorded excerpt of an endpoint's answer.
const MaxResponse = 1 << 10

// Registry keeps the webhook endpoints. It is safe for concurrent use, by
// many processes sharing one Redis.
type Registry struct {
	rdb    redis.UniversalClient
	store  Store
	prefix string
}

// NewRegistry returns the registry on rdb (keys under prefix) whose
// endpoints are durable in store.
func NewRegistry(rdb redis.UniversalClient, store Store, prefix string) *Registry {
	return &Registry{rdb: rdb, store: store, prefix: prefix}
}

func (r *Registry) kEndpoints() string    { return r.prefix + "wh:endpoints" }
func (r *Registry) kLog(id string) string { return r.prefix + "wh:log:" + id }

func notFound(id string) error {
	return presession.Errorf(presession.ENOTFOUND, "there is no webhook %s", id).Localize("err.webhook_not_found", id)
}

// Add records a new endpoint: in storage first, then in Redis, so that an
// endpoint is only ever live once it is durable.
func (r *Registry) Add(ctx context.Context, w *presession.Webhook) error {
	rec := *w
	rec.Deliveries = nil
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("webhook: add %s: %w", w.ID, err)
	}
	if err := r.put(ctx, w.ID, b); err != nil {
		return err
	}
	if err := r.rdb.HSet(ctx, r.kEndpoints(), w.ID, b).Err(); err != nil {
		return fmt.Errorf("webhook: add %s: %w", w.ID, err)
	}
	return nil
}

func (r *Registry) put(ctx context.Context, id string, b []byte) error {
	if err := r.store.Put(ctx, layout.Webhook(id), bytes.NewReader(b), int64(len(b)),
		presession.PutOptions{ContentType: "application/json", CacheControl: "no-cache"}); err != nil {
		return fmt.Errorf("webhook: store %s: %w", id, err)
	}
	return nil
}

// Get returns the endpoint id, its secret included; ENOTFOUND when there
// is none.
func (r *Registry) Get(ctx context.Context, id string) (*presession.Webhook, error) {
	b, err := r.rdb.HGet(ctx, r.kEndpoints(), id).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("webhook: get %s: %w", id, err)
	}
	var w presession.Webhook
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("webhook: record of %s: %w", id, err)
	}
	return &w, nil
}

// all returns every endpoint, secrets included, oldest first.
func (r *Registry) all(ctx context.Context) ([]*presession.Webhook, error) {
	m, err := r.rdb.HGetAll(ctx, r.kEndpoints()).Result()
	if err != nil {
		return nil, fmt.Errorf("webhook: list: %w", err)
	}
	out := make([]*presession.Webhook, 0, len(m))
	for id, raw := range m {
		var w presession.Webhook
		if err := json.Unmarshal([]byte(raw), &w); err != nil {
			return nil, fmt.Errorf("webhook: record of %s: %w", id, err)
		}
		out = append(out, &w)
	}
	slices.SortFunc(out, func(a, b *presession.Webhook) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Subscribed returns the endpoints that are told occurrences of type t.
func (r *Registry) Subscribed(ctx context.Context, t presession.OccurrenceType) ([]*presession.Webhook, error) {
	all, err := r.all(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(w *presession.Webhook) bool { return !w.Wants(t) }), nil
}

// List returns every endpoint, oldest first, without its secret and with
// its latest deliveries, newest first.
func (r *Registry) List(ctx context.Context) ([]presession.Webhook, error) {
	all, err := r.all(ctx)
	if err != nil {
		return nil, err
	}
	logs := make([]*redis.StringSliceCmd, len(all))
	if _, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, w := range all {
			logs[i] = p.LRange(ctx, r.kLog(w.ID), 0, KeptDeliveries-1)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("webhook: list deliveries: %w", err)
	}
	out := make([]presession.Webhook, len(all))
	for i, w := range all {
		w.Secret = ""
		w.Deliveries = []presession.WebhookDelivery{}
		for _, raw := range logs[i].Val() {
			var d presession.WebhookDelivery
			if json.Unmarshal([]byte(raw), &d) == nil {
				w.Deliveries = append(w.Deliveries, d)
			}
		}
		out[i] = *w
	}
	return out, nil
}

// Delete removes the endpoint and its deliveries: from storage first, so
// that a failure leaves it registered rather than coming back at the
// next restore. Its queued deliveries find it gone and are dropped.
func (r *Registry) Delete(ctx context.Context, id string) error {
	exists, err := r.rdb.HExists(ctx, r.kEndpoints(), id).Result()
	if err != nil {
		return fmt.Errorf("webhook: delete %s: %w", id, err)
	}
	if !exists {
		return notFound(id)
	}
	if err := r.store.Delete(ctx, layout.Webhook(id)); err != nil {
		return fmt.Errorf("webhook: delete %s from storage: %w", id, err)
	}
	if _, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HDel(ctx, r.kEndpoints(), id)
		p.Del(ctx, r.kLog(id))
		return nil
	}); err != nil {
		return fmt.Errorf("webhook: delete %s: %w", id, err)
	}
	return nil
}

// disableScript sets the record in KEYS[1] field ARGV[1] to ARGV[2] only
// if the field still exists (a deleted endpoint stays deleted).
var disableScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0`)

// Disable marks the endpoint disabled at t: it is told nothing more.
func (r *Registry) Disable(ctx context.Context, id string, t time.Time) error {
	w, err := r.Get(ctx, id)
	if err != nil {
		return err
	}
	if w.Disabled {
		return nil
	}
	t = t.UTC()
	w.Disabled, w.DisabledAt = true, &t
	b, err := json.Marshal(w)
	if err != nil {
		return err
	}
	n, err := disableScript.Run(ctx, r.rdb, []string{r.kEndpoints()}, id, b).Int()
	if err != nil {
		return fmt.Errorf("webhook: disable %s: %w", id, err)
	}
	if n == 0 {
		return nil // deleted meanwhile
	}
	return r.put(ctx, id, b)
}

// Record adds a delivery attempt to the endpoint's latest deliveries.
func (r *Registry) Record(ctx context.Context, id string, d presession.WebhookDelivery) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if _, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, r.kLog(id), b)
		p.LTrim(ctx, r.kLog(id), 0, KeptDeliveries-1)
		return nil
	}); err != nil {
		return fmt.Errorf("webhook: record delivery to %s: %w", id, err)
	}
	return nil
}

// Restore puts every endpoint stored in storage that Redis lacks back into
// Redis (an embedded Redis starts empty; reindex rebuilds a lost one),
// and returns how many endpoints there are in storage.
func (r *Registry) Restore(ctx context.Context) (int, error) {
	objs, err := r.store.List(ctx, layout.Webhooks)
	if err != nil {
		return 0, fmt.Errorf("webhook: restore: list: %w", err)
	}
	n := 0
	for _, o := range objs {
		id, ok := layout.ParseWebhook(o.Key)
		if !ok {
			continue
		}
		b, err := r.read(ctx, o.Key)
		if err != nil {
			return n, err
		}
		var w presession.Webhook
		if err := json.Unmarshal(b, &w); err != nil || w.ID != id {
			return n, fmt.Errorf("webhook: restore: %s is not an endpoint record", o.Key)
		}
		if err := r.rdb.HSetNX(ctx, r.kEndpoints(), id, b).Err(); err != nil {
			return n, fmt.Errorf("webhook: restore %s: %w", id, err)
		}
		n++
	}
	return n, nil
}

func (r *Registry) read(ctx context.Context, key string) ([]byte, error) {
	rc, _, err := r.store.Get(ctx, key, nil)
	if err != nil {
		return nil, fmt.Errorf("webhook: restore: read %s: %w", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("webhook: restore: read %s: %w", key, err)
	}
	return b, nil
}
