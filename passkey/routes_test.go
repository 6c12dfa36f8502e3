package passkey_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/uprinfo/presession/passkey"
	"github.com/uprinfo/presession/web"
)

// TestLoginRefusals: what the sign-in routes answer without a browser's
// ceremony, in the request's language.
func TestLoginRefusals(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, path, site, body, lang string
		status                       int
		code, message                string
	}{
		{"cross-site begin", "/staff/passkeys/login/begin", "cross-site", "{}", "en", http.StatusForbidden, "forbidden", "did not come from"},
		{"second factor without a pending sign-in", "/staff/passkeys/login/begin", "same-origin", `{"second_factor": true}`, "fr", http.StatusGone, "gone", "a expiré"},
		{"unknown field", "/staff/passkeys/login/begin", "same-origin", `{"second": true}`, "en", http.StatusBadRequest, "invalid", "could not be read"},
		{"garbage answer", "/staff/passkeys/login/finish", "same-origin", `{"id": "x"}`, "es", http.StatusBadRequest, "invalid", "No se pudo leer"},
		{"cross-site finish", "/staff/passkeys/login/finish", "cross-site", `{}`, "en", http.StatusForbidden, "forbidden", "did not come from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.post(t, tc.path, tc.site, tc.lang, tc.body)
			var body web.ErrorBody
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tc.status || body.Error.Code != tc.code || !strings.Contains(body.Error.Message, tc.message) {
				t.Errorf("%d %+v; want %d %s %q", res.StatusCode, body.Error, tc.status, tc.code, tc.message)
			}
		})
	}
}

// TestLoginBeginThrottled: an address may begin MaxBegins sign-ins in the
// window (each keeps a challenge in Redis); the next is refused, saying
// until when, and other addresses go on.
func TestLoginBeginThrottled(t *testing.T) {
	e := newEnv(t)
	for i := range passkey.MaxBegins {
		if res := e.post(t, "/staff/passkeys/login/begin", "same-origin", "en", ""); res.StatusCode != http.StatusOK {
			t.Fatalf("begin %d: %d", i+1, res.StatusCode)
		}
	}
	res := e.post(t, "/staff/passkeys/login/begin", "same-origin", "en", "")
	var body web.ErrorBody
	json.NewDecoder(res.Body).Decode(&body)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(body.Error.Message, "try again after") {
		t.Errorf("begin %d: %d Retry-After %q %+v; want 429 saying when", passkey.MaxBegins+1, res.StatusCode, res.Header.Get("Retry-After"), body.Error)
	}
	if res := e.post(t, "/staff/passkeys/login/begin", "same-origin", "en", "", "203.0.113.9"); res.StatusCode != http.StatusOK {
		t.Errorf("another address: %d", res.StatusCode)
	}
}

// post sends body to path as the browser would (Sec-Fetch-Site site), from
// the client address from when given (the server trusts loopback's
// X-Forwarded-For).
func (e *env) post(t *testing.T, path, site, lang, body string, from ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", site)
	req.Header.Set("Accept-Language", lang)
	if len(from) > 0 {
		req.Header.Set("X-Forwarded-For", from[0])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}
