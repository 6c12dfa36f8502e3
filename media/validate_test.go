package media

import (
	"errors"
	"strings"
	"testing"
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
		{"jpeg", &Info{FormatName: "jpeg_pipe", Video: &VideoStream{Codec: "mjpeg", Width: 1, Height: 1}}, RejectImage, "this is a JPEG image, not a video — please upload the video file", 0},
		{"png", &Info{FormatName: "png_pipe"}, RejectImage, "PNG image", 0},
		{"audio only", mod(func(i *Info) { i.Video = nil }), RejectAudioOnly, "no video, only audio", 0},
		{"nothing", &Info{FormatName: "mov,mp4,m4a,3gp,3g2,mj2"}, RejectDamaged, "could not be read as a video", 0},
		{"too long", mod(func(i *Info) { i.Duration = 723.4 }), RejectTooLong, "the file is 12:03 long; statements may be at most 10:00 — please shorten it", 0},
		{"flv", mod(func(i *Info) { i.FormatName = "flv"; i.FormatLongName = "FLV (Flash Video)" }), RejectFormat, "FLV (Flash Video)", 0},
		{"wmv codec", mod(func(i *Info) { i.Video.Codec = "wmv3" }), RejectVideoCodec, "export it as MP4", 0},
		{"audio codec", mod(func(i *Info) { i.Audio.Codec = "wmav2" }), RejectAudioCodec, "wmav2", 0},
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
