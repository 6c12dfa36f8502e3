// Package i18n holds every user-facing string of the pages and API in
// English, French and Spanish (the UPR's working languages), chooses the
// language of a request, and formats dates per language.
//
// Messages live in messages/{lang}/{area}.json, flat maps from key to a
// text with fmt verbs (%s, %d) for arguments. Each page area has its own
// file so areas can grow independently; every key must exist in every
// language (TestCatalogComplete fails otherwise).
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/language"
)

//go:embed messages
var messages embed.FS

// Languages the interface is written in; the first is the fallback.
var Languages = []string{"en", "fr", "es"}

// CookieName remembers a visitor's chosen language.
const CookieName = "presession_lang"

// Bundle holds the messages of every language.
type Bundle struct {
	msgs    map[string]map[string]string
	matcher language.Matcher
}

// Load reads the embedded message files.
func Load() (*Bundle, error) { return load(messages) }

func load(fsys fs.FS) (*Bundle, error) {
	b := &Bundle{msgs: map[string]map[string]string{}}
	tags := make([]language.Tag, len(Languages))
	for i, lang := range Languages {
		tags[i] = language.MustParse(lang)
		b.msgs[lang] = map[string]string{}
		files, err := fs.Glob(fsys, path.Join("messages", lang, "*.json"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, err
			}
			var m map[string]string
			if err := json.Unmarshal(data, &m); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", f, err)
			}
			for k, v := range m {
				if _, dup := b.msgs[lang][k]; dup {
					return nil, fmt.Errorf("i18n: %s: key %q defined twice", f, k)
				}
				b.msgs[lang][k] = v
			}
		}
	}
	b.matcher = language.NewMatcher(tags)
	return b, nil
}

// T returns the message key in lang, formatted with args. A key missing in
// lang falls back to English, then to the key itself.
func (b *Bundle) T(lang, key string, args ...any) string {
	s, ok := b.msgs[lang][key]
	if !ok {
		if s, ok = b.msgs[Languages[0]][key]; !ok {
			return key
		}
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Message renders a stored message — a key and its pre-formatted string
// arguments, as a statement keeps its failure reason — in lang. It is
// false when the key is unknown or the message takes other arguments than
// were stored (so the caller falls back to the stored text).
func (b *Bundle) Message(lang, key string, args []string) (string, bool) {
	if !b.Has(key) {
		return "", false
	}
	as := make([]any, len(args))
	for i, a := range args {
		if strings.Contains(a, "%!") {
			return "", false // a misfit could not be told from the argument itself
		}
		as[i] = a
	}
	out := b.T(lang, key, as...)
	if strings.Contains(out, "%!") {
		return "", false
	}
	return out, true
}

// Has reports whether key exists in English.
func (b *Bundle) Has(key string) bool {
	_, ok := b.msgs[Languages[0]][key]
	return ok
}

// Missing lists "lang: key" for every key that some language has and
// another lacks.
func (b *Bundle) Missing() []string {
	all := map[string]bool{}
	for _, m := range b.msgs {
		for k := range m {
			all[k] = true
		}
	}
	var out []string
	for _, lang := range Languages {
		for k := range all {
			if _, ok := b.msgs[lang][k]; !ok {
				out = append(out, lang+": "+k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool { return slices.Contains(Languages, lang) }

// Match picks the language of a request: ?lang= first (an explicit
// switch), then the remembered cookie, then Accept-Language.
func (b *Bundle) Match(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); Supported(l) {
		return l
	}
	if c, err := r.Cookie(CookieName); err == nil && Supported(c.Value) {
		return c.Value
	}
	return b.FromHeader(r.Header.Get("Accept-Language"))
}

// FromHeader picks the best language for an Accept-Language header.
func (b *Bundle) FromHeader(accept string) string {
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil || len(tags) == 0 {
		return Languages[0]
	}
	_, idx, conf := b.matcher.Match(tags...)
	if conf == language.No {
		return Languages[0]
	}
	return Languages[idx]
}

// Remember sets the language cookie when the request switched language
// with ?lang=.
func Remember(w http.ResponseWriter, r *http.Request) {
	if l := r.URL.Query().Get("lang"); Supported(l) {
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	}
}

var months = map[string][12]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	"es": {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
}

// Date formats the day of t in lang: "20 May 2020", "20 mai 2020",
// "20 de mayo de 2020".
func Date(lang string, t time.Time) string {
	m, ok := months[lang]
	if !ok {
		m = months["en"]
	}
	name := m[t.Month()-1]
	if lang == "es" {
		return fmt.Sprintf("%d de %s de %d", t.Day(), name, t.Year())
	}
	if lang == "fr" && t.Day() == 1 {
		return fmt.Sprintf("1er %s %d", name, t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), name, t.Year())
}

// DateTime formats t in lang with its time and time zone, stated:
// "20 May 2020, 23:59 UTC".
func DateTime(lang string, t time.Time) string {
	return Date(lang, t) + ", " + t.Format("15:04") + " " + zone(t)
}

func zone(t time.Time) string {
	name, off := t.Zone()
	if name != "" && !strings.HasPrefix(name, "+") && !strings.HasPrefix(name, "-") {
		return name
	}
	if off == 0 {
		return "UTC"
	}
	return "UTC" + t.Format("-07:00")
}

// Duration formats seconds as m:ss or h:mm:ss.
func Duration(seconds float64) string {
	s := int(seconds + 0.5)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// byteUnits are the binary units of sizes per language (the first is the
// byte itself, written out).
var byteUnits = map[string][]string{
	"en": {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"},
	"fr": {"octets", "Kio", "Mio", "Gio", "Tio", "Pio"},
	"es": {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"},
}

// ByteUnits returns lang's units for sizes, bytes first, then KiB to PiB.
func ByteUnits(lang string) []string {
	u, ok := byteUnits[lang]
	if !ok {
		u = byteUnits[Languages[0]]
	}
	return slices.Clone(u)
}

// Bytes writes a size in binary units as lang does, with at most one
// decimal: "1.5 GiB", "1,5 Gio", "1,5 GiB", "512 bytes".
func Bytes(lang string, n int64) string {
	u := ByteUnits(lang)
	if n < 1024 {
		return fmt.Sprintf("%d %s", n, u[0])
	}
	div, exp := int64(1024), 1
	for m := n / 1024; m >= 1024 && exp < len(u)-1; m /= 1024 {
		div *= 1024
		exp++
	}
	s := strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/float64(div)), ".0")
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " " + u[exp]
}

// Size is a number of bytes as a message argument: it prints in English
// (Bytes("en", …)), and web.Site.Message writes it in the message's
// language.
type Size int64

func (s Size) String() string { return Bytes(Languages[0], int64(s)) }
