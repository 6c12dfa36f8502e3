package programme_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/catalog"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/internal/testenv"
	"github.com/uprinfo/presession/programme"
	"github.com/uprinfo/presession/staff"
	"github.com/uprinfo/presession/storage"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

const staffToken = "staff-token-for-programme-tests-0123456789"

// fakeCounts are approved statements by country.
type fakeCounts map[string][2]float64

func (f fakeCounts) Approved(_ context.Context, _, cc string) (int, float64, error) {
	v := f[strings.ToUpper(cc)]
	return int(v[0]), v[1], nil
}

// fakeOnAir is what each premiere shows.
type fakeOnAir map[string]programme.Playing

func (f fakeOnAir) OnAir(_ context.Context, _, cc string) (programme.Playing, error) {
	if p, ok := f[strings.ToUpper(cc)]; ok {
		return p, nil
	}
	return programme.Playing{State: "scheduled"}, nil
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// httpEnv is the programme's routes, with the home page, on an httptest
// server, over real Redis and a storage directory, at 08:30 Geneva time
// on 10 December 2026: Andorra's slot is at 09:00, Croatia's at 09:30.
type httpEnv struct {
	t     *testing.T
	srv   *httptest.Server
	site  *web.Site
	store *programme.Store
	aud   *programme.Audience
	clock *clock
	rdb   *redis.Client
}

func geneva(hhmm string) time.Time {
	tm, _ := time.ParseInLocation("2006-01-02 15:04", "2026-12-10 "+hhmm, presession.Geneva)
	return tm
}

func newHTTPEnv(t *testing.T) *httpEnv {
	t.Helper()
	ss, err := presession.ParseSessions(strings.NewReader(sessionsFile))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	dir, err := storage.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := &httpEnv{t: t, rdb: rdb, clock: &clock{t: geneva("08:30")}}
	bundle, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	auth := &web.Auth{Signer: token.NewSigner([]byte("0123456789abcdef0123456789abcdef")), StaffToken: staffToken,
		Directory: staff.New(rdb, staff.StorageBlobs(dir), staff.Config{Prefix: "t:", StaffToken: staffToken})}
	e.site, err = web.NewSite(ss, bundle, auth, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	e.store = programme.NewStore(rdb, catalog.StorageBlobs(dir), "t:", ss, e.clock.now)
	counts := fakeCounts{"AD": {2, 610}, "HR": {3, 1200}}
	e.store.Approved = func(ctx context.Context, s, cc string) (float64, error) {
		_, secs, err := counts.Approved(ctx, s, cc)
		return secs, err
	}
	e.aud = programme.NewAudience(rdb, "t:", e.clock.now)
	h, err := programme.NewHandler(e.site, e.store, "https://presession.example.org", counts,
		fakeOnAir{"AD": {State: "live", Index: 2, Of: 2, Title: "On the right to water", Organisation: "Aqua Andorra"}}, e.aud)
	if err != nil {
		t.Fatal(err)
	}
	e.site.Programme = h
	mux := http.NewServeMux()
	h.Register(mux)
	home, err := e.site.Home()
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("GET /{$}", home)
	mux.Handle("GET /static/", web.Static())
	// The dashboard's stylesheet, which package review serves in the
	// service, so that pages are tested as they look.
	css, err := os.ReadFile(filepath.Join("..", "review", "assets", "staff.css"))
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("GET /staff/assets/staff.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Write(css)
	})
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

type answer struct {
	status int
	header http.Header
	body   string
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (e *httpEnv) do(method, path string, body io.Reader, hdr ...string) answer {
	e.t.Helper()
	r, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := noRedirect.Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, string(b)}
}

// cookie signs staff in as the sign-in form does and returns the cookie.
func (e *httpEnv) cookie() *http.Cookie {
	e.t.Helper()
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", e.srv.URL+"/staff/login", nil)
	if err := e.site.Auth.SignIn(w, r, staffToken); err != nil {
		e.t.Fatal(err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == web.StaffCookie {
			return c
		}
	}
	e.t.Fatal("no staff cookie")
	return nil
}

// readCalendar parses an .ics with Python's icalendar (Debian's):
// UID, start and end in UTC and SUMMARY per event, one line each.
func readCalendar(t *testing.T, text string) string {
	t.Helper()
	if _, err := os.Stat(debianPython); err != nil {
		t.Fatalf("%s is missing (make test installs python3-icalendar): %v", debianPython, err)
	}
	f := filepath.Join(t.TempDir(), "c.ics")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, icalendar, datetime
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
for ev in cal.walk('VEVENT'):
    s = ev.decoded('DTSTART').astimezone(datetime.timezone.utc)
    e = ev.decoded('DTEND').astimezone(datetime.timezone.utc)
    print(ev['UID'], s.strftime('%Y-%m-%dT%H:%M:%SZ'), e.strftime('%Y-%m-%dT%H:%M:%SZ'), ev['SUMMARY'], '|', ev['URL'])
`
	out, err := exec.Command(debianPython, "-c", script, f).CombinedOutput()
	if err != nil {
		t.Fatalf("icalendar cannot read the file: %v\n%s\n%s", err, out, text)
	}
	return string(out)
}

// TestCalendarRoutes: the calendar files are public, in the request's
// language, text/calendar, and read by Python's icalendar with the slots'
// UTC times; a staff change shows in them at once.
func TestCalendarRoutes(t *testing.T) {
	e := newHTTPEnv(t)
	r := e.do("GET", "/programme/upr47.ics", nil, "Accept-Language", "fr")
	if r.status != 200 || r.header.Get("Content-Type") != "text/calendar; charset=utf-8" || r.header.Get("Content-Language") != "fr" {
		t.Fatalf("session calendar: %d %q %q\n%s", r.status, r.header.Get("Content-Type"), r.header.Get("Content-Language"), r.body)
	}
	want := "upr47-ad@presession.example.org 2026-12-10T08:00:00Z 2026-12-10T08:30:00Z UPR Pre-session 47 : Andorre | https://presession.example.org/watch/upr47/ad\n" +
		"upr47-hr@presession.example.org 2026-12-10T08:30:00Z 2026-12-10T09:00:00Z UPR Pre-session 47 : Croatie | https://presession.example.org/watch/upr47/hr\n"
	if got := readCalendar(t, r.body); got != want {
		t.Fatalf("session calendar read:\n%s\nwant:\n%s", got, want)
	}
	// Croatia's slot moves 15 minutes later: its own file says so.
	if _, err := e.store.SetSlot(context.Background(), "upr47", "HR", &presession.Slot{Start: geneva("09:45"), Minutes: 30}, "staff:t"); err != nil {
		t.Fatal(err)
	}
	r = e.do("GET", "/programme/upr47/hr.ics?lang=es", nil)
	if r.status != 200 {
		t.Fatalf("country calendar: %d %s", r.status, r.body)
	}
	if got := readCalendar(t, r.body); got != "upr47-hr@presession.example.org 2026-12-10T08:45:00Z 2026-12-10T09:15:00Z UPR Pre-session 47: Croacia | https://presession.example.org/watch/upr47/hr\n" {
		t.Fatalf("Croatia's calendar read: %s", got)
	}
	for _, tc := range []struct {
		path, lang string
		status     int
		says       string
	}{
		{"/programme/upr47/bg.ics", "fr", 404, "n'a pas de créneau"},
		{"/programme/upr47/zz.ics", "en", 404, "ZZ"},
		{"/programme/nope.ics", "en", 404, "nope"},
		{"/programme/upr47.txt", "en", 404, ""},
	} {
		r := e.do("GET", tc.path, nil, "Accept-Language", tc.lang)
		if r.status != tc.status || !strings.Contains(r.body, tc.says) {
			t.Errorf("%s: %d %s, want %d saying %q", tc.path, r.status, r.body, tc.status, tc.says)
		}
	}
}

// TestProgrammeView is the home page's programme at 09:10 Geneva time:
// Andorra on now, Croatia next, Bulgaria (no slot) absent; times in
// Geneva with the UTC instants for the viewer's zone.
func TestProgrammeView(t *testing.T) {
	e := newHTTPEnv(t)
	e.clock.set(geneva("09:10"))
	r := e.do("GET", "/?lang=en", nil)
	if r.status != 200 {
		t.Fatalf("home: %d", r.status)
	}
	for _, want := range []string{
		`<strong>On now:</strong> Andorra`, `<strong>Next:</strong> Croatia`, `datetime="2026-12-10T08:30:00Z"`,
		`10 December 2026, 09:00–09:30`, `2 statements, 10:10`, `href="/programme/upr47/ad.ics"`, `href="/programme/upr47.ics"`,
		`data-start="2026-12-10T08:00:00Z" data-end="2026-12-10T08:30:00Z"`, `src="/static/programme.js"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	if strings.Contains(r.body, "/programme/upr47/bg.ics") {
		t.Error("Bulgaria has no slot but a calendar link")
	}
}

// TestAudience counts distinct viewer tokens per country over the last
// minute, in one round trip, across two nodes' counters.
func TestAudience(t *testing.T) {
	ctx := context.Background()
	rdb := redis.NewClient(testenv.RedisDB(t))
	t.Cleanup(func() { rdb.Close() })
	c := &clock{t: time.Date(2026, 12, 10, 8, 0, 0, 0, time.UTC)}
	a, b := programme.NewAudience(rdb, "t:", c.now), programme.NewAudience(rdb, "t:", c.now)
	for _, s := range []struct {
		node       *programme.Audience
		cc, viewer string
	}{
		{a, "AD", "v1"}, {a, "AD", "v1"}, {b, "AD", "v1"}, {a, "AD", "v2"}, {b, "ad", "v3"}, {a, "HR", "v1"},
	} {
		if err := s.node.Seen(ctx, "upr47", s.cc, s.viewer); err != nil {
			t.Fatal(err)
		}
	}
	got, err := a.Count(ctx, "upr47", []string{"AD", "HR", "BG"})
	if err != nil {
		t.Fatal(err)
	}
	if got["AD"] != 3 || got["HR"] != 1 || got["BG"] != 0 {
		t.Fatalf("counts %v, want AD 3, HR 1, BG 0", got)
	}
	// 50 s on, v2 asks again; 61 s on, only v2 is still watching Andorra.
	c.set(c.now().Add(50 * time.Second))
	if err := b.Seen(ctx, "upr47", "AD", "v2"); err != nil {
		t.Fatal(err)
	}
	c.set(c.now().Add(11 * time.Second))
	if got, _ := b.Count(ctx, "upr47", []string{"AD", "HR"}); got["AD"] != 1 || got["HR"] != 0 {
		t.Fatalf("a minute on: %v, want AD 1 (v2), HR 0", got)
	}
}

// TestStaffProgramme: the staff page and API list every country with
// its slot, what its premiere shows and its viewers; staff delay or
// change a slot that has not started, and each refusal shows in the
// request's language with its status. Reading needs staff; the public
// gets 401.
func TestStaffProgramme(t *testing.T) {
	e := newHTTPEnv(t)
	ctx := context.Background()
	for _, v := range []string{"v1", "v2"} {
		if err := e.aud.Seen(ctx, "upr47", "AD", v); err != nil {
			t.Fatal(err)
		}
	}
	if r := e.do("GET", "/staff/programme", nil); r.status != 401 {
		t.Fatalf("without staff: %d", r.status)
	}
	ck := e.cookie()
	cookie := ck.Name + "=" + ck.Value
	r := e.do("GET", "/staff/programme?lang=fr", nil, "Cookie", cookie)
	if r.status != 200 {
		t.Fatalf("staff page: %d %s", r.status, r.body)
	}
	for _, want := range []string{"Andorre", "Croatie", "Bulgarie", "pas de créneau", "déclaration 2 sur 2 : On the right to water (Aqua Andorra)",
		`data-cell="viewers">2<`, `action="/staff/programme/upr47/AD"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("staff page lacks %q", want)
		}
	}
	form := func(v url.Values, lang string) answer {
		return e.do("POST", "/staff/programme/upr47/AD?lang="+lang, strings.NewReader(v.Encode()), "Cookie", cookie,
			"Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin")
	}
	// A delay of 10 minutes collides with Croatia's 09:30: refused, named.
	r = form(url.Values{"op": {"delay"}, "delay": {"10"}}, "fr")
	if r.status != 400 || !strings.Contains(r.body, "se chevauchent") || !strings.Contains(r.body, `role="alert"`) {
		t.Fatalf("overlapping delay: %d\n%s", r.status, r.body)
	}
	// Croatia first moves to 10:00, then Andorra's delay fits.
	if _, err := e.store.SetSlot(ctx, "upr47", "HR", &presession.Slot{Start: geneva("10:00"), Minutes: 30}, "staff:t"); err != nil {
		t.Fatal(err)
	}
	r = form(url.Values{"op": {"delay"}, "delay": {"10"}}, "en")
	if r.status != 303 || !strings.HasPrefix(r.header.Get("Location"), "/staff/programme?saved=upr47%2FAD") {
		t.Fatalf("delay: %d %q %s", r.status, r.header.Get("Location"), r.body)
	}
	if s, _ := e.store.Slot(ctx, "upr47", "AD"); s == nil || !s.Start.Equal(geneva("09:10")) || s.Minutes != 30 {
		t.Fatalf("after the delay: %+v", s)
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		lang   string
		status int
		says   string
	}{
		{"bad start", url.Values{"start": {"demain"}, "minutes": {"30"}}, "es", 400, "no es una fecha y hora"},
		{"too short", url.Values{"start": {"2026-12-10T11:00"}, "minutes": {"5"}}, "en", 400, "last 10:10, longer than the slot"},
		{"bad delay", url.Values{"op": {"delay"}, "delay": {"0"}}, "en", 400, "from 1 to 720"},
		{"past", url.Values{"start": {"2026-12-10T08:00"}, "minutes": {"30"}}, "fr", 409, "dans le passé"},
	} {
		r := form(tc.form, tc.lang)
		if r.status != tc.status || !strings.Contains(r.body, tc.says) {
			t.Errorf("%s: %d, want %d saying %q\n%s", tc.name, r.status, tc.status, tc.says, r.body)
		}
	}
	// A whole new slot through the form, in Geneva time.
	r = form(url.Values{"start": {"2026-12-10T11:00"}, "minutes": {"25"}, "questions_url": {"https://meet.example.org/ad"}, "note": {"Questions in French"}}, "en")
	if r.status != 303 {
		t.Fatalf("new slot: %d %s", r.status, r.body)
	}
	if s, _ := e.store.Slot(ctx, "upr47", "AD"); s == nil || !s.Start.Equal(geneva("11:00")) || s.Minutes != 25 || s.QuestionsURL != "https://meet.example.org/ad" {
		t.Fatalf("after the form: %+v", s)
	}
	// The API: a started slot cannot be delayed.
	e.clock.set(geneva("11:05"))
	r = e.do("PUT", "/api/v1/sessions/upr47/countries/ad/slot", strings.NewReader(`{"delay_minutes": 5}`), "Authorization", "Bearer "+staffToken, "Accept-Language", "fr")
	if r.status != 409 || !strings.Contains(r.body, "a commencé") {
		t.Fatalf("delaying a started slot: %d %s", r.status, r.body)
	}
	r = e.do("PUT", "/api/v1/sessions/upr47/countries/bg/slot", strings.NewReader(`{"start": "2026-12-10T14:00:00+01:00", "minutes": 20}`), "Authorization", "Bearer "+staffToken)
	if r.status != 200 || !strings.Contains(r.body, `"start":"2026-12-10T14:00:00+01:00"`) {
		t.Fatalf("API slot for Bulgaria: %d %s", r.status, r.body)
	}
	r = e.do("GET", "/api/v1/sessions/upr47/programme", nil, "Authorization", "Bearer "+staffToken)
	var doc struct {
		Countries []programme.StaffSlot `json:"countries"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.body), &doc) != nil || len(doc.Countries) != 3 {
		t.Fatalf("API programme: %d %s", r.status, r.body)
	}
	if doc.Countries[0].Code != "HR" || doc.Countries[1].Code != "AD" || doc.Countries[2].Code != "BG" {
		t.Errorf("API programme not by start: %+v", doc.Countries)
	}
	for _, c := range doc.Countries {
		if c.Code == "AD" && (c.Viewers != 0 || c.Playing.State != "live" || !c.Started) {
			t.Errorf("Andorra at 11:05: %+v (the viewers of 08:30 have gone)", c)
		}
	}
}
