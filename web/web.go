// Package web holds what every HTTP surface of the service shares: the one
// map from domain error codes to HTTP statuses, JSON responses, the
// extraction of staff, invitation and viewer credentials, the page layout
// (language switch, stylesheet) and the landing and health pages. Feature
// packages (upload, staff, playlist) build their routes on a *Site.
package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
)

// Site is the shared part of every handler.
type Site struct {
	Sessions *presession.Sessions
	Bundle   *i18n.Bundle
	Auth     *Auth
	Log      *slog.Logger
	// MediaOrigin is the origin browsers are redirected to for media
	// (the S3 public endpoint's, scheme://host[:port]), which the pages'
	// Content-Security-Policy allows; "" when media come from the site.
	MediaOrigin string
	// Audit records the actions of staff routes (Staff); nil records
	// nothing.
	Audit Auditor
	// Programme gives the programme the home page and the session watch
	// index show; nil shows none.
	Programme Programmes
	layout    *layout

	routesMu sync.Mutex
	routes   []Route // the staff routes registered (Register)
}

// NewSite returns a Site; it parses the shared layout.
func NewSite(sessions *presession.Sessions, bundle *i18n.Bundle, auth *Auth, log *slog.Logger) (*Site, error) {
	l, err := parseLayout()
	if err != nil {
		return nil, err
	}
	return &Site{Sessions: sessions, Bundle: bundle, Auth: auth, Log: log, layout: l}, nil
}

// statuses is the one map from error codes to HTTP statuses.
var statuses = map[string]int{
	presession.ENOTFOUND:     http.StatusNotFound,
	presession.EINVALID:      http.StatusBadRequest,
	presession.ECONFLICT:     http.StatusConflict,
	presession.EUNAUTHORIZED: http.StatusUnauthorized,
	presession.EFORBIDDEN:    http.StatusForbidden,
	presession.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	presession.EGONE:         http.StatusGone,
	presession.ETOOMANY:      http.StatusTooManyRequests,
	presession.ETIMEOUT:      http.StatusRequestTimeout,
	presession.EINTERNAL:     http.StatusInternalServerError,
}

// Status returns the HTTP status for err.
func Status(err error) int {
	if s, ok := statuses[presession.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON shape of every API error.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Message returns err's message for a person reading lang: the catalogue's
// translation when the error names one, else its own message. Arguments
// that name something the catalogue or CLDR can say in lang read in lang
// too: a presession.Status as its status.* label, a presession.Country as
// its name (presession.CountryName), a time.Time as a date and time with
// its zone stated (i18n.DateTime), an i18n.Size in the language's units,
// and a nested *presession.Error as its own message.
func (s *Site) Message(lang string, err error) string {
	var e *presession.Error
	if errors.As(err, &e) && e.Key != "" && s.Bundle != nil && s.Bundle.Has(e.Key) {
		return s.Bundle.T(lang, e.Key, s.localArgs(lang, e.Args)...)
	}
	return presession.ErrorMessage(err)
}

// Reason returns why st failed or was rejected, for a person reading
// lang: the catalogue message its ReasonKey names, with its ReasonArgs,
// when the catalogue has it and the arguments fit; otherwise the stored
// Reason, which is English (or, for a staff rejection, as staff typed it).
func (s *Site) Reason(lang string, st *presession.Statement) string {
	if st.Reason == "" || st.ReasonKey == "" || s.Bundle == nil {
		return st.Reason
	}
	if out, ok := s.Bundle.Message(lang, st.ReasonKey, st.ReasonArgs); ok {
		return out
	}
	return st.Reason
}

// Warnings lists what staff should know about st before approving it,
// for a person reading lang: the damage its media carry, in the catalogue
// message its WarningKey names when the catalogue has it and the
// arguments fit (else in the stored English), then the warnings stored
// with it, which read as stored, then each caption track whose
// organisation's file could not be used, with why (its DraftRefusedKey,
// else the stored English), while staff have not changed the track.
func (s *Site) Warnings(lang string, st *presession.Statement) []string {
	var out []string
	if st.Media != nil && st.Media.Damage != nil {
		d := st.Media.Damage
		text := d.Warning
		if s.Bundle != nil && d.WarningKey != "" {
			if t, ok := s.Bundle.Message(lang, d.WarningKey, d.WarningArgs); ok {
				text = t
			}
		}
		if text != "" {
			out = append(out, text)
		}
	}
	out = append(out, st.Warnings...)
	for _, c := range st.Captions {
		if c.DraftRefused == "" || !c.OpenToDraft() {
			continue
		}
		if s.Bundle == nil {
			out = append(out, fmt.Sprintf(draftWarning, c.Name, c.DraftRefused))
			continue
		}
		why := c.DraftRefused
		if t, ok := s.Bundle.Message(lang, c.DraftRefusedKey, c.DraftRefusedArgs); ok {
			why = t
		}
		out = append(out, s.Bundle.T(lang, "warning.caption_draft", c.Name, why))
	}
	return out
}

// draftWarning is the English message of warning.caption_draft.
const draftWarning = "the organisation's captions file in %s was not used (%s); the track stays a placeholder until captions are uploaded"

// Quality returns the quality report of st's media in lang: its summary
// ("looks fine", "needs attention (3)") and each finding's sentence with
// its span; empty when the media carry no report.
func (s *Site) Quality(lang string, st *presession.Statement) (summary string, findings []string) {
	if st.Media == nil || st.Media.Quality == nil {
		return "", nil
	}
	q := st.Media.Quality
	say := func(text, key string, args []string) string {
		if s.Bundle != nil && key != "" {
			if t, ok := s.Bundle.Message(lang, key, args); ok {
				return t
			}
		}
		return text
	}
	summary = say(q.Summary, q.SummaryKey, q.SummaryArgs)
	for _, f := range q.Findings {
		findings = append(findings, presession.ClockDuration(f.Start)+"–"+presession.ClockDuration(f.End)+": "+say(f.Text, f.Key, f.Args))
	}
	return summary, findings
}

func (s *Site) localArgs(lang string, args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case presession.Status:
			out[i] = s.Bundle.T(lang, "status."+string(v))
		case presession.Country:
			out[i] = presession.CountryName(v.Code, lang)
		case time.Time:
			out[i] = i18n.DateTime(lang, v)
		case i18n.Size:
			out[i] = i18n.Bytes(lang, int64(v))
		case *presession.Error:
			out[i] = s.Message(lang, v)
		default:
			out[i] = a
		}
	}
	return out
}

// Error writes err as JSON with its status, in the request's language. An
// internal error is logged once, with its detail, and answered generically.
func (s *Site) Error(w http.ResponseWriter, r *http.Request, err error) {
	code := presession.ErrorCode(err)
	status := Status(err)
	if status >= 500 {
		if errors.Is(err, context.Canceled) {
			return
		}
		s.Log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var body ErrorBody
	body.Error.Code = code
	body.Error.Message = s.Message(s.Lang(r), err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="presession"`)
	}
	SetRetryAfter(w, err)
	s.JSON(w, status, body)
}

// JSON writes v with status. The body is never sniffed as anything but
// JSON, and <, > and & are escaped in it, so that a client-supplied string
// inside (a title, a file name) cannot turn into markup even where a
// browser is led to render the response.
func (s *Site) JSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// DecodeJSON reads a JSON request body of at most max bytes into v,
// refusing unknown fields, with an EINVALID error a client can act on.
func DecodeJSON(r *http.Request, max int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, max))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var coded *presession.Error // from the body itself (Bodies: too slow)
		switch {
		case errors.As(err, &coded):
			return err
		case errors.As(err, &mbe):
			return presession.Errorf(presession.ETOOLARGE, "the request body is larger than %d bytes", max).Localize("err.body_large", max)
		}
		return presession.Errorf(presession.EINVALID, "the request body is not the expected JSON: %v", err).Localize("err.body_json", err.Error())
	}
	return nil
}

// Lang returns the language of the request.
func (s *Site) Lang(r *http.Request) string {
	if s.Bundle == nil {
		return i18n.Languages[0]
	}
	return s.Bundle.Match(r)
}
