package playlist

import (
	"embed"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
)

//go:embed assets
var assets embed.FS

// watchItem is a statement as the watch page shows it.
type watchItem struct {
	Item
	Number       int
	End          float64
	LanguageName string
	MP4Download  string
	MP4SizeText  string
	CaptionsJSON string
	Captions     []watchCaption
}

type watchCaption struct {
	CaptionLink
	Download string
}

type watchData struct {
	Playlist
	CountryName string // in the page's language
	Statements  []watchItem
	Premiere    *watchPremiere // nil: the country has no slot
}

// watchPremiere is the country's slot as the watch page shows it: the
// page's script follows it through live.json.
type watchPremiere struct {
	Status       string // live.json, with the key
	Start, End   time.Time
	State        string // "scheduled", "live" or "ended" when the page was made
	QuestionsURL string
	Note         string
	Captions     map[string]string // language → the premiere's whole-stream WebVTT
}

// Geneva is the start in Geneva time.
func (p watchPremiere) Geneva() time.Time { return p.Start.In(presession.Geneva) }

// ISO is the start as RFC 3339 (UTC), for the page's script.
func (p watchPremiere) ISO() string { return p.Start.UTC().Format(time.RFC3339) }

// serveWatch renders the player page of a country. A ?key= is remembered
// in a cookie so that the page's later requests (and a reload without the
// key) are authorised; the page's URLs also carry it.
func (h *Handler) serveWatch(w http.ResponseWriter, r *http.Request) {
	p, res, ok := h.playlistRequest(w, r, r.PathValue("cc"))
	if !ok {
		return
	}
	if p.Viewer != nil && p.Key != "" {
		h.site.Auth.SetViewerCookie(w, r, p.Key, p.Viewer.Expires)
	}
	pl := res.Playlist.WithKey(p.Key)
	lang := h.site.Lang(r)
	d := watchData{Playlist: pl, CountryName: presession.CountryName(pl.Country.Code, lang)}
	for i, it := range pl.Statements {
		wi := watchItem{Item: it, Number: i + 1, End: it.Start + it.Duration, MP4Download: addParam(it.MP4, "download=1")}
		if it.Language != "" {
			wi.LanguageName = presession.LanguageName(it.Language)
		}
		if it.MP4Size > 0 {
			wi.MP4SizeText = i18n.Bytes(lang, it.MP4Size)
		}
		caps := make([]CaptionLink, 0, len(it.Captions))
		for _, c := range it.Captions {
			wi.Captions = append(wi.Captions, watchCaption{CaptionLink: c, Download: addParam(c.URL, "download=1")})
			caps = append(caps, c)
		}
		b, _ := json.Marshal(caps)
		wi.CaptionsJSON = string(b)
		d.Statements = append(d.Statements, wi)
	}
	if slots, _ := h.premiereDeps(); slots != nil {
		slot, err := slots.Slot(r.Context(), pl.Session.ID, pl.Country.Code)
		if err != nil {
			h.site.Error(w, r, err)
			return
		}
		if slot != nil {
			wp := &watchPremiere{Status: addKey("/playlists/"+url.PathEscape(pl.Session.ID)+"/"+pl.Country.Code+"/live.json", p.Key),
				Start: slot.Start, End: slot.End(), State: "scheduled", QuestionsURL: slot.QuestionsURL, Note: slot.Note,
				Captions: map[string]string{}}
			for _, l := range pl.Languages {
				wp.Captions[l.Code] = addKey("/playlists/"+url.PathEscape(pl.Session.ID)+"/"+pl.Country.Code+"/live/captions/"+url.PathEscape(l.Code)+".vtt", p.Key)
			}
			switch now := h.now(); {
			case !now.Before(slot.End()):
				wp.State = "ended"
			case !now.Before(slot.Start):
				wp.State = "live"
			}
			d.Premiere = wp
		}
	}
	h.site.Render(w, r, h.watch, http.StatusOK, d)
}

// serveAsset serves the watch page's script and stylesheet.
func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := assets.ReadFile("assets/" + name)
	if err != nil || path.Ext(name) == ".html" {
		h.site.Error(w, r, presession.Errorf(presession.ENOTFOUND, "no such file").Localize("err.no_file"))
		return
	}
	ctype := "text/css; charset=utf-8"
	if path.Ext(name) == ".js" {
		ctype = "text/javascript; charset=utf-8"
	}
	serveBytes(w, r, b, ctype, etag(string(b), name, ""), "public, max-age=300")
}

func addParam(u, param string) string {
	if u == "" {
		return ""
	}
	for i := 0; i < len(u); i++ {
		if u[i] == '?' {
			return u + "&" + param
		}
	}
	return u + "?" + param
}
