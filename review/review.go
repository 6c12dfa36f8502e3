// Package review is the staff side of presession and the organisations'
// view of their own statements:
//
//   - the staff JSON API under /api/v1 (list, get, approve, reject, reopen,
//     captions, playlist order, invitations — one, a CSV import of many,
//     the list, revocation — and viewer links: one, the list, revocation);
//   - the staff dashboard at /staff (sign-in form, counts per country and
//     status, the statements table with live progress, preview, review
//     buttons, reordering, caption upload, link forms, the invitation
//     import and list, and the webhooks with their last deliveries when
//     WithWebhooks is given);
//   - GET /api/v1/me/statements, an invitation's own statements.
//
// Staff authenticate with the staff token as a bearer token, or with the
// cookie the sign-in form sets; a cookie-authenticated unsafe request must
// come from the same origin (web.Principal.RequireStaff), which is the
// dashboard's CSRF defence. Every decision is recorded in the statement's
// history with the actor of the request (web.ActorFrom), which histories
// show by name with WithNames. Errors are the catalog's and storage's
// coded errors, written by web.Site.Error; this package maps no status
// itself.
//
// The catalog fires its playlist hook on every change that affects a
// playlist (approve, reject, reopen, order, captions of an approved
// statement); this package only calls the catalog.
package review

import (
	"context"
	"embed"
	"io"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/invite"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

// Catalog is the part of the statement catalog this package uses;
// *catalog.Catalog implements it.
type Catalog interface {
	Get(ctx context.Context, id string) (*presession.Statement, error)
	List(ctx context.Context, f presession.Filter) ([]*presession.Statement, int, error)
	ListBrief(ctx context.Context, f presession.Filter) ([]*presession.Statement, int, error)
	CountryCounts(ctx context.Context, session string, countries []string) (map[string]map[presession.Status]int, error)
	Transition(ctx context.Context, id string, to presession.Status, actor, reason string, msg ...presession.Message) (*presession.Statement, error)
	Update(ctx context.Context, id string, fn func(*presession.Statement) error) (*presession.Statement, error)
	Order(ctx context.Context, session, country string) (*presession.Order, error)
	Orders(ctx context.Context, session string, countries []string) (map[string]*presession.Order, error)
	SetOrder(ctx context.Context, session, country string, ids []string, actor string) error
	CreateInvitation(ctx context.Context, inv *presession.Invitation) (created bool, err error)
	ListInvitations(ctx context.Context, session, country string) ([]*presession.Invitation, error)
	InvitationStatements(ctx context.Context, ids []string) (map[string][]*presession.Statement, error)
	LinkCatalog
}

// Store is the part of storage this package uses (caption files);
// storage.Store implements it.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, o presession.PutOptions) error
	// Get reads a caption track before it is replaced, to keep it.
	Get(ctx context.Context, key string, rng *presession.Range) (io.ReadCloser, presession.ObjectInfo, error)
}

// Webhooks is the webhook registry the dashboard lists (webhook.Registry
// implements it); the staff API of the webhooks is package webhook's.
type Webhooks interface {
	List(ctx context.Context) ([]presession.Webhook, error)
}

// Option configures a Handler.
type Option func(*Handler)

// WithWebhooks shows the webhooks section on the dashboard, listing w's
// endpoints with their last deliveries.
func WithWebhooks(w Webhooks) Option { return func(h *Handler) { h.webhooks = w } }

//go:embed templates assets
var files embed.FS

// Handler serves the staff API, the dashboard and the CSO view.
type Handler struct {
	site   *web.Site
	cat    Catalog
	issuer *token.Issuer
	store  Store
	// inviter issues and records invitations (the API, the import).
	inviter *invite.Inviter
	log     *slog.Logger

	webhooks Webhooks // nil: no webhooks section
	names    Names    // nil: histories name actors as recorded
	claims   Claims   // nil: the dashboard does not say who is reviewing

	dashboard *web.Page
	login     *web.Page
	assets    http.Handler
}

// New returns the handler; it parses the page templates.
func New(site *web.Site, cat Catalog, issuer *token.Issuer, store Store, log *slog.Logger, opts ...Option) (*Handler, error) {
	if log == nil {
		log = site.Log
	}
	h := &Handler{site: site, cat: cat, issuer: issuer, store: store, log: log,
		inviter: &invite.Inviter{Issuer: issuer, Catalog: cat}}
	for _, o := range opts {
		o(h)
	}
	var err error
	if h.dashboard, err = site.ParsePage(files, "templates/dashboard.html"); err != nil {
		return nil, err
	}
	if h.login, err = site.ParsePage(files, "templates/login.html"); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(files, "assets")
	if err != nil {
		return nil, err
	}
	fsrv := http.StripPrefix("/staff/assets/", http.FileServer(http.FS(sub)))
	h.assets = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fsrv.ServeHTTP(w, r)
	})
	return h, nil
}

// CaptionRoute is the pattern of the caption upload, whose body may be as
// large as MaxCaptionBytes.
const CaptionRoute = "PUT /api/v1/statements/{id}/captions/{lang}"

// Routes are the staff routes of this package, each with the permission
// its caller's role needs and the action the audit records it as: the one
// table of who may do what here.
func (h *Handler) Routes() []web.Route {
	r := web.StaffRoute
	return []web.Route{
		r("GET /api/v1/statements", presession.PermRead, "", h.list),
		r("GET /api/v1/statements/{id}", presession.PermRead, "", h.get),
		r("POST /api/v1/statements/{id}/approve", presession.PermReview, "statement.approve", h.approve),
		r("POST /api/v1/statements/{id}/reject", presession.PermReview, "statement.reject", h.reject),
		r("POST /api/v1/statements/{id}/reopen", presession.PermReview, "statement.reopen", h.reopen),
		r(CaptionRoute, presession.PermReview, "captions.put", h.putCaption),
		r("GET /api/v1/sessions/{s}/countries/{cc}/order", presession.PermRead, "", h.getOrder),
		r("PUT /api/v1/sessions/{s}/countries/{cc}/order", presession.PermReview, "order.set", h.putOrder),
		r("POST /api/v1/invitations", presession.PermLinks, "invitation.create", h.invite),
		r("GET /api/v1/invitations", presession.PermLinks, "", h.listInvitations),
		r("POST /api/v1/invitations/import", presession.PermLinks, "invitation.import", h.importInvitations),
		r("POST /api/v1/viewer-links", presession.PermLinks, "viewer_link.create", h.viewerLink),
		r("POST /api/v1/invitations/{id}/revoke", presession.PermLinks, "invitation.revoke", h.revokeInvitation),
		r("GET /api/v1/viewer-links", presession.PermLinks, "", h.listViewerLinks),
		r("POST /api/v1/viewer-links/{id}/revoke", presession.PermLinks, "viewer_link.revoke", h.revokeViewerLink),
	}
}

// Register adds the routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	h.site.Register(mux, h.Routes())

	mux.HandleFunc("GET /api/v1/me/statements", h.me)

	mux.HandleFunc("GET /staff", h.page)
	mux.HandleFunc("POST /staff/login", h.signIn)
	mux.HandleFunc("POST /staff/logout", h.signOut)
	mux.Handle("GET /staff/assets/", h.assets)
}
