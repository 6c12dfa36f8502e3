package review_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/review"
)

// TestDamageWarningTranslated: the damage a statement's media carry is
// the first warning staff see, in the request's language, in the staff
// API (warnings_text; warnings and media.damage stay as stored) and on
// the dashboard; a stored warning without a message reads as stored.
func TestDamageWarningTranslated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	english := "the picture or sound is damaged at 0:08–0:16, 1:02–1:05 (0:11 in all); watch those parts before approving the statement"
	silent := "the file has no sound track; a silent one was added"
	s := e.statement("AD", "", "Garbled", presession.StatusReady)
	if _, err := e.cat.Update(ctx, s.ID, func(st *presession.Statement) error {
		st.Media.Damage = &presession.Damage{Spans: []presession.Span{{Start: 8.32, End: 15.08}, {Start: 62.1, End: 64.9}}, Seconds: 9.56,
			Warning: english, WarningKey: "warning.damaged", WarningArgs: []string{"0:08–0:16, 1:02–1:05", "0:11"}}
		st.Warnings = []string{silent}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	clean := e.statement("AD", "", "Clean", presession.StatusReady)
	// A warning whose message this version's catalogue lacks reads as stored.
	later := e.statement("AD", "", "From a later version", presession.StatusReady)
	if _, err := e.cat.Update(ctx, later.ID, func(st *presession.Statement) error {
		st.Media.Damage = &presession.Damage{Spans: []presession.Span{{Start: 1, End: 2}}, Seconds: 1,
			Warning: "something new", WarningKey: "warning.not_yet_known", WarningArgs: []string{"x"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	for lang, damage := range map[string]string{
		"en": english,
		"fr": "l'image ou le son est endommagé à 0:08–0:16, 1:02–1:05 (0:11 au total) ; regardez ces passages avant d'approuver la déclaration",
		"es": "la imagen o el sonido están dañados en 0:08–0:16, 1:02–1:05 (0:11 en total); vea esos fragmentos antes de aprobar la declaración",
	} {
		want := []string{damage, silent}
		res := e.do("GET", "/api/v1/statements/"+s.ID, nil, bearer(staffToken), func(r *http.Request) { r.Header.Set("Accept-Language", lang) })
		var got struct {
			Warnings     []string `json:"warnings"`
			WarningsText []string `json:"warnings_text"`
			Media        struct {
				Damage *presession.Damage `json:"damage"`
			} `json:"media"`
		}
		err := json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("%s: staff GET: %d %v", lang, res.StatusCode, err)
		}
		if !slices.Equal(got.WarningsText, want) || !slices.Equal(got.Warnings, []string{silent}) {
			t.Errorf("%s: warnings %q, warnings_text %q; want %q, %q", lang, got.Warnings, got.WarningsText, []string{silent}, want)
		}
		if d := got.Media.Damage; d == nil || len(d.Spans) != 2 || d.Spans[0] != (presession.Span{Start: 8.32, End: 15.08}) || d.Warning != english {
			t.Errorf("%s: media.damage %+v", lang, d)
		}

		var list review.ListResponse
		if st, _ := e.staff("GET", "/api/v1/statements?status=ready&lang="+lang, nil, &list); st != 200 || list.Total != 3 {
			t.Fatalf("%s: staff list: %d %+v", lang, st, list)
		}
		for _, l := range list.Statements {
			switch l.ID {
			case s.ID:
				if !slices.Equal(l.WarningsText, want) {
					t.Errorf("%s: staff list warnings_text %q", lang, l.WarningsText)
				}
			case clean.ID:
				if len(l.WarningsText) != 0 {
					t.Errorf("%s: a clean statement has warnings %q", lang, l.WarningsText)
				}
			case later.ID:
				if !slices.Equal(l.WarningsText, []string{"something new"}) {
					t.Errorf("%s: a warning without a known message reads %q", lang, l.WarningsText)
				}
			}
		}

		_, body, _ := e.page("/staff?status=ready&lang="+lang, bearer(staffToken))
		if !strings.Contains(body, `<ul class="warnings"><li>`+html.EscapeString(damage)+`</li><li>`+html.EscapeString(silent)+`</li></ul>`) {
			t.Errorf("%s: the dashboard does not list %q first", lang, damage)
		}
	}
}
