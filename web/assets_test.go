package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

// TestAssets: a page's scripts and stylesheets are served with their
// type and revalidated; any other file, or a path out of the folder, is
// the localized 404.
func TestAssets(t *testing.T) {
	site := newSite(t)
	fsys := fstest.MapFS{
		"assets/page.js":     {Data: []byte("console.log(1)")},
		"assets/page.css":    {Data: []byte("p{}")},
		"assets/page.html":   {Data: []byte("<p>")},
		"secret/config.js":   {Data: []byte("no")},
		"assets/sub/deep.js": {Data: []byte("no")},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /a/{file}", site.Assets(fsys, "assets"))
	for _, tc := range []struct {
		path, ctype string
		code        int
	}{
		{"/a/page.js", "text/javascript; charset=utf-8", 200},
		{"/a/page.css", "text/css; charset=utf-8", 200},
		{"/a/page.html", "", 404},
		{"/a/missing.js", "", 404},
		{"/a/..%2Fsecret%2Fconfig.js", "", 404},
		{"/a/sub%2Fdeep.js", "", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", tc.path+"?lang=fr", nil)
			mux.ServeHTTP(rec, req)
			if rec.Code != tc.code || (tc.ctype != "" && (rec.Header().Get("Content-Type") != tc.ctype || rec.Header().Get("Cache-Control") != "no-cache")) {
				t.Fatalf("%s: %d %q %q", tc.path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
			}
		})
	}
}
