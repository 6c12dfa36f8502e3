package catalog

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/blobs"
	"github.com/uprinfo/presession/internal/redisbulk"
	"github.com/uprinfo/presession/layout"
)

const contentTypeJSON = "application/json"

// syncAttempts bounds how often one sync rewrites a record that keeps
// changing under it; each of those changes is synced by its own writer.
const syncAttempts = 10

// sync writes the Redis record named by member to storage and clears its
// dirty mark if the record did not change meanwhile (else writes again).
func (c *Catalog) sync(ctx context.Context, member string) error {
	rkey, skey, err := c.storageKey(member)
	if err != nil {
		return err
	}
	for i := range syncAttempts {
		if i > 0 {
			// Another writer changed the record meanwhile: let it finish
			// its own write before reading again, so that many writers of
			// one record (20 concurrent updates on a loaded machine) do not
			// keep overtaking each other until the attempts run out.
			select {
			case <-ctx.Done():
				return fmt.Errorf("catalog: sync %s: %w", member, ctx.Err())
			case <-time.After(time.Duration(1+rand.IntN(2*i)) * time.Millisecond):
			}
		}
		raw, err := c.rdb.Get(ctx, rkey).Bytes()
		if errors.Is(err, redis.Nil) {
			return c.rdb.SRem(ctx, c.kDirty(), member).Err()
		}
		if err != nil {
			return fmt.Errorf("catalog: sync %s: %w", member, err)
		}
		if err := c.blobs.WriteObject(ctx, skey, raw, contentTypeJSON); err != nil {
			return (&presession.Error{Code: presession.EINTERNAL, Message: "the change is saved but not yet durable; try again",
				Err: fmt.Errorf("%w: write %s: %w", ErrNotDurable, skey, err)}).Localize("err.not_durable")
		}
		done, err := c.clean.Run(ctx, c.rdb, []string{rkey, c.kDirty()}, raw, member).Int()
		if err != nil {
			return fmt.Errorf("catalog: sync %s: %w", member, err)
		}
		if done == 1 {
			return nil
		}
	}
	return fmt.Errorf("%w: %s kept changing while being written", ErrNotDurable, member)
}

func (c *Catalog) syncIfDirty(ctx context.Context, member string) error {
	ok, err := c.rdb.SIsMember(ctx, c.kDirty(), member).Result()
	if err != nil {
		return fmt.Errorf("catalog: sync %s: %w", member, err)
	}
	if !ok {
		return nil
	}
	return c.sync(ctx, member)
}

// Sync writes to storage every change committed in Redis but not yet
// durable (left by a crash or a storage failure). Call it at start.
func (c *Catalog) Sync(ctx context.Context) error {
	members, err := c.rdb.SMembers(ctx, c.kDirty()).Result()
	if err != nil {
		return fmt.Errorf("catalog: sync: %w", err)
	}
	slices.Sort(members) // statements ("st:") after orders is irrelevant; keep it deterministic
	var errs []error
	for _, m := range members {
		if err := c.sync(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// readConcurrency bounds the storage reads of Reindex.
const readConcurrency = 16

// Reindex rebuilds every catalog key in Redis (records, indexes, orders,
// invitations, viewer links and the revoked set)
// from storage alone and returns the number of statements. It first syncs
// pending changes, so it never discards a committed one. An order is
// reconciled with the statements: ids that are not approved statements of
// that country are dropped, and approved statements it lacks (a crash
// between the two writes of an approval) join its end in order of
// approval; a repaired order is written back to storage.
//
// Reindex replaces the catalog's keys: run it at start or from the command
// line, not while other processes write the catalog. Live progress is lost.
func (c *Catalog) Reindex(ctx context.Context) (int, error) {
	if err := c.Sync(ctx); err != nil {
		return 0, fmt.Errorf("catalog: reindex: pending changes could not be written to storage first: %w", err)
	}
	stmts, err := c.readStatements(ctx)
	if err != nil {
		return 0, err
	}
	orders, err := c.readOrders(ctx)
	if err != nil {
		return 0, err
	}
	invs, err := c.readInvitations(ctx)
	if err != nil {
		return 0, err
	}
	links, err := c.readViewerLinks(ctx)
	if err != nil {
		return 0, err
	}
	orders, repaired := reconcileOrders(stmts, orders, c.clock())

	if err := c.deleteAll(ctx); err != nil {
		return 0, err
	}
	if err := writeRecords(ctx, c, stmts, func(s *presession.Statement) string { return c.kStmt(s.ID) }, c.addIndexes); err != nil {
		return 0, fmt.Errorf("catalog: reindex: %w", err)
	}
	if err := c.restoreInvitations(ctx, invs); err != nil {
		return 0, err
	}
	if err := c.restoreLinks(ctx, invs, links); err != nil {
		return 0, err
	}
	_, err = c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, o := range orders {
			b, err := json.Marshal(o)
			if err != nil {
				return err
			}
			p.Set(ctx, c.kOrder(o.Session, o.Country), b, 0)
		}
		for _, m := range repaired {
			p.SAdd(ctx, c.kDirty(), m)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("catalog: reindex: %w", err)
	}
	if err := c.Sync(ctx); err != nil {
		return 0, fmt.Errorf("catalog: reindex: %w", err)
	}
	return len(stmts), nil
}

// readStatements reads every statements/{id}/statement.json, sorted by id.
func (c *Catalog) readStatements(ctx context.Context) ([]*presession.Statement, error) {
	return readRecords(ctx, c, layout.Statements, "statements", func(k string) (string, bool) {
		id, ok := layout.ParseRecord(k)
		return id, ok && validID(id)
	}, func(k, id string, raw []byte) (*presession.Statement, error) {
		s, err := decode(raw)
		if err != nil {
			return nil, fmt.Errorf("catalog: reindex: %s is not a statement: %w", k, err)
		}
		if s.ID != id || !s.Status.Valid() || s.Session == "" {
			return nil, fmt.Errorf("catalog: reindex: %s holds an invalid statement (id %q, status %q)", k, s.ID, s.Status)
		}
		return s, nil
	})
}

// readRecords reads, readConcurrency at a time, the records a reindex
// restores: every key under prefix that record accepts (giving the id the
// key names), made into a record by decode, whose error is the reindex's.
// A key deleted since the listing is skipped; the records keep the
// listing's order (sorted by key). what names the records in the error of
// the listing.
func readRecords[T any](ctx context.Context, c *Catalog, prefix, what string,
	record func(key string) (id string, ok bool), decode func(key, id string, raw []byte) (*T, error)) ([]*T, error) {
	keys, err := c.blobs.ListKeys(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("catalog: reindex: list %s: %w", what, err)
	}
	keys = slices.DeleteFunc(keys, func(k string) bool {
		_, ok := record(k)
		return !ok
	})
	return blobs.ReadAll(ctx, c.blobs, keys, readConcurrency, "catalog: reindex", func(k string, raw []byte) (*T, error) {
		id, _ := record(k)
		return decode(k, id, raw)
	})
}

// readOrders reads every orders/{session}/{CC}.json.
func (c *Catalog) readOrders(ctx context.Context) ([]*presession.Order, error) {
	keys, err := c.blobs.ListKeys(ctx, layout.Orders)
	if err != nil {
		return nil, fmt.Errorf("catalog: reindex: list orders: %w", err)
	}
	var out []*presession.Order
	for _, k := range keys {
		session, country, ok := layout.ParseOrder(k)
		if !ok || !validSession(session) || !presession.IsCountryCode(country) {
			continue
		}
		raw, err := c.blobs.ReadObject(ctx, k)
		if presession.ErrorCode(err) == presession.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("catalog: reindex: read %s: %w", k, err)
		}
		var o presession.Order
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, fmt.Errorf("catalog: reindex: %s is not an order: %w", k, err)
		}
		o.Session, o.Country = session, country
		if o.Statements == nil {
			o.Statements = []string{}
		}
		out = append(out, &o)
	}
	return out, nil
}

// reconcileOrders makes each order list exactly its country's approved
// statements, adding orders where needed. It returns all orders and the
// dirty-set members of those it changed or added.
func reconcileOrders(stmts []*presession.Statement, orders []*presession.Order, now time.Time) (all []*presession.Order, changed []string) {
	type sc struct{ s, c string }
	approved := map[sc][]*presession.Statement{}
	for _, s := range stmts {
		if s.Status == presession.StatusApproved {
			k := sc{s.Session, s.Country}
			approved[k] = append(approved[k], s)
		}
	}
	byKey := map[sc]*presession.Order{}
	for _, o := range orders {
		byKey[sc{o.Session, o.Country}] = o
	}
	for k := range approved {
		if byKey[k] == nil {
			o := &presession.Order{Session: k.s, Country: k.c, Statements: []string{}}
			byKey[k] = o
		}
	}
	for k, o := range byKey {
		ok := map[string]bool{}
		for _, s := range approved[k] {
			ok[s.ID] = true
		}
		var ids []string
		seen := map[string]bool{}
		for _, id := range o.Statements {
			if ok[id] && !seen[id] {
				ids = append(ids, id)
				seen[id] = true
			}
		}
		var extra []*presession.Statement
		for _, s := range approved[k] {
			if !seen[s.ID] {
				extra = append(extra, s)
			}
		}
		slices.SortFunc(extra, func(a, b *presession.Statement) int {
			return cmp.Or(approvedAt(a).Compare(approvedAt(b)), strings.Compare(a.ID, b.ID))
		})
		for _, s := range extra {
			ids = append(ids, s.ID)
		}
		if ids == nil {
			ids = []string{}
		}
		if !slices.Equal(ids, o.Statements) {
			o.Statements, o.UpdatedAt, o.UpdatedBy = ids, now, "system:reindex"
			changed = append(changed, mOrder(o.Session, o.Country))
		}
	}
	for _, o := range byKey {
		all = append(all, o)
	}
	return all, changed
}

// approvedAt is when s was last approved.
func approvedAt(s *presession.Statement) time.Time {
	for i := len(s.History) - 1; i >= 0; i-- {
		if s.History[i].To == presession.StatusApproved {
			return s.History[i].At
		}
	}
	return s.UpdatedAt
}

// deleteAll removes every catalog key under the prefix.
func (c *Catalog) deleteAll(ctx context.Context) error {
	// The patterns (after the prefix) of every catalog key.
	for _, fam := range []string{"st:*", "idx:*", "inv:*", "iv:*", "ivx:*", "vl:*", "vlx:*", "revoked", "order:*", "progress", "dirty"} {
		if err := redisbulk.DeleteMatching(ctx, c.rdb, redisbulk.GlobEscape(c.prefix)+fam); err != nil {
			return fmt.Errorf("catalog: reindex: clear: %w", err)
		}
	}
	return nil
}

// writeRecords writes each of recs as JSON under its key and adds its
// indexes, the way a reindex fills Redis: in pipelines of bounded size.
func writeRecords[T any](ctx context.Context, c *Catalog, recs []*T, key func(*T) string,
	index func(ctx context.Context, p redis.Pipeliner, r *T)) error {
	return redisbulk.Pipelined(ctx, c.rdb, len(recs), func(p redis.Pipeliner, i int) error {
		b, err := json.Marshal(recs[i])
		if err != nil {
			return err
		}
		p.Set(ctx, key(recs[i]), b, 0)
		index(ctx, p, recs[i])
		return nil
	})
}
