package presession

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// Country is a State under Review in a session.
type Country struct {
	Code string `json:"code"` // ISO 3166-1 alpha-2, upper case
	Name string `json:"name"`
	// UploadDeadline overrides the session's deadline for this country.
	UploadDeadline *time.Time `json:"upload_deadline,omitempty"`
	// Slot is the country's place in the session's programme, if it has
	// one (staff may change it: see Programme).
	Slot *Slot `json:"slot,omitempty"`
}

// Session is one Pre-session: a set of countries reviewed at one UPR
// Working Group session, with one upload deadline.
type Session struct {
	ID                  string    `json:"id"`
	Title               string    `json:"title"`
	Review              string    `json:"review"`
	UploadDeadline      time.Time `json:"upload_deadline"`
	MaxStatementSeconds int       `json:"max_statement_seconds"`
	Languages           []string  `json:"languages"`
	Countries           []Country `json:"countries"`
}

// Country returns the session's country with the code (any case).
func (s *Session) Country(code string) (Country, bool) {
	code = strings.ToUpper(code)
	for _, c := range s.Countries {
		if c.Code == code {
			return c, true
		}
	}
	return Country{}, false
}

// Deadline returns the upload deadline of the country: its own, or the
// session's.
func (s *Session) Deadline(c Country) time.Time {
	if c.UploadDeadline != nil {
		return *c.UploadDeadline
	}
	return s.UploadDeadline
}

// HasLanguage reports whether lang is one of the session's languages.
func (s *Session) HasLanguage(lang string) bool {
	return slices.Contains(s.Languages, lang)
}

// Sessions is the validated set of sessions the service runs.
type Sessions struct {
	List []Session `json:"sessions"`
}

// Find returns the session with the id.
func (ss *Sessions) Find(id string) (*Session, bool) {
	for i := range ss.List {
		if ss.List[i].ID == id {
			return &ss.List[i], true
		}
	}
	return nil, false
}

// Lookup returns the session and country, or an ENOTFOUND error naming
// which of the two is unknown.
func (ss *Sessions) Lookup(session, country string) (*Session, Country, error) {
	s, ok := ss.Find(session)
	if !ok {
		return nil, Country{}, Errorf(ENOTFOUND, "there is no session %q", session).Localize("err.session_unknown", session)
	}
	c, ok := s.Country(country)
	if !ok {
		return nil, Country{}, Errorf(ENOTFOUND, "country %q is not under review in %s", strings.ToUpper(country), s.Title).
			Localize("err.country_not_under_review", strings.ToUpper(country), s.Title)
	}
	return s, c, nil
}

// ParseSessions reads and validates a sessions file. Errors name the
// session, country or field at fault.
func ParseSessions(r io.Reader) (*Sessions, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var ss Sessions
	if err := dec.Decode(&ss); err != nil {
		var de dateError
		if errors.As(err, &de) {
			return nil, de
		}
		return nil, fmt.Errorf("sessions file is not valid JSON of the documented shape: %w", err)
	}
	if err := ss.Validate(); err != nil {
		return nil, err
	}
	return &ss, nil
}

// Validate checks ids, country codes, languages and limits, and normalises
// country codes to upper case.
func (ss *Sessions) Validate() error {
	if len(ss.List) == 0 {
		return fmt.Errorf("sessions file lists no sessions")
	}
	ids := map[string]bool{}
	for i := range ss.List {
		s := &ss.List[i]
		where := fmt.Sprintf("session %d (%q)", i+1, s.ID)
		if s.ID == "" || strings.ContainsAny(s.ID, "/?#% ") {
			return fmt.Errorf("%s: id must be non-empty, without spaces or /?#%%", where)
		}
		if ids[s.ID] {
			return fmt.Errorf("%s: duplicate session id", where)
		}
		ids[s.ID] = true
		if s.Title == "" {
			return fmt.Errorf("%s: title is missing", where)
		}
		if s.UploadDeadline.IsZero() {
			return fmt.Errorf("%s: upload_deadline is missing (RFC 3339, e.g. 2020-01-31T23:59:59Z)", where)
		}
		if s.MaxStatementSeconds <= 0 {
			return fmt.Errorf("%s: max_statement_seconds must be a positive number of seconds", where)
		}
		if len(s.Languages) == 0 {
			return fmt.Errorf("%s: languages is empty; list at least one, e.g. [\"en\"]", where)
		}
		for _, l := range s.Languages {
			tag, err := language.Parse(l)
			if err != nil || tag.String() != l {
				return fmt.Errorf("%s: language %q is not a BCP 47 code such as en, fr or es", where, l)
			}
		}
		if len(s.Countries) == 0 {
			return fmt.Errorf("%s: countries is empty", where)
		}
		codes := map[string]bool{}
		for j := range s.Countries {
			c := &s.Countries[j]
			c.Code = strings.ToUpper(c.Code)
			if !IsCountryCode(c.Code) {
				return fmt.Errorf("%s: country %q is not an ISO 3166-1 alpha-2 code", where, c.Code)
			}
			if codes[c.Code] {
				return fmt.Errorf("%s: country %s is listed twice", where, c.Code)
			}
			codes[c.Code] = true
			if c.Name == "" {
				c.Name = CountryName(c.Code, "en")
			}
		}
		if err := CheckProgramme(where, s.Programme(nil)); err != nil {
			return err
		}
	}
	return nil
}

// UnmarshalJSON gives a precise error for an unparsable date.
func (s *Session) UnmarshalJSON(b []byte) error {
	type plain Session
	aux := struct {
		*plain
		UploadDeadline string `json:"upload_deadline"`
	}{plain: (*plain)(s)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if aux.UploadDeadline != "" {
		t, err := time.Parse(time.RFC3339, aux.UploadDeadline)
		if err != nil {
			return dateError{fmt.Sprintf("session %q: upload_deadline %q is not an RFC 3339 date such as 2020-01-31T23:59:59Z", s.ID, aux.UploadDeadline)}
		}
		s.UploadDeadline = t
	}
	return nil
}

// UnmarshalJSON gives a precise error for an unparsable date.
func (c *Country) UnmarshalJSON(b []byte) error {
	type plain Country
	aux := struct {
		*plain
		UploadDeadline string          `json:"upload_deadline"`
		Slot           json.RawMessage `json:"slot"`
	}{plain: (*plain)(c)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if len(aux.Slot) > 0 && string(aux.Slot) != "null" {
		slot, err := parseSlot(c.Code, aux.Slot)
		if err != nil {
			return err
		}
		c.Slot = slot
	}
	if aux.UploadDeadline != "" {
		t, err := time.Parse(time.RFC3339, aux.UploadDeadline)
		if err != nil {
			return dateError{fmt.Sprintf("country %q: upload_deadline %q is not an RFC 3339 date such as 2020-05-20T23:59:59Z", c.Code, aux.UploadDeadline)}
		}
		c.UploadDeadline = &t
	}
	return nil
}

// dateError is an unparsable date in the sessions file.
type dateError struct{ msg string }

func (e dateError) Error() string { return e.msg }

// IsCountryCode reports whether code is an ISO 3166-1 alpha-2 country code
// (upper case).
func IsCountryCode(code string) bool {
	if len(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' {
		return false
	}
	r, err := language.ParseRegion(code)
	return err == nil && r.IsCountry() && r.String() == code
}

// Builtin returns Pre-session 36 as announced in the call: 14 countries,
// applications by 31 January 2020, extended to 20 May 2020 for Bulgaria,
// Croatia, Maldives and Marshall Islands.
func Builtin() *Sessions {
	ext := time.Date(2020, 5, 20, 23, 59, 59, 0, time.UTC)
	c := func(code, name string, extended bool) Country {
		cc := Country{Code: code, Name: name}
		if extended {
			d := ext
			cc.UploadDeadline = &d
		}
		return cc
	}
	return &Sessions{List: []Session{{
		ID:                  "upr36",
		Title:               "UPR Pre-session 36",
		Review:              "36th UPR Working Group session (6 to 9 October 2020)",
		UploadDeadline:      time.Date(2020, 1, 31, 23, 59, 59, 0, time.UTC),
		MaxStatementSeconds: 600,
		Languages:           []string{"en", "fr", "es"},
		Countries: []Country{
			c("AD", "Andorra", false),
			c("BY", "Belarus", false),
			c("BG", "Bulgaria", true),
			c("HR", "Croatia", true),
			c("HN", "Honduras", false),
			c("JM", "Jamaica", false),
			c("LR", "Liberia", false),
			c("LY", "Libya", false),
			c("MW", "Malawi", false),
			c("MV", "Maldives", true),
			c("MH", "Marshall Islands", true),
			c("MN", "Mongolia", false),
			c("PA", "Panama", false),
			c("US", "United States", false),
		},
	}}}
}
