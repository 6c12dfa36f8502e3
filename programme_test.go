package presession_test

import (
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
)

const programmeFile = `{"sessions": [{"id": "upr36", "title": "UPR Pre-session 36", "upload_deadline": "2020-01-31T23:59:59Z",
  "max_statement_seconds": 600, "languages": ["en"],
  "countries": [
    {"code": "HR", "name": "Croatia", "slot": {"start": "2020-10-06T09:30:00+02:00", "minutes": 30, "questions_url": "https://meet.example.org/hr"}},
    {"code": "AD", "name": "Andorra", "slot": {"start": "2020-10-06T09:00:00+02:00", "minutes": 30, "note": "Welcome first"}},
    {"code": "BG", "name": "Bulgaria"}]}]}`

func TestProgramme(t *testing.T) {
	ss, err := presession.ParseSessions(strings.NewReader(programmeFile))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ss.Find("upr36")
	p := s.Programme(nil)
	if len(p) != 2 || p[0].Country.Code != "AD" || p[1].Country.Code != "HR" || p[1].Slot.QuestionsURL != "https://meet.example.org/hr" {
		t.Fatalf("programme %+v, want Andorra then Croatia", p)
	}
	if got := p[0].Slot.Start.UTC(); !got.Equal(time.Date(2020, 10, 6, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("Andorra starts %s UTC, want 07:00", got)
	}
	at := func(hhmm string) time.Time {
		tm, _ := time.ParseInLocation("2006-01-02 15:04", "2020-10-06 "+hhmm, presession.Geneva)
		return tm
	}
	for _, tc := range []struct{ at, now, next string }{
		{"08:00", "", "AD"}, {"09:00", "AD", "HR"}, {"09:29", "AD", "HR"}, {"09:30", "HR", ""}, {"10:00", "", ""},
	} {
		now, next := presession.OnAir(p, at(tc.at))
		code := func(e *presession.Scheduled) string {
			if e == nil {
				return ""
			}
			return e.Country.Code
		}
		if code(now) != tc.now || code(next) != tc.next {
			t.Errorf("at %s on air %q, next %q; want %q, %q", tc.at, code(now), code(next), tc.now, tc.next)
		}
	}
	// Staff move Croatia to 10:00 and remove Andorra's slot.
	later := presession.Slot{Start: at("10:00"), Minutes: 20}
	changed := s.Programme(&presession.Programme{Slots: map[string]*presession.Slot{"HR": &later, "AD": nil}})
	if len(changed) != 1 || changed[0].Country.Code != "HR" || !changed[0].Slot.Start.Equal(at("10:00")) {
		t.Fatalf("changed programme %+v", changed)
	}
	if err := p[0].Slot.Fits(29 * 60); err != nil {
		t.Errorf("29 minutes in a 30-minute slot: %v", err)
	}
	if err := p[0].Slot.Fits(31*60 + 5); err == nil || !strings.Contains(err.Error(), "31:05") || !strings.Contains(err.Error(), "30 minutes") {
		t.Errorf("31:05 in a 30-minute slot: %v", err)
	}
}

func TestProgrammeRefused(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"no offset", `"2020-10-06T09:30:00+02:00"`, `"2020-10-06T09:30:00"`, `"2020-10-06T09:30:00" has no UTC offset`},
		{"not a time", `"2020-10-06T09:30:00+02:00"`, `"half past nine"`, `"half past nine" is not an RFC 3339 time`},
		{"overlap", `"2020-10-06T09:30:00+02:00"`, `"2020-10-06T09:20:00+02:00"`, "the slots of Andorra (6 Oct 09:00–09:30) and Croatia (6 Oct 09:20–09:50) overlap"},
		{"zero minutes", `"minutes": 30, "note"`, `"minutes": 0, "note"`, "a slot lasts from 1 to 720 minutes, not 0"},
		{"bad link", `https://meet.example.org/hr`, `javascript:alert(1)`, "is not an http(s) address"},
		{"unknown field", `"note": "Welcome first"`, `"notes": "Welcome first"`, "slot is not of the documented shape"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(programmeFile, tc.from, tc.to, 1)
			if in == programmeFile {
				t.Fatal("the case changes nothing")
			}
			_, err := presession.ParseSessions(strings.NewReader(in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
