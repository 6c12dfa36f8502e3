package upload

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/web"
)

// revokedSet is a web.Revocations of the ids added to it.
type revokedSet struct{ ids sync.Map }

func (r *revokedSet) Revoked(_ context.Context, id string) (bool, error) {
	_, ok := r.ids.Load(id)
	return ok, nil
}

// TestRevokedMidUpload: an upload in progress under an invitation staff
// revoke is refused at its next PATCH, and at a HEAD to resume, with 403,
// ERR_INVITATION_REVOKED and the message in the request's language; no
// new upload starts; the statement the invitation finished before stays
// as it was, and the unfinished one stays uploading (the sweep removes it
// once abandoned), on either store.
func TestRevokedMidUpload(t *testing.T) {
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			site, err := web.NewSite(testSessions(), bundle, &web.Auth{Signer: e.signer}, testLogger(t))
			if err != nil {
				t.Fatal(err)
			}
			revoked := &revokedSet{}
			e.localizer, e.revocations = site, revoked
			_, srv := e.node()
			tok, inv := e.invite("AD", "Wrong Org", time.Time{})

			done := e.mustCreate(srv.URL, tok, 10)
			if r := e.patch(done, tok, 0, randomBytes(10, 1)); r.status != http.StatusNoContent {
				t.Fatalf("the first upload: %d %s", r.status, r.body)
			}
			chunk := 5 << 20
			url := e.mustCreate(srv.URL, tok, int64(2*chunk))
			if r := e.patch(url, tok, 0, randomBytes(chunk, 2)); r.status != http.StatusNoContent {
				t.Fatalf("the first half: %d %s", r.status, r.body)
			}
			revoked.ids.Store(inv.ID, true)

			for _, tc := range []struct {
				name, lang, want string
				send             func(lang string) tusResp
			}{
				{"PATCH", "en", "This upload link was revoked by the organisers", func(lang string) tusResp {
					return e.do("PATCH", url, tok, map[string]string{"Upload-Offset": "5242880", "Content-Type": "application/offset+octet-stream", "Accept-Language": lang}, make([]byte, chunk))
				}},
				{"PATCH", "fr", "Ce lien d'envoi a été révoqué par les organisateurs", func(lang string) tusResp {
					return e.do("PATCH", url, tok, map[string]string{"Upload-Offset": "5242880", "Content-Type": "application/offset+octet-stream", "Accept-Language": lang}, make([]byte, chunk))
				}},
				{"HEAD", "es", "", func(lang string) tusResp {
					return e.do("HEAD", url, tok, map[string]string{"Accept-Language": lang}, nil)
				}},
				{"POST", "es", "Los organizadores revocaron este enlace de carga", func(lang string) tusResp {
					return e.do("POST", srv.URL+"/files/", tok, map[string]string{"Upload-Length": "10", "Upload-Metadata": encodeMeta(goodMeta()), "Accept-Language": lang}, nil)
				}},
			} {
				r := tc.send(tc.lang)
				if r.status != http.StatusForbidden || (tc.want != "" && !strings.HasPrefix(r.body, ErrCodeRevoked+": "+tc.want)) || r.header.Get("Content-Language") != tc.lang {
					t.Errorf("%s (%s) after the revocation: %d %q %v", tc.name, tc.lang, r.status, r.body, r.header)
				}
			}
			if st := e.statement(statementID(path.Base(done))); st.Status != presession.StatusUploaded {
				t.Errorf("the statement uploaded before the revocation is %s", st.Status)
			}
			if st := e.statement(statementID(path.Base(url))); st.Status != presession.StatusUploading {
				t.Errorf("the statement cut by the revocation is %s", st.Status)
			}
		})
	}
}

// TestRevokedPage: the upload page of a revoked invitation says so, in
// the page's language, with 403, and offers no form.
func TestRevokedPage(t *testing.T) {
	e := newEnv(t, "file")
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	revoked := &revokedSet{}
	site, err := web.NewSite(testSessions(), bundle, &web.Auth{Signer: e.signer, Revocations: revoked}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	page, err := e.svc.Page(site)
	if err != nil {
		t.Fatal(err)
	}
	tok, inv := e.invite("AD", "Wrong Org", time.Time{})
	revoked.ids.Store(inv.ID, true)
	for lang, want := range map[string]string{
		"en": "This upload link was revoked by the organisers",
		"fr": "Ce lien d&#39;envoi a été révoqué par les organisateurs",
		"es": "Los organizadores revocaron este enlace de carga",
	} {
		rec := httptest.NewRecorder()
		page.ServeHTTP(rec, httptest.NewRequest("GET", "/upload?lang="+lang+"&token="+tok, nil))
		body := rec.Body.String()
		if rec.Code != http.StatusForbidden || !strings.Contains(body, want) || strings.Contains(body, `id="upload-form"`) {
			t.Errorf("%s: %d, want 403 saying %q without the form:\n%s", lang, rec.Code, want, body)
		}
	}
}
