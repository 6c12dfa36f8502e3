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

// Viewer link records live beside the invitations: P vl:{id} holds the
// record (as in storage, viewer-links/{id}.json) and P vlx:{S}:{CC} (S,
// CC each possibly empty = any) index them by creation time. A link for a
// whole session has no country: it is in P vlx:{S}: and P vlx::, the
// indexes of "any country", only.

func (c *Catalog) kViewerLink(id string) string { return c.prefix + mViewerLink(id) }
func (c *Catalog) kLinkIdx(session, country string) string {
	return c.prefix + "vlx:" + session + ":" + country
}
func mViewerLink(id string) string { return "vl:" + id }

func (c *Catalog) addLinkIndexes(ctx context.Context, p redis.Pipeliner, l *presession.ViewerLink) {
	z := redis.Z{Score: float64(l.CreatedAt.UnixMicro()), Member: l.ID}
	for _, k := range anyOf(c.kLinkIdx, l.Session, l.Country) {
		p.ZAdd(ctx, k, z)
	}
}

func decodeViewerLink(raw []byte) (*presession.ViewerLink, error) {
	return decodeJSON[presession.ViewerLink](raw)
}

func viewerLinkNotFound(id string) error {
	return presession.Errorf(presession.ENOTFOUND, "viewer link %s not found", id).Localize("err.viewer_link_not_found", id)
}

// CreateViewerLink records l, the viewer link whose token has l.ID, so
// that it is listed and can be revoked. CreatedAt is set when zero, the
// country upper-cased (empty: the whole session). It is idempotent by ID:
// when the ID is taken it changes nothing and fills l with the record
// there is.
func (c *Catalog) CreateViewerLink(ctx context.Context, l *presession.ViewerLink) error {
	if !validID(l.ID) {
		return presession.Errorf(presession.EINVALID, "viewer link id %q is not valid", l.ID)
	}
	if !validSession(l.Session) {
		return presession.Errorf(presession.EINVALID, "session %q is not valid", l.Session)
	}
	l.Country = strings.ToUpper(l.Country)
	if l.Country != "" && !presession.IsCountryCode(l.Country) {
		return presession.Errorf(presession.EINVALID, "country %q is not an ISO 3166-1 alpha-2 code", l.Country)
	}
	if l.Expires.IsZero() {
		return presession.Errorf(presession.EINVALID, "viewer link %s has no expiry", l.ID)
	}
	if l.CreatedAt.IsZero() {
		l.CreatedAt = c.clock()
	}
	rec, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("catalog: create viewer link %s: %w", l.ID, err)
	}
	key := c.kViewerLink(l.ID)
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
			p.Set(ctx, key, rec, 0)
			c.addLinkIndexes(ctx, p, l)
			p.SAdd(ctx, c.kDirty(), mViewerLink(l.ID))
			return nil
		})
		return err
	}, key)
	if err != nil {
		return fmt.Errorf("catalog: create viewer link %s: %w", l.ID, err)
	}
	if existing != nil {
		// Perhaps the retry of a call whose storage write failed.
		_ = c.syncIfDirty(ctx, mViewerLink(l.ID))
		got, err := decodeViewerLink(existing)
		if err != nil {
			return fmt.Errorf("catalog: record of viewer link %s: %w", l.ID, err)
		}
		*l = *got
		return nil
	}
	return c.sync(ctx, mViewerLink(l.ID))
}

// ViewerLink returns the record of the viewer link id; ENOTFOUND when
// there is none.
func (c *Catalog) ViewerLink(ctx context.Context, id string) (*presession.ViewerLink, error) {
	raw, err := c.rdb.Get(ctx, c.kViewerLink(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, viewerLinkNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: viewer link %s: %w", id, err)
	}
	l, err := decodeViewerLink(raw)
	if err != nil {
		return nil, fmt.Errorf("catalog: record of viewer link %s: %w", id, err)
	}
	return l, nil
}

// ListViewerLinks returns the viewer links of a session and country (each
// empty = any; a session-wide link has no country, so it is listed only
// without one), oldest first.
func (c *Catalog) ListViewerLinks(ctx context.Context, session, country string) ([]*presession.ViewerLink, error) {
	return listIndexed(ctx, c, c.kLinkIdx(session, strings.ToUpper(country)), c.kViewerLink, decodeViewerLink, "viewer link")
}

// readViewerLinks reads every viewer-links/{id}.json.
func (c *Catalog) readViewerLinks(ctx context.Context) ([]*presession.ViewerLink, error) {
	return readRecords(ctx, c, layout.ViewerLinks, "viewer links", func(k string) (string, bool) {
		id, ok := layout.ParseViewerLink(k)
		return id, ok && validID(id)
	}, func(k, id string, raw []byte) (*presession.ViewerLink, error) {
		l, err := decodeViewerLink(raw)
		if err != nil || l.ID != id || l.Session == "" {
			return nil, fmt.Errorf("catalog: reindex: %s is not a viewer link (%v)", k, err)
		}
		return l, nil
	})
}

// restoreLinks writes the viewer links and their indexes to Redis, and
// the revoked set from the records of invitations and viewer links that
// carry RevokedAt.
func (c *Catalog) restoreLinks(ctx context.Context, invs []*presession.Invitation, links []*presession.ViewerLink) error {
	if err := writeRecords(ctx, c, links, func(l *presession.ViewerLink) string { return c.kViewerLink(l.ID) }, c.addLinkIndexes); err != nil {
		return fmt.Errorf("catalog: reindex viewer links: %w", err)
	}
	var revoked []any
	for _, inv := range invs {
		if inv.RevokedAt != nil {
			revoked = append(revoked, inv.ID)
		}
	}
	for _, l := range links {
		if l.RevokedAt != nil {
			revoked = append(revoked, l.ID)
		}
	}
	const batch = 1000
	for lo := 0; lo < len(revoked); lo += batch {
		if err := c.rdb.SAdd(ctx, c.kRevoked(), revoked[lo:min(lo+batch, len(revoked))]...).Err(); err != nil {
			return fmt.Errorf("catalog: reindex revocations: %w", err)
		}
	}
	return nil
}
