package upload

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/a11y"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/web"
)

// pageServer serves the upload page and endpoint like main does, plus a
// stand-in for GET /api/v1/me/statements over the test's catalog double.
// patched counts the PATCH body bytes the endpoint received.
func (e *env) pageServer(throttleRate int64) (*httptest.Server, *atomic.Int64) {
	e.t.Helper()
	bundle, err := i18n.Load()
	if err != nil {
		e.t.Fatal(err)
	}
	site, err := web.NewSite(testSessions(), bundle, &web.Auth{Signer: e.signer, StaffToken: "staff-token-0123456789"}, testLogger(e.t))
	if err != nil {
		e.t.Fatal(err)
	}
	page, err := e.svc.Page(site)
	if err != nil {
		e.t.Fatal(err)
	}
	var patched atomic.Int64
	files := e.svc.Handler()
	if throttleRate > 0 {
		files = throttle(files, throttleRate)
	}
	mux := http.NewServeMux()
	mux.Handle("/files/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch {
			r.Body = countingBody{r.Body, &patched}
		}
		files.ServeHTTP(w, r)
	}))
	mux.Handle("GET /upload", page)
	mux.Handle("GET /upload/static/", page)
	mux.Handle("GET /static/", web.Static())
	mux.HandleFunc("GET /api/v1/me/statements", func(w http.ResponseWriter, r *http.Request) {
		inv, _, err := site.Auth.Principal(r).RequireInvitation()
		if err != nil {
			site.Error(w, r, err)
			return
		}
		ids, _ := e.rdb.SMembers(r.Context(), "inv:"+inv.ID).Result()
		list := []*presession.Statement{}
		for _, id := range ids {
			if st, err := e.st.Get(r.Context(), id); err == nil {
				list = append(list, st)
			}
		}
		site.JSON(w, http.StatusOK, map[string]any{"statements": list})
	})
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	return srv, &patched
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func TestPageRenders(t *testing.T) {
	e := newEnv(t, "file")
	srv, _ := e.pageServer(0)
	tok, _ := e.invite("AD", "Civil Voice <b>", time.Time{})
	closed, _ := e.invite("BG", "Late Org", time.Time{})
	get := func(url string) (int, string) {
		t.Helper()
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, c := range []struct {
		name, url string
		status    int
		want      []string
		not       []string
	}{
		{"open en", "/upload?token=" + tok, 200, []string{"Upload your video statement", "Civil Voice &lt;b&gt;", "Andorra", `id="upload-form"`,
			`accept=".mp4,.mov,.m4v,.mkv,.webm,.avi,.ts,.mts,.m2ts,.3gp,video/*"`, "up to 3 statements", `"chunkSize":10485760`, `"invitation":`,
			`id="captions"`, `accept=".vtt,.srt,text/vtt"`, `id="captions-lang"`, `"captionMaxBytes":1048576`}, []string{"Civil Voice <b>"}},
		{"open fr", "/upload?lang=fr&token=" + tok, 200, []string{"Envoyer votre déclaration vidéo", "Andorre", `lang="fr"`, "Français", "64 Mio", `"units":["octets","Kio","Mio","Gio","Tio","Pio"]`,
			"Fichier de sous-titres (WebVTT ou SRT), facultatif", "1 Mio au plus"}, nil},
		{"open es", "/upload?lang=es&token=" + tok, 200, []string{"Envíe su declaración en vídeo", "Andorra", `"status.uploaded":"Subida, en espera de procesamiento"`}, nil},
		{"closed", "/upload?token=" + closed, 200, []string{"Uploads for Bulgaria closed on 20 May 2020", "ask the organisers", "Your statements"}, []string{`id="upload-form"`}},
		{"no token", "/upload", 401, []string{"This upload link is not valid"}, []string{"upload.js"}},
		{"forged", "/upload?token=" + tok + "x", 401, []string{"This upload link is not valid"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := get(srv.URL + c.url)
			if status != c.status {
				t.Fatalf("status %d", status)
			}
			for _, w := range c.want {
				if !strings.Contains(strings.ToLower(body), strings.ToLower(w)) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range c.not {
				if strings.Contains(body, w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
	if status, body := get(srv.URL + "/upload/static/upload.js"); status != 200 || !strings.Contains(body, "Tus-Resumable") {
		t.Fatalf("upload.js: %d", status)
	}
}

// TestPageInChromium: the page in Chromium at phone width, by keyboard:
// a wrong file is refused on the page; the upload is interrupted by a
// reload at ~30 %, resumed by choosing the same file, and reaches 100 %;
// the bytes in storage are the file's and the statement is listed. A
// second file, past the invitation's limit (one statement here), is
// refused at once with the reason, not retried.
func TestPageInChromium(t *testing.T) {
	chromium := testenv.Chromium(t)
	script := testenv.NodeScript(t, "upload-page.mjs")
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			e := newEnv(t, kind, func(c *Config) { c.MaxStatementsPerInvitation = 1 })
			srv, patched := e.pageServer(24 << 20) // a 24 MiB/s line: the reload lands mid-way
			tok, inv := e.invite("AD", "Civil Voice", time.Time{})
			file, data := writeSource(t, 40<<20+333, 21)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			spec, _ := json.Marshal(map[string]any{"url": srv.URL + "/upload?lang=es&token=" + tok, "file": file, "reloadAt": 30, "again": true, "chromium": chromium})
			out, err := exec.CommandContext(ctx, "node", script, string(spec)).Output()
			if err != nil {
				t.Fatalf("node: %v\n%s", err, out)
			}
			var res struct {
				OK         bool
				Error      string
				Events     []map[string]any
				Statements []string
				Stored     int
			}
			if err := json.Unmarshal(out, &res); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			for _, ev := range res.Events {
				t.Logf("page: %v", ev)
			}
			if !res.OK {
				t.Fatalf("page run failed: %s", res.Error)
			}
			ev := map[string]map[string]any{}
			for _, e := range res.Events {
				ev[e["event"].(string)] = e
				if e["event"] == "pageerror" {
					t.Errorf("script error: %v", e["message"])
				}
			}
			if !strings.Contains(ev["refused"]["message"].(string), "no es un vídeo aceptado") || ev["refused"]["focused"] != "file" {
				t.Errorf("wrong file: %v", ev["refused"])
			}
			if ev["tabbed"]["focused"] != "language" || ev["tabbed"]["speaker"] != "María Pérez, director" {
				t.Errorf("keyboard order: %v", ev["tabbed"])
			}
			if !strings.Contains(ev["reloaded"]["note"].(string), "statement.mp4") || ev["reloaded"]["title"] != "Statement on the right to education" {
				t.Errorf("after reload: %v", ev["reloaded"])
			}
			if p := ev["resumed"]["percent"].(float64); p < 10 {
				t.Errorf("resumed at %.1f %%: started over", p)
			}
			if p := ev["done"]["percent"].(float64); p != 100 || ev["done"]["pauseVisible"] != false || ev["done"]["submitEnabled"] != true {
				t.Errorf("done: %v", ev["done"])
			}
			if r := ev["refusedAgain"]; r == nil || !strings.Contains(r["message"].(string), "ya tiene el número máximo de declaraciones") ||
				r["focused"] != "error" || r["submitEnabled"] != true {
				t.Errorf("second file past the limit: %v", r)
			}
			if ev["loaded"]["pauseVisible"] != false || ev["loaded"]["progressVisible"] != false {
				t.Errorf("at load, pause or progress shown: %v", ev["loaded"])
			}
			if res.Stored != 0 {
				t.Errorf("%d saved uploads left in localStorage", res.Stored)
			}
			if n := patched.Load(); n > int64(len(data))*3/2 {
				t.Errorf("the server received %d bytes for a %d-byte file: the upload started over", n, len(data))
			}
			l, _ := e.st.ByInvitation(context.Background(), inv.ID)
			n := len(l)
			if n != 1 || len(res.Statements) != 1 || !strings.Contains(res.Statements[0], "Statement on the right to education") ||
				!strings.Contains(res.Statements[0], "Subida, en espera de procesamiento") {
				t.Fatalf("%d statements; listed %q", n, res.Statements)
			}
			ids, _ := e.rdb.SMembers(context.Background(), "inv:"+inv.ID).Result()
			st := e.statement(ids[0])
			if st.Speaker != "María Pérez, director" || st.Language != "es" || st.Status != presession.StatusUploaded {
				t.Errorf("statement: %+v", st)
			}
			if sum(e.stored(st.ID)) != sum(data) {
				t.Fatal("stored bytes differ from the file")
			}
		})
	}
}

// TestPageAccessible scans the page, open and closed, in every language.
func TestPageAccessible(t *testing.T) {
	e := newEnv(t, "file")
	srv, _ := e.pageServer(0)
	tok, _ := e.invite("AD", "Civil Voice", time.Time{})
	closed, _ := e.invite("BG", "Late Org", time.Time{})
	var pages []a11y.Page
	for _, l := range []string{"en", "fr", "es"} {
		pages = append(pages,
			a11y.Page{Name: "upload " + l, URL: srv.URL + "/upload?lang=" + l + "&token=" + tok, WaitFor: "#statements-msg"},
			a11y.Page{Name: "upload closed " + l, URL: srv.URL + "/upload?lang=" + l + "&token=" + closed},
			// Record mode where the camera cannot be had (no fake device
			// here): the page explains what to do.
			a11y.Page{Name: "upload record " + l, URL: srv.URL + "/upload?lang=" + l + "&mode=record&token=" + tok, WaitFor: "#record-panel:not([hidden])"})
	}
	pages = append(pages, a11y.Page{Name: "upload invalid", URL: srv.URL + "/upload?token=nope"})
	a11y.Scan(t, pages...)
}
