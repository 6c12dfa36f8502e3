package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

// captionStore is the storage of a test's kind, for the captions files.
func (e *env) captionStore(t *testing.T) storage.Store {
	t.Helper()
	if e.kind == "s3" {
		b := e.bucket
		s, err := storage.NewS3(context.Background(), storage.Config{Endpoint: b.Endpoint, Region: b.Region, Bucket: b.Bucket, AccessKey: b.AccessKey, SecretKey: b.SecretKey})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s, err := storage.NewDir(filepath.Join(e.cfg.StorageDir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// captionServer serves the endpoint's routes as main mounts them, the
// captions route included, on store.
func (e *env) captionServer(t *testing.T, store storage.Store, revoked web.Revocations) *httptest.Server {
	t.Helper()
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	site, err := web.NewSite(testSessions(), bundle, &web.Auth{Signer: e.signer, Revocations: revoked}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	e.localizer, e.captions, e.revocations = site, store, revoked
	svc, _ := e.node()
	mux := http.NewServeMux()
	if err := svc.Routes(mux, site); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// seed records a statement of invitation inv in status, with processed
// media of duration seconds and placeholder tracks when duration > 0.
func (e *env) seed(t *testing.T, inv token.Invitation, status presession.Status, duration float64) string {
	t.Helper()
	ctx := context.Background()
	id := token.NewID()
	st := &presession.Statement{ID: id, Session: inv.Session, Country: inv.Country, Organisation: inv.Organisation,
		InvitationID: inv.ID, Title: "T", Speaker: "Ana", Language: "en", SourceKey: layout.Source(id)}
	if err := e.st.Create(ctx, st); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Update(ctx, id, func(s *presession.Statement) error {
		s.Status = status
		if duration > 0 {
			s.Media = &presession.Media{Duration: duration}
			for _, l := range []string{"en", "fr", "es"} {
				s.Captions = append(s.Captions, presession.Caption{Language: l, Name: presession.LanguageName(l), Key: layout.Caption(id, l), Placeholder: true})
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func get(t *testing.T, s storage.Store, key string) (string, bool) {
	t.Helper()
	rc, _, err := s.Get(context.Background(), key, nil)
	if presession.ErrorCode(err) == presession.ENOTFOUND {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b), true
}

const (
	draftSRT = "1\r\n00:00:01,000 --> 00:00:03,500\r\nBonjour à toutes et à tous.\r\n\r\n2\r\n00:00:04,000 --> 00:00:06,000\r\nNous parlons pour quarante organisations.\r\n"
	draftVTT = "WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nGood morning.\n"
	// cues out of order on line 6
	draftBad = "WEBVTT\n\n00:00:05.000 --> 00:00:06.000\na\n\n00:00:01.000 --> 00:00:02.000\nb\n"
	// a cue at 12:00, past any statement of a session that takes 10 minutes
	draftLong = "WEBVTT\n\n00:12:00.000 --> 00:12:02.000\nlate\n"
	// a cue at 0:08, past a 5-second video
	draftPast = "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\na\n\n00:00:08.000 --> 00:00:09.000\nb\n"
)

// TestCaptionsRoute: PUT /api/v1/uploads/{id}/captions/{lang} takes the
// organisation's captions file for one of its invitation's statements in
// one of the session's languages, authorised like the tus endpoint, and
// refuses everything else in the request's language with nothing stored;
// a good file is kept as sent, and on a processed statement whose track
// is a placeholder it is the track at once.
func TestCaptionsRoute(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind)
			store := e.captionStore(t)
			revoked := &revokedSet{}
			srv := e.captionServer(t, store, revoked)
			tok, inv := e.invite("AD", "Civil Voice", time.Time{})
			other, otherInv := e.invite("AD", "Other Voice", time.Time{})
			gone, goneInv := e.invite("AD", "Revoked Voice", time.Time{})
			revoked.ids.Store(goneInv.ID, true)

			uploading := e.seed(t, inv, presession.StatusUploading, 0)
			theirs := e.seed(t, otherInv, presession.StatusUploading, 0)
			ready := e.seed(t, inv, presession.StatusReady, 5)
			approved := e.seed(t, inv, presession.StatusApproved, 5)
			failed := e.seed(t, inv, presession.StatusFailed, 0)
			edited := e.seed(t, inv, presession.StatusReady, 5)
			e.st.Update(context.Background(), edited, func(s *presession.Statement) error {
				s.Captions[1] = presession.Caption{Language: "fr", Name: "Français", Key: layout.Caption(edited, "fr"), UpdatedBy: "staff"}
				return nil
			})
			revokedOne := e.seed(t, goneInv, presession.StatusUploading, 0)

			for _, tc := range []struct {
				name, id, lang, auth, query, accept, body string
				status                                    int
				code                                      string
				say                                       string // in the message
				stored                                    bool
				applied                                   bool
			}{
				{name: "no token", id: uploading, lang: "fr", body: draftSRT, status: 401, code: "unauthorized", say: "Authorization: Bearer"},
				{name: "token in the query", id: uploading, lang: "fr", query: "?token=" + tok, body: draftSRT, status: 401, code: "unauthorized"},
				{name: "forged token", id: uploading, lang: "fr", auth: tok + "x", body: draftSRT, status: 401, code: "unauthorized"},
				{name: "revoked invitation", id: revokedOne, lang: "fr", auth: gone, accept: "es", body: draftSRT, status: 403, code: "forbidden"},
				{name: "other invitation's statement", id: theirs, lang: "fr", auth: tok, body: draftSRT, status: 404, code: "not_found", say: "no such upload"},
				{name: "their own, with the other's token", id: uploading, lang: "fr", auth: other, body: draftSRT, status: 404, code: "not_found"},
				{name: "unknown statement", id: token.NewID(), lang: "fr", auth: tok, body: draftSRT, status: 404, code: "not_found"},
				{name: "not an id", id: "..%2Fsecrets", lang: "fr", auth: tok, body: draftSRT, status: 404, code: "not_found"},
				{name: "language of no session", id: uploading, lang: "de", auth: tok, accept: "fr", body: draftSRT, status: 400, code: "invalid", say: "acceptés en en, fr, es seulement, pas en \"de\""},
				{name: "bad file, in French", id: uploading, lang: "fr", auth: tok, accept: "fr", body: draftBad, status: 400, code: "invalid",
					say: "le fichier de sous-titres ne peut pas être utilisé : ligne 6 : le sous-titre commence à 00:00:01.000, avant le précédent (00:00:05.000)"},
				{name: "bad file, in Spanish", id: uploading, lang: "fr", auth: tok, accept: "es", body: "hello\n", status: 400, code: "invalid", say: "línea 1: se esperaba un tiempo de subtítulo"},
				{name: "not UTF-8", id: uploading, lang: "fr", auth: tok, body: "1\n00:00:01,000 --> 00:00:02,000\n\xe9t\xe9\n", status: 400, code: "invalid", say: "not UTF-8"},
				{name: "past the session's longest statement", id: uploading, lang: "en", auth: tok, body: draftLong, status: 400, code: "invalid",
					say: "a cue starts at 12:00, after the longest statement this session accepts (10:00)"},
				{name: "too large", id: uploading, lang: "fr", auth: tok, body: "WEBVTT\n\n" + strings.Repeat("x", MaxCaptionBytes), status: 413, code: "too_large", say: "1024 KiB"},
				{name: "failed statement", id: failed, lang: "fr", auth: tok, body: draftSRT, status: 409, code: "conflict", say: "upload the video again"},
				{name: "approved statement", id: approved, lang: "fr", auth: tok, accept: "fr", body: draftSRT, status: 409, code: "conflict", say: "(Approuvée)"},
				{name: "track staff edited", id: edited, lang: "fr", auth: tok, body: draftSRT, status: 409, code: "conflict", say: "already edited the captions in Français"},
				{name: "processed: past the video's end", id: ready, lang: "en", auth: tok, body: draftPast, status: 400, code: "invalid", say: "line 6: the cue starts at 00:00:08.000, after the end of the video (00:00:05.000)"},
				{name: "good SRT before processing", id: uploading, lang: "fr", auth: tok, body: draftSRT, status: 200, stored: true},
				{name: "the upload's id", id: uploading + "+mpu.0123", lang: "en", auth: tok, body: draftVTT, status: 200, stored: true},
				{name: "good SRT on a processed statement", id: ready, lang: "fr", auth: tok, body: draftSRT, status: 200, stored: true, applied: true},
				{name: "the staff-edited statement's other language", id: edited, lang: "es", auth: tok, body: draftVTT, status: 200, stored: true, applied: true},
			} {
				t.Run(tc.name, func(t *testing.T) {
					sid := statementID(tc.id)
					draftKey := layout.CaptionDraft(sid, tc.lang)
					if !validStatementID(sid) {
						draftKey = layout.CaptionDraft(uploading, tc.lang) // where nothing may land either
					}
					before, _ := get(t, store, draftKey)
					req, _ := http.NewRequest("PUT", srv.URL+"/api/v1/uploads/"+tc.id+"/captions/"+tc.lang+tc.query, strings.NewReader(tc.body))
					if tc.auth != "" {
						req.Header.Set("Authorization", "Bearer "+tc.auth)
					}
					if tc.accept != "" {
						req.Header.Set("Accept-Language", tc.accept)
					}
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != tc.status {
						t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, b)
					}
					after, stored := get(t, store, draftKey)
					if tc.status != 200 {
						var body web.ErrorBody
						if err := json.Unmarshal(b, &body); err != nil {
							t.Fatalf("%v: %s", err, b)
						}
						if body.Error.Code != tc.code || !strings.Contains(body.Error.Message, tc.say) {
							t.Errorf("error %+v, want %s saying %q", body.Error, tc.code, tc.say)
						}
						if after != before {
							t.Errorf("a refused file changed the stored draft: %q", after)
						}
						return
					}
					var got CaptionResponse
					if err := json.Unmarshal(b, &got); err != nil {
						t.Fatalf("%v: %s", err, b)
					}
					if !stored || after != tc.body {
						t.Fatalf("stored %v %q, want the file as sent", stored, after)
					}
					if got.Statement != sid || got.Language != tc.lang || got.Cues != strings.Count(tc.body, "-->") || got.Applied != tc.applied {
						t.Errorf("response %+v", got)
					}
					st := e.statement(sid)
					c, _ := st.Caption(tc.lang)
					if !tc.applied {
						if st.Media == nil && len(st.Captions) != 0 {
							t.Errorf("tracks before processing: %+v", st.Captions)
						}
						return
					}
					vtt, _ := get(t, store, c.Key)
					want := presession.CaptionChange{At: c.UpdatedAt, By: "cso:" + inv.ID, Source: presession.CaptionFromDraft, Cues: got.Cues}
					if c.Placeholder || !c.Draft || c.UpdatedBy != "cso:"+inv.ID || c.UpdatedAt.IsZero() || len(c.History) != 1 || c.History[0] != want {
						t.Errorf("track %+v, want the organisation's draft", c)
					}
					if !strings.HasPrefix(vtt, "WEBVTT\n") || !strings.Contains(vtt, "Bonjour") && !strings.Contains(vtt, "Good morning") {
						t.Errorf("track file:\n%s", vtt)
					}
				})
			}
			// The track staff edited stayed theirs.
			if c, _ := e.statement(edited).Caption("fr"); c.Draft || c.UpdatedBy != "staff" {
				t.Errorf("staff's track changed: %+v", c)
			}
			// Sent again, the processed statement's track is the same.
			first := e.statement(ready).Captions
			req, _ := http.NewRequest("PUT", srv.URL+"/api/v1/uploads/"+ready+"/captions/fr", bytes.NewReader([]byte(draftSRT)))
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if again := e.statement(ready).Captions; res.StatusCode != 200 || len(again) != 3 || again[1].Draft != first[1].Draft || len(again[1].History) != 1 {
				t.Errorf("sent again: %d %+v", res.StatusCode, again)
			}
		})
	}
}
