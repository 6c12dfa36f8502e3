package catalog

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/uprinfo/presession"
)

// A search (Filter.Search), or an invitation's statements, is answered by
// reading the candidates' records and filtering them in Go, instead of
// keeping a search index in Redis: a session has a few hundred statements
// (200–1000 at the largest Pre-sessions), so reading every record of the
// narrowest index that applies, scanBatch per MGET, costs a few
// milliseconds and needs nothing kept in step on every write and reindex.
// Each record is decoded brief (decodeBrief: its segments are never
// scanned), and only the page asked for in full. Should sessions grow past
// some thousands of statements, a folded search field per statement in a
// hash would be the next step.

// scanBatch is how many records one MGET of a filtered List reads.
const scanBatch = 500

// listFiltered is List (ListBrief when brief) for a filter with a search
// or an invitation: the records of the narrowest index are read in
// batches, decoded brief, and kept when they match every field of f, in
// the index's order (oldest first); the page is then decoded in full
// unless brief.
func (c *Catalog) listFiltered(ctx context.Context, f presession.Filter, brief bool) ([]*presession.Statement, int, error) {
	index := c.kIdx(f.Session, f.Country, f.Status)
	if f.InvitationID != "" {
		index = c.kInv(f.InvitationID)
	}
	ids, err := c.rdb.ZRange(ctx, index, 0, -1).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("catalog: list: %w", err)
	}
	m := newMatcher(f)
	type hit struct {
		s   *presession.Statement // brief
		raw string
	}
	var hits []hit
	for lo := 0; lo < len(ids); lo += scanBatch {
		chunk := ids[lo:min(lo+scanBatch, len(ids))]
		keys := make([]string, len(chunk))
		for i, id := range chunk {
			keys[i] = c.kStmt(id)
		}
		vals, err := c.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, 0, fmt.Errorf("catalog: list: %w", err)
		}
		for i, v := range vals {
			raw, ok := v.(string)
			if !ok { // the record vanished since the index was read
				continue
			}
			s, err := decodeBrief([]byte(raw))
			if err != nil {
				return nil, 0, fmt.Errorf("catalog: record of %s: %w", chunk[i], err)
			}
			if m.match(s) {
				hits = append(hits, hit{s, raw})
			}
		}
	}
	total := len(hits)
	lo := min(f.Offset, total)
	hi := total
	if f.Limit > 0 {
		hi = min(lo+f.Limit, total)
	}
	page := hits[lo:hi]
	out := make([]*presession.Statement, 0, len(page))
	if len(page) == 0 {
		return out, total, nil
	}
	pids := make([]string, len(page))
	for i, h := range page {
		pids[i] = h.s.ID
	}
	progs, err := c.rdb.HMGet(ctx, c.kProgress(), pids...).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("catalog: list: %w", err)
	}
	for i, h := range page {
		s := h.s
		if !brief {
			if s, err = decode([]byte(h.raw)); err != nil {
				return nil, 0, fmt.Errorf("catalog: record of %s: %w", h.s.ID, err)
			}
		}
		if p, ok := progs[i].(string); ok {
			c.mergeProgress(s, p)
		}
		out = append(out, s)
	}
	return out, total, nil
}

// matcher is a filter compiled for filtered reads.
type matcher struct {
	f     presession.Filter
	words []string // folded; a record must hold every one
}

func newMatcher(f presession.Filter) matcher {
	return matcher{f: f, words: searchWords(f.Search)}
}

func (m matcher) match(s *presession.Statement) bool {
	if (m.f.Session != "" && s.Session != m.f.Session) ||
		(m.f.Country != "" && s.Country != m.f.Country) ||
		(m.f.Status != "" && s.Status != m.f.Status) {
		return false
	}
	if len(m.words) == 0 {
		return true
	}
	hay := fold(s.Organisation) + "\x00" + fold(s.Title) + "\x00" + fold(s.Speaker)
	for _, w := range m.words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// searchWords splits a search into its folded words: runs of letters and
// digits, so that "human-rights" finds "Human Rights House" and a comma
// typed after a word does not matter. A search of punctuation alone is
// that punctuation, folded; a blank one has no words (it matches
// everything).
func searchWords(q string) []string {
	fq := fold(q)
	words := strings.FieldsFunc(fq, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 {
		words = strings.Fields(fq)
	}
	return words
}

// foldLetters are the lower-case letters that have no decomposition into
// a base letter and accents but are read as one (or two) Latin letters by
// someone typing without them: "Đakovo" is found by "dakovo".
var foldLetters = map[rune]string{
	'ß': "ss", 'đ': "d", 'ð': "d", 'ł': "l", 'ø': "o", 'ħ': "h", 'ı': "i",
	'æ': "ae", 'œ': "oe", 'þ': "th",
}

// fold is s as searches compare it: compatibility-decomposed (NFKD, so
// "ﬁ" is "fi" and full-width letters are ASCII), without combining marks
// (accents), in lower case, with the letters of foldLetters spelled out.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFKD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		if x, ok := foldLetters[r]; ok {
			b.WriteString(x)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
