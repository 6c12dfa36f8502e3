package review_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/review"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

// revokedMessages are the refusals of a revoked upload link and viewing
// link, by language.
var revokedMessages = map[string][2]string{
	"en": {"This upload link was revoked by the organisers", "This viewing link was revoked by the organisers"},
	"fr": {"Ce lien d'envoi a été révoqué par les organisateurs", "Ce lien de visionnage a été révoqué par les organisateurs"},
	"es": {"Los organizadores revocaron este enlace de carga", "Los organizadores revocaron este enlace de visualización"},
}

// watchNode is a second node's stand-in for the delegations' routes
// (package playlist's): its own Auth on e's Redis and catalog, answering
// 200 to a request whose principal is known and the site's error to any
// other.
func (e *env) watchNode() *httptest.Server {
	e.t.Helper()
	bundle, err := i18n.Load()
	if err != nil {
		e.t.Fatal(err)
	}
	site, err := web.NewSite(presession.Builtin(), bundle, e.auth(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		e.t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := site.Auth.Principal(r).Err(); err != nil {
			site.Error(w, r, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	e.t.Cleanup(srv.Close)
	return srv
}

// refusal sends GET url with the header (if any) in lang and returns the
// status and the error body.
func refusal(t *testing.T, url, header, value, lang string) (int, web.ErrorBody) {
	t.Helper()
	r, _ := http.NewRequest("GET", url, nil)
	if header != "" {
		r.Header.Set(header, value)
	}
	r.Header.Set("Accept-Language", lang)
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var eb web.ErrorBody
	if res.StatusCode >= 400 {
		if err := json.NewDecoder(res.Body).Decode(&eb); err != nil {
			t.Fatalf("GET %s: %d, not a JSON error: %v", url, res.StatusCode, err)
		}
	}
	return res.StatusCode, eb
}

// TestRevokeInvitation: staff revoke an invitation; the next request with
// its token is refused with 403 and the message in the request's
// language, on this node and another; its statements stay; the list shows
// who revoked it and when; a second revocation changes nothing; an unknown
// id is 404.
func TestRevokeInvitation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var inv review.InvitationResponse
	if st, code := e.staff("POST", "/api/v1/invitations", review.InvitationRequest{Session: "upr36", Country: "BG", Organisation: "Wrong Org", Until: "2099-12-31"}, &inv); st != 201 {
		t.Fatalf("invite: %d %s", st, code)
	}
	kept := e.statement("BG", inv.Invitation.ID, "Sent before the revocation", presession.StatusReady)
	other := e.watchNode()
	for _, base := range []string{e.srv.URL + "/api/v1/me/statements", other.URL} {
		if st, eb := refusal(t, base, "Authorization", "Bearer "+inv.Token, "en"); st != 200 {
			t.Fatalf("before the revocation: %d %+v", st, eb)
		}
	}

	var rec presession.Invitation
	if st, code := e.staff("POST", "/api/v1/invitations/"+inv.Invitation.ID+"/revoke", nil, &rec); st != 200 || rec.RevokedAt == nil || rec.RevokedBy != presession.ActorService {
		t.Fatalf("revoke: %d %s %+v", st, code, rec)
	}
	for lang, want := range revokedMessages {
		for _, base := range []string{e.srv.URL + "/api/v1/me/statements", other.URL} {
			st, eb := refusal(t, base, "Authorization", "Bearer "+inv.Token, lang)
			if st != 403 || eb.Error.Code != presession.EFORBIDDEN || !strings.HasPrefix(eb.Error.Message, want[0]) {
				t.Errorf("%s, %s: %d %+v, want 403 %q", base, lang, st, eb.Error, want[0])
			}
		}
	}
	if s := e.get(kept.ID); s.Status != presession.StatusReady {
		t.Errorf("the statement uploaded before the revocation is %s", s.Status)
	}
	var list review.InvitationList
	e.staff("GET", "/api/v1/invitations?country=BG", nil, &list)
	if len(list.Invitations) != 1 || list.Invitations[0].RevokedAt == nil || !list.Invitations[0].RevokedAt.Equal(*rec.RevokedAt) ||
		list.Invitations[0].Statements != 1 {
		t.Errorf("list after the revocation: %+v", list.Invitations)
	}
	var again presession.Invitation
	if st, _ := e.staff("POST", "/api/v1/invitations/"+inv.Invitation.ID+"/revoke", nil, &again); st != 200 || !again.RevokedAt.Equal(*rec.RevokedAt) {
		t.Errorf("second revocation: %d %+v", st, again)
	}
	for _, tc := range []struct {
		name, path string
		status     int
		code       string
	}{
		{"unknown invitation", "/api/v1/invitations/0000000000000000/revoke", 404, presession.ENOTFOUND},
		{"unknown viewer link", "/api/v1/viewer-links/0000000000000000/revoke", 404, presession.ENOTFOUND},
	} {
		if st, code := e.staff("POST", tc.path, nil, nil); st != tc.status || code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, st, code, tc.status, tc.code)
		}
	}
	// Only staff revoke.
	csoTok, other2 := e.invite("AD", "Someone")
	for _, c := range []cred{{"none", func(*http.Request) {}}, {"cso token", bearer(csoTok)}, {"viewer token", bearer(e.viewerToken())}} {
		res := e.do("POST", "/api/v1/invitations/"+other2.ID+"/revoke", nil, c.apply)
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Errorf("revoke with %s: %d, want 401", c.name, res.StatusCode)
		}
	}
}

// TestRevokeViewerLink: a viewer link is recorded with whom it is for and
// listed; once revoked, the next request with its key (or its cookie) is
// refused by another node with 403 and the message in the request's
// language, and the list says revoked, by whom and when.
func TestRevokeViewerLink(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var a, b review.ViewerLinkResponse
	if st, code := e.staff("POST", "/api/v1/viewer-links", review.ViewerLinkRequest{Session: "upr36", Country: "bg", For: " Delegation of Bulgaria "}, &a); st != 201 || a.ID == "" {
		t.Fatalf("viewer link: %d %s %+v", st, code, a)
	}
	if st, _ := e.staff("POST", "/api/v1/viewer-links", review.ViewerLinkRequest{Session: "upr36", ValidFor: "1h"}, &b); st != 201 {
		t.Fatalf("session viewer link: %d", st)
	}
	if v, err := e.signer.ParseViewer(a.Token, time.Now()); err != nil || v.ID != a.ID {
		t.Fatalf("the link's id %q is not its token's: %+v %v", a.ID, v, err)
	}
	if st, code := e.staff("POST", "/api/v1/viewer-links", review.ViewerLinkRequest{Session: "upr36", For: strings.Repeat("é", token.MaxForLength+1)}, nil); st != 400 || code != presession.EINVALID {
		t.Errorf("a 301-character for: %d %s", st, code)
	}

	list := func(q string) []review.ViewerLinkView {
		t.Helper()
		var l review.ViewerLinkList
		if st, code := e.staff("GET", "/api/v1/viewer-links"+q, nil, &l); st != 200 || l.Total != len(l.ViewerLinks) {
			t.Fatalf("list %s: %d %s %+v", q, st, code, l)
		}
		return l.ViewerLinks
	}
	all := list("")
	if len(all) != 2 || all[0].ID != a.ID || all[0].For != "Delegation of Bulgaria" || all[0].Country != "BG" || all[0].State != review.LinkActive ||
		all[0].CreatedBy != presession.ActorService || all[1].ID != b.ID || all[1].Country != "" {
		t.Fatalf("list: %+v", all)
	}
	for _, tc := range []struct {
		q    string
		want int
	}{{"?session=upr36", 2}, {"?country=bg", 1}, {"?session=upr36&country=AD", 0}} {
		if got := list(tc.q); len(got) != tc.want {
			t.Errorf("list %s: %d links, want %d", tc.q, len(got), tc.want)
		}
	}
	if st, code := e.staff("GET", "/api/v1/viewer-links?country=FR", nil, nil); st != 400 || code != presession.EINVALID {
		t.Errorf("list with a country not under review: %d %s", st, code)
	}

	other := e.watchNode()
	if st, eb := refusal(t, other.URL+"/?key="+a.Token, "", "", "en"); st != 200 {
		t.Fatalf("before the revocation: %d %+v", st, eb)
	}
	var rec review.ViewerLinkView
	if st, code := e.staff("POST", "/api/v1/viewer-links/"+a.ID+"/revoke", nil, &rec); st != 200 || rec.State != review.LinkRevoked || rec.RevokedBy != presession.ActorService {
		t.Fatalf("revoke: %d %s %+v", st, code, rec)
	}
	for lang, want := range revokedMessages {
		for _, how := range []struct{ path, header, value string }{
			{"/?key=" + a.Token, "", ""},
			{"/", "Cookie", web.ViewerCookie + "=" + a.Token},
		} {
			st, eb := refusal(t, other.URL+how.path, how.header, how.value, lang)
			if st != 403 || eb.Error.Code != presession.EFORBIDDEN || !strings.HasPrefix(eb.Error.Message, want[1]) {
				t.Errorf("%s %s, %s: %d %+v, want 403 %q", how.path, how.header, lang, st, eb.Error, want[1])
			}
		}
	}
	if st, eb := refusal(t, other.URL+"/?key="+b.Token, "", "", "en"); st != 200 {
		t.Errorf("the other link after the revocation: %d %+v", st, eb)
	}
	all = list("")
	if all[0].State != review.LinkRevoked || all[0].RevokedAt == nil || !all[0].RevokedAt.Equal(*rec.RevokedAt) || all[1].State != review.LinkActive {
		t.Errorf("list after the revocation: %+v", all)
	}
	var again review.ViewerLinkView
	if st, _ := e.staff("POST", "/api/v1/viewer-links/"+a.ID+"/revoke", nil, &again); st != 200 || !again.RevokedAt.Equal(*rec.RevokedAt) {
		t.Errorf("second revocation: %d %+v", st, again)
	}
}

// TestDashboardRevocations: the dashboard shows each invitation's state
// with a revoke button while it stands, and the viewer links with whom
// they are for, what they cover, when they expire and their state.
func TestDashboardRevocations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var standing, gone review.InvitationResponse
	e.staff("POST", "/api/v1/invitations", review.InvitationRequest{Session: "upr36", Country: "BG", Organisation: "Standing Org", Until: "2099-12-31"}, &standing)
	e.staff("POST", "/api/v1/invitations", review.InvitationRequest{Session: "upr36", Country: "BG", Organisation: "Gone Org", Until: "2099-12-31"}, &gone)
	var la, lb review.ViewerLinkResponse
	e.staff("POST", "/api/v1/viewer-links", review.ViewerLinkRequest{Session: "upr36", Country: "BG", For: "Delegation of Bulgaria"}, &la)
	e.staff("POST", "/api/v1/viewer-links", review.ViewerLinkRequest{Session: "upr36"}, &lb)
	e.staff("POST", "/api/v1/invitations/"+gone.Invitation.ID+"/revoke", nil, nil)
	e.staff("POST", "/api/v1/viewer-links/"+lb.ID+"/revoke", nil, nil)

	row := func(body, id string) string {
		i := strings.Index(body, `<tr id="`+id+`"`)
		if i < 0 {
			t.Fatalf("no row %s", id)
		}
		return body[i : i+strings.Index(body[i:], "</tr>")]
	}
	for _, tc := range []struct {
		lang    string
		revoked string
		revoke  string
		showing string
	}{
		{"en", "Revoked", "Revoke", "Showing 2 of 2 viewing links"},
		{"fr", "Révoqué", "Révoquer", "2 liens de visionnage affichés sur 2"},
		{"es", "Revocado", "Revocar", "Se muestran 2 de 2 enlaces de visualización"},
	} {
		st, body, _ := e.page("/staff?lang="+tc.lang, bearer(staffToken))
		if st != 200 || !strings.Contains(body, tc.showing) || !strings.Contains(body, `src="/staff/assets/links.js"`) {
			t.Fatalf("%s: %d, no viewer links section", tc.lang, st)
		}
		if r := row(body, "inv-"+standing.Invitation.ID); !strings.Contains(r, `data-action="inv-revoke"`) || !strings.Contains(r, tc.revoke) {
			t.Errorf("%s: a standing invitation's row has no revoke button:\n%s", tc.lang, r)
		}
		if r := row(body, "inv-"+gone.Invitation.ID); strings.Contains(r, `data-action="inv-revoke"`) || !strings.Contains(r, tc.revoked) || !strings.Contains(r, "service") {
			t.Errorf("%s: a revoked invitation's row:\n%s", tc.lang, r)
		}
		if r := row(body, "vl-"+la.ID); !strings.Contains(r, `data-action="vl-revoke"`) || !strings.Contains(r, "Delegation of Bulgaria") || !strings.Contains(r, "(BG)") {
			t.Errorf("%s: an active viewer link's row:\n%s", tc.lang, r)
		}
		if r := row(body, "vl-"+lb.ID); strings.Contains(r, `data-action="vl-revoke"`) || !strings.Contains(r, tc.revoked) {
			t.Errorf("%s: a revoked viewer link's row:\n%s", tc.lang, r)
		}
	}
}
