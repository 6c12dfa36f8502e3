package programme_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uprinfo/presession/internal/a11y"
	"github.com/uprinfo/presession/internal/testenv"
)

// TestProgrammePagesAccessible scans the home page with the programme
// (on now and next) and the staff programme page, in every interface
// language, with axe-core at 1280 and 390 px.
func TestProgrammePagesAccessible(t *testing.T) {
	e := newHTTPEnv(t)
	e.clock.set(geneva("09:10"))
	ck := e.cookie()
	var pages []a11y.Page
	for _, l := range []string{"en", "fr", "es"} {
		pages = append(pages,
			a11y.Page{Name: "home " + l, URL: e.srv.URL + "/?lang=" + l},
			a11y.Page{Name: "staff programme " + l, URL: e.srv.URL + "/staff/programme?lang=" + l,
				Cookies: []a11y.Cookie{{Name: ck.Name, Value: ck.Value, URL: e.srv.URL}}})
	}
	for _, r := range a11y.Scan(t, pages...) {
		if r.Lang == "" {
			t.Errorf("%s: no lang attribute", r.Name)
		}
	}
}

// TestStaffProgrammeKeyboard delays Croatia's slot with the keyboard
// alone on the staff programme page (e2e/programme-staff.mjs), in French,
// at phone width, every focus stop visible.
func TestStaffProgrammeKeyboard(t *testing.T) {
	chromium := testenv.Chromium(t)
	modules := testenv.NodeModules(t)
	e := newHTTPEnv(t)
	ck := e.cookie()
	spec, _ := json.Marshal(map[string]any{"url": e.srv.URL + "/staff/programme?lang=fr",
		"cookie":  map[string]string{"name": ck.Name, "value": ck.Value, "url": e.srv.URL},
		"summary": "Modifier ou retarder le créneau de Croatie", "delay": "15", "saved": "Le créneau de Croatie est enregistré."})
	cmd := exec.Command("node", filepath.Join(testenv.RepoRoot(t), "e2e", "programme-staff.mjs"), string(spec), chromium, modules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
		Stops int    `json:"stops"`
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil || !res.OK || err != nil {
		t.Fatalf("keyboard: %s (%v %v)\n%s\n%s", res.Error, err, jerr, out, stderr.String())
	}
	s, err := e.store.Slot(t.Context(), "upr47", "HR")
	if err != nil || s == nil || !s.Start.Equal(geneva("09:45")) {
		t.Fatalf("Croatia after the keyboard delay: %+v %v", s, err)
	}
	t.Logf("%d focus stops, each visible", res.Stops)
}
