package media

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/uprinfo/presession/layout"
)

// RungSpec is one rung of the ladder: a fixed name, the short side of
// the picture it targets (the height of a landscape picture, the width of
// a portrait one) and its video bit rate.
type RungSpec struct {
	Name        string `json:"name"`
	Short       int    `json:"short"`
	VideoKbps   int    `json:"video_kbps"`
	MaxRateKbps int    `json:"max_rate_kbps"` // VBV peak; 0 = 1.25 x VideoKbps
}

// DefaultLadder is the ladder every statement gets, highest first. The
// names are the same for every statement so per-country playlists can
// be stitched rung by rung.
func DefaultLadder() []RungSpec {
	return []RungSpec{
		{Name: "1080p", Short: 1080, VideoKbps: 5000},
		{Name: "720p", Short: 720, VideoKbps: 2800},
		{Name: "480p", Short: 480, VideoKbps: 1400},
		{Name: "360p", Short: 360, VideoKbps: 800},
	}
}

// Rung is a RungSpec sized for one source.
type Rung struct {
	RungSpec
	Width  int `json:"width"`
	Height int `json:"height"`
}

// Options tune a Plan. Start from DefaultOptions.
type Options struct {
	Ladder    []RungSpec
	AudioKbps int    // AAC-LC stereo 48 kHz
	Preset    string // x264 preset
	Threads   int    // per encoder; 0 = ffmpeg's choice (keep it: -threads 1 halves the speed)
	Loudnorm  bool   // EBU R128 single-pass loudnorm shared by all outputs
	// DownloadShort is the short side of the progressive MP4 (720); it
	// never exceeds the source.
	DownloadShort int
	// PosterAt is where the poster is taken, in seconds; < 0 means 10% of
	// the duration.
	PosterAt    float64
	PosterLong  int  // long side of poster.jpg (1280)
	ThumbLong   int  // long side of thumb.jpg (320)
	Storyboard  bool // storyboard.jpg sprite + storyboard.vtt
	MaxFPS      int  // frame rates above are halved (60 → 30); 0 = keep
	GOPSeconds  int  // keyframe interval (2)
	SegmentSecs int  // HLS segment duration (6), a multiple of GOPSeconds
	// Quality adds the quality report's branches (see Measures) to the
	// graph; they only read, the outputs stay the same.
	Quality bool
}

// DefaultOptions are the production settings.
func DefaultOptions() Options {
	return Options{
		Ladder:        DefaultLadder(),
		AudioKbps:     128,
		Preset:        "veryfast",
		Loudnorm:      true,
		DownloadShort: 720,
		PosterAt:      -1,
		PosterLong:    1280,
		ThumbLong:     320,
		Storyboard:    true,
		MaxFPS:        30,
		GOPSeconds:    2,
		SegmentSecs:   6,
		Quality:       true,
	}
}

// Storyboard is the layout of the scrubbing sprite: one tile every
// Interval seconds, Cols x Rows tiles of TileWidth x TileHeight.
type Storyboard struct {
	Interval   float64 `json:"interval"`
	Count      int     `json:"count"`
	Cols       int     `json:"cols"`
	Rows       int     `json:"rows"`
	TileWidth  int     `json:"tile_width"`
	TileHeight int     `json:"tile_height"`
}

// Plan is everything the single ffmpeg run needs. It is data: Args turns
// it into the argument list, with no I/O.
type Plan struct {
	Input    string  `json:"input"`
	OutDir   string  `json:"out_dir"`
	Duration float64 `json:"duration"`
	// VideoStream and AudioStream are the source stream indexes; AudioStream
	// is -1 when the source has no audio (a silent track is generated).
	VideoStream int `json:"video_stream"`
	AudioStream int `json:"audio_stream"`
	// FrameRate is the output frame rate; SourceFPS the source's.
	FrameRate float64 `json:"frame_rate"`
	SourceFPS float64 `json:"source_fps"`
	// FPSFilter is the fps filter's rate ("30000/1001", "30") when the
	// source rate is reduced, else "".
	FPSFilter string `json:"fps_filter,omitempty"`
	Rungs     []Rung `json:"rungs"` // highest first
	// Download is the size and rate of download.mp4; DownloadShares names
	// the rung whose scaled picture it reuses ("" = its own scaler).
	Download       Rung       `json:"download"`
	DownloadShares string     `json:"download_shares,omitempty"`
	PosterAt       float64    `json:"poster_at"`
	PosterW        int        `json:"poster_w"`
	PosterH        int        `json:"poster_h"`
	ThumbW         int        `json:"thumb_w"`
	ThumbH         int        `json:"thumb_h"`
	Storyboard     Storyboard `json:"storyboard"` // Count 0 = none
	AudioKbps      int        `json:"audio_kbps"`
	Preset         string     `json:"preset"`
	Threads        int        `json:"threads"`
	Loudnorm       bool       `json:"loudnorm"`
	GOPSeconds     int        `json:"gop_seconds"`
	SegmentSecs    int        `json:"segment_seconds"`
	// Quality: the graph measures the quality report; AudioRate is the
	// source's sample rate, which sizes its clipping windows.
	Quality   bool `json:"quality,omitempty"`
	AudioRate int  `json:"audio_rate,omitempty"`
}

// Output file names, relative to the plan's OutDir: the storage layout's
// names of a statement's files, so that the output directory is laid out
// like the statement's keys.
const (
	HLSDir            = layout.HLSDir
	PlaylistName      = layout.RungPlaylistName
	InitName          = layout.InitName
	SegmentPattern    = layout.SegmentPattern
	DownloadName      = layout.DownloadName
	PosterName        = layout.PosterName
	ThumbName         = layout.ThumbName
	StoryboardName    = layout.StoryboardName
	StoryboardVTTName = layout.StoryboardVTTName
)

// NewPlan sizes the ladder and the other outputs for a validated source.
func NewPlan(input string, info *Info, outDir string, o Options) (Plan, error) {
	if info == nil || info.Video == nil {
		return Plan{}, errors.New("media: plan: no video stream")
	}
	if info.Duration <= 0 {
		return Plan{}, errors.New("media: plan: unknown duration")
	}
	if len(o.Ladder) == 0 {
		return Plan{}, errors.New("media: plan: empty ladder")
	}
	v := info.Video
	dw, dh := v.DisplayWidth, v.DisplayHeight
	if dw <= 0 || dh <= 0 {
		dw, dh = v.Width, v.Height
	}
	p := Plan{
		Input: input, OutDir: outDir, Duration: info.Duration,
		VideoStream: v.Index, AudioStream: -1,
		SourceFPS: v.FrameRate, AudioKbps: o.AudioKbps, Preset: o.Preset,
		Threads: o.Threads, Loudnorm: o.Loudnorm,
		GOPSeconds: max(o.GOPSeconds, 1), SegmentSecs: max(o.SegmentSecs, 1),
	}
	if info.Audio != nil {
		p.AudioStream = info.Audio.Index
		p.AudioRate = info.Audio.SampleRate
	}
	p.Quality = o.Quality
	if p.AudioKbps <= 0 {
		p.AudioKbps = 128
	}
	if p.Preset == "" {
		p.Preset = "veryfast"
	}
	p.FrameRate, p.FPSFilter = outputRate(v.FrameRate, o.MaxFPS)
	p.Rungs = Ladder(dw, dh, o.Ladder)

	// download.mp4: the rung of DownloadShort if there is one, else the
	// largest rung not above it, else the smallest.
	short := o.DownloadShort
	if short <= 0 {
		short = 720
	}
	p.Download = p.Rungs[len(p.Rungs)-1]
	for _, r := range p.Rungs {
		if r.Short <= short {
			p.Download = r
			break
		}
	}
	p.DownloadShares = p.Download.Name

	p.PosterAt = o.PosterAt
	if p.PosterAt < 0 || p.PosterAt >= p.Duration {
		p.PosterAt = p.Duration * 0.1
	}
	p.PosterW, p.PosterH = fitLong(dw, dh, o.PosterLong)
	p.ThumbW, p.ThumbH = fitLong(dw, dh, o.ThumbLong)
	if o.Storyboard {
		p.Storyboard = storyboardLayout(p.Duration, dw, dh)
	}
	return p, nil
}

// Ladder sizes the rungs for a display size dw x dh. Rungs are chosen by
// the short side, so a portrait 1080x1920 source gets 1080x1920,
// 720x1280, 480x854, 360x640. A rung is kept when the source's short side
// reaches at least 90% of it, and is then never larger than the source
// (a 1280x700 source gets a "720p" rung of 1280x700, not an upscale).
// A source smaller than the smallest rung gets that one rung, at its own
// size, under the smallest rung's name, so that every statement has the
// rung names players switch between. Sizes are even.
func Ladder(dw, dh int, specs []RungSpec) []Rung {
	short, long := min(dw, dh), max(dw, dh)
	var out []Rung
	for _, s := range specs {
		if float64(short) < 0.9*float64(s.Short) {
			continue
		}
		out = append(out, sizeRung(s, dw, dh, min(s.Short, short), long, short))
	}
	if len(out) == 0 {
		s := specs[len(specs)-1]
		out = append(out, sizeRung(s, dw, dh, short, long, short))
	}
	return out
}

func sizeRung(s RungSpec, dw, dh, targetShort, long, short int) Rung {
	ts := even(float64(targetShort))
	tl := even(float64(long) * float64(targetShort) / float64(short))
	r := Rung{RungSpec: s}
	if r.MaxRateKbps <= 0 {
		r.MaxRateKbps = s.VideoKbps * 5 / 4
	}
	if dw >= dh {
		r.Width, r.Height = tl, ts
	} else {
		r.Width, r.Height = ts, tl
	}
	return r
}

// even rounds to the nearest even integer, at least 2.
func even(f float64) int {
	n := int(math.Round(f/2)) * 2
	return max(n, 2)
}

// fitLong scales w x h so its long side is at most long (never up).
func fitLong(w, h, long int) (int, int) {
	if long <= 0 || max(w, h) <= long {
		return even(float64(w)), even(float64(h))
	}
	f := float64(long) / float64(max(w, h))
	return even(float64(w) * f), even(float64(h) * f)
}

// outputRate keeps the source frame rate up to maxFPS and halves (or
// caps) faster ones; unknown rates become 25.
func outputRate(src float64, maxFPS int) (float64, string) {
	if src <= 0 {
		return 25, ""
	}
	if maxFPS <= 0 || src <= float64(maxFPS)+0.01 {
		return src, ""
	}
	half := src / 2
	if half <= float64(maxFPS)+0.01 {
		return half, rateString(half)
	}
	return float64(maxFPS), fmt.Sprint(maxFPS)
}

// rateString writes a frame rate exactly when it is an NTSC rate.
func rateString(f float64) string {
	for _, base := range []int{24, 30, 60} {
		if math.Abs(f-float64(base)*1000/1001) < 0.005 {
			return fmt.Sprintf("%d/1001", base*1000)
		}
	}
	if math.Abs(f-math.Round(f)) < 0.005 {
		return fmt.Sprint(int(math.Round(f)))
	}
	return fmt.Sprintf("%.3f", f)
}

// storyboardLayout picks one tile every 2 s or more, at most 100 tiles,
// 10 per row, each 160 pixels on its long side.
func storyboardLayout(d float64, dw, dh int) Storyboard {
	interval := math.Max(2, math.Ceil(d/100))
	count := max(int(math.Ceil(d/interval)), 1)
	cols := min(count, 10)
	rows := (count + cols - 1) / cols
	w, h := fitLong(dw, dh, 160)
	return Storyboard{Interval: interval, Count: count, Cols: cols, Rows: rows, TileWidth: w, TileHeight: h}
}

// GOP is the keyframe interval in frames.
func (p Plan) GOP() int { return max(int(math.Ceil(p.FrameRate*float64(p.GOPSeconds))), 1) }

// RungDir is the directory of a rung's playlist, init and segments.
func (p Plan) RungDir(name string) string { return filepath.Join(p.OutDir, HLSDir, name) }

// Path joins a file name to the output directory.
func (p Plan) Path(name string) string { return filepath.Join(p.OutDir, name) }

// PrepareOutput empties what a previous (failed or cancelled) attempt
// may have left in the output directory and creates the rung
// directories, so a re-run never mixes old and new segments.
func (p Plan) PrepareOutput() error {
	if err := os.RemoveAll(filepath.Join(p.OutDir, HLSDir)); err != nil {
		return fmt.Errorf("media: prepare output: %w", err)
	}
	for _, n := range []string{DownloadName, PosterName, ThumbName, StoryboardName, StoryboardVTTName} {
		if err := os.Remove(p.Path(n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("media: prepare output: %w", err)
		}
	}
	for _, r := range p.Rungs {
		if err := os.MkdirAll(p.RungDir(r.Name), 0o755); err != nil {
			return fmt.Errorf("media: prepare output: %w", err)
		}
	}
	return nil
}

// StoryboardVTT is the WebVTT map of the storyboard sprite: one cue per
// tile, pointing at its region with a media fragment.
func (p Plan) StoryboardVTT() []byte {
	sb := p.Storyboard
	var b strings.Builder
	b.WriteString("WEBVTT\n\n")
	for i := 0; i < sb.Count; i++ {
		start := float64(i) * sb.Interval
		end := math.Min(start+sb.Interval, p.Duration)
		if end <= start {
			break
		}
		x, y := (i%sb.Cols)*sb.TileWidth, (i/sb.Cols)*sb.TileHeight
		fmt.Fprintf(&b, "%s --> %s\n%s#xywh=%d,%d,%d,%d\n\n", vttTime(start), vttTime(end), StoryboardName, x, y, sb.TileWidth, sb.TileHeight)
	}
	return []byte(b.String())
}

// vttTime formats seconds as hh:mm:ss.ttt.
func vttTime(s float64) string {
	ms := int64(math.Round(s * 1000))
	if ms < 0 {
		ms = 0
	}
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// Encoded returns how many seconds of the ladder are finished on disk:
// the completed segments of the first rung (the one being written is not
// counted). ffmpeg withholds its -progress reports until every output has
// had a frame — the storyboard sprite gets its only frame at the end — so
// a caller showing progress polls this too.
func (p Plan) Encoded() float64 {
	if len(p.Rungs) == 0 {
		return 0
	}
	m, _ := filepath.Glob(filepath.Join(p.RungDir(p.Rungs[0].Name), "seg_*.m4s"))
	if len(m) < 2 {
		return 0
	}
	return min(float64((len(m)-1)*p.SegmentSecs), p.Duration)
}
