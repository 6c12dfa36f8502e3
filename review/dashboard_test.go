package review_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/review"
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

// TestSignOutEndsSession: a staff cookie copied before sign-out is refused
// after it, on the node that signed out and on another sharing its Redis;
// a second sign-in gets a cookie of its own.
func TestSignOutEndsSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.otherNode()
	cookie := e.staffCookie()
	again := e.staffCookie()
	if again.Value == cookie.Value || len(cookie.Value) < 43 {
		t.Fatalf("two sign-ins got cookies %q and %q: not a random session id each", cookie.Value, again.Value)
	}
	list := func(base string, c *http.Cookie) int {
		t.Helper()
		r, _ := http.NewRequest("GET", base+"/api/v1/statements", nil)
		r.AddCookie(c)
		res, err := noRedirect.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, base := range []string{e.srv.URL, other.URL} {
		if st := list(base, cookie); st != http.StatusOK {
			t.Fatalf("%s before sign-out: %d", base, st)
		}
	}
	res := e.do("POST", "/staff/logout", nil, func(r *http.Request) {
		r.AddCookie(cookie)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	})
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", res.StatusCode)
	}
	for _, base := range []string{e.srv.URL, other.URL} {
		if st := list(base, cookie); st != http.StatusUnauthorized {
			t.Errorf("%s: the copied cookie after sign-out: %d, want 401", base, st)
		}
		if st := list(base, again); st != http.StatusOK {
			t.Errorf("%s: another sign-in's cookie after the first signed out: %d, want 200", base, st)
		}
	}
	// The other node's sign-out ends the session for the first node too.
	r, _ := http.NewRequest("POST", other.URL+"/staff/logout", nil)
	r.AddCookie(again)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := noRedirect.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if st := list(e.srv.URL, again); st != http.StatusUnauthorized {
		t.Errorf("signed out on the other node, the cookie still works here: %d", st)
	}
}

// TestSignInThrottled: after five wrong tokens from one address, counted
// across the nodes sharing a Redis, that address is refused with a clear
// message saying when to try again, even with the right token, while
// another address signs in.
func TestSignInThrottled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.otherNode()
	try := func(base, client, tok, lang string) (*http.Response, string) {
		t.Helper()
		r, _ := http.NewRequest("POST", base+"/staff/login?lang="+lang, strings.NewReader(url.Values{"token": {tok}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		r.Header.Set("X-Forwarded-For", client)
		res, err := noRedirect.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(b)
	}
	const attacker, colleague = "203.0.113.5", "198.51.100.20"
	for i := range web.SignInMaxFailures {
		base := []string{e.srv.URL, other.URL}[i%2]
		if res, _ := try(base, attacker, "wrong-"+strconv.Itoa(i), "en"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong token %d: %d", i+1, res.StatusCode)
		}
	}
	for _, tc := range []struct {
		base, tok, lang string
		want            []string
	}{
		{e.srv.URL, "wrong-again", "fr", []string{"Trop de tentatives de connexion échouées depuis votre adresse", "Réessayez après le", "UTC"}},
		{other.URL, staffToken, "es", []string{"Demasiados intentos fallidos", "Vuelva a intentarlo después del", "UTC"}},
		{e.srv.URL, staffToken, "en", []string{"Too many failed sign-ins from your address. Try again after", "UTC"}},
	} {
		res, page := try(tc.base, attacker, tc.tok, tc.lang)
		retry, _ := strconv.Atoi(res.Header.Get("Retry-After"))
		if res.StatusCode != http.StatusTooManyRequests || retry < 1 || retry > int(web.SignInWindow/time.Second)+60 {
			t.Errorf("%s: %d, Retry-After %q", tc.lang, res.StatusCode, res.Header.Get("Retry-After"))
		}
		for _, c := range res.Cookies() {
			if c.Name == web.StaffCookie {
				t.Errorf("%s: a throttled sign-in set the staff cookie", tc.lang)
			}
		}
		for _, w := range tc.want {
			if !strings.Contains(html.UnescapeString(page), w) {
				t.Errorf("%s: the page lacks %q", tc.lang, w)
			}
		}
		if !strings.Contains(page, `aria-invalid="true"`) {
			t.Errorf("%s: the message is not tied to the field", tc.lang)
		}
	}
	res, _ := try(other.URL, colleague, staffToken, "en")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in from another address: %d", res.StatusCode)
	}
}

// TestSlowSignInCut: a sign-in form whose body comes one byte a second is
// cut at the body deadline (here 2 s) with the form and a message in the
// request's language, not held open.
func TestSlowSignInCut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := httptest.NewServer(web.Bodies{Timeout: 2 * time.Second, Max: web.MaxBody}.Handler(e.mux))
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "token=" + staffToken
	fmt.Fprintf(conn, "POST /staff/login?lang=es HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Sec-Fetch-Site: same-origin\r\nContent-Length: %d\r\n\r\n", srv.Listener.Addr(), len(body))
	start := time.Now()
	answer := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(conn)
		answer <- string(b)
	}()
	var out string
	func() {
		for i := range len(body) {
			select {
			case out = <-answer:
				return
			case <-time.After(time.Second):
			}
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				break
			}
		}
		out = <-answer
	}()
	took := time.Since(start)
	if !strings.HasPrefix(out, "HTTP/1.1 408") || !strings.Contains(html.UnescapeString(out), "La solicitud no llegó en 2 segundos") ||
		!strings.Contains(out, `action="/staff/login"`) || strings.Contains(out, web.StaffCookie+"=") {
		t.Errorf("slow sign-in: %q", out)
	}
	if took < 2*time.Second || took > 4*time.Second {
		t.Errorf("the slow sign-in was answered after %s, want at the 2 s deadline", took)
	}
}

// claimsOf is a review desk whose claims are fixed.
type claimsOf map[string]presession.Actor

func (c claimsOf) Holders(_ context.Context, ids []string) (map[string]presession.Actor, error) {
	out := map[string]presession.Actor{}
	for _, id := range ids {
		if a, ok := c[id]; ok {
			out[id] = a
		}
	}
	return out, nil
}

// namesOf names actors from a map.
type namesOf map[presession.Actor]string

func (n namesOf) Names(_ context.Context, actors []presession.Actor) (map[presession.Actor]string, error) {
	out := map[presession.Actor]string{}
	for _, a := range actors {
		if v, ok := n[a]; ok {
			out[a] = v
		}
	}
	return out, nil
}

// TestDashboardSaysWhoIsReviewing: a ready statement someone has on the
// review desk says who, by name, in the page's language; the others say
// nothing.
func TestDashboardSaysWhoIsReviewing(t *testing.T) {
	t.Parallel()
	claims, names := claimsOf{}, namesOf{}
	e := newEnvWith(t, []review.Option{review.WithClaims(claims), review.WithNames(names)})
	held := e.statement("AD", "", "Held one", presession.StatusReady)
	free := e.statement("AD", "", "Free one", presession.StatusReady)
	claims[held.ID] = presession.ActorMember("m-ana")
	names[presession.ActorMember("m-ana")] = "Ana Desk"
	_, body, _ := e.page("/staff?lang=es&session=upr36&country=AD", bearer(staffToken))
	row := func(id string) string {
		i := strings.Index(body, `id="st-`+id+`"`)
		if i < 0 {
			t.Fatalf("no row %s", id)
		}
		return body[i : i+strings.Index(body[i:], "</tr>")]
	}
	if !strings.Contains(row(held.ID), "En la cola de revisión: Ana Desk la está revisando ahora.") {
		t.Errorf("the held row:\n%s", row(held.ID))
	}
	if strings.Contains(row(free.ID), "cola de revisión:") {
		t.Errorf("the free row:\n%s", row(free.ID))
	}
}
