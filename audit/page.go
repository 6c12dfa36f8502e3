package audit

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
)

// PageLimit is the number of entries per audit page.
const PageLimit = 50

// Page is what the audit page's template receives as .Data.
type Page struct {
	Me      presession.Identity
	Filter  Filter
	Error   string // a bad filter, said plainly
	Actors  []Option
	Actions []Option
	Rows    []Row
	From    int // the numbers of the first and last rows shown (1-based)
	To      int
	Prev    string
	Next    string
	CSV     string // the export of the same filter
}

// Filter is the page's current filter, as the form shows it.
type Filter struct{ Actor, Action, Since string }

// Option is one choice of a filter's select.
type Option struct {
	Value, Label string
	Selected     bool
}

// Row is one entry of the table, in the page's language.
type Row struct {
	presession.AuditEntry
	When       string // date and time in the page's language
	Who        string // the name the actor acted under
	ActionText string // the action in plain words
	Outcome    string // how it ended, in plain words
	OK         bool
}

// show serves GET /staff/audit.
func (a *API) show(w http.ResponseWriter, r *http.Request) {
	me, err := a.site.Auth.Principal(r).Require(presession.PermRead)
	if presession.ErrorCode(err) == presession.EUNAUTHORIZED {
		http.Redirect(w, r, "/staff", http.StatusSeeOther)
		return
	}
	if err != nil {
		a.site.Error(w, r, err)
		return
	}
	lang := a.site.Lang(r)
	ctx := r.Context()
	q := r.URL.Query()
	d := &Page{Me: me, Filter: Filter{Actor: q.Get("actor"), Action: q.Get("action"), Since: q.Get("since")}}
	f, err := parseFilter(q)
	offset := 0
	if v := q.Get("offset"); v != "" && err == nil {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			offset, err = 0, presession.Errorf(presession.EINVALID, "offset %q is not a number of entries to skip", v).Localize("err.audit_offset", v)
		}
	}
	if err != nil {
		d.Error = a.site.Message(lang, err)
		f, offset = presession.AuditFilter{}, 0
	}
	applied := d.Filter // what the links carry: the filter shown, or none when it is bad
	if d.Error != "" {
		applied = Filter{}
	}
	f.Limit = PageLimit
	entries, more, err := a.log.Page(ctx, f, offset)
	if err != nil {
		a.site.Error(w, r, err)
		return
	}
	for _, e := range entries {
		d.Rows = append(d.Rows, a.row(lang, e))
	}
	d.From, d.To = offset+1, offset+len(entries)
	link := func(path string, extra url.Values) string {
		v := url.Values{}
		for k, s := range map[string]string{"actor": applied.Actor, "action": applied.Action, "since": applied.Since} {
			if s != "" {
				v.Set(k, s)
			}
		}
		for k, s := range extra {
			v[k] = s
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if offset > 0 {
		d.Prev = link("/staff/audit", url.Values{"offset": {strconv.Itoa(max(0, offset-PageLimit))}})
	}
	if more {
		d.Next = link("/staff/audit", url.Values{"offset": {strconv.Itoa(offset + PageLimit)}})
	}
	d.CSV = link("/api/v1/audit", url.Values{"format": {"csv"}})
	if d.Actors, err = a.actorOptions(r, d.Filter.Actor); err != nil {
		a.site.Error(w, r, err)
		return
	}
	if d.Actions, err = a.actionOptions(r, lang, d.Filter.Action); err != nil {
		a.site.Error(w, r, err)
		return
	}
	a.site.Render(w, r, a.page, http.StatusOK, d)
}

// When is t as the page shows it: the date in lang, the time to the
// second, in UTC.
func When(lang string, t time.Time) string {
	t = t.UTC()
	return i18n.Date(lang, t) + ", " + t.Format("15:04:05") + " UTC"
}

// row is e in lang.
func (a *API) row(lang string, e presession.AuditEntry) Row {
	row := Row{AuditEntry: e, When: When(lang, e.At), Who: name(&e), ActionText: a.ActionText(lang, e.Action), OK: e.Outcome == "ok"}
	b := a.site.Bundle
	switch k := "staff.audit.outcome." + e.Outcome; {
	case b.Has(k):
		row.Outcome = b.T(lang, k)
	default:
		row.Outcome = b.T(lang, "staff.audit.outcome.other", e.Outcome)
	}
	return row
}

// ActionText is action in plain words in lang; an action the catalogue
// has no words for reads as itself.
func (a *API) ActionText(lang, action string) string {
	if k := "staff.audit.action." + action; a.site.Bundle.Has(k) {
		return a.site.Bundle.T(lang, k)
	}
	return action
}

// actorOptions are the people and tokens seen, by name; a name two
// actors share names the actor too.
func (a *API) actorOptions(r *http.Request, selected string) ([]Option, error) {
	actors, err := a.log.Actors(r.Context())
	if err != nil {
		return nil, err
	}
	names := map[string]int{}
	for _, ac := range actors {
		names[ac.Name]++
	}
	var out []Option
	found := selected == ""
	for _, ac := range actors {
		label := ac.Name
		if names[ac.Name] > 1 || ac.Name == "" {
			label = strings.TrimSpace(ac.Name + " (" + string(ac.Actor) + ")")
		}
		sel := string(ac.Actor) == selected
		found = found || sel
		out = append(out, Option{Value: string(ac.Actor), Label: label, Selected: sel})
	}
	if !found { // an actor given in the URL that the audit has not seen
		out = append(out, Option{Value: selected, Label: selected, Selected: true})
	}
	return out, nil
}

// actionOptions are the families of the actions seen ("every statement
// action"), then each action, in plain words.
func (a *API) actionOptions(r *http.Request, lang, selected string) ([]Option, error) {
	actions, err := a.log.Actions(r.Context())
	if err != nil {
		return nil, err
	}
	var fams []string
	for _, ac := range actions {
		if f := family(ac); f != "" && !slices.Contains(fams, f) {
			fams = append(fams, f)
		}
	}
	b := a.site.Bundle
	var out []Option
	found := selected == ""
	add := func(value, label string) {
		sel := value == selected
		found = found || sel
		out = append(out, Option{Value: value, Label: label, Selected: sel})
	}
	for _, f := range fams {
		label := b.T(lang, "staff.audit.family", f)
		if k := "staff.audit.family." + f; b.Has(k) {
			label = b.T(lang, k)
		}
		add(f+".", label)
	}
	for _, ac := range actions {
		label := a.ActionText(lang, ac)
		if label != ac {
			label += " (" + ac + ")"
		}
		add(ac, label)
	}
	if !found {
		add(selected, selected)
	}
	return out, nil
}
