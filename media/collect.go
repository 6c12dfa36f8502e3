package media

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/uprinfo/presession/layout"
)

// Result describes what a successful run produced, for the statement's
// media description. File names are relative to the plan's output directory;
// segment URIs are relative to their rung's directory.
type Result struct {
	Rungs          []RungResult `json:"rungs"` // highest first
	TargetDuration int          `json:"target_duration"`
	Duration       float64      `json:"duration"` // sum of the top rung's segment durations
	FrameRate      float64      `json:"frame_rate"`
	Download       File         `json:"download"`
	Poster         File         `json:"poster"`
	Thumb          File         `json:"thumb"`
	Storyboard     *File        `json:"storyboard,omitempty"`
	StoryboardVTT  *File        `json:"storyboard_vtt,omitempty"`
}

// File is one produced file.
type File struct {
	Name   string `json:"name"` // relative to the output directory, slash-separated
	Size   int64  `json:"size"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
}

// RungResult is one rung of the produced ladder.
type RungResult struct {
	Name             string    `json:"name"`
	Width            int       `json:"width"`
	Height           int       `json:"height"`
	Bandwidth        int64     `json:"bandwidth"`         // peak segment bit rate, bit/s
	AverageBandwidth int64     `json:"average_bandwidth"` // bit/s over the whole rung
	Codecs           string    `json:"codecs"`            // e.g. "avc1.640028,mp4a.40.2"
	FrameRate        float64   `json:"frame_rate"`
	Playlist         string    `json:"playlist"` // "hls/720p/index.m3u8"
	Init             string    `json:"init"`     // "init.mp4", relative to the rung directory
	InitSize         int64     `json:"init_size"`
	TargetDuration   int       `json:"target_duration"`
	Segments         []Segment `json:"segments"`
}

// Segment is one media segment of a rung.
type Segment struct {
	URI      string  `json:"uri"` // relative to the rung directory
	Duration float64 `json:"duration"`
	Size     int64   `json:"size"`
}

// AudioCodec is the CODECS entry of the AAC-LC audio every rung carries.
const AudioCodec = "mp4a.40.2"

// Collect reads what Run produced for plan and describes it. It also
// finishes the layout: ffmpeg names a multi-variant init segment
// init_{rung}.mp4, which Collect renames to init.mp4 (rewriting the
// playlist's EXT-X-MAP), and it writes storyboard.vtt. Collect may be
// called again on the same directory.
func Collect(plan Plan) (*Result, error) {
	res := &Result{FrameRate: plan.FrameRate}
	for _, r := range plan.Rungs {
		rr, err := collectRung(plan, r)
		if err != nil {
			return nil, err
		}
		res.Rungs = append(res.Rungs, rr)
		res.TargetDuration = max(res.TargetDuration, rr.TargetDuration)
	}
	if len(res.Rungs) == 0 {
		return nil, errors.New("media: collect: plan has no rungs")
	}
	for _, s := range res.Rungs[0].Segments {
		res.Duration += s.Duration
	}
	var err error
	if res.Download, err = fileOf(plan, DownloadName, plan.Download.Width, plan.Download.Height); err != nil {
		return nil, err
	}
	if res.Poster, err = fileOf(plan, PosterName, plan.PosterW, plan.PosterH); err != nil {
		return nil, err
	}
	if res.Thumb, err = fileOf(plan, ThumbName, plan.ThumbW, plan.ThumbH); err != nil {
		return nil, err
	}
	if sb := plan.Storyboard; sb.Count > 0 {
		f, err := fileOf(plan, StoryboardName, sb.Cols*sb.TileWidth, sb.Rows*sb.TileHeight)
		if err != nil {
			return nil, err
		}
		res.Storyboard = &f
		if err := os.WriteFile(plan.Path(StoryboardVTTName), plan.StoryboardVTT(), 0o644); err != nil {
			return nil, fmt.Errorf("media: collect: %w", err)
		}
		v, err := fileOf(plan, StoryboardVTTName, 0, 0)
		if err != nil {
			return nil, err
		}
		res.StoryboardVTT = &v
	}
	return res, nil
}

func fileOf(plan Plan, name string, w, h int) (File, error) {
	st, err := os.Stat(plan.Path(name))
	if err != nil {
		return File{}, fmt.Errorf("media: collect: %w", err)
	}
	if st.Size() == 0 {
		return File{}, fmt.Errorf("media: collect: %s is empty", name)
	}
	return File{Name: name, Size: st.Size(), Width: w, Height: h}, nil
}

func collectRung(plan Plan, r Rung) (RungResult, error) {
	dir := plan.RungDir(r.Name)
	plPath := filepath.Join(dir, PlaylistName)
	data, err := os.ReadFile(plPath)
	if err != nil {
		return RungResult{}, fmt.Errorf("media: collect %s: %w", r.Name, err)
	}
	pl, err := parseMediaPlaylist(data)
	if err != nil {
		return RungResult{}, fmt.Errorf("media: collect %s: %w", r.Name, err)
	}
	if !pl.endList {
		return RungResult{}, fmt.Errorf("media: collect %s: playlist has no EXT-X-ENDLIST", r.Name)
	}
	if pl.mapURI == "" {
		return RungResult{}, fmt.Errorf("media: collect %s: playlist has no EXT-X-MAP", r.Name)
	}
	if pl.mapURI != InitName {
		if err := os.Rename(filepath.Join(dir, filepath.FromSlash(pl.mapURI)), filepath.Join(dir, InitName)); err != nil {
			return RungResult{}, fmt.Errorf("media: collect %s: %w", r.Name, err)
		}
		data = bytes.Replace(data, []byte(`#EXT-X-MAP:URI="`+pl.mapURI+`"`), []byte(`#EXT-X-MAP:URI="`+InitName+`"`), 1)
		tmp := plPath + ".tmp"
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return RungResult{}, fmt.Errorf("media: collect %s: %w", r.Name, err)
		}
		if err := os.Rename(tmp, plPath); err != nil {
			return RungResult{}, fmt.Errorf("media: collect %s: %w", r.Name, err)
		}
	}
	init, err := os.ReadFile(filepath.Join(dir, InitName))
	if err != nil {
		return RungResult{}, fmt.Errorf("media: collect %s: %w", r.Name, err)
	}
	avc, err := AVCCodec(init)
	if err != nil {
		return RungResult{}, fmt.Errorf("media: collect %s: %w", r.Name, err)
	}
	rr := RungResult{
		Name: r.Name, Width: r.Width, Height: r.Height,
		Codecs: avc + "," + AudioCodec, FrameRate: plan.FrameRate,
		Playlist:       layout.RungPlaylist(r.Name),
		Init:           InitName,
		InitSize:       int64(len(init)),
		TargetDuration: pl.targetDuration,
	}
	var bits, secs float64
	for _, s := range pl.segments {
		st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(s.URI)))
		if err != nil {
			return RungResult{}, fmt.Errorf("media: collect %s: %w", r.Name, err)
		}
		s.Size = st.Size()
		rr.Segments = append(rr.Segments, s)
		bits += float64(s.Size) * 8
		secs += s.Duration
		if s.Duration > 0 {
			rr.Bandwidth = max(rr.Bandwidth, int64(math.Ceil(float64(s.Size)*8/s.Duration)))
		}
	}
	if len(rr.Segments) == 0 || secs <= 0 {
		return RungResult{}, fmt.Errorf("media: collect %s: no segments", r.Name)
	}
	rr.AverageBandwidth = int64(math.Ceil(bits / secs))
	return rr, nil
}

type mediaPlaylist struct {
	targetDuration int
	mapURI         string
	segments       []Segment
	endList        bool
}

// parseMediaPlaylist reads the parts of an HLS media playlist we need.
func parseMediaPlaylist(data []byte) (mediaPlaylist, error) {
	var pl mediaPlaylist
	sc := bufio.NewScanner(bytes.NewReader(data))
	first := true
	pending := -1.0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if first {
			if line != "#EXTM3U" {
				return pl, errors.New("not an HLS playlist")
			}
			first = false
			continue
		}
		switch {
		case line == "":
		case strings.HasPrefix(line, "#EXT-X-TARGETDURATION:"):
			pl.targetDuration, _ = strconv.Atoi(strings.TrimPrefix(line, "#EXT-X-TARGETDURATION:"))
		case strings.HasPrefix(line, "#EXT-X-MAP:"):
			pl.mapURI = attr(strings.TrimPrefix(line, "#EXT-X-MAP:"), "URI")
		case strings.HasPrefix(line, "#EXTINF:"):
			d, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			f, err := strconv.ParseFloat(d, 64)
			if err != nil {
				return pl, fmt.Errorf("bad EXTINF %q", line)
			}
			pending = f
		case line == "#EXT-X-ENDLIST":
			pl.endList = true
		case strings.HasPrefix(line, "#"):
		default:
			if pending < 0 {
				return pl, fmt.Errorf("segment %q without EXTINF", line)
			}
			pl.segments = append(pl.segments, Segment{URI: line, Duration: pending})
			pending = -1
		}
	}
	return pl, sc.Err()
}

// attr returns a quoted or plain attribute from an HLS attribute list.
func attr(list, name string) string {
	for list != "" {
		var k, v string
		k, list, _ = strings.Cut(list, "=")
		k = strings.TrimSpace(k)
		if strings.HasPrefix(list, `"`) {
			end := strings.IndexByte(list[1:], '"')
			if end < 0 {
				return ""
			}
			v, list = list[1:end+1], list[end+2:]
			list = strings.TrimPrefix(list, ",")
		} else {
			v, list, _ = strings.Cut(list, ",")
		}
		if k == name {
			return v
		}
	}
	return ""
}

// AVCCodec returns the RFC 6381 codec string ("avc1.640028") of the
// H.264 track in an MP4 init segment, from its avcC box.
func AVCCodec(init []byte) (string, error) {
	i := bytes.Index(init, []byte("avcC"))
	if i < 0 || i+8 > len(init) {
		return "", errors.New("no avcC box in init segment")
	}
	b := init[i+4:]
	if b[0] != 1 {
		return "", errors.New("unknown avcC version")
	}
	return fmt.Sprintf("avc1.%02x%02x%02x", b[1], b[2], b[3]), nil
}

// SubtitleTrack is one WebVTT caption track of the multivariant playlist.
type SubtitleTrack struct {
	Language string // BCP 47, e.g. "fr"
	Name     string // shown to viewers, e.g. "Français" (see LanguageName)
	URI      string // of its subtitle media playlist, relative to the master
	Default  bool
}

// WriteMaster writes the RFC 8216 multivariant playlist for res, with
// the rung playlists at the URIs of RungResult.Playlist (so the master
// lives in the output directory's root) and one SUBTITLES group "subs".
func WriteMaster(res *Result, subs []SubtitleTrack) []byte {
	var b strings.Builder
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	if len(subs) > 0 {
		b.WriteString("\n")
	}
	for _, s := range subs {
		def := "NO"
		if s.Default {
			def = "YES"
		}
		name := s.Name
		if name == "" {
			name = LanguageName(s.Language)
		}
		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",LANGUAGE=\"%s\",NAME=\"%s\",DEFAULT=%s,AUTOSELECT=YES,URI=\"%s\"\n",
			quoteSafe(s.Language), quoteSafe(name), def, quoteSafe(s.URI))
	}
	for _, r := range res.Rungs {
		b.WriteString("\n")
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS=\"%s\",RESOLUTION=%dx%d,FRAME-RATE=%.3f",
			r.Bandwidth, r.AverageBandwidth, r.Codecs, r.Width, r.Height, r.FrameRate)
		if len(subs) > 0 {
			b.WriteString(`,SUBTITLES="subs"`)
		}
		b.WriteString("\n" + r.Playlist + "\n")
	}
	return []byte(b.String())
}

// quoteSafe drops what a quoted-string may not contain (RFC 8216 §4.2).
func quoteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
}

// WriteSubtitlePlaylist writes the media playlist of one caption track:
// a single WebVTT segment covering the whole statement.
func WriteSubtitlePlaylist(durationSeconds float64, vttURI string) []byte {
	td := max(int(math.Ceil(durationSeconds)), 1)
	return fmt.Appendf(nil, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:%.3f,\n%s\n#EXT-X-ENDLIST\n",
		td, durationSeconds, vttURI)
}
