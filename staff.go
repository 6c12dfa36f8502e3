package presession

import (
	"strings"
	"time"
)

// Role is what a member of staff may do. The roles are nested: an admin
// may do everything a reviewer may, a reviewer everything an observer may.
type Role string

// The roles of staff.
const (
	// RoleAdmin may do everything, including managing staff accounts,
	// API tokens and webhooks.
	RoleAdmin Role = "admin"
	// RoleReviewer approves, rejects and reopens statements, orders
	// playlists, replaces captions, issues and revokes invitations and
	// viewer links.
	RoleReviewer Role = "reviewer"
	// RoleObserver reads the dashboard and the staff API; it changes
	// nothing.
	RoleObserver Role = "observer"
)

// Roles lists the roles, most powerful first.
var Roles = []Role{RoleAdmin, RoleReviewer, RoleObserver}

// ParseRole returns the role named s (case-insensitive): EINVALID when
// there is none by that name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if r.Valid() {
		return r, nil
	}
	return "", Errorf(EINVALID, "%q is not a role; a role is admin, reviewer or observer", s).Localize("err.role", s)
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleReviewer || r == RoleObserver }

// Permission is what a staff route needs of its caller's role.
type Permission string

// The permissions, each held by the roles named.
const (
	// PermRead: the dashboard, the statement list, the audit (every role).
	PermRead Permission = "read"
	// PermReview: approve, reject, reopen, order, captions (reviewer, admin).
	PermReview Permission = "review"
	// PermLinks: issue, list and revoke invitations and viewer links
	// (reviewer, admin).
	PermLinks Permission = "links"
	// PermManage: staff accounts, API tokens, webhooks (admin).
	PermManage Permission = "manage"
)

// Can reports whether r holds p.
func (r Role) Can(p Permission) bool {
	switch r {
	case RoleAdmin:
		return p == PermRead || p == PermReview || p == PermLinks || p == PermManage
	case RoleReviewer:
		return p == PermRead || p == PermReview || p == PermLinks
	case RoleObserver:
		return p == PermRead
	}
	return false
}

// IdentityKind is what kind of staff credential an Identity comes from.
type IdentityKind string

// The kinds of staff identity.
const (
	// IdentityService is the staff token (PRESESSION_STAFF_TOKEN): the
	// bootstrap and automation credential, an admin named "service".
	IdentityService IdentityKind = "service"
	// IdentityMember is a person signed in with their account.
	IdentityMember IdentityKind = "member"
	// IdentityToken is a named API token an admin created.
	IdentityToken IdentityKind = "token"
)

// Identity is who a staff request comes from: the person, API token or
// service token behind it, with the role it acts in.
type Identity struct {
	Kind  IdentityKind `json:"kind"`
	ID    string       `json:"id,omitempty"` // the member's or token's id; empty for the service
	Name  string       `json:"name"`         // the member's name, the token's name, or "service"
	Email string       `json:"email,omitempty"`
	Role  Role         `json:"role"`
}

// ServiceIdentity is the identity of the staff token.
func ServiceIdentity() Identity {
	return Identity{Kind: IdentityService, Name: string(ActorService), Role: RoleAdmin}
}

// Actor is how history and the audit record id: "service",
// "staff:<member id>" or "token:<token id>".
func (id Identity) Actor() Actor {
	switch id.Kind {
	case IdentityMember:
		return ActorMember(id.ID)
	case IdentityToken:
		return ActorToken(id.ID)
	}
	return ActorService
}

// Can reports whether id's role holds p.
func (id Identity) Can(p Permission) bool { return id.Role.Can(p) }

// ActorService is the staff token's actor. Histories written before staff
// had accounts say ActorStaff ("staff") for the same credential.
const ActorService Actor = "service"

// ActorMember is a member of staff, by account id.
func ActorMember(id string) Actor { return Actor("staff:" + id) }

// ActorToken is an API token, by token id.
func ActorToken(id string) Actor { return Actor("token:" + id) }

// Split returns the kind and id of a: ("staff", id) for ActorMember,
// ("token", id) for ActorToken, ("cso", invitation id) for ActorCSO, and
// (a, "") for the others.
func (a Actor) Split() (kind, id string) {
	if k, id, ok := strings.Cut(string(a), ":"); ok {
		return k, id
	}
	return string(a), ""
}

// Member is a staff account, as stored. Accounts are never deleted, only
// disabled, so the names in histories and the audit always resolve.
type Member struct {
	ID    string `json:"id"`
	Email string `json:"email"` // lower case; unique among accounts
	Name  string `json:"name"`
	Role  Role   `json:"role"`
	// Disabled accounts cannot sign in; disabling ends their sessions.
	Disabled bool `json:"disabled,omitempty"`
	// PasswordHash is the argon2id hash of the password in PHC string
	// form ($argon2id$v=19$m=…,t=…,p=…$salt$hash); empty until the
	// member has set one from their link.
	PasswordHash string `json:"password_hash,omitempty"`
	// Passkeys are the member's WebAuthn credentials.
	Passkeys []Passkey `json:"passkeys,omitempty"`
	// Generation changes whenever the member's sessions must end
	// (disabled, password set or reset, role changed): a session records
	// the generation it began in and is refused under another.
	Generation int       `json:"generation"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  Actor     `json:"created_by"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Identity is the identity m signs in as.
func (m *Member) Identity() Identity {
	return Identity{Kind: IdentityMember, ID: m.ID, Name: m.Name, Email: m.Email, Role: m.Role}
}

// Passkey is one WebAuthn credential of a member.
type Passkey struct {
	// ID is the credential id, base64url without padding.
	ID        string    `json:"id"`
	Name      string    `json:"name,omitempty"` // what the member called it
	CreatedAt time.Time `json:"created_at"`
	LastUsed  time.Time `json:"last_used,omitzero"`
	// Credential is the library's record of the credential (public key,
	// sign count, flags, transports), kept as it marshals it.
	Credential []byte `json:"credential"`
}

// APIToken is a named API token, as stored: the secret itself is shown
// once at creation and only its hash is kept.
type APIToken struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	Hash      string     `json:"hash"` // hex SHA-256 of the token's secret
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy Actor      `json:"created_by"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	RevokedBy Actor      `json:"revoked_by,omitempty"`
	LastUsed  time.Time  `json:"last_used,omitzero"`
}

// Identity is the identity t acts as.
func (t *APIToken) Identity() Identity {
	return Identity{Kind: IdentityToken, ID: t.ID, Name: t.Name, Role: t.Role}
}

// AuditEntry is one recorded action of a person or token: who, what, on
// what, when, and how it ended.
type AuditEntry struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	Actor     Actor     `json:"actor"`
	ActorName string    `json:"actor_name"` // the name at the time
	Action    string    `json:"action"`     // e.g. statement.approve, member.disable, signin
	Target    string    `json:"target"`     // what it acted on: a statement id, "S/CC", an account id
	Detail    string    `json:"detail,omitempty"`
	Remote    string    `json:"remote,omitempty"` // the client address
	Outcome   string    `json:"outcome"`          // "ok", or the error code of a refusal
}

// AuditFilter selects audit entries: by actor, by action (exact, or a
// prefix ending in "."), since a time; Limit 0 is every match.
type AuditFilter struct {
	Actor  Actor
	Action string
	Since  time.Time
	Limit  int
}

// Matches reports whether e is selected by f (Limit aside).
func (f AuditFilter) Matches(e *AuditEntry) bool {
	switch {
	case f.Actor != "" && e.Actor != f.Actor:
		return false
	case !f.Since.IsZero() && e.At.Before(f.Since):
		return false
	case f.Action == "":
		return true
	case strings.HasSuffix(f.Action, "."):
		return strings.HasPrefix(e.Action, f.Action)
	}
	return e.Action == f.Action
}
