package playlist

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/uprinfo/presession"
)

// A Premiere is a country's stitched stream broadcast from a moment: the
// same build, the same segments, listed by the clock. Its media and
// subtitle playlists are HLS event playlists (EXT-X-PLAYLIST-TYPE:EVENT)
// that list each segment once its time in the premiere has come (its start
// is at or before now), every segment with its EXT-X-PROGRAM-DATE-TIME, so
// that every viewer at the live edge sees the same moment whenever they
// joined; EXT-X-ENDLIST is added once the last segment is listed. Nothing
// is transcoded again.
//
// A Premiere is built once per build and start (NewPremiere, which does
// the parsing and writing); File then only finds, by binary search, how
// much of each precomputed text is listed at now. It does no I/O, and
// its output depends only on the build, the start and now.
type Premiere struct {
	Start    time.Time
	Duration float64 // seconds: the build's total
	Version  string  // the build's
	master   string
	files    map[string]*liveText
	items    []Item
	cues     map[string]CueSource
	captions map[string]string // "captions/{lang}.vtt": the whole-stream tracks
}

// liveText is one live playlist: its header, its body with every segment,
// and where in the body each segment's lines end.
type liveText struct {
	head string
	body string
	at   []float64 // segment i's start in the premiere, seconds, ascending
	cut  []int     // body[:cut[i]] lists segments 0..i
	// lead is how long before its start a segment is listed: 0 for
	// media; a subtitle playlist's target duration for its segments (one
	// per statement, as long as the statement), since a player reloads a
	// live playlist only every target duration and would otherwise get a
	// statement's captions that long after the statement began.
	lead float64
}

// NewPremiere returns the premiere of res from start. A build without
// files (nothing approved) is EINVALID: there is nothing to premiere.
func NewPremiere(res *Result, start time.Time) (*Premiere, error) {
	master, ok := res.Files["master.m3u8"]
	if !ok {
		return nil, presession.Errorf(presession.EINVALID, "playlist: nothing to premiere: no statement is approved")
	}
	p := &Premiere{Start: start.UTC(), Duration: res.Playlist.Duration, Version: res.Version, master: master,
		files: map[string]*liveText{}, items: res.Playlist.Statements, cues: res.Cues}
	p.captions = map[string]string{}
	for name, text := range res.Files {
		if strings.HasPrefix(name, "captions/") && strings.HasSuffix(name, ".vtt") {
			p.captions[name] = text
		}
		if name == "master.m3u8" || !strings.HasSuffix(name, ".m3u8") {
			continue
		}
		lt, err := liveFrom(text, p.Start)
		if err != nil {
			return nil, fmt.Errorf("playlist: premiere of %s: %w", name, err)
		}
		if strings.HasPrefix(name, "subs/") {
			lt.lead = float64(targetDuration(lt.head))
		}
		p.files[name] = lt
	}
	return p, nil
}

// liveFrom turns a media or subtitle playlist of a build (VOD, as
// mediaPlaylist and subtitlePlaylist write them) into its live form from
// start.
func liveFrom(vod string, start time.Time) (*liveText, error) {
	lines := strings.Split(strings.TrimSuffix(vod, "\n"), "\n")
	var head, body strings.Builder
	lt := &liveText{}
	var pending []string // DISCONTINUITY, MAP: they go with the next segment
	t := 0.0
	inBody := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case l == "#EXT-X-PLAYLIST-TYPE:VOD":
			head.WriteString("#EXT-X-PLAYLIST-TYPE:EVENT\n")
		case !inBody && l != "#EXT-X-DISCONTINUITY" && !strings.HasPrefix(l, "#EXT-X-MAP:") && !strings.HasPrefix(l, "#EXTINF:"):
			head.WriteString(l + "\n")
		case l == "#EXT-X-ENDLIST":
		case l == "#EXT-X-DISCONTINUITY" || strings.HasPrefix(l, "#EXT-X-MAP:"):
			inBody = true
			pending = append(pending, l)
		case strings.HasPrefix(l, "#EXTINF:"):
			inBody = true
			d, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(l, "#EXTINF:"), ","), 64)
			if err != nil || i+1 >= len(lines) {
				return nil, fmt.Errorf("segment line %d: %q", i+1, l)
			}
			for _, p := range pending {
				body.WriteString(p + "\n")
			}
			pending = pending[:0]
			body.WriteString("#EXT-X-PROGRAM-DATE-TIME:")
			body.WriteString(ProgramDateTime(start, t))
			body.WriteString("\n" + l + "\n" + lines[i+1] + "\n")
			i++
			lt.at = append(lt.at, round6(t))
			lt.cut = append(lt.cut, body.Len())
			t += d
		default:
			return nil, fmt.Errorf("line %d: %q is not a line of a build's playlist", i+1, l)
		}
	}
	lt.head, lt.body = head.String(), body.String()
	return lt, nil
}

// ProgramDateTime is the EXT-X-PROGRAM-DATE-TIME of the moment offset
// seconds after start: UTC, in milliseconds.
func ProgramDateTime(start time.Time, offset float64) string {
	return start.Add(time.Duration(offset * float64(time.Second))).UTC().Format("2006-01-02T15:04:05.000Z")
}

// End is when the premiere's last segment ends.
func (p *Premiere) End() time.Time {
	return p.Start.Add(time.Duration(p.Duration * float64(time.Second)))
}

// File returns the live text of name ("master.m3u8", "{rung}.m3u8",
// "subs/{lang}.m3u8") at now; ok is false when the build has no such
// file. Before the start a media playlist lists no segment; a subtitle
// playlist lists each segment its target duration early (liveText.lead).
func (p *Premiere) File(name string, now time.Time) (text string, ok bool) {
	if name == "master.m3u8" {
		return p.master, true
	}
	lt, ok := p.files[name]
	if !ok {
		return "", false
	}
	elapsed := now.Sub(p.Start).Seconds() + lt.lead
	n := sort.Search(len(lt.at), func(i int) bool { return lt.at[i] > elapsed }) // segments whose start has come
	var b strings.Builder
	b.Grow(len(lt.head) + 16 + len(lt.body))
	b.WriteString(lt.head)
	if n > 0 {
		b.WriteString(lt.body[:lt.cut[n-1]])
	}
	if n == len(lt.at) {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return b.String(), true
}

// Ended reports whether every segment is listed at now: the playlists
// carry EXT-X-ENDLIST.
func (p *Premiere) Ended(now time.Time) bool {
	for _, lt := range p.files {
		if len(lt.at) > 0 && now.Sub(p.Start).Seconds() < lt.at[len(lt.at)-1] {
			return false
		}
	}
	return true
}

// Current returns the statement on air at now and its index; ok is false
// before the start and after the end.
func (p *Premiere) Current(now time.Time) (item Item, index int, ok bool) {
	elapsed := now.Sub(p.Start).Seconds()
	if elapsed < 0 || elapsed >= p.Duration {
		return Item{}, -1, false
	}
	i := sort.Search(len(p.items), func(i int) bool { return p.items[i].Start > elapsed }) - 1
	if i < 0 {
		return Item{}, -1, false
	}
	return p.items[i], i, true
}

// Items are the premiere's statements in order, with their start and
// span in it.
func (p *Premiere) Items() []Item { return p.items }

// TargetDuration is the premiere's EXT-X-TARGETDURATION, seconds: the
// longest of its media playlists' (0 when it has none). Subtitle
// playlists, one segment per statement, do not count.
func (p *Premiere) TargetDuration() int {
	best := 0
	for name, lt := range p.files {
		if strings.HasPrefix(name, "subs/") {
			continue
		}
		best = max(best, targetDuration(lt.head))
	}
	return best
}

// targetDuration reads EXT-X-TARGETDURATION from a playlist's header.
func targetDuration(head string) int {
	for _, l := range strings.Split(head, "\n") {
		if v, ok := strings.CutPrefix(l, "#EXT-X-TARGETDURATION:"); ok {
			if n, err := strconv.Atoi(v); err == nil {
				return n
			}
		}
	}
	return 0
}
