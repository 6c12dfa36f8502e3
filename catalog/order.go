package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
)

func (c *Catalog) loadOrder(ctx context.Context, g getter, session, country string) (*presession.Order, error) {
	raw, err := g.Get(ctx, c.kOrder(session, country)).Bytes()
	if errors.Is(err, redis.Nil) {
		return &presession.Order{Session: session, Country: country, Statements: []string{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: order %s/%s: %w", session, country, err)
	}
	var o presession.Order
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("catalog: order %s/%s: %w", session, country, err)
	}
	if o.Statements == nil {
		o.Statements = []string{}
	}
	return &o, nil
}

// Order returns the order of the approved statements of a country (empty,
// never ENOTFOUND, when none was ever approved).
func (c *Catalog) Order(ctx context.Context, session, country string) (*presession.Order, error) {
	return c.loadOrder(ctx, c.rdb, session, strings.ToUpper(country))
}

// Orders returns the orders of the countries of a session (keyed by upper
// case code; empty for a country that never had one) in one round trip:
// the dashboard lists every country's order at once.
func (c *Catalog) Orders(ctx context.Context, session string, countries []string) (map[string]*presession.Order, error) {
	out := make(map[string]*presession.Order, len(countries))
	if len(countries) == 0 {
		return out, nil
	}
	codes := make([]string, len(countries))
	keys := make([]string, len(countries))
	for i, cc := range countries {
		codes[i] = strings.ToUpper(cc)
		keys[i] = c.kOrder(session, codes[i])
	}
	vals, err := c.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("catalog: orders of %s: %w", session, err)
	}
	for i, v := range vals {
		o := &presession.Order{Session: session, Country: codes[i]}
		if raw, ok := v.(string); ok {
			if err := json.Unmarshal([]byte(raw), o); err != nil {
				return nil, fmt.Errorf("catalog: order %s/%s: %w", session, codes[i], err)
			}
		}
		if o.Statements == nil {
			o.Statements = []string{}
		}
		out[codes[i]] = o
	}
	return out, nil
}

// SetOrder replaces the order of a country's approved statements. ids must
// be exactly the approved statements of that session and country, each
// once: an unknown or foreign id, or a duplicate, is EINVALID; an id that is
// not approved, or an approved statement left out, is ECONFLICT (the order
// changed under the caller). The order records who set it and when.
func (c *Catalog) SetOrder(ctx context.Context, session, country string, ids []string, actor string) error {
	country = strings.ToUpper(country)
	if actor == "" {
		return presession.Errorf(presession.EINVALID, "setting an order needs an actor")
	}
	if !validSession(session) || !presession.IsCountryCode(country) {
		return presession.Errorf(presession.EINVALID, "no country %q in session %q", country, session).Localize("err.order_country", country, session)
	}
	okey := c.kOrder(session, country)
	akey := c.kIdx(session, country, presession.StatusApproved)
	err := c.watch(ctx, func(tx *redis.Tx) error {
		approved, err := tx.ZRange(ctx, akey, 0, -1).Result()
		if err != nil {
			return err
		}
		seen := make(map[string]bool, len(ids))
		for _, id := range ids {
			if seen[id] {
				return presession.Errorf(presession.EINVALID, "statement %s is listed twice", id).Localize("err.order_twice", id)
			}
			seen[id] = true
			if slices.Contains(approved, id) {
				continue
			}
			s, _, err := c.load(ctx, tx, id)
			if presession.ErrorCode(err) == presession.ENOTFOUND || err == nil && (s.Session != session || s.Country != country) {
				return presession.Errorf(presession.EINVALID, "statement %s is not a statement of %s for %s", id, session, country).
					Localize("err.order_foreign", id, session, presession.Country{Code: country})
			}
			if err != nil {
				return err
			}
			return presession.Errorf(presession.ECONFLICT, "statement %s is %s, not approved", id, s.Status).
				Localize("err.order_not_approved", id, s.Status, presession.StatusApproved)
		}
		var missing []string
		for _, id := range approved {
			if !seen[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return presession.Errorf(presession.ECONFLICT, "the order leaves out approved statements: %s", strings.Join(missing, ", ")).
				Localize("err.order_missing", strings.Join(missing, ", "))
		}
		o := presession.Order{Session: session, Country: country, Statements: slices.Clone(ids), UpdatedAt: c.clock(), UpdatedBy: actor}
		if o.Statements == nil {
			o.Statements = []string{}
		}
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, okey, b, 0)
			p.SAdd(ctx, c.kDirty(), mOrder(session, country))
			return nil
		})
		return err
	}, okey, akey)
	if err != nil {
		if presession.ErrorCode(err) != presession.EINTERNAL {
			return err
		}
		return fmt.Errorf("catalog: set order %s/%s: %w", session, country, err)
	}
	err = c.sync(ctx, mOrder(session, country))
	c.notify(ctx, session, country)
	return err
}

// ApprovedInOrder returns the country's approved statements in playlist
// order: what a playlist rebuild stitches.
func (c *Catalog) ApprovedInOrder(ctx context.Context, session, country string) ([]*presession.Statement, error) {
	o, err := c.Order(ctx, session, country)
	if err != nil {
		return nil, err
	}
	out := make([]*presession.Statement, 0, len(o.Statements))
	for _, id := range o.Statements {
		st, err := c.Get(ctx, id)
		if presession.ErrorCode(err) == presession.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		if st.Status == presession.StatusApproved {
			out = append(out, st)
		}
	}
	return out, nil
}
