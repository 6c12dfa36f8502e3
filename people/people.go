// Package people is the staff management surface: the admins' page at
// /staff/people and its JSON API (members of staff, API tokens), and the
// set-password page a new or reset member opens from their one-time
// link.
//
//	GET  /staff/people                      the page (admins)
//	GET  /api/v1/staff                      {"members": [...]}
//	POST /api/v1/staff                      {"email", "name", "role", "language"} → 201, the member and its set-password link
//	POST /api/v1/staff/{id}/disable|enable  the member
//	POST /api/v1/staff/{id}/reset           the member and a new set-password link
//	POST /api/v1/staff/{id}/role            {"role"} → the member
//	GET  /api/v1/tokens                     {"tokens": [...]}
//	POST /api/v1/tokens                     {"name", "role"} → 201, the token and its secret (shown once)
//	DELETE /api/v1/tokens/{id}              the revoked token
//	GET  /staff/password?t=LINK             the set-password form
//	POST /staff/password                    sets it and signs the person in
//
// Every API route needs PermManage and is audited (Routes). The accounts,
// links, sessions and tokens themselves are the Directory's (package
// staff); this package only calls it, and signs a person in through
// web.Auth as the sign-in form does.
package people

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
)

// Directory is the part of the staff directory this package uses;
// *staff.Directory implements it.
type Directory interface {
	Add(ctx context.Context, email, name string, role presession.Role, by presession.Actor) (*presession.Member, string, error)
	Member(ctx context.Context, id string) (*presession.Member, error)
	Members(ctx context.Context) ([]*presession.Member, error)
	Disable(ctx context.Context, id string, by presession.Actor) (*presession.Member, error)
	Enable(ctx context.Context, id string, by presession.Actor) (*presession.Member, error)
	SetRole(ctx context.Context, id string, role presession.Role, by presession.Actor) (*presession.Member, error)
	Reset(ctx context.Context, id string, by presession.Actor) (*presession.Member, string, error)
	SetLinkMember(ctx context.Context, linkToken string) (*presession.Member, error)
	SetPassword(ctx context.Context, linkToken, password string) (*presession.Member, error)
	Names(ctx context.Context, actors []presession.Actor) (map[presession.Actor]string, error)
	CreateToken(ctx context.Context, name string, role presession.Role, by presession.Actor) (*presession.APIToken, string, error)
	Tokens(ctx context.Context) ([]*presession.APIToken, error)
	RevokeToken(ctx context.Context, id string, by presession.Actor) (*presession.APIToken, error)
}

// LinkMail is a set-password link to send to a member: on their account's
// creation, or after an admin reset it.
type LinkMail struct {
	Member *presession.Member
	Link   string
	Lang   string // the language to write in: en, fr or es
	Reset  bool   // the account was reset (else it is new)
}

// Mailer sends a member their set-password link; an error leaves the
// link shown on the page, to be passed on by hand.
type Mailer func(ctx context.Context, m LinkMail) error

// Option configures a Handler.
type Option func(*Handler)

// WithMail sends every set-password link by mail too.
func WithMail(m Mailer) Option { return func(h *Handler) { h.mail = m } }

// WithMinPasswordLength is the minimum length the set-password page
// states (the Directory enforces it); default DefaultMinPasswordLength.
func WithMinPasswordLength(n int) Option { return func(h *Handler) { h.minPassword = n } }

// DefaultMinPasswordLength is the minimum length the set-password page
// states without WithMinPasswordLength.
const DefaultMinPasswordLength = 12

//go:embed templates assets
var files embed.FS

// Handler serves the staff management page, its API and the set-password
// page.
type Handler struct {
	site        *web.Site
	dir         Directory
	log         *slog.Logger
	mail        Mailer // nil: links are only shown
	minPassword int

	page     *web.Page
	password *web.Page
	assets   http.Handler
}

// New returns the handler; it parses the page templates.
func New(site *web.Site, dir Directory, log *slog.Logger, opts ...Option) (*Handler, error) {
	if log == nil {
		log = site.Log
	}
	h := &Handler{site: site, dir: dir, log: log, minPassword: DefaultMinPasswordLength}
	for _, o := range opts {
		o(h)
	}
	var err error
	if h.page, err = site.ParsePage(files, "templates/people.html"); err != nil {
		return nil, err
	}
	if h.password, err = site.ParsePage(files, "templates/password.html"); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(files, "assets")
	if err != nil {
		return nil, err
	}
	fsrv := http.StripPrefix("/staff/people/assets/", http.FileServer(http.FS(sub)))
	h.assets = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fsrv.ServeHTTP(w, r)
	})
	return h, nil
}

// Routes are the staff routes of this package, each with the permission
// its caller's role needs and the action the audit records it as.
func (h *Handler) Routes() []web.Route {
	r := web.StaffRoute
	m := presession.PermManage
	return []web.Route{
		r("GET /api/v1/staff", m, "", h.listMembers),
		r("POST /api/v1/staff", m, "member.create", h.addMember),
		r("POST /api/v1/staff/{id}/disable", m, "member.disable", h.disable),
		r("POST /api/v1/staff/{id}/enable", m, "member.enable", h.enable),
		r("POST /api/v1/staff/{id}/reset", m, "member.reset", h.reset),
		r("POST /api/v1/staff/{id}/role", m, "member.role", h.setRole),
		r("GET /api/v1/tokens", m, "", h.listTokens),
		r("POST /api/v1/tokens", m, "token.create", h.createToken),
		r("DELETE /api/v1/tokens/{id}", m, "token.revoke", h.revokeToken),
	}
}

// Register adds the routes to mux. The pages are not staff routes: the
// people page answers a visitor who is not signed in with the sign-in
// page's address and a member without PermManage with a page saying so,
// and the set-password page is for whoever holds the link.
func (h *Handler) Register(mux *http.ServeMux) {
	h.site.Register(mux, h.Routes())
	mux.HandleFunc("GET /staff/people", h.peoplePage)
	mux.HandleFunc("GET /staff/password", h.passwordPage)
	mux.HandleFunc("POST /staff/password", h.setPassword)
	mux.Handle("GET /staff/people/assets/", h.assets)
}

// names resolves the actors' names, or none when the directory cannot
// (which is logged): a name is a help, not a reason to fail a page.
func (h *Handler) names(ctx context.Context, actors []presession.Actor) map[presession.Actor]string {
	if len(actors) == 0 {
		return nil
	}
	n, err := h.dir.Names(ctx, actors)
	if err != nil {
		h.log.WarnContext(ctx, "staff names not resolved", "err", err)
		return nil
	}
	return n
}
