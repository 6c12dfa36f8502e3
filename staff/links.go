package staff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
)

// SetPasswordPath is the path of the page a set-password link opens; the
// link's token is its t parameter.
const SetPasswordPath = "/staff/password"

// linkTombstone is how long Redis remembers a link past its expiry or
// use, to tell a used or expired link (EGONE) from an unknown one.
const linkTombstone = 30 * 24 * time.Hour

// link is a set-password link, as stored (under the hash of its token).
type link struct {
	Member    string           `json:"member"`
	CreatedAt time.Time        `json:"created_at"`
	CreatedBy presession.Actor `json:"created_by"`
	Expires   time.Time        `json:"expires"`
	UsedAt    *time.Time       `json:"used_at,omitempty"`
}

// newLink makes the one-time set-password link of m, replacing (voiding)
// any earlier one, and returns its URL.
func (d *Directory) newLink(ctx context.Context, m *presession.Member, by presession.Actor) (string, error) {
	tok, err := newSecret()
	if err != nil {
		return "", err
	}
	now := d.now()
	l := link{Member: m.ID, CreatedAt: now, CreatedBy: by, Expires: now.Add(d.cfg.SetLinkValidity)}
	data, err := marshal(l)
	if err != nil {
		return "", err
	}
	h := secretHash(tok)
	if err := d.put(ctx, layout.StaffLink(h), data); err != nil {
		return "", err
	}
	old, err := d.rdb.HGet(ctx, d.kLinks(), m.ID).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("staff: link: %w", err)
	}
	pipe := d.rdb.TxPipeline()
	pipe.Set(ctx, d.kLink(h), data, d.cfg.SetLinkValidity+linkTombstone)
	pipe.HSet(ctx, d.kLinks(), m.ID, h)
	if _, err := pipe.Exec(ctx); err != nil {
		return "", fmt.Errorf("staff: link: %w", err)
	}
	if old != "" && old != h {
		if err := d.del(ctx, layout.StaffLink(old)); err != nil {
			return "", err
		}
	}
	return strings.TrimRight(d.cfg.PublicURL, "/") + SetPasswordPath + "?t=" + tok, nil
}

// linkGone is the refusal of a set-password link used, expired or
// replaced.
func linkGone() error {
	return presession.Errorf(presession.EGONE, "this link to set a password was already used, has expired or was replaced by a newer one; ask an admin for a new one").Localize("err.staff_link_gone")
}

func linkUnknown() error {
	return presession.Errorf(presession.EUNAUTHORIZED, "this is not a link to set a password (it may be incomplete); open the whole link you were sent").Localize("err.staff_link_unknown")
}

// readLink returns the link of tok and its hash, refused when it is not
// live: unknown (EUNAUTHORIZED), or used, expired or replaced (EGONE).
func (d *Directory) readLink(ctx context.Context, tok string) (link, string, error) {
	var l link
	if !wellFormed(tok) {
		return l, "", linkUnknown()
	}
	h := secretHash(tok)
	data, err := d.rdb.Get(ctx, d.kLink(h)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return l, "", linkUnknown()
	case err != nil:
		return l, "", fmt.Errorf("staff: link: %w", err)
	}
	if err := json.Unmarshal(data, &l); err != nil {
		return l, "", fmt.Errorf("staff: decode link: %w", err)
	}
	if l.UsedAt != nil || !d.now().Before(l.Expires) {
		return l, "", linkGone()
	}
	current, err := d.rdb.HGet(ctx, d.kLinks(), l.Member).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return l, "", fmt.Errorf("staff: link: %w", err)
	}
	if current != h {
		return l, "", linkGone()
	}
	return l, h, nil
}

// SetLinkMember returns the account whose set-password link tok is:
// EGONE when the link was used, has expired or was replaced,
// EUNAUTHORIZED when it is no link, EFORBIDDEN when the account is
// disabled.
func (d *Directory) SetLinkMember(ctx context.Context, tok string) (*presession.Member, error) {
	l, _, err := d.readLink(ctx, tok)
	if err != nil {
		return nil, err
	}
	m, err := d.Member(ctx, l.Member)
	if err != nil {
		return nil, err
	}
	if m.Disabled {
		return nil, disabled()
	}
	return m, nil
}

func disabled() error {
	return presession.Errorf(presession.EFORBIDDEN, "this staff account is disabled; ask an admin").Localize("err.staff_disabled")
}

// SetPassword sets the password of the account whose link tok is, once:
// the link is used up, and the member's other sessions end. A password
// too short or too common is refused (EINVALID, saying why) and leaves the
// link usable.
func (d *Directory) SetPassword(ctx context.Context, tok, password string) (*presession.Member, error) {
	if _, err := d.SetLinkMember(ctx, tok); err != nil {
		return nil, err
	}
	if err := CheckPassword(password); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	l, err := d.claimLink(ctx, tok)
	if err != nil {
		return nil, err
	}
	m, err := d.UpdateMember(ctx, l.Member, func(m *presession.Member) error {
		if m.Disabled {
			return disabled()
		}
		m.PasswordHash = hash
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// claimLink marks the link of tok used, atomically, so that of two uses
// at once one wins: the other is EGONE. Its storage copy goes.
func (d *Directory) claimLink(ctx context.Context, tok string) (link, error) {
	var claimed link
	h := secretHash(tok)
	txf := func(tx *redis.Tx) error {
		l, got, err := d.readLink(ctx, tok)
		if err != nil {
			return err
		}
		now := d.now()
		l.UsedAt = &now
		data, err := marshal(l)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, d.kLink(got), data, linkTombstone)
			p.HDel(ctx, d.kLinks(), l.Member)
			return nil
		})
		claimed = l
		return err
	}
	for range 10 {
		err := d.rdb.Watch(ctx, txf, d.kLink(h), d.kLinks())
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return link{}, err
		}
		return claimed, d.del(ctx, layout.StaffLink(h))
	}
	return link{}, linkGone()
}
