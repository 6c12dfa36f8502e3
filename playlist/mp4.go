package playlist

import (
	"encoding/binary"
	"errors"
	"math"
)

// StartTime returns the earliest presentation time, in seconds, of the
// audio and video samples in the first fragment of an fMP4 rendition, as
// an HLS player computes it: baseMediaDecodeTime (tfdt) plus each sample's
// composition offset, over the track's timescale; edit lists are not
// applied, as HLS players of fMP4 do not apply them. init is the
// initialisation segment; first is the start of the first media segment
// (its first moof suffices). A subtitle segment's X-TIMESTAMP-MAP maps cue
// time 0 to this time.
//
// ffmpeg's fMP4 HLS output starts its tracks at tfdt 0, the video's first
// frame presenting at its composition offset (two frames with x264's
// default B-frames) and AAC at 0, so this is typically 0; a source whose
// timestamps start late keeps the offset when copied.
func StartTime(init, first []byte) (float64, error) {
	st, err := TrackStarts(init, first)
	if err != nil {
		return 0, err
	}
	return min(st.Video, st.Audio), nil
}

// Starts are the earliest presentation times, in seconds, of the video
// and audio of a fragment; a missing track's is +Inf.
type Starts struct {
	Video, Audio       float64
	HasVideo, HasAudio bool
}

// TrackStarts returns the earliest presentation time of the video and of
// the audio in the first fragment, as StartTime measures them.
func TrackStarts(init, first []byte) (Starts, error) {
	tracks := map[uint32]*trackInfo{}
	moov, ok := findBox(init, "moov")
	if !ok {
		return Starts{}, errors.New("playlist: init segment has no moov box")
	}
	forBoxes(moov, func(typ string, b []byte) {
		switch typ {
		case "trak":
			t := parseTrak(b)
			if t.id != 0 {
				tracks[t.id] = &t
			}
		case "mvex":
			forBoxes(b, func(typ string, b []byte) {
				if typ == "trex" && len(b) >= 16 {
					if t := tracks[binary.BigEndian.Uint32(b[4:])]; t != nil {
						t.defaultDuration = binary.BigEndian.Uint32(b[12:])
					}
				}
			})
		}
	})
	moof, ok := findBox(first, "moof")
	if !ok {
		return Starts{}, errors.New("playlist: first segment has no moof box")
	}
	st := Starts{Video: math.Inf(1), Audio: math.Inf(1)}
	forBoxes(moof, func(typ string, b []byte) {
		if typ != "traf" {
			return
		}
		pts, handler, ok := trafStart(b, tracks)
		switch {
		case !ok:
		case handler == "vide":
			st.Video, st.HasVideo = min(st.Video, pts), true
		case handler == "soun":
			st.Audio, st.HasAudio = min(st.Audio, pts), true
		}
	})
	if !st.HasVideo && !st.HasAudio {
		return Starts{}, errors.New("playlist: no audio or video samples in the first fragment")
	}
	return st, nil
}

type trackInfo struct {
	id              uint32
	timescale       uint32
	handler         string
	defaultDuration uint32
}

func parseTrak(trak []byte) trackInfo {
	var t trackInfo
	forBoxes(trak, func(typ string, b []byte) {
		switch typ {
		case "tkhd":
			if len(b) < 4 {
				return
			}
			off := 12
			if b[0] == 1 {
				off = 20
			}
			if len(b) >= off+4 {
				t.id = binary.BigEndian.Uint32(b[off:])
			}
		case "mdia":
			forBoxes(b, func(typ string, b []byte) {
				switch typ {
				case "mdhd":
					off := 12
					if len(b) > 0 && b[0] == 1 {
						off = 20
					}
					if len(b) >= off+4 {
						t.timescale = binary.BigEndian.Uint32(b[off:])
					}
				case "hdlr":
					if len(b) >= 12 {
						t.handler = string(b[8:12])
					}
				}
			})
		}
	})
	return t
}

// trafStart returns the earliest presentation time of a track fragment.
// It follows ISO/IEC 14496-12 box by box (tfhd, tfdt, trun with its
// optional fields), which reads best as the one walk the standard describes.
func trafStart(traf []byte, tracks map[uint32]*trackInfo) (float64, string, bool) {
	var t *trackInfo
	var tfdt int64
	var haveTfdt bool
	var defaultDur uint32
	var runs [][]byte
	forBoxes(traf, func(typ string, b []byte) {
		switch typ {
		case "tfhd":
			if len(b) < 8 {
				return
			}
			flags := binary.BigEndian.Uint32(b[0:]) & 0xffffff
			t = tracks[binary.BigEndian.Uint32(b[4:])]
			off := 8
			if flags&0x1 != 0 {
				off += 8
			}
			if flags&0x2 != 0 {
				off += 4
			}
			if flags&0x8 != 0 && len(b) >= off+4 {
				defaultDur = binary.BigEndian.Uint32(b[off:])
			}
		case "tfdt":
			if len(b) >= 12 && b[0] == 1 {
				tfdt, haveTfdt = int64(binary.BigEndian.Uint64(b[4:])), true
			} else if len(b) >= 8 {
				tfdt, haveTfdt = int64(binary.BigEndian.Uint32(b[4:])), true
			}
		case "trun":
			runs = append(runs, b)
		}
	})
	if t == nil || !haveTfdt || t.timescale == 0 || (t.handler != "vide" && t.handler != "soun") {
		return 0, "", false
	}
	if defaultDur == 0 {
		defaultDur = t.defaultDuration
	}
	dts := tfdt
	earliest := int64(math.MaxInt64)
	for _, b := range runs {
		if len(b) < 8 {
			continue
		}
		version := b[0]
		flags := binary.BigEndian.Uint32(b[0:]) & 0xffffff
		n := binary.BigEndian.Uint32(b[4:])
		off := 8
		if flags&0x1 != 0 {
			off += 4
		}
		if flags&0x4 != 0 {
			off += 4
		}
		for i := uint32(0); i < n; i++ {
			dur := int64(defaultDur)
			if flags&0x100 != 0 {
				if len(b) < off+4 {
					break
				}
				dur = int64(binary.BigEndian.Uint32(b[off:]))
				off += 4
			}
			if flags&0x200 != 0 {
				off += 4
			}
			if flags&0x400 != 0 {
				off += 4
			}
			var cto int64
			if flags&0x800 != 0 {
				if len(b) < off+4 {
					break
				}
				u := binary.BigEndian.Uint32(b[off:])
				if version == 0 {
					cto = int64(u)
				} else {
					cto = int64(int32(u))
				}
				off += 4
			}
			earliest = min(earliest, dts+cto)
			dts += dur
		}
	}
	if earliest == math.MaxInt64 {
		earliest = tfdt
	}
	return float64(earliest) / float64(t.timescale), t.handler, true
}

// findBox returns the payload of the first top-level box of type typ.
func findBox(b []byte, typ string) ([]byte, bool) {
	var out []byte
	var found bool
	forBoxes(b, func(t string, p []byte) {
		if !found && t == typ {
			out, found = p, true
		}
	})
	return out, found
}

// forBoxes calls fn with the type and payload of each box in b, stopping
// at the first malformed or truncated one (the moof of a partly read
// segment is complete even when its mdat is not).
func forBoxes(b []byte, fn func(typ string, payload []byte)) {
	for len(b) >= 8 {
		size := uint64(binary.BigEndian.Uint32(b))
		typ := string(b[4:8])
		hdr := uint64(8)
		switch size {
		case 1:
			if len(b) < 16 {
				return
			}
			size, hdr = binary.BigEndian.Uint64(b[8:]), 16
		case 0:
			size = uint64(len(b))
		}
		if size < hdr {
			return
		}
		if size > uint64(len(b)) {
			return
		}
		fn(typ, b[hdr:size])
		b = b[size:]
	}
}

// Timescales returns the timescale of each track of an init segment.
func Timescales(init []byte) (map[uint32]uint32, error) {
	moov, ok := findBox(init, "moov")
	if !ok {
		return nil, errors.New("playlist: init segment has no moov box")
	}
	ts := map[uint32]uint32{}
	forBoxes(moov, func(typ string, b []byte) {
		if typ == "trak" {
			if t := parseTrak(b); t.id != 0 && t.timescale != 0 {
				ts[t.id] = t.timescale
			}
		}
	})
	if len(ts) == 0 {
		return nil, errors.New("playlist: init segment has no tracks with a timescale")
	}
	return ts, nil
}

// Shift moves the media segment seg later by seconds, in place: it adds
// the time, in each track's timescale, to the baseMediaDecodeTime (tfdt)
// of every track fragment.
//
// Each statement's segments start at time 0. HLS players reset their
// timeline at a discontinuity, but ffmpeg's HLS demuxer keeps the first
// init segment and drops samples whose times go back; a stitched stream
// whose later statements are shifted to their start in it is continuous
// for every reader.
func Shift(seg []byte, timescales map[uint32]uint32, seconds float64) error {
	var err error
	n := 0
	forBoxes(seg, func(typ string, moof []byte) {
		if typ != "moof" || err != nil {
			return
		}
		forBoxes(moof, func(typ string, traf []byte) {
			if typ != "traf" || err != nil {
				return
			}
			var scale uint32
			forBoxes(traf, func(typ string, b []byte) {
				switch {
				case err != nil:
				case typ == "tfhd" && len(b) >= 8:
					scale = timescales[binary.BigEndian.Uint32(b[4:])]
				case typ == "tfdt":
					if scale == 0 {
						err = errors.New("playlist: track fragment of an unknown track")
						return
					}
					add := uint64(math.Round(seconds * float64(scale)))
					switch {
					case len(b) >= 12 && b[0] == 1:
						binary.BigEndian.PutUint64(b[4:], binary.BigEndian.Uint64(b[4:])+add)
					case len(b) >= 8 && b[0] == 0:
						v := uint64(binary.BigEndian.Uint32(b[4:])) + add
						if v > math.MaxUint32 {
							err = errors.New("playlist: shifted time does not fit a version 0 tfdt")
							return
						}
						binary.BigEndian.PutUint32(b[4:], uint32(v))
					default:
						err = errors.New("playlist: malformed tfdt box")
						return
					}
					n++
				}
			})
		})
	})
	if err == nil && n == 0 {
		err = errors.New("playlist: no track fragment times to shift")
	}
	return err
}
