// Package passkey lets staff members sign in with passkeys (WebAuthn):
// instead of their password, or after it as a second factor.
//
//   - A signed-in member registers passkeys (POST
//     /staff/passkeys/register/begin, .../finish) and names, renames and
//     removes them on GET /staff/me.
//   - POST /staff/passkeys/login/begin, .../finish sign a member in with a
//     discoverable passkey alone (user verification required: the
//     authenticator's PIN or biometrics make it two factors by itself).
//   - A member who has a passkey and signs in with email and password is
//     not signed in by the password: SecondFactor (web.Auth's)
//     records the sign-in as pending for PendingTTL, under a hashed id in
//     an HttpOnly cookie, and the same login routes with
//     {"second_factor": true} finish it with one of that member's
//     passkeys.
//
// Challenges are kept in Redis under their hash for ChallengeTTL and used
// once. The relying party is the site: its ID the host and its origin
// that of PRESESSION_PUBLIC_URL, or of the request when that is unset (as
// web.Auth.SameOrigin reasons). The accounts are the Directory's (package
// staff), which keeps the credentials on the member as the library
// marshals them; sessions start through web.Auth.StartStaffSession, and
// sign-ins are audited through web.Site.AuditAuth ("signin", detail
// "passkey" or "password+passkey").
package passkey

import (
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
)

// Directory is the part of the staff accounts this package uses;
// *staff.Directory implements it.
type Directory interface {
	Member(ctx context.Context, id string) (*presession.Member, error)
	UpdateMember(ctx context.Context, id string, fn func(*presession.Member) error) (*presession.Member, error)
}

// Config configures a Handler.
type Config struct {
	// Prefix is the service's Redis key prefix.
	Prefix string
	// DisplayName is the relying party's name authenticators show.
	DisplayName string
	Now         func() time.Time
}

// PendingCookie names the pending password sign-in waiting for a passkey.
const PendingCookie = "presession_2fa"

// MaxPasskeys is how many passkeys one member may have.
const MaxPasskeys = 10

// maxNameRunes bounds a passkey's name.
const maxNameRunes = 60

//go:embed templates
var files embed.FS

// Handler serves the passkey routes and the "My account" page.
type Handler struct {
	site   *web.Site
	dir    Directory
	store  *store
	cfg    Config
	log    *slog.Logger
	begins *web.Throttle // sign-ins begun per client address
	me     *web.Page
}

// New returns the handler; it parses the page template.
func New(site *web.Site, dir Directory, rdb redis.Cmdable, cfg Config) (*Handler, error) {
	if cfg.DisplayName == "" {
		cfg.DisplayName = "presession"
	}
	h := &Handler{site: site, dir: dir, store: &store{rdb: rdb, prefix: cfg.Prefix}, cfg: cfg, log: site.Log,
		begins: web.NewThrottle(rdb, cfg.Prefix, "passkey-begin", MaxBegins, BeginWindow)}
	var err error
	if h.me, err = site.ParsePage(files, "templates/me.html"); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *Handler) now() time.Time {
	if h.cfg.Now != nil {
		return h.cfg.Now()
	}
	return time.Now()
}

// MePath is the "My account" page.
const MePath = "/staff/me"

// Routes are the staff routes of this package, each with the permission
// it needs and the action the audit records it as. Every role may manage
// its own passkeys; the handlers refuse identities that are not a
// member's (the service token, API tokens).
func (h *Handler) Routes() []web.Route {
	r := web.StaffRoute
	return []web.Route{
		r("GET "+MePath, presession.PermRead, "", h.page),
		r("POST /staff/passkeys/register/begin", presession.PermRead, "", h.registerBegin),
		r("POST /staff/passkeys/register/finish", presession.PermRead, "passkey.add", h.registerFinish),
		r("POST /staff/passkeys/{id}/rename", presession.PermRead, "passkey.rename", h.rename),
		r("POST /staff/passkeys/{id}/remove", presession.PermRead, "passkey.remove", h.remove),
	}
}

// Register adds the routes to mux: the staff routes behind web.Site.Staff
// (the page sends a browser that is not signed in to the sign-in form
// first), and the sign-in routes, which anyone may call.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, rt := range h.Routes() {
		hd := h.site.Staff(rt.Perm, rt.Action, rt.Handler)
		if rt.Pattern == "GET "+MePath {
			hd = h.toSignIn(hd)
		}
		mux.Handle(rt.Pattern, hd)
	}
	mux.HandleFunc("POST /staff/passkeys/login/begin", h.loginBegin)
	mux.HandleFunc("POST /staff/passkeys/login/finish", h.loginFinish)
}

// toSignIn sends a browser that is not signed in as staff to the sign-in
// form, and lets next answer the others.
func (h *Handler) toSignIn(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.site.Auth.Principal(r).RequireStaff(); err != nil && presession.ErrorCode(err) == presession.EUNAUTHORIZED {
			http.Redirect(w, r, "/staff", http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// relyingParty is the WebAuthn relying party as r reached the site: its
// ID is the host of the site's origin (web.Auth.SiteOrigin), its one
// origin that origin.
func (h *Handler) relyingParty(r *http.Request) (*webauthn.WebAuthn, error) {
	origin := h.site.Auth.SiteOrigin(r)
	u, err := url.Parse(origin)
	if err != nil || origin == "" {
		return nil, fmt.Errorf("passkey: no site origin for %q", r.Host)
	}
	if net.ParseIP(u.Hostname()) != nil {
		return nil, presession.Errorf(presession.EINVALID, "passkeys work only where the site is reached by a name (such as localhost), not an IP address (%s)", u.Hostname()).
			Localize("staff.passkey.ip_host", u.Hostname())
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID: u.Hostname(), RPDisplayName: h.cfg.DisplayName, RPOrigins: []string{origin},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: ChallengeTTL, TimeoutUVD: ChallengeTTL},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: ChallengeTTL, TimeoutUVD: ChallengeTTL},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: relying party %s: %w", origin, err)
	}
	return wa, nil
}

// user is a member as the library sees it: its handle is the member's id.
type user struct {
	m     *presession.Member
	creds []webauthn.Credential
}

func newUser(m *presession.Member) (*user, error) {
	u := &user{m: m}
	for _, pk := range m.Passkeys {
		var c webauthn.Credential
		if err := json.Unmarshal(pk.Credential, &c); err != nil {
			return nil, fmt.Errorf("passkey: member %s: credential %s: %w", m.ID, pk.ID, err)
		}
		u.creds = append(u.creds, c)
	}
	return u, nil
}

func (u *user) WebAuthnID() []byte                         { return []byte(u.m.ID) }
func (u *user) WebAuthnName() string                       { return u.m.Email }
func (u *user) WebAuthnDisplayName() string                { return u.m.Name }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// credentialID is how a Passkey names a credential.
func credentialID(raw []byte) string { return base64.RawURLEncoding.EncodeToString(raw) }

// member is the identity of a staff request that is a member's, with the
// account: EFORBIDDEN for the service token and API tokens, which have no
// passkeys.
func (h *Handler) member(r *http.Request) (*presession.Member, error) {
	id, ok := web.IdentityFrom(r.Context())
	if !ok || id.Kind != presession.IdentityMember {
		return nil, presession.Errorf(presession.EFORBIDDEN, "passkeys belong to a member's account; sign in with your email and password to add one").Localize("staff.passkey.members_only")
	}
	return h.dir.Member(r.Context(), id.ID)
}

func errRefused() error {
	return presession.Errorf(presession.EUNAUTHORIZED, "this passkey could not sign you in; use another one, or your email and password").Localize("staff.passkey.refused")
}
