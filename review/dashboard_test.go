package review_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
	"github.com/uprinfo/presession/webhook"
)

func (e *env) page(path string, opts ...func(*http.Request)) (int, string, http.Header) {
	e.t.Helper()
	res := e.do("GET", path, nil, opts...)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func TestSignInAndOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	form := func(tok string, hdr ...string) *http.Response {
		return e.do("POST", "/staff/login?lang=fr", strings.NewReader(url.Values{"token": {tok}}.Encode()), func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for i := 0; i+1 < len(hdr); i += 2 {
				r.Header.Set(hdr[i], hdr[i+1])
			}
		})
	}
	st, body, _ := e.page("/staff")
	if st != 200 || !strings.Contains(body, `<label for="token">`) || strings.Contains(body, `aria-invalid`) {
		t.Fatalf("sign-in form: %d\n%s", st, body)
	}

	res := form("wrong", "Sec-Fetch-Site", "same-origin")
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	page := string(b)
	if res.StatusCode != 401 || len(res.Cookies()) > 1 || !strings.Contains(page, `aria-invalid="true"`) ||
		!strings.Contains(page, `aria-describedby="token-hint token-error"`) || !strings.Contains(page, `id="token-error"`) ||
		!strings.Contains(page, `<html lang="fr">`) || !strings.Contains(page, "Ce n&#39;est pas le jeton") {
		t.Fatalf("wrong token: %d %v\n%s", res.StatusCode, res.Cookies(), page)
	}
	for _, c := range res.Cookies() {
		if c.Name == web.StaffCookie {
			t.Errorf("wrong token set the staff cookie")
		}
	}
	if res := form("", "Sec-Fetch-Site", "same-origin"); res.StatusCode != 400 {
		t.Errorf("empty token: %d", res.StatusCode)
	}
	if res := form(staffToken, "Sec-Fetch-Site", "cross-site"); res.StatusCode != 403 || len(res.Cookies()) > 1 {
		t.Errorf("cross-site sign-in: %d %v", res.StatusCode, res.Cookies())
	}
	if res := form(staffToken); res.StatusCode != 403 {
		t.Errorf("sign-in without origin headers: %d", res.StatusCode)
	}
	res = form(staffToken, "Origin", e.srv.URL)
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/staff" {
		t.Fatalf("sign-in: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == web.StaffCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || strings.Contains(cookie.Value, staffToken) {
		t.Fatalf("staff cookie %+v", cookie)
	}
	st, body, _ = e.page("/staff", func(r *http.Request) { r.AddCookie(cookie) })
	if st != 200 || !strings.Contains(body, `action="/staff/logout"`) {
		t.Fatalf("dashboard after sign-in: %d", st)
	}

	// Sign-out needs the same origin too, and clears the cookie.
	out := func(hdr string) *http.Response {
		return e.do("POST", "/staff/logout", nil, func(r *http.Request) {
			r.AddCookie(cookie)
			if hdr != "" {
				r.Header.Set("Sec-Fetch-Site", hdr)
			}
		})
	}
	if res := out("cross-site"); res.StatusCode != 403 {
		t.Errorf("cross-site sign-out: %d", res.StatusCode)
	}
	res = out("same-origin")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
	cleared := false
	for _, c := range res.Cookies() {
		cleared = cleared || (c.Name == web.StaffCookie && c.MaxAge < 0)
	}
	if !cleared {
		t.Errorf("sign-out did not clear the cookie: %v", res.Cookies())
	}
}

// untranslated matches a message key shown instead of its text.
var untranslated = regexp.MustCompile(`(>\s*|:"|=")(staff|status|auth)\.[a-z_]+`)

func TestDashboardPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ready := e.statement("AD", "", "Statement <ready>", presession.StatusReady)
	proc := e.statement("AD", "", "Still processing", presession.StatusProcessing)
	a1 := e.statement("BG", "", "Approved one", presession.StatusApproved)
	a2 := e.statement("BG", "", "Approved two", presession.StatusApproved)
	e.statement("BG", "", "Rejected", presession.StatusRejected)
	staff := bearer(staffToken)
	ctx := context.Background()
	wh := &presession.Webhook{ID: "wh_test1", URL: "https://hooks.example.org/in", Events: []presession.OccurrenceType{presession.StatementApproved, presession.PlaylistUpdated},
		Secret: webhook.NewSecret(), CreatedAt: time.Now().UTC(), CreatedBy: presession.ActorStaff}
	if err := e.hooksR.Add(ctx, wh); err != nil {
		t.Fatal(err)
	}
	for _, d := range []presession.WebhookDelivery{
		{Occurrence: "stmt_x_3", Type: presession.StatementApproved, Attempt: 1, At: time.Now().UTC(), Status: 500, Response: "<b>oops</b>", Outcome: presession.OutcomeRetrying},
		{Occurrence: "stmt_x_3", Type: presession.StatementApproved, Attempt: 2, At: time.Now().UTC(), Error: "no answer within 10s", Outcome: presession.OutcomeRetrying},
		{Occurrence: "stmt_x_3", Type: presession.StatementApproved, Attempt: 3, At: time.Now().UTC(), Status: 204, Outcome: presession.OutcomeDelivered},
	} {
		if err := e.hooksR.Record(ctx, wh.ID, d); err != nil {
			t.Fatal(err)
		}
	}

	for _, lang := range []string{"en", "fr", "es"} {
		st, body, hdr := e.page("/staff?lang="+lang, staff)
		if st != 200 || !strings.Contains(body, `<html lang="`+lang+`">`) || hdr.Get("Content-Language") != lang {
			t.Fatalf("%s: %d", lang, st)
		}
		if m := untranslated.FindString(body); m != "" {
			t.Errorf("%s: untranslated key %q", lang, m)
		}
		if !strings.Contains(hdr.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Errorf("CSP %q", hdr.Get("Content-Security-Policy"))
		}
		if regexp.MustCompile(`<script>|style="|<style`).MatchString(body) {
			t.Errorf("%s: inline script or style", lang)
		}
	}
	_, body, _ := e.page("/staff", staff)
	for _, want := range []string{
		`id="st-` + ready.ID + `"`, "Statement &lt;ready&gt;", `data-action="approve"`, `data-action="preview"`,
		`data-hls="/media/` + ready.ID + `/master.m3u8"`, `data-mp4="/media/` + ready.ID + `/statement.mp4"`,
		`<progress max="100" value="37"`, `<label for="reason-` + ready.ID + `">`, `<label for="cap-file-` + ready.ID + `">`,
		`data-session="upr36" data-country="BG"`, `data-action="up"`, `data-action="reopen"`,
		`<label for="inv-org">`, `<label for="vw-days">`, `aria-live="polite"`, `href="/staff/assets/staff.css"`, `src="/staff/assets/staff.js"`,
		`<script type="application/json" id="staff-messages">`, `<span lang="en">English</span>`,
		`<label for="wh-url">`, `<input type="checkbox" id="wh-ev-statement_approved" name="events" value="statement.approved">`,
		`<label for="wh-ev-invitation_created">`, `id="wh-wh_test1" data-id="wh_test1" data-url="https://hooks.example.org/in"`,
		`<code>statement.approved</code>, <code>playlist.updated</code>`, `Last deliveries to https://hooks.example.org/in`,
		`&lt;b&gt;oops&lt;/b&gt;`, `(HTTP 500)`, `(no answer within 10s)`, `Failed; it will be tried again`, `>Delivered <span class="muted">(HTTP 204)`,
		`data-action="wh-remove"`, `src="/staff/assets/webhooks.js"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
	if strings.Contains(body, wh.Secret) {
		t.Error("the dashboard shows a webhook's secret")
	}
	// Newest delivery first.
	if i, j := strings.Index(body, "(HTTP 204)"), strings.Index(body, "(HTTP 500)"); i < 0 || j < i {
		t.Errorf("deliveries not newest first: %d %d", i, j)
	}
	// The order lists the approved statements in their order.
	if i, j := strings.Index(body, `<li data-id="`+a1.ID), strings.Index(body, `<li data-id="`+a2.ID); i < 0 || j < i {
		t.Errorf("order list: %d %d", i, j)
	}
	// Filters, and the counts link to them.
	if !strings.Contains(body, `href="/staff?country=AD&amp;session=upr36&amp;status=processing#statements"`) {
		t.Errorf("counts do not link to the filtered list")
	}
	_, body, _ = e.page("/staff?country=AD&status=processing", staff)
	if !strings.Contains(body, `id="st-`+proc.ID+`"`) || strings.Contains(body, `id="st-`+ready.ID+`"`) || strings.Contains(body, `data-country="BG"`) {
		t.Errorf("filtered dashboard shows the wrong statements")
	}
	st, body, _ := e.page("/staff?status=nonsense", staff)
	if st != 200 || !strings.Contains(body, `id="filter-error" role="alert"`) || !strings.Contains(body, `<select id="f-status" name="status" aria-describedby="filter-error">`) {
		t.Errorf("bad filter: %d", st)
	}
	for _, a := range []string{"staff.js", "staff.css", "webhooks.js"} {
		res := e.do("GET", "/staff/assets/"+a, nil)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", a, res.StatusCode)
		}
	}
}
