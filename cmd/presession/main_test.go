package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLI(t *testing.T) {
	dir := t.TempDir()
	badSessions := filepath.Join(dir, "sessions.json")
	os.WriteFile(badSessions, []byte(`{"sessions": [{"id": "x", "title": "X", "upload_deadline": "soon", "max_statement_seconds": 60, "languages": ["en"], "countries": [{"code": "BG"}]}]}`), 0o644)
	base := map[string]string{"PRESESSION_DATA_DIR": dir}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for a, b := range base {
			m[a] = b
		}
		return m
	}
	for _, tc := range []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		out, err string
	}{
		{"invite with extension", base, []string{"invite", "--session", "upr36", "--country", "BG", "--org", "Example NGO", "--until", "2030-01-01"}, 0, "http://localhost:8080/upload?token=", ""},
		{"invite closed", base, []string{"invite", "--session", "upr36", "--country", "bg", "--org", "Example NGO"}, 1, "", "Bulgaria's upload deadline (20 May 2020) has passed"},
		{"invite unknown country", base, []string{"invite", "--session", "upr36", "--country", "FR", "--org", "X", "--until", "2030-01-01"}, 1, "", `country "FR" is not under review`},
		{"invite bad date", base, []string{"invite", "--session", "upr36", "--country", "BG", "--org", "X", "--until", "tomorrow"}, 2, "", "not a date"},
		{"invite missing flags", base, []string{"invite", "--session", "upr36"}, 2, "", "invite needs"},
		{"viewer link", with("PRESESSION_PUBLIC_URL", "https://watch.example.org/"), []string{"viewer-link", "--session", "upr36", "--country", "MH"}, 0, "https://watch.example.org/watch/upr36/mh?key=", ""},
		{"viewer link session", base, []string{"viewer-link", "--session", "upr36", "--valid-for", "1h"}, 0, "/watch/upr36?key=", ""},
		{"viewer link past the cap", base, []string{"viewer-link", "--session", "upr36", "--valid-for", "2562047h"}, 1, "",
			"a viewing link may be valid for at most 2160h; 2562047h is longer"},
		{"viewer link under a shorter cap", with("PRESESSION_MAX_VIEWER_LINK_VALIDITY", "48h"), []string{"viewer-link", "--session", "upr36"}, 0, "/watch/upr36?key=", ""},
		{"bad viewer link cap", with("PRESESSION_MAX_VIEWER_LINK_VALIDITY", "forever"), []string{"viewer-link", "--session", "upr36"}, 2, "", "PRESESSION_MAX_VIEWER_LINK_VALIDITY"},
		{"unknown command", base, []string{"frobnicate"}, 2, "", "unknown command"},
		{"bad redis url", with("REDIS_URL", "http://x"), []string{"serve"}, 2, "", "REDIS_URL"},
		{"negative size", with("PRESESSION_MAX_UPLOAD_BYTES", "-1"), []string{"serve"}, 2, "", "PRESESSION_MAX_UPLOAD_BYTES"},
		{"bad s3 endpoint", with("S3_ENDPOINT", "https://s3.example.org/bucket"), []string{}, 2, "", "S3_ENDPOINT"},
		{"bad sessions file", with("PRESESSION_SESSIONS", badSessions), []string{"invite", "--session", "x", "--country", "BG", "--org", "Y"}, 2, "", `upload_deadline "soon" is not an RFC 3339 date`},
		{"bad sessions file at serve", with("PRESESSION_SESSIONS", badSessions), []string{"serve"}, 2, "", "PRESESSION_SESSIONS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) {
				t.Fatalf("code %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			if tc.code == 2 && strings.Count(strings.TrimSpace(errs), "\n") > 0 && tc.name != "unknown command" {
				t.Fatalf("bad configuration must be one line, got:\n%s", errs)
			}
		})
	}
}
