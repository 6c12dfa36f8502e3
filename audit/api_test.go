package audit_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/audit"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/staff"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

const staffToken = "audit-test-staff-token-0123456789"

// server is the audit's routes on a site whose Auditor is the Log, with
// one more staff route that records "statement.approve".
type server struct {
	*env
	srv *httptest.Server
	mux *http.ServeMux
}

func newServer(t *testing.T) *server {
	t.Helper()
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	store, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{log: audit.New(rdb, catalog.StorageBlobs(store), "t:"), rdb: rdb, store: store}
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	auth := &web.Auth{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")), StaffToken: staffToken,
		Directory:      staff.New(rdb, staff.StorageBlobs(store), staff.Config{Prefix: "t:", StaffToken: staffToken}),
		SignIns:        web.NewThrottle(rdb, "t:", "signin", web.SignInMaxFailures, web.SignInWindow),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}
	site, err := web.NewSite(presession.Builtin(), bundle, auth, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	site.Audit = e.log
	api, err := audit.NewAPI(site, e.log)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Register(mux)
	site.Register(mux, []web.Route{web.StaffRoute("POST /test/statements/{id}/approve", presession.PermReview, "statement.approve",
		func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })})
	s := &server{env: e, srv: httptest.NewServer(mux), mux: mux}
	t.Cleanup(s.srv.Close)
	return s
}

// get fetches path with the staff token and headers (name, value pairs).
func (s *server) get(t *testing.T, path string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+staffToken)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestAPIFilters: the query parameters select what Query does, and a
// bad one is refused in the request's language.
func TestAPIFilters(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.seed(t)
	for _, tc := range []struct {
		query string
		want  []string
		more  bool
	}{
		{"", []string{"e06", "e05", "e04", "e03", "e02", "e01", "e00"}, false},
		{"actor=staff:ana", []string{"e04", "e02", "e01"}, false},
		{"action=statement.", []string{"e05", "e04", "e02", "e00"}, false},
		{"action=statement.approve", []string{"e04", "e00"}, false},
		{"since=2026-12-02", []string{"e06", "e05", "e04", "e03", "e02", "e01"}, false},
		{"since=2026-12-02T00:03:00Z", []string{"e06", "e05", "e04"}, false},
		{"since=2026-12-02T01:03:00%2B01:00", []string{"e06", "e05", "e04"}, false},
		{"actor=staff:ana&action=statement.&limit=1", []string{"e04"}, true},
		{"actor=staff:ana&action=statement.&limit=1&offset=1", []string{"e02"}, false},
		{"limit=3&offset=6", []string{"e00"}, false},
		{"format=json&limit=2", []string{"e06", "e05"}, true},
	} {
		resp, b := s.get(t, "/api/v1/audit?"+tc.query)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", tc.query, resp.StatusCode, b)
			continue
		}
		var got audit.ListResponse
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got.Entries), tc.want) || got.More != tc.more {
			t.Errorf("%s: %v more=%v, want %v more=%v", tc.query, ids(got.Entries), got.More, tc.want, tc.more)
		}
	}
	for _, tc := range []struct {
		query, lang, want string
	}{
		{"since=yesterday", "en", `"yesterday" is neither a date such as 2026-12-02`},
		{"since=yesterday", "fr", `"yesterday" n'est ni une date`},
		{"since=2026-13-01", "es", `"2026-13-01" no es una fecha`},
		{"since=02/12/2026", "en", "RFC 3339"},
		{"action=Statement.approve", "en", "is neither an action such as statement.approve"},
		{"action=.x", "fr", "n'est ni une action"},
		{"limit=0", "en", "is not a number from 1 to 1000"},
		{"limit=1001", "es", "no es un número del 1 al 1000"},
		{"offset=-1", "en", "is not a number of entries to skip"},
		{"format=xml", "fr", "n'est ni json ni csv"},
	} {
		resp, b := s.get(t, "/api/v1/audit?"+tc.query, "Accept-Language", tc.lang)
		var body web.ErrorBody
		json.Unmarshal(b, &body)
		if resp.StatusCode != 400 || body.Error.Code != presession.EINVALID || !strings.Contains(body.Error.Message, tc.want) {
			t.Errorf("%s (%s): %d %s, want 400 invalid containing %q", tc.query, tc.lang, resp.StatusCode, b, tc.want)
		}
	}
	// Staff only.
	resp, err := http.Get(s.srv.URL + "/api/v1/audit")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("without credentials: %d, want 401", resp.StatusCode)
	}
}

// TestCSV: the export is RFC 4180 with a header row, asked for by
// ?format=csv or Accept: text/csv, has every match by default, and
// defuses cells a spreadsheet would run as formulas.
func TestCSV(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.seed(t)
	ctx := context.Background()
	hostile := []presession.AuditEntry{
		{ID: "x1", Actor: "staff:eve", ActorName: "=HYPERLINK(\"http://evil.example\",\"x\")", Action: "invitation.create", Target: "upr36/AD", Detail: "+1+2"},
		{ID: "x2", Actor: "staff:eve", ActorName: "@SUM(A1)", Action: "invitation.create", Target: "-2+3", Detail: "line one\nline \"two\", with a comma"},
		{ID: "x3", Actor: "staff:eve", ActorName: "\tTab", Action: "invitation.create", Detail: "\rcr"},
	}
	for i, e := range hostile {
		e.At = base.Add(time.Hour + time.Duration(i)*time.Minute)
		if err := s.log.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, how := range []struct{ query, accept string }{
		{"?format=csv", ""},
		{"", "text/csv"},
		{"", "text/html;q=0.9, text/csv; q=1"},
	} {
		resp, b := s.get(t, "/api/v1/audit"+how.query, "Accept", how.accept)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment; filename=\"audit-") {
			t.Fatalf("%+v: %d %s %q", how, resp.StatusCode, resp.Header, b)
		}
		if !strings.HasPrefix(string(b), "id,at,actor,actor_name,action,target,detail,remote,outcome\r\n") {
			t.Errorf("%+v: header row %q", how, strings.SplitN(string(b), "\n", 2)[0])
		}
		// With CRLF line ends encoding/csv writes a lone CR as nothing;
		// the cell that began with one is still defused.
		if !strings.Contains(string(b), "\"'cr\"") {
			t.Errorf("%+v: a cell starting with CR is not defused: %q", how, b)
		}
		rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
		if err != nil {
			t.Fatalf("%+v: not CSV: %v", how, err)
		}
		if len(rows) != 1+len(fixtures)+len(hostile) {
			t.Fatalf("%+v: %d rows", how, len(rows))
		}
		byID := map[string][]string{}
		for _, r := range rows[1:] {
			byID[r[0]] = r
		}
		for _, tc := range []struct {
			id   string
			col  int
			want string
		}{
			{"x1", 3, "'=HYPERLINK(\"http://evil.example\",\"x\")"},
			{"x1", 6, "'+1+2"},
			{"x1", 5, "upr36/AD"},
			{"x2", 3, "'@SUM(A1)"},
			{"x2", 5, "'-2+3"},
			{"x2", 6, "line one\nline \"two\", with a comma"},
			{"x3", 3, "'\tTab"},
			{"e02", 1, "2026-12-02T00:01:00Z"},
			{"e02", 2, "staff:ana"},
			{"e02", 3, "Ana López"},
			{"e02", 4, "statement.reject"},
			{"e02", 6, "off topic"},
			{"e04", 8, "forbidden"},
			{"e00", 8, "ok"},
		} {
			if got := byID[tc.id][tc.col]; got != tc.want {
				t.Errorf("%+v: %s %s = %q, want %q", how, tc.id, rows[0][tc.col], got, tc.want)
			}
		}
	}
	// The filter applies to the export too.
	_, b := s.get(t, "/api/v1/audit?format=csv&actor=staff:eve&limit=2")
	if rows, _ := csv.NewReader(strings.NewReader(string(b))).ReadAll(); len(rows) != 3 || rows[1][0] != "x3" || rows[2][0] != "x2" {
		t.Errorf("filtered export: %q", rows)
	}
}

// TestStaffRoutesAreAudited: a staff route's action reaches the Log
// through web.Site.Staff, with its actor, target, client and outcome.
func TestStaffRoutesAreAudited(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	req, _ := http.NewRequest("POST", s.srv.URL+"/test/statements/st42/approve", nil)
	req.Header.Set("Authorization", "Bearer "+staffToken)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, b := s.get(t, "/api/v1/audit?action=statement.approve")
	var got audit.ListResponse
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Entries) != 1 {
		t.Fatalf("entries %s", b)
	}
	if e := got.Entries[0]; e.Actor != presession.ActorService || e.ActorName != "service" || e.Target != "st42" ||
		e.Remote != "203.0.113.7" || e.Outcome != "ok" || e.ID == "" {
		t.Errorf("entry %+v", e)
	}
}

// TestPage: the audit page lists entries by name with actions in plain
// words in the page's language, filters, pages and links the export of
// the same filter; a browser not signed in is sent to the sign-in form.
func TestPage(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.seed(t)
	for _, tc := range []struct {
		path    string
		has     []string
		hasNot  []string
		errText string
	}{
		{"/staff/audit?lang=en", []string{"Ana López", "Approved a statement", "Rejected a statement", `datetime="2026-12-02T00:01:00.000Z"`,
			"Refused: not allowed for the role", "statements.export", `href="/api/v1/audit?format=csv"`, "Every statement decision"}, nil, ""},
		{"/staff/audit?lang=fr", []string{"A approuvé une déclaration", "Journal d&#39;audit", "Refusé : non permis pour ce rôle"}, nil, ""},
		{"/staff/audit?lang=es&actor=staff:ana", []string{"Rechazó una declaración", `<option value="staff:ana" selected>Ana López</option>`,
			`href="/api/v1/audit?actor=staff%3Aana&amp;format=csv"`}, []string{`id="au-e00"`}, ""},
		{"/staff/audit?lang=en&action=statement.&since=2026-12-02", []string{`id="au-e02"`, `id="au-e05"`, `value="2026-12-02"`},
			[]string{`id="au-e00"`, `id="au-e03"`}, ""},
		{"/staff/audit?lang=fr&since=hier", []string{`id="au-e00"`, `aria-invalid="true"`, `href="/api/v1/audit?format=csv"`}, nil, `&#34;hier&#34; n&#39;est ni une date`},
	} {
		resp, b := s.get(t, tc.path)
		body := string(b)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", tc.path, resp.StatusCode)
			continue
		}
		for _, w := range tc.has {
			if !strings.Contains(body, w) {
				t.Errorf("%s: no %q", tc.path, w)
			}
		}
		for _, w := range tc.hasNot {
			if strings.Contains(body, w) {
				t.Errorf("%s: has %q", tc.path, w)
			}
		}
		if tc.errText != "" && !strings.Contains(body, tc.errText) {
			t.Errorf("%s: no error %q in\n%s", tc.path, tc.errText, body)
		}
	}
	// Paging: 60 more entries make two pages.
	for i := range 60 {
		if err := s.log.Record(context.Background(), presession.AuditEntry{Actor: "token:ci", ActorName: "CI", Action: "order.set",
			At: base.Add(time.Hour + time.Duration(i)*time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	_, b := s.get(t, "/staff/audit?lang=en&actor=token:ci")
	if body := string(b); !strings.Contains(body, "Entries 1 to 50.") || !strings.Contains(body, `href="/staff/audit?actor=token%3Aci&amp;offset=50" rel="next"`) ||
		strings.Contains(body, `rel="prev"`) {
		t.Errorf("first page: no link to the next")
	}
	_, b = s.get(t, "/staff/audit?lang=en&actor=token:ci&offset=50")
	if body := string(b); !strings.Contains(body, "Entries 51 to 61.") || !strings.Contains(body, `href="/staff/audit?actor=token%3Aci&amp;offset=0" rel="prev"`) ||
		strings.Contains(body, `rel="next"`) {
		t.Errorf("second page: %s", body)
	}
	// Not signed in: to the sign-in form.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.srv.URL + "/staff/audit")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != http.StatusSeeOther || loc.Path != "/staff" {
		t.Errorf("not signed in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
