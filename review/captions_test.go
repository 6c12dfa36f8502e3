package review_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/review"
)

const goodVTT = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\nGood morning, Madam President.\n\n00:00:04.500 --> 00:00:09.000 line:90%\nWe speak for <i>forty</i> organisations.\n"

const goodSRT = "1\r\n00:00:01,000 --> 00:00:04,000\r\nBonjour, Madame la Présidente.\r\n\r\n2\r\n00:00:04,500 --> 00:00:09,250\r\n<font color=\"red\">Nous</font> parlons.\r\n"

func TestCaptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	ready := e.statement("AD", "", "Ready", presession.StatusReady)
	approved := e.statement("AD", "", "Approved", presession.StatusApproved)
	processing := e.statement("AD", "", "Processing", presession.StatusProcessing)
	onlyEN := e.statement("AD", "", "Only English", presession.StatusReady)
	if _, err := e.cat.Update(ctx, onlyEN.ID, func(s *presession.Statement) error { s.Captions = s.Captions[:1]; return nil }); err != nil {
		t.Fatal(err)
	}
	e.drainHooks()

	t.Run("refused in the request's language", func(t *testing.T) {
		res := e.do("PUT", "/api/v1/statements/"+ready.ID+"/captions/en?lang=fr", strings.NewReader("WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nback\n"),
			bearer(staffToken), func(r *http.Request) { r.Header.Set("Content-Type", "text/vtt") })
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 400 || !strings.Contains(string(data), "Le fichier de sous-titres est inutilisable : ligne 3 : le sous-titre se termine") {
			t.Fatalf("%d %s", res.StatusCode, data)
		}
	})

	for _, tc := range []struct {
		name     string
		id, lang string
		body     []byte
		chunked  bool
		status   int
		code     string
		key      string   // where the WebVTT must be
		contains []string // in the stored WebVTT
	}{
		{name: "good WebVTT", id: ready.ID, lang: "en", body: []byte(goodVTT), status: 200, key: "statements/" + ready.ID + "/subs/en.vtt",
			contains: []string{"WEBVTT\n", "00:00:01.000 --> 00:00:04.000\nGood morning", "00:00:04.500 --> 00:00:09.000 line:90%"}},
		{name: "SRT converted", id: ready.ID, lang: "fr", body: []byte(goodSRT), status: 200, key: "statements/" + ready.ID + "/subs/fr.vtt",
			contains: []string{"WEBVTT\n", "00:00:01.000 --> 00:00:04.000\nBonjour, Madame la Présidente.", "00:00:04.500 --> 00:00:09.250\nNous parlons."}},
		{name: "SRT sent chunked", id: ready.ID, lang: "es", body: []byte(strings.ReplaceAll(goodSRT, "Bonjour", "Buenos días")), chunked: true, status: 200,
			key: "statements/" + ready.ID + "/subs/es.vtt", contains: []string{"Buenos días"}},
		{name: "new track gets the default key", id: onlyEN.ID, lang: "fr", body: []byte(goodVTT), status: 200, key: layout.Caption(onlyEN.ID, "fr"), contains: []string{"Good morning"}},
		{name: "approved statement", id: approved.ID, lang: "en", body: []byte(goodVTT), status: 200, key: "statements/" + approved.ID + "/subs/en.vtt"},
		{name: "garbage", id: ready.ID, lang: "en", body: []byte("this is not a caption file\nat all\n"), status: 400, code: presession.EINVALID},
		{name: "binary", id: ready.ID, lang: "en", body: []byte{0xff, 0xd8, 0xff, 0xe0, 0, 1, 2}, status: 400, code: presession.EINVALID},
		{name: "empty", id: ready.ID, lang: "en", body: nil, status: 400, code: presession.EINVALID},
		{name: "end before start", id: ready.ID, lang: "en", body: []byte("WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nback\n"), status: 400, code: presession.EINVALID},
		{name: "cue past the end", id: ready.ID, lang: "en", body: []byte("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\n00:01:00.000 --> 00:01:05.000\nafter the video\n"), status: 400, code: presession.EINVALID},
		{name: "huge", id: ready.ID, lang: "en", body: bytes.Repeat([]byte("x"), review.MaxCaptionBytes+1), status: 413, code: presession.ETOOLARGE},
		{name: "huge chunked", id: ready.ID, lang: "en", body: bytes.Repeat([]byte("x"), review.MaxCaptionBytes+1), chunked: true, status: 413, code: presession.ETOOLARGE},
		{name: "language not of the session", id: ready.ID, lang: "de", body: []byte(goodVTT), status: 400, code: presession.EINVALID},
		{name: "language not a code", id: ready.ID, lang: "EN", body: []byte(goodVTT), status: 400, code: presession.EINVALID},
		{name: "no media yet", id: processing.ID, lang: "en", body: []byte(goodVTT), status: 409, code: presession.ECONFLICT},
		{name: "unknown statement", id: "nope", lang: "en", body: []byte(goodVTT), status: 404, code: presession.ENOTFOUND},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(tc.body)
			if tc.chunked {
				body = io.MultiReader(body) // hides the length: chunked
			}
			res := e.do("PUT", "/api/v1/statements/"+tc.id+"/captions/"+tc.lang, body, bearer(staffToken),
				func(r *http.Request) { r.Header.Set("Content-Type", "text/vtt") })
			data, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status || (tc.code != "" && !strings.Contains(string(data), `"code":"`+tc.code+`"`)) {
				t.Fatalf("%d %s, want %d %s", res.StatusCode, data, tc.status, tc.code)
			}
			if tc.status != 200 {
				return
			}
			s := e.get(tc.id)
			c, ok := s.Caption(tc.lang)
			if !ok || c.Placeholder || c.Key != tc.key || c.UpdatedAt.IsZero() || c.Name != presession.LanguageName(tc.lang) {
				t.Fatalf("caption entry %+v", c)
			}
			rd, info, err := e.store.Get(ctx, tc.key, nil)
			if err != nil {
				t.Fatal(err)
			}
			vtt, _ := io.ReadAll(rd)
			rd.Close()
			if info.ContentType != "text/vtt; charset=utf-8" || info.CacheControl != "no-cache" {
				t.Errorf("stored as %q, %q", info.ContentType, info.CacheControl)
			}
			for _, want := range tc.contains {
				if !strings.Contains(string(vtt), want) {
					t.Errorf("stored WebVTT lacks %q:\n%s", want, vtt)
				}
			}
		})
	}
	// Refused uploads changed nothing; only the approved statement's
	// caption touched a playlist.
	if c, _ := e.get(processing.ID).Caption("en"); c.Key != "" {
		t.Errorf("processing statement got a caption %+v", c)
	}
	if h := e.drainHooks(); !slices.Equal(h, []string{"upr36/AD"}) {
		t.Errorf("hooks: %v", h)
	}
	if got := e.get(ready.ID); len(got.Captions) != 3 {
		t.Errorf("captions of the ready statement: %+v", got.Captions)
	}
	if got := e.get(onlyEN.ID); len(got.Captions) != 2 || got.Captions[1].Language != "fr" {
		t.Errorf("captions after adding French: %+v", got.Captions)
	}
}
