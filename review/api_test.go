package review_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/review"
	"github.com/uprinfo/presession/web"
)

func TestListAndGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a1 := e.statement("AD", "", "Andorra one", presession.StatusReady)
	a2 := e.statement("AD", "", "Andorra two", presession.StatusProcessing)
	b1 := e.statement("BG", "", "Bulgaria one", presession.StatusApproved)
	b2 := e.statement("bg", "", "Bulgaria two", presession.StatusFailed)

	var all review.ListResponse
	if st, _ := e.staff("GET", "/api/v1/statements", nil, &all); st != 200 {
		t.Fatalf("list: %d", st)
	}
	if all.Total != 4 || len(all.Statements) != 4 || all.Limit != review.DefaultLimit || all.Offset != 0 {
		t.Fatalf("list all: total %d, %d statements, limit %d", all.Total, len(all.Statements), all.Limit)
	}
	for _, s := range all.Statements {
		if s.History != nil {
			t.Errorf("listed %s with its history", s.ID)
		}
		if s.Media != nil && s.Media.Renditions != nil {
			t.Errorf("listed %s with segment detail", s.ID)
		}
	}
	if all.Statements[0].ID != a1.ID || all.Statements[0].Media == nil || all.Statements[0].Media.Duration != 42.5 {
		t.Errorf("first listed: %+v", all.Statements[0])
	}
	if p := all.Statements[1]; p.ID != a2.ID || p.Progress != 37 {
		t.Errorf("processing statement listed with progress %v", p.Progress)
	}

	for _, tc := range []struct {
		query string
		ids   []string
		total int
	}{
		{"?country=ad", []string{a1.ID, a2.ID}, 2},
		{"?session=upr36&country=BG&status=approved", []string{b1.ID}, 1},
		{"?status=ready", []string{a1.ID}, 1},
		{"?limit=2&offset=1", []string{a2.ID, b1.ID}, 4},
		{"?offset=10", nil, 4},
		{"?lang=fr", []string{a1.ID, a2.ID, b1.ID, b2.ID}, 4},
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

	for _, q := range []string{"?session=upr99", "?country=FR", "?country=XX1", "?session=upr36&country=DE",
		"?status=done", "?offset=-1", "?offset=x", "?limit=0", "?limit=501", "?limit=ten"} {
		if st, code := e.staff("GET", "/api/v1/statements"+q, nil, nil); st != 400 || code != presession.EINVALID {
			t.Errorf("%s: %d %s, want 400 invalid", q, st, code)
		}
	}
	// The message is in the request's language.
	res := e.do("GET", "/api/v1/statements?status=done", nil, bearer(staffToken), func(r *http.Request) { r.Header.Set("Accept-Language", "es") })
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(body), "desconocido") {
		t.Errorf("Spanish error: %s", body)
	}

	var got presession.Statement
	if st, _ := e.staff("GET", "/api/v1/statements/"+b1.ID, nil, &got); st != 200 {
		t.Fatalf("get: %d", st)
	}
	if got.ID != b1.ID || len(got.History) != 4 || got.History[3].Actor != "staff" || got.Media == nil || len(got.Media.Renditions) != 1 || len(got.Captions) != 3 {
		t.Errorf("get: %+v", got)
	}
	if st, code := e.staff("GET", "/api/v1/statements/nope", nil, nil); st != 404 || code != presession.ENOTFOUND {
		t.Errorf("get unknown: %d %s", st, code)
	}
}

func TestReviewDecisions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ready := e.statement("AD", "", "Ready", presession.StatusReady)
	proc := e.statement("AD", "", "Processing", presession.StatusProcessing)
	other := e.statement("AD", "", "Other", presession.StatusReady)
	e.drainHooks()

	var s presession.Statement
	if st, _ := e.staff("POST", "/api/v1/statements/"+ready.ID+"/approve", nil, &s); st != 200 || s.Status != presession.StatusApproved {
		t.Fatalf("approve: %d %s", st, s.Status)
	}
	last := s.History[len(s.History)-1]
	if last.Actor != presession.ActorService || last.From != presession.StatusReady || last.To != presession.StatusApproved {
		t.Errorf("approve event: %+v", last)
	}
	if h := e.drainHooks(); !slices.Equal(h, []string{"upr36/AD"}) {
		t.Errorf("hooks after approve: %v", h)
	}

	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"approve twice", "POST", "/api/v1/statements/" + ready.ID + "/approve", "", 409, presession.ECONFLICT},
		{"approve processing", "POST", "/api/v1/statements/" + proc.ID + "/approve", "", 409, presession.ECONFLICT},
		{"approve unknown", "POST", "/api/v1/statements/nope/approve", "", 404, presession.ENOTFOUND},
		{"reject without body", "POST", "/api/v1/statements/" + other.ID + "/reject", "", 400, presession.EINVALID},
		{"reject blank reason", "POST", "/api/v1/statements/" + other.ID + "/reject", `{"reason": "  "}`, 400, presession.EINVALID},
		{"reject bad json", "POST", "/api/v1/statements/" + other.ID + "/reject", `{"reason": `, 400, presession.EINVALID},
		{"reject unknown field", "POST", "/api/v1/statements/" + other.ID + "/reject", `{"why": "x"}`, 400, presession.EINVALID},
		{"reject huge", "POST", "/api/v1/statements/" + other.ID + "/reject", `{"reason": "` + strings.Repeat("x", 70000) + `"}`, 413, presession.ETOOLARGE},
		{"reject too long reason", "POST", "/api/v1/statements/" + other.ID + "/reject", `{"reason": "` + strings.Repeat("x", 2001) + `"}`, 400, presession.EINVALID},
		{"reject approved", "POST", "/api/v1/statements/" + ready.ID + "/reject", `{"reason": "no"}`, 409, presession.ECONFLICT},
		{"reopen ready", "POST", "/api/v1/statements/" + other.ID + "/reopen", "", 409, presession.ECONFLICT},
		{"reopen processing", "POST", "/api/v1/statements/" + proc.ID + "/reopen", "", 409, presession.ECONFLICT},
		{"reopen unknown", "POST", "/api/v1/statements/nope/reopen", "", 404, presession.ENOTFOUND},
	} {
		var body any
		if tc.body != "" {
			body = tc.body
		}
		if st, code := e.staff(tc.method, tc.path, body, nil); st != tc.status || code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, st, code, tc.status, tc.code)
		}
	}
	if got := e.get(proc.ID); got.Status != presession.StatusProcessing {
		t.Errorf("processing statement moved to %s", got.Status)
	}

	if st, _ := e.staff("POST", "/api/v1/statements/"+other.ID+"/reject", map[string]string{"reason": " Not about Andorra "}, &s); st != 200 ||
		s.Status != presession.StatusRejected || s.Reason != "Not about Andorra" {
		t.Fatalf("reject: %d %s %q", st, s.Status, s.Reason)
	}
	if h := e.drainHooks(); len(h) != 0 {
		t.Errorf("rejecting a ready statement touched a playlist: %v", h)
	}
	s = presession.Statement{}
	if st, _ := e.staff("POST", "/api/v1/statements/"+other.ID+"/reopen", nil, &s); st != 200 || s.Status != presession.StatusReady || s.Reason != "" {
		t.Fatalf("reopen rejected: %d %s %q", st, s.Status, s.Reason)
	}
	if st, _ := e.staff("POST", "/api/v1/statements/"+ready.ID+"/reopen", map[string]string{"reason": "check the captions"}, &s); st != 200 || s.Status != presession.StatusReady {
		t.Fatalf("reopen approved: %d %s", st, s.Status)
	}
	if last := s.History[len(s.History)-1]; last.Reason != "check the captions" || last.Actor != presession.ActorService || last.From != presession.StatusApproved {
		t.Errorf("reopen event: %+v", last)
	}
	if h := e.drainHooks(); !slices.Equal(h, []string{"upr36/AD"}) {
		t.Errorf("hooks after reopening an approved statement: %v", h)
	}
}

func TestOrderAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.statement("AD", "", "A", presession.StatusApproved)
	b := e.statement("AD", "", "B", presession.StatusApproved)
	c := e.statement("AD", "", "C", presession.StatusApproved)
	ready := e.statement("AD", "", "Ready", presession.StatusReady)
	foreign := e.statement("BG", "", "Foreign", presession.StatusApproved)
	e.drainHooks()

	var o presession.Order
	if st, _ := e.staff("GET", "/api/v1/sessions/upr36/countries/ad/order", nil, &o); st != 200 || !slices.Equal(o.Statements, []string{a.ID, b.ID, c.ID}) {
		t.Fatalf("order: %d %v", st, o.Statements)
	}
	want := []string{c.ID, a.ID, b.ID}
	if st, _ := e.staff("PUT", "/api/v1/sessions/upr36/countries/ad/order", review.OrderBody{Statements: want}, &o); st != 200 ||
		!slices.Equal(o.Statements, want) || o.UpdatedBy != string(presession.ActorService) || o.Country != "AD" {
		t.Fatalf("put order: %d %+v", st, o)
	}
	if h := e.drainHooks(); !slices.Equal(h, []string{"upr36/AD"}) {
		t.Errorf("hooks after order: %v", h)
	}
	for _, tc := range []struct {
		name, path string
		body       any
		status     int
		code       string
	}{
		{"leaves one out", "upr36/countries/AD", review.OrderBody{Statements: []string{c.ID, a.ID}}, 409, presession.ECONFLICT},
		{"duplicate", "upr36/countries/AD", review.OrderBody{Statements: []string{c.ID, a.ID, b.ID, a.ID}}, 400, presession.EINVALID},
		{"foreign", "upr36/countries/AD", review.OrderBody{Statements: []string{c.ID, a.ID, b.ID, foreign.ID}}, 400, presession.EINVALID},
		{"unknown id", "upr36/countries/AD", review.OrderBody{Statements: []string{c.ID, a.ID, b.ID, "nope"}}, 400, presession.EINVALID},
		{"not approved", "upr36/countries/AD", review.OrderBody{Statements: []string{c.ID, a.ID, b.ID, ready.ID}}, 409, presession.ECONFLICT},
		{"no statements field", "upr36/countries/AD", map[string]any{}, 400, presession.EINVALID},
		{"not json", "upr36/countries/AD", "[1,2", 400, presession.EINVALID},
		{"country not in session", "upr36/countries/FR", review.OrderBody{Statements: []string{}}, 404, presession.ENOTFOUND},
		{"unknown session", "upr99/countries/AD", review.OrderBody{Statements: []string{}}, 404, presession.ENOTFOUND},
	} {
		if st, code := e.staff("PUT", "/api/v1/sessions/"+tc.path+"/order", tc.body, nil); st != tc.status || code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, st, code, tc.status, tc.code)
		}
	}
	if st, _ := e.staff("GET", "/api/v1/sessions/upr36/countries/AD/order", nil, &o); st != 200 || !slices.Equal(o.Statements, want) {
		t.Errorf("order after refused changes: %v", o.Statements)
	}
	// A newly approved statement joins the end; a reopened one leaves.
	e.staff("POST", "/api/v1/statements/"+ready.ID+"/approve", nil, nil)
	e.staff("POST", "/api/v1/statements/"+a.ID+"/reopen", nil, nil)
	e.staff("GET", "/api/v1/sessions/upr36/countries/AD/order", nil, &o)
	if w := []string{c.ID, b.ID, ready.ID}; !slices.Equal(o.Statements, w) {
		t.Errorf("order after approve and reopen: %v, want %v", o.Statements, w)
	}
	// An empty country has an empty order, and accepts the empty order.
	if st, _ := e.staff("GET", "/api/v1/sessions/upr36/countries/MN/order", nil, &o); st != 200 || o.Statements == nil || len(o.Statements) != 0 {
		t.Errorf("empty order: %d %#v", st, o.Statements)
	}
	if st, code := e.staff("PUT", "/api/v1/sessions/upr36/countries/MN/order", review.OrderBody{Statements: []string{}}, nil); st != 200 {
		t.Errorf("empty order put: %d %s", st, code)
	}
	if st, code := e.staff("GET", "/api/v1/sessions/upr36/countries/XX/order", nil, nil); st != 404 {
		t.Errorf("order of a country not under review: %d %s", st, code)
	}
}

func TestInvitationsAndViewerLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var inv review.InvitationResponse
	st, code := e.staff("POST", "/api/v1/invitations", review.InvitationRequest{Session: "upr36", Country: "bg", Organisation: " Bulgarian Helsinki Committee ", Until: "2099-12-31"}, &inv)
	if st != 201 {
		t.Fatalf("invite: %d %s", st, code)
	}
	u, err := url.Parse(inv.UploadURL)
	if err != nil || u.Path != "/upload" || u.Query().Get("token") != inv.Token || !strings.HasPrefix(inv.UploadURL, e.srv.URL) {
		t.Fatalf("upload url %q token %q", inv.UploadURL, inv.Token)
	}
	got, err := e.signer.ParseInvitation(inv.Token)
	if err != nil || got.Country != "BG" || got.Organisation != "Bulgarian Helsinki Committee" || got.Until.Format(time.DateOnly) != "2099-12-31" {
		t.Fatalf("invitation %+v %v", got, err)
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"deadline passed", review.InvitationRequest{Session: "upr36", Country: "AD", Organisation: "X"}, 403, presession.EFORBIDDEN},
		{"no organisation", review.InvitationRequest{Session: "upr36", Country: "AD", Organisation: " ", Until: "2099-01-01"}, 400, presession.EINVALID},
		{"no country", review.InvitationRequest{Session: "upr36", Organisation: "X", Until: "2099-01-01"}, 400, presession.EINVALID},
		{"country not in session", review.InvitationRequest{Session: "upr36", Country: "FR", Organisation: "X", Until: "2099-01-01"}, 404, presession.ENOTFOUND},
		{"unknown session", review.InvitationRequest{Session: "x", Country: "AD", Organisation: "X", Until: "2099-01-01"}, 404, presession.ENOTFOUND},
		{"bad date", review.InvitationRequest{Session: "upr36", Country: "AD", Organisation: "X", Until: "31/12/2099"}, 400, presession.EINVALID},
		{"past date", review.InvitationRequest{Session: "upr36", Country: "AD", Organisation: "X", Until: "2001-01-01"}, 400, presession.EINVALID},
		{"unknown field", map[string]string{"session": "upr36", "country": "AD", "org": "X"}, 400, presession.EINVALID},
	} {
		if st, code := e.staff("POST", "/api/v1/invitations", tc.body, nil); st != tc.status || code != tc.code {
			t.Errorf("invite %s: %d %s, want %d %s", tc.name, st, code, tc.status, tc.code)
		}
	}

	var vl review.ViewerLinkResponse
	if st, code := e.staff("POST", "/api/v1/viewer-links", review.ViewerLinkRequest{Session: "upr36"}, &vl); st != 201 {
		t.Fatalf("viewer link: %d %s", st, code)
	}
	v, err := e.signer.ParseViewer(vl.Token, time.Now())
	if err != nil || v.Country != "" || !strings.HasSuffix(strings.Split(vl.URL, "?")[0], "/watch/upr36") ||
		v.Expires.Sub(time.Now()) < review.DefaultViewerValidity-time.Minute || v.Expires.Sub(time.Now()) > review.DefaultViewerValidity {
		t.Fatalf("viewer link %q: %+v %v", vl.URL, v, err)
	}
	if st, _ := e.staff("POST", "/api/v1/viewer-links", review.ViewerLinkRequest{Session: "upr36", Country: "mv", ValidFor: "2h"}, &vl); st != 201 {
		t.Fatalf("country viewer link: %d", st)
	}
	v, _ = e.signer.ParseViewer(vl.Token, time.Now())
	if v.Country != "MV" || !strings.Contains(vl.URL, "/watch/upr36/mv?key=") || v.Expires.Sub(time.Now()) > 2*time.Hour {
		t.Errorf("country viewer link %q %+v", vl.URL, v)
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
	}{
		{"no session", review.ViewerLinkRequest{}, 400},
		{"unknown session", review.ViewerLinkRequest{Session: "x"}, 404},
		{"unknown country", review.ViewerLinkRequest{Session: "upr36", Country: "FR"}, 404},
		{"bad duration", review.ViewerLinkRequest{Session: "upr36", ValidFor: "a month"}, 400},
		{"negative duration", review.ViewerLinkRequest{Session: "upr36", ValidFor: "-1h"}, 400},
		{"the longest validity", review.ViewerLinkRequest{Session: "upr36", ValidFor: "2160h"}, 201},
		{"longer than the cap", review.ViewerLinkRequest{Session: "upr36", ValidFor: "2161h"}, 400},
		{"centuries", review.ViewerLinkRequest{Session: "upr36", ValidFor: "2562047h"}, 400},
	} {
		if st, _ := e.staff("POST", "/api/v1/viewer-links", tc.body, nil); st != tc.status {
			t.Errorf("viewer link %s: %d, want %d", tc.name, st, tc.status)
		}
	}
}

// TestViewerLinkCapped: a validity past the cap is refused with a message
// in the request's language naming the cap.
func TestViewerLinkCapped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for lang, want := range map[string]string{
		"en": "A viewing link may be valid for at most 2160h; 2562047h47m16.854775807s is longer.",
		"fr": "Un lien de visionnage peut être valable au plus 2160h ; 2562047h47m16.854775807s dépasse cette durée.",
		"es": "Un enlace de visualización puede ser válido como máximo 2160h; 2562047h47m16.854775807s supera ese límite.",
	} {
		res := e.do("POST", "/api/v1/viewer-links", strings.NewReader(`{"session":"upr36","valid_for":"2562047h47m16.854775807s"}`),
			bearer(staffToken), func(r *http.Request) { r.Header.Set("Accept-Language", lang) })
		var eb web.ErrorBody
		json.NewDecoder(res.Body).Decode(&eb)
		res.Body.Close()
		if res.StatusCode != 400 || eb.Error.Code != presession.EINVALID || !strings.Contains(eb.Error.Message, want) {
			t.Errorf("%s: %d %+v, want a message containing %q", lang, res.StatusCode, eb.Error, want)
		}
	}
	// The dashboard's form offers no more than the cap.
	_, body, _ := e.page("/staff", bearer(staffToken))
	if !strings.Contains(body, `id="vw-days" name="days" min="1" max="90" value="30"`) {
		t.Errorf("the viewer link form does not stop at 90 days")
	}
}

func TestMeStatementsIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokA, invA := e.invite("AD", "Org A")
	tokB, invB := e.invite("AD", "Org B")
	a1 := e.statement("AD", invA.ID, "A one", presession.StatusProcessing)
	a2 := e.statement("AD", invA.ID, "A two", presession.StatusRejected)
	b1 := e.statement("AD", invB.ID, "B one", presession.StatusFailed)
	e.statement("AD", "", "Someone else", presession.StatusApproved)

	read := func(opts ...func(*http.Request)) (int, map[string]any, review.MyStatements) {
		res := e.do("GET", "/api/v1/me/statements", nil, opts...)
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		var raw map[string]any
		var typed review.MyStatements
		json.Unmarshal(data, &raw)
		json.Unmarshal(data, &typed)
		return res.StatusCode, raw, typed
	}
	st, raw, mine := read(bearer(tokA))
	if st != 200 || mine.Organisation != "Org A" || len(mine.Statements) != 2 {
		t.Fatalf("A: %d %+v", st, mine)
	}
	if s := mine.Statements[0]; s.ID != a1.ID || s.Status != presession.StatusProcessing || s.Progress != 37 || s.Title != "A one" || s.CreatedAt.IsZero() || s.Reason != "" {
		t.Errorf("A one: %+v", s)
	}
	if s := mine.Statements[1]; s.ID != a2.ID || s.Status != presession.StatusRejected || s.Reason != "off topic" || s.Duration != 42.5 {
		t.Errorf("A two: %+v", s)
	}
	body, _ := json.Marshal(raw)
	for _, leak := range []string{"source_key", "history", "invitation_id", "hls", "uploads/", "Someone", "B one", "staff", "worker"} {
		if strings.Contains(string(body), leak) {
			t.Errorf("A's view contains %q: %s", leak, body)
		}
	}
	st, _, mine = read(func(r *http.Request) { r.URL.RawQuery = "token=" + url.QueryEscape(tokB) })
	if st != 200 || len(mine.Statements) != 1 || mine.Statements[0].ID != b1.ID || mine.Statements[0].Reason != "the file is not a video" {
		t.Fatalf("B by ?token=: %d %+v", st, mine)
	}
	tokC, _ := e.invite("BG", "Org C")
	if st, _, mine = read(bearer(tokC)); st != 200 || len(mine.Statements) != 0 || mine.Statements == nil {
		t.Errorf("C: %d %+v", st, mine)
	}
	for name, o := range map[string]func(*http.Request){
		"none":     func(*http.Request) {},
		"garbage":  bearer("abc.def"),
		"tampered": bearer(tokA[:len(tokA)-2] + "xx"),
		"viewer":   bearer(e.viewerToken()),
		"staff":    bearer(staffToken),
	} {
		if st, raw, _ := read(o); st != 401 || raw["error"] == nil {
			t.Errorf("%s: %d %v", name, st, raw)
		}
	}
	res := e.do("GET", "/api/v1/me/statements", nil, bearer(tokA), func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") })
	res.Body.Close()
	if h := res.Header.Get("Access-Control-Allow-Origin"); h != "" {
		t.Errorf("CORS header %q", h)
	}
}

// TestAPIErrorsTranslated: the staff API's refusals keep their code in
// every language and say why in the request's language, statuses and
// countries included.
func TestAPIErrorsTranslated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	approved := e.statement("AD", "", "Approved one", presession.StatusApproved)
	ready := e.statement("AD", "", "Ready one", presession.StatusReady)
	for _, tc := range []struct {
		method, path, body string
		status             int
		code               string
		want               map[string]string
	}{
		{"POST", "/api/v1/statements/" + approved.ID + "/approve", "", 409, presession.ECONFLICT, map[string]string{
			"en": "A statement that is “Approved” cannot become “Approved”.",
			"fr": "Une déclaration « Approuvée » ne peut pas passer à « Approuvée ».",
			"es": "Una declaración «Aprobada» no puede pasar a «Aprobada».",
		}},
		{"POST", "/api/v1/statements/" + ready.ID + "/reopen", "", 409, presession.ECONFLICT, map[string]string{
			"en": "this one is “Ready for review”.",
			"fr": "celle-ci est « Prête pour examen ».",
			"es": "esta está «Lista para revisión».",
		}},
		{"PUT", "/api/v1/sessions/upr36/countries/AD/order", `{"statements": ["` + ready.ID + `"]}`, 409, presession.ECONFLICT, map[string]string{
			"en": "Statement " + ready.ID + " is “Ready for review”, not “Approved”.",
			"fr": "La déclaration " + ready.ID + " est « Prête pour examen », pas « Approuvée ».",
			"es": "La declaración " + ready.ID + " está «Lista para revisión», no «Aprobada».",
		}},
		{"GET", "/api/v1/statements/0000000000000000", "", 404, presession.ENOTFOUND, map[string]string{
			"en": "Statement 0000000000000000 not found.",
			"fr": "Déclaration 0000000000000000 introuvable.",
			"es": "No se encontró la declaración 0000000000000000.",
		}},
		{"POST", "/api/v1/invitations", `{"session": "upr36", "country": "MW", "organisation": "X"}`, 403, presession.EFORBIDDEN, map[string]string{
			"en": "Malawi's upload deadline (31 January 2020, 23:59 UTC) has passed",
			"fr": "pour Malawi (31 janvier 2020, 23:59 UTC) est passée",
			"es": "para Malaui (31 de enero de 2020, 23:59 UTC) ha vencido",
		}},
	} {
		for lang, want := range tc.want {
			res := e.do(tc.method, tc.path, strings.NewReader(tc.body), bearer(staffToken),
				func(r *http.Request) { r.Header.Set("Accept-Language", lang+";q=0.9") })
			data, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var eb struct {
				Error struct{ Code, Message string }
			}
			json.Unmarshal(data, &eb)
			if res.StatusCode != tc.status || eb.Error.Code != tc.code || !strings.Contains(eb.Error.Message, want) {
				t.Errorf("%s %s (%s): %d %s, want %d %s with %q", tc.method, tc.path, lang, res.StatusCode, data, tc.status, tc.code, want)
			}
		}
	}
}

// TestFailureReasonsTranslated: a reason the system wrote reads in the
// request's language wherever it is shown — the organisation's list, the
// staff API (reason_text, next to the stored English reason) and the
// dashboard — while a staff rejection, an old reason without a message
// and one whose message the catalogue lacks read as stored.
func TestFailureReasonsTranslated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	tok, inv := e.invite("AD", "Org R")
	english := "the file stops at 0:24 of 1:00 — the upload may have been cut; please upload it again"
	fail := func(title, reason string, msg presession.Message) *presession.Statement {
		t.Helper()
		s := e.statement("AD", inv.ID, title, presession.StatusProcessing)
		s, err := e.cat.Transition(ctx, s.ID, presession.StatusFailed, "worker", reason, msg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cut := fail("Cut short", english, presession.Message{Key: "reject.truncated", Args: []string{"0:24", "1:00"}})
	future := fail("From a later version", "something new went wrong", presession.Message{Key: "reject.not_yet_known", Args: []string{"x"}})
	old := e.statement("AD", inv.ID, "Failed before messages", presession.StatusFailed)
	rejected := e.statement("AD", inv.ID, "Rejected by staff", presession.StatusRejected)

	want := map[string]map[string]string{
		"en": {cut.ID: english},
		"fr": {cut.ID: "le fichier s'arrête à 0:24 sur 1:00 — l'envoi a peut-être été interrompu ; veuillez l'envoyer à nouveau"},
		"es": {cut.ID: "el archivo se detiene en 0:24 de 1:00 — es posible que el envío se haya interrumpido; vuelva a enviarlo"},
	}
	stored := map[string]string{cut.ID: english, future.ID: "something new went wrong", old.ID: "the file is not a video", rejected.ID: "off topic"}
	for lang, texts := range want {
		for id, reason := range stored {
			if _, ok := texts[id]; !ok {
				texts[id] = reason
			}
		}
		for _, how := range []struct {
			name string
			opt  func(*http.Request)
		}{
			{"Accept-Language", func(r *http.Request) { r.Header.Set("Accept-Language", lang+"-419, en;q=0.5") }},
			{"?lang=", func(r *http.Request) { r.URL.RawQuery = "lang=" + lang }},
		} {
			res := e.do("GET", "/api/v1/me/statements", nil, bearer(tok), how.opt)
			var mine review.MyStatements
			err := json.NewDecoder(res.Body).Decode(&mine)
			res.Body.Close()
			if err != nil || res.StatusCode != 200 || len(mine.Statements) != len(stored) {
				t.Fatalf("%s by %s: %d %v %+v", lang, how.name, res.StatusCode, err, mine)
			}
			for _, s := range mine.Statements {
				if s.Reason != stored[s.ID] || s.ReasonText != texts[s.ID] {
					t.Errorf("%s by %s, %q: reason %q, reason_text %q; want %q, %q", lang, how.name, s.Title, s.Reason, s.ReasonText, stored[s.ID], texts[s.ID])
				}
			}
		}

		// The staff API: the record as stored, and reason_text.
		res := e.do("GET", "/api/v1/statements/"+cut.ID, nil, bearer(staffToken), func(r *http.Request) { r.Header.Set("Accept-Language", lang) })
		var raw map[string]any
		json.NewDecoder(res.Body).Decode(&raw)
		res.Body.Close()
		if raw["reason"] != english || raw["reason_text"] != texts[cut.ID] || raw["reason_key"] != "reject.truncated" ||
			fmt.Sprint(raw["reason_args"]) != "[0:24 1:00]" || raw["history"] == nil {
			t.Errorf("%s: staff GET: reason %q reason_text %q key %v args %v", lang, raw["reason"], raw["reason_text"], raw["reason_key"], raw["reason_args"])
		}
		var list review.ListResponse
		if st, _ := e.staff("GET", "/api/v1/statements?status=failed&lang="+lang, nil, &list); st != 200 || list.Total != 3 {
			t.Fatalf("%s: staff list: %d %+v", lang, st, list)
		}
		for _, s := range list.Statements {
			if s.Reason != stored[s.ID] || s.ReasonText != texts[s.ID] {
				t.Errorf("%s: staff list, %q: reason %q, reason_text %q", lang, s.Title, s.Reason, s.ReasonText)
			}
		}

		// The dashboard.
		_, body, _ := e.page("/staff?status=failed&lang="+lang, bearer(staffToken))
		if !strings.Contains(body, `<span data-role="reason">`+html.EscapeString(texts[cut.ID])+`</span>`) {
			t.Errorf("%s: the dashboard does not show %q", lang, texts[cut.ID])
		}
	}
}
