package media

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/uprinfo/presession/i18n"
)

// TimestampMap is the WebVTT header line that ties cue time 0 to media
// time 0. ffmpeg's fMP4 segments start at decode time 0 (tfdt 0), so the
// mapping is the identity; HLS clients (hls.js, Safari) expect the line.
const TimestampMap = "X-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000"

// MaxCaptionBytes is the largest caption file ParseCaptions accepts.
const MaxCaptionBytes = 1 << 20

type langText struct{ name, pending string }

// languages are the session languages we know how to name; others get
// their code as name and English placeholder text.
func languages() map[string]langText {
	return map[string]langText{
		"en": {"English", "Captions are being prepared"},
		"fr": {"Français", "Sous-titres en préparation"},
		"es": {"Español", "Subtítulos en preparación"},
		"ar": {"العربية", "الترجمة قيد الإعداد"},
		"ru": {"Русский", "Субтитры готовятся"},
		"zh": {"中文", "字幕正在准备中"},
		"pt": {"Português", "Legendas em preparação"},
		"de": {"Deutsch", "Untertitel in Vorbereitung"},
	}
}

func lookupLang(lang string) (langText, bool) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	l, ok := languages()[base]
	return l, ok
}

// LanguageName returns the language's name in itself ("Français"), for
// the NAME of an HLS rendition; an unknown code is returned as is.
func LanguageName(lang string) string {
	if l, ok := lookupLang(lang); ok {
		return l.name
	}
	return lang
}

// PlaceholderVTT is the caption track a statement has until staff upload
// real captions: a first cue naming the speaker and organisation, then
// one saying, in the track's language, that captions are pending. The
// cues cover the whole duration.
func PlaceholderVTT(lang string, durationSeconds float64, speaker, organisation string) []byte {
	l, ok := lookupLang(lang)
	if !ok {
		l, _ = lookupLang("en")
	}
	d := math.Max(durationSeconds, 0.001)
	first := math.Min(5, d/2)
	who := strings.TrimSpace(speaker)
	if org := strings.TrimSpace(organisation); org != "" {
		if who != "" {
			who += " — "
		}
		who += org
	}
	var b strings.Builder
	b.WriteString("WEBVTT\n" + TimestampMap + "\n\n")
	if who != "" {
		fmt.Fprintf(&b, "1\n%s --> %s\n%s\n\n", vttTime(0), vttTime(first), vttEscape(who))
	} else {
		first = 0
	}
	fmt.Fprintf(&b, "2\n%s --> %s\n%s\n", vttTime(first), vttTime(d), vttEscape(l.pending))
	return []byte(b.String())
}

func vttEscape(s string) string {
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", " ", "\n", " ").Replace(s)
	return s
}

// CaptionError is a caption file ParseCaptions refuses; Line is 1-based,
// 0 when the problem is the whole file.
type CaptionError struct {
	Line   int
	Reason string // English, without the line
	// Key names the message of the i18n catalogue that says Error() — the
	// line included — in the reader's language ("reject.caption.order"),
	// and Args are its arguments, already written out, as a Rejection's.
	Key  string
	Args []string
}

func (e *CaptionError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return e.Reason
}

// captionErr returns the error whose English reason is format with args;
// format is the English message of key in the catalogue, word for word,
// after its "line %s: " when line > 0 (TestCaptionErrorMessages holds the
// two together).
func captionErr(line int, key, format string, args ...string) *CaptionError {
	reason, _ := i18n.Reason(key, format, args...)
	if line > 0 {
		args = append([]string{strconv.Itoa(line)}, args...)
	}
	return &CaptionError{Line: line, Reason: reason, Key: key, Args: args}
}

type cue struct {
	line       int
	id         string
	start, end float64
	settings   string
	text       []string
}

var (
	timingRe = regexp.MustCompile(`^\s*(\S+)\s+-->\s+(\S+)(.*)$`)
	timeRe   = regexp.MustCompile(`^(?:(\d+):)?([0-5]?\d):([0-5]\d)(?:[.,](\d{1,3}))?$`)
	fontRe   = regexp.MustCompile(`(?i)</?font[^>]*>`)
	assRe    = regexp.MustCompile(`\{\\[^}]*\}`)
)

// ParseCaptions accepts a WebVTT or SRT caption file for a statement of
// maxDuration seconds and returns it as WebVTT (SRT converted: header
// added, indices dropped, "," → "."). Cues must end after they start,
// not start after the statement ends (1 s tolerance), and come in time
// order (small overlaps are sorted); the error names the line.
//
// It is one function because it is one pass of a line-oriented parser whose
// state (line number, the cue being read) every branch shares.
func ParseCaptions(data []byte, maxDuration float64) ([]byte, error) {
	if len(data) > MaxCaptionBytes {
		return nil, captionErr(0, "reject.caption.large", "the caption file is %s KiB; at most %s KiB is accepted", strconv.Itoa(len(data)/1024), strconv.Itoa(MaxCaptionBytes/1024))
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return nil, captionErr(0, "reject.caption.utf8", "the caption file is not UTF-8 text — please save it as UTF-8 and upload it again")
	}
	text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(text, "\n")
	vtt := len(lines) > 0 && (lines[0] == "WEBVTT" || strings.HasPrefix(lines[0], "WEBVTT ") || strings.HasPrefix(lines[0], "WEBVTT\t"))
	i := 0
	if vtt { // skip the header block
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			i++
		}
	}
	var cues []cue
	for i < len(lines) {
		if strings.TrimSpace(lines[i]) == "" {
			i++
			continue
		}
		// A block: lines up to the next blank line.
		start := i
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			i++
		}
		block := lines[start:i]
		if vtt && (strings.HasPrefix(block[0], "NOTE") || block[0] == "STYLE" || block[0] == "REGION") {
			continue
		}
		c := cue{}
		t := 0
		if !strings.Contains(block[0], "-->") {
			if len(block) < 2 || !strings.Contains(block[1], "-->") {
				return nil, captionErr(start+1, "reject.caption.timing_missing", "expected a cue timing like \"00:00:01.000 --> 00:00:04.000\", found %q", clip(block[0]))
			}
			if vtt {
				c.id = block[0]
			}
			t = 1
		}
		c.line = start + t + 1
		m := timingRe.FindStringSubmatch(block[t])
		if m == nil {
			return nil, captionErr(c.line, "reject.caption.timing", "cannot read the cue timing %q", clip(block[t]))
		}
		var ok bool
		if c.start, ok = parseCueTime(m[1]); !ok {
			return nil, captionErr(c.line, "reject.caption.start", "cannot read the start time %q", m[1])
		}
		if c.end, ok = parseCueTime(m[2]); !ok {
			return nil, captionErr(c.line, "reject.caption.end", "cannot read the end time %q", m[2])
		}
		if vtt {
			c.settings = strings.TrimSpace(m[3])
		}
		if c.end <= c.start {
			return nil, captionErr(c.line, "reject.caption.ends_first", "the cue ends (%s) before it starts (%s)", vttTime(c.end), vttTime(c.start))
		}
		if maxDuration > 0 && c.start >= maxDuration+1 {
			return nil, captionErr(c.line, "reject.caption.after_end", "the cue starts at %s, after the end of the video (%s)", vttTime(c.start), vttTime(maxDuration))
		}
		if maxDuration > 0 && c.end > maxDuration+1 {
			c.end = maxDuration
			if c.end <= c.start { // a cue starting within the tolerance past the end
				c.end = maxDuration + 1
			}
		}
		if n := len(cues); n > 0 && c.start < cues[n-1].start-0.5 {
			return nil, captionErr(c.line, "reject.caption.order", "the cue starts at %s, before the previous cue (%s) — cues must be in time order", vttTime(c.start), vttTime(cues[n-1].start))
		}
		for _, l := range block[t+1:] {
			if !vtt {
				l = strings.TrimSpace(assRe.ReplaceAllString(fontRe.ReplaceAllString(l, ""), ""))
			}
			if strings.Contains(l, "-->") {
				return nil, captionErr(c.line, "reject.caption.arrow", "the cue text contains \"-->\" (is a blank line missing before the next cue?)")
			}
			c.text = append(c.text, l)
		}
		cues = append(cues, c)
	}
	if len(cues) == 0 {
		return nil, captionErr(0, "reject.caption.empty", "the file contains no captions — please upload a WebVTT (.vtt) or SubRip (.srt) file")
	}
	sort.SliceStable(cues, func(a, b int) bool { return cues[a].start < cues[b].start })
	var b strings.Builder
	b.WriteString("WEBVTT\n" + TimestampMap + "\n")
	for _, c := range cues {
		b.WriteString("\n")
		if c.id != "" {
			b.WriteString(c.id + "\n")
		}
		b.WriteString(vttTime(c.start) + " --> " + vttTime(c.end))
		if c.settings != "" {
			b.WriteString(" " + c.settings)
		}
		b.WriteString("\n")
		for _, l := range c.text {
			b.WriteString(l + "\n")
		}
	}
	return []byte(b.String()), nil
}

func parseCueTime(s string) (float64, bool) {
	m := timeRe.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	h, _ := strconv.Atoi(m[1])
	mi, _ := strconv.Atoi(m[2])
	se, _ := strconv.Atoi(m[3])
	ms := 0
	if m[4] != "" {
		frac := m[4] + strings.Repeat("0", 3-len(m[4]))
		ms, _ = strconv.Atoi(frac)
	}
	return float64(h*3600+mi*60+se) + float64(ms)/1000, true
}

func clip(s string) string {
	if utf8.RuneCountInString(s) > 60 {
		r := []rune(s)
		return string(r[:60]) + "…"
	}
	return s
}

// CountCues is the number of cues of a WebVTT file ParseCaptions returned
// (whose cue text never holds "-->", so each timing line is one cue).
func CountCues(vtt []byte) int {
	n := 0
	for _, l := range strings.Split(string(vtt), "\n") {
		if strings.Contains(l, " --> ") {
			n++
		}
	}
	return n
}
