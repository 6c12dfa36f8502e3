// Package layout names where presession keeps everything in storage, and
// the URL under which the app serves a statement's media. Every storage key
// is built, and parsed, here and nowhere else. A key is a pure function of
// ids (and of a rung or a language), so a task that runs again overwrites
// what it wrote instead of adding to it.
//
//	uploads/{id}                             the uploaded original (tusd writes it)
//	uploads/{id}.info, uploads/{id}.part     tusd's state of the upload (.part on S3 only)
//	statements/{id}/statement.json           the catalog's durable record
//	statements/{id}/media.json               the manifest of its processing
//	statements/{id}/master.m3u8              multivariant playlist
//	statements/{id}/hls/{rung}/index.m3u8    a rung's media playlist
//	statements/{id}/hls/{rung}/init.mp4      its init segment
//	statements/{id}/hls/{rung}/seg_00000.m4s its media segments
//	statements/{id}/download.mp4             progressive MP4
//	statements/{id}/poster.jpg, thumb.jpg    poster, thumbnail
//	statements/{id}/storyboard.jpg, .vtt     scrubbing sprite and its cues
//	statements/{id}/subs/{lang}.vtt, .m3u8   caption track and its playlist
//	statements/{id}/subs/history/{lang}.{n}.vtt the track as it was before its change n
//	statements/{id}/drafts/{lang}            the organisation's captions file, as sent
//	orders/{session}/{CC}.json               a country's speaking order
//	playlists/{session}/{CC}/build.json      a country's stored playlist build
//	playlists/{session}/{CC}/builds/{t}-{v}.json every build it had: v stored at t (for premieres)
//	programme/{session}.json                 staff's changes to a session's programme
//	invitations/{id}.json                    the catalog's durable record of an invitation
//	viewer-links/{id}.json                   the catalog's durable record of a viewer link
//	webhooks/{id}.json                       a registered webhook endpoint, its secret included
//	audit/{yyyy}/{mm}/{dd}/{time}-{id}.json  one audit entry (Audit: a listing is chronological)
//
// The files of a statement's media are named relative to statements/{id}/
// (MasterName, HLSDir, CaptionName …): the worker lays its output
// directory out the same way and stores each file at Media(id, rel).
//
// # Media URLs
//
// The app serves a statement's media at /media/{id}/{rel}, rel being the
// key below statements/{id}/: MediaURL and Media convert one into the
// other. A key outside statements/{id}/ (the original upload above all)
// has no media URL.
package layout

import (
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Prefixes of the key families.
const (
	Sources     = "uploads/"
	Statements  = "statements/"
	Orders      = "orders/"
	Playlists   = "playlists/"
	Invitations = "invitations/"
	Webhooks    = "webhooks/"
	Programmes  = "programme/"
)

// Source is the key of a statement's uploaded original. tusd's filestore
// (in the storage directory) and s3store (with Sources as its object
// prefix) both put it there.
func Source(id string) string { return Sources + id }

// SourceInfo is the key of tusd's saved info of the upload of statement id.
func SourceInfo(id string) string { return Source(id) + ".info" }

// SourcePart is the key of the incomplete last part s3store keeps of the
// upload of statement id.
func SourcePart(id string) string { return Source(id) + ".part" }

// ParseSourceInfo returns the statement id of a SourceInfo key.
func ParseSourceInfo(key string) (id string, ok bool) {
	rest, ok := strings.CutPrefix(key, Sources)
	if !ok {
		return "", false
	}
	id, ok = strings.CutSuffix(rest, ".info")
	return id, ok && !strings.Contains(id, "/")
}

// Names of a statement's files, relative to Statement(id).
const (
	RecordName        = "statement.json"
	ManifestName      = "media.json"
	MasterName        = "master.m3u8"
	HLSDir            = "hls" // a directory per rung: HLSDir/{rung}/
	RungPlaylistName  = "index.m3u8"
	InitName          = "init.mp4"
	SegmentPattern    = "seg_%05d.m4s" // fmt pattern of the segment number
	DownloadName      = "download.mp4"
	PosterName        = "poster.jpg"
	ThumbName         = "thumb.jpg"
	StoryboardName    = "storyboard.jpg"
	StoryboardVTTName = "storyboard.vtt"
	CaptionsDir       = "subs"
	CaptionDraftsDir  = "drafts" // the organisation's own captions files
)

// RungPlaylist is the media playlist of a rung, relative to Statement(id);
// its init segment and media segments are beside it (Sibling).
func RungPlaylist(rung string) string { return HLSDir + "/" + rung + "/" + RungPlaylistName }

// CaptionFile is the name of the caption track in lang inside CaptionsDir.
func CaptionFile(lang string) string { return lang + ".vtt" }

// SubtitlePlaylistFile is the name of the subtitle playlist in lang inside
// CaptionsDir; it refers to CaptionFile(lang).
func SubtitlePlaylistFile(lang string) string { return lang + ".m3u8" }

// CaptionName is the caption track in lang, relative to Statement(id).
func CaptionName(lang string) string { return CaptionsDir + "/" + CaptionFile(lang) }

// SubtitlePlaylistName is the subtitle playlist in lang, relative to
// Statement(id) (and so to the master playlist).
func SubtitlePlaylistName(lang string) string { return CaptionsDir + "/" + SubtitlePlaylistFile(lang) }

// Statement is the prefix of every key of statement id.
func Statement(id string) string { return Statements + id + "/" }

// Media is the key of the file rel (a name relative to Statement(id)) of
// statement id.
func Media(id, rel string) string { return Statement(id) + rel }

// Record is the key of the catalog's durable record of statement id.
func Record(id string) string { return Media(id, RecordName) }

// ParseRecord returns the statement id of a Record key.
func ParseRecord(key string) (id string, ok bool) {
	rest, ok := strings.CutPrefix(key, Statements)
	if !ok {
		return "", false
	}
	id, ok = strings.CutSuffix(rest, "/"+RecordName)
	return id, ok && !strings.Contains(id, "/")
}

// Manifest is the key of the manifest of statement id's processing.
func Manifest(id string) string { return Media(id, ManifestName) }

// Caption is the key of statement id's caption track in lang, where the
// worker writes its placeholder and staff's upload replaces it.
func Caption(id, lang string) string { return Media(id, CaptionName(lang)) }

// CaptionDraft is the key of the captions file in lang an organisation
// sent with statement id, as it sent it (WebVTT or SRT): the worker starts
// the track in lang from it.
func CaptionDraft(id, lang string) string { return Media(id, CaptionDraftsDir+"/"+lang) }

// CaptionRevision is the key where the caption track of statement id in
// lang is kept as it was before its change number n (from 1).
func CaptionRevision(id, lang string, n int) string {
	return Media(id, CaptionsDir+"/history/"+lang+"."+strconv.Itoa(n)+".vtt")
}

// Sibling is the key of the file name in the directory of key: a rung's
// init segment and media segments, which its playlist names relative to
// itself.
func Sibling(key, name string) string { return path.Dir(key) + "/" + name }

// Order is the key of the speaking order of a country in a session.
func Order(session, country string) string { return Orders + session + "/" + country + ".json" }

// ParseOrder returns the session and country of an Order key.
func ParseOrder(key string) (session, country string, ok bool) {
	rest, ok := strings.CutPrefix(key, Orders)
	if !ok {
		return "", "", false
	}
	if rest, ok = strings.CutSuffix(rest, ".json"); !ok {
		return "", "", false
	}
	return strings.Cut(rest, "/")
}

// Invitation is the key of the catalog's durable record of invitation id.
func Invitation(id string) string { return Invitations + id + ".json" }

// ParseInvitation returns the invitation id of an Invitation key.
func ParseInvitation(key string) (id string, ok bool) {
	rest, ok := strings.CutPrefix(key, Invitations)
	if !ok {
		return "", false
	}
	id, ok = strings.CutSuffix(rest, ".json")
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// Build is the key of the stored build of a country's playlist.
func Build(session, country string) string {
	return Playlists + session + "/" + strings.ToUpper(country) + "/build.json"
}

// buildTime is how BuildAt writes its time: UTC, fixed width, so that
// keys sort as their times do.
const buildTime = "20060102T150405.000000000Z"

// BuildsOf is the prefix of every build a country's playlist had.
func BuildsOf(session, country string) string {
	return Playlists + session + "/" + strings.ToUpper(country) + "/builds/"
}

// BuildAt is the key of the build of version v of a country's playlist,
// stored at t: kept so that a premiere plays the build that stood when it
// started.
func BuildAt(session, country string, t time.Time, v string) string {
	return BuildsOf(session, country) + t.UTC().Format(buildTime) + "-" + v + ".json"
}

// ParseBuildAt returns the time and version of a BuildAt key.
func ParseBuildAt(key string) (t time.Time, v string, ok bool) {
	name := path.Base(key)
	stamp, rest, found := strings.Cut(strings.TrimSuffix(name, ".json"), "-")
	if !found || !strings.HasSuffix(name, ".json") || rest == "" {
		return time.Time{}, "", false
	}
	t, err := time.Parse(buildTime, stamp)
	if err != nil {
		return time.Time{}, "", false
	}
	return t, rest, true
}

// Programme is the key of staff's changes to the programme of session.
func Programme(session string) string { return Programmes + session + ".json" }

// Webhook is the key of the durable record of webhook endpoint id.
func Webhook(id string) string { return Webhooks + id + ".json" }

// ParseWebhook returns the endpoint id of a Webhook key.
func ParseWebhook(key string) (id string, ok bool) {
	rest, ok := strings.CutPrefix(key, Webhooks)
	if !ok {
		return "", false
	}
	id, ok = strings.CutSuffix(rest, ".json")
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// MediaURL returns the app path that serves the key of statement id:
// /media/{id}/{rel}, rel being what follows Statement(id) in the key, each
// segment path-escaped ("statements/ID/hls/720p/seg_00000.m4s" →
// /media/ID/hls/720p/seg_00000.m4s). "" for a key outside Statement(id).
func MediaURL(id, key string) string {
	if _, ok := cutStatement(key, id); !ok {
		return ""
	}
	var b strings.Builder
	b.Grow(len("/media/") + len(key))
	WriteMediaURL(&b, id, key)
	return b.String()
}

// WriteMediaURL writes MediaURL(id, key) to b, for a caller that writes
// many (a playlist's segment URIs).
func WriteMediaURL(b *strings.Builder, id, key string) {
	rel, ok := cutStatement(key, id)
	if !ok {
		return
	}
	b.WriteString("/media/")
	b.WriteString(url.PathEscape(id))
	b.WriteByte('/')
	writeEscapedPath(b, rel)
}

// cutStatement returns what follows Statement(id) in key.
func cutStatement(key, id string) (rel string, ok bool) {
	rest, ok := strings.CutPrefix(key, Statements)
	if !ok {
		return "", false
	}
	if rest, ok = strings.CutPrefix(rest, id); !ok {
		return "", false
	}
	return strings.CutPrefix(rest, "/")
}

// writeEscapedPath writes p with each segment path-escaped; the common
// case of nothing to escape is copied as is.
func writeEscapedPath(b *strings.Builder, p string) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
			for j, s := range strings.Split(p, "/") {
				if j > 0 {
					b.WriteByte('/')
				}
				b.WriteString(url.PathEscape(s))
			}
			return
		}
	}
	b.WriteString(p)
}

// Kind is what a key of a statement's media holds, as far as serving it
// over HTTP is concerned.
type Kind int

// The kinds of Classify.
const (
	KindOther         Kind = iota
	KindPlaylist           // an HLS playlist (.m3u8): master, rung or subtitles
	KindSegment            // an HLS media segment (.m4s)
	KindInit               // an HLS init segment: an .mp4 under HLSDir
	KindDownload           // the progressive MP4: an .mp4 elsewhere
	KindImage              // poster, thumbnail, storyboard sprite
	KindCaption            // a caption track (.vtt)
	KindStoryboardVTT      // the storyboard sprite's cues
)

var kindNames = [...]string{"other", "playlist", "segment", "init", "download", "image", "caption", "storyboard-vtt"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "kind(?)"
	}
	return kindNames[k]
}

// Classify tells what key holds from its name: its extension, and for an
// MP4 whether it lies in a rung's directory.
func Classify(key string) Kind {
	switch strings.ToLower(path.Ext(key)) {
	case ".m3u8":
		return KindPlaylist
	case ".m4s":
		return KindSegment
	case ".mp4":
		if strings.Contains("/"+path.Dir(key)+"/", "/"+HLSDir+"/") {
			return KindInit
		}
		return KindDownload
	case ".jpg", ".jpeg", ".png", ".webp":
		return KindImage
	case ".vtt":
		if path.Base(key) == StoryboardVTTName {
			return KindStoryboardVTT
		}
		return KindCaption
	}
	return KindOther
}
