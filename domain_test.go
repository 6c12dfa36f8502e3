package presession_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/internal/fakes"
)

// allowed is every move of the lifecycle, written out.
var allowed = map[[2]presession.Status]bool{
	{"uploading", "uploaded"}: true, {"uploading", "failed"}: true,
	{"uploaded", "processing"}: true, {"uploaded", "failed"}: true,
	{"processing", "processing"}: true, {"processing", "ready"}: true, {"processing", "failed"}: true, {"processing", "uploaded"}: true,
	{"ready", "approved"}: true, {"ready", "rejected"}: true, {"ready", "processing"}: true,
	{"approved", "ready"}: true, {"rejected", "ready"}: true,
	{"failed", "uploaded"}: true,
}

func TestLifecycle(t *testing.T) {
	for _, from := range presession.Statuses {
		for _, to := range presession.Statuses {
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				err := presession.CheckTransition(from, to)
				if allowed[[2]presession.Status{from, to}] != (err == nil) {
					t.Fatalf("CheckTransition(%s, %s) = %v, want allowed=%v", from, to, err, allowed[[2]presession.Status{from, to}])
				}
				if err != nil && presession.ErrorCode(err) != presession.ECONFLICT {
					t.Fatalf("code %s, want conflict", presession.ErrorCode(err))
				}
			})
		}
	}
}

var (
	t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 = t0.Add(time.Hour)
)

// statementAt is a new statement driven to st by legal moves at t0, with
// a system-written reason on the way and some live progress.
func statementAt(t *testing.T, st presession.Status) *presession.Statement {
	t.Helper()
	s := &presession.Statement{ID: "st1", Session: "upr36", Country: "AD", InvitationID: "inv1", Title: "A statement"}
	if err := s.Begin(t0); err != nil {
		t.Fatal(err)
	}
	for _, to := range fakes.PathTo(st) {
		m := presession.Move{To: to, By: presession.ActorWorker, Reason: presession.Reason{Text: "setup"}}
		if to == presession.StatusRejected || to == presession.StatusFailed {
			m.Reason.Message = presession.Message{Key: "reason.setup", Args: []string{"1"}}
		}
		if err := s.Apply(m, t0); err != nil {
			t.Fatalf("setup → %s: %v", to, err)
		}
	}
	if s.Status != st {
		t.Fatalf("fixture at %s, want %s", s.Status, st)
	}
	if st == presession.StatusProcessing {
		s.Progress = 37
	}
	return s
}

// TestApply tries every move from every status: a refused one changes
// nothing, an allowed one changes exactly the fields the lifecycle says.
func TestApply(t *testing.T) {
	targets := append(slices.Clone(presession.Statuses), "bogus")
	for _, from := range presession.Statuses {
		for _, to := range targets {
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				s, want := statementAt(t, from), statementAt(t, from)
				keeps := to == presession.StatusRejected || to == presession.StatusFailed
				why := presession.Reason{Text: "  because \n"}
				if keeps {
					why.Message = presession.Message{Key: "reason.because", Args: []string{"0:24"}}
				}
				err := s.Apply(presession.Move{To: to, By: "staff:alice", Reason: why}, t1)
				switch {
				case !to.Valid():
					wantError(t, err, presession.EINVALID, "err.status_unknown")
				case !allowed[[2]presession.Status{from, to}]:
					wantError(t, err, presession.ECONFLICT, "err.transition")
					if !strings.Contains(err.Error(), string(from)) || !strings.Contains(err.Error(), string(to)) {
						t.Errorf("conflict %q does not name both statuses", err)
					}
				default:
					if err != nil {
						t.Fatalf("allowed move refused: %v", err)
					}
					want.Status, want.UpdatedAt = to, t1
					want.Reason, want.ReasonKey, want.ReasonArgs = "", "", nil
					if keeps {
						want.Reason, want.ReasonKey, want.ReasonArgs = "because", "reason.because", []string{"0:24"}
					}
					switch to {
					case presession.StatusProcessing:
						want.Progress = 0
					case presession.StatusReady:
						want.Progress = 100
					case presession.StatusUploaded:
						if want.UploadedAt.IsZero() {
							want.UploadedAt = t1
						}
					}
					want.History = append(want.History, presession.Event{At: t1, Actor: "staff:alice", From: from, To: to, Reason: "because"})
				}
				if !reflect.DeepEqual(s, want) {
					t.Errorf("after Apply(%s):\n%+v\nwant\n%+v", to, s, want)
				}
			})
		}
	}
}

func wantError(t *testing.T, err error, code, key string) {
	t.Helper()
	var e *presession.Error
	if !errors.As(err, &e) || e.Code != code || e.Key != key {
		t.Fatalf("error %v (%#v), want code %q key %q", err, e, code, key)
	}
}

// TestMoveRules: what a move needs, whatever the status, refused by
// NewMove and Apply alike, Apply changing nothing.
func TestMoveRules(t *testing.T) {
	long := strings.Repeat("é", presession.MaxReasonLength+1)
	msg := func(key string, args ...string) presession.Message { return presession.Message{Key: key, Args: args} }
	for _, tc := range []struct {
		name string
		to   presession.Status
		by   presession.Actor
		why  presession.Reason
		key  string // of the localized error; "" for an English-only one
	}{
		{"unknown status", "bogus", "staff", presession.Reason{}, "err.status_unknown"},
		{"no actor", presession.StatusApproved, "", presession.Reason{}, ""},
		{"rejected without reason", presession.StatusRejected, "staff", presession.Reason{}, "err.reason_required"},
		{"rejected with blank reason", presession.StatusRejected, "staff", presession.Reason{Text: "  \n "}, "err.reason_required"},
		{"failed without reason", presession.StatusFailed, "worker", presession.Reason{Message: msg("reason.x")}, "err.reason_required"},
		{"reason too long", presession.StatusRejected, "staff", presession.Reason{Text: long}, "err.reason_long"},
		{"message kept nowhere", presession.StatusApproved, "staff", presession.Reason{Message: msg("reject.truncated")}, ""},
		{"message key too long", presession.StatusFailed, "worker", presession.Reason{Text: "x", Message: msg(strings.Repeat("k", 201))}, ""},
		{"too many arguments", presession.StatusFailed, "worker", presession.Reason{Text: "x", Message: msg("k", make([]string, 9)...)}, ""},
		{"argument too long", presession.StatusFailed, "worker", presession.Reason{Text: "x", Message: msg("k", long)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := presession.NewMove(tc.to, tc.by, tc.why.Text, tc.why.Message)
			wantError(t, err, presession.EINVALID, tc.key)
			for _, from := range presession.Statuses {
				s, want := statementAt(t, from), statementAt(t, from)
				wantError(t, s.Apply(presession.Move{To: tc.to, By: tc.by, Reason: tc.why}, t1), presession.EINVALID, tc.key)
				if !reflect.DeepEqual(s, want) {
					t.Fatalf("a refused move from %s changed the statement", from)
				}
			}
		})
	}
	// At the bounds it is fine.
	at := strings.Repeat("é", presession.MaxReasonLength)
	ok := msg(strings.Repeat("k", 200), at, "", "", "", "", "", "", "")
	m, err := presession.NewMove(presession.StatusRejected, "staff", at, ok)
	if err != nil {
		t.Fatal(err)
	}
	if err := statementAt(t, presession.StatusReady).Apply(m, t1); err != nil {
		t.Fatal(err)
	}
}

// TestReasonKept: the reason stays while the statement is rejected or
// failed, goes with the next move, and stays in the history.
func TestReasonKept(t *testing.T) {
	s := statementAt(t, presession.StatusReady)
	if err := s.Apply(presession.Move{To: presession.StatusRejected, By: presession.ActorStaff, Reason: presession.Reason{Text: "  sound is inaudible "}}, t1); err != nil {
		t.Fatal(err)
	}
	if s.Reason != "sound is inaudible" || s.ReasonKey != "" || s.ReasonArgs != nil {
		t.Fatalf("reason %q key %q args %q", s.Reason, s.ReasonKey, s.ReasonArgs)
	}
	if err := s.Apply(presession.Move{To: presession.StatusReady, By: presession.ActorStaff, Reason: presession.Reason{Text: "second look"}}, t1); err != nil {
		t.Fatal(err)
	}
	if s.Reason != "" || s.History[len(s.History)-2].Reason != "sound is inaudible" || s.History[len(s.History)-1].Reason != "second look" {
		t.Fatalf("after reopen: reason %q, history %+v", s.Reason, s.History)
	}

	// A failure's message goes with a re-run; the first upload time stays.
	f := statementAt(t, presession.StatusFailed)
	if f.ReasonKey != "reason.setup" {
		t.Fatalf("failed with key %q", f.ReasonKey)
	}
	for _, to := range []presession.Status{presession.StatusUploaded, presession.StatusProcessing} {
		if err := f.Apply(presession.Move{To: to, By: presession.ActorSystem}, t1); err != nil {
			t.Fatal(err)
		}
	}
	if f.Reason != "" || f.ReasonKey != "" || f.ReasonArgs != nil || !f.UploadedAt.Equal(t1) {
		t.Fatalf("after re-run: reason %q key %q args %q, uploaded at %v", f.Reason, f.ReasonKey, f.ReasonArgs, f.UploadedAt)
	}
	u := statementAt(t, presession.StatusProcessing)
	for _, to := range []presession.Status{presession.StatusUploaded, presession.StatusProcessing} {
		if err := u.Apply(presession.Move{To: to, By: presession.ActorWorker}, t1); err != nil {
			t.Fatal(err)
		}
	}
	if !u.UploadedAt.Equal(t0) {
		t.Fatalf("a second upload move changed UploadedAt to %v", u.UploadedAt)
	}
}

// TestSourceDeleted: once its source is deleted, a failed statement
// stays failed: a re-run is refused (EGONE), changing nothing, while
// other moves' rules are as before.
func TestSourceDeleted(t *testing.T) {
	f := statementAt(t, presession.StatusFailed)
	f.SourceDeletedAt = t1
	before := *f
	for _, to := range []presession.Status{presession.StatusUploaded, presession.StatusProcessing} {
		err := f.Apply(presession.Move{To: to, By: presession.ActorStaff}, t1)
		if to == presession.StatusProcessing {
			wantError(t, err, presession.ECONFLICT, "err.transition") // not a move from failed at all
			continue
		}
		wantError(t, err, presession.EGONE, "err.source_deleted")
		if !strings.Contains(err.Error(), "deleted on") || !reflect.DeepEqual(*f, before) {
			t.Fatalf("refused re-run: %v; statement changed: %+v", err, *f)
		}
	}
}

func TestNewMove(t *testing.T) {
	args := []string{"0:24", "1:00"}
	m, err := presession.NewMove(presession.StatusFailed, presession.ActorWorker, "  the file stops at 0:24 ", presession.Message{Key: "reject.truncated", Args: args})
	if err != nil {
		t.Fatal(err)
	}
	args[0] = "changed by the caller afterwards"
	want := presession.Move{To: presession.StatusFailed, By: presession.ActorWorker,
		Reason: presession.Reason{Text: "the file stops at 0:24", Message: presession.Message{Key: "reject.truncated", Args: []string{"0:24", "1:00"}}}}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("move %+v", m)
	}
	for _, msg := range [][]presession.Message{nil, {{}}, {{Args: []string{"no key"}}}, {{Key: "k", Args: []string{}}}} {
		m, err := presession.NewMove(presession.StatusFailed, presession.ActorWorker, "x", msg...)
		if err != nil || m.Reason.Message.Args != nil || (len(msg) == 0 || msg[0].Key == "") != (m.Reason.Message.Key == "") {
			t.Errorf("NewMove(x, %+v) = %+v, %v", msg, m, err)
		}
	}
	_, err = presession.NewMove(presession.StatusFailed, presession.ActorWorker, "x", presession.Message{Key: "a"}, presession.Message{Key: "b"})
	wantError(t, err, presession.EINVALID, "")

	// Apply copies the arguments too.
	s := statementAt(t, presession.StatusProcessing)
	m = presession.Move{To: presession.StatusFailed, By: presession.ActorWorker, Reason: presession.Reason{Text: "x", Message: presession.Message{Key: "k", Args: []string{"a"}}}}
	if err := s.Apply(m, t1); err != nil {
		t.Fatal(err)
	}
	m.Reason.Message.Args[0] = "changed"
	if s.ReasonArgs[0] != "a" {
		t.Fatalf("the statement shares the caller's arguments: %q", s.ReasonArgs)
	}
}

func TestBegin(t *testing.T) {
	s := &presession.Statement{ID: "st1", InvitationID: "inv1"}
	if err := s.Begin(t0); err != nil {
		t.Fatal(err)
	}
	want := &presession.Statement{ID: "st1", InvitationID: "inv1", Status: presession.StatusUploading, CreatedAt: t0, UpdatedAt: t0,
		History: []presession.Event{{At: t0, Actor: presession.ActorCSO("inv1"), To: presession.StatusUploading}}}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("began\n%+v\nwant\n%+v", s, want)
	}
	b, _ := json.Marshal(s.History[0])
	if string(b) != `{"at":"2026-01-02T03:04:05Z","actor":"cso:inv1","to":"uploading"}` {
		t.Fatalf("event JSON %s", b)
	}

	// Arriving uploaded, without an invitation, with a creation time: kept.
	u := &presession.Statement{Status: presession.StatusUploaded, CreatedAt: t0}
	if err := u.Begin(t1); err != nil {
		t.Fatal(err)
	}
	if !u.CreatedAt.Equal(t0) || !u.UpdatedAt.Equal(t1) || !u.UploadedAt.Equal(t1) || len(u.History) != 1 || u.History[0].Actor != presession.ActorSystem || u.History[0].To != presession.StatusUploaded {
		t.Fatalf("began %+v", u)
	}
	// A history of its own (an upload rebuilt from its metadata) stays.
	h := []presession.Event{{At: t0, Actor: "cso:x", To: presession.StatusUploading}}
	r := &presession.Statement{History: slices.Clone(h), UploadedAt: t0}
	if err := r.Begin(t1); err != nil || !reflect.DeepEqual(r.History, h) || !r.UploadedAt.Equal(t0) {
		t.Fatalf("began %+v: %v", r, err)
	}

	for _, st := range []presession.Status{presession.StatusProcessing, presession.StatusReady, presession.StatusApproved, presession.StatusRejected, presession.StatusFailed, "bogus"} {
		wantError(t, (&presession.Statement{Status: st}).Begin(t0), presession.EINVALID, "")
	}
}

func TestBuiltin(t *testing.T) {
	ss := presession.Builtin()
	if err := ss.Validate(); err != nil {
		t.Fatal(err)
	}
	s, ok := ss.Find("upr36")
	if !ok || len(s.Countries) != 14 {
		t.Fatalf("upr36 with 14 countries, got %v", s)
	}
	for code, want := range map[string]string{"AD": "2020-01-31", "BG": "2020-05-20", "hr": "2020-05-20", "MV": "2020-05-20", "MH": "2020-05-20", "US": "2020-01-31"} {
		c, ok := s.Country(code)
		if !ok {
			t.Fatalf("country %s missing", code)
		}
		if got := s.Deadline(c).Format("2006-01-02"); got != want {
			t.Errorf("%s deadline %s, want %s", code, got, want)
		}
	}
}

func TestParseSessions(t *testing.T) {
	good := `{"sessions": [{"id": "upr36", "title": "UPR Pre-session 36", "review": "36th", "upload_deadline": "2020-01-31T23:59:59Z",
	  "max_statement_seconds": 600, "languages": ["en", "fr", "es"],
	  "countries": [{"code": "ad", "name": "Andorra"}, {"code": "BG", "name": "Bulgaria", "upload_deadline": "2020-05-20T23:59:59Z"}]}]}`
	ss, err := presession.ParseSessions(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if _, c, err := ss.Lookup("upr36", "ad"); err != nil || c.Code != "AD" {
		t.Fatalf("lookup ad: %v %v", c, err)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"not json", `{`, "not valid JSON"},
		{"unknown field", `{"sessions": [], "x": 1}`, "unknown field"},
		{"empty", `{"sessions": []}`, "no sessions"},
		{"bad country", strings.Replace(good, `"ad"`, `"XX"`, 1), `"XX" is not an ISO 3166-1`},
		{"numeric region", strings.Replace(good, `"ad"`, `"15"`, 1), `is not an ISO 3166-1`},
		{"duplicate country", strings.Replace(good, `"ad"`, `"bg"`, 1), "listed twice"},
		{"bad date", strings.Replace(good, `2020-01-31T23:59:59Z`, `31/01/2020`, 1), `"31/01/2020" is not an RFC 3339 date`},
		{"bad country date", strings.Replace(good, `2020-05-20T23:59:59Z`, `May 20`, 1), `"May 20" is not an RFC 3339 date`},
		{"duplicate id", `{"sessions": [` + good[14:len(good)-2] + `,` + good[14:len(good)-2] + `]}`, "duplicate session id"},
		{"bad language", strings.Replace(good, `"es"`, `"spanish!"`, 1), "not a BCP 47 code"},
		{"no max", strings.Replace(good, `600`, `0`, 1), "max_statement_seconds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := presession.ParseSessions(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ code, lang, want string }{
		{"BG", "en", "Bulgaria"}, {"BG", "fr", "Bulgarie"}, {"BG", "es", "Bulgaria"},
		{"US", "fr", "États-Unis"}, {"MH", "es", "Islas Marshall"},
	} {
		if got := presession.CountryName(tc.code, tc.lang); got != tc.want {
			t.Errorf("CountryName(%s, %s) = %q, want %q", tc.code, tc.lang, got, tc.want)
		}
	}
	for lang, want := range map[string]string{"en": "English", "fr": "Français", "es": "Español"} {
		if got := presession.LanguageName(lang); got != want {
			t.Errorf("LanguageName(%s) = %q, want %q", lang, got, want)
		}
	}
}
