package media

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"

	"github.com/uprinfo/presession/i18n"
)

// Rejection is the error for a source that will never process: the
// Reason is written for the organisation that uploaded it and says what
// is wrong and what to do. Retrying does not help.
type Rejection struct {
	// Code is a stable machine-readable cause: one of the Reject* constants.
	Code string
	// Reason is the English text, for logs and history.
	Reason string
	// Key names the message of the i18n catalogue that says Reason in the
	// reader's language ("reject.truncated"), and Args are its arguments,
	// already written out ("0:24", "1:00") so that they read the same in
	// every language. The English message with Args is Reason.
	Key  string
	Args []string
}

func (r *Rejection) Error() string { return r.Reason }

// Rejection codes.
const (
	RejectDamaged    = "damaged"     // not readable as media
	RejectTruncated  = "truncated"   // stops before its stated end
	RejectImage      = "image"       // a still image
	RejectAudioOnly  = "audio_only"  // no video stream
	RejectFormat     = "format"      // container not on the allow-list
	RejectVideoCodec = "video_codec" // video codec not on the allow-list
	RejectAudioCodec = "audio_codec" // audio codec not on the allow-list
	RejectStill      = "still"       // a single frame
	RejectNoDuration = "no_duration" // duration unknown
	RejectTooLong    = "too_long"
	RejectTooLarge   = "too_large" // picture larger than allowed
	RejectTooSmall   = "too_small" // picture smaller than MinShortSide
	RejectReference  = "reference" // a playlist or list of other files or streams (HLS, DASH, ffconcat, SDP)
	RejectDocument   = "document"  // a document (PDF, HTML, XML, JSON, office)
	RejectText       = "text"      // plain text
	RejectArchive    = "archive"   // an archive (ZIP, RAR, 7z, gzip…)
)

// reject returns the rejection whose English text is format with args;
// format is the English message of key in the catalogue, word for word
// (TestRejectionMessages holds the two together).
func reject(code, key, format string, args ...string) *Rejection {
	text, msg := i18n.Reason(key, format, args...)
	return &Rejection{Code: code, Reason: text, Key: msg.Key, Args: msg.Args}
}

func rejectDamaged() *Rejection {
	return reject(RejectDamaged, "reject.damaged", "the file could not be read as a video (it may be damaged or not a video at all) — please export it again as MP4 and upload it")
}

func rejectAudioOnly() *Rejection {
	return reject(RejectAudioOnly, "reject.audio_only", "the file contains no video, only audio — please upload the video recording of your statement")
}

// rejectImageNamed refuses a still image in the named format ("JPEG").
func rejectImageNamed(name string) *Rejection {
	return reject(RejectImage, "reject.image", "this is an image in %s format, not a video — please upload the video file of your statement", name)
}

// rejectFormatNamed refuses a container we do not accept, by name.
func rejectFormatNamed(name string) *Rejection {
	return reject(RejectFormat, "reject.format", "the file is in a format we cannot accept (%s) — please export it as MP4 (H.264) and upload it again", name)
}

// rejectReference refuses a file that only names other files or streams
// (kind: "HLS/M3U8", "DASH/MPD", "ffconcat", "SDP"…).
func rejectReference(kind string) *Rejection {
	return reject(RejectReference, "reject.reference", "this file is a list of other files or streams (%s), not a video — please upload the video file of your statement itself", kind)
}

// rejectDocument refuses a document (kind: "PDF", "HTML", "Word"…).
func rejectDocument(kind string) *Rejection {
	return reject(RejectDocument, "reject.document", "this is a document in %s format, not a video — please upload the video file of your statement", kind)
}

func rejectText() *Rejection {
	return reject(RejectText, "reject.text", "this file is plain text, not a video — please upload the video file of your statement")
}

// rejectArchive refuses an archive (kind: "ZIP", "RAR"…).
func rejectArchive(kind string) *Rejection {
	return reject(RejectArchive, "reject.archive", "this is an archive in %s format, not a video — please upload the video file itself, not packed in an archive", kind)
}

// MinShortSide is the smallest short side, in displayed pixels, of a
// picture we accept. 144 is the smallest size players and phones offer
// (144p): a 256x144 or 144x256 clip is a poor but real recording, while
// below that faces and slides cannot be made out on a screen in a
// meeting room, and such files are thumbnails, icons or test patterns
// rather than statements.
const MinShortSide = 144

// Limits bound what Validate accepts.
type Limits struct {
	MaxSeconds float64 // longest statement; 0 = no limit
	// MaxWidth x MaxHeight bounds the picture in either orientation
	// (a portrait 4320x7680 passes 7680x4320). 0 = no limit.
	MaxWidth, MaxHeight int
}

// DefaultLimits allows 8K and the given duration.
func DefaultLimits(maxSeconds float64) Limits {
	return Limits{MaxSeconds: maxSeconds, MaxWidth: 7680, MaxHeight: 4320}
}

// Allow-lists. Container names are ffprobe format_name parts.
var (
	allowedContainers = map[string]bool{
		"mov": true, "mp4": true, "m4a": true, "3gp": true, "3g2": true, "mj2": true,
		"matroska": true, "webm": true, "avi": true, "mpegts": true, "mpeg": true,
		"asf": true, "flv": true, "ogg": true, "dv": true,
	}
	// allowedVideo: what phones, cameras, screen recorders and editing
	// programs write, new and old, that ffmpeg decodes reliably.
	allowedVideo = map[string]bool{
		"h264": true, "hevc": true, "vp8": true, "vp9": true, "av1": true,
		"mpeg4": true, "prores": true, "mpeg2video": true,
		// Video CD and early digital cameras; webcams and older cameras
		// (AVI, MOV); DV camcorders.
		"mpeg1video": true, "mjpeg": true, "dvvideo": true,
		// Windows Media; early AVI (DivX ;-)).
		"wmv1": true, "wmv2": true, "wmv3": true, "vc1": true, "msmpeg4v2": true, "msmpeg4v3": true,
		// 3GP from older phones; Flash video (Sorenson H.263); Ogg.
		"h263": true, "h263p": true, "flv1": true, "theora": true,
	}
	allowedAudio = map[string]bool{
		"aac": true, "opus": true, "mp3": true, "vorbis": true, "ac3": true, "eac3": true,
		"alac": true, "flac": true,
		// Camcorders and broadcast (MPEG-PS/TS); Windows Media; 3GP from
		// phones.
		"mp2": true, "wmav1": true, "wmav2": true, "wmapro": true, "amr_nb": true, "amr_wb": true,
		// ADPCM of recording devices and of WAV, QuickTime and Flash
		// files; the game-console variants are not recordings. (PCM of
		// every kind is accepted: "pcm_" below.)
		"adpcm_ima_wav": true, "adpcm_ima_qt": true, "adpcm_ms": true, "adpcm_swf": true,
		"adpcm_g722": true, "adpcm_g726": true, "adpcm_g726le": true, "adpcm_yamaha": true,
	}
	// imageFormats names the image formats ffprobe recognises ("" for an
	// image of no particular format).
	imageFormats = map[string]string{
		"jpeg_pipe": "JPEG", "png_pipe": "PNG", "webp_pipe": "WebP",
		"bmp_pipe": "BMP", "tiff_pipe": "TIFF", "gif": "GIF",
		"gif_pipe": "GIF", "svg_pipe": "SVG", "image2": "",
		"heif": "HEIF", "psd_pipe": "Photoshop",
	}
)

// Validate checks a probed source against the allow-lists and limits. It
// returns warnings for staff (the file is accepted) or a *Rejection.
func Validate(info *Info, lim Limits) (warnings []string, err error) {
	if info == nil || info.FormatName == "" {
		return nil, rejectDamaged()
	}
	formats := strings.Split(info.FormatName, ",")
	for _, f := range formats {
		if name, ok := imageFormats[f]; ok || strings.HasSuffix(f, "_pipe") {
			if name == "" {
				return nil, reject(RejectImage, "reject.image_other", "this is an image, not a video — please upload the video file of your statement")
			}
			return nil, rejectImageNamed(name)
		}
	}
	if info.Video == nil {
		if info.Audio != nil {
			return nil, rejectAudioOnly()
		}
		return nil, rejectDamaged()
	}
	ok := false
	for _, f := range formats {
		ok = ok || allowedContainers[f]
	}
	if !ok {
		name := info.FormatLongName
		if name == "" {
			name = info.FormatName
		}
		return nil, rejectFormatNamed(name)
	}
	v := info.Video
	if !allowedVideo[v.Codec] {
		return nil, reject(RejectVideoCodec, "reject.video_codec", "the video is encoded as \"%s\", which we cannot process — please export it as MP4 (H.264) and upload it again", v.Codec)
	}
	if info.Audio != nil && !allowedAudio[info.Audio.Codec] && !strings.HasPrefix(info.Audio.Codec, "pcm_") {
		return nil, reject(RejectAudioCodec, "reject.audio_codec", "the sound is encoded as \"%s\", which we cannot process — please export the video as MP4 (H.264 with AAC sound) and upload it again", info.Audio.Codec)
	}
	if v.Width <= 0 || v.Height <= 0 {
		return nil, rejectDamaged()
	}
	if single(info) {
		return nil, reject(RejectStill, "reject.still", "the file holds a single picture, not a moving video — please upload the video recording of your statement")
	}
	if info.Duration <= 0 {
		return nil, reject(RejectNoDuration, "reject.no_duration", "the length of the video cannot be determined (the file may be damaged or still being written) — please export it again as MP4 and upload it")
	}
	if lim.MaxSeconds > 0 && info.Duration > lim.MaxSeconds+0.5 {
		return nil, reject(RejectTooLong, "reject.too_long", "the file is %s long; statements may be at most %s — please shorten it and upload it again",
			Clock(info.Duration), Clock(lim.MaxSeconds))
	}
	if lim.MaxWidth > 0 && lim.MaxHeight > 0 {
		long, short := max(v.DisplayWidth, v.DisplayHeight), min(v.DisplayWidth, v.DisplayHeight)
		mlong, mshort := max(lim.MaxWidth, lim.MaxHeight), min(lim.MaxWidth, lim.MaxHeight)
		if long > mlong || short > mshort {
			return nil, reject(RejectTooLarge, "reject.too_large", "the picture is %s, larger than the %s we accept — please export it at a smaller size (1080p is plenty) and upload it again",
				fmt.Sprintf("%dx%d", v.DisplayWidth, v.DisplayHeight), fmt.Sprintf("%dx%d", lim.MaxWidth, lim.MaxHeight))
		}
	}
	if short := min(v.DisplayWidth, v.DisplayHeight); short < MinShortSide {
		return nil, reject(RejectTooSmall, "reject.too_small", "the picture is only %s; we need at least %s pixels on its shorter side — please export the video at a larger size (720p is ideal) and upload it again",
			fmt.Sprintf("%dx%d", v.DisplayWidth, v.DisplayHeight), strconv.Itoa(MinShortSide))
	}
	if info.Audio == nil {
		warnings = append(warnings, "the file has no sound track; a silent one was added")
	}
	if info.AttachedPictures > 0 {
		warnings = append(warnings, "the file carries cover art, which was ignored")
	}
	return warnings, nil
}

// single reports whether the video stream is a single frame.
func single(info *Info) bool {
	v := info.Video
	if v.Frames > 0 {
		return v.Frames <= 1
	}
	d := v.Duration
	if d <= 0 {
		d = info.Duration
	}
	if d > 0 && v.FrameRate > 0 {
		return d*v.FrameRate < 1.5
	}
	return false
}

// Clock formats seconds as m:ss (h:mm:ss from one hour), rounding down
// so "stops at" never claims more than there is.
func Clock(seconds float64) string {
	if seconds < 0 || math.IsNaN(seconds) {
		seconds = 0
	}
	s := int(seconds)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// CheckIntegrity reads the whole source once, without decoding
// (`ffmpeg -xerror -i SRC -map 0 -c copy -f null -`), so that a damaged or
// truncated file is rejected rather than silently cut short. A faststart
// MP4 cut in half probes fine and would otherwise transcode to half a
// statement with exit code 0.
func CheckIntegrity(ctx context.Context, input string, info *Info) error {
	c := info.InputFormat()
	if c == "" {
		var err error
		if c, err = sniffInput(ctx, input); err != nil {
			return err
		}
	}
	end, stderr, err := copyPass(ctx, input, c, true)
	if ctx.Err() != nil {
		return fmt.Errorf("media: integrity check: %w", ctx.Err())
	}
	dur := 0.0
	if info != nil {
		dur = info.Duration
	}
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			return fmt.Errorf("media: integrity check: %w", err)
		}
		if isTransientRead(stderr) {
			return fmt.Errorf("media: integrity check: %v: %s", err, tail(stderr, 1024))
		}
		// -xerror stops at the first error, before it can say where the
		// data ends; a second, tolerant pass finds out.
		end2, _, err2 := copyPass(ctx, input, c, false)
		if ctx.Err() != nil {
			return fmt.Errorf("media: integrity check: %w", ctx.Err())
		}
		if err2 == nil && dur > 0 && end2 > 0 && end2 < dur-truncTolerance(dur) {
			return rejectTruncated(end2, dur)
		}
		return rejectDamaged()
	}
	if dur > 0 && end < dur-truncTolerance(dur) {
		return rejectTruncated(end, dur)
	}
	return nil
}

func truncTolerance(d float64) float64 { return 1 + 0.02*d }

func rejectTruncated(at, of float64) *Rejection {
	return reject(RejectTruncated, "reject.truncated", "the file stops at %s of %s — the upload may have been cut; please upload it again", Clock(at), Clock(of))
}

// isTransientRead reports network trouble, which is worth a retry.
func isTransientRead(stderr string) bool {
	for _, s := range []string{"Connection refused", "Connection timed out", "Server returned 5", "Server returned 403", "Input/output error", "No such file or directory"} {
		if strings.Contains(stderr, s) {
			return true
		}
	}
	return false
}

// copyPass remuxes the input to nowhere and returns the last output time
// reported by -progress.
func copyPass(ctx context.Context, input string, c Container, xerror bool) (end float64, stderr string, err error) {
	cmd := exec.CommandContext(ctx, "ffmpeg", copyArgs(input, c, xerror)...)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	err = cmd.Run()
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if t, ok := progressTime(sc.Text()); ok {
			end = t
		}
	}
	return end, strings.TrimSpace(errb.String()), err
}

// copyArgs is the argument list of copyPass.
func copyArgs(input string, c Container, xerror bool) []string {
	args := []string{"-hide_banner", "-nostdin", "-v", "error"}
	if xerror {
		args = append(args, "-xerror")
	}
	args = append(args, inputOptions(input, c)...)
	return append(args, "-i", input, "-map", "0", "-c", "copy", "-f", "null", "-", "-progress", "pipe:1", "-nostats")
}
