package media

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// Samples of file beginnings, built by hand from the formats' specs.

func isoFtyp(brand string) []byte {
	b := []byte("\x00\x00\x00\x18ftyp" + brand + "\x00\x00\x02\x00" + brand + "isom")
	return append(b, "\x00\x00\x00\x08free"...)
}

func riff(form string) []byte {
	return append([]byte("RIFF\x24\x10\x00\x00"+form), "LIST\x00\x01\x00\x00"...)
}

// oggPage is one Ogg page holding one packet.
func oggPage(bos bool, packet string) []byte {
	h := []byte("OggS\x00")
	flags := byte(0)
	if bos {
		flags = 2
	}
	h = append(h, flags)
	h = append(h, make([]byte, 20)...) // granule, serial, sequence, CRC
	h = append(h, 1, byte(len(packet)))
	return append(h, packet...)
}

func asf(streamTypes ...[]byte) []byte {
	var objs []byte
	for _, st := range streamTypes {
		o := []byte{0x91, 0x07, 0xDC, 0xB7, 0xB7, 0xA9, 0xCF, 0x11, 0x8E, 0xE6, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65}
		o = binary.LittleEndian.AppendUint64(o, 24+16+16)
		o = append(o, st...)
		o = append(o, make([]byte, 16)...)
		objs = append(objs, o...)
	}
	h := append([]byte{}, asfHeader...)
	h = binary.LittleEndian.AppendUint64(h, uint64(30+len(objs)))
	h = binary.LittleEndian.AppendUint32(h, uint32(len(streamTypes)))
	h = append(h, 1, 2)
	h = append(h, objs...)
	return append(h, make([]byte, 50)...) // the data object
}

// mpegFrames is n MP3 frames (MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417 bytes each).
func mpegFrames(n int) []byte {
	var b []byte
	for range n {
		f := make([]byte, 417)
		copy(f, "\xFF\xFB\x90\x64")
		b = append(b, f...)
	}
	return b
}

// adtsFrames is n AAC ADTS frames of 200 bytes.
func adtsFrames(n int) []byte {
	var b []byte
	for range n {
		f := make([]byte, 200)
		copy(f, []byte{0xFF, 0xF1, 0x50, 0x80 | byte(200>>11), byte(200 >> 3 & 0xFF), byte(200&7)<<5 | 0x1F, 0xFC})
		b = append(b, f...)
	}
	return b
}

// ts is n transport stream packets of size stride, after skip bytes of a
// cut packet; 192-byte packets carry their 4-byte timestamp first.
func ts(stride, n, skip int) []byte {
	b := bytes.Repeat([]byte{0xAB}, skip)
	for range n {
		p := make([]byte, stride)
		at := 0
		if stride == 192 {
			at = 4
		}
		p[at], p[at+1], p[at+2] = 0x47, 0x40, 0x11
		b = append(b, p...)
	}
	return b
}

func zipOf(t *testing.T, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, n := range names {
		content := "hello"
		method := zip.Deflate
		if n == "mimetype" {
			content, method = names[len(names)-1], zip.Store
		} else if strings.HasPrefix(n, "application/") {
			continue
		}
		f, err := w.CreateHeader(&zip.FileHeader{Name: n, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(content))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func bmp() []byte {
	b := []byte("BM\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00")
	return append(b, make([]byte, 40)...)
}

func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, r := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	return b
}

func TestSniff(t *testing.T) {
	random := make([]byte, SniffSize)
	rng := rand.New(rand.NewChaCha8([32]byte{1, 2, 3}))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	theora := append(oggPage(true, "\x80theora\x03\x02\x01"), oggPage(true, "\x01vorbis\x00\x00")...)
	vorbis := append(oggPage(true, "\x01vorbis\x00\x00\x00\x00"), oggPage(false, "\x03vorbis")...)
	dv := append([]byte{0x1F, 0x07, 0x00, 0xBF, 0xF8, 0x78, 0x78, 0x78}, bytes.Repeat([]byte{0xFF}, 72)...)
	for _, tc := range []struct {
		name string
		head []byte
		want Container // "" = refused
		code string
		arg  string // the name the reason gives, if any
	}{
		// Containers we accept.
		{"mp4", isoFtyp("isom"), ContainerMOV, "", ""},
		{"quicktime", isoFtyp("qt  "), ContainerMOV, "", ""},
		{"3gp", isoFtyp("3gp4"), ContainerMOV, "", ""},
		{"old quicktime, mdat first", append([]byte("\x00\x01\x00\x00mdat\x00\x00\x00\x01"), make([]byte, 64)...), ContainerMOV, "", ""},
		{"matroska", []byte("\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01webm"), ContainerMatroska, "", ""},
		{"avi", riff("AVI "), ContainerAVI, "", ""},
		{"wmv", asf(asfVideoMedia, asfAudioMedia), ContainerASF, "", ""},
		{"flv", []byte("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"), ContainerFLV, "", ""},
		{"ogg theora", theora, ContainerOgg, "", ""},
		{"mpeg-ps", []byte("\x00\x00\x01\xBA\x44\x00\x04\x00\x04\x01"), ContainerMPEGPS, "", ""},
		{"dv", dv, ContainerDV, "", ""},
		{"ts", ts(188, 20, 0), ContainerMPEGTS, "", ""},
		{"ts cut", ts(188, 20, 100), ContainerMPEGTS, "", ""},
		{"m2ts", ts(192, 20, 0), ContainerMPEGTS, "", ""},
		{"short ts", ts(188, 3, 0), ContainerMPEGTS, "", ""},

		// Lists of other files: never handed to ffmpeg.
		{"hls", []byte("#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10,\nhttp://169.254.169.254/latest/meta-data/\n"), "", RejectReference, "HLS/M3U8"},
		{"hls with bom and crlf", []byte("\xEF\xBB\xBF#EXTM3U\r\n#EXTINF:10,\r\n/srv/data/statements/x/download.mp4\r\n"), "", RejectReference, "HLS/M3U8"},
		{"hls without header", []byte("# a playlist\n#EXTINF:10,\nfile:///etc/passwd\n"), "", RejectReference, "HLS/M3U8"},
		{"dash", []byte("<?xml version=\"1.0\"?>\n<!-- x -->\n<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\">"), "", RejectReference, "DASH/MPD"},
		{"ffconcat", []byte("ffconcat version 1.0\nfile /etc/passwd\n"), "", RejectReference, "ffconcat"},
		{"sdp", []byte("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\nm=video 5004 RTP/AVP 96\r\n"), "", RejectReference, "SDP"},
		{"smil", []byte("<smil><body><video src=\"http://x/\"/></body></smil>"), "", RejectReference, "SMIL"},
		{"pls", []byte("[playlist]\nFile1=http://x/\n"), "", RejectReference, "PLS"},

		// Documents, text, archives.
		{"html", []byte("<!DOCTYPE html>\n<html><body>"), "", RejectDocument, "HTML"},
		{"html fragment", []byte("  <html lang=en><head>"), "", RejectDocument, "HTML"},
		{"xml", []byte("<?xml version=\"1.0\"?><note/>"), "", RejectDocument, "XML"},
		{"json", []byte(`{"video": "http://x/"}`), "", RejectDocument, "JSON"},
		{"json array", []byte(`[{"a": 1}]`), "", RejectDocument, "JSON"},
		{"pdf", []byte("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n"), "", RejectDocument, "PDF"},
		{"rtf", []byte(`{\rtf1\ansi hello}`), "", RejectDocument, "RTF"},
		{"docx", zipOf(t, "[Content_Types].xml", "_rels/.rels", "word/document.xml"), "", RejectDocument, "Word"},
		{"xlsx", zipOf(t, "[Content_Types].xml", "xl/workbook.xml"), "", RejectDocument, "Excel"},
		{"pptx", zipOf(t, "[Content_Types].xml", "ppt/presentation.xml"), "", RejectDocument, "PowerPoint"},
		{"odt", zipOf(t, "mimetype", "content.xml", "application/vnd.oasis.opendocument.text"), "", RejectDocument, "OpenDocument"},
		{"epub", zipOf(t, "mimetype", "OEBPS/x.html", "application/epub+zip"), "", RejectDocument, "EPUB"},
		{"doc", []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00"), "", RejectDocument, "Microsoft Office"},
		{"zip", zipOf(t, "statement.mp4"), "", RejectArchive, "ZIP"},
		{"rar", []byte("Rar!\x1A\x07\x01\x00"), "", RejectArchive, "RAR"},
		{"7z", []byte("7z\xBC\xAF\x27\x1C\x00\x04"), "", RejectArchive, "7z"},
		{"gzip", []byte("\x1F\x8B\x08\x00\x00\x00"), "", RejectArchive, "gzip"},
		{"text", []byte("Our statement will be sent next week.\n"), "", RejectText, ""},
		{"utf-16 text", utf16LE("Déclaration\r\n"), "", RejectText, ""},
		{"latin-1 text", []byte("D\xE9claration de l'ONG\n"), "", RejectText, ""},
		{"text like monkey's audio", []byte("MAC address list\n"), "", RejectText, ""},
		{"text like quicktime", []byte("Somefree text\n"), "", RejectText, ""},
		{"text like id3", []byte("ID3 tags explained\n"), "", RejectText, ""},

		// Pictures.
		{"jpeg", []byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00"), "", RejectImage, "JPEG"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0DIHDR"), "", RejectImage, "PNG"},
		{"gif", []byte("GIF89a\x10\x00\x10\x00"), "", RejectImage, "GIF"},
		{"webp", riff("WEBP"), "", RejectImage, "WebP"},
		{"bmp", bmp(), "", RejectImage, "BMP"},
		{"tiff", []byte("II*\x00\x08\x00\x00\x00"), "", RejectImage, "TIFF"},
		{"heic", isoFtyp("heic"), "", RejectImage, "HEIC"},
		{"avif", isoFtyp("avif"), "", RejectImage, "AVIF"},
		{"svg", []byte("<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\">"), "", RejectImage, "SVG"},

		// Sound only.
		{"mp3 with id3", append([]byte("ID3\x04\x00\x00\x00\x00\x00\x10"), mpegFrames(2)...), "", RejectAudioOnly, ""},
		{"mp3", mpegFrames(3), "", RejectAudioOnly, ""},
		{"aac", adtsFrames(3), "", RejectAudioOnly, ""},
		{"wav", riff("WAVE"), "", RejectAudioOnly, ""},
		{"flac", []byte("fLaC\x00\x00\x00\x22\x10\x00"), "", RejectAudioOnly, ""},
		{"m4a", isoFtyp("M4A "), "", RejectAudioOnly, ""},
		{"ogg vorbis", vorbis, "", RejectAudioOnly, ""},
		{"wma", asf(asfAudioMedia), "", RejectAudioOnly, ""},
		{"amr", []byte("#!AMR\n\x3C\x91\x17\x16"), "", RejectAudioOnly, ""},

		// Video formats we do not take, by name.
		{"mxf", append(append([]byte{}, mxfHeader...), 0x02, 0x04, 0x00), "", RejectFormat, "MXF"},
		{"realmedia", []byte(".RMF\x00\x00\x00\x12\x00\x01"), "", RejectFormat, "RealMedia"},
		{"raw h.264", []byte("\x00\x00\x00\x01\x67\x64\x00\x1F\xAC"), "", RejectFormat, "raw H.264"},
		{"raw h.264 after an access unit delimiter", []byte("\x00\x00\x01\x09\xF0\x00\x00\x00\x01\x67"), "", RejectFormat, "raw H.264"},
		{"raw hevc", []byte("\x00\x00\x00\x01\x40\x01\x0C\x01"), "", RejectFormat, "raw HEVC"},

		// Nothing recognisable.
		{"random bytes", random, "", RejectDamaged, ""},
		{"empty", nil, "", RejectDamaged, ""},
		{"one mp3 frame header in noise", append([]byte("\xFF\xFB\x90\x64"), random[:1000]...), "", RejectDamaged, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Sniff(tc.head)
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("Sniff = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			var r *Rejection
			if !errors.As(err, &r) {
				t.Fatalf("Sniff = %q, %v; want a *Rejection", got, err)
			}
			if got != "" || r.Code != tc.code || tc.arg != "" && !strings.Contains(r.Reason, "("+tc.arg+")") && !strings.Contains(r.Reason, " "+tc.arg+" ") {
				t.Errorf("Sniff = %q, %s %q; want %s naming %q", got, r.Code, r.Reason, tc.code, tc.arg)
			}
			if tc.arg != "" && (len(r.Args) != 1 || r.Args[0] != tc.arg) {
				t.Errorf("args %q, want [%q]", r.Args, tc.arg)
			}
		})
	}
}

// TestForceInput: the restrictions go just before the source's -i, after
// its own options; nothing else moves.
func TestForceInput(t *testing.T) {
	info := goldenCases()["no_audio"]
	for _, tc := range []struct {
		input string
		c     Container
		want  []string
	}{
		{"/srv/data/statements/x/source", ContainerMOV, []string{"-f", "mov", "-format_whitelist", "mov", "-protocol_whitelist", "file"}},
		{"http://127.0.0.1:7070/b/uploads/x?X-Amz-Signature=1", ContainerASF, []string{"-f", "asf", "-format_whitelist", "asf", "-protocol_whitelist", "http,tcp"}},
		{"https://s3.example.org/b/uploads/x?X-Amz-Signature=1", ContainerMPEGTS, []string{"-f", "mpegts", "-format_whitelist", "mpegts", "-protocol_whitelist", "https,tls,tcp"}},
	} {
		p, err := NewPlan(tc.input, info, "/out", DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		args := p.Args()
		at := -1
		for i := range args {
			if args[i] == "-i" && args[i+1] == tc.input {
				at = i
				break
			}
		}
		if at < 0 {
			t.Fatalf("no -i %s in %q", tc.input, args)
		}
		want := append(append(append([]string{}, args[:at]...), tc.want...), args[at:]...)
		if got := ForceInput(args, tc.input, tc.c); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("ForceInput:\n got %q\nwant %q", got, want)
		}
	}
}

// TestReadArgs: ffprobe and the integrity pass read the source forced to
// its container, with only the protocols its URL needs.
func TestReadArgs(t *testing.T) {
	url := "https://s3.example.org/b/uploads/x?X-Amz-Signature=1"
	for _, tc := range []struct {
		name string
		got  []string
		want string
	}{
		{"probe file", probeArgs("/data/up/x", ContainerMatroska),
			"-v error -hide_banner -f matroska -format_whitelist matroska -protocol_whitelist file -print_format json -show_format -show_streams /data/up/x"},
		{"probe url", probeArgs(url, ContainerMOV),
			"-v error -hide_banner -f mov -format_whitelist mov -protocol_whitelist https,tls,tcp -reconnect 1 -reconnect_on_network_error 1 -reconnect_delay_max 10 -print_format json -show_format -show_streams " + url},
		{"copy pass", copyArgs("/data/up/x", ContainerAVI, true),
			"-hide_banner -nostdin -v error -xerror -f avi -format_whitelist avi -protocol_whitelist file -i /data/up/x -map 0 -c copy -f null - -progress pipe:1 -nostats"},
		{"tolerant copy pass over http", copyArgs("http://h/x", ContainerDV, false),
			"-hide_banner -nostdin -v error -f dv -format_whitelist dv -protocol_whitelist http,tcp -reconnect 1 -reconnect_on_network_error 1 -reconnect_delay_max 10 -i http://h/x -map 0 -c copy -f null - -progress pipe:1 -nostats"},
	} {
		if got := strings.Join(tc.got, " "); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestInputFormat(t *testing.T) {
	for _, tc := range []struct {
		info *Info
		want Container
	}{
		{&Info{FormatName: "mov,mp4,m4a,3gp,3g2,mj2", Container: ContainerMOV}, ContainerMOV},
		{&Info{FormatName: "matroska,webm"}, ContainerMatroska}, // probed before sources were sniffed
		{&Info{FormatName: "mpegts"}, ContainerMPEGTS},
		{&Info{FormatName: "hls"}, ""},
		{nil, ""},
	} {
		if got := tc.info.InputFormat(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.info, got, tc.want)
		}
	}
}
