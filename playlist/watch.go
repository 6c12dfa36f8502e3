package playlist

import (
	"embed"
	"encoding/json"
	"net/http"
	"path"

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
}

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
