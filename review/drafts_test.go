package review_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
)

// TestDraftCaptionsShown: a track started from the organisation's file
// reads "draft from the organisation" on the dashboard and comes with its
// fields from the staff API; a file that could not be used is a warning
// in the reader's language, until staff change the track.
func TestDraftCaptionsShown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	s := e.statement("AD", "inv-drafts", "With captions", presession.StatusReady)
	at := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)
	if _, err := e.cat.Update(ctx, s.ID, func(st *presession.Statement) error {
		st.Captions[1] = presession.Caption{Language: "fr", Name: "Français", Key: st.Captions[1].Key, Draft: true, UpdatedAt: at, UpdatedBy: "cso:inv-drafts",
			History: []presession.CaptionChange{{At: at, By: "cso:inv-drafts", Source: presession.CaptionFromDraft, Cues: 12}}}
		st.Captions[2].DraftRefused = "line 6: the cue starts at 00:00:50.000, after the end of the video (00:00:42.500)"
		st.Captions[2].DraftRefusedKey = "reject.caption.after_end"
		st.Captions[2].DraftRefusedArgs = []string{"6", "00:00:50.000", "00:00:42.500"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	warning := map[string]string{
		"en": "the organisation's captions file in Español was not used (line 6: the cue starts at 00:00:50.000, after the end of the video (00:00:42.500)); the track stays a placeholder until captions are uploaded",
		"fr": "le fichier de sous-titres de l'organisation en Español n'a pas été utilisé (ligne 6 : le sous-titre commence à 00:00:50.000, après la fin de la vidéo (00:00:42.500)) ; la piste reste provisoire jusqu'à ce que des sous-titres soient téléversés",
		"es": "el archivo de subtítulos de la organización en Español no se ha usado (línea 6: el subtítulo empieza en 00:00:50.000, después del final del vídeo (00:00:42.500)); la pista sigue siendo provisional hasta que se carguen subtítulos",
	}
	draft := map[string]string{"en": "draft from the organisation", "fr": "brouillon de l'organisation", "es": "borrador de la organización"}
	for _, lang := range []string{"en", "fr", "es"} {
		res := e.do("GET", "/api/v1/statements/"+s.ID, nil, bearer(staffToken), func(r *http.Request) { r.Header.Set("Accept-Language", lang) })
		var got struct {
			Captions     []presession.Caption `json:"captions"`
			WarningsText []string             `json:"warnings_text"`
		}
		err := json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 || len(got.Captions) != 3 {
			t.Fatalf("%s: staff GET: %d %v %+v", lang, res.StatusCode, err, got)
		}
		if c := got.Captions[1]; !c.Draft || c.Placeholder || c.UpdatedBy != "cso:inv-drafts" || !c.UpdatedAt.Equal(at) || len(c.History) != 1 || c.History[0].Cues != 12 {
			t.Errorf("%s: French track %+v", lang, c)
		}
		if c := got.Captions[2]; !c.Placeholder || c.DraftRefusedKey != "reject.caption.after_end" || len(c.DraftRefusedArgs) != 3 {
			t.Errorf("%s: Spanish track %+v", lang, c)
		}
		if len(got.WarningsText) != 1 || got.WarningsText[0] != warning[lang] {
			t.Errorf("%s: warnings_text %q\nwant %q", lang, got.WarningsText, warning[lang])
		}
		_, body, _ := e.page("/staff?status=ready&lang="+lang, bearer(staffToken))
		for _, want := range []string{
			`<li data-caption="fr">Français: <span data-role="caption-state">` + html.EscapeString(draft[lang]) + `</span></li>`,
			`<li data-caption="en">English: <span data-role="caption-state">` + html.EscapeString(bundle.T(lang, "staff.caption.placeholder")) + `</span></li>`,
			`<li>` + html.EscapeString(warning[lang]) + `</li>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the dashboard lacks %s", lang, want)
			}
		}
	}

	// Staff upload the Spanish captions: the warning goes.
	vtt := "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\nBuenos días.\n"
	if code, body := e.staff("PUT", "/api/v1/statements/"+s.ID+"/captions/es", []byte(vtt), nil); code != 200 {
		t.Fatalf("staff caption upload: %d %s", code, body)
	}
	var after struct {
		WarningsText []string `json:"warnings_text"`
	}
	if code, _ := e.staff("GET", "/api/v1/statements/"+s.ID, nil, &after); code != 200 || len(after.WarningsText) != 0 {
		t.Errorf("warnings once staff replaced the track: %d %q", code, after.WarningsText)
	}
}
