package media

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	ffmpeg "github.com/u2takey/ffmpeg-go"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
)

// The quality report is measured in the run that transcodes (see the
// package doc): a small picture branch taken off the smallest rung's
// scaled picture, and a sound branch taken off the source's sound before
// normalisation. Both only read; their filters log what they find, and
// Run reads it from the same log as the damage.

// Thresholds of the quality report.
const (
	// QualityFPS is the rate of the picture branch: ten frames a second
	// place a span to a tenth of a second, at a third of the work of 30.
	QualityFPS = 10
	// qualityLong is the long side of the picture branch, in pixels:
	// black, frozen and dark read the same on 160 px as on 1080p.
	qualityLong = 160

	// BlackMinSeconds is the shortest black stretch reported: a cut
	// through black of a few frames is editing, a second is a gap.
	BlackMinSeconds = 1.0
	// BlackPixel is blackdetect's pixel threshold (share of the luma
	// range): its default, below which a pixel looks black to a viewer.
	BlackPixel = 0.10
	// FreezeMinSeconds is the shortest frozen stretch reported: a person
	// holding still for a second is not a frozen picture; two seconds
	// without a single changed pixel is.
	FreezeMinSeconds = 2.0
	// FreezeNoiseDB is freezedetect's noise tolerance: its default, below
	// the noise of any camera, so only a picture that truly stopped counts.
	FreezeNoiseDB = -60
	// SilenceMinSeconds is the shortest silence reported: pauses in
	// speech last well under two seconds.
	SilenceMinSeconds = 2.0
	// SilenceDB is the level below which sound is silence: under the
	// room noise of any microphone that is switched on.
	SilenceDB = -50
	// QuietLUFS is the integrated loudness below which a source is too
	// quiet: normalisation to -16 LUFS then raises it by more than 14 dB,
	// and the room noise with it.
	QuietLUFS = -30.0
	// ClipWindow is the length of the windows the sound is checked for
	// clipping in, in seconds.
	ClipWindow = 0.1
	// ClipLevelDB is the peak level (dBFS) at which a window may be
	// clipped: full scale, after the conversion to integers that clamps
	// anything above it.
	ClipLevelDB = -0.01
	// ClipMinSeconds is the shortest clipped stretch reported: one full
	// scale window is a transient, a fifth of a second is distortion a
	// listener hears.
	ClipMinSeconds = 0.2
	// ClipMergeGap joins clipped windows closer than this, in seconds.
	ClipMergeGap = 1.0
	// AudioShortSeconds and AudioShortShare: the sound ends early when it
	// stops more than both before the picture (the end of a recording
	// may lose a second; a tenth of the statement in silence is missing
	// sound).
	AudioShortSeconds = 2.0
	AudioShortShare   = 0.1
	// StillDiff is the mean frame-to-frame luma difference (0-255) below
	// which the picture barely changes for the whole statement (a slide
	// or a photo): a person talking, even sitting still, moves more.
	StillDiff = 0.3
	// StillShare is the share of the statement frozen past which it is
	// reported as a still picture rather than as frozen stretches.
	StillShare = 0.9
	// DarkLuma is the mean luma (8-bit, video range 16-235) below which
	// the picture is very dark: a face at that level cannot be made out.
	DarkLuma = 40.0
)

// Quality instance names in the graph; their log lines carry what they
// measure. blackdetect, freezedetect and silencedetect log under their
// own names whatever the instance.
const (
	qEBUR128 = "ebur128@quality"
	qYAVG    = "metadata@yavg"
	qYDIF    = "metadata@ydif"
	qWindow  = "ametadata@window"
)

// qualityVideo is the picture branch: fed from a scaled picture, it ends
// in nothing (its output goes to the null muxer).
func (p Plan) qualityVideo(from *ffmpeg.Stream, w, h int) *ffmpeg.Stream {
	qw, qh := fitLong(w, h, qualityLong)
	return from.
		Filter("fps", ffmpeg.Args{strconv.Itoa(QualityFPS)}).
		Filter("scale", ffmpeg.Args{fmt.Sprintf("%d:%d", qw, qh)}).
		Filter("blackdetect", nil, ffmpeg.KwArgs{"d": qnum(BlackMinSeconds), "pix_th": qnum(BlackPixel)}).
		Filter("freezedetect", nil, ffmpeg.KwArgs{"d": qnum(FreezeMinSeconds), "n": strconv.Itoa(FreezeNoiseDB) + "dB"}).
		Filter("signalstats", nil).
		Filter(qYAVG, nil, ffmpeg.KwArgs{"mode": "print", "key": "lavfi.signalstats.YAVG"}).
		Filter(qYDIF, nil, ffmpeg.KwArgs{"mode": "print", "key": "lavfi.signalstats.YDIF"})
}

// qualityAudio is the sound branch, on the source's sound before
// normalisation: loudness, silences, then the peak level and flatness of
// every window (ClipWindow), which show clipping and where the sound
// ends.
func (p Plan) qualityAudio(from *ffmpeg.Stream) *ffmpeg.Stream {
	rate := p.AudioRate
	if rate <= 0 {
		rate = 48000
	}
	return from.
		Filter(qEBUR128, nil, ffmpeg.KwArgs{"peak": "true", "framelog": "verbose"}).
		Filter("silencedetect", nil, ffmpeg.KwArgs{"n": strconv.Itoa(SilenceDB) + "dB", "d": qnum(SilenceMinSeconds)}).
		Filter("asetnsamples", nil, ffmpeg.KwArgs{"n": strconv.Itoa(int(math.Round(float64(rate) * ClipWindow))), "p": "0"}).
		Filter("astats", nil, ffmpeg.KwArgs{"metadata": "1", "reset": "1", "measure_perchannel": "none", "measure_overall": "Peak_level+Flat_factor"}).
		Filter(qWindow, nil, ffmpeg.KwArgs{"mode": "print"})
}

func qnum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Measures is what the quality branches of one run logged.
type Measures struct {
	Black, Frozen, Silent, Clipped []Span
	// AudioEnd is where the sound ends (0: no sound branch ran).
	AudioEnd float64
	// Loudness is the last EBU R128 summary (nil: no sound branch ran).
	Loudness *presession.Loudness
	// Frames, LumaSum and DiffSum are the picture branch's frame count and
	// the sums of their mean luma and of their difference to the previous.
	Frames           int
	LumaSum, DiffSum float64
}

// qualityLog follows the quality branches' lines of a run's log.
type qualityLog struct {
	m                    Measures
	blackAt              float64
	freezeAt, silenceAt  float64
	inFreeze, inSilence  bool
	summary              bool // inside an ebur128 summary
	lufs, lra, peak      float64
	haveI, haveL, haveTP bool
	clipAt               []float64
	win                  window
}

// window is one ClipWindow of sound as the window branch logs it.
type window struct {
	open       bool
	at         float64
	peak, flat float64
}

// endWindow takes the window logged last, if any.
func (q *qualityLog) endWindow() {
	w := q.win
	if !w.open {
		return
	}
	q.m.AudioEnd = max(q.m.AudioEnd, w.at+ClipWindow)
	if w.peak >= ClipLevelDB && w.flat > 0 {
		q.clipAt = append(q.clipAt, w.at)
	}
	q.win = window{}
}

func newQualityLog() *qualityLog { return &qualityLog{} }

func (q *qualityLog) line(l logLine) {
	switch l.context {
	case "blackdetect":
		s, ok1 := field(l.msg, "black_start:")
		e, ok2 := field(l.msg, "black_end:")
		if ok1 && ok2 {
			q.m.Black = append(q.m.Black, Span{Start: s, End: e})
		}
	case "freezedetect":
		if t, ok := field(l.msg, "freeze_start:"); ok {
			q.freezeAt, q.inFreeze = t, true
		} else if t, ok := field(l.msg, "freeze_end:"); ok && q.inFreeze {
			q.m.Frozen = append(q.m.Frozen, Span{Start: q.freezeAt, End: t})
			q.inFreeze = false
		}
	case "silencedetect":
		if t, ok := field(l.msg, "silence_start:"); ok {
			q.silenceAt, q.inSilence = max(t, 0), true
		} else if t, ok := field(l.msg, "silence_end:"); ok && q.inSilence {
			q.m.Silent = append(q.m.Silent, Span{Start: q.silenceAt, End: t})
			q.inSilence = false
		}
	case qEBUR128:
		if strings.HasPrefix(l.msg, "Summary:") {
			// ffmpeg configures the graph twice: the last summary counts.
			q.summary, q.haveI, q.haveL, q.haveTP = true, false, false, false
		}
	case qYAVG:
		if v, ok := field(l.msg, "lavfi.signalstats.YAVG="); ok {
			q.m.Frames++
			q.m.LumaSum += v
		}
	case qYDIF:
		if v, ok := field(l.msg, "lavfi.signalstats.YDIF="); ok {
			q.m.DiffSum += v
		}
	case qWindow:
		if t, ok := field(l.msg, "pts_time:"); ok && strings.HasPrefix(l.msg, "frame:") {
			q.endWindow()
			q.win = window{open: true, at: t, peak: math.Inf(-1)}
		} else if v, ok := field(l.msg, "lavfi.astats.Overall.Peak_level="); ok {
			q.win.peak = v
		} else if v, ok := field(l.msg, "lavfi.astats.Overall.Flat_factor="); ok {
			q.win.flat = v
		}
	case "":
		if !q.summary || l.level != "" {
			return
		}
		msg := strings.TrimSpace(l.msg)
		if v, ok := field(msg, "I:"); ok && strings.HasPrefix(msg, "I:") {
			q.lufs, q.haveI = v, true
		} else if v, ok := field(msg, "LRA:"); ok && strings.HasPrefix(msg, "LRA:") {
			q.lra, q.haveL = v, true
		} else if v, ok := field(msg, "Peak:"); ok && strings.HasPrefix(msg, "Peak:") {
			q.peak, q.haveTP = v, true
			q.summary = false
			if q.haveI && q.haveL {
				q.m.Loudness = &presession.Loudness{Integrated: q.lufs, Range: q.lra, TruePeak: q.peak}
			}
		}
	}
}

// measures closes the log of a run over duration seconds: a freeze or a
// silence still open lasts to the end.
func (q *qualityLog) measures(duration float64) Measures {
	q.endWindow()
	m := q.m
	if q.inFreeze && duration > q.freezeAt {
		m.Frozen = append(m.Frozen, Span{Start: q.freezeAt, End: duration})
	}
	if q.inSilence && duration > q.silenceAt {
		m.Silent = append(m.Silent, Span{Start: q.silenceAt, End: duration})
	}
	var clip []Span
	for _, t := range q.clipAt {
		clip = append(clip, Span{Start: t, End: t + ClipWindow})
	}
	for _, s := range merge(clip, ClipMergeGap, duration) {
		if s.End-s.Start >= ClipMinSeconds-1e-6 {
			m.Clipped = append(m.Clipped, s)
		}
	}
	return m
}

// field reads the number after name in msg ("black_start:2.5 …").
func field(msg, name string) (float64, bool) {
	_, v, ok := strings.Cut(msg, name)
	if !ok {
		return 0, false
	}
	v = strings.TrimLeft(v, " ")
	if i := strings.IndexAny(v, " \t|"); i >= 0 {
		v = v[:i]
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// QualityFacts are what the report needs beside the measures: the
// source as probed and the session's limit (0: none).
type QualityFacts struct {
	Info       *Info
	MaxSeconds float64
}

// Report turns a run's measures into the statement's quality report.
func (m Measures) Report(f QualityFacts) *presession.Quality {
	d := 0.0
	if f.Info != nil {
		d = f.Info.Duration
	}
	q := &presession.Quality{Loudness: m.Loudness, Findings: []presession.Finding{}}
	add := func(kind string, s Span, key, format string, args ...string) {
		text, msg := i18n.Reason(key, format, args...)
		q.Findings = append(q.Findings, presession.Finding{Kind: kind, Start: ms(s.Start), End: ms(s.End), Text: text, Key: msg.Key, Args: msg.Args})
	}
	whole := Span{Start: 0, End: d}
	span := func(s Span) (string, string) { return Clock(s.Start), clockUp(s.End) }

	for _, s := range m.Black {
		a, b := span(s)
		add("black", s, "warning.quality_black", "the picture is black from %s to %s", a, b)
	}
	var frozen float64
	for _, s := range m.Frozen {
		frozen += s.End - s.Start
	}
	still := d > 0 && (frozen >= StillShare*d || (m.Frames > 1 && m.DiffSum/float64(m.Frames-1) < StillDiff))
	if still {
		add("still", whole, "warning.quality_still", "the picture barely changes for the whole statement (a slide or a still image)")
	} else {
		for _, s := range m.Frozen {
			if covered(s, m.Black) {
				continue // a black stretch is also a still one; it is named once
			}
			a, b := span(s)
			add("frozen", s, "warning.quality_frozen", "the picture is frozen from %s to %s", a, b)
		}
	}
	if m.Frames > 0 && m.LumaSum/float64(m.Frames) < DarkLuma && len(m.Black) == 0 {
		add("dark", whole, "warning.quality_dark", "the picture is very dark throughout; faces may be hard to make out")
	}
	for _, s := range m.Silent {
		a, b := span(s)
		add("silent", s, "warning.quality_silent", "there is no sound from %s to %s", a, b)
	}
	if l := m.Loudness; l != nil && l.Integrated < QuietLUFS && !(len(m.Silent) == 1 && covered(whole, m.Silent)) {
		add("quiet", whole, "warning.quality_quiet", "the sound is very quiet (%s LUFS; %s is normal); it was raised, and any background noise with it",
			strconv.FormatFloat(l.Integrated, 'f', 1, 64), "-16")
	}
	for _, s := range m.Clipped {
		a, b := span(s)
		add("clipped", s, "warning.quality_clipped", "the sound is distorted (clipped) from %s to %s", a, b)
	}
	if ad, vd := m.AudioEnd, d; ad > 0 && vd > 0 {
		if vd-ad > max(AudioShortSeconds, AudioShortShare*vd) {
			s := Span{Start: ad, End: vd}
			a, b := span(s)
			add("audio_short", s, "warning.quality_audio_short", "the sound stops at %s but the picture goes on to %s", a, b)
		}
	}
	if f.Info != nil && f.Info.Video != nil && f.Info.Video.Portrait() {
		add("portrait", whole, "warning.quality_portrait", "the video is upright (portrait); it will be shown with bars on either side")
	}
	if f.MaxSeconds > 0 && d > f.MaxSeconds {
		add("over_limit", Span{Start: f.MaxSeconds, End: d}, "warning.quality_over_limit", "the statement is %s long, longer than the session's limit of %s",
			clockUp(d), Clock(f.MaxSeconds))
	}
	q.Summarise()
	return q
}

// covered reports whether most of s lies within spans.
func covered(s Span, spans []Span) bool {
	var in float64
	for _, o := range spans {
		in += max(0, min(s.End, o.End)-max(s.Start, o.Start))
	}
	return s.End > s.Start && in >= 0.8*(s.End-s.Start)
}

func ms(s float64) float64 { return math.Round(s*1000) / 1000 }
