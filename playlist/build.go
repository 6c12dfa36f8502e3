package playlist

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
)

// Input is what a build stitches.
type Input struct {
	Session *presession.Session
	Country presession.Country
	// Statements are the approved statements in playlist order. Statements
	// without usable media, or of another session or country, are left out
	// and reported in Result.Skipped.
	Statements []*presession.Statement
	// Languages are the subtitle languages; nil means the session's.
	Languages []string
	// StartTimes maps a statement id to the first presentation time, in
	// seconds, of its HLS media as a player sees it (see StartTime); a
	// missing entry means 0.
	StartTimes map[string]float64
	// Captions maps "{lang}/{statement id}" to the WebVTT text of that
	// caption, as read from storage at rebuild time; a missing entry is
	// served empty.
	Captions map[string]string
}

// Result is one build: the JSON playlist and the HLS texts, without
// credentials in any URI. It is stored as JSON and served by Handler.
type Result struct {
	// Version is a hash of everything below: equal inputs give equal
	// versions and equal bytes.
	Version  string   `json:"version"`
	Playlist Playlist `json:"playlist"`
	// Files maps a name under /playlists/{s}/{cc}/ ("master.m3u8",
	// "720p.m3u8", "subs/fr.m3u8", and the whole-stream caption tracks
	// "captions/fr.vtt") to its text. Empty when nothing is approved.
	Files map[string]string `json:"files"`
	// Cues maps "{lang}/{statement id}" to the source of that subtitle
	// segment.
	Cues    map[string]CueSource `json:"cues"`
	Skipped []Skipped            `json:"skipped,omitempty"`
}

// CueSource is where one subtitle segment comes from.
type CueSource struct {
	Key         string `json:"key,omitempty"`  // storage key of the WebVTT
	Text        string `json:"text,omitempty"` // its content at rebuild time; "" serves an empty one
	Placeholder bool   `json:"placeholder,omitempty"`
	// MPEGTS is the X-TIMESTAMP-MAP value (90 kHz) that maps cue time 0
	// to the statement's first presentation time.
	MPEGTS int64 `json:"mpegts"`
}

// Skipped names a statement left out of a build and why.
type Skipped struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// Playlist is the JSON document of GET /playlists/{s}/{cc}.json. URLs are
// app-relative paths; WithKey adds a viewer key to each.
type Playlist struct {
	Version    string      `json:"version"`
	Session    SessionInfo `json:"session"`
	Country    CountryInfo `json:"country"`
	Duration   float64     `json:"duration"`      // total, seconds
	HLS        string      `json:"hls,omitempty"` // the continuous stream; absent when empty
	Languages  []Language  `json:"languages"`
	Statements []Item      `json:"statements"`
}

// SessionInfo names the session of a playlist.
type SessionInfo struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Review string `json:"review,omitempty"`
}

// CountryInfo names the country of a playlist.
type CountryInfo struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Language is a subtitle language of the stream.
type Language struct {
	Code string `json:"language"`
	Name string `json:"name"`
	HLS  string `json:"hls"` // the subtitle media playlist
	// VTT is one WebVTT for the whole stream, cue times on the stream's
	// timeline: for a <track> on a player of the continuous stream.
	VTT string `json:"vtt"`
}

// Item is one statement of a playlist: a chapter of the stream.
type Item struct {
	ID           string        `json:"id"`
	Title        string        `json:"title"`
	Organisation string        `json:"organisation"`
	Speaker      string        `json:"speaker,omitempty"`
	Language     string        `json:"language,omitempty"`
	Start        float64       `json:"start"`    // chapter start within the stream, seconds
	Duration     float64       `json:"duration"` // its span in the stream, seconds
	Poster       string        `json:"poster,omitempty"`
	Thumbnail    string        `json:"thumbnail,omitempty"`
	HLS          string        `json:"hls"` // the statement's own multivariant playlist
	MP4          string        `json:"mp4,omitempty"`
	MP4Size      int64         `json:"mp4_size,omitempty"`
	Captions     []CaptionLink `json:"captions"`
}

// CaptionLink is a downloadable caption file of a statement.
type CaptionLink struct {
	Language    string `json:"language"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	Placeholder bool   `json:"placeholder"`
}

// stmt is a statement that made it into the build.
type stmt struct {
	s      *presession.Statement
	start  float64 // in the stream
	span   float64
	byRung map[string]*presession.Rendition
}

// rung is one variant of the stitched stream.
type rung struct {
	name   string
	height int
	width  int
	bw     int
}

// Build stitches in into a Result. It does no I/O.
func Build(in Input) (*Result, error) {
	if in.Session == nil {
		return nil, presession.Errorf(presession.EINVALID, "playlist: no session")
	}
	cc := strings.ToUpper(in.Country.Code)
	if cc == "" {
		return nil, presession.Errorf(presession.EINVALID, "playlist: no country")
	}
	langs := in.Languages
	if langs == nil {
		langs = in.Session.Languages
	}
	langs = slices.DeleteFunc(slices.Clone(langs), func(l string) bool { return !validName(l) })
	res := &Result{Files: map[string]string{}, Cues: map[string]CueSource{}}

	var list []*stmt
	list, res.Skipped = stitchable(in.Statements, in.Session.ID, cc)
	rungs := ladder(list)
	total := place(list, rungs)
	res.Playlist = playlistDoc(in.Session, in.Country, cc, langs, list, total)
	if len(list) > 0 {
		res.Playlist.HLS = "/playlists/" + url.PathEscape(in.Session.ID) + "/" + cc + "/master.m3u8"
		writeFiles(res, in, langs, rungs, list)
	}
	v, err := res.hash()
	if err != nil {
		return nil, err
	}
	res.Version = v
	res.Playlist.Version = v
	return res, nil
}

// stitchable keeps the statements that can be stitched, in order, and
// says why each other one cannot.
func stitchable(statements []*presession.Statement, session, cc string) ([]*stmt, []Skipped) {
	var list []*stmt
	var skipped []Skipped
	seen := map[string]bool{}
	for _, s := range statements {
		if s == nil {
			continue
		}
		if reason := unusable(s, session, cc, seen); reason != "" {
			skipped = append(skipped, Skipped{ID: s.ID, Reason: reason})
			continue
		}
		seen[s.ID] = true
		list = append(list, &stmt{s: s})
	}
	return list, skipped
}

// ladder returns the rungs of the stream: every name any statement has,
// largest first.
func ladder(list []*stmt) []*rung {
	byName := map[string]*rung{}
	for _, st := range list {
		for i := range st.s.Media.Renditions {
			r := &st.s.Media.Renditions[i]
			if !usableRendition(r) {
				continue
			}
			g := byName[r.Name]
			if g == nil {
				g = &rung{name: r.Name}
				byName[r.Name] = g
			}
			if r.Height*r.Width > g.height*g.width || (r.Height*r.Width == g.height*g.width && r.Height > g.height) {
				g.height, g.width = r.Height, r.Width
			}
			g.bw = max(g.bw, r.Bandwidth)
		}
	}
	rungs := make([]*rung, 0, len(byName))
	for _, g := range byName {
		rungs = append(rungs, g)
	}
	slices.SortFunc(rungs, func(a, b *rung) int {
		return cmp.Or(cmp.Compare(b.height, a.height), cmp.Compare(b.width, a.width), cmp.Compare(b.bw, a.bw), cmp.Compare(a.name, b.name))
	})
	return rungs
}

// place picks each statement's rendition in each rung and its span in the
// stream (measured on the top rung so that chapters and subtitles line up
// with what a player shows first), and returns the stream's length.
func place(list []*stmt, rungs []*rung) float64 {
	var total float64
	for _, st := range list {
		st.byRung = make(map[string]*presession.Rendition, len(rungs))
		for _, g := range rungs {
			st.byRung[g.name] = pick(st.s.Media.Renditions, g)
		}
		var span float64
		for _, seg := range st.byRung[rungs[0].name].Segments {
			span += round6(seg.Duration)
		}
		st.span = round6(span)
		st.start = round6(total)
		total += st.span
	}
	return round6(total)
}

// writeFiles writes the stream's playlists, subtitle playlists and
// whole-stream caption tracks into res, with each statement's cue source.
func writeFiles(res *Result, in Input, langs []string, rungs []*rung, list []*stmt) {
	res.Files["master.m3u8"] = master(rungs, list, langs)
	for _, g := range rungs {
		res.Files[g.name+".m3u8"] = mediaPlaylist(g.name, list)
	}
	for _, l := range langs {
		res.Files["subs/"+l+".m3u8"] = subtitlePlaylist(l, list)
		var track strings.Builder
		track.WriteString("WEBVTT\n")
		for i, st := range list {
			// The statement's media starts at its place in the stream
			// (its segments are shifted there) plus its own start.
			src := CueSource{MPEGTS: int64(math.Round((st.start + in.StartTimes[st.s.ID]) * 90000)), Text: in.Captions[l+"/"+st.s.ID]}
			if c, ok := st.s.Caption(l); ok {
				src.Key, src.Placeholder = c.Key, c.Placeholder
			}
			res.Cues[l+"/"+st.s.ID] = src
			stitchVTT(&track, src.Text, i, st.start, st.span)
		}
		res.Files["captions/"+l+".vtt"] = track.String()
	}
}

// unusable says why s cannot be stitched, or "".
func unusable(s *presession.Statement, session, cc string, seen map[string]bool) string {
	switch {
	case s.ID == "":
		return "no id"
	case seen[s.ID]:
		return "listed twice"
	case s.Status != presession.StatusApproved:
		return "not approved (" + string(s.Status) + ")"
	case s.Session != session || !strings.EqualFold(s.Country, cc):
		return "of another session or country"
	case s.Media == nil:
		return "no media"
	}
	for i := range s.Media.Renditions {
		if usableRendition(&s.Media.Renditions[i]) {
			return ""
		}
	}
	return "no usable HLS rendition"
}

func usableRendition(r *presession.Rendition) bool {
	return validName(r.Name) && r.Init != "" && len(r.Segments) > 0 && r.Bandwidth > 0
}

// validName accepts rung and language names that are safe as file names
// and URL segments.
func validName(n string) bool {
	if n == "" || len(n) > 32 {
		return false
	}
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// pick returns the rendition of rs that stands in rung g: the one of the
// same name, else the largest not larger than the rung, else the smallest.
func pick(rs []presession.Rendition, g *rung) *presession.Rendition {
	var best, smallest *presession.Rendition
	for i := range rs {
		r := &rs[i]
		if !usableRendition(r) {
			continue
		}
		if r.Name == g.name {
			return r
		}
		if smallest == nil || r.Height < smallest.Height || (r.Height == smallest.Height && r.Bandwidth < smallest.Bandwidth) {
			smallest = r
		}
		if r.Height <= g.height && (best == nil || r.Height > best.Height || (r.Height == best.Height && r.Bandwidth > best.Bandwidth)) {
			best = r
		}
	}
	if best != nil {
		return best
	}
	return smallest
}

func playlistDoc(sess *presession.Session, c presession.Country, cc string, langs []string, list []*stmt, total float64) Playlist {
	name := c.Name
	if name == "" {
		name = presession.CountryName(cc, "en")
	}
	p := Playlist{
		Session:    SessionInfo{ID: sess.ID, Title: sess.Title, Review: sess.Review},
		Country:    CountryInfo{Code: cc, Name: name},
		Duration:   total,
		Languages:  []Language{},
		Statements: make([]Item, 0, len(list)),
	}
	if len(list) > 0 {
		for _, l := range langs {
			base := "/playlists/" + url.PathEscape(sess.ID) + "/" + cc + "/"
			p.Languages = append(p.Languages, Language{Code: l, Name: presession.LanguageName(l),
				HLS: base + "subs/" + l + ".m3u8", VTT: base + "captions/" + l + ".vtt"})
		}
	}
	for _, st := range list {
		s, m := st.s, st.s.Media
		it := Item{
			ID: s.ID, Title: s.Title, Organisation: s.Organisation, Speaker: s.Speaker, Language: s.Language,
			Start: st.start, Duration: st.span,
			Poster: versionedURL(s, m.Poster), Thumbnail: versionedURL(s, m.Thumbnail),
			HLS: layout.MediaURL(s.ID, m.Master), MP4: layout.MediaURL(s.ID, m.MP4), MP4Size: m.MP4Size,
			Captions: []CaptionLink{},
		}
		for _, c := range s.Captions {
			if c.Key == "" {
				continue
			}
			n := c.Name
			if n == "" {
				n = presession.LanguageName(c.Language)
			}
			it.Captions = append(it.Captions, CaptionLink{Language: c.Language, Name: n, URL: layout.MediaURL(s.ID, c.Key), Placeholder: c.Placeholder})
		}
		p.Statements = append(p.Statements, it)
	}
	return p
}

func master(rungs []*rung, list []*stmt, langs []string) string {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	for _, l := range langs {
		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"%s\",NAME=\"%s\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"subs/%s.m3u8\"\n",
			quotable(l), quotable(presession.LanguageName(l)), l)
	}
	for _, g := range rungs {
		var bw, w, h int
		var fps, weighted, dur float64
		codecs := make([]string, 0, len(list))
		for _, st := range list {
			r := st.byRung[g.name]
			bw = max(bw, r.Bandwidth)
			if r.Width*r.Height > w*h {
				w, h = r.Width, r.Height
			}
			fps = max(fps, r.FrameRate)
			avg := r.AverageBandwidth
			if avg <= 0 {
				avg = r.Bandwidth
			}
			weighted += float64(avg) * st.span
			dur += st.span
			codecs = append(codecs, r.Codecs)
		}
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d", bw)
		if dur > 0 {
			fmt.Fprintf(&b, ",AVERAGE-BANDWIDTH=%d", int64(math.Ceil(weighted/dur)))
		}
		if c := MergeCodecs(codecs...); c != "" {
			fmt.Fprintf(&b, ",CODECS=\"%s\"", quotable(c))
		}
		if w > 0 && h > 0 {
			fmt.Fprintf(&b, ",RESOLUTION=%dx%d", w, h)
		}
		if fps > 0 {
			fmt.Fprintf(&b, ",FRAME-RATE=%.3f", fps)
		}
		if len(langs) > 0 {
			b.WriteString(",SUBTITLES=\"subs\"")
		}
		b.WriteString(",CLOSED-CAPTIONS=NONE\n")
		b.WriteString(g.name + ".m3u8\n")
	}
	return b.String()
}

func header(b *strings.Builder, target int) {
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:")
	b.WriteString(strconv.Itoa(target))
	b.WriteString("\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-DISCONTINUITY-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n")
}

func mediaPlaylist(name string, list []*stmt) string {
	target, n, size := 1, 0, 0
	for _, st := range list {
		r := st.byRung[name]
		for _, seg := range r.Segments {
			target = max(target, int(math.Round(round6(seg.Duration))))
			size += len(seg.Key) + 40
		}
		n += len(r.Segments)
	}
	var b strings.Builder
	b.Grow(size + 256 + len(list)*160)
	header(&b, target)
	var num []byte
	for i, st := range list {
		r := st.byRung[name]
		id := st.s.ID
		if i > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		// Media URIs name the media's version (see serveImmutable): a
		// statement processed again is listed under new URLs.
		query := ""
		if v := mediaVersion(st.s); v != "" {
			query = "?v=" + url.QueryEscape(v)
		}
		b.WriteString("#EXT-X-MAP:URI=\"")
		layout.WriteMediaURL(&b, id, r.Init)
		b.WriteString(query)
		b.WriteString("\"\n")
		// Later statements' segments are served shifted to their start in
		// the stream (see Shift), so the timeline is continuous.
		at := query
		if st.start > 0 {
			if at == "" {
				at = "?"
			} else {
				at += "&"
			}
			at += "at=" + strconv.FormatFloat(st.start, 'f', -1, 64)
		}
		for _, seg := range r.Segments {
			b.WriteString("#EXTINF:")
			num = appendDur(num[:0], seg.Duration)
			b.Write(num)
			b.WriteString(",\n")
			layout.WriteMediaURL(&b, id, seg.Key)
			b.WriteString(at)
			b.WriteByte('\n')
		}
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	return b.String()
}

func subtitlePlaylist(lang string, list []*stmt) string {
	target := 1
	for _, st := range list {
		target = max(target, int(math.Round(st.span)))
	}
	var b strings.Builder
	header(&b, target)
	var num []byte
	for i, st := range list {
		if i > 0 {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		b.WriteString("#EXTINF:")
		num = appendDur(num[:0], st.span)
		b.Write(num)
		b.WriteString(",\n")
		b.WriteString(lang + "/" + url.PathEscape(st.s.ID) + ".vtt\n")
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	return b.String()
}

// hash returns the version of r: a hash of its content, Version aside.
func (r *Result) hash() (string, error) {
	h := sha256.New()
	doc, err := json.Marshal(struct {
		P Playlist
		C map[string]CueSource
		S []Skipped
	}{r.Playlist, r.Cues, r.Skipped})
	if err != nil {
		return "", fmt.Errorf("playlist: encode: %w", err)
	}
	h.Write(doc)
	names := make([]string, 0, len(r.Files))
	for n := range r.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(h, "\x00%s\x00%d\x00", n, len(r.Files[n]))
		h.Write([]byte(r.Files[n]))
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// round6 rounds to the microsecond, the precision of every duration this
// package writes.
func round6(d float64) float64 { return math.Round(d*1e6) / 1e6 }

func appendDur(b []byte, d float64) []byte {
	return strconv.AppendFloat(b, round6(d), 'f', -1, 64)
}

// quotable makes s fit in an HLS quoted-string (no double quote, CR or LF).
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '"':
			return '\''
		case '\r', '\n':
			return ' '
		}
		return r
	}, s)
}

// Encode returns the stored form of r (JSON).
func (r *Result) Encode() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("playlist: encode build: %w", err)
	}
	return b, nil
}

// DecodeResult reads a stored build.
func DecodeResult(b []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("playlist: decode build: %w", err)
	}
	if r.Files == nil {
		r.Files = map[string]string{}
	}
	return &r, nil
}
