package playlist

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/metrics"
	"github.com/uprinfo/presession/web"
)

// # Serving immutable media
//
// A statement's segments, init segments and images never change while
// its media keep their version (Media.Version, a hash the worker records
// of every file it stored). Processing a statement again rewrites the
// same storage keys, so the URLs this package writes carry the version
// (?v=), and the media cache keys on it: new bytes come under new URLs,
// and nothing under an old URL is ever taken for the new media.
//
// Access is decided first, on every request, whatever the cache holds.
// Then Cache-Control says who may keep the response:
//
//   - the version the URL names is the statement's, and its media are
//     settled (ready, approved or rejected, not being processed): kept for
//     a year and immutable. A response to a credential that travels in
//     the URL (?key=, ?token=) is public, so that a CDN or caching proxy
//     keyed on the whole URL may keep it, but shared caches must
//     revalidate it after a minute (s-maxage=60): a revoked or expired
//     link stops working there within that minute. A response to a
//     cookie or a bearer token is private: a shared cache keyed on the
//     URL would hand it to anyone.
//   - any other version, or media being processed: private, no-cache.
//   - media made before versions were recorded (no version, no ?v=): as
//     before, private (a year for segments, an hour for images).
const (
	sharedImmutable = "public, max-age=31536000, s-maxage=60, immutable"
	revalidateCache = "private, no-cache"
)

// cachedKinds are the kinds of media the media cache keeps, with their
// metric label.
var cachedKinds = map[layout.Kind]metrics.MediaKind{
	layout.KindSegment: metrics.MediaSegment,
	layout.KindInit:    metrics.MediaInit,
	layout.KindImage:   metrics.MediaImage,
}

// mediaVersion is the version of s's media, "" for media made before
// versions were recorded.
func mediaVersion(s *presession.Statement) string {
	if s.Media == nil {
		return ""
	}
	return s.Media.Version
}

// settled reports whether s's media are those its record describes:
// not being processed again (which rewrites the files before the record
// names their new version), nor left by a run that failed.
func settled(s *presession.Statement) bool {
	switch s.Status {
	case presession.StatusReady, presession.StatusApproved, presession.StatusRejected:
		return s.Media != nil
	}
	return false
}

// cacheKey is the media cache's key of a statement's object as shifted
// by at ("" for none): its media version, its storage key and the shift.
func cacheKey(s *presession.Statement, key, at string) string {
	return mediaVersion(s) + "\x00" + key + "\x00" + at
}

// mediaCacheControl is the Cache-Control of an immutable kind of media
// (segment, init segment, image) of s asked for at version v (the URL's
// ?v=) by p.
func mediaCacheControl(p web.Principal, s *presession.Statement, kind layout.Kind, v string) string {
	ver := mediaVersion(s)
	switch {
	case !settled(s):
		return revalidateCache
	case ver == "" && kind == layout.KindImage:
		return fileCache
	case ver == "":
		return segmentCache
	case v != ver:
		return revalidateCache
	case p.Source == web.SourceKey || p.Source == web.SourceToken:
		return sharedImmutable
	}
	return segmentCache
}

// serveImmutable serves a segment, init segment or image of s from the
// media cache, with Range and conditional requests answered from the
// bytes in memory; an object the cache does not keep is streamed from
// storage.
func (h *Handler) serveImmutable(w http.ResponseWriter, r *http.Request, p web.Principal, s *presession.Statement, key string, kind metrics.MediaKind, notFound error) {
	cc := mediaCacheControl(p, s, layout.Classify(key), r.URL.Query().Get("v"))
	if !h.Media.Enabled() || !settled(s) {
		h.Media.bypass(kind)
		h.streamObject(w, r, s, key, cc, false, notFound)
		return
	}
	o, err := h.Media.get(r.Context(), cacheKey(s, key, ""), kind, func(ctx context.Context, limit int64) (*cached, error) {
		return readObject(ctx, h.store, key, limit)
	})
	if errors.Is(err, errTooLarge) {
		h.streamObject(w, r, s, key, cc, false, notFound)
		return
	}
	if err != nil {
		h.mediaError(w, r, err, notFound)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", o.info.ContentType)
	hd.Set("Cache-Control", cc)
	hd.Set("X-Content-Type-Options", "nosniff")
	if o.info.ETag != "" {
		hd.Set("ETag", `"`+strings.Trim(o.info.ETag, `"`)+`"`)
	}
	serveMemory(w, r, o.body, o.info.ModTime)
}

// serveMemory answers r with body. A plain GET, the premiere's case, is
// one write of the whole body (http.ServeContent copies through a 32 KiB
// buffer, a write call each); Range, HEAD and conditional requests go
// through http.ServeContent over the same bytes.
func serveMemory(w http.ResponseWriter, r *http.Request, body []byte, modtime time.Time) {
	h := r.Header
	if r.Method != http.MethodGet || h.Get("Range") != "" || h.Get("If-None-Match") != "" || h.Get("If-Match") != "" ||
		h.Get("If-Modified-Since") != "" || h.Get("If-Unmodified-Since") != "" {
		http.ServeContent(w, r, "", modtime, bytes.NewReader(body))
		return
	}
	hd := w.Header()
	hd.Set("Accept-Ranges", "bytes")
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	if !modtime.IsZero() && !modtime.Equal(time.Unix(0, 0)) {
		hd.Set("Last-Modified", modtime.UTC().Format(http.TimeFormat))
	}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// versioned reports whether a URI names a kind of media served as
// immutable, which carries the media's version.
func versioned(uri string) bool {
	p, _, _ := strings.Cut(uri, "?")
	_, ok := cachedKinds[layout.Classify(p)]
	return ok
}

// withVersion returns the HLS playlist text of a statement, stored at
// key, with v added to its segment and init segment URIs (relative to
// key, or absolute paths); "" returns text unchanged.
func withVersion(text, key, v string) string {
	if v == "" {
		return text
	}
	param := "v=" + url.QueryEscape(v)
	dir := path.Dir(key)
	return rewriteURIs(text, len(param)+1, func(uri string) string {
		if strings.Contains(uri, "://") || strings.HasPrefix(uri, "//") {
			return uri
		}
		if !strings.HasPrefix(uri, "/") && !versioned(path.Join(dir, uri)) || strings.HasPrefix(uri, "/") && !versioned(uri) {
			return uri
		}
		return addKeyParam(uri, param)
	})
}

// versionedURL is the media URL of key of s, with ?v= when the key is
// of a kind served as immutable and s's media have a version.
func versionedURL(s *presession.Statement, key string) string {
	u := layout.MediaURL(s.ID, key)
	if v := mediaVersion(s); u != "" && v != "" && versioned(key) {
		u += "?v=" + url.QueryEscape(v)
	}
	return u
}
