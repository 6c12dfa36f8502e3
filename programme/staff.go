package programme

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
)

// StaffSlot is a country of a session as staff see it in the programme:
// its slot, what its premiere shows, who watches it.
type StaffSlot struct {
	Session      string     `json:"session"`
	Code         string     `json:"country"`
	Name         string     `json:"name"`
	Start        *time.Time `json:"start,omitempty"`
	End          *time.Time `json:"end,omitempty"`
	Minutes      int        `json:"minutes,omitempty"`
	QuestionsURL string     `json:"questions_url,omitempty"`
	Note         string     `json:"note,omitempty"`
	// Started is true once the slot has begun: it can no longer move.
	Started bool    `json:"started"`
	Playing Playing `json:"playing"`
	Viewers int     `json:"viewers"` // distinct viewer tokens in the last minute
	Count   int     `json:"approved"`
	Seconds float64 `json:"approved_seconds"`

	// The page's form: the start in Geneva time for datetime-local, and
	// the refusal of the last change, in the page's language.
	StartInput string `json:"-"`
	Error      string `json:"-"`
	Saved      bool   `json:"-"`
}

// GenevaStart is the slot's start in Geneva time.
func (s StaffSlot) GenevaStart() time.Time {
	if s.Start == nil {
		return time.Time{}
	}
	return s.Start.In(presession.Geneva)
}

type staffSession struct {
	ID, Title string
	Slots     []StaffSlot
}

type staffData struct {
	Sessions []staffSession
	Now      time.Time // in Geneva
	// Error is a refusal the page shows at the top when it concerns no
	// one row (a session that does not exist, say).
	Error string
}

// staffSlots lists every country of sess, by slot start (those without a
// slot last, by name), with what is on and the viewers.
func (h *Handler) staffSlots(ctx context.Context, sess *presession.Session, lang string) ([]StaffSlot, error) {
	list, _, err := h.store.Programme(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	codes := make([]string, 0, len(sess.Countries))
	var out []StaffSlot
	seen := map[string]bool{}
	now := h.now()
	add := func(c presession.Country, slot *presession.Slot) error {
		s := StaffSlot{Session: sess.ID, Code: c.Code, Name: presession.CountryName(c.Code, lang), Playing: Playing{State: "none"}}
		if slot != nil {
			start, end := slot.Start, slot.End()
			s.Start, s.End, s.Minutes, s.QuestionsURL, s.Note = &start, &end, slot.Minutes, slot.QuestionsURL, slot.Note
			s.Started = !now.Before(start)
			s.StartInput = start.In(presession.Geneva).Format("2006-01-02T15:04")
			if h.onAir != nil {
				p, err := h.onAir.OnAir(ctx, sess.ID, c.Code)
				if err != nil {
					return err
				}
				s.Playing = p
			}
		}
		if h.counts != nil {
			var err error
			if s.Count, s.Seconds, err = h.counts.Approved(ctx, sess.ID, c.Code); err != nil {
				return err
			}
		}
		out = append(out, s)
		codes = append(codes, c.Code)
		seen[c.Code] = true
		return nil
	}
	for _, e := range list {
		slot := e.Slot
		if err := add(e.Country, &slot); err != nil {
			return nil, err
		}
	}
	var rest []presession.Country
	for _, c := range sess.Countries {
		if !seen[c.Code] {
			rest = append(rest, c)
		}
	}
	for _, c := range sortedByName(rest, lang) {
		if err := add(c, nil); err != nil {
			return nil, err
		}
	}
	if h.audience != nil {
		counts, err := h.audience.Count(ctx, sess.ID, codes)
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i].Viewers = counts[out[i].Code]
		}
	}
	return out, nil
}

func sortedByName(cs []presession.Country, lang string) []presession.Country {
	out := append([]presession.Country(nil), cs...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && presession.CountryName(out[j].Code, lang) < presession.CountryName(out[j-1].Code, lang); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// staffPage serves GET /staff/programme.
func (h *Handler) staffPage(w http.ResponseWriter, r *http.Request) {
	h.renderStaff(w, r, http.StatusOK, "", "", "", nil)
}

// renderStaff renders the staff programme page; the row of session/cc
// shows err (its refusal) or, when err is nil and cc is set, that it was
// saved.
func (h *Handler) renderStaff(w http.ResponseWriter, r *http.Request, status int, session, cc, top string, err error) {
	lang := h.site.Lang(r)
	d := staffData{Now: h.now().In(presession.Geneva), Error: top}
	saved := r.URL.Query().Get("saved")
	for i := range h.site.Sessions.List {
		sess := &h.site.Sessions.List[i]
		rows, lerr := h.staffSlots(r.Context(), sess, lang)
		if lerr != nil {
			h.site.Error(w, r, lerr)
			return
		}
		for j := range rows {
			if rows[j].Session == session && strings.EqualFold(rows[j].Code, cc) && err != nil {
				rows[j].Error = h.site.Message(lang, err)
			}
			if err == nil && saved != "" && saved == sess.ID+"/"+rows[j].Code {
				rows[j].Saved = true
			}
		}
		d.Sessions = append(d.Sessions, staffSession{ID: sess.ID, Title: sess.Title, Slots: rows})
	}
	h.site.Render(w, r, h.page, status, d)
}

// slotChange is a change staff ask for: a new slot, or a delay of the
// current one.
type slotChange struct {
	Slot  *presession.Slot
	Delay time.Duration // > 0: move the current slot later by this much
}

// formChange reads the programme page's form: op "delay" with delay
// (minutes), else start (datetime-local, Geneva time), minutes,
// questions_url and note.
func formChange(r *http.Request) (slotChange, error) {
	if r.PostFormValue("op") == "delay" {
		n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("delay")))
		if err != nil || n < 1 || n > presession.MaxSlotMinutes {
			return slotChange{}, presession.Errorf(presession.EINVALID, "a delay is a whole number of minutes from 1 to %d", presession.MaxSlotMinutes).
				Localize("err.slot_delay", presession.MaxSlotMinutes)
		}
		return slotChange{Delay: time.Duration(n) * time.Minute}, nil
	}
	start, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(r.PostFormValue("start")), presession.Geneva)
	if err != nil {
		return slotChange{}, presession.Errorf(presession.EINVALID, "the start %q is not a date and time such as 2026-12-10T09:00", r.PostFormValue("start")).
			Localize("err.slot_form_start", r.PostFormValue("start"))
	}
	minutes, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("minutes")))
	if err != nil {
		minutes = 0 // Slot.Check names the bad length
	}
	return slotChange{Slot: &presession.Slot{Start: start, Minutes: minutes,
		QuestionsURL: strings.TrimSpace(r.PostFormValue("questions_url")), Note: strings.TrimSpace(r.PostFormValue("note"))}}, nil
}

// apply makes a change to the slot of a country, as staff decided.
func (h *Handler) apply(ctx context.Context, session, cc string, ch slotChange) (*presession.Slot, error) {
	sess, c, err := h.site.Sessions.Lookup(session, cc)
	if err != nil {
		return nil, err
	}
	web.AuditTarget(ctx, sess.ID+"/"+c.Code, "")
	slot := ch.Slot
	if ch.Delay > 0 {
		cur, err := h.store.Slot(ctx, sess.ID, c.Code)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			return nil, presession.Errorf(presession.ENOTFOUND, "%s has no slot in the programme", c.Name).Localize("err.programme_no_slot", c)
		}
		moved := *cur
		moved.Start = cur.Start.Add(ch.Delay)
		if !h.now().Before(cur.Start) {
			return nil, presession.Errorf(presession.ECONFLICT, "the slot of %s has started; it can no longer move", c.Name).Localize("err.slot_started", c.Name)
		}
		slot = &moved
		web.AuditTarget(ctx, sess.ID+"/"+c.Code, "delay "+ch.Delay.String())
	}
	if _, err := h.store.SetSlot(ctx, sess.ID, c.Code, slot, web.ActorFrom(ctx)); err != nil {
		return nil, err
	}
	return h.store.Slot(ctx, sess.ID, c.Code)
}

// postSlot serves POST /staff/programme/{s}/{cc}, the page's forms: on
// success back to the page; a refusal is shown at the country's row, in
// the request's language, with the error's status.
func (h *Handler) postSlot(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	session, cc := r.PathValue("s"), r.PathValue("cc")
	ch, err := formChange(r)
	if err == nil {
		_, err = h.apply(r.Context(), session, cc, ch)
	}
	if err != nil {
		if presession.ErrorCode(err) == presession.EINTERNAL {
			h.site.Error(w, r, err)
			return
		}
		top := ""
		if _, _, lerr := h.site.Sessions.Lookup(session, cc); lerr != nil {
			top = h.site.Message(h.site.Lang(r), lerr)
		}
		h.renderStaff(w, r, web.Status(err), session, cc, top, err)
		return
	}
	q := url.Values{"saved": {session + "/" + strings.ToUpper(cc)}}
	http.Redirect(w, r, "/staff/programme?"+q.Encode()+"#slot-"+url.PathEscape(session)+"-"+strings.ToUpper(cc), http.StatusSeeOther)
}

// putSlot serves PUT /api/v1/sessions/{s}/countries/{cc}/slot: a JSON
// slot {"start" (RFC 3339 with offset), "minutes", "questions_url",
// "note"}, or {"delay_minutes": n} to move the current one later.
func (h *Handler) putSlot(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Start        string `json:"start"`
		Minutes      int    `json:"minutes"`
		QuestionsURL string `json:"questions_url"`
		Note         string `json:"note"`
		DelayMinutes int    `json:"delay_minutes"`
	}
	if err := web.DecodeJSON(r, 64<<10, &body); err != nil {
		h.site.Error(w, r, err)
		return
	}
	var ch slotChange
	if body.DelayMinutes != 0 {
		if body.DelayMinutes < 1 || body.DelayMinutes > presession.MaxSlotMinutes {
			h.site.Error(w, r, presession.Errorf(presession.EINVALID, "a delay is a whole number of minutes from 1 to %d", presession.MaxSlotMinutes).
				Localize("err.slot_delay", presession.MaxSlotMinutes))
			return
		}
		ch.Delay = time.Duration(body.DelayMinutes) * time.Minute
	} else {
		start, err := time.Parse(time.RFC3339, body.Start)
		if err != nil {
			h.site.Error(w, r, presession.Errorf(presession.EINVALID, "the start %q is not an RFC 3339 time with its offset, such as 2020-10-06T09:00:00+02:00", body.Start).
				Localize("err.slot_api_start", body.Start))
			return
		}
		ch.Slot = &presession.Slot{Start: start, Minutes: body.Minutes, QuestionsURL: body.QuestionsURL, Note: body.Note}
	}
	if _, err := h.apply(r.Context(), r.PathValue("s"), r.PathValue("cc"), ch); err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.writeCountry(w, r, r.PathValue("s"), r.PathValue("cc"))
}

// writeCountry answers with the country's row of the staff programme.
func (h *Handler) writeCountry(w http.ResponseWriter, r *http.Request, session, cc string) {
	sess, c, err := h.site.Sessions.Lookup(session, cc)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	rows, err := h.staffSlots(r.Context(), sess, h.site.Lang(r))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	for _, row := range rows {
		if row.Code == c.Code {
			h.site.JSON(w, http.StatusOK, row)
			return
		}
	}
}

// getProgramme serves GET /api/v1/sessions/{s}/programme: every country
// of the session with its slot, what is on and the viewers (the page's
// script refreshes from it).
func (h *Handler) getProgramme(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.site.Sessions.Find(r.PathValue("s"))
	if !ok {
		h.site.Error(w, r, presession.Errorf(presession.ENOTFOUND, "there is no session %q", r.PathValue("s")).Localize("err.session_unknown", r.PathValue("s")))
		return
	}
	rows, err := h.staffSlots(r.Context(), sess, h.site.Lang(r))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.site.JSON(w, http.StatusOK, map[string]any{"session": sess.ID, "now": h.now().UTC(), "countries": rows})
}
