package media

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/uprinfo/presession/internal/testenv"
)

// lavfi writes a clip of ffmpeg's test sources with the given output
// options to dir/name: a picture of size for seconds, with a tone unless
// audio is empty (audio holds the audio output options).
func lavfi(t *testing.T, dir, name, size string, seconds float64, video, audio []string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	args := []string{"-v", "error", "-y"}
	if size != "" {
		args = append(args, "-f", "lavfi", "-i", "testsrc2=size="+size+":rate=25:duration="+ftoa(seconds))
	}
	if audio != nil {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration="+ftoa(seconds))
	}
	args = append(append(append(args, video...), audio...), out)
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("make %s: %v\n%s", name, err, b)
	}
	return out
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// TestRefusedBeforeFFmpeg: the files people upload by mistake — and the
// playlists and lists an attacker would — are refused from their first
// bytes with a reason that says what they are, before any ffprobe or
// ffmpeg runs: the test takes ffprobe and ffmpeg off PATH once the files
// are made.
func TestRefusedBeforeFFmpeg(t *testing.T) {
	testenv.FFmpeg(t)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	still := []string{"-frames:v", "1"}
	sound := func(c ...string) []string { return append([]string{}, c...) }
	for _, tc := range []struct {
		name string
		file string
		code string
		key  string
		arg  string
	}{
		{"hls playlist", write("statement.mp4", "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nhttp://127.0.0.1:9/latest/meta-data/\n#EXT-X-ENDLIST\n"), RejectReference, "reject.reference", "HLS/M3U8"},
		{"dash manifest", write("statement.mpd.mp4", `<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011"><Period><BaseURL>http://127.0.0.1:9/</BaseURL></Period></MPD>`), RejectReference, "reject.reference", "DASH/MPD"},
		{"concat list", write("concat.mp4", "ffconcat version 1.0\nfile '/etc/passwd'\n"), RejectReference, "reject.reference", "ffconcat"},
		{"sdp", write("stream.mp4", "v=0\no=- 0 0 IN IP4 127.0.0.1\nc=IN IP4 127.0.0.1\nm=video 5004 RTP/AVP 96\n"), RejectReference, "reject.reference", "SDP"},
		{"html", write("page.mp4", "<!doctype html><html><body><video src=x></video></body></html>"), RejectDocument, "reject.document", "HTML"},
		{"pdf", write("report.mp4", "%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"), RejectDocument, "reject.document", "PDF"},
		{"text", write("notes.mp4", "Please find our statement attached.\n"), RejectText, "reject.text", ""},
		{"zip", func() string {
			return write("videos.mp4", string(zipOf(t, "statement.mp4")))
		}(), RejectArchive, "reject.archive", "ZIP"},
		{"docx", func() string {
			return write("statement.docx.mp4", string(zipOf(t, "[Content_Types].xml", "word/document.xml")))
		}(), RejectDocument, "reject.document", "Word"},
		{"jpeg", lavfi(t, dir, "photo.jpg", "320x240", 1, still, nil), RejectImage, "reject.image", "JPEG"},
		{"png", lavfi(t, dir, "shot.png", "320x240", 1, still, nil), RejectImage, "reject.image", "PNG"},
		{"gif", lavfi(t, dir, "anim.gif", "160x120", 1, nil, nil), RejectImage, "reject.image", "GIF"},
		{"webp", lavfi(t, dir, "photo.webp", "320x240", 1, still, nil), RejectImage, "reject.image", "WebP"},
		{"bmp", lavfi(t, dir, "photo.bmp", "320x240", 1, still, nil), RejectImage, "reject.image", "BMP"},
		{"tiff", lavfi(t, dir, "scan.tiff", "320x240", 1, still, nil), RejectImage, "reject.image", "TIFF"},
		{"mp3", lavfi(t, dir, "voice.mp3", "", 1, nil, sound("-c:a", "libmp3lame")), RejectAudioOnly, "reject.audio_only", ""},
		{"wav", lavfi(t, dir, "voice.wav", "", 1, nil, sound()), RejectAudioOnly, "reject.audio_only", ""},
		{"flac", lavfi(t, dir, "voice.flac", "", 1, nil, sound()), RejectAudioOnly, "reject.audio_only", ""},
		{"m4a", lavfi(t, dir, "voice.m4a", "", 1, nil, sound("-c:a", "aac")), RejectAudioOnly, "reject.audio_only", ""},
		{"ogg vorbis", lavfi(t, dir, "voice.ogg", "", 1, nil, sound("-c:a", "libvorbis")), RejectAudioOnly, "reject.audio_only", ""},
		{"wma", lavfi(t, dir, "voice.wma", "", 1, nil, sound("-c:a", "wmav2")), RejectAudioOnly, "reject.audio_only", ""},
		{"aac", lavfi(t, dir, "voice.aac", "", 1, nil, sound("-c:a", "aac", "-f", "adts")), RejectAudioOnly, "reject.audio_only", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir()) // no ffprobe, no ffmpeg
			info, err := Probe(context.Background(), tc.file)
			var r *Rejection
			if !errors.As(err, &r) {
				t.Fatalf("Probe = %+v, %v; want a *Rejection before ffprobe", info, err)
			}
			if r.Code != tc.code || r.Key != tc.key || tc.arg != "" && (len(r.Args) != 1 || r.Args[0] != tc.arg) {
				t.Errorf("rejection %s %s %q (%s), want %s %s naming %q", r.Code, r.Key, r.Args, r.Reason, tc.code, tc.key, tc.arg)
			}
			if err := CheckIntegrity(context.Background(), tc.file, nil); !errors.As(err, &r) || r.Code != tc.code {
				t.Errorf("CheckIntegrity without a probe: %v, want the same refusal", err)
			}
		})
	}
}
