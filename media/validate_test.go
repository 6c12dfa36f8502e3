package media

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/uprinfo/presession/i18n"
)

func TestParseProbeRotation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream string
		rot    int
		w, h   int
	}{
		{"display matrix -90", `"side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]`, 90, 1080, 1920},
		{"display matrix 90", `"side_data_list":[{"side_data_type":"Display Matrix","rotation":90}]`, 270, 1080, 1920},
		{"display matrix 180", `"side_data_list":[{"side_data_type":"Display Matrix","rotation":180}]`, 180, 1920, 1080},
		{"legacy tag", `"tags":{"rotate":"90"}`, 90, 1080, 1920},
		{"none", `"tags":{}`, 0, 1920, 1080},
		{"anamorphic", `"sample_aspect_ratio":"4:3"`, 0, 2560, 1080},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := `{"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"10.0"},"streams":[
			{"index":0,"codec_type":"video","codec_name":"h264","width":1920,"height":1080,"avg_frame_rate":"30000/1001","nb_frames":"300",` + tc.stream + `},
			{"index":1,"codec_type":"video","codec_name":"mjpeg","width":300,"height":300,"disposition":{"attached_pic":1}},
			{"index":2,"codec_type":"audio","codec_name":"aac","channels":2,"sample_rate":"48000"}]}`
			info, err := ParseProbe([]byte(js))
			if err != nil {
				t.Fatal(err)
			}
			v := info.Video
			if v.Rotation != tc.rot || v.DisplayWidth != tc.w || v.DisplayHeight != tc.h {
				t.Errorf("rotation %d display %dx%d, want %d %dx%d", v.Rotation, v.DisplayWidth, v.DisplayHeight, tc.rot, tc.w, tc.h)
			}
			if info.AttachedPictures != 1 || info.Audio == nil || info.Audio.SampleRate != 48000 || v.Frames != 300 {
				t.Errorf("info %+v", info)
			}
			if v.FrameRate < 29.97 || v.FrameRate > 29.98 {
				t.Errorf("frame rate %v", v.FrameRate)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	lim := DefaultLimits(600)
	mod := func(f func(i *Info)) *Info { i := landscapeInfo(); f(i); return i }
	for _, tc := range []struct {
		name     string
		info     *Info
		code     string // "" = accepted
		contains string
		warnings int
	}{
		{"ok", landscapeInfo(), "", "", 0},
		{"jpeg", &Info{FormatName: "jpeg_pipe", Video: &VideoStream{Codec: "mjpeg", Width: 1, Height: 1}}, RejectImage, "this is an image in JPEG format, not a video — please upload the video file", 0},
		{"png", &Info{FormatName: "png_pipe"}, RejectImage, "image in PNG format", 0},
		{"image2", &Info{FormatName: "image2"}, RejectImage, "this is an image, not a video", 0},
		{"audio only", mod(func(i *Info) { i.Video = nil }), RejectAudioOnly, "no video, only audio", 0},
		{"nothing", &Info{FormatName: "mov,mp4,m4a,3gp,3g2,mj2"}, RejectDamaged, "could not be read as a video", 0},
		{"too long", mod(func(i *Info) { i.Duration = 723.4 }), RejectTooLong, "the file is 12:03 long; statements may be at most 10:00 — please shorten it", 0},
		{"realmedia", mod(func(i *Info) { i.FormatName = "rm"; i.FormatLongName = "RealMedia" }), RejectFormat, "format we cannot accept (RealMedia)", 0},
		{"text art codec", mod(func(i *Info) { i.Video.Codec = "ansi" }), RejectVideoCodec, "export it as MP4", 0},
		{"game audio codec", mod(func(i *Info) { i.Audio.Codec = "adpcm_ea" }), RejectAudioCodec, "adpcm_ea", 0},
		// Old but ordinary recordings (item 9 of the security review).
		{"flv", mod(func(i *Info) { i.FormatName = "flv"; i.Video.Codec = "flv1"; i.Audio.Codec = "mp3" }), "", "", 0},
		{"wmv3 wmav2", mod(func(i *Info) { i.FormatName = "asf"; i.Video.Codec = "wmv3"; i.Audio.Codec = "wmav2" }), "", "", 0},
		{"vc1 wmapro", mod(func(i *Info) { i.FormatName = "asf"; i.Video.Codec = "vc1"; i.Audio.Codec = "wmapro" }), "", "", 0},
		{"mjpeg avi", mod(func(i *Info) { i.FormatName = "avi"; i.Video.Codec = "mjpeg"; i.Audio.Codec = "adpcm_ima_wav" }), "", "", 0},
		{"dv", mod(func(i *Info) { i.FormatName = "dv"; i.Video.Codec = "dvvideo"; i.Audio.Codec = "pcm_s16le" }), "", "", 0},
		{"3gp amr", mod(func(i *Info) { i.Video.Codec = "h263"; i.Audio.Codec = "amr_nb" }), "", "", 0},
		{"theora", mod(func(i *Info) { i.FormatName = "ogg"; i.Video.Codec = "theora"; i.Audio.Codec = "vorbis" }), "", "", 0},
		{"mpeg-ps mp2", mod(func(i *Info) { i.FormatName = "mpeg"; i.Video.Codec = "mpeg2video"; i.Audio.Codec = "mp2" }), "", "", 0},
		// The smallest picture (item 11).
		{"16x16", mod(func(i *Info) { i.Video.DisplayWidth, i.Video.DisplayHeight = 16, 16 }), RejectTooSmall, "the picture is only 16x16; we need at least 144 pixels on its shorter side", 0},
		{"portrait 143 wide", mod(func(i *Info) { i.Video.DisplayWidth, i.Video.DisplayHeight = 143, 256 }), RejectTooSmall, "only 143x256", 0},
		{"256x144", mod(func(i *Info) { i.Video.DisplayWidth, i.Video.DisplayHeight = 256, 144 }), "", "", 0},
		{"144x256", mod(func(i *Info) { i.Video.DisplayWidth, i.Video.DisplayHeight = 144, 256 }), "", "", 0},
		{"pcm ok", mod(func(i *Info) { i.Audio.Codec = "pcm_s16le" }), "", "", 0},
		{"single frame", mod(func(i *Info) { i.Video.Frames = 1; i.Duration = 0.04 }), RejectStill, "single picture", 0},
		{"single frame mkv", mod(func(i *Info) { i.FormatName = "matroska,webm"; i.Video.Frames = 0; i.Duration = 0.04 }), RejectStill, "single picture", 0},
		{"no duration", mod(func(i *Info) { i.Duration = 0; i.Video.Frames = 0 }), RejectNoDuration, "length", 0},
		{"9K", mod(func(i *Info) { i.Video.DisplayWidth, i.Video.DisplayHeight = 8640, 4320 }), RejectTooLarge, "8640x4320", 0},
		{"8K portrait", mod(func(i *Info) { i.Video.DisplayWidth, i.Video.DisplayHeight = 4320, 7680 }), "", "", 0},
		{"no audio warns", mod(func(i *Info) { i.Audio = nil }), "", "", 1},
		{"webm vp9 opus", mod(func(i *Info) { i.FormatName = "matroska,webm"; i.Video.Codec = "vp9"; i.Audio.Codec = "opus" }), "", "", 0},
		{"mpegts", mod(func(i *Info) { i.FormatName = "mpegts" }), "", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Validate(tc.info, lim)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if len(w) != tc.warnings {
					t.Errorf("warnings %q", w)
				}
				return
			}
			var r *Rejection
			if !errors.As(err, &r) {
				t.Fatalf("err = %v, want a *Rejection", err)
			}
			if r.Code != tc.code || !strings.Contains(r.Error(), tc.contains) {
				t.Errorf("rejection %q (%s), want %s containing %q", r.Error(), r.Code, tc.code, tc.contains)
			}
		})
	}
}

// rejectCodes reads the values of the Reject* constants from the source,
// so that a new code cannot escape TestRejectionMessages.
func rejectCodes(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "validate.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 || !strings.HasPrefix(vs.Names[0].Name, "Reject") {
			return true
		}
		if lit, ok := vs.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
			v, _ := strconv.Unquote(lit.Value)
			codes = append(codes, v)
		}
		return true
	})
	if len(codes) < 11 {
		t.Fatalf("found only %d Reject* codes: %q", len(codes), codes)
	}
	return codes
}

// TestRejectionMessages: every rejection names a catalogue message that
// exists in every language and takes exactly its arguments, and the
// English message with them is the rejection's Reason word for word.
func TestRejectionMessages(t *testing.T) {
	b, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	lim := DefaultLimits(600)
	mod := func(f func(i *Info)) *Info { i := landscapeInfo(); f(i); return i }
	sniffed := func(head string) *Rejection {
		_, err := Sniff([]byte(head))
		var r *Rejection
		if !errors.As(err, &r) {
			t.Fatalf("Sniff(%q): %v, want a *Rejection", head, err)
		}
		return r
	}
	validate := func(info *Info) *Rejection {
		_, err := Validate(info, lim)
		var r *Rejection
		if !errors.As(err, &r) {
			t.Fatalf("Validate: %v, want a *Rejection", err)
		}
		return r
	}
	samples := []*Rejection{
		rejectDamaged(),
		rejectTruncated(24.9, 60),
		rejectTruncated(3725, 7200),
		validate(&Info{FormatName: "jpeg_pipe"}),
		validate(&Info{FormatName: "svg_pipe"}),
		validate(&Info{FormatName: "image2"}),
		validate(&Info{FormatName: "xwd_pipe"}),
		validate(mod(func(i *Info) { i.Video = nil })),
		validate(mod(func(i *Info) { i.FormatName = "rm"; i.FormatLongName = "RealMedia" })),
		validate(mod(func(i *Info) { i.Video.Codec = "ansi" })),
		validate(mod(func(i *Info) { i.Audio.Codec = "adpcm_ea" })),
		validate(mod(func(i *Info) { i.Video.Frames = 1; i.Duration = 0.04 })),
		validate(mod(func(i *Info) { i.Duration = 0; i.Video.Frames = 0 })),
		validate(mod(func(i *Info) { i.Duration = 723.4 })),
		validate(mod(func(i *Info) { i.Video.DisplayWidth, i.Video.DisplayHeight = 8640, 4320 })),
		validate(mod(func(i *Info) { i.Video.DisplayWidth, i.Video.DisplayHeight = 16, 16 })),
		sniffed("#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1/\n"),
		sniffed("ffconcat version 1.0\nfile /etc/passwd\n"),
		sniffed("%PDF-1.7\n"),
		sniffed("<!DOCTYPE html><html>"),
		sniffed("hello\n"),
		sniffed("PK\x05\x06" + strings.Repeat("\x00", 18)),
		sniffed("\xFF\xD8\xFF\xE0"),
		sniffed("RIFF\x00\x00\x00\x00WAVE"),
		sniffed("\x06\x0E\x2B\x34\x02\x05\x01\x01\x0D\x01\x02\x01\x01\x02"),
	}
	covered := map[string]bool{}
	for _, r := range samples {
		covered[r.Code] = true
		t.Run(r.Code+" "+r.Key, func(t *testing.T) {
			if !strings.HasPrefix(r.Key, "reject.") || !b.Has(r.Key) {
				t.Fatalf("key %q is not in the catalogue", r.Key)
			}
			for _, lang := range i18n.Languages {
				got, ok := b.Message(lang, r.Key, r.Args)
				if !ok {
					t.Errorf("%s: the message takes other arguments than %q", lang, r.Args)
				}
				for _, a := range r.Args {
					if !strings.Contains(got, a) {
						t.Errorf("%s: %q does not show the argument %q", lang, got, a)
					}
				}
				if lang == "en" && got != r.Reason {
					t.Errorf("English message differs from the reason:\n  message %s\n  reason  %s", got, r.Reason)
				}
			}
		})
	}
	for _, code := range rejectCodes(t) {
		if !covered[code] {
			t.Errorf("code %q has no sample rejection here", code)
		}
	}
	if !slices.Contains(samples[1].Args, "0:24") || !slices.Contains(samples[1].Args, "1:00") {
		t.Errorf("truncated args %q", samples[1].Args)
	}
}

func TestClock(t *testing.T) {
	for in, want := range map[float64]string{0: "0:00", 24.9: "0:24", 60: "1:00", 723.4: "12:03", 3725: "1:02:05"} {
		if got := Clock(in); got != want {
			t.Errorf("Clock(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestProgressTime(t *testing.T) {
	for line, want := range map[string]float64{"out_time_us=1500000": 1.5, "out_time_ms=2000000": 2, "out_time_us=N/A": -1, "frame=3": -1} {
		got, ok := progressTime(line)
		if (want < 0) == ok || (ok && got != want) {
			t.Errorf("progressTime(%q) = %v, %v", line, got, ok)
		}
	}
}
