package staff

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
)

// TokenPrefix starts every API token: "pst_<id>_<secret>".
const TokenPrefix = "pst_"

// TokenUseRecorded bounds how often a token's LastUsed is written.
const TokenUseRecorded = 10 * time.Minute

// tokenHash is what an API token's secret is stored as: hex SHA-256.
func tokenHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func tokenNotFound(id string) error {
	return presession.Errorf(presession.ENOTFOUND, "there is no API token %s", id).Localize("err.staff_token_not_found", id)
}

func badToken() error {
	return presession.Errorf(presession.EUNAUTHORIZED, "this API token is not valid (unknown, revoked or incomplete); ask an admin for a new one").Localize("err.staff_token_bad")
}

func (d *Directory) tokenRecord(id string) hashRecord {
	return hashRecord{hash: d.kTokens(), field: id, key: layout.StaffToken(id)}
}

// CreateToken makes an API token named name acting with role, and returns
// its record and the token itself ("pst_<id>_<secret>"), shown this once:
// only a hash of its secret is kept.
func (d *Directory) CreateToken(ctx context.Context, name string, role presession.Role, by presession.Actor) (*presession.APIToken, string, error) {
	name, err := checkName(name)
	if err != nil {
		return nil, "", err
	}
	if !role.Valid() {
		if _, err := presession.ParseRole(string(role)); err != nil {
			return nil, "", err
		}
	}
	id, err := newID()
	if err != nil {
		return nil, "", err
	}
	secret, err := newSecret()
	if err != nil {
		return nil, "", err
	}
	t := &presession.APIToken{ID: id, Name: name, Role: role, Hash: tokenHash(secret), CreatedAt: d.now(), CreatedBy: by}
	data, err := marshal(t)
	if err != nil {
		return nil, "", err
	}
	if err := d.put(ctx, layout.StaffToken(id), data); err != nil {
		return nil, "", err
	}
	if err := d.rdb.HSet(ctx, d.kTokens(), id, data).Err(); err != nil {
		return nil, "", fmt.Errorf("staff: create token: %w", err)
	}
	return t, TokenPrefix + id + "_" + secret, nil
}

func decodeToken(data []byte) (*presession.APIToken, error) {
	var t presession.APIToken
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("staff: decode token: %w", err)
	}
	return &t, nil
}

// Tokens returns every API token, revoked ones too, newest first.
func (d *Directory) Tokens(ctx context.Context) ([]*presession.APIToken, error) {
	return decodeAll(ctx, d, d.kTokens(), "tokens", decodeToken, func(a, b *presession.APIToken) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(a.ID, b.ID))
	})
}

// updateToken changes the token id with fn, atomically and durably.
func (d *Directory) updateToken(ctx context.Context, id string, fn func(*presession.APIToken) error) (*presession.APIToken, error) {
	var out *presession.APIToken
	_, err := d.update(ctx, d.tokenRecord(id), tokenNotFound(id), func(data []byte) ([]byte, error) {
		t, err := decodeToken(data)
		if err != nil {
			return nil, err
		}
		if err := fn(t); err != nil {
			return nil, err
		}
		out = t
		return marshal(t)
	})
	return out, err
}

// RevokeToken revokes the API token id: from then it is refused on every
// node. Revoking a revoked token changes nothing.
func (d *Directory) RevokeToken(ctx context.Context, id string, by presession.Actor) (*presession.APIToken, error) {
	return d.updateToken(ctx, id, func(t *presession.APIToken) error {
		if t.RevokedAt == nil {
			now := d.now()
			t.RevokedAt, t.RevokedBy = &now, by
		}
		return nil
	})
}

// TokenIdentity returns the identity of the API token tok. isToken is
// false when tok is not of the API token form (it may then be another
// credential, an invitation); a token of the form that is unknown,
// revoked or altered is EUNAUTHORIZED.
func (d *Directory) TokenIdentity(ctx context.Context, tok string) (presession.Identity, bool, error) {
	rest, ok := strings.CutPrefix(tok, TokenPrefix)
	if !ok {
		return presession.Identity{}, false, nil
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || !wellFormed(secret) {
		return presession.Identity{}, true, badToken()
	}
	data, err := d.rdb.HGet(ctx, d.kTokens(), id).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return presession.Identity{}, true, badToken()
	case err != nil:
		return presession.Identity{}, true, fmt.Errorf("staff: token: %w", err)
	}
	t, err := decodeToken(data)
	if err != nil {
		return presession.Identity{}, true, err
	}
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(tokenHash(secret))) != 1 || t.RevokedAt != nil {
		return presession.Identity{}, true, badToken()
	}
	if now := d.now(); now.Sub(t.LastUsed) >= TokenUseRecorded {
		if _, err := d.updateToken(ctx, id, func(t *presession.APIToken) error {
			t.LastUsed = now
			return nil
		}); err != nil {
			return presession.Identity{}, true, err
		}
	}
	return t.Identity(), true, nil
}
