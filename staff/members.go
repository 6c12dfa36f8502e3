package staff

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
)

// MaxNameLength bounds a member's or an API token's name, in characters.
const MaxNameLength = 200

// NormalizeEmail returns the address an account is known by: trimmed and
// in lower case.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// checkEmail refuses what is not a plain e-mail address.
func checkEmail(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || !strings.Contains(email, "@") {
		return presession.Errorf(presession.EINVALID, "%q is not an e-mail address", email).Localize("err.staff_email", email)
	}
	return nil
}

// checkName refuses an empty or overlong name.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", presession.Errorf(presession.EINVALID, "a name is required").Localize("err.staff_name_required")
	case utf8.RuneCountInString(name) > MaxNameLength:
		return "", presession.Errorf(presession.EINVALID, "the name is longer than %d characters", MaxNameLength).Localize("err.staff_name_long", MaxNameLength)
	}
	return name, nil
}

func memberNotFound(id string) error {
	return presession.Errorf(presession.ENOTFOUND, "there is no staff account %s", id).Localize("err.staff_member_not_found", id)
}

func (d *Directory) memberRecord(id string) hashRecord {
	return hashRecord{hash: d.kMembers(), field: id, key: layout.StaffMember(id)}
}

// Add creates the account of a member of staff and returns it with the
// one-time link by which they set their password. The address is
// unique among accounts (ECONFLICT when taken), compared in lower case;
// the name is required and the role valid (EINVALID).
func (d *Directory) Add(ctx context.Context, email, name string, role presession.Role, by presession.Actor) (*presession.Member, string, error) {
	email = NormalizeEmail(email)
	if err := checkEmail(email); err != nil {
		return nil, "", err
	}
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
	now := d.now()
	m := &presession.Member{ID: id, Email: email, Name: name, Role: role, Generation: 1, CreatedAt: now, CreatedBy: by, UpdatedAt: now}
	data, err := marshal(m)
	if err != nil {
		return nil, "", err
	}
	// The address is claimed in Redis first, so that two adds of one
	// address cannot both win; storage then has the record before it is
	// served.
	ok, err := d.rdb.HSetNX(ctx, d.kEmails(), email, id).Result()
	if err != nil {
		return nil, "", fmt.Errorf("staff: add %s: %w", email, err)
	}
	if !ok {
		return nil, "", presession.Errorf(presession.ECONFLICT, "there is already a staff account for %s", email).Localize("err.staff_email_taken", email)
	}
	if err := d.put(ctx, layout.StaffMember(id), data); err != nil {
		d.rdb.HDel(context.WithoutCancel(ctx), d.kEmails(), email)
		return nil, "", err
	}
	if err := d.rdb.HSet(ctx, d.kMembers(), id, data).Err(); err != nil {
		return nil, "", fmt.Errorf("staff: add %s: %w", email, err)
	}
	link, err := d.newLink(ctx, m, by)
	if err != nil {
		return nil, "", err
	}
	return m, link, nil
}

// Member returns the account id: ENOTFOUND when there is none.
func (d *Directory) Member(ctx context.Context, id string) (*presession.Member, error) {
	data, err := d.rdb.HGet(ctx, d.kMembers(), id).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, memberNotFound(id)
	case err != nil:
		return nil, fmt.Errorf("staff: member %s: %w", id, err)
	}
	return decodeMember(data)
}

func decodeMember(data []byte) (*presession.Member, error) {
	var m presession.Member
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("staff: decode member: %w", err)
	}
	return &m, nil
}

// MemberByEmail returns the account of the address (any case):
// ENOTFOUND when there is none.
func (d *Directory) MemberByEmail(ctx context.Context, email string) (*presession.Member, error) {
	email = NormalizeEmail(email)
	id, err := d.rdb.HGet(ctx, d.kEmails(), email).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, presession.Errorf(presession.ENOTFOUND, "there is no staff account for %s", email).Localize("err.staff_email_not_found", email)
	case err != nil:
		return nil, fmt.Errorf("staff: member %s: %w", email, err)
	}
	return d.Member(ctx, id)
}

// Members returns every account, by name (then address).
func (d *Directory) Members(ctx context.Context) ([]*presession.Member, error) {
	return decodeAll(ctx, d, d.kMembers(), "members", decodeMember, func(a, b *presession.Member) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), strings.Compare(a.Email, b.Email), strings.Compare(a.ID, b.ID))
	})
}

// decodeAll returns every record of the hash key (of members, of tokens),
// decoded, sorted by order. what names them in the error of the read.
func decodeAll[T any](ctx context.Context, d *Directory, key, what string, decode func([]byte) (*T, error), order func(a, b *T) int) ([]*T, error) {
	all, err := d.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("staff: %s: %w", what, err)
	}
	out := make([]*T, 0, len(all))
	for _, data := range all {
		r, err := decode([]byte(data))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	slices.SortFunc(out, order)
	return out, nil
}

// UpdateMember changes the account id with fn, atomically: fn sees the
// current record and may change it (an error from fn changes nothing and
// is returned). The change is durable when UpdateMember returns. The id,
// address and creation cannot change; UpdatedAt is set. A change of the
// role, of Disabled or of the password hash bumps Generation, ending the
// member's sessions.
func (d *Directory) UpdateMember(ctx context.Context, id string, fn func(*presession.Member) error) (*presession.Member, error) {
	var out *presession.Member
	_, err := d.update(ctx, d.memberRecord(id), memberNotFound(id), func(data []byte) ([]byte, error) {
		m, err := decodeMember(data)
		if err != nil {
			return nil, err
		}
		before := *m
		if err := fn(m); err != nil {
			return nil, err
		}
		m.ID, m.Email, m.CreatedAt, m.CreatedBy = before.ID, before.Email, before.CreatedAt, before.CreatedBy
		if !m.Role.Valid() {
			if _, err := presession.ParseRole(string(m.Role)); err != nil {
				return nil, err
			}
		}
		if m.Role != before.Role || m.Disabled != before.Disabled || m.PasswordHash != before.PasswordHash {
			m.Generation = max(m.Generation, before.Generation+1)
		}
		m.UpdatedAt = d.now()
		out = m
		return marshal(m)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Disable disables the account id: it can no longer sign in, and its
// sessions end on every node. Disabling a disabled account does nothing.
func (d *Directory) Disable(ctx context.Context, id string, by presession.Actor) (*presession.Member, error) {
	return d.UpdateMember(ctx, id, func(m *presession.Member) error {
		if !m.Disabled {
			m.Disabled = true
		}
		return nil
	})
}

// Enable lets the disabled account id sign in again.
func (d *Directory) Enable(ctx context.Context, id string, by presession.Actor) (*presession.Member, error) {
	return d.UpdateMember(ctx, id, func(m *presession.Member) error {
		m.Disabled = false
		return nil
	})
}

// SetRole gives the account id role; its sessions end (the next sign-in
// carries the new role).
func (d *Directory) SetRole(ctx context.Context, id string, role presession.Role, by presession.Actor) (*presession.Member, error) {
	if !role.Valid() {
		if _, err := presession.ParseRole(string(role)); err != nil {
			return nil, err
		}
	}
	return d.UpdateMember(ctx, id, func(m *presession.Member) error {
		if m.Role != role {
			m.Role = role
			m.Generation++ // also when nothing else changes: the sessions carry the old role
		}
		return nil
	})
}

// Reset clears the password of the account id, ends its sessions and
// voids its earlier links, and returns a new set-password link.
func (d *Directory) Reset(ctx context.Context, id string, by presession.Actor) (*presession.Member, string, error) {
	m, err := d.UpdateMember(ctx, id, func(m *presession.Member) error {
		m.PasswordHash = ""
		m.Generation++
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	link, err := d.newLink(ctx, m, by)
	if err != nil {
		return nil, "", err
	}
	return m, link, nil
}

// Authenticate returns the account of the address whose password is
// password. Whether the address is unknown, the account disabled or
// without a password, or the password wrong, the refusal is the same
// EUNAUTHORIZED and costs the same (one argon2id hash), so it tells
// nothing about which accounts exist.
func (d *Directory) Authenticate(ctx context.Context, email, password string) (*presession.Member, error) {
	m, err := d.MemberByEmail(ctx, email)
	if err != nil && presession.ErrorCode(err) != presession.ENOTFOUND {
		return nil, err
	}
	hash := d.dummyHash()
	if m != nil && m.PasswordHash != "" {
		hash = m.PasswordHash
	}
	ok := len(password) <= MaxPasswordLength && VerifyPassword(hash, password)
	if !ok || m == nil || m.Disabled || m.PasswordHash == "" {
		return nil, BadPassword()
	}
	return m, nil
}

// BadPassword is the refusal of a sign-in whose address or password is
// wrong.
func BadPassword() error {
	return presession.Errorf(presession.EUNAUTHORIZED, "the e-mail address or the password is wrong; check them and try again").Localize("err.staff_bad_password")
}

// dummyHash is a hash of a random password, which Authenticate checks
// when the account has none, to take as long as a real check.
func (d *Directory) dummyHash() string {
	d.dummyOnce.Do(func() {
		s, err := newSecret()
		if err == nil {
			d.dummy, err = HashPassword(s)
		}
		if err != nil { // no randomness: a hash nothing verifies, at the same cost
			d.dummy = fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ArgonMemory, ArgonTime, ArgonThreads)
		}
	})
	return d.dummy
}

// Names returns the name of each actor that names a member ("staff:id":
// the member's name), an API token ("token:id": its name) or the service
// ("service"); actors it does not know are left out.
func (d *Directory) Names(ctx context.Context, actors []presession.Actor) (map[presession.Actor]string, error) {
	out := map[presession.Actor]string{}
	var members, tokens []string
	for _, a := range actors {
		switch kind, id := a.Split(); {
		case a == presession.ActorService:
			out[a] = string(presession.ActorService)
		case kind == "staff" && id != "":
			members = append(members, id)
		case kind == "token" && id != "":
			tokens = append(tokens, id)
		}
	}
	if len(members)+len(tokens) == 0 {
		return out, nil
	}
	pipe := d.rdb.Pipeline()
	var mc, tc *redis.SliceCmd
	if len(members) > 0 {
		mc = pipe.HMGet(ctx, d.kMembers(), members...)
	}
	if len(tokens) > 0 {
		tc = pipe.HMGet(ctx, d.kTokens(), tokens...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("staff: names: %w", err)
	}
	name := func(v any) string {
		s, _ := v.(string)
		var rec struct {
			Name string `json:"name"`
		}
		if s == "" || json.Unmarshal([]byte(s), &rec) != nil {
			return ""
		}
		return rec.Name
	}
	if mc != nil {
		for i, v := range mc.Val() {
			if n := name(v); n != "" {
				out[presession.ActorMember(members[i])] = n
			}
		}
	}
	if tc != nil {
		for i, v := range tc.Val() {
			if n := name(v); n != "" {
				out[presession.ActorToken(tokens[i])] = n
			}
		}
	}
	return out, nil
}
