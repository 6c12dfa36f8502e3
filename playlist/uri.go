package playlist

import (
	"net/url"
	"strings"
)

// addKey appends the viewer key to an app URI; URIs with a scheme or host
// (another server's) are returned unchanged, so the key never leaves the
// app.
func addKey(uri, key string) string {
	if key == "" || uri == "" || strings.Contains(uri, "://") || strings.HasPrefix(uri, "//") {
		return uri
	}
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + "key=" + url.QueryEscape(key)
}

// WithKey returns the HLS playlist text with key added to every URI in it:
// URI lines and the URI attributes of tags (EXT-X-MAP, EXT-X-MEDIA, …). An
// empty key returns text unchanged.
func WithKey(text, key string) string {
	if key == "" {
		return text
	}
	param := "key=" + url.QueryEscape(key)
	return rewriteURIs(text, len(param)+1, func(uri string) string { return addKeyParam(uri, param) })
}

// rewriteURIs returns the HLS playlist text with every URI in it (URI
// lines and the URI attributes of tags) replaced by fn's answer for it,
// which is expected to add about extra bytes to each.
func rewriteURIs(text string, extra int, fn func(uri string) string) string {
	var b strings.Builder
	b.Grow(len(text) + strings.Count(text, "\n")*extra)
	for len(text) > 0 {
		line, rest, found := strings.Cut(text, "\n")
		text = rest
		line = strings.TrimSuffix(line, "\r")
		switch {
		case line == "":
		case line[0] == '#':
			for {
				i := strings.Index(line, `URI="`)
				if i < 0 {
					break
				}
				i += len(`URI="`)
				j := strings.IndexByte(line[i:], '"')
				if j < 0 {
					break
				}
				b.WriteString(line[:i])
				b.WriteString(fn(line[i : i+j]))
				line = line[i+j:]
				b.WriteByte('"')
				line = line[1:]
			}
		default:
			line = fn(line)
		}
		b.WriteString(line)
		if found {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func addKeyParam(uri, param string) string {
	if strings.Contains(uri, "://") || strings.HasPrefix(uri, "//") {
		return uri
	}
	if strings.Contains(uri, "?") {
		return uri + "&" + param
	}
	return uri + "?" + param
}

// WithKey returns a copy of p with key added to every URL.
func (p Playlist) WithKey(key string) Playlist {
	if key == "" {
		return p
	}
	p.HLS = addKey(p.HLS, key)
	langs := make([]Language, len(p.Languages))
	for i, l := range p.Languages {
		l.HLS = addKey(l.HLS, key)
		l.VTT = addKey(l.VTT, key)
		langs[i] = l
	}
	p.Languages = langs
	items := make([]Item, len(p.Statements))
	for i, it := range p.Statements {
		it.Poster = addKey(it.Poster, key)
		it.Thumbnail = addKey(it.Thumbnail, key)
		it.HLS = addKey(it.HLS, key)
		it.MP4 = addKey(it.MP4, key)
		caps := make([]CaptionLink, len(it.Captions))
		for j, c := range it.Captions {
			c.URL = addKey(c.URL, key)
			caps[j] = c
		}
		it.Captions = caps
		items[i] = it
	}
	p.Statements = items
	return p
}
