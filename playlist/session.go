package playlist

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
)

type sessionRow struct {
	Name     string
	URL      string
	Count    int
	Duration float64
}

type sessionData struct {
	Title, Review string
	Rows          []sessionRow
	Programme     *web.ProgrammeView // nil: no slots
}

// serveSession is where a session-wide viewer link lands: the session's
// programme (Site.Programme), then the countries the link covers, each
// with its approved statements and their length, linking to the
// country's watch page.
func (h *Handler) serveSession(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.site.Sessions.Find(r.PathValue("s"))
	if !ok {
		h.site.Error(w, r, presession.Errorf(presession.ENOTFOUND, "there is no session %q", r.PathValue("s")).Localize("err.session_unknown", r.PathValue("s")))
		return
	}
	p := h.site.Auth.Principal(r)
	if err := p.Err(); err != nil {
		h.site.Error(w, r, err)
		return
	}
	if p.Viewer != nil && p.Key != "" {
		h.site.Auth.SetViewerCookie(w, r, p.Key, p.Viewer.Expires)
	}
	lang := h.site.Lang(r)
	d := sessionData{Title: sess.Title, Review: sess.Review}
	for _, c := range sess.Countries {
		if p.CanWatch(sess, c) != nil {
			continue
		}
		res, err := h.load(r.Context(), sess, c)
		if err != nil {
			h.site.Error(w, r, err)
			return
		}
		u := "/watch/" + url.PathEscape(sess.ID) + "/" + strings.ToLower(c.Code)
		if p.Key != "" {
			u += "?key=" + url.QueryEscape(p.Key)
		}
		d.Rows = append(d.Rows, sessionRow{Name: presession.CountryName(c.Code, lang), URL: u,
			Count: len(res.Playlist.Statements), Duration: res.Playlist.Duration})
	}
	if len(d.Rows) == 0 {
		h.site.Error(w, r, presession.Errorf(presession.EFORBIDDEN, "an upload link does not give access to the delegations' playlists").Localize("err.upload_link_no_playlist"))
		return
	}
	sort.SliceStable(d.Rows, func(i, j int) bool { return d.Rows[i].Name < d.Rows[j].Name })
	if h.site.Programme != nil {
		pv, err := h.site.Programme.ProgrammeView(r.Context(), sess, lang, p.Key)
		if err != nil {
			h.site.Error(w, r, err)
			return
		}
		if len(pv.Slots) > 0 {
			d.Programme = pv
		}
	}
	h.site.Render(w, r, h.session, http.StatusOK, d)
}

// Approved returns how many statements the stored build of a country's
// playlist holds, and how long they last in seconds: its approved
// statements as they were last stitched (a country never built has none).
func (h *Handler) Approved(ctx context.Context, session, country string) (count int, seconds float64, err error) {
	sess, c, err := h.site.Sessions.Lookup(session, country)
	if err != nil {
		return 0, 0, err
	}
	res, err := h.load(ctx, sess, c)
	if err != nil {
		return 0, 0, err
	}
	return len(res.Playlist.Statements), res.Playlist.Duration, nil
}
