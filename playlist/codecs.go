package playlist

import (
	"fmt"
	"strconv"
	"strings"
)

// MergeCodecs returns one CODECS value true for media described by any of
// lists (each an RFC 6381 list such as "avc1.64001f,mp4a.40.2"). AVC
// entries (avc1, avc3) merge into one: the highest profile_idc, only the
// constraint flags every entry sets, the highest level, so a client that
// can decode it can decode each of them. Other entries are kept once each.
// Order is first appearance.
func MergeCodecs(lists ...string) string {
	type avc struct {
		profile, constraints, level byte
		n                           int
	}
	var out []string
	avcs := map[string]*avc{}
	avcPos := map[string]int{}
	seen := map[string]bool{}
	for _, list := range lists {
		for _, c := range strings.Split(list, ",") {
			c = strings.TrimSpace(c)
			if c == "" {
				continue
			}
			fourcc, rest, _ := strings.Cut(c, ".")
			if fourcc == "avc1" || fourcc == "avc3" {
				if p, k, l, ok := parseAVC(rest); ok {
					a := avcs[fourcc]
					if a == nil {
						avcs[fourcc] = &avc{profile: p, constraints: k, level: l, n: 1}
						avcPos[fourcc] = len(out)
						out = append(out, "")
						continue
					}
					a.profile = max(a.profile, p)
					a.constraints &= k
					a.level = max(a.level, l)
					a.n++
					continue
				}
			}
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	for fourcc, a := range avcs {
		out[avcPos[fourcc]] = fmt.Sprintf("%s.%02x%02x%02x", fourcc, a.profile, a.constraints, a.level)
	}
	return strings.Join(out, ",")
}

// parseAVC parses the PPCCLL hex of an avc1 codec string.
func parseAVC(s string) (profile, constraints, level byte, ok bool) {
	if len(s) != 6 {
		return 0, 0, 0, false
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return 0, 0, 0, false
	}
	return byte(v >> 16), byte(v >> 8), byte(v), true
}
