// Package programme is the Pre-session's programme as the public and
// staff see it: calendar files of the slots, and (with the playlist
// package's premieres) what is on now.
package programme

import (
	"net/url"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/uprinfo/presession"
)

// CalendarInput is what a calendar file lists.
type CalendarInput struct {
	Session *presession.Session
	Slots   []presession.Scheduled // the programme, or the one country's slot
	// PublicURL is the site's address (PRESESSION_PUBLIC_URL), for the
	// watch pages' links and the events' UIDs.
	PublicURL string
	// Modified is when the programme last changed: each event's
	// DTSTAMP, LAST-MODIFIED and SEQUENCE, so that a calendar that
	// imported the file before takes the change.
	Modified time.Time
	// T writes a message of the catalogue in the calendar's language.
	T func(key string, args ...any) string
}

// Calendar writes an RFC 5545 calendar of the slots: one event per
// country, in UTC (every calendar converts to its own zone, across
// daylight-saving changes), whose UID stays the same for the country's
// slot however it moves. It uses github.com/arran4/golang-ical, which
// folds lines and escapes text as the RFC says, rather than text written
// here.
func Calendar(in CalendarInput) string {
	cal := ics.NewCalendarFor("presession")
	cal.SetMethod(ics.MethodPublish)
	cal.SetName(in.Session.Title)
	cal.SetXWRCalName(in.Session.Title)
	cal.SetXWRTimezone(presession.Geneva.String())
	host := "presession"
	if u, err := url.Parse(in.PublicURL); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	for _, e := range in.Slots {
		cc := e.Country.Code
		ev := cal.AddEvent(in.Session.ID + "-" + strings.ToLower(cc) + "@" + host)
		ev.SetDtStampTime(in.Modified)
		ev.SetModifiedAt(in.Modified)
		ev.SetSequence(int(in.Modified.Unix() / 60))
		ev.SetStartAt(e.Slot.Start)
		ev.SetEndAt(e.Slot.End())
		ev.SetSummary(in.T("programme.ics.summary", in.Session.Title, e.Country.Name))
		watch := in.PublicURL + "/watch/" + url.PathEscape(in.Session.ID) + "/" + strings.ToLower(cc)
		desc := []string{in.T("programme.ics.description", e.Country.Name), in.T("programme.ics.watch", watch)}
		if e.Slot.QuestionsURL != "" {
			desc = append(desc, in.T("programme.ics.questions", e.Slot.QuestionsURL))
			ev.SetLocation(e.Slot.QuestionsURL)
		}
		if e.Slot.Note != "" {
			desc = append(desc, e.Slot.Note)
		}
		ev.SetDescription(strings.Join(desc, "\n"))
		ev.SetURL(watch)
		ev.SetStatus(ics.ObjectStatusConfirmed)
		ev.SetTimeTransparency(ics.TransparencyOpaque)
	}
	return cal.Serialize(ics.WithNewLine("\r\n"))
}
