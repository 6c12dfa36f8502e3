package playlist

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// emptyVTT is served for a statement without a caption in a language, so
// the subtitle timeline still covers it.
const emptyVTT = "WEBVTT\n"

// SegmentVTT returns a statement's WebVTT as an HLS subtitle segment: its
// X-TIMESTAMP-MAP (replaced if present) ties cue time 0 to the media time
// mpegts (90 kHz) at which the statement's fMP4 media starts.
func SegmentVTT(text string, mpegts int64) string {
	text = strings.TrimPrefix(text, "\ufeff")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if !strings.HasPrefix(text, "WEBVTT") {
		text = emptyVTT
	}
	head, body, _ := strings.Cut(text, "\n\n")
	lines := strings.Split(head, "\n")
	out := make([]string, 0, len(lines)+1)
	out = append(out, lines[0], fmt.Sprintf("X-TIMESTAMP-MAP=MPEGTS:%d,LOCAL:00:00:00.000", mpegts))
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "X-TIMESTAMP-MAP") && l != "" {
			out = append(out, l)
		}
	}
	s := strings.Join(out, "\n") + "\n"
	if body != "" {
		s += "\n" + body
	}
	return s
}

// stitchVTT appends the cues of one statement's WebVTT to b, shifted by
// offset seconds and clipped to [0, span): the whole-stream caption track
// that a <track> element on the continuous stream shows.
func stitchVTT(b *strings.Builder, text string, n int, offset, span float64) {
	text = strings.ReplaceAll(strings.TrimPrefix(text, "\ufeff"), "\r\n", "\n")
	blocks := strings.Split(text, "\n\n")
	for i, blk := range blocks {
		blk = strings.Trim(blk, "\n")
		if i == 0 || blk == "" || strings.HasPrefix(blk, "NOTE") || strings.HasPrefix(blk, "STYLE") || strings.HasPrefix(blk, "REGION") {
			continue // header and non-cue blocks
		}
		lines := strings.Split(blk, "\n")
		t := 0
		if !strings.Contains(lines[0], "-->") {
			t = 1 // cue identifier
		}
		if t >= len(lines) {
			continue
		}
		from, rest, ok := strings.Cut(lines[t], "-->")
		if !ok {
			continue
		}
		rest = strings.TrimSpace(rest)
		to, settings, _ := strings.Cut(rest, " ")
		start, ok1 := parseVTTTime(strings.TrimSpace(from))
		end, ok2 := parseVTTTime(to)
		if !ok1 || !ok2 || start >= span || end <= start {
			continue
		}
		end = min(end, span)
		fmt.Fprintf(b, "\ns%d-%d\n%s --> %s", n, i, vttTime(offset+start), vttTime(offset+end))
		if settings = strings.TrimSpace(settings); settings != "" {
			b.WriteString(" " + settings)
		}
		b.WriteByte('\n')
		for _, l := range lines[t+1:] {
			if l != "" {
				b.WriteString(l)
				b.WriteByte('\n')
			}
		}
	}
}

// parseVTTTime parses "hh:mm:ss.ttt" or "mm:ss.ttt".
func parseVTTTime(s string) (float64, bool) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	var t float64
	for i, p := range parts {
		last := i == len(parts)-1
		if last {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil || f < 0 || f >= 60 || !strings.Contains(p, ".") {
				return 0, false
			}
			t = t*60 + f
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || (i > 0 && v >= 60) {
			return 0, false
		}
		t = t*60 + float64(v)
	}
	return t, true
}

// vttTime formats seconds as hh:mm:ss.ttt.
func vttTime(s float64) string {
	ms := int64(math.Round(s * 1000))
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}
