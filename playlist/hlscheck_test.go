package playlist

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// A small RFC 8216 checker for the playlists this package writes.

type mediaInfo struct {
	target          int
	segments        []segInfo
	discontinuities []int // index of the segment that follows each one
	maps            []string
	total           float64
}

type segInfo struct {
	uri      string
	duration float64
	mapURI   string // the EXT-X-MAP in force
	disc     int    // discontinuity sequence
}

type variantInfo struct {
	attrs map[string]string
	uri   string
}

type masterInfo struct {
	variants []variantInfo
	media    []map[string]string
}

// parseAttrs parses an attribute-list (RFC 8216 4.2).
func parseAttrs(s string) (map[string]string, error) {
	m := map[string]string{}
	for s != "" {
		name, rest, ok := strings.Cut(s, "=")
		if !ok || name == "" || strings.ToUpper(name) != name {
			return nil, fmt.Errorf("bad attribute name in %q", s)
		}
		if _, dup := m[name]; dup {
			return nil, fmt.Errorf("attribute %s twice", name)
		}
		var val string
		if strings.HasPrefix(rest, `"`) {
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted string in %q", s)
			}
			val = rest[:end+2]
			rest = rest[end+2:]
		} else {
			val, rest, _ = strings.Cut(rest, ",")
			rest = "," + rest
			if rest == "," {
				rest = ""
			}
		}
		m[name] = val
		if rest != "" {
			if rest[0] != ',' {
				return nil, fmt.Errorf("expected comma after %s in %q", name, s)
			}
			rest = rest[1:]
			if rest == "" {
				return nil, fmt.Errorf("trailing comma in %q", s)
			}
		}
		s = rest
	}
	return m, nil
}

func unquote(v string) string { return strings.Trim(v, `"`) }

// checkMedia validates a VOD media playlist.
func checkMedia(text string) (*mediaInfo, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) == 0 || lines[0] != "#EXTM3U" {
		return nil, fmt.Errorf("first line is not #EXTM3U")
	}
	info := &mediaInfo{target: -1}
	once := map[string]bool{}
	var version, ptype string
	var independent, endlist, discSeqSeen bool
	var pendingDur = -1.0
	var curMap string
	disc := 0
	discPending := false
	for i, l := range lines[1:] {
		n := i + 2
		if endlist {
			return nil, fmt.Errorf("line %d: content after EXT-X-ENDLIST", n)
		}
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "#EXT") {
			tag, val, _ := strings.Cut(l, ":")
			switch tag {
			case "#EXT-X-VERSION", "#EXT-X-TARGETDURATION", "#EXT-X-MEDIA-SEQUENCE", "#EXT-X-DISCONTINUITY-SEQUENCE", "#EXT-X-PLAYLIST-TYPE", "#EXT-X-INDEPENDENT-SEGMENTS":
				if once[tag] {
					return nil, fmt.Errorf("line %d: %s twice", n, tag)
				}
				once[tag] = true
				if len(info.segments) > 0 || pendingDur >= 0 {
					return nil, fmt.Errorf("line %d: playlist tag %s after the first segment", n, tag)
				}
			}
			switch tag {
			case "#EXT-X-VERSION":
				version = val
			case "#EXT-X-TARGETDURATION":
				t, err := strconv.Atoi(val)
				if err != nil || t < 0 {
					return nil, fmt.Errorf("line %d: bad target duration %q", n, val)
				}
				info.target = t
			case "#EXT-X-MEDIA-SEQUENCE":
				if val != "0" {
					return nil, fmt.Errorf("line %d: media sequence %s", n, val)
				}
			case "#EXT-X-DISCONTINUITY-SEQUENCE":
				if val != "0" {
					return nil, fmt.Errorf("line %d: discontinuity sequence %s", n, val)
				}
				discSeqSeen = true
			case "#EXT-X-PLAYLIST-TYPE":
				ptype = val
			case "#EXT-X-INDEPENDENT-SEGMENTS":
				independent = true
			case "#EXT-X-MAP":
				a, err := parseAttrs(val)
				if err != nil {
					return nil, fmt.Errorf("line %d: %v", n, err)
				}
				if unquote(a["URI"]) == "" {
					return nil, fmt.Errorf("line %d: EXT-X-MAP without URI", n)
				}
				if pendingDur >= 0 {
					return nil, fmt.Errorf("line %d: EXT-X-MAP between EXTINF and its URI", n)
				}
				curMap = unquote(a["URI"])
				info.maps = append(info.maps, curMap)
				discPending = false
			case "#EXT-X-DISCONTINUITY":
				if val != "" || pendingDur >= 0 {
					return nil, fmt.Errorf("line %d: misplaced EXT-X-DISCONTINUITY", n)
				}
				if len(info.segments) == 0 {
					return nil, fmt.Errorf("line %d: discontinuity before the first segment", n)
				}
				disc++
				info.discontinuities = append(info.discontinuities, len(info.segments))
				discPending = true
			case "#EXTINF":
				d, _, _ := strings.Cut(val, ",")
				f, err := strconv.ParseFloat(d, 64)
				if err != nil || f < 0 || !strings.Contains(val, ",") {
					return nil, fmt.Errorf("line %d: bad EXTINF %q", n, val)
				}
				if pendingDur >= 0 {
					return nil, fmt.Errorf("line %d: EXTINF without URI before it", n)
				}
				pendingDur = f
			case "#EXT-X-ENDLIST":
				endlist = true
			default:
				return nil, fmt.Errorf("line %d: unexpected tag %s in a media playlist", n, tag)
			}
			continue
		}
		if strings.HasPrefix(l, "#") {
			continue // comment
		}
		if pendingDur < 0 {
			return nil, fmt.Errorf("line %d: URI without EXTINF", n)
		}
		if discPending && len(info.maps) > 0 {
			return nil, fmt.Errorf("line %d: no EXT-X-MAP after the discontinuity", n)
		}
		info.segments = append(info.segments, segInfo{uri: l, duration: pendingDur, mapURI: curMap, disc: disc})
		info.total += pendingDur
		pendingDur = -1
	}
	switch {
	case version != "7":
		return nil, fmt.Errorf("EXT-X-VERSION is %q, want 7", version)
	case info.target < 0:
		return nil, fmt.Errorf("no EXT-X-TARGETDURATION")
	case ptype != "VOD":
		return nil, fmt.Errorf("EXT-X-PLAYLIST-TYPE is %q", ptype)
	case !endlist:
		return nil, fmt.Errorf("no EXT-X-ENDLIST")
	case !independent:
		return nil, fmt.Errorf("no EXT-X-INDEPENDENT-SEGMENTS")
	case !discSeqSeen:
		return nil, fmt.Errorf("no EXT-X-DISCONTINUITY-SEQUENCE")
	case pendingDur >= 0:
		return nil, fmt.Errorf("EXTINF without URI at the end")
	}
	maxRounded := 0
	for _, s := range info.segments {
		r := int(math.Round(s.duration))
		if r > info.target {
			return nil, fmt.Errorf("segment %s: EXTINF %g rounds above the target duration %d", s.uri, s.duration, info.target)
		}
		maxRounded = max(maxRounded, r)
	}
	if len(info.segments) > 0 && maxRounded != info.target && !(maxRounded == 0 && info.target == 1) {
		return nil, fmt.Errorf("target duration %d is not the largest rounded EXTINF %d", info.target, maxRounded)
	}
	return info, nil
}

// checkMaster validates a multivariant playlist.
func checkMaster(text string) (*masterInfo, error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) == 0 || lines[0] != "#EXTM3U" {
		return nil, fmt.Errorf("first line is not #EXTM3U")
	}
	info := &masterInfo{}
	var pending map[string]string
	version := ""
	groups := map[string]bool{}
	names := map[string]bool{}
	for i, l := range lines[1:] {
		n := i + 2
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "#EXT") {
			tag, val, _ := strings.Cut(l, ":")
			if pending != nil {
				return nil, fmt.Errorf("line %d: tag between EXT-X-STREAM-INF and its URI", n)
			}
			switch tag {
			case "#EXT-X-VERSION":
				version = val
			case "#EXT-X-INDEPENDENT-SEGMENTS":
			case "#EXT-X-MEDIA":
				a, err := parseAttrs(val)
				if err != nil {
					return nil, fmt.Errorf("line %d: %v", n, err)
				}
				for _, req := range []string{"TYPE", "GROUP-ID", "NAME"} {
					if a[req] == "" {
						return nil, fmt.Errorf("line %d: EXT-X-MEDIA without %s", n, req)
					}
				}
				if a["TYPE"] == "SUBTITLES" && a["URI"] == "" {
					return nil, fmt.Errorf("line %d: SUBTITLES without URI", n)
				}
				if a["AUTOSELECT"] == "NO" && a["DEFAULT"] == "YES" {
					return nil, fmt.Errorf("line %d: DEFAULT=YES needs AUTOSELECT=YES", n)
				}
				key := a["GROUP-ID"] + "/" + a["NAME"]
				if names[key] {
					return nil, fmt.Errorf("line %d: NAME %s twice in a group", n, a["NAME"])
				}
				names[key] = true
				groups[unquote(a["GROUP-ID"])] = true
				info.media = append(info.media, a)
			case "#EXT-X-STREAM-INF":
				a, err := parseAttrs(val)
				if err != nil {
					return nil, fmt.Errorf("line %d: %v", n, err)
				}
				if _, err := strconv.Atoi(a["BANDWIDTH"]); err != nil {
					return nil, fmt.Errorf("line %d: BANDWIDTH %q", n, a["BANDWIDTH"])
				}
				if g := a["SUBTITLES"]; g != "" && !groups[unquote(g)] {
					return nil, fmt.Errorf("line %d: SUBTITLES group %s not defined before", n, g)
				}
				pending = a
			default:
				return nil, fmt.Errorf("line %d: unexpected tag %s in a multivariant playlist", n, tag)
			}
			continue
		}
		if strings.HasPrefix(l, "#") {
			continue
		}
		if pending == nil {
			return nil, fmt.Errorf("line %d: URI without EXT-X-STREAM-INF", n)
		}
		info.variants = append(info.variants, variantInfo{attrs: pending, uri: l})
		pending = nil
	}
	if version != "7" {
		return nil, fmt.Errorf("EXT-X-VERSION is %q", version)
	}
	if len(info.variants) == 0 {
		return nil, fmt.Errorf("no variant")
	}
	return info, nil
}
