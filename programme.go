package presession

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Slot is a country's time in a session's programme: its statements are
// broadcast from Start, then delegations put their questions to the
// organisations (at QuestionsURL, the organisers' video call).
type Slot struct {
	Start        time.Time `json:"start"` // RFC 3339 with its UTC offset
	Minutes      int       `json:"minutes"`
	QuestionsURL string    `json:"questions_url,omitempty"`
	Note         string    `json:"note,omitempty"`
}

// MaxSlotMinutes bounds a slot's length: a country's slot is part of a
// day's programme.
const MaxSlotMinutes = 12 * 60

// Geneva is the time zone programmes are published in.
var Geneva = mustLocation("Europe/Zurich")

func mustLocation(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic("time zone " + name + ": " + err.Error())
	}
	return l
}

// End is when the slot ends.
func (s Slot) End() time.Time { return s.Start.Add(time.Duration(s.Minutes) * time.Minute) }

// Equal reports whether s and o are the same slot (the same instant,
// whatever the offsets they are written with).
func (s Slot) Equal(o Slot) bool {
	return s.Start.Equal(o.Start) && s.Minutes == o.Minutes && s.QuestionsURL == o.QuestionsURL && s.Note == o.Note
}

// Length is the slot's length.
func (s Slot) Length() time.Duration { return time.Duration(s.Minutes) * time.Minute }

// Check checks the slot alone: a positive length of at most
// MaxSlotMinutes, an http(s) questions link, a note of one paragraph.
func (s Slot) Check() error {
	switch {
	case s.Start.IsZero():
		return Errorf(EINVALID, "the slot has no start").Localize("err.slot_start")
	case s.Minutes <= 0 || s.Minutes > MaxSlotMinutes:
		return Errorf(EINVALID, "a slot lasts from 1 to %d minutes, not %d", MaxSlotMinutes, s.Minutes).Localize("err.slot_minutes", MaxSlotMinutes, s.Minutes)
	case len(s.Note) > 500:
		return Errorf(EINVALID, "the slot's note is longer than 500 characters").Localize("err.slot_note")
	}
	if s.QuestionsURL != "" {
		u, err := url.Parse(s.QuestionsURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Errorf(EINVALID, "the questions link %q is not an http(s) address", s.QuestionsURL).Localize("err.slot_url", s.QuestionsURL)
		}
	}
	return nil
}

// Fits checks that statements lasting seconds in all fit in the slot:
// EINVALID naming both lengths when they do not.
func (s Slot) Fits(seconds float64) error {
	if time.Duration(seconds*float64(time.Second)) > s.Length() {
		return Errorf(EINVALID, "the approved statements last %s, longer than the slot's %d minutes", ClockDuration(seconds), s.Minutes).
			Localize("err.slot_short", ClockDuration(seconds), s.Minutes)
	}
	return nil
}

// ClockDuration writes seconds as m:ss, or h:mm:ss from an hour.
func ClockDuration(seconds float64) string {
	t := int(seconds + 0.5)
	if t >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", t/3600, t/60%60, t%60)
	}
	return fmt.Sprintf("%d:%02d", t/60, t%60)
}

// Scheduled is a country with its slot.
type Scheduled struct {
	Country Country
	Slot    Slot
}

// Programme is a session's programme as staff changed it: the slots that
// differ from the sessions file's, by country code, and who changed it
// last. A nil Slot removes the file's slot.
type Programme struct {
	Session   string           `json:"session"`
	Slots     map[string]*Slot `json:"slots"`
	UpdatedAt time.Time        `json:"updated_at"`
	UpdatedBy Actor            `json:"updated_by"`
}

// Programme returns the countries of s that have a slot, by start: the
// sessions file's slots with the changes of p (nil: none) over them.
func (s *Session) Programme(p *Programme) []Scheduled {
	var out []Scheduled
	for _, c := range s.Countries {
		slot := c.Slot
		if p != nil {
			if changed, ok := p.Slots[c.Code]; ok {
				slot = changed
			}
		}
		if slot != nil {
			out = append(out, Scheduled{Country: c, Slot: *slot})
		}
	}
	slices.SortStableFunc(out, func(a, b Scheduled) int { return a.Slot.Start.Compare(b.Slot.Start) })
	return out
}

// CheckProgramme checks a session's programme: every slot on its own, and
// no two slots overlapping; the error names the countries and times.
func CheckProgramme(title string, slots []Scheduled) error {
	for _, e := range slots {
		if err := e.Slot.Check(); err != nil {
			return fmt.Errorf("%s, %s: %w", title, e.Country.Code, err)
		}
	}
	for i := 1; i < len(slots); i++ {
		a, b := slots[i-1], slots[i]
		if b.Slot.Start.Before(a.Slot.End()) {
			return Errorf(EINVALID, "%s: the slots of %s (%s) and %s (%s) overlap", title,
				a.Country.Name, slotSpan(a.Slot), b.Country.Name, slotSpan(b.Slot)).
				Localize("err.slot_overlap", title, a.Country.Name, slotSpan(a.Slot), b.Country.Name, slotSpan(b.Slot))
		}
	}
	return nil
}

// slotSpan writes a slot's span in Geneva time.
func slotSpan(s Slot) string {
	return s.Start.In(Geneva).Format("2 Jan 15:04") + "–" + s.End().In(Geneva).Format("15:04")
}

// OnAir returns, of a programme sorted by start, the entry whose slot
// holds t and the next one to start after t; either may be nil.
func OnAir(slots []Scheduled, t time.Time) (now, next *Scheduled) {
	for i := range slots {
		e := &slots[i]
		switch {
		case !t.Before(e.Slot.Start) && t.Before(e.Slot.End()):
			now = e
		case e.Slot.Start.After(t) && next == nil:
			next = e
		}
	}
	return now, next
}

// parseSlot reads a slot of the sessions file for country code, with an
// error that says what is wrong with its start.
func parseSlot(code string, raw json.RawMessage) (*Slot, error) {
	var aux struct {
		Start        string `json:"start"`
		Minutes      int    `json:"minutes"`
		QuestionsURL string `json:"questions_url"`
		Note         string `json:"note"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&aux); err != nil {
		return nil, dateError{fmt.Sprintf("country %q: slot is not of the documented shape (start, minutes, questions_url, note): %v", code, err)}
	}
	start, err := time.Parse(time.RFC3339, aux.Start)
	if err != nil {
		if _, local := time.Parse("2006-01-02T15:04:05", aux.Start); local == nil {
			return nil, dateError{fmt.Sprintf("country %q: slot start %q has no UTC offset; write it with one, e.g. %s+02:00 for Geneva in summer", code, aux.Start, aux.Start)}
		}
		return nil, dateError{fmt.Sprintf("country %q: slot start %q is not an RFC 3339 time such as 2020-10-06T09:00:00+02:00", code, aux.Start)}
	}
	return &Slot{Start: start, Minutes: aux.Minutes, QuestionsURL: aux.QuestionsURL, Note: aux.Note}, nil
}
