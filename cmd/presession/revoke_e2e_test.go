package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/testenv"
)

// getLang sends GET url in lang and returns the status and the error's
// code and message (none for a 2xx answer).
func getLang(t *testing.T, url, lang string) (status int, code, message string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Language", lang)
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", redact(url), err)
	}
	defer resp.Body.Close()
	var eb struct {
		Error struct{ Code, Message string }
	}
	if resp.StatusCode >= 400 {
		json.NewDecoder(resp.Body).Decode(&eb)
	}
	return resp.StatusCode, eb.Error.Code, eb.Error.Message
}

// TestRevocation runs two `presession serve` nodes on one Redis and one
// S3 bucket. A viewer link made on the first is watched on the second,
// revoked on the first, and refused by the second at its very next
// request, in the request's language; other links keep working. An
// invitation's upload in progress in Chromium on the second node is
// revoked on the first between two PATCH requests: the next PATCH is
// refused, the page says why (in French, as the page is) and stops, and
// the statement the invitation had already uploaded stays.
func TestRevocation(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	chromium := testenv.Chromium(t)
	script := testenv.NodeScript(t, "upload-revoked.mjs")
	a := c.start(t, "serve-a", "serve")
	b := c.start(t, "serve-b", "serve")
	baseA, baseB := "http://"+a.addr, "http://"+b.addr
	staff := envValue(c.env, "PRESESSION_STAFF_TOKEN")

	// A viewer link, revoked on A, refused by B.
	var link, other struct {
		ID, Token string
	}
	mustCall(t, 201, "POST", baseA+"/api/v1/viewer-links", staff, map[string]string{"session": "upr36", "country": "BG", "for": "Delegation of Bulgaria"}, &link)
	mustCall(t, 201, "POST", baseA+"/api/v1/viewer-links", staff, map[string]string{"session": "upr36", "country": "BG"}, &other)
	playlist := "/playlists/upr36/BG.json?key="
	if st, _, msg := getLang(t, baseB+playlist+link.Token, "en"); st != 200 {
		t.Fatalf("the link before the revocation, on B: %d %s", st, msg)
	}
	var listed struct {
		ViewerLinks []struct {
			ID, For, State string
		} `json:"viewer_links"`
	}
	mustCall(t, 200, "GET", baseB+"/api/v1/viewer-links?country=BG", staff, nil, &listed)
	if len(listed.ViewerLinks) != 2 || listed.ViewerLinks[0].ID != link.ID || listed.ViewerLinks[0].For != "Delegation of Bulgaria" || listed.ViewerLinks[0].State != "active" {
		t.Fatalf("viewer links on B: %+v", listed)
	}
	mustCall(t, 200, "POST", baseA+"/api/v1/viewer-links/"+link.ID+"/revoke", staff, nil, nil)
	revoked := time.Now()
	st, code, msg := getLang(t, baseB+playlist+link.Token, "en")
	took := time.Since(revoked)
	if st != 403 || code != presession.EFORBIDDEN || msg != "This viewing link was revoked by the organisers; ask them for a new one." {
		t.Fatalf("B's first answer after the revocation: %d %s %q", st, code, msg)
	}
	t.Logf("the second node refused the revoked link at its first request, %v after the revocation was answered", took.Round(time.Microsecond))
	for _, tc := range []struct{ path, lang, want string }{
		{playlist + link.Token, "fr", "Ce lien de visionnage a été révoqué par les organisateurs ; demandez-leur-en un nouveau."},
		{"/playlists/upr36/BG/master.m3u8?key=" + link.Token, "es", "Los organizadores revocaron este enlace de visualización; pídales uno nuevo."},
		{"/watch/upr36/bg?key=" + link.Token, "en", "This viewing link was revoked by the organisers; ask them for a new one."},
	} {
		if st, code, msg := getLang(t, baseB+tc.path, tc.lang); st != 403 || code != presession.EFORBIDDEN || msg != tc.want {
			t.Errorf("%s (%s) on B: %d %s %q, want 403 %q", redact(tc.path), tc.lang, st, code, msg, tc.want)
		}
	}
	if st, _, msg := getLang(t, baseB+playlist+other.Token, "en"); st != 200 {
		t.Errorf("another link after the revocation: %d %s", st, msg)
	}

	// An invitation: one statement uploaded, then one cut by the revocation.
	until := time.Now().AddDate(0, 1, 0).UTC().Format(time.DateOnly)
	var inv struct {
		Token      string `json:"token"`
		Invitation struct {
			ID string `json:"id"`
		} `json:"invitation"`
	}
	mustCall(t, 201, "POST", baseA+"/api/v1/invitations", staff,
		map[string]string{"session": "upr36", "country": "BG", "organisation": "Wrong Organisation", "until": until}, &inv)
	loc := tusCreate(t, baseB, inv.Token, 10, "Sent in time").Header.Get("Location")
	// Bytes that begin as a Matroska file does: the examination of an
	// upload as it arrives cannot refuse them from their beginning.
	resp, err := tusRequest(t, "PATCH", loc, inv.Token, 0, strings.NewReader("\x1A\x45\xDF\xA3456789"), 10)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("the first upload: %v %v", resp, err)
	}
	resp.Body.Close()

	file := filepath.Join(t.TempDir(), "statement.mp4")
	body := bytes.Repeat([]byte("presession "), 4<<20) // 44 MiB: two PATCH requests of the page
	copy(body, "\x1A\x45\xDF\xA3")                     // as a Matroska file begins (see above)
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	spec, _ := json.Marshal(map[string]any{"url": baseB + "/upload?lang=fr&token=" + inv.Token, "file": file, "chromium": chromium,
		"revokeURL": baseA + "/api/v1/invitations/" + inv.Invitation.ID + "/revoke", "staffToken": staff})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, string(spec))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res struct {
		OK                      bool
		Failure                 string
		Events                  []map[string]any
		Error, Reloaded, Status string
		FormHidden, PauseHidden bool
		Saved                   int
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		t.Fatalf("upload-revoked.mjs: %v %v\n%s\n%s", err, jerr, out, stderr.String())
	}
	for _, ev := range res.Events {
		t.Logf("page: %v", ev)
	}
	if !res.OK {
		t.Fatalf("upload-revoked.mjs: %s\n%s", res.Failure, stderr.String())
	}
	const want = "Ce lien d'envoi a été révoqué par les organisateurs ; ce qui a été envoyé avec lui reste, demandez-leur un nouveau lien pour en envoyer davantage."
	if strings.TrimSpace(res.Error) != want || !res.FormHidden || !res.PauseHidden || res.Saved != 0 || strings.TrimSpace(res.Reloaded) != want {
		t.Errorf("the page after the revocation: %+v, want the message %q, the form hidden, nothing kept to resume", res, want)
	}
	// The refused PATCH was the page's last request: it stopped.
	var tus []string
	for _, ev := range res.Events {
		if ev["event"] == "tus" {
			tus = append(tus, fmt.Sprintf("%v %v", ev["method"], ev["status"]))
		}
	}
	if len(tus) != 3 || tus[0] != "POST 201" || tus[1] != "PATCH 204" || tus[2] != "PATCH 403" {
		t.Errorf("the page's tus requests %v, want POST 201, PATCH 204, PATCH 403 and nothing after", tus)
	}

	var sts struct {
		Statements []struct{ ID, Status, Title string } `json:"statements"`
	}
	mustCall(t, 200, "GET", baseA+"/api/v1/statements?country=BG", staff, nil, &sts)
	got := map[string]string{}
	for _, s := range sts.Statements {
		got[s.Title] = s.Status
	}
	if got["Sent in time"] != "uploaded" || got["Statement sent under the wrong invitation"] != "uploading" || len(got) != 2 {
		t.Errorf("statements after the revocation %v: want the first kept uploaded, the cut one uploading until the sweep removes it", got)
	}
}

// TestViewerLinkCommand: presession viewer-link records the link it
// prints, with --for, so staff can list and revoke it; a --for longer
// than the API takes is refused.
func TestViewerLinkCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PRESESSION_DATA_DIR": dir}
	code, out, errs := runCLI(t, env, "viewer-link", "--session", "upr36", "--country", "BG", "--for", "Delegation of Bulgaria")
	if code != 0 {
		t.Fatalf("viewer-link: %d %s", code, errs)
	}
	u, err := url.Parse(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(u.Query().Get("key"), ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var claims struct{ ID string }
	json.Unmarshal(payload, &claims)
	b, err := os.ReadFile(filepath.Join(dir, "storage", "viewer-links", claims.ID+".json"))
	if err != nil {
		t.Fatalf("no record of the link %q: %v", claims.ID, err)
	}
	var rec presession.ViewerLink
	if err := json.Unmarshal(b, &rec); err != nil || rec.For != "Delegation of Bulgaria" || rec.Country != "BG" || rec.Session != "upr36" || rec.Expires.IsZero() {
		t.Errorf("record %s (%v)", b, err)
	}
	if code, _, errs := runCLI(t, env, "viewer-link", "--session", "upr36", "--for", strings.Repeat("x", 301)); code != 2 || !strings.Contains(errs, "at most 300 characters") {
		t.Errorf("a 301-character --for: %d %s", code, errs)
	}
}
