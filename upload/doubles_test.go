package upload

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/metrics"
)

// redisStatements is a small Statements on the test's own Redis DB, which
// the nodes a test starts as processes share. The lifecycle is the
// domain's: Create begins a statement and Transition applies the move.
type redisStatements struct {
	rdb *redis.Client
	// fail, when set, makes every call fail (a Redis blip).
	fail atomic.Bool
}

var errBlip = errors.New("catalog unavailable (test)")

func (r *redisStatements) key(id string) string { return "st:" + id }

func (r *redisStatements) Create(ctx context.Context, st *presession.Statement) error {
	if r.fail.Load() {
		return errBlip
	}
	if err := st.Begin(time.Now().UTC()); err != nil {
		return err
	}
	b, _ := json.Marshal(st)
	ok, err := r.rdb.SetNX(ctx, r.key(st.ID), b, 0).Result()
	if err != nil {
		return err
	}
	if !ok {
		return presession.Errorf(presession.ECONFLICT, "statement %s exists", st.ID)
	}
	return r.rdb.SAdd(ctx, "inv:"+st.InvitationID, st.ID).Err()
}

func (r *redisStatements) Get(ctx context.Context, id string) (*presession.Statement, error) {
	if r.fail.Load() {
		return nil, errBlip
	}
	b, err := r.rdb.Get(ctx, r.key(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, presession.Errorf(presession.ENOTFOUND, "no statement %s", id)
	}
	if err != nil {
		return nil, err
	}
	var st presession.Statement
	return &st, json.Unmarshal(b, &st)
}

func (r *redisStatements) Transition(ctx context.Context, id string, to presession.Status, actor, reason string, msg ...presession.Message) (*presession.Statement, error) {
	if r.fail.Load() {
		return nil, errBlip
	}
	m, err := presession.NewMove(to, presession.Actor(actor), reason, msg...)
	if err != nil {
		return nil, err
	}
	return r.Update(ctx, id, func(st *presession.Statement) error { return st.Apply(m, time.Now().UTC()) })
}

// Update applies fn to the record atomically, as the catalog's does (it
// does not check which fields fn changed).
func (r *redisStatements) Update(ctx context.Context, id string, fn func(*presession.Statement) error) (*presession.Statement, error) {
	if r.fail.Load() {
		return nil, errBlip
	}
	var out *presession.Statement
	err := r.rdb.Watch(ctx, func(tx *redis.Tx) error {
		b, err := tx.Get(ctx, r.key(id)).Bytes()
		if errors.Is(err, redis.Nil) {
			return presession.Errorf(presession.ENOTFOUND, "no statement %s", id)
		}
		if err != nil {
			return err
		}
		var st presession.Statement
		if err := json.Unmarshal(b, &st); err != nil {
			return err
		}
		if err := fn(&st); err != nil {
			return err
		}
		nb, _ := json.Marshal(&st)
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, r.key(id), nb, 0)
			return nil
		})
		out = &st
		return err
	}, r.key(id))
	return out, err
}

func (r *redisStatements) ByInvitation(ctx context.Context, inv string) ([]*presession.Statement, error) {
	if r.fail.Load() {
		return nil, errBlip
	}
	ids, err := r.rdb.SMembers(ctx, "inv:"+inv).Result()
	if err != nil {
		return nil, err
	}
	var out []*presession.Statement
	for _, id := range ids {
		st, err := r.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// refusals counts the refusals of creations by reason (a Metrics).
type refusals struct {
	mu sync.Mutex
	n  map[metrics.Refusal]int
}

func (r *refusals) UploadStarted()      {}
func (r *refusals) UploadFinished()     {}
func (r *refusals) BytesReceived(int64) {}
func (r *refusals) UploadRefused(reason metrics.Refusal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[metrics.Refusal]int{}
	}
	r.n[reason]++
}

func (r *refusals) count(reason metrics.Refusal) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n[reason]
}

// redisProcessor records enqueued statements, once each (a set, as a task
// id derived from the statement would), and counts the calls.
type redisProcessor struct {
	rdb  *redis.Client
	fail atomic.Bool
}

func (p *redisProcessor) EnqueueProcess(ctx context.Context, id string) error {
	if p.fail.Load() {
		return errBlip
	}
	p.rdb.Incr(ctx, "enqueue-calls:"+id)
	return p.rdb.SAdd(ctx, "queued", id).Err()
}

func (p *redisProcessor) queued(ctx context.Context, id string) bool {
	ok, _ := p.rdb.SIsMember(ctx, "queued", id).Result()
	return ok
}

func (r *redisStatements) Stale(ctx context.Context, statuses ...presession.Status) ([]*presession.Statement, error) {
	keys, err := r.rdb.Keys(ctx, "st:*").Result()
	if err != nil {
		return nil, err
	}
	var out []*presession.Statement
	for _, k := range keys {
		st, err := r.Get(ctx, k[len("st:"):])
		if err != nil {
			return nil, err
		}
		for _, s := range statuses {
			if st.Status == s {
				out = append(out, st)
			}
		}
	}
	return out, nil
}
