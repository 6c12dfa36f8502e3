package desk

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/uprinfo/presession"
)

// pageData is what the review page's template receives as .Data.
type pageData struct {
	Scope    Scope
	Sessions []sessionOption
	Error    string // a bad scope, said plainly
	// Statement is the one to review; nil when the queue has none free.
	Statement *statementView
	Free      int // others awaiting review that this reviewer could be given
	Skipped   int
	Others    int // held by other reviewers
	Counts    []countRow
	Shortcuts []shortcut
	Messages  map[string]string // desk.js's strings in the page's language
	// The claim's life, the page's renewal period and how long an
	// untouched page keeps renewing, in seconds.
	ClaimSeconds, RenewSeconds, IdleSeconds int
}

type sessionOption struct {
	ID, Title string
	Countries []option
}

type option struct{ Code, Name string }

// statementView is the statement under review.
type statementView struct {
	*presession.Statement
	SessionTitle, CountryName, LanguageName string
	Duration                                float64
	MP4, Poster, Storyboard                 string // URLs ("" when absent)
	Quality                                 string // the summary in the page's language
	Loudness                                *presession.Loudness
	Findings                                []findingView
	Warnings                                []string
	Tracks                                  []trackView
	ReadyAt                                 time.Time
}

// findingView is one quality finding, placed on the timeline.
type findingView struct {
	Kind       string
	Start, End float64
	Clock      string // "0:03–0:06"
	Text       string
}

// trackView is one caption track with its history.
type trackView struct {
	Lang, Name, URL    string
	Placeholder, Draft bool
	History            []changeView // newest first
}

type changeView struct {
	At     time.Time
	By     string
	Source string // in the page's language
	Cues   int
}

// countRow is one country's counts.
type countRow struct {
	Session, Code, Name                 string
	Approved, Awaiting, Failed, Busy    int
	QueueURL                            string // the queue of this country alone
	ApprovedURL, AwaitingURL, FailedURL string // the dashboard filtered on them
}

type shortcut struct {
	Keys []string
	Text string
}

// shortcuts are the page's keys, as desk.js handles them.
var shortcuts = []struct {
	keys []string
	text string
}{
	{[]string{"k", "Space"}, "desk.key.play"},
	{[]string{"j", "←"}, "desk.key.back"},
	{[]string{"l", "→"}, "desk.key.forward"},
	{[]string{"1", "2", "3"}, "desk.key.speed"},
	{[]string{"f"}, "desk.key.finding"},
	{[]string{"Shift+F"}, "desk.key.finding_prev"},
	{[]string{"c"}, "desk.key.captions"},
	{[]string{"a"}, "desk.key.approve"},
	{[]string{"r"}, "desk.key.reject"},
	{[]string{"n"}, "desk.key.next"},
	{[]string{"Esc"}, "desk.key.escape"},
}

// jsMessages are the keys desk.js uses.
var jsMessages = []string{
	"desk.js.failed", "desk.js.approved", "desk.js.rejected", "desk.js.skipped", "desk.js.reason_required",
	"desk.js.speed", "desk.js.jumped", "desk.js.no_findings", "desk.js.claim_lost", "desk.js.saved",
	"desk.js.bad_time", "desk.js.empty_text", "desk.js.decimal", "desk.js.end_before_start", "desk.js.cue_removed", "desk.js.cue_added",
	"desk.js.unsaved", "desk.js.idle", "desk.js.playing", "desk.js.paused", "desk.js.no_cues",
	"desk.cue.start", "desk.cue.end", "desk.cue.text", "desk.cue.remove",
}

func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := h.site.Lang(r)
	d := &pageData{Messages: map[string]string{}, ClaimSeconds: int(h.queue.claims.TTL() / time.Second),
		RenewSeconds: int(min(RenewEvery, h.queue.claims.TTL()/4) / time.Second)}
	d.RenewSeconds = max(d.RenewSeconds, 1)
	d.IdleSeconds = int(IdleRelease / time.Second)
	for _, k := range jsMessages {
		d.Messages[k] = h.site.Bundle.T(lang, k)
	}
	for _, sc := range shortcuts {
		d.Shortcuts = append(d.Shortcuts, shortcut{Keys: sc.keys, Text: h.site.Bundle.T(lang, sc.text)})
	}
	coll := collate.New(language.Make(lang)) // country names in the reader's alphabetical order
	for i := range h.site.Sessions.List {
		s := &h.site.Sessions.List[i]
		so := sessionOption{ID: s.ID, Title: s.Title}
		for _, c := range s.Countries {
			so.Countries = append(so.Countries, option{Code: c.Code, Name: presession.CountryName(c.Code, lang)})
		}
		slices.SortFunc(so.Countries, func(a, b option) int { return coll.CompareString(a.Name, b.Name) })
		d.Sessions = append(d.Sessions, so)
	}
	sc, err := h.scope(r)
	if err != nil {
		d.Error = h.site.Message(lang, err)
	}
	d.Scope = sc
	s, wt, err := h.queue.Next(ctx, sc, actor(r))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	d.Free, d.Skipped, d.Others = wt.Free(), wt.SkippedCount(), len(wt.Others)
	if s != nil {
		d.Free--
		if wt.Skipped[s.ID] {
			d.Skipped--
		}
		d.Statement = h.statementView(ctx, s, lang)
	}
	counts, err := h.queue.Counts(ctx, sc)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	for _, c := range counts {
		d.Counts = append(d.Counts, h.countRow(c, lang))
	}
	slices.SortStableFunc(d.Counts, func(a, b countRow) int { return coll.CompareString(a.Name, b.Name) })
	h.site.Render(w, r, h.page, http.StatusOK, d)
}

func (h *Handler) countRow(c Counts, lang string) countRow {
	q := url.Values{"session": {c.Session}, "country": {c.Country}}
	filtered := func(st presession.Status) string {
		v := url.Values{"session": {c.Session}, "country": {c.Country}, "status": {string(st)}}
		return "/staff?" + v.Encode() + "#statements"
	}
	return countRow{Session: c.Session, Code: c.Country, Name: presession.CountryName(c.Country, lang),
		Approved: c.Approved, Awaiting: c.Awaiting, Failed: c.Failed, Busy: c.Busy,
		QueueURL: "/staff/review?" + q.Encode(), ApprovedURL: filtered(presession.StatusApproved),
		AwaitingURL: filtered(presession.StatusReady), FailedURL: filtered(presession.StatusFailed)}
}

// statementView is s as the review page shows it, in lang.
func (h *Handler) statementView(ctx context.Context, s *presession.Statement, lang string) *statementView {
	v := &statementView{Statement: s, CountryName: presession.CountryName(s.Country, lang), Warnings: h.site.Warnings(lang, s)}
	if sess, ok := h.site.Sessions.Find(s.Session); ok {
		v.SessionTitle = sess.Title
	}
	if s.Language != "" {
		v.LanguageName = presession.LanguageName(s.Language)
	}
	for _, e := range s.History {
		if e.To == presession.StatusReady {
			v.ReadyAt = e.At
		}
	}
	if m := s.Media; m != nil {
		v.Duration = m.Duration
		v.MP4, v.Poster = mediaURL(s, m.MP4), mediaURL(s, m.Poster)
		if m.StoryboardVT != "" {
			v.Storyboard = mediaURL(s, m.StoryboardVT)
		}
		if q := m.Quality; q != nil {
			v.Quality, _ = h.site.Quality(lang, s)
			v.Loudness = q.Loudness
			for _, f := range q.Findings {
				v.Findings = append(v.Findings, findingView{Kind: f.Kind, Start: f.Start, End: f.End,
					Clock: presession.ClockDuration(f.Start) + "–" + presession.ClockDuration(f.End), Text: h.say(lang, f.Text, f.Key, f.Args)})
			}
		}
	}
	var actors []presession.Actor
	for _, c := range s.Captions {
		for _, ch := range c.History {
			actors = append(actors, presession.Actor(ch.By))
		}
	}
	names := h.resolve(ctx, actors)
	for _, c := range s.Captions {
		tv := trackView{Lang: c.Language, Name: c.Name, URL: captionURL(s, c), Placeholder: c.Placeholder, Draft: c.Draft}
		if tv.Name == "" {
			tv.Name = presession.LanguageName(c.Language)
		}
		for i := len(c.History) - 1; i >= 0; i-- {
			ch := c.History[i]
			tv.History = append(tv.History, changeView{At: ch.At, By: h.actorText(presession.Actor(ch.By), s, names, lang),
				Source: h.site.Bundle.T(lang, "desk.source."+ch.Source), Cues: ch.Cues})
		}
		v.Tracks = append(v.Tracks, tv)
	}
	return v
}

// say is a message in lang, or text when the catalogue lacks key.
func (h *Handler) say(lang, text, key string, args []string) string {
	if key != "" {
		if t, ok := h.site.Bundle.Message(lang, key, args); ok {
			return t
		}
	}
	return text
}

// resolve names actors (nil without a directory, or when it fails: a
// name is a help, not a reason to fail the page).
func (h *Handler) resolve(ctx context.Context, actors []presession.Actor) map[presession.Actor]string {
	if h.names == nil || len(actors) == 0 {
		return nil
	}
	names, err := h.names.Names(ctx, actors)
	if err != nil {
		h.log.WarnContext(ctx, "caption history names not resolved", "err", err)
		return nil
	}
	return names
}

// actorText says who a is for a reader of lang.
func (h *Handler) actorText(a presession.Actor, s *presession.Statement, names map[presession.Actor]string, lang string) string {
	if n := names[a]; n != "" {
		return n
	}
	switch kind, _ := a.Split(); {
	case a == presession.ActorWorker:
		return h.site.Bundle.T(lang, "staff.history.worker")
	case a == presession.ActorStaff:
		return h.site.Bundle.T(lang, "staff.history.staff")
	case kind == "cso":
		return h.site.Bundle.T(lang, "staff.history.org", s.Organisation)
	}
	return string(a)
}
