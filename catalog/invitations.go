package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
)

// Invitation records live beside the statements: P iv:{id} holds the
// record (as in storage, invitations/{id}.json) and P ivx:{S}:{CC} (S, CC
// each possibly empty = any) index them by creation time, so every
// session/country filter is one key.

func (c *Catalog) kInvitation(id string) string { return c.prefix + mInvitation(id) }
func (c *Catalog) kInvIdx(session, country string) string {
	return c.prefix + "ivx:" + session + ":" + country
}
func mInvitation(id string) string { return "iv:" + id }

// invIdxKeys returns the 4 index keys an invitation of session/country is in.
func (c *Catalog) invIdxKeys(session, country string) []string {
	return anyOf(c.kInvIdx, session, country)
}

// anyOf returns the 4 keys of index idx a record of session/country is
// in: its own, its session's any country, any session's its country, and
// any of either.
func anyOf(idx func(session, country string) string, session, country string) []string {
	return []string{idx(session, country), idx(session, ""), idx("", country), idx("", "")}
}

func (c *Catalog) addInvIndexes(ctx context.Context, p redis.Pipeliner, inv *presession.Invitation) {
	z := redis.Z{Score: float64(inv.CreatedAt.UnixMicro()), Member: inv.ID}
	for _, k := range c.invIdxKeys(inv.Session, inv.Country) {
		p.ZAdd(ctx, k, z)
	}
}

func decodeInvitation(raw []byte) (*presession.Invitation, error) {
	return decodeJSON[presession.Invitation](raw)
}

// decodeJSON decodes one record kept as JSON.
func decodeJSON[T any](raw []byte) (*T, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// CreateInvitation records inv (its ID is the invitation token's) and
// tells the occurrence hook invitation.created. CreatedAt is set when
// zero, the country upper-cased. It is idempotent by ID: when the ID is
// taken, in Redis or in storage (a record another process wrote there, as
// the command line does on the embedded default), it changes nothing,
// fills inv with the record there is and returns created false.
func (c *Catalog) CreateInvitation(ctx context.Context, inv *presession.Invitation) (created bool, err error) {
	if !validID(inv.ID) {
		return false, presession.Errorf(presession.EINVALID, "invitation id %q is not valid", inv.ID)
	}
	if !validSession(inv.Session) {
		return false, presession.Errorf(presession.EINVALID, "session %q is not valid", inv.Session)
	}
	inv.Country = strings.ToUpper(inv.Country)
	if !presession.IsCountryCode(inv.Country) {
		return false, presession.Errorf(presession.EINVALID, "country %q is not an ISO 3166-1 alpha-2 code", inv.Country)
	}
	if strings.TrimSpace(inv.Organisation) == "" {
		return false, presession.Errorf(presession.EINVALID, "the organisation's name is required").Localize("invite.org_required")
	}
	if inv.CreatedAt.IsZero() {
		inv.CreatedAt = c.clock()
	}
	key := c.kInvitation(inv.ID)
	// A record only storage has is adopted, never overwritten.
	stored, err := c.blobs.ReadObject(ctx, layout.Invitation(inv.ID))
	if err != nil && presession.ErrorCode(err) != presession.ENOTFOUND {
		return false, fmt.Errorf("catalog: create invitation %s: %w", inv.ID, err)
	}
	var adopt *presession.Invitation
	if err == nil {
		if adopt, err = decodeInvitation(stored); err != nil || adopt.ID != inv.ID {
			return false, fmt.Errorf("catalog: %s is not the invitation %s: %v", layout.Invitation(inv.ID), inv.ID, err)
		}
	}
	rec, err := json.Marshal(inv)
	if err != nil {
		return false, fmt.Errorf("catalog: create invitation %s: %w", inv.ID, err)
	}
	var existing []byte
	err = c.watch(ctx, func(tx *redis.Tx) error {
		existing = nil
		raw, err := tx.Get(ctx, key).Bytes()
		if err == nil {
			existing = raw
			return nil
		}
		if !errors.Is(err, redis.Nil) {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			if adopt != nil {
				p.Set(ctx, key, stored, 0)
				c.addInvIndexes(ctx, p, adopt)
				return nil
			}
			p.Set(ctx, key, rec, 0)
			c.addInvIndexes(ctx, p, inv)
			p.SAdd(ctx, c.kDirty(), mInvitation(inv.ID))
			return nil
		})
		return err
	}, key)
	if err != nil {
		return false, fmt.Errorf("catalog: create invitation %s: %w", inv.ID, err)
	}
	if existing == nil && adopt != nil {
		existing = stored
	}
	if existing != nil {
		// A repeated call may be the retry of one whose storage write
		// failed: finish that write, best effort.
		_ = c.syncIfDirty(ctx, mInvitation(inv.ID))
		got, err := decodeInvitation(existing)
		if err != nil {
			return false, fmt.Errorf("catalog: record of invitation %s: %w", inv.ID, err)
		}
		*inv = *got
		return false, nil
	}
	err = c.sync(ctx, mInvitation(inv.ID))
	c.tell(ctx, presession.InvitationOccurrence(inv))
	return err == nil, err
}

// Invitation returns the invitation with the given id; ENOTFOUND when there
// is none.
func (c *Catalog) Invitation(ctx context.Context, id string) (*presession.Invitation, error) {
	raw, err := c.rdb.Get(ctx, c.kInvitation(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, presession.Errorf(presession.ENOTFOUND, "invitation %s not found", id).Localize("err.invitation_not_found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: invitation %s: %w", id, err)
	}
	inv, err := decodeInvitation(raw)
	if err != nil {
		return nil, fmt.Errorf("catalog: record of invitation %s: %w", id, err)
	}
	return inv, nil
}

// ListInvitations returns the invitations of a session and country (each
// empty = any), oldest first.
func (c *Catalog) ListInvitations(ctx context.Context, session, country string) ([]*presession.Invitation, error) {
	return listIndexed(ctx, c, c.kInvIdx(session, strings.ToUpper(country)), c.kInvitation, decodeInvitation, "invitation")
}

// listIndexed returns the records an index (a sorted set of ids) names,
// in its order: each read from key(id) and decoded, a few hundred per
// round trip; an id whose record is gone is left out. what names the
// kind of record in errors.
func listIndexed[T any](ctx context.Context, c *Catalog, index string, key func(string) string, decode func([]byte) (*T, error), what string) ([]*T, error) {
	ids, err := c.rdb.ZRange(ctx, index, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("catalog: list %ss: %w", what, err)
	}
	out := make([]*T, 0, len(ids))
	const batch = 500
	for lo := 0; lo < len(ids); lo += batch {
		chunk := ids[lo:min(lo+batch, len(ids))]
		keys := make([]string, len(chunk))
		for i, id := range chunk {
			keys[i] = key(id)
		}
		vals, err := c.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, fmt.Errorf("catalog: list %ss: %w", what, err)
		}
		for i, v := range vals {
			raw, ok := v.(string)
			if !ok {
				continue
			}
			rec, err := decode([]byte(raw))
			if err != nil {
				return nil, fmt.Errorf("catalog: record of %s %s: %w", what, chunk[i], err)
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

// InvitationStatements returns the statements of each of the invitations
// ids (an invitation without any has none in the map), brief (without
// media, captions and history; see ListBrief): two round trips however
// many ids, for listing invitations with whether they uploaded.
func (c *Catalog) InvitationStatements(ctx context.Context, ids []string) (map[string][]*presession.Statement, error) {
	out := map[string][]*presession.Statement{}
	if len(ids) == 0 {
		return out, nil
	}
	cmds := make([]*redis.StringSliceCmd, len(ids))
	if _, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.ZRange(ctx, c.kInv(id), 0, -1)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("catalog: statements of invitations: %w", err)
	}
	var all []string
	for _, cmd := range cmds {
		all = append(all, cmd.Val()...)
	}
	stmts, err := c.fetchAs(ctx, all, decodeBrief)
	if err != nil {
		return nil, err
	}
	for _, s := range stmts {
		out[s.InvitationID] = append(out[s.InvitationID], s)
	}
	return out, nil
}

// RecordMail records what became of the mail of kind ("invitation",
// "received", …) to the invitation's organisation. A delivery already
// sent is not moved back to queued (a repeated enqueue after the send);
// anything else replaces what was recorded. ENOTFOUND when there is no
// such invitation.
func (c *Catalog) RecordMail(ctx context.Context, invID, kind string, d presession.Delivery) error {
	key := c.kInvitation(invID)
	changed := false
	err := c.watch(ctx, func(tx *redis.Tx) error {
		changed = false
		raw, err := tx.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			return presession.Errorf(presession.ENOTFOUND, "invitation %s not found", invID).Localize("err.invitation_not_found", invID)
		}
		if err != nil {
			return err
		}
		inv, err := decodeInvitation(raw)
		if err != nil {
			return err
		}
		if old, ok := inv.Mail[kind]; ok && (old == d || (old.State == presession.DeliverySent && d.State == presession.DeliveryQueued)) {
			return nil
		}
		if inv.Mail == nil {
			inv.Mail = map[string]presession.Delivery{}
		}
		inv.Mail[kind] = d
		rec, err := json.Marshal(inv)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, rec, 0)
			p.SAdd(ctx, c.kDirty(), mInvitation(invID))
			return nil
		})
		changed = err == nil
		return err
	}, key)
	if err != nil {
		if presession.ErrorCode(err) != presession.EINTERNAL {
			return err
		}
		return fmt.Errorf("catalog: record mail of invitation %s: %w", invID, err)
	}
	if !changed {
		return c.syncIfDirty(ctx, mInvitation(invID))
	}
	return c.sync(ctx, mInvitation(invID))
}

// readInvitations reads every invitations/{id}.json.
func (c *Catalog) readInvitations(ctx context.Context) ([]*presession.Invitation, error) {
	return readRecords(ctx, c, layout.Invitations, "invitations", func(k string) (string, bool) {
		id, ok := layout.ParseInvitation(k)
		return id, ok && validID(id)
	}, func(k, id string, raw []byte) (*presession.Invitation, error) {
		inv, err := decodeInvitation(raw)
		if err != nil || inv.ID != id || inv.Session == "" {
			return nil, fmt.Errorf("catalog: reindex: %s is not an invitation (%v)", k, err)
		}
		return inv, nil
	})
}

// restoreInvitations writes invs and their indexes to Redis.
func (c *Catalog) restoreInvitations(ctx context.Context, invs []*presession.Invitation) error {
	if err := writeRecords(ctx, c, invs, func(inv *presession.Invitation) string { return c.kInvitation(inv.ID) }, c.addInvIndexes); err != nil {
		return fmt.Errorf("catalog: reindex invitations: %w", err)
	}
	return nil
}
