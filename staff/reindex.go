package staff

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
)

// Reindex rebuilds the directory in Redis from storage alone: every
// account, API token, live session and unused set-password link. Copies
// of sessions that ended while Redis was away (past their lifetime, idle,
// their account disabled or its generation changed) and of links used,
// expired or replaced are removed from storage. It returns how many
// records it restored.
func (d *Directory) Reindex(ctx context.Context) (int, error) {
	members := map[string]*presession.Member{}
	pipe := d.rdb.TxPipeline()
	pipe.Del(ctx, d.kMembers(), d.kEmails(), d.kTokens(), d.kLinks())
	n := 0
	err := d.each(ctx, layout.StaffMembers, func(name string, data []byte) error {
		m, err := decodeMember(data)
		if err != nil {
			return err
		}
		members[m.ID] = m
		pipe.HSet(ctx, d.kMembers(), m.ID, data)
		pipe.HSet(ctx, d.kEmails(), m.Email, m.ID)
		n++
		return nil
	})
	if err != nil {
		return 0, err
	}
	err = d.each(ctx, layout.StaffTokens, func(name string, data []byte) error {
		t, err := decodeToken(data)
		if err != nil {
			return err
		}
		pipe.HSet(ctx, d.kTokens(), t.ID, data)
		n++
		return nil
	})
	if err != nil {
		return 0, err
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("staff: reindex: %w", err)
	}
	now := d.now()
	var stale []string // storage keys of records no longer live
	type latest struct {
		hash string
		l    link
	}
	current := map[string]latest{}
	err = d.each(ctx, layout.StaffLinks, func(h string, data []byte) error {
		var l link
		if err := json.Unmarshal(data, &l); err != nil {
			return fmt.Errorf("staff: decode link %s: %w", h, err)
		}
		if members[l.Member] == nil || l.UsedAt != nil || !now.Before(l.Expires) {
			stale = append(stale, layout.StaffLink(h))
			return nil
		}
		if c, ok := current[l.Member]; ok {
			if !l.CreatedAt.After(c.l.CreatedAt) {
				stale = append(stale, layout.StaffLink(h))
				return nil
			}
			stale = append(stale, layout.StaffLink(c.hash))
		}
		current[l.Member] = latest{h, l}
		return nil
	})
	if err != nil {
		return 0, err
	}
	pipe = d.rdb.Pipeline()
	for member, c := range current {
		data, err := marshal(c.l)
		if err != nil {
			return 0, err
		}
		pipe.Set(ctx, d.kLink(c.hash), data, c.l.Expires.Sub(now)+linkTombstone)
		pipe.HSet(ctx, d.kLinks(), member, c.hash)
		n++
	}
	err = d.each(ctx, layout.StaffSessions, func(h string, data []byte) error {
		var s session
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("staff: decode session %s: %w", h, err)
		}
		// A service session's credential is checked at its next use (a
		// reindex may run without the staff token at hand).
		live := !d.expired(&s, now)
		if m := members[s.Member]; s.Kind == presession.IdentityMember {
			live = live && m != nil && !m.Disabled && m.Generation == s.Generation
		}
		if !live {
			stale = append(stale, layout.StaffSession(h))
			return nil
		}
		data, err = marshal(s)
		if err != nil {
			return err
		}
		pipe.Set(ctx, d.kSession(h), data, min(d.cfg.SessionIdle-now.Sub(s.Seen), s.Expires.Sub(now)))
		n++
		return nil
	})
	if err != nil {
		return 0, err
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("staff: reindex: %w", err)
	}
	for _, key := range stale {
		if err := d.del(ctx, key); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// Restore rebuilds the directory from storage (Reindex) when Redis holds
// none of it (no account, API token or link), as after a start on an
// empty Redis; restored says whether it did.
func (d *Directory) Restore(ctx context.Context) (n int, restored bool, err error) {
	found, err := d.rdb.Exists(ctx, d.kMembers(), d.kTokens(), d.kLinks()).Result()
	if err != nil {
		return 0, false, fmt.Errorf("staff: restore: %w", err)
	}
	if found > 0 {
		return 0, false, nil
	}
	n, err = d.Reindex(ctx)
	return n, err == nil, err
}

// each calls fn with the name and bytes of every record under family.
func (d *Directory) each(ctx context.Context, family string, fn func(name string, data []byte) error) error {
	keys, err := d.blobs.ListKeys(ctx, family)
	if err != nil {
		return fmt.Errorf("staff: list %s: %w", family, err)
	}
	for _, key := range keys {
		name, ok := layout.ParseStaff(family, key)
		if !ok {
			continue
		}
		data, err := d.blobs.ReadObject(ctx, key)
		if presession.ErrorCode(err) == presession.ENOTFOUND {
			continue // removed since the listing
		}
		if err != nil {
			return fmt.Errorf("staff: read %s: %w", key, err)
		}
		if err := fn(name, data); err != nil {
			return err
		}
	}
	return nil
}
