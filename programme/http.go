package programme

import (
	"context"
	"embed"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
)

//go:embed templates assets
var files embed.FS

// Counts tells how many statements of a country are approved and how
// long they last, as its stitched stream holds them; package playlist's
// Handler implements it.
type Counts interface {
	Approved(ctx context.Context, session, country string) (count int, seconds float64, err error)
}

// Playing is what a country's premiere is showing, for staff.
type Playing struct {
	// State is "scheduled", "live", "ended" or "none", as the premiere's
	// live.json says.
	State        string `json:"state"`
	Index        int    `json:"index,omitempty"` // the statement on air, from 1; 0 when none is
	Of           int    `json:"of,omitempty"`    // how many the premiere has
	Title        string `json:"title,omitempty"`
	Organisation string `json:"organisation,omitempty"`
}

// OnAir tells what a country's premiere is showing now (cmd/presession
// adapts package playlist's Handler.Live to it).
type OnAir interface {
	OnAir(ctx context.Context, session, country string) (Playing, error)
}

// Handler serves the programme: its calendar files and the public pages'
// view of it (web.Programmes) to anyone, since a programme is published;
// the staff's programme page and slot changes behind the staff routes.
//
//	GET  /programme/{s}.ics                 the session's calendar
//	GET  /programme/{s}/{cc}.ics            one country's slot
//	GET  /staff/programme                   staff: slots, what is on, viewers, edit
//	POST /staff/programme/{s}/{cc}          staff: the dashboard's slot form
//	GET  /api/v1/sessions/{s}/programme     staff: the programme as JSON
//	PUT  /api/v1/sessions/{s}/countries/{cc}/slot  staff: set a slot (JSON)
type Handler struct {
	site      *web.Site
	store     *Store
	publicURL string
	counts    Counts
	onAir     OnAir     // nil: staff see no premiere state
	audience  *Audience // nil: no viewer counts
	page      *web.Page
	now       func() time.Time

	mu    sync.Mutex
	views map[string]cachedView // the public pages' programme without a key, by session and language
}

// cachedView is a programme view as the home page showed it.
type cachedView struct {
	at   time.Time
	view *web.ProgrammeView
}

// viewTTL is how long the home page shows the same programme view: the
// page is public, and a view asks storage for each country's build.
const viewTTL = 5 * time.Second

// NewHandler returns the programme's handler. publicURL is the site's
// address for the calendar's links; onAir and audience may be nil.
func NewHandler(site *web.Site, store *Store, publicURL string, counts Counts, onAir OnAir, audience *Audience) (*Handler, error) {
	h := &Handler{site: site, store: store, publicURL: strings.TrimSuffix(publicURL, "/"), counts: counts, onAir: onAir,
		audience: audience, now: store.now, views: map[string]cachedView{}}
	var err error
	if h.page, err = site.ParsePage(files, "templates/programme.html"); err != nil {
		return nil, err
	}
	return h, nil
}

// Register adds the handler's routes to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /programme/{file}", h.serveSessionCalendar)
	mux.HandleFunc("GET /programme/{s}/{file}", h.serveCountryCalendar)
	mux.HandleFunc("GET /staff/programme/assets/{file}", h.site.Assets(files, "assets"))
	h.site.Register(mux, h.Routes())
}

// Routes are the staff routes of the programme, with the permission each
// needs and the action the audit records it as.
func (h *Handler) Routes() []web.Route {
	r := web.StaffRoute
	return []web.Route{
		r("GET /staff/programme", presession.PermRead, "", h.staffPage),
		r("POST /staff/programme/{s}/{cc}", presession.PermReview, "slot.set", h.postSlot),
		r("GET /api/v1/sessions/{s}/programme", presession.PermRead, "", h.getProgramme),
		r("PUT /api/v1/sessions/{s}/countries/{cc}/slot", presession.PermReview, "slot.set", h.putSlot),
	}
}

// modified is when a programme last changed, for its calendar: staff's
// last change, else the session's upload deadline (the sessions file's
// slots are older than any change, and the same across restarts, so a
// calendar that imported them keeps them as they are).
func modified(sess *presession.Session, p *presession.Programme) time.Time {
	if p != nil && !p.UpdatedAt.IsZero() {
		return p.UpdatedAt
	}
	return sess.UploadDeadline.UTC()
}

func (h *Handler) serveSessionCalendar(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok {
		h.site.Error(w, r, presession.Errorf(presession.ENOTFOUND, "there is no page at %s", r.URL.Path).Localize("err.no_page", r.URL.Path))
		return
	}
	h.serveCalendar(w, r, id, "")
}

func (h *Handler) serveCountryCalendar(w http.ResponseWriter, r *http.Request) {
	cc, ok := strings.CutSuffix(r.PathValue("file"), ".ics")
	if !ok {
		h.site.Error(w, r, presession.Errorf(presession.ENOTFOUND, "there is no page at %s", r.URL.Path).Localize("err.no_page", r.URL.Path))
		return
	}
	h.serveCalendar(w, r, r.PathValue("s"), cc)
}

// serveCalendar writes the calendar of a session's programme, or of one
// country's slot (cc not empty; a country without one is ENOTFOUND), in
// the request's language.
func (h *Handler) serveCalendar(w http.ResponseWriter, r *http.Request, session, cc string) {
	sess, ok := h.site.Sessions.Find(session)
	if !ok {
		h.site.Error(w, r, presession.Errorf(presession.ENOTFOUND, "there is no session %q", session).Localize("err.session_unknown", session))
		return
	}
	list, p, err := h.store.Programme(r.Context(), sess.ID)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	name := sess.ID
	if cc != "" {
		_, c, err := h.site.Sessions.Lookup(sess.ID, cc)
		if err != nil {
			h.site.Error(w, r, err)
			return
		}
		var one []presession.Scheduled
		for _, e := range list {
			if e.Country.Code == c.Code {
				one = append(one, e)
			}
		}
		if len(one) == 0 {
			h.site.Error(w, r, presession.Errorf(presession.ENOTFOUND, "%s has no slot in the programme", c.Name).Localize("err.programme_no_slot", c))
			return
		}
		list, name = one, sess.ID+"-"+strings.ToLower(c.Code)
	}
	lang := h.site.Lang(r)
	local := make([]presession.Scheduled, len(list))
	for i, e := range list {
		e.Country.Name = presession.CountryName(e.Country.Code, lang)
		local[i] = e
	}
	text := Calendar(CalendarInput{Session: sess, Slots: local, PublicURL: h.publicURL, Modified: modified(sess, p),
		T: func(key string, args ...any) string { return h.site.Bundle.T(lang, key, args...) }})
	hd := w.Header()
	hd.Set("Content-Type", "text/calendar; charset=utf-8")
	hd.Set("Content-Disposition", `inline; filename="`+name+`.ics"`)
	hd.Set("Content-Language", lang)
	hd.Set("Cache-Control", "public, max-age=60")
	hd.Set("Vary", "Accept-Language, Cookie")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.Write([]byte(text))
}

// ProgrammeView is the programme of sess as the public pages show it,
// country names in lang, the watch links carrying key. Without a key (the
// home page) the same view serves for viewTTL.
func (h *Handler) ProgrammeView(ctx context.Context, sess *presession.Session, lang, key string) (*web.ProgrammeView, error) {
	ck := sess.ID + "\x00" + lang
	if key == "" {
		h.mu.Lock()
		c, ok := h.views[ck]
		h.mu.Unlock()
		if ok && h.now().Sub(c.at) < viewTTL && !h.now().Before(c.at) {
			return c.view, nil
		}
	}
	v, err := h.programmeView(ctx, sess, lang, key)
	if err == nil && key == "" {
		h.mu.Lock()
		if len(h.views) >= 256 {
			clear(h.views)
		}
		h.views[ck] = cachedView{at: h.now(), view: v}
		h.mu.Unlock()
	}
	return v, err
}

func (h *Handler) programmeView(ctx context.Context, sess *presession.Session, lang, key string) (*web.ProgrammeView, error) {
	list, _, err := h.store.Programme(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	base := "/programme/" + url.PathEscape(sess.ID)
	v := &web.ProgrammeView{Session: sess.ID, Calendar: base + ".ics"}
	now := h.now()
	on, next := presession.OnAir(list, now)
	for _, e := range list {
		cc := strings.ToLower(e.Country.Code)
		s := web.ProgrammeSlot{Code: e.Country.Code, Name: presession.CountryName(e.Country.Code, lang),
			Start: e.Slot.Start, End: e.Slot.End(), Minutes: e.Slot.Minutes, QuestionsURL: e.Slot.QuestionsURL, Note: e.Slot.Note,
			Watch: "/watch/" + url.PathEscape(sess.ID) + "/" + cc, Calendar: base + "/" + cc + ".ics"}
		if key != "" {
			s.Watch += "?key=" + url.QueryEscape(key)
		}
		if h.counts != nil {
			if s.Count, s.Seconds, err = h.counts.Approved(ctx, sess.ID, e.Country.Code); err != nil {
				return nil, err
			}
		}
		switch {
		case on != nil && on.Country.Code == e.Country.Code:
			s.State = "on"
		case next != nil && next.Country.Code == e.Country.Code:
			s.State = "next"
		case !now.Before(e.Slot.End()):
			s.State = "done"
		}
		v.Slots = append(v.Slots, s)
	}
	for i := range v.Slots {
		switch v.Slots[i].State {
		case "on":
			v.Now = &v.Slots[i]
		case "next":
			v.Next = &v.Slots[i]
		}
	}
	return v, nil
}
