package media

// This is the only file that uses ffmpeg-go. It builds the filter graph
// and the argument list; it never runs anything (Run does).
//
// ffmpeg-go v0.5.0 traps handled here:
//   - options come out in alphabetical (map) order, so no output mixes a
//     generic and a stream-specific form of one option (the last match
//     wins in ffmpeg), and the global options, whose place we want fixed,
//     are prepended by hand instead of through GlobalArgs;
//   - GlobalArgs/MergeOutputs/Compile would lose a context or ignore
//     options, which does not matter because only GetArgs is used.

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	ffmpeg "github.com/u2takey/ffmpeg-go"
)

// Args is the complete ffmpeg argument list (without the program name)
// for the plan: one process that decodes the source once and writes the
// HLS ladder, download.mp4, the poster, the thumbnail and the storyboard.
//
// The log carries every line's level, repeats included, down to info,
// where the clock branch (ClockFilter) logs; Run reads it to find the
// damage the decoders meet. -max_error_rate 1 keeps ffmpeg from failing
// a run on its own count of undecodable frames: how much damage is too
// much is decided by Damage.Mostly, with the reason it gives.
func (p Plan) Args() []string {
	global := []string{"-hide_banner", "-nostdin", "-y", "-v", "repeat+level+info", "-max_error_rate", "1", "-progress", "pipe:1", "-nostats"}
	return append(global, p.graph().GetArgs()...)
}

// graph is the whole filter graph as one piece of data: it is long because
// the single decode is the point (one split feeding every rung, the MP4 and
// the images), and cutting it into functions would hide which branch feeds
// which output; TestArgsGolden holds it to the hand-written command.
func (p Plan) graph() *ffmpeg.Stream {
	inKw := ffmpeg.KwArgs{}
	if isHTTP(p.Input) {
		inKw["reconnect"] = "1"
		inKw["reconnect_on_network_error"] = "1"
		inKw["reconnect_delay_max"] = "10"
	}
	in := ffmpeg.Input(p.Input, inKw)
	dur := strconv.FormatFloat(p.Duration, 'f', 3, 64)

	// Video: one decode, split into the clock and the rest; then an
	// optional frame-rate reduction, and a split into the rungs, the
	// poster branch and the storyboard branch. ffmpeg has already applied
	// the source's rotation when frames reach the graph.
	decoded := in.Get(strconv.Itoa(p.VideoStream)).Split()
	video := decoded.Get("0")
	// The clock logs the time of the first decoded frame at or after each
	// ClockStep (before the fps filter, which would repeat frames into a
	// gap the decoder left), so Run can place decoder errors in time.
	clock := decoded.Get("1").
		Filter("select", ffmpeg.Args{"isnan(prev_selected_t)+gte(t-prev_selected_t," + strconv.FormatFloat(ClockStep, 'f', -1, 64) + ")"}).
		Filter(ClockFilter, nil, ffmpeg.KwArgs{"checksum": "0"})
	if p.FPSFilter != "" {
		video = video.Filter("fps", ffmpeg.Args{p.FPSFilter})
	}
	// split=N takes N from the number of branches used.
	vsplit := video.Split()
	nv := 0
	nextVideo := func() *ffmpeg.Stream { nv++; return vsplit.Get(strconv.Itoa(nv - 1)) }

	// Audio: downmix to stereo, normalise once, resample to 48 kHz
	// (loudnorm works at 192 kHz), pad to the video's length, then split
	// to every encoder. A source without audio gets generated silence.
	var audio *ffmpeg.Stream
	if p.AudioStream >= 0 {
		audio = in.Get(strconv.Itoa(p.AudioStream))
	} else {
		audio = ffmpeg.Input("anullsrc=r=48000:cl=stereo", ffmpeg.KwArgs{"f": "lavfi", "t": dur}).Get("a")
	}
	// Samples become 32-bit integers first: what a decoder makes of a
	// damaged stretch can be NaN or near-infinite floats, which loudnorm
	// carries to the AAC encoder, and the encoder fails the whole run on
	// them; as integers they are at worst full-scale noise there. (Peaks
	// above full scale are clipped; loudnorm's true-peak limit would have
	// brought them down anyway.)
	audio = audio.Filter("aformat", nil, ffmpeg.KwArgs{"channel_layouts": "stereo", "sample_fmts": "s32"})
	// The quality report hears the source before normalisation.
	var qAudio *ffmpeg.Stream
	if p.Quality && p.AudioStream >= 0 {
		s := audio.ASplit()
		audio, qAudio = s.Get("0"), p.qualityAudio(s.Get("1"))
	}
	if p.Loudnorm && p.AudioStream >= 0 {
		audio = audio.Filter("loudnorm", nil, ffmpeg.KwArgs{"I": "-16", "TP": "-1.5", "LRA": "11"})
	}
	audio = audio.Filter("aresample", ffmpeg.Args{"48000"})
	audio = audio.Filter("apad", nil, ffmpeg.KwArgs{"whole_dur": dur})
	asplit := audio.ASplit()
	na := 0
	nextAudio := func() *ffmpeg.Stream { na++; return asplit.Get(strconv.Itoa(na - 1)) }

	var outs []*ffmpeg.Stream

	// HLS ladder: one output, one variant per rung (video i + audio i).
	var hlsStreams []*ffmpeg.Stream
	var dlVideo *ffmpeg.Stream
	hlsKw := p.x264Kw()
	var vsm []string
	var qVideo *ffmpeg.Stream
	for i, r := range p.Rungs {
		scaled := nextVideo().
			Filter("scale", ffmpeg.Args{fmt.Sprintf("%d:%d", r.Width, r.Height)}).
			Filter("setsar", ffmpeg.Args{"1"}).
			Filter("format", ffmpeg.Args{"yuv420p"})
		// The quality report looks at the smallest rung's picture, already
		// scaled: its own scaler then has little to do.
		quality := p.Quality && i == len(p.Rungs)-1
		if r.Name == p.DownloadShares || quality {
			s := scaled.Split()
			scaled = s.Get("0")
			n := 1
			if r.Name == p.DownloadShares {
				dlVideo = s.Get(strconv.Itoa(n))
				n++
			}
			if quality {
				qVideo = p.qualityVideo(s.Get(strconv.Itoa(n)), r.Width, r.Height)
			}
		}
		hlsStreams = append(hlsStreams, scaled, nextAudio())
		hlsKw[fmt.Sprintf("b:v:%d", i)] = kbps(r.VideoKbps)
		hlsKw[fmt.Sprintf("maxrate:v:%d", i)] = kbps(r.MaxRateKbps)
		hlsKw[fmt.Sprintf("bufsize:v:%d", i)] = kbps(2 * r.VideoKbps)
		vsm = append(vsm, fmt.Sprintf("v:%d,a:%d,name:%s", i, i, r.Name))
	}
	for k, v := range map[string]string{
		"f":                      "hls",
		"hls_time":               strconv.Itoa(p.SegmentSecs),
		"hls_playlist_type":      "vod",
		"hls_flags":              "independent_segments",
		"hls_segment_type":       "fmp4",
		"hls_fmp4_init_filename": "init_%v.mp4", // renamed to init.mp4 by Collect
		"hls_segment_filename":   filepath.Join(p.OutDir, HLSDir, "%v", SegmentPattern),
		"var_stream_map":         strings.Join(vsm, " "),
		// x264's B-frames would start each segment's video 2 frames after its
		// audio; at a stitched playlist's discontinuity Chromium stalls on
		// that gap. Negative composition offsets start both at 0.
		// A 90 kHz video timescale whatever the frame rate: the stitched
		// stream shifts later statements' times in their own timescale,
		// and ffmpeg reads them all with the first statement's.
		"hls_segment_options": "movflags=+negative_cts_offsets:video_track_timescale=90000",
		// SPS/PPS in-band on keyframes: a player crossing a discontinuity to
		// a statement whose init segment differs can still decode.
		"bsf:v": "dump_extra=freq=keyframe",
	} {
		hlsKw[k] = v
	}
	outs = append(outs, ffmpeg.Output(hlsStreams, filepath.Join(p.OutDir, HLSDir, "%v", PlaylistName), hlsKw))

	// download.mp4 reuses the scaled picture of its rung.
	if dlVideo == nil { // a hand-made plan whose download matches no rung
		dlVideo = nextVideo().
			Filter("scale", ffmpeg.Args{fmt.Sprintf("%d:%d", p.Download.Width, p.Download.Height)}).
			Filter("setsar", ffmpeg.Args{"1"}).
			Filter("format", ffmpeg.Args{"yuv420p"})
	}
	dlKw := p.x264Kw()
	dlKw["b:v"] = kbps(p.Download.VideoKbps)
	dlKw["maxrate:v"] = kbps(p.Download.MaxRateKbps)
	dlKw["bufsize:v"] = kbps(2 * p.Download.VideoKbps)
	dlKw["movflags"] = "+faststart"
	dlKw["f"] = "mp4"
	outs = append(outs, ffmpeg.Output([]*ffmpeg.Stream{dlVideo, nextAudio()}, p.Path(DownloadName), dlKw))

	// Poster and thumbnail: the first frame at or after PosterAt, once.
	still := nextVideo().
		Filter("select", ffmpeg.Args{fmt.Sprintf("gte(t,%s)*eq(selected_n,0)", strconv.FormatFloat(p.PosterAt, 'f', 3, 64))}).
		Split()
	outs = append(outs,
		ffmpeg.Output([]*ffmpeg.Stream{still.Get("0").
			Filter("scale", ffmpeg.Args{fmt.Sprintf("%d:%d", p.PosterW, p.PosterH)})}, p.Path(PosterName), imageKw()),
		ffmpeg.Output([]*ffmpeg.Stream{still.Get("1").
			Filter("scale", ffmpeg.Args{fmt.Sprintf("%d:%d", p.ThumbW, p.ThumbH)})}, p.Path(ThumbName), imageKw()),
	)

	// Storyboard: the first frame at or after each multiple of Interval,
	// tiled into one sprite.
	if sb := p.Storyboard; sb.Count > 0 {
		sprite := nextVideo().
			Filter("select", ffmpeg.Args{fmt.Sprintf("gte(t,selected_n*%s)", strconv.FormatFloat(sb.Interval, 'f', -1, 64))}).
			Filter("scale", ffmpeg.Args{fmt.Sprintf("%d:%d", sb.TileWidth, sb.TileHeight)}).
			Filter("tile", ffmpeg.Args{fmt.Sprintf("%dx%d", sb.Cols, sb.Rows)})
		outs = append(outs, ffmpeg.Output([]*ffmpeg.Stream{sprite}, p.Path(StoryboardName), imageKw()))
	}
	// The clock's frames go nowhere: the null muxer writes nothing (and
	// opens no file, so "-" is not stdout, where -progress goes).
	outs = append(outs, ffmpeg.Output([]*ffmpeg.Stream{clock}, "-", ffmpeg.KwArgs{"f": "null"}))
	// The quality branches end in the null muxer too.
	if qVideo != nil {
		qs := []*ffmpeg.Stream{qVideo}
		if qAudio != nil {
			qs = append(qs, qAudio)
		}
		outs = append(outs, ffmpeg.Output(qs, "-", ffmpeg.KwArgs{"f": "null"}))
	}
	return ffmpeg.MergeOutputs(outs...)
}

// x264Kw are the encoder options shared by the HLS ladder and the MP4:
// H.264 high, a keyframe every GOPSeconds on the clock (so 6 s segments
// start on keyframes for any frame rate), no scene-cut keyframes, AAC-LC
// stereo 48 kHz.
func (p Plan) x264Kw() ffmpeg.KwArgs {
	gop := strconv.Itoa(p.GOP())
	kw := ffmpeg.KwArgs{
		"c:v":              "libx264",
		"preset":           p.Preset,
		"profile:v":        "high",
		"g":                gop,
		"keyint_min":       gop,
		"sc_threshold":     "0",
		"force_key_frames": fmt.Sprintf("expr:gte(t,n_forced*%d)", p.GOPSeconds),
		"c:a":              "aac",
		"b:a":              kbps(p.AudioKbps),
		"ar":               "48000",
		"ac":               "2",
	}
	if p.Threads > 0 {
		kw["threads"] = strconv.Itoa(p.Threads)
	}
	return kw
}

func imageKw() ffmpeg.KwArgs {
	return ffmpeg.KwArgs{"f": "image2", "frames:v": "1", "update": "1", "q:v": "3"}
}

func kbps(n int) string { return strconv.Itoa(n) + "k" }
