package review

import (
	"fmt"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
)

// TestPages: the page links are the first, the last and those near the
// current page, with one gap for each run left out; none for one page.
func TestPages(t *testing.T) {
	for _, tc := range []struct {
		offset, total int
		cur, n        int
		want          string // numbers, "*" marks the current, "…" a gap
	}{
		{0, 0, 1, 1, ""},
		{0, 50, 1, 1, ""},
		{0, 51, 1, 2, "*1 2"},
		{50, 51, 2, 2, "1 *2"},
		{0, 1000, 1, 20, "*1 2 3 … 20"},
		{450, 1000, 10, 20, "1 … 8 9 *10 11 12 … 20"},
		{150, 1000, 4, 20, "1 2 3 *4 5 6 … 20"},
		{950, 1000, 20, 20, "1 … 18 19 *20"},
		{500, 100, 11, 11, "1 … 9 10 *11"}, // past the end: the current page is still linked
	} {
		f := presession.Filter{Country: "AD", Search: "dév", Offset: tc.offset, Limit: 50}
		cur, n, links := pages(f, tc.total)
		var got []string
		for _, l := range links {
			switch {
			case l.Gap:
				got = append(got, "…")
			case l.Current:
				got = append(got, fmt.Sprintf("*%d", l.N))
			default:
				got = append(got, fmt.Sprint(l.N))
			}
			if !l.Gap && l.URL != pageURL(f, (l.N-1)*50) {
				t.Errorf("page %d: %s", l.N, l.URL)
			}
		}
		if cur != tc.cur || n != tc.n || strings.Join(got, " ") != tc.want {
			t.Errorf("offset %d of %d: page %d of %d, %q; want %d of %d, %q", tc.offset, tc.total, cur, n, strings.Join(got, " "), tc.cur, tc.n, tc.want)
		}
	}
	if got := pageURL(presession.Filter{Session: "upr36", Country: "AD", Status: presession.StatusReady, Search: "dév ü"}, 100); got != "/staff?country=AD&offset=100&q=d%C3%A9v+%C3%BC&session=upr36&status=ready#statements" {
		t.Errorf("page URL %s", got)
	}
}
