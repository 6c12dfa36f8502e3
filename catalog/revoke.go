package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
)

// Revocations: P revoked is the set of the ids of the invitations and
// viewer links staff revoked. A revocation sets RevokedAt and RevokedBy on
// the record and adds the id to the set in one transaction, so the set is
// what the records say; Reindex rebuilds it from them. Every node asks the
// same set (Revoked), so a revocation holds everywhere at once.

func (c *Catalog) kRevoked() string { return c.prefix + "revoked" }

// Revoked reports whether staff revoked the invitation or viewer link id:
// one SISMEMBER, cheap enough to ask for every request that carries a
// token (web.Auth.Revocations).
func (c *Catalog) Revoked(ctx context.Context, id string) (bool, error) {
	ok, err := c.rdb.SIsMember(ctx, c.kRevoked(), id).Result()
	if err != nil {
		return false, fmt.Errorf("catalog: revoked %s: %w", id, err)
	}
	return ok, nil
}

// RevokeInvitation revokes the invitation id on behalf of by: from then
// its token is refused everywhere (Revoked); its statements stay. It
// returns the record. Revoking a revoked invitation changes nothing (the
// first revocation's time and actor stay); ENOTFOUND when there is no
// such invitation.
func (c *Catalog) RevokeInvitation(ctx context.Context, id string, by presession.Actor) (*presession.Invitation, error) {
	var out *presession.Invitation
	err := c.revoke(ctx, id, mInvitation(id), func() error {
		return presession.Errorf(presession.ENOTFOUND, "invitation %s not found", id).Localize("err.invitation_not_found", id)
	}, func(raw []byte, at time.Time) ([]byte, bool, error) {
		inv, err := decodeInvitation(raw)
		if err != nil {
			return nil, false, err
		}
		out = inv
		if inv.RevokedAt != nil {
			return raw, false, nil
		}
		inv.RevokedAt, inv.RevokedBy = &at, by
		b, err := json.Marshal(inv)
		return b, true, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeViewerLink revokes the viewer link id on behalf of by: from then
// its token is refused everywhere (Revoked). It returns the record.
// Revoking a revoked link changes nothing; ENOTFOUND when there is no such
// link.
func (c *Catalog) RevokeViewerLink(ctx context.Context, id string, by presession.Actor) (*presession.ViewerLink, error) {
	var out *presession.ViewerLink
	err := c.revoke(ctx, id, mViewerLink(id), func() error { return viewerLinkNotFound(id) },
		func(raw []byte, at time.Time) ([]byte, bool, error) {
			l, err := decodeViewerLink(raw)
			if err != nil {
				return nil, false, err
			}
			out = l
			if l.RevokedAt != nil {
				return raw, false, nil
			}
			l.RevokedAt, l.RevokedBy = &at, by
			b, err := json.Marshal(l)
			return b, true, err
		})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// revoke marks the record named by member (the invitation or viewer link
// id) revoked: mark returns the new record and whether it changed, given
// the current one and the time of the revocation. The record and the
// revoked set change in one transaction; a record already revoked is only
// made sure of in the set (and in storage). notFound is the error when
// there is no record.
func (c *Catalog) revoke(ctx context.Context, id, member string, notFound func() error,
	mark func(raw []byte, at time.Time) ([]byte, bool, error)) error {
	key := c.prefix + member
	changed := false
	err := c.watch(ctx, func(tx *redis.Tx) error {
		changed = false
		raw, err := tx.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			return notFound()
		}
		if err != nil {
			return err
		}
		rec, ch, err := mark(raw, c.clock())
		if err != nil {
			return fmt.Errorf("record %s: %w", member, err)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.SAdd(ctx, c.kRevoked(), id)
			if ch {
				p.Set(ctx, key, rec, 0)
				p.SAdd(ctx, c.kDirty(), member)
			}
			return nil
		})
		changed = ch && err == nil
		return err
	}, key)
	if err != nil {
		if presession.ErrorCode(err) != presession.EINTERNAL {
			return err
		}
		return fmt.Errorf("catalog: revoke %s: %w", id, err)
	}
	if !changed {
		return c.syncIfDirty(ctx, member)
	}
	return c.sync(ctx, member)
}
