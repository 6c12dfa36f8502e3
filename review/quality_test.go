package review_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
)

// TestQualityTranslated: a statement's quality report reads in the
// request's language, summary and findings with their spans, in the staff
// API (quality_text; media.quality stays as stored) and on the dashboard.
func TestQualityTranslated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	s := e.statement("AD", "", "Dark start", presession.StatusReady)
	q := &presession.Quality{Findings: []presession.Finding{{Kind: "black", Start: 0, End: 3.02,
		Text: "the picture is black from 0:00 to 0:03", Key: "warning.quality_black", Args: []string{"0:00", "0:03"}}}}
	q.Summarise()
	if _, err := e.cat.Update(ctx, s.ID, func(st *presession.Statement) error { st.Media.Quality = q; return nil }); err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string][]string{
		"en": {"needs attention (1)", "0:00–0:03: the picture is black from 0:00 to 0:03"},
		"fr": {"", "0:00–0:03: l'image est noire de 0:00 à 0:03"},
	} {
		res := e.do("GET", "/api/v1/statements/"+s.ID, nil, bearer(staffToken), func(r *http.Request) { r.Header.Set("Accept-Language", lang) })
		var got struct {
			QualityText struct {
				Summary  string   `json:"summary"`
				Findings []string `json:"findings"`
			} `json:"quality_text"`
			Media struct {
				Quality *presession.Quality `json:"quality"`
			} `json:"media"`
		}
		err := json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: staff GET: %d %v", lang, res.StatusCode, err)
		}
		if (want[0] != "" && got.QualityText.Summary != want[0]) || got.QualityText.Summary == "" || !slices.Equal(got.QualityText.Findings, want[1:]) {
			t.Errorf("%s: quality_text %+v, want %q", lang, got.QualityText, want)
		}
		if got.Media.Quality == nil || got.Media.Quality.Findings[0].Text != q.Findings[0].Text {
			t.Errorf("%s: media.quality %+v", lang, got.Media.Quality)
		}
		page := e.do("GET", "/staff?lang="+lang, nil, bearer(staffToken))
		raw, _ := io.ReadAll(page.Body)
		page.Body.Close()
		body := string(raw)
		if !strings.Contains(html.UnescapeString(body), want[1]) || !strings.Contains(html.UnescapeString(body), got.QualityText.Summary) {
			t.Errorf("%s: the dashboard lacks the quality report %q", lang, want)
		}
	}
}
