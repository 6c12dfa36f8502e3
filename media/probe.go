package media

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
)

// Info is what later stages need to know about a source file.
type Info struct {
	// FormatName is ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2".
	FormatName     string `json:"format_name"`
	FormatLongName string `json:"format_long_name,omitempty"`
	// Container is what Sniff found the file to be, and what every read
	// of it is forced to ("" in an Info from before sources were sniffed).
	Container Container `json:"container,omitempty"`
	Duration  float64   `json:"duration"` // seconds; 0 when unknown
	BitRate   int64     `json:"bit_rate,omitempty"`
	Size      int64     `json:"size,omitempty"`
	// Video is the first video stream that is not an attached picture
	// (cover art); nil when there is none.
	Video *VideoStream `json:"video,omitempty"`
	// Audio is the first audio stream; nil when there is none.
	Audio *AudioStream `json:"audio,omitempty"`
	// AttachedPictures counts cover-art streams (ignored for processing).
	AttachedPictures int `json:"attached_pictures,omitempty"`
}

// VideoStream describes the video stream that is processed.
type VideoStream struct {
	Index     int     `json:"index"` // stream index in the file (ffmpeg "0:Index")
	Codec     string  `json:"codec"`
	Profile   string  `json:"profile,omitempty"`
	Width     int     `json:"width"` // coded size
	Height    int     `json:"height"`
	SARNum    int     `json:"sar_num,omitempty"` // sample aspect ratio; 0 when unknown (= 1:1)
	SARDen    int     `json:"sar_den,omitempty"`
	PixFmt    string  `json:"pix_fmt,omitempty"`
	FrameRate float64 `json:"frame_rate"`       // average frame rate, else r_frame_rate; 0 when unknown
	Frames    int64   `json:"frames,omitempty"` // nb_frames; 0 when the container does not say
	Duration  float64 `json:"duration,omitempty"`
	BitRate   int64   `json:"bit_rate,omitempty"`
	// Rotation is the clockwise rotation a player applies, 0, 90, 180 or
	// 270 (from the Display Matrix side data or the legacy rotate tag).
	Rotation int `json:"rotation,omitempty"`
	// DisplayWidth and DisplayHeight are the size shown to a viewer: the
	// coded size corrected for the sample aspect ratio, then rotated.
	DisplayWidth  int `json:"display_width"`
	DisplayHeight int `json:"display_height"`
}

// AudioStream describes the audio stream that is processed.
type AudioStream struct {
	Index      int     `json:"index"`
	Codec      string  `json:"codec"`
	Profile    string  `json:"profile,omitempty"`
	Channels   int     `json:"channels"`
	SampleRate int     `json:"sample_rate"`
	BitRate    int64   `json:"bit_rate,omitempty"`
	Duration   float64 `json:"duration,omitempty"`
}

// Portrait reports whether the displayed picture is taller than wide.
func (v *VideoStream) Portrait() bool { return v.DisplayHeight > v.DisplayWidth }

// ffprobe's JSON, the parts we read.
type probeJSON struct {
	Format struct {
		FormatName     string `json:"format_name"`
		FormatLongName string `json:"format_long_name"`
		Duration       string `json:"duration"`
		BitRate        string `json:"bit_rate"`
		Size           string `json:"size"`
	} `json:"format"`
	Streams []struct {
		Index         int               `json:"index"`
		CodecType     string            `json:"codec_type"`
		CodecName     string            `json:"codec_name"`
		Profile       string            `json:"profile"`
		Width         int               `json:"width"`
		Height        int               `json:"height"`
		SAR           string            `json:"sample_aspect_ratio"`
		PixFmt        string            `json:"pix_fmt"`
		RFrameRate    string            `json:"r_frame_rate"`
		AvgFrameRate  string            `json:"avg_frame_rate"`
		NbFrames      string            `json:"nb_frames"`
		Duration      string            `json:"duration"`
		BitRate       string            `json:"bit_rate"`
		SampleRate    string            `json:"sample_rate"`
		Channels      int               `json:"channels"`
		Disposition   map[string]int    `json:"disposition"`
		Tags          map[string]string `json:"tags"`
		SideDataList  []map[string]any  `json:"side_data_list"`
		CodecTagStr   string            `json:"codec_tag_string"`
		CodecLongName string            `json:"codec_long_name"`
	} `json:"streams"`
}

// Probe reads the first bytes of a local path or URL, decides from them
// what the file is (Sniff), then runs ffprobe forced to that container,
// with only the protocols the input's URL needs, and describes the file.
// A file that is not a video container we accept is refused before
// ffprobe runs. When the bytes are not media ffprobe understands, the
// error is a *Rejection; when the input cannot be read (missing file,
// network), the error is plain, so the caller may retry.
func Probe(ctx context.Context, input string) (*Info, error) {
	c, err := sniffInput(ctx, input)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "ffprobe", probeArgs(input, c)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("media: probe: %w", ctx.Err())
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if unreadable(msg) {
			return nil, rejectDamaged()
		}
		return nil, fmt.Errorf("media: ffprobe %s: %v: %s", redactURL(input), err, tail(msg, 1024))
	}
	info, err := ParseProbe(stdout.Bytes())
	if err != nil {
		return nil, err
	}
	info.Container = c
	if info.Duration <= 0 {
		info.Duration = measureDuration(ctx, input, c)
	}
	return info, nil
}

// probeArgs is ffprobe's argument list for reading input as c.
func probeArgs(input string, c Container) []string {
	args := []string{"-v", "error", "-hide_banner"}
	args = append(args, inputOptions(input, c)...)
	return append(args, "-print_format", "json", "-show_format", "-show_streams", input)
}

// unreadable reports whether ffprobe's complaint means the bytes are not
// media it understands (as opposed to a file or network problem).
func unreadable(stderr string) bool {
	for _, s := range []string{
		"Invalid data found when processing input",
		"moov atom not found",
		"could not find codec parameters",
		"End of file",
		"Failed to read frame size",
		// The file asked for another demuxer or protocol than its own
		// container over its own URL (the whitelists refused it).
		"not on whitelist",
	} {
		if strings.Contains(stderr, s) {
			return true
		}
	}
	return false
}

// inputOptions are the demuxer and protocol options for reading input:
// the container c forced and the protocols limited (restrictions), and
// reconnects for HTTP(S) sources (presigned storage URLs).
func inputOptions(input string, c Container) []string {
	args := restrictions(input, c)
	if isHTTP(input) {
		args = append(args, "-reconnect", "1", "-reconnect_on_network_error", "1", "-reconnect_delay_max", "10")
	}
	return args
}

func isHTTP(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// redactURL drops the query string (presigned signatures) from a URL
// before it goes into an error message.
func redactURL(s string) string {
	if isHTTP(s) {
		if i := strings.IndexByte(s, '?'); i >= 0 {
			return s[:i] + "?…"
		}
	}
	return s
}

// ParseProbe builds an Info from the output of
// `ffprobe -print_format json -show_format -show_streams`.
func ParseProbe(data []byte) (*Info, error) {
	var p probeJSON
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("media: parse ffprobe json: %w", err)
	}
	info := &Info{
		FormatName:     p.Format.FormatName,
		FormatLongName: p.Format.FormatLongName,
		Duration:       parseFloat(p.Format.Duration),
		BitRate:        parseInt(p.Format.BitRate),
		Size:           parseInt(p.Format.Size),
	}
	for _, s := range p.Streams {
		switch s.CodecType {
		case "video":
			if s.Disposition["attached_pic"] == 1 {
				info.AttachedPictures++
				continue
			}
			if info.Video != nil {
				continue
			}
			v := &VideoStream{
				Index: s.Index, Codec: s.CodecName, Profile: s.Profile,
				Width: s.Width, Height: s.Height, PixFmt: s.PixFmt,
				Frames:   parseInt(s.NbFrames),
				Duration: parseFloat(s.Duration),
				BitRate:  parseInt(s.BitRate),
			}
			v.FrameRate = parseRate(s.AvgFrameRate)
			if v.FrameRate <= 0 || v.FrameRate > 1000 {
				v.FrameRate = parseRate(s.RFrameRate)
			}
			if v.FrameRate > 1000 {
				v.FrameRate = 0
			}
			v.SARNum, v.SARDen = parseRatio(s.SAR)
			v.Rotation = rotation(s.SideDataList, s.Tags)
			v.DisplayWidth, v.DisplayHeight = displaySize(v)
			info.Video = v
		case "audio":
			if info.Audio != nil {
				continue
			}
			info.Audio = &AudioStream{
				Index: s.Index, Codec: s.CodecName, Profile: s.Profile,
				Channels: s.Channels, SampleRate: int(parseInt(s.SampleRate)),
				BitRate: parseInt(s.BitRate), Duration: parseFloat(s.Duration),
			}
		}
	}
	if info.Duration <= 0 && info.Video != nil {
		info.Duration = info.Video.Duration
	}
	return info, nil
}

// rotation returns the clockwise display rotation in {0, 90, 180, 270}.
// The Display Matrix "rotation" is counter-clockwise (av_display_rotation_get);
// the legacy "rotate" tag is clockwise.
func rotation(sideData []map[string]any, tags map[string]string) int {
	for _, sd := range sideData {
		if t, _ := sd["side_data_type"].(string); t != "Display Matrix" {
			continue
		}
		switch r := sd["rotation"].(type) {
		case float64:
			return normDegrees(-r)
		case string:
			return normDegrees(-parseFloat(r))
		}
	}
	if r, ok := tags["rotate"]; ok {
		return normDegrees(parseFloat(r))
	}
	return 0
}

func normDegrees(d float64) int {
	r := int(math.Round(d/90)) * 90 % 360
	if r < 0 {
		r += 360
	}
	return r
}

func displaySize(v *VideoStream) (w, h int) {
	w, h = v.Width, v.Height
	if v.SARNum > 0 && v.SARDen > 0 && v.SARNum != v.SARDen {
		w = int(math.Round(float64(w) * float64(v.SARNum) / float64(v.SARDen)))
	}
	if v.Rotation == 90 || v.Rotation == 270 {
		w, h = h, w
	}
	return w, h
}

func parseFloat(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func parseInt(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// parseRate parses "30000/1001" or "25".
func parseRate(s string) float64 {
	n, d := parseRatio(strings.Replace(s, "/", ":", 1))
	if d == 0 {
		return parseFloat(s)
	}
	return float64(n) / float64(d)
}

// parseRatio parses "num:den"; 0, 0 when absent or invalid.
func parseRatio(s string) (int, int) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0
	}
	n, err1 := strconv.Atoi(a)
	d, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || n <= 0 || d <= 0 {
		return 0, 0
	}
	return n, d
}

// tail returns the last n bytes of s, cut at a line start when possible.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	return "…" + s
}
