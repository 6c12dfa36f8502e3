package review_test

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/review"
)

// TestListSearchAPI: GET /api/v1/statements?q= finds statements by
// title, organisation and speaker whatever the case and accents, with
// the other filters and paging; a search too long is refused, in the
// request's language.
func TestListSearchAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dev1 := e.statement("AD", "", "Développement durable", presession.StatusReady)
	dev2 := e.statement("BG", "", "Droit au développement", presession.StatusApproved)
	dev3 := e.statement("BG", "", "DEVELOPPEMENT local", presession.StatusReady)
	other := e.statement("BG", "", "Freedom of expression", presession.StatusReady)

	for _, tc := range []struct {
		query string
		ids   []string
		total int
	}{
		{"?q=developpement", []string{dev1.ID, dev2.ID, dev3.ID}, 3},
		{"?q=" + url.QueryEscape("Développement"), []string{dev1.ID, dev2.ID, dev3.ID}, 3},
		{"?q=org+of+droit", []string{dev2.ID}, 1},                      // the organisation
		{"?q=speaker+freedom", []string{other.ID}, 1},                  // the speaker
		{"?q=developpement&country=bg", []string{dev2.ID, dev3.ID}, 2}, // with a country
		{"?q=developpement&country=BG&status=ready", []string{dev3.ID}, 1},
		{"?q=developpement&session=upr36&limit=2", []string{dev1.ID, dev2.ID}, 3},
		{"?q=developpement&limit=2&offset=2", []string{dev3.ID}, 3},
		{"?q=nowhere", nil, 0},
		{"?q=+++", []string{dev1.ID, dev2.ID, dev3.ID, other.ID}, 4}, // blank: no search
	} {
		var l review.ListResponse
		if st, code := e.staff("GET", "/api/v1/statements"+tc.query, nil, &l); st != 200 {
			t.Errorf("%s: %d %s", tc.query, st, code)
			continue
		}
		var ids []string
		for _, s := range l.Statements {
			ids = append(ids, s.ID)
		}
		if l.Total != tc.total || !slices.Equal(ids, tc.ids) {
			t.Errorf("%s: total %d ids %v; want %d %v", tc.query, l.Total, ids, tc.total, tc.ids)
		}
	}
	long := strings.Repeat("é", review.MaxSearch+1)
	if st, code := e.staff("GET", "/api/v1/statements?q="+url.QueryEscape(long), nil, nil); st != 400 || code != presession.EINVALID {
		t.Errorf("a search of %d characters: %d %s, want 400 invalid", review.MaxSearch+1, st, code)
	}
	if st, _ := e.staff("GET", "/api/v1/statements?q="+url.QueryEscape(long[:2*review.MaxSearch]), nil, nil); st != 200 {
		t.Errorf("a search of %d characters: %d, want 200", review.MaxSearch, st)
	}
	_, body, _ := e.page("/api/v1/statements?lang=fr&q="+url.QueryEscape(long), bearer(staffToken))
	if !strings.Contains(body, "au plus 200 caractères") {
		t.Errorf("French refusal: %s", body)
	}
}

// pageLinks returns the links of a page's pages navigation, unescaped:
// previous, next, the numbered ones and the current one among them.
func pageLinks(body string) (prev, next string, numbered []string, current string) {
	nav := body[strings.Index(body, `<nav class="pages"`):]
	nav = nav[:strings.Index(nav, "</nav>")]
	for _, m := range regexp.MustCompile(`<a [^>]*href="([^"]+)"[^>]*>`).FindAllStringSubmatch(nav, -1) {
		href := html.UnescapeString(m[1])
		switch {
		case strings.Contains(m[0], `rel="prev"`):
			prev = href
		case strings.Contains(m[0], `rel="next"`):
			next = href
		default:
			numbered = append(numbered, href)
			if strings.Contains(m[0], `aria-current="page"`) {
				current = href
			}
		}
	}
	return prev, next, numbered, current
}

// TestDashboardSearchAndPaging: the dashboard's search field, in every
// language, finds statements with the other filters; the "showing" line
// counts the page among every match; every page link (previous, next,
// numbered) keeps the session, country, status and search; an empty
// result says so with a way back, and a bad search says why.
func TestDashboardSearchAndPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	staff := bearer(staffToken)
	var dev []*presession.Statement
	for i := range review.PageLimit + 12 {
		dev = append(dev, e.statement("AD", "", fmt.Sprintf("Développement n°%d", i), presession.StatusUploaded))
	}
	e.statement("AD", "", "Freedom of expression", presession.StatusUploaded)
	e.statement("BG", "", "Développement in Bulgaria", presession.StatusUploaded)
	e.statement("AD", "", "Développement, ready", presession.StatusReady)

	for _, tc := range []struct{ lang, label, hint string }{
		{"en", "Search", "Organisation, title or speaker"},
		{"fr", "Rechercher", "Organisation, titre ou intervenant"},
		{"es", "Buscar", "Organización, título u orador"},
	} {
		_, body, _ := e.page("/staff?lang="+tc.lang, staff)
		if !strings.Contains(body, `<label for="f-q">`+tc.label+`</label>`) ||
			!strings.Contains(body, `<input type="search" id="f-q" name="q" value=""`) ||
			!strings.Contains(html.UnescapeString(body), tc.hint) || !strings.Contains(body, `aria-describedby="f-q-hint"`) {
			t.Errorf("%s: no labelled search field", tc.lang)
		}
	}

	q := url.Values{"session": {"upr36"}, "country": {"AD"}, "status": {"uploaded"}, "q": {"developpement"}}
	st, body, _ := e.page("/staff?"+q.Encode(), staff)
	if st != 200 {
		t.Fatalf("search: %d", st)
	}
	if !strings.Contains(body, `value="developpement"`) {
		t.Error("the search field does not keep the search")
	}
	if !strings.Contains(body, "Showing statements 1–50 of 62.") || !strings.Contains(body, "Page 1 of 2") {
		t.Errorf("showing line: %s", regexp.MustCompile(`<p id="showing">[^\n]*`).FindString(body))
	}
	if n := strings.Count(body, `<tr id="st-`); n != review.PageLimit {
		t.Errorf("%d rows, want %d", n, review.PageLimit)
	}
	if !strings.Contains(body, `id="st-`+dev[0].ID+`"`) || strings.Contains(body, `id="st-`+dev[review.PageLimit].ID+`"`) {
		t.Error("the first page does not hold the oldest matches")
	}
	keeps := func(where, href string, offset string) {
		t.Helper()
		u, err := url.Parse(href)
		if err != nil || u.Path != "/staff" || u.Fragment != "statements" {
			t.Errorf("%s: link %q", where, href)
			return
		}
		got := u.Query()
		for _, k := range []string{"session", "country", "status", "q"} {
			if got.Get(k) != q.Get(k) {
				t.Errorf("%s: link %q loses %s=%s", where, href, k, q.Get(k))
			}
		}
		if got.Get("offset") != offset {
			t.Errorf("%s: link %q: offset %q, want %q", where, href, got.Get("offset"), offset)
		}
	}
	prev, next, numbered, current := pageLinks(body)
	if prev != "" || next == "" || len(numbered) != 2 {
		t.Fatalf("first page: prev %q next %q pages %v", prev, next, numbered)
	}
	keeps("next", next, "50")
	keeps("page 1", numbered[0], "")
	keeps("page 2", numbered[1], "50")
	if current != numbered[0] {
		t.Errorf("current page %q, want the first", current)
	}
	if !strings.Contains(body, `aria-label="Page 2"`) {
		t.Error("page links are not named")
	}

	_, body, _ = e.page(next, staff)
	if !strings.Contains(body, "Showing statements 51–62 of 62.") || !strings.Contains(body, `id="st-`+dev[review.PageLimit].ID+`"`) {
		t.Errorf("second page: %s", regexp.MustCompile(`<p id="showing">[^\n]*`).FindString(body))
	}
	prev, next, numbered, current = pageLinks(body)
	if next != "" || prev == "" || len(numbered) != 2 || current != numbered[1] {
		t.Fatalf("second page: prev %q next %q pages %v current %q", prev, next, numbered, current)
	}
	keeps("prev", prev, "")

	// The filters combine: with status ready, only the ready one.
	q2 := url.Values{"country": {"AD"}, "status": {"ready"}, "q": {"DÉVELOPPEMENT"}}
	_, body, _ = e.page("/staff?"+q2.Encode(), staff)
	if n := strings.Count(body, `<tr id="st-`); n != 1 || !strings.Contains(body, "Showing statements 1–1 of 1.") || strings.Contains(body, `<nav class="pages"`) {
		t.Errorf("search with status ready: %d rows", n)
	}

	// Nothing found: said plainly, in the page's language, with a link
	// to the same selection without the search.
	for _, tc := range []struct{ lang, want string }{
		{"en", "No statement matches “zzz &lt;b&gt;” in this selection."},
		{"fr", "Aucune déclaration ne correspond à « zzz &lt;b&gt; » dans cette sélection."},
		{"es", "Ninguna declaración corresponde a «zzz &lt;b&gt;» en esta selección."},
	} {
		_, body, _ = e.page("/staff?lang="+tc.lang+"&country=AD&q="+url.QueryEscape("zzz <b>"), staff)
		if !strings.Contains(body, tc.want) || strings.Contains(body, `<tr id="st-`) {
			t.Errorf("%s: empty search result not said", tc.lang)
		}
		m := regexp.MustCompile(`<p class="message" id="showing" role="status">[^\n]*<a href="([^"]+)">`).FindStringSubmatch(body)
		if m == nil || html.UnescapeString(m[1]) != "/staff?country=AD#statements" {
			t.Errorf("%s: no link to clear the search: %v", tc.lang, m)
		}
	}

	// A search too long: the form says why, tied to the field, and keeps
	// what was typed.
	long := strings.Repeat("x", review.MaxSearch+1)
	st, body, _ = e.page("/staff?lang=es&q="+long, staff)
	if st != 200 || !strings.Contains(body, `id="filter-error" role="alert"`) ||
		!strings.Contains(body, `aria-describedby="f-q-hint filter-error"`) || !strings.Contains(body, `value="`+long+`"`) ||
		!strings.Contains(body, "La búsqueda puede tener como máximo 200 caracteres; esta tiene 201.") {
		t.Errorf("a search too long: %d", st)
	}
	if m := untranslated.FindString(body); m != "" {
		t.Errorf("untranslated key %q", m)
	}
}
