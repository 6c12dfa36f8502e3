package media

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
)

// How Run finds damage (see the package doc): it reads ffmpeg's log line
// by line, with each line's level (-v repeat+level+info), and places
// every decoder error between the clock lines around it. An error logged
// between two clock lines happened between those two times — even when
// no frame came out in between, as when a damaged stretch is dropped
// whole.

// ClockFilter is the instance name of the graph's clock (showinfo@clock);
// its log lines carry the decoded frames' pts_time.
const ClockFilter = "showinfo@clock"

// ClockStep is the clock's resolution in seconds of media time: it logs
// the first decoded frame at or after each step.
const ClockStep = 0.5

// DamageMergeGap joins damaged stretches closer than this many seconds:
// to a person watching, two glitches a second apart are one damaged part.
const DamageMergeGap = 3.0

// MostlyDamaged is the share of a statement that may be damaged before it
// is refused rather than published with a warning. Past half, a viewer
// loses most of what was said and staff can repair none of it; only the
// organisation, from its original recording, can. Below it, the
// statement may still be worth publishing, and staff decide after
// watching the damaged parts the warning names.
const MostlyDamaged = 0.5

// maxSpans bounds the stretches a Damage keeps (and a statement's
// record); past it, the merge gap widens until they fit, so the spans
// still cover every error.
const maxSpans = 50

// warningSpans is how many stretches the warning names; the rest are
// counted in its total.
const warningSpans = 6

// Span is a stretch of media time, in seconds.
type Span struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// Damage is what the decoders could not read during a run: the stretches
// of media time where they reported errors (the picture or sound there is
// garbled, frozen or missing), merged and in order. The zero Damage is a
// clean run.
type Damage struct {
	Spans  []Span `json:"spans,omitempty"`
	Errors int    `json:"errors,omitempty"` // decoder error lines
}

// Seconds is the total length of the damaged stretches.
func (d Damage) Seconds() float64 {
	var s float64
	for _, sp := range d.Spans {
		s += sp.End - sp.Start
	}
	return s
}

// Mostly reports whether more than MostlyDamaged of duration is damaged.
func (d Damage) Mostly(duration float64) bool {
	return duration > 0 && d.Seconds() > MostlyDamaged*duration
}

// Rejection is the reason a mostly damaged statement fails.
func (d Damage) Rejection(duration float64) *Rejection {
	return reject(RejectDamaged, "reject.damaged_most", "most of the file could not be decoded: the picture or sound is damaged for %s of %s — please export it again from the original recording and upload it",
		clockUp(d.Seconds()), Clock(duration))
}

// Warning is what staff are told about a statement published with
// damage: its English text and the catalogue message that says it in the
// reader's language. Its arguments are the stretches ("0:09–0:15, 1:02–1:05",
// the first few) and their total ("0:09"), which read the same in every
// language.
func (d Damage) Warning() (string, presession.Message) {
	parts := make([]string, 0, min(len(d.Spans), warningSpans+1))
	for i, sp := range d.Spans {
		if i == warningSpans {
			parts = append(parts, "…")
			break
		}
		from, to := Clock(sp.Start), clockUp(sp.End)
		if from == to {
			parts = append(parts, from)
		} else {
			parts = append(parts, from+"–"+to)
		}
	}
	return i18n.Reason("warning.damaged", "the picture or sound is damaged at %s (%s in all); watch those parts before approving the statement",
		strings.Join(parts, ", "), clockUp(d.Seconds()))
}

// Missing returns d with the end of the statement that the outputs lack
// added: what is past got (the duration of the outputs) when it falls
// short of duration, the source's, by more than a second and 2% (the
// slack of a whole run: the last frame, the audio padding). It is for
// deciding whether a statement is mostly damaged.
func (d Damage) Missing(got, duration float64) Damage {
	if duration <= 0 || got >= duration-(1+0.02*duration) {
		return d
	}
	d.Spans = merge(append(slices.Clone(d.Spans), Span{Start: max(got, 0), End: duration}), DamageMergeGap, duration)
	return d
}

// clockUp is Clock rounded up, so that a damaged stretch never reads
// shorter than it is and a short one still reads as a second.
func clockUp(seconds float64) string { return Clock(math.Ceil(seconds - 1e-6)) }

// merge sorts spans and joins those closer than gap, clamped to [0, end]
// (end <= 0: not clamped above).
func merge(spans []Span, gap, end float64) []Span {
	spans = slices.Clone(spans)
	slices.SortFunc(spans, func(a, b Span) int { return cmp.Compare(a.Start, b.Start) })
	var out []Span
	for _, s := range spans {
		s.Start = max(s.Start, 0)
		if end > 0 {
			s.End = min(s.End, end)
		}
		if s.End < s.Start {
			s.End = s.Start
		}
		if n := len(out); n > 0 && s.Start-out[n-1].End < gap {
			out[n-1].End = max(out[n-1].End, s.End)
			continue
		}
		out = append(out, s)
	}
	return out
}

// logLine is one line of ffmpeg's log written with -v level+…:
// "[h264 @ 0x55c0615bd2c0] [error] error while decoding MB 32 19".
type logLine struct {
	context string // "h264", "showinfo@clock", "" for ffmpeg's own lines
	level   string // "error", "warning", "info", …; "" when untagged
	msg     string
}

var logLevels = []string{"quiet", "panic", "fatal", "error", "warning", "info", "verbose", "debug", "trace"}

// parseLogLine splits the context and level prefixes off a log line. A
// line with nested contexts ("[swscaler @ 0x1] [swscaler @ 0x2] …") keeps
// the innermost.
func parseLogLine(s string) logLine {
	var l logLine
	for strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			break
		}
		tok := s[1:end]
		if name, _, ok := strings.Cut(tok, " @ "); ok {
			l.context = name
		} else if slices.Contains(logLevels, tok) {
			l.level = tok
			s = s[end+1:]
			break
		} else {
			break
		}
		s = strings.TrimPrefix(s[end+1:], " ")
	}
	l.msg = strings.TrimPrefix(s, " ")
	return l
}

// severe reports an error level or worse.
func (l logLine) severe() bool {
	return l.level == "error" || l.level == "fatal" || l.level == "panic"
}

// notable reports a line worth keeping in a failed run's stderr tail: a
// warning or worse, or one without a level (ffmpeg run without the level
// flag).
func (l logLine) notable() bool {
	return l.level == "" || l.severe() || l.level == "warning"
}

// outputSide reports a log context that is ours, not the source's: the
// encoders, muxers, scalers and filters of the plan, and the protocols
// that read the source (their trouble is a network's, not damage; when it
// is not overcome, ffmpeg says so in a line naming the input, which
// damageLog.readError catches).
func outputSide(ctx string) bool {
	switch ctx {
	case "libx264", "mjpeg", "hls", "mp4", "image2", "null", "wrapped_avframe", "swscaler", "AVFilterGraph",
		"http", "https", "tcp", "tls", "file", "crypto":
		return true
	}
	return strings.HasPrefix(ctx, "Parsed_") || strings.HasPrefix(ctx, "graph ") || strings.Contains(ctx, "@")
}

// damageLog follows one run's log: the clock's times, the decoder errors
// between them, and a failure to read an input.
type damageLog struct {
	inputs  []string // the run's -i arguments
	clock   float64  // the last clock time
	pending int      // decoder errors since that clock line
	spans   []Span
	errors  int
	// readError is the line in which ffmpeg reports that it could not
	// read an input (it then ends the input and exits 0, with outputs
	// cut short).
	readError string
}

func newDamageLog(args []string) *damageLog {
	d := &damageLog{}
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "-i" {
			d.inputs = append(d.inputs, args[i+1])
		}
	}
	return d
}

// line takes one log line and returns it parsed.
func (d *damageLog) line(s string) logLine {
	l := parseLogLine(s)
	switch {
	case l.context == ClockFilter:
		if t, ok := ptsTime(l.msg); ok {
			if d.pending > 0 {
				d.spans = append(d.spans, Span{Start: min(d.clock, t), End: max(d.clock, t)})
				d.pending = 0
			}
			d.clock = t
		}
	case !l.severe():
	case l.context == "" && d.isReadError(l.msg):
		if d.readError == "" {
			d.readError = l.msg
		}
	case outputSide(l.context):
		// Trouble of ours or of the network, not damage.
	default:
		d.pending++
		d.errors++
	}
	return l
}

// isReadError reports ffmpeg's line for an input it could not read
// further ("URL: Input/output error"). The same line saying the data is
// invalid is a demuxer giving up on a damaged container: damage, to the
// end.
func (d *damageLog) isReadError(msg string) bool {
	for _, in := range d.inputs {
		if rest, ok := strings.CutPrefix(msg, in+": "); ok {
			return !strings.HasPrefix(rest, "Invalid data found")
		}
	}
	return false
}

// damage closes the log of a run over duration seconds: errors after the
// last clock line lie between it and the end.
func (d *damageLog) damage(duration float64) Damage {
	spans := d.spans
	if d.pending > 0 {
		spans = append(spans, Span{Start: d.clock, End: max(d.clock+ClockStep, duration)})
	}
	if len(spans) == 0 {
		return Damage{}
	}
	out := merge(spans, DamageMergeGap, duration)
	for gap := DamageMergeGap * 2; len(out) > maxSpans; gap *= 2 {
		out = merge(out, gap, duration)
	}
	return Damage{Spans: out, Errors: d.errors}
}

// ptsTime reads "pts_time:12.48" out of a showinfo line.
func ptsTime(msg string) (float64, bool) {
	_, v, ok := strings.Cut(msg, "pts_time:")
	if !ok {
		return 0, false
	}
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		v = v[:i]
	}
	t, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(t) || math.IsInf(t, 0) {
		return 0, false
	}
	return t, true
}
