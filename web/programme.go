package web

import (
	"context"
	"time"

	"github.com/uprinfo/presession"
)

// Programmes gives the programme of a session as the public pages show
// it (the home page, a session's watch index); package programme's
// Handler implements it. key is a viewer token the watch links carry ("":
// none).
type Programmes interface {
	ProgrammeView(ctx context.Context, sess *presession.Session, lang, key string) (*ProgrammeView, error)
}

// ProgrammeView is a session's programme on a page: its slots by start,
// what is on now and next, and its calendar file.
type ProgrammeView struct {
	Session  string
	Calendar string // GET /programme/{s}.ics
	Slots    []ProgrammeSlot
	Now      *ProgrammeSlot // on air at the page's time
	Next     *ProgrammeSlot // the next to start
}

// ProgrammeSlot is one country's slot on a page.
type ProgrammeSlot struct {
	Code, Name   string // the name in the page's language
	Start, End   time.Time
	Minutes      int
	QuestionsURL string
	Note         string
	Count        int     // approved statements
	Seconds      float64 // their length
	Watch        string  // the country's watch page
	Calendar     string  // GET /programme/{s}/{cc}.ics
	State        string  // "on", "next", "done" or ""
}

// Geneva is the slot's start in Geneva time, where programmes are
// published.
func (p ProgrammeSlot) Geneva() time.Time { return p.Start.In(presession.Geneva) }

// GenevaEnd is the slot's end in Geneva time.
func (p ProgrammeSlot) GenevaEnd() time.Time { return p.End.In(presession.Geneva) }

// ISO is the start as RFC 3339 (UTC), for <time datetime> and the page's
// script, which writes it in the viewer's own time zone.
func (p ProgrammeSlot) ISO() string { return p.Start.UTC().Format(time.RFC3339) }

// ISOEnd is the end as RFC 3339 (UTC).
func (p ProgrammeSlot) ISOEnd() string { return p.End.UTC().Format(time.RFC3339) }
