package media

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strings"
	"unicode/utf16"
)

// SniffSize is how many of a source's first bytes Sniff looks at: enough
// for every signature below, ten MPEG-TS packets, an ASF header, the
// first Ogg pages and the first entries of a ZIP.
const SniffSize = 64 << 10

// Sniff decides a source's container from its first bytes (up to
// SniffSize of them; fewer when the file is shorter), before any ffmpeg
// reads it. It returns the container to force on every ffprobe and
// ffmpeg run, or a *Rejection that says what the file is when it is not
// a video container we accept: a playlist or list of other files (HLS,
// DASH, ffconcat, SDP), a document, plain text, an archive, an image, an
// audio-only file, a video format we do not take, or bytes nothing
// recognises.
//
// ffmpeg left to guess would follow a playlist's URLs (from the worker,
// on a presigned URL: the service's own network) or open the local files
// a concat list names; Sniff refuses those from their bytes, and the
// forced container keeps ffmpeg from guessing again.
func Sniff(head []byte) (Container, error) {
	c, rej := sniff(head)
	if rej != nil {
		return "", rej
	}
	return c, nil
}

func sniff(b []byte) (Container, *Rejection) {
	if len(b) == 0 {
		return "", rejectDamaged()
	}
	for _, s := range []func([]byte) (Container, *Rejection, bool){
		sniffISO, sniffRIFF, sniffOther, sniffImage, sniffDocument, sniffAudio, sniffTS, sniffText,
	} {
		if c, rej, ok := s(b); ok {
			return c, rej
		}
	}
	return "", rejectDamaged()
}

func hasPrefix(b []byte, s string) bool { return bytes.HasPrefix(b, []byte(s)) }

func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// isoBoxes are the top-level box types a QuickTime or ISO-BMFF (MP4, 3GP)
// file starts with.
var isoBoxes = map[string]bool{
	"ftyp": true, "moov": true, "mdat": true, "wide": true, "free": true, "skip": true,
	"pnot": true, "junk": true, "uuid": true, "styp": true, "sidx": true, "moof": true,
}

// ISO-BMFF major brands that are not videos.
var (
	imageBrands = map[string]string{
		"heic": "HEIC", "heix": "HEIC", "heim": "HEIC", "heis": "HEIC", "hevc": "HEIC", "hevx": "HEIC",
		"mif1": "HEIF", "mif2": "HEIF", "msf1": "HEIF", "avif": "AVIF", "avis": "AVIF", "crx ": "CR3",
	}
	audioBrands = map[string]bool{"M4A ": true, "M4B ": true, "M4P ": true, "F4A ": true, "F4B ": true}
)

// sniffISO: QuickTime, MP4, 3GP, M4V; HEIF/AVIF pictures and M4A audio
// share the box structure and are told apart by the ftyp brand.
func sniffISO(b []byte) (Container, *Rejection, bool) {
	if len(b) < 8 || !isoBoxes[string(b[4:8])] {
		return "", nil, false
	}
	if size := be32(b); size != 0 && size != 1 && size < 8 {
		return "", nil, false
	}
	if string(b[4:8]) != "ftyp" && !hasControl(b[:min(len(b), 64)]) {
		return "", nil, false // text that happens to read "free" or "wide" there
	}
	if string(b[4:8]) == "ftyp" && len(b) >= 12 {
		brand := string(b[8:12])
		if name, ok := imageBrands[brand]; ok {
			return "", rejectImageNamed(name), true
		}
		if audioBrands[brand] {
			return "", rejectAudioOnly(), true
		}
	}
	return ContainerMOV, nil, true
}

// sniffRIFF: AVI, and the RIFF files that are not videos (WAV, WebP).
func sniffRIFF(b []byte) (Container, *Rejection, bool) {
	if hasPrefix(b, "RF64") {
		return "", rejectAudioOnly(), true // 64-bit WAV
	}
	if !hasPrefix(b, "RIFF") || len(b) < 12 {
		return "", nil, false
	}
	switch string(b[8:12]) {
	case "AVI ":
		return ContainerAVI, nil, true
	case "WAVE", "RMID":
		return "", rejectAudioOnly(), true
	case "WEBP":
		return "", rejectImageNamed("WebP"), true
	case "CDXA":
		return "", rejectFormatNamed("Video CD (DAT)"), true
	}
	return "", nil, false
}

// ASF GUIDs, in the byte order they are stored in.
var (
	asfHeader     = []byte{0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C}
	asfAudioMedia = []byte{0x40, 0x9E, 0x69, 0xF8, 0x4D, 0x5B, 0xCF, 0x11, 0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B}
	asfVideoMedia = []byte{0xC0, 0xEF, 0x19, 0xBC, 0x4D, 0x5B, 0xCF, 0x11, 0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B}
	mxfHeader     = []byte{0x06, 0x0E, 0x2B, 0x34, 0x02, 0x05, 0x01, 0x01, 0x0D, 0x01, 0x02, 0x01, 0x01}
)

// sniffOther: the other video containers we accept (Matroska/WebM, ASF,
// FLV, Ogg, MPEG-PS, DV), and video containers we refuse by name.
func sniffOther(b []byte) (Container, *Rejection, bool) {
	switch {
	case hasPrefix(b, "\x1A\x45\xDF\xA3"):
		return ContainerMatroska, nil, true
	case bytes.HasPrefix(b, asfHeader):
		// The header object declares every stream: a WMA file declares
		// audio ones only. A header longer than what we have read is
		// left to ffprobe.
		if len(b) >= 24 {
			if n := binary.LittleEndian.Uint64(b[16:24]); n <= uint64(len(b)) {
				h := b[:n]
				if bytes.Contains(h, asfAudioMedia) && !bytes.Contains(h, asfVideoMedia) {
					return "", rejectAudioOnly(), true
				}
			}
		}
		return ContainerASF, nil, true
	case hasPrefix(b, "FLV\x01"):
		return ContainerFLV, nil, true
	case hasPrefix(b, "OggS\x00"):
		if oggAudioOnly(b) {
			return "", rejectAudioOnly(), true
		}
		return ContainerOgg, nil, true
	case hasPrefix(b, "\x00\x00\x01\xBA"):
		return ContainerMPEGPS, nil, true
	case len(b) >= 4 && be32(b)&0xffffff7f == 0x1f07003f: // a DIF header block, as ffmpeg's dv probe looks for
		return ContainerDV, nil, true
	case bytes.HasPrefix(b, mxfHeader):
		return "", rejectFormatNamed("MXF"), true
	case hasPrefix(b, ".RMF"):
		return "", rejectFormatNamed("RealMedia"), true
	case hasPrefix(b, "nut/multimedia container"):
		return "", rejectFormatNamed("NUT"), true
	case (hasPrefix(b, "FWS") || hasPrefix(b, "CWS") || hasPrefix(b, "ZWS")) && hasControl(b[:min(len(b), 8)]):
		return "", rejectFormatNamed("Flash (SWF)"), true
	case hasPrefix(b, "YUV4MPEG2"):
		return "", rejectFormatNamed("YUV4MPEG"), true
	case annexB(b, 0x1F, 7), annexB(b, 0x1F, 9): // a sequence parameter set or an access unit delimiter first
		return "", rejectFormatNamed("raw H.264"), true // what CCTV recorders export, with no container
	case annexB(b, 0x7E, 32<<1), annexB(b, 0x7E, 35<<1): // a video parameter set or an access unit delimiter first
		return "", rejectFormatNamed("raw HEVC"), true
	}
	return "", nil, false
}

// annexB reports whether b starts with an Annex B start code (00 00 01 or
// 00 00 00 01) followed by a NAL unit header whose bits under mask equal
// typ: how a raw H.264 or HEVC stream starts.
func annexB(b []byte, mask, typ byte) bool {
	switch {
	case hasPrefix(b, "\x00\x00\x00\x01") && len(b) > 4:
		return b[4]&0x80 == 0 && b[4]&mask == typ
	case hasPrefix(b, "\x00\x00\x01") && len(b) > 3:
		return b[3]&0x80 == 0 && b[3]&mask == typ
	}
	return false
}

// oggAudioOnly reports whether every logical stream that an Ogg file
// announces on its first pages (the "beginning of stream" pages, which
// all come before any data) is audio.
func oggAudioOnly(b []byte) bool {
	audio, complete := 0, false
	for off := 0; off+27 <= len(b) && hasPrefix(b[off:], "OggS"); {
		nseg := int(b[off+26])
		if off+27+nseg > len(b) {
			break
		}
		size := 0
		for _, s := range b[off+27 : off+27+nseg] {
			size += int(s)
		}
		if b[off+5]&0x02 == 0 { // past the beginning-of-stream pages
			complete = true
			break
		}
		data := b[off+27+nseg:]
		switch {
		case hasPrefix(data, "\x01vorbis"), hasPrefix(data, "OpusHead"), hasPrefix(data, "\x7fFLAC"), hasPrefix(data, "Speex   "):
			audio++
		case hasPrefix(data, "fishead\x00"): // a skeleton: describes the others
		default:
			return false // Theora, Dirac, OGM video, or something ffprobe should judge
		}
		off += 27 + nseg + size
	}
	return complete && audio > 0
}

// sniffImage: still pictures.
func sniffImage(b []byte) (Container, *Rejection, bool) {
	name := ""
	switch {
	case hasPrefix(b, "\xFF\xD8\xFF"):
		name = "JPEG"
	case hasPrefix(b, "\x89PNG\r\n\x1a\n"):
		name = "PNG"
	case hasPrefix(b, "GIF87a"), hasPrefix(b, "GIF89a"):
		name = "GIF"
	case hasPrefix(b, "II*\x00"), hasPrefix(b, "MM\x00*"):
		name = "TIFF"
	case hasPrefix(b, "8BPS"):
		name = "Photoshop"
	case hasPrefix(b, "\x00\x00\x00\x0CjP  \r\n\x87\n"), hasPrefix(b, "\xFF\x4F\xFF\x51"):
		name = "JPEG 2000"
	case hasPrefix(b, "\x00\x00\x00\x0CJXL \r\n\x87\n"), hasPrefix(b, "\xFF\x0A"):
		name = "JPEG XL"
	case isBMP(b):
		name = "BMP"
	default:
		return "", nil, false
	}
	return "", rejectImageNamed(name), true
}

func isBMP(b []byte) bool {
	if !hasPrefix(b, "BM") || len(b) < 18 || binary.LittleEndian.Uint32(b[6:10]) != 0 {
		return false
	}
	switch binary.LittleEndian.Uint32(b[14:18]) { // the DIB header's size
	case 12, 16, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// sniffDocument: documents and archives with binary signatures.
func sniffDocument(b []byte) (Container, *Rejection, bool) {
	switch {
	case hasPrefix(b, "%PDF-"):
		return "", rejectDocument("PDF"), true
	case hasPrefix(b, "PK\x03\x04"), hasPrefix(b, "PK\x05\x06"):
		if doc := zipDocument(b); doc != "" {
			return "", rejectDocument(doc), true
		}
		return "", rejectArchive("ZIP"), true
	case hasPrefix(b, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"):
		return "", rejectDocument("Microsoft Office"), true // .doc, .xls, .ppt
	case hasPrefix(b, "Rar!\x1A\x07"):
		return "", rejectArchive("RAR"), true
	case hasPrefix(b, "7z\xBC\xAF\x27\x1C"):
		return "", rejectArchive("7z"), true
	case hasPrefix(b, "\x1F\x8B"):
		return "", rejectArchive("gzip"), true
	case hasPrefix(b, "BZh") && len(b) >= 10 && string(b[4:10]) == "1AY&SY":
		return "", rejectArchive("bzip2"), true
	case hasPrefix(b, "\xFD7zXZ\x00"):
		return "", rejectArchive("xz"), true
	case hasPrefix(b, "\x28\xB5\x2F\xFD"):
		return "", rejectArchive("Zstandard"), true
	case len(b) >= 262 && string(b[257:262]) == "ustar":
		return "", rejectArchive("tar"), true
	}
	return "", nil, false
}

// zipDocument names the office document a ZIP file is, from its entries'
// names (and an ODF or EPUB file's "mimetype" entry), or returns "".
func zipDocument(b []byte) string {
	sig := []byte("PK\x03\x04")
	for off := 0; ; {
		i := bytes.Index(b[off:], sig)
		if i < 0 {
			return ""
		}
		h := b[off+i:]
		off += i + len(sig)
		if len(h) < 30 {
			return ""
		}
		n := int(binary.LittleEndian.Uint16(h[26:28]))
		extra := int(binary.LittleEndian.Uint16(h[28:30]))
		if len(h) < 30+n {
			return ""
		}
		name := string(h[30 : 30+n])
		switch {
		case name == "mimetype":
			data := h[min(len(h), 30+n+extra):]
			switch {
			case hasPrefix(data, "application/vnd.oasis.opendocument"):
				return "OpenDocument"
			case hasPrefix(data, "application/epub+zip"):
				return "EPUB"
			}
		case strings.HasPrefix(name, "word/"):
			return "Word"
		case strings.HasPrefix(name, "xl/"):
			return "Excel"
		case strings.HasPrefix(name, "ppt/"):
			return "PowerPoint"
		}
	}
}

// sniffAudio: files that hold sound only. The signatures made of letters
// count only when binary bytes follow, so a text that happens to start
// with "MAC " is not taken for Monkey's Audio.
func sniffAudio(b []byte) (Container, *Rejection, bool) {
	binaryHead := hasControl(b[:min(len(b), 64)])
	for _, sig := range []string{
		"fLaC", "#!AMR", "MThd" /* MIDI */, "wvpk" /* WavPack */, "MAC " /* Monkey's Audio */, "caff", /* Core Audio */
		".snd" /* Sun/NeXT */, "FORM", /* AIFF */
	} {
		if hasPrefix(b, sig) && binaryHead && (sig != "FORM" || len(b) >= 12 && (string(b[8:12]) == "AIFF" || string(b[8:12]) == "AIFC")) {
			return "", rejectAudioOnly(), true
		}
	}
	switch {
	case len(b) >= 10 && hasPrefix(b, "ID3") && b[3] >= 2 && b[3] <= 4, // an ID3v2 tag: MP3 (or AAC) follows
		hasPrefix(b, "\x0B\x77"),         // AC-3
		hasPrefix(b, "\x7F\xFE\x80\x01"), // DTS
		mpegAudio(b):
		return "", rejectAudioOnly(), true
	}
	return "", nil, false
}

// MPEG audio bit rates in kbit/s by [version 1 or 2][layer 1..3][index 1..14].
var mpegBitRates = [2][3][14]int{
	{
		{32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
		{32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
		{32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
	},
	{
		{32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
		{8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
		{8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
	},
}

// mpegFrame returns the length of the MP3/MP2 or ADTS (AAC) frame whose
// header starts b, or 0 when b does not start with one.
func mpegFrame(b []byte) int {
	if len(b) < 7 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return 0
	}
	if b[1]&0xF6 == 0xF0 { // ADTS: 12-bit sync, layer 0
		return int(b[3]&3)<<11 | int(b[4])<<3 | int(b[5]>>5)
	}
	ver, layer := (b[1]>>3)&3, (b[1]>>1)&3 // ver 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5; layer 3: I, 2: II, 1: III
	bri, sri, pad := int(b[2]>>4), int(b[2]>>2)&3, int(b[2]>>1)&1
	if ver == 1 || layer == 0 || bri == 0 || bri == 15 || sri == 3 {
		return 0
	}
	rate := [3]int{44100, 48000, 32000}[sri]
	v := 0
	switch ver {
	case 2:
		rate, v = rate/2, 1
	case 0:
		rate, v = rate/4, 1
	}
	l := int(3 - layer) // 0: layer I, 1: II, 2: III
	br := mpegBitRates[v][l][bri-1] * 1000
	switch {
	case l == 0:
		return (12*br/rate + pad) * 4
	case l == 2 && v == 1:
		return 72*br/rate + pad
	}
	return 144*br/rate + pad
}

// mpegAudio reports whether b starts with two MPEG audio or ADTS frames in
// a row (or one that fills b), so that a stray 0xFFE in random bytes is
// not taken for sound.
func mpegAudio(b []byte) bool {
	n := mpegFrame(b)
	if n < 7 {
		return false
	}
	if n >= len(b) {
		return n == len(b)
	}
	return mpegFrame(b[n:]) > 0
}

// sniffTS: MPEG transport streams, with 188-byte packets (broadcast, .ts),
// 192-byte ones (AVCHD and Blu-ray .mts/.m2ts) or 204-byte ones, aligned or
// not: a 0x47 sync byte at every packet start.
func sniffTS(b []byte) (Container, *Rejection, bool) {
	for _, stride := range []int{188, 192, 204} {
		for off := 0; off < stride && off < len(b); off++ {
			if b[off] != 0x47 {
				continue
			}
			avail := (len(b) - off + stride - 1) / stride
			want := min(avail, 10)
			n := 0
			for p := off; n < want && b[p] == 0x47; p += stride {
				n++
			}
			if n == want && n >= 3 {
				return ContainerMPEGTS, nil, true
			}
		}
	}
	return "", nil, false
}

var xmlRoot = regexp.MustCompile(`<([A-Za-z][A-Za-z0-9:._-]*)`)

// sniffText: everything that is text — playlists and lists of other
// files first, then markup, JSON and plain text.
func sniffText(b []byte) (Container, *Rejection, bool) {
	s, ok := text(b)
	if !ok {
		return "", nil, false
	}
	s = strings.TrimLeft(s, " \t\r\n\f\v")
	if len(s) > 4096 {
		s = s[:4096]
	}
	lower := strings.ToLower(s)
	lines := strings.Split(lower, "\n")
	switch {
	case strings.HasPrefix(lower, "#extm3u") || strings.Contains(lower, "\n#extinf") || strings.Contains(lower, "\n#ext-x-"):
		return "", rejectReference("HLS/M3U8"), true
	case strings.HasPrefix(lower, "ffconcat version"):
		return "", rejectReference("ffconcat"), true
	case strings.TrimSpace(lines[0]) == "v=0":
		return "", rejectReference("SDP"), true
	case strings.HasPrefix(lower, "[playlist]"):
		return "", rejectReference("PLS"), true
	case strings.HasPrefix(lower, "{\\rtf"):
		return "", rejectDocument("RTF"), true
	case strings.HasPrefix(lower, "%!ps"):
		return "", rejectDocument("PostScript"), true
	case strings.HasPrefix(lower, "{"), strings.HasPrefix(lower, "[") && jsonArray(lower):
		return "", rejectDocument("JSON"), true
	case strings.HasPrefix(lower, "<"):
		return "", markup(lower), true
	}
	return "", rejectText(), true
}

func jsonArray(s string) bool {
	rest := strings.TrimLeft(s[1:], " \t\r\n")
	return rest == "" || strings.ContainsAny(rest[:1], "{[\"]-0123456789tfn")
}

// markup names an XML or HTML file by its root element.
func markup(lower string) *Rejection {
	if strings.HasPrefix(lower, "<!doctype html") {
		return rejectDocument("HTML")
	}
	for _, m := range xmlRoot.FindAllStringSubmatch(lower, 8) {
		switch m[1] {
		case "mpd":
			return rejectReference("DASH/MPD")
		case "smil":
			return rejectReference("SMIL")
		case "asx":
			return rejectReference("ASX")
		case "playlist":
			return rejectReference("XSPF")
		case "svg":
			return rejectImageNamed("SVG")
		case "html", "head", "body", "meta", "script", "div", "p", "title":
			return rejectDocument("HTML")
		case "xml":
			continue // the declaration, <?xml … ?>
		}
		return rejectDocument("XML")
	}
	return rejectDocument("XML")
}

// text returns b as a string when it is text: UTF-16 with a byte-order
// mark, or bytes without control characters other than whitespace (UTF-8
// or any 8-bit encoding).
func text(b []byte) (string, bool) {
	if len(b) >= 2 && (b[0] == 0xFF && b[1] == 0xFE || b[0] == 0xFE && b[1] == 0xFF) {
		order := binary.ByteOrder(binary.LittleEndian)
		if b[0] == 0xFE {
			order = binary.BigEndian
		}
		u := make([]uint16, 0, (len(b)-2)/2)
		for i := 2; i+1 < len(b); i += 2 {
			u = append(u, order.Uint16(b[i:]))
		}
		s := string(utf16.Decode(u))
		return s, !hasControl([]byte(s))
	}
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	return string(b), !hasControl(b)
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r' || c == 0x7F {
			return true
		}
	}
	return false
}
