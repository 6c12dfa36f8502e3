package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
)

//go:embed templates static
var assets embed.FS

type layout struct{ tmpl *template.Template }

func parseLayout() (*layout, error) {
	t, err := template.New("layout.html").ParseFS(assets, "templates/layout.html", "templates/programme.html")
	if err != nil {
		return nil, err
	}
	return &layout{tmpl: t}, nil
}

// Page is a page template bound to the shared layout. A page file defines
// "title" and "content" (and optionally "head" and "scripts").
type Page struct{ tmpl *template.Template }

// ParsePage parses page templates from fsys (patterns as for ParseFS) on top
// of the shared layout.
func (s *Site) ParsePage(fsys fs.FS, patterns ...string) (*Page, error) {
	t, err := s.layout.tmpl.Clone()
	if err != nil {
		return nil, err
	}
	if _, err := t.ParseFS(fsys, patterns...); err != nil {
		return nil, err
	}
	return &Page{tmpl: t}, nil
}

// View is what a page template receives: the language helpers and the
// page's own Data.
type View struct {
	Lang  string
	Data  any
	site  *Site
	req   *http.Request
	Nonce string
}

// T translates key in the page's language.
func (v *View) T(key string, args ...any) string { return v.site.Bundle.T(v.Lang, key, args...) }

// Date, DateTime and Duration format per language.
func (v *View) Date(t time.Time) string     { return i18n.Date(v.Lang, t) }
func (v *View) DateTime(t time.Time) string { return i18n.DateTime(v.Lang, t) }
func (v *View) Duration(s float64) string   { return i18n.Duration(s) }

// Languages lists the interface languages for the switch.
func (v *View) Languages() []string { return i18n.Languages }

// LangURL is the current URL with ?lang= set, keeping other parameters
// (an upload link's token, a viewer key).
func (v *View) LangURL(lang string) string {
	u := *v.req.URL
	q := u.Query()
	q.Set("lang", lang)
	u.RawQuery = q.Encode()
	return u.RequestURI()
}

// Path returns the request path (for active links).
func (v *View) Path() string { return v.req.URL.Path }

// Query returns a query parameter of the request.
func (v *View) Query(name string) string { return v.req.URL.Query().Get(name) }

// Programme is what the "programme" template takes: the view and a
// session's programme, under a heading of level 3.
func (v *View) Programme(p *ProgrammeView) map[string]any { return v.ProgrammeAt(p, 3) }

// ProgrammeAt is Programme under a heading of level (2 or 3).
func (v *View) ProgrammeAt(p *ProgrammeView, level int) map[string]any {
	return map[string]any{"V": v, "P": p, "L": level}
}

// QueryEscape escapes a query value.
func (v *View) QueryEscape(s string) string { return url.QueryEscape(s) }

// Render executes the page with data, in the request's language, and
// remembers a language switch.
func (s *Site) Render(w http.ResponseWriter, r *http.Request, p *Page, status int, data any) {
	i18n.Remember(w, r)
	v := &View{Lang: s.Lang(r), Data: data, site: s, req: r}
	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.Log.ErrorContext(r.Context(), "render page", "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", v.Lang)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", s.policy())
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// policy is the pages' Content-Security-Policy: everything from the site
// itself, with two additions where the service sends browsers elsewhere:
// media from the storage's public origin (MP4 downloads and previews
// redirect there; MediaOrigin), and requests to the public URL's origin
// (the tus endpoint hands out upload URLs on it).
func (s *Site) policy() string {
	// data: for media: hls.js (the watch page's player where a browser
	// has no native HLS) gives its caption tracks an empty data: source.
	media, connect := "'self' blob: data:", "'self'"
	if s.MediaOrigin != "" {
		media += " " + s.MediaOrigin
	}
	if s.Auth != nil {
		if o := origin(s.Auth.PublicURL); o != "" {
			connect += " " + o
		}
	}
	return "default-src 'self'; img-src 'self' data: blob:; media-src " + media + "; connect-src " + connect +
		"; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
}

// Assets serves a page's own scripts and stylesheets, the files of dir in
// fsys, by the route's {file}: only .js and .css, revalidated on every
// use (a deploy changes them under the same names); anything else is the
// site's localized 404.
func (s *Site) Assets(fsys fs.FS, dir string) http.HandlerFunc {
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		ct, ok := types[path.Ext(name)]
		var b []byte
		var err error
		if ok && fs.ValidPath(name) && !strings.Contains(name, "/") {
			b, err = fs.ReadFile(fsys, dir+"/"+name)
		}
		if !ok || b == nil || err != nil {
			s.Error(w, r, presession.Errorf(presession.ENOTFOUND, "no such file").Localize("err.no_file"))
			return
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write(b)
	}
}

// Static serves the shared stylesheet and scripts under /static/.
func Static() http.Handler {
	sub, _ := fs.Sub(assets, "static")
	fsrv := http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	})
}
