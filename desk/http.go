// Package desk is the review desk: the queue staff review statements
// from, one at a time, each reviewer holding a short claim on the one in
// front of them so that two never review the same statement at once.
//
//	GET  /staff/review                    the next statement awaiting review, with player,
//	                                      storyboard, quality findings on the timeline,
//	                                      captions editor, decisions and counts per country
//	GET  /api/v1/review/next              the same as JSON: the statement now claimed (204: none)
//	POST /api/v1/review/{id}/claim        renew the claim (the page's heartbeat); 409 when another holds it
//	POST /api/v1/review/{id}/release      let go of it (the page leaving)
//	POST /api/v1/review/{id}/skip         skip it: the next one comes, it comes round again later
//
// Decisions and caption changes go through the staff API that package
// review serves (approve, reject, captions), so they are validated,
// recorded and audited in one place; the desk only decides which
// statement a reviewer gets.
package desk

import (
	"context"
	"embed"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/web"
)

//go:embed templates assets
var files embed.FS

// Names resolves actors to the names of the people behind them (package
// staff's Directory implements it).
type Names interface {
	Names(ctx context.Context, actors []presession.Actor) (map[presession.Actor]string, error)
}

// Handler serves the review desk.
type Handler struct {
	site  *web.Site
	queue *Queue
	cat   Catalog
	names Names // nil: actors as recorded
	log   *slog.Logger
	page  *web.Page
}

// New returns the desk over queue; names may be nil.
func New(site *web.Site, queue *Queue, names Names, log *slog.Logger) (*Handler, error) {
	if log == nil {
		log = site.Log
	}
	h := &Handler{site: site, queue: queue, cat: queue.cat, names: names, log: log}
	var err error
	if h.page, err = site.ParsePage(files, "templates/review.html"); err != nil {
		return nil, err
	}
	return h, nil
}

// Routes are the desk's staff routes: reviewing needs PermReview (an
// observer may watch from the dashboard, not take statements off the
// queue). Claims are not audited (a heartbeat every RenewEvery); a skip
// is.
func (h *Handler) Routes() []web.Route {
	r := web.StaffRoute
	return []web.Route{
		r("GET /staff/review", presession.PermReview, "", h.servePage),
		r("GET /api/v1/review/next", presession.PermReview, "", h.next),
		web.TransientRoute("POST /api/v1/review/{id}/claim", presession.PermReview, h.claim),
		web.TransientRoute("POST /api/v1/review/{id}/release", presession.PermReview, h.release),
		r("POST /api/v1/review/{id}/skip", presession.PermReview, "statement.skip", h.skip),
	}
}

// Register adds the routes and the page's assets to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /staff/review/assets/{file}", h.site.Assets(files, "assets"))
	h.site.Register(mux, h.Routes())
}

// scope is the queue's scope from the request's session and country.
func (h *Handler) scope(r *http.Request) (Scope, error) {
	sc := Scope{Session: r.URL.Query().Get("session"), Country: strings.ToUpper(r.URL.Query().Get("country"))}
	if sc.Session != "" {
		sess, ok := h.site.Sessions.Find(sc.Session)
		if !ok {
			return Scope{}, presession.Errorf(presession.EINVALID, "there is no session %q", sc.Session).Localize("err.session_unknown", sc.Session)
		}
		if _, ok := sess.Country(sc.Country); sc.Country != "" && !ok {
			return Scope{}, presession.Errorf(presession.EINVALID, "%s is not a country of session %s", sc.Country, sc.Session).
				Localize("desk.err.country", sc.Country, sess.Title)
		}
	} else if sc.Country != "" && !presession.IsCountryCode(sc.Country) {
		return Scope{}, presession.Errorf(presession.EINVALID, "%q is not a country code", sc.Country).Localize("desk.err.country_code", sc.Country)
	}
	return sc, nil
}

// actor is the reviewer of a staff request.
func actor(r *http.Request) presession.Actor { return web.ActorFrom(r.Context()) }

// NextJSON is GET /api/v1/review/next's answer.
type NextJSON struct {
	Statement *presession.Statement `json:"statement"`
	// ClaimedUntil is when the claim lapses unless renewed.
	ClaimedUntil time.Time `json:"claimed_until"`
	Free         int       `json:"free"`    // others this reviewer could be given
	Skipped      int       `json:"skipped"` // skipped by this reviewer, still awaiting review
	Others       int       `json:"others"`  // held by other reviewers
}

func (h *Handler) next(w http.ResponseWriter, r *http.Request) {
	sc, err := h.scope(r)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	s, wt, err := h.queue.Next(r.Context(), sc, actor(r))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	if s == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h.site.JSON(w, http.StatusOK, NextJSON{Statement: s, ClaimedUntil: time.Now().Add(h.queue.claims.TTL()).UTC(),
		Free: wt.Free() - 1, Skipped: wt.SkippedCount(), Others: len(wt.Others)})
}

// ClaimJSON is the answer of a claim's renewal.
type ClaimJSON struct {
	Statement    string    `json:"statement"`
	ClaimedUntil time.Time `json:"claimed_until"`
}

func (h *Handler) claim(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	s, err := h.cat.Get(ctx, id)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	if s.Status != presession.StatusReady {
		h.site.Error(w, r, presession.Errorf(presession.ECONFLICT, "statement %s no longer awaits review: it is %s", id, s.Status).
			Localize("desk.err.not_waiting", s.Status))
		return
	}
	holder, ok, err := h.queue.claims.Claim(ctx, id, actor(r))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	if !ok {
		name := h.nameOf(ctx, holder)
		h.site.Error(w, r, presession.Errorf(presession.ECONFLICT, "%s is reviewing this statement", name).Localize("desk.err.claimed", name))
		return
	}
	h.site.JSON(w, http.StatusOK, ClaimJSON{Statement: id, ClaimedUntil: time.Now().Add(h.queue.claims.TTL()).UTC()})
}

func (h *Handler) release(w http.ResponseWriter, r *http.Request) {
	if err := h.queue.claims.Release(r.Context(), r.PathValue("id"), actor(r)); err != nil {
		h.site.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) skip(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if _, err := h.cat.Get(ctx, id); err != nil {
		h.site.Error(w, r, err)
		return
	}
	if err := h.queue.claims.Skip(ctx, id, actor(r)); err != nil {
		h.site.Error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// nameOf is the name of actor a, or how the page's language says who it
// is when the directory does not know it.
func (h *Handler) nameOf(ctx context.Context, a presession.Actor) string {
	if h.names != nil {
		if m, err := h.names.Names(ctx, []presession.Actor{a}); err == nil && m[a] != "" {
			return m[a]
		}
	}
	return string(a)
}

// mediaURL is the URL of a media key of s, with its version.
func mediaURL(s *presession.Statement, key string) string {
	u := layout.MediaURL(s.ID, key)
	if u == "" {
		return ""
	}
	if s.Media != nil && s.Media.Version != "" {
		u += "?v=" + url.QueryEscape(s.Media.Version)
	}
	return u
}

// captionURL is the URL of a caption track, naming its last change so a
// corrected track is fetched anew.
func captionURL(s *presession.Statement, c presession.Caption) string {
	u := layout.MediaURL(s.ID, c.Key)
	if u == "" {
		return ""
	}
	return u + "?c=" + strconv.FormatInt(c.UpdatedAt.UnixMilli(), 10)
}
