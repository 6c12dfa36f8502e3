package review

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/invite"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

// Paging of GET /api/v1/statements.
const (
	DefaultLimit = 100
	MaxLimit     = 500
)

// MaxSearch is the longest search (q) of GET /api/v1/statements and the
// dashboard, in characters: far more than any organisation's name.
const MaxSearch = 200

// maxJSONBody bounds the JSON bodies of the staff API.
const maxJSONBody = 64 << 10

// DefaultViewerValidity is the validity of a viewer link when the request
// names none (unless the cap on validity is shorter).
const DefaultViewerValidity = token.DefaultViewerValidity

// Statement is a statement as the staff API returns it: the stored record,
// whose reason and warnings stay as stored (English, or as staff typed
// it), with reason_text, the reason in the request's language, and
// warnings_text, every warning (the damage its media carry first) in the
// request's language.
type Statement struct {
	*presession.Statement
	// History is the stored history with each actor's name (WithNames).
	History      []HistoryEvent `json:"history,omitempty"`
	ReasonText   string         `json:"reason_text,omitempty"`
	WarningsText []string       `json:"warnings_text,omitempty"`
	// QualityText is the media's quality report in the request's
	// language: its summary, then each finding with its span.
	QualityText *QualityText `json:"quality_text,omitempty"`
}

// QualityText is a quality report as a reader of one language reads it.
type QualityText struct {
	Summary  string   `json:"summary"`
	Findings []string `json:"findings"`
}

// view returns s as the staff API shows it to a reader of lang.
func (h *Handler) view(lang string, s *presession.Statement) Statement {
	v := Statement{Statement: s, History: history(s, nil), ReasonText: h.site.Reason(lang, s), WarningsText: h.site.Warnings(lang, s)}
	if sum, findings := h.site.Quality(lang, s); sum != "" {
		v.QualityText = &QualityText{Summary: sum, Findings: append([]string{}, findings...)}
	}
	return v
}

// statement writes s, as the staff API shows it, with status 200: its
// history names who acted.
func (h *Handler) statement(w http.ResponseWriter, r *http.Request, s *presession.Statement) {
	v := h.view(h.site.Lang(r), s)
	v.History = history(s, h.resolve(r.Context(), s))
	h.site.JSON(w, http.StatusOK, v)
}

// ListResponse is the body of GET /api/v1/statements.
type ListResponse struct {
	Statements []Statement `json:"statements"`
	Total      int         `json:"total"`
	Offset     int         `json:"offset"`
	Limit      int         `json:"limit"`
}

func invalid(key, format string, args ...any) error {
	return presession.Errorf(presession.EINVALID, format, args...).Localize(key, args...)
}

// filter reads and validates the list filters of a query.
func (h *Handler) filter(q url.Values) (presession.Filter, error) {
	f := presession.Filter{Limit: DefaultLimit}
	if s := q.Get("session"); s != "" {
		if _, ok := h.site.Sessions.Find(s); !ok {
			return f, invalid("staff.err.session", "there is no session %q", s)
		}
		f.Session = s
	}
	if cc := strings.ToUpper(q.Get("country")); cc != "" {
		if !h.knownCountry(f.Session, cc) {
			return f, invalid("staff.err.country", "country %q is not under review in the selected session(s)", cc)
		}
		f.Country = cc
	}
	if st := q.Get("status"); st != "" {
		if !presession.Status(st).Valid() {
			return f, invalid("staff.err.status", "status %q is unknown; use one of uploading, uploaded, processing, ready, approved, rejected, failed", st)
		}
		f.Status = presession.Status(st)
	}
	if v := strings.TrimSpace(q.Get("q")); v != "" {
		if n := utf8.RuneCountInString(v); n > MaxSearch {
			return f, invalid("staff.err.search_long", "the search may be at most %d characters long; this one is %d", MaxSearch, n)
		}
		f.Search = v
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return f, invalid("staff.err.offset", "offset %q must be a whole number, 0 or more", v)
		}
		f.Offset = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return f, invalid("staff.err.limit", "limit %q must be a whole number from 1 to %d", v, MaxLimit)
		}
		f.Limit = n
	}
	return f, nil
}

func (h *Handler) knownCountry(session, cc string) bool {
	for i := range h.site.Sessions.List {
		s := &h.site.Sessions.List[i]
		if session != "" && s.ID != session {
			continue
		}
		if _, ok := s.Country(cc); ok {
			return true
		}
	}
	return false
}

// summary is a statement as listed: without history and per-segment media
// detail (GET /api/v1/statements/{id} has all of it).
func summary(s *presession.Statement) *presession.Statement {
	c := *s
	c.History = nil
	if s.Media != nil {
		m := *s.Media
		m.Renditions = nil
		c.Media = &m
	}
	return &c
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	f, err := h.filter(r.URL.Query())
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	list, total, err := h.cat.List(r.Context(), f)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	lang := h.site.Lang(r)
	out := make([]Statement, len(list))
	for i, s := range list {
		out[i] = h.view(lang, summary(s))
	}
	h.site.JSON(w, http.StatusOK, ListResponse{Statements: out, Total: total, Offset: f.Offset, Limit: f.Limit})
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	s, err := h.cat.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.statement(w, r, s)
}

// reasonBody is the body of reject (reason required) and reopen (optional).
type reasonBody struct {
	Reason string `json:"reason"`
}

// readReason decodes an optional {"reason": "..."} body; an empty body is
// no reason.
func readReason(r *http.Request) (string, error) {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxJSONBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", presession.Errorf(presession.ETOOLARGE, "the request body is larger than %d bytes", maxJSONBody).Localize("err.body_large", maxJSONBody)
		}
		return "", fmt.Errorf("read request body: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return "", nil
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	var b reasonBody
	if err := web.DecodeJSON(r, maxJSONBody, &b); err != nil {
		return "", err
	}
	return strings.TrimSpace(b.Reason), nil
}

func (h *Handler) approve(w http.ResponseWriter, r *http.Request) {
	s, err := h.cat.Transition(r.Context(), r.PathValue("id"), presession.StatusApproved, string(web.ActorFrom(r.Context())), "")
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.statement(w, r, s)
}

func (h *Handler) reject(w http.ResponseWriter, r *http.Request) {
	reason, err := readReason(r)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	if reason == "" {
		h.site.Error(w, r, invalid("staff.err.reason", "a reason is required to reject a statement: send {\"reason\": \"...\"}"))
		return
	}
	s, err := h.cat.Transition(r.Context(), r.PathValue("id"), presession.StatusRejected, string(web.ActorFrom(r.Context())), reason)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.statement(w, r, s)
}

// reopen moves an approved or rejected statement back to ready. Only those
// two may be reopened: ready is also where processing ends, and a
// statement still processing is not staff's to move.
func (h *Handler) reopen(w http.ResponseWriter, r *http.Request) {
	reason, err := readReason(r)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	id := r.PathValue("id")
	cur, err := h.cat.Get(r.Context(), id)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	if cur.Status != presession.StatusApproved && cur.Status != presession.StatusRejected {
		h.site.Error(w, r, presession.Errorf(presession.ECONFLICT, "only an approved or rejected statement can be reopened; this one is %s", cur.Status).
			Localize("staff.err.reopen", cur.Status))
		return
	}
	// approved and rejected can only become ready, so a change between
	// Get and Transition makes the Transition fail rather than misfire.
	s, err := h.cat.Transition(r.Context(), id, presession.StatusReady, string(web.ActorFrom(r.Context())), reason)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.statement(w, r, s)
}

// OrderBody is the body of PUT .../order.
type OrderBody struct {
	Statements []string `json:"statements"`
}

func (h *Handler) lookup(r *http.Request) (*presession.Session, presession.Country, error) {
	return h.site.Sessions.Lookup(r.PathValue("s"), r.PathValue("cc"))
}

func (h *Handler) getOrder(w http.ResponseWriter, r *http.Request) {
	s, c, err := h.lookup(r)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	o, err := h.cat.Order(r.Context(), s.ID, c.Code)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.site.JSON(w, http.StatusOK, o)
}

func (h *Handler) putOrder(w http.ResponseWriter, r *http.Request) {
	s, c, err := h.lookup(r)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	var b OrderBody
	if err := web.DecodeJSON(r, maxJSONBody, &b); err != nil {
		h.site.Error(w, r, err)
		return
	}
	if b.Statements == nil {
		h.site.Error(w, r, invalid("staff.err.order_body", "send the order as {\"statements\": [ids…]}"))
		return
	}
	if err := h.cat.SetOrder(r.Context(), s.ID, c.Code, b.Statements, string(web.ActorFrom(r.Context()))); err != nil {
		h.site.Error(w, r, err)
		return
	}
	o, err := h.cat.Order(r.Context(), s.ID, c.Code)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.site.JSON(w, http.StatusOK, o)
}

// InvitationRequest is the body of POST /api/v1/invitations.
type InvitationRequest struct {
	Session      string   `json:"session"`
	Country      string   `json:"country"`
	Organisation string   `json:"organisation"`
	Until        string   `json:"until,omitempty"`  // YYYY-MM-DD (end of that day, UTC) or RFC 3339
	Emails       []string `json:"emails,omitempty"` // the organisation's contact addresses
	Email        string   `json:"email,omitempty"`  // one more address, for clients that send one
	Language     string   `json:"language,omitempty"`
}

// InvitationResponse is the answer of POST /api/v1/invitations.
type InvitationResponse struct {
	UploadURL  string                 `json:"upload_url"`
	Token      string                 `json:"token"`
	Invitation *presession.Invitation `json:"invitation"`
}

func (h *Handler) invite(w http.ResponseWriter, r *http.Request) {
	var b InvitationRequest
	if err := web.DecodeJSON(r, maxJSONBody, &b); err != nil {
		h.site.Error(w, r, err)
		return
	}
	if b.Session == "" || b.Country == "" {
		h.site.Error(w, r, invalid("staff.err.session_country", "session and country are required"))
		return
	}
	var until time.Time
	if strings.TrimSpace(b.Until) != "" {
		var err error
		if until, err = token.EndOfDay(strings.TrimSpace(b.Until)); err != nil {
			h.site.Error(w, r, err)
			return
		}
	}
	emails := b.Emails
	if b.Email != "" {
		emails = append(emails, b.Email)
	}
	iss, err := h.inviter.Invite(r.Context(), invite.Request{Session: b.Session, Country: b.Country, Organisation: b.Organisation,
		Emails: emails, Language: b.Language, Until: until, By: web.ActorFrom(r.Context())})
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.site.JSON(w, http.StatusCreated, InvitationResponse{UploadURL: iss.UploadURL, Token: queryParam(iss.UploadURL, "token"), Invitation: iss.Invitation})
}

// ViewerLinkRequest is the body of POST /api/v1/viewer-links.
type ViewerLinkRequest struct {
	Session  string `json:"session"`
	Country  string `json:"country,omitempty"`
	ValidFor string `json:"valid_for,omitempty"` // Go duration, e.g. "720h"; default 720h; at most the issuer's MaxViewerValidity
	For      string `json:"for,omitempty"`       // whom the link is for (a delegation, a person), at most token.MaxForLength characters
}

// ViewerLinkResponse is the answer of POST /api/v1/viewer-links.
type ViewerLinkResponse struct {
	URL   string `json:"url"`
	Token string `json:"token"`
	ID    string `json:"id"` // the link's record, to list and revoke it
}

func (h *Handler) viewerLink(w http.ResponseWriter, r *http.Request) {
	var b ViewerLinkRequest
	if err := web.DecodeJSON(r, maxJSONBody, &b); err != nil {
		h.site.Error(w, r, err)
		return
	}
	if b.Session == "" {
		h.site.Error(w, r, invalid("staff.err.session_required", "session is required"))
		return
	}
	valid := h.issuer.DefaultValidity()
	if v := strings.TrimSpace(b.ValidFor); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			h.site.Error(w, r, invalid("staff.err.valid_for", "valid_for %q must be a positive duration such as 720h", v))
			return
		}
		valid = d
	}
	if err := token.CheckFor(b.For); err != nil {
		h.site.Error(w, r, err)
		return
	}
	link, v, err := h.issuer.ViewerLink(b.Session, b.Country, valid)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	// Recorded before it is handed out: a link that could not be
	// recorded could not be revoked.
	rec := v.Record(b.For, web.ActorFrom(r.Context()))
	if err := h.cat.CreateViewerLink(r.Context(), rec); err != nil {
		h.site.Error(w, r, err)
		return
	}
	web.AuditTarget(r.Context(), rec.ID, rec.For)
	h.site.JSON(w, http.StatusCreated, ViewerLinkResponse{URL: link, Token: queryParam(link, "key"), ID: rec.ID})
}

func queryParam(link, name string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	return u.Query().Get(name)
}
