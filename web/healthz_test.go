package web_test

import (
	"encoding/json"
	"testing"

	"github.com/uprinfo/presession/internal/buildinfo"
)

// TestHealthzVersion: /healthz keeps its {"status":"ok"} and adds which
// build answers, as `presession version` prints it.
func TestHealthzVersion(t *testing.T) {
	srv := server(t, newSite(t))
	code, body := get(t, srv.URL+"/healthz", "")
	if code != 200 {
		t.Fatalf("healthz %d %s", code, body)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("healthz body %q: %v", body, err)
	}
	b := buildinfo.Read()
	for k, want := range map[string]string{"status": "ok", "version": b.Version, "commit": b.Commit, "built": b.Built} {
		if got[k] != want || want == "" {
			t.Errorf("healthz %s = %q; want %q (body %s)", k, got[k], want, body)
		}
	}
}
