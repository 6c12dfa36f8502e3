package programme_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/programme"
)

// debianPython is Debian's python3, which has Debian's python3-icalendar
// (make test installs it); another python3 earlier on PATH may not.
const debianPython = "/usr/bin/python3"

// TestCalendarParses writes a programme across the October change from
// summer to winter time in Geneva (25 October 2026) and reads it back with
// a third-party parser (Python's icalendar): each event's UTC times are
// the slot's, an hour apart in UTC for the same Geneva hour on either
// side of the change.
func TestCalendarParses(t *testing.T) {
	if _, err := os.Stat(debianPython); err != nil {
		t.Fatalf("%s is missing (make test installs python3-icalendar): %v", debianPython, err)
	}
	geneva := presession.Geneva
	sess := &presession.Session{ID: "upr47", Title: "UPR Pre-session 47"}
	slots := []presession.Scheduled{
		{Country: presession.Country{Code: "AD", Name: "Andorra"},
			Slot: presession.Slot{Start: time.Date(2026, 10, 24, 9, 0, 0, 0, geneva), Minutes: 30, QuestionsURL: "https://meet.example.org/ad?x=1,2;3", Note: "Questions; then a break, with coffee"}},
		{Country: presession.Country{Code: "HR", Name: "Croatia"},
			Slot: presession.Slot{Start: time.Date(2026, 10, 26, 9, 0, 0, 0, geneva), Minutes: 25}},
	}
	text := programme.Calendar(programme.CalendarInput{Session: sess, Slots: slots, PublicURL: "https://presession.example.org",
		Modified: time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC), T: func(key string, args ...any) string { return key + fmt.Sprint(args...) }})
	if !strings.Contains(text, "\r\n") {
		t.Fatal("lines do not end in CRLF")
	}
	for _, l := range strings.Split(text, "\r\n") {
		if len(l) > 75 {
			t.Fatalf("line longer than 75 octets: %q", l)
		}
	}
	f := filepath.Join(t.TempDir(), "programme.ics")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, icalendar, datetime
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
for ev in cal.walk('VEVENT'):
    s = ev.decoded('DTSTART').astimezone(datetime.timezone.utc)
    e = ev.decoded('DTEND').astimezone(datetime.timezone.utc)
    print(ev['UID'], s.strftime('%Y-%m-%dT%H:%M:%SZ'), e.strftime('%Y-%m-%dT%H:%M:%SZ'), ev.get('LOCATION', ''), '|', ev['DESCRIPTION'].replace('\n', '/'))
`
	out, err := exec.Command(debianPython, "-c", script, f).CombinedOutput()
	if err != nil {
		t.Fatalf("icalendar cannot read the file: %v\n%s\n%s", err, out, text)
	}
	want := "upr47-ad@presession.example.org 2026-10-24T07:00:00Z 2026-10-24T07:30:00Z https://meet.example.org/ad?x=1,2;3 | " +
		"programme.ics.descriptionAndorra/programme.ics.watchhttps://presession.example.org/watch/upr47/ad/programme.ics.questionshttps://meet.example.org/ad?x=1,2;3/Questions; then a break, with coffee\n" +
		"upr47-hr@presession.example.org 2026-10-26T08:00:00Z 2026-10-26T08:25:00Z  | " +
		"programme.ics.descriptionCroatia/programme.ics.watchhttps://presession.example.org/watch/upr47/hr\n"
	if string(out) != want {
		t.Fatalf("icalendar read:\n%s\nwant:\n%s\nfile:\n%s", out, want, text)
	}
}
