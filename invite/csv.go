package invite

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/token"
)

// MaxRows bounds the invitations of one CSV file.
const MaxRows = 1000

// MaxFileBytes bounds the size of one CSV file.
const MaxFileBytes = 2 << 20

// Header is the header every CSV file starts with (its columns in any
// order, any case).
var Header = []string{"session", "country", "organisation", "email", "language", "until"}

// Row is one invitation of a CSV file, ready for Import.
type Row struct {
	Line    int // the file's line the row starts on (the header is line 1)
	Request Request
}

// Problem is one reason a file cannot be used: a line, a column (a
// header name; empty for the line or the file as a whole) and what is
// wrong, as a coded, translatable error.
type Problem struct {
	Line   int
	Column string
	Err    *presession.Error
}

// FileError rejects a CSV file: every problem found, each named by line
// and column. It unwraps to an EINVALID (or ETOOLARGE) error that sums
// it up, so an error writer that knows nothing of the problems still
// answers sensibly.
type FileError struct {
	Problems []Problem
	sum      *presession.Error
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.sum.Message)
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s", p)
	}
	return b.String()
}

func (e *FileError) Unwrap() error { return e.sum }

// String is "line 3, email: message" (English).
func (p Problem) String() string {
	if p.Column == "" {
		return fmt.Sprintf("line %d: %s", p.Line, p.Err.Message)
	}
	return fmt.Sprintf("line %d, %s: %s", p.Line, p.Column, p.Err.Message)
}

// fileProblem is a FileError for one problem of the file as a whole.
func fileProblem(line int, err *presession.Error) *FileError {
	sum := &presession.Error{Code: err.Code, Message: err.Message, Key: err.Key, Args: err.Args}
	return &FileError{Problems: []Problem{{Line: line, Err: err}}, sum: sum}
}

// ParseCSV reads a CSV file of invitations (UTF-8, a byte order mark
// tolerated; the Header first; at most MaxRows rows; several addresses in
// one cell separated by ";") and checks every row against the sessions as
// Invite would: a known session and country, an organisation, well-formed
// addresses, a known language, an until date where the country's deadline
// has passed, no row repeated. It is all or nothing: any problem rejects
// the file with a *FileError naming every problem found.
func (iv *Inviter) ParseCSV(data []byte) ([]Row, error) {
	if len(data) > MaxFileBytes {
		return nil, fileProblem(0, presession.Errorf(presession.ETOOLARGE, "the file is larger than %d bytes", MaxFileBytes).Localize("invite.csv.large", MaxFileBytes))
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		line := 1
		for len(data) > 0 {
			r, n := utf8.DecodeRune(data)
			if r == utf8.RuneError && n <= 1 {
				break
			}
			if r == '\n' {
				line++
			}
			data = data[n:]
		}
		return nil, fileProblem(line, presession.Errorf(presession.EINVALID, "the file is not UTF-8 text (line %d); save it as CSV UTF-8", line).Localize("invite.csv.utf8", line))
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fileProblem(1, presession.Errorf(presession.EINVALID, "the file is empty; its first line must be the header %s", strings.Join(Header, ",")).
			Localize("invite.csv.empty", strings.Join(Header, ",")))
	}
	if err != nil {
		return nil, syntaxProblem(err)
	}
	cols, perr := columns(head)
	if perr != nil {
		return nil, fileProblem(1, perr)
	}
	p := parser{iv: iv, cols: cols, now: iv.now(), seen: map[string]int{}}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxProblem(err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if p.n++; p.n > MaxRows {
			return nil, fileProblem(0, presession.Errorf(presession.ETOOLARGE, "the file has more than %d rows; split it", MaxRows).Localize("invite.csv.too_many", MaxRows))
		}
		line, _ := cr.FieldPos(0)
		p.row(line, rec)
	}
	if p.n == 0 {
		return nil, fileProblem(2, presession.Errorf(presession.EINVALID, "the file has a header but no rows").Localize("invite.csv.no_rows"))
	}
	if len(p.problems) > 0 {
		lines := map[int]bool{}
		for _, pr := range p.problems {
			lines[pr.Line] = true
		}
		return nil, &FileError{Problems: p.problems, sum: presession.Errorf(presession.EINVALID,
			"%d rows of the file cannot be used; nothing was created", len(lines)).Localize("invite.csv.rejected", len(lines))}
	}
	return p.rows, nil
}

func (iv *Inviter) now() time.Time {
	if iv.Issuer.Now != nil {
		return iv.Issuer.Now()
	}
	return time.Now()
}

func syntaxProblem(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fileProblem(pe.StartLine, presession.Errorf(presession.EINVALID, "line %d is not valid CSV: %v", pe.Line, pe.Err).Localize("invite.csv.syntax", pe.Line, pe.Err.Error()))
	}
	return fileProblem(0, presession.Errorf(presession.EINVALID, "the file cannot be read as CSV: %v", err).Localize("invite.csv.unreadable", err.Error()))
}

// columns maps each Header name to its index in head; an error when a
// name is missing, unknown or repeated.
func columns(head []string) (map[string]int, *presession.Error) {
	cols := map[string]int{}
	bad := len(head) != len(Header)
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := cols[h]; dup {
			bad = true
		}
		cols[h] = i
	}
	for _, h := range Header {
		if _, ok := cols[h]; !ok {
			bad = true
		}
	}
	if bad {
		want, got := strings.Join(Header, ","), strings.Join(head, ",")
		return nil, presession.Errorf(presession.EINVALID, "the first line must be the header %s; it is %q", want, got).Localize("invite.csv.header", want, got)
	}
	return cols, nil
}

// parser checks the rows of one file.
type parser struct {
	iv       *Inviter
	cols     map[string]int
	now      time.Time
	n        int
	rows     []Row
	problems []Problem
	seen     map[string]int // derived ID → line
}

func (p *parser) bad(line int, col string, err *presession.Error) {
	p.problems = append(p.problems, Problem{Line: line, Column: col, Err: err})
}

func required(col string) *presession.Error {
	return presession.Errorf(presession.EINVALID, "%s is required", col).Localize("invite.csv.required", col)
}

// row checks one record, noting every problem of it.
func (p *parser) row(line int, rec []string) {
	if len(rec) != len(Header) {
		p.bad(line, "", presession.Errorf(presession.EINVALID, "the line has %d fields; the header has %d", len(rec), len(Header)).Localize("invite.csv.fields", len(rec), len(Header)))
		return
	}
	get := func(col string) string { return strings.TrimSpace(rec[p.cols[col]]) }
	before := len(p.problems)
	req := Request{Session: get("session"), Country: strings.ToUpper(get("country")), Organisation: get("organisation")}

	var sess *presession.Session
	var country presession.Country
	switch {
	case req.Session == "":
		p.bad(line, "session", required("session"))
	default:
		s, ok := p.iv.Issuer.Sessions.Find(req.Session)
		if !ok {
			p.bad(line, "session", presession.Errorf(presession.ENOTFOUND, "there is no session %q", req.Session).Localize("err.session_unknown", req.Session))
			break
		}
		sess = s
	}
	switch {
	case req.Country == "":
		p.bad(line, "country", required("country"))
	case sess != nil:
		c, ok := sess.Country(req.Country)
		if !ok {
			p.bad(line, "country", presession.Errorf(presession.ENOTFOUND, "country %q is not under review in %s", req.Country, sess.Title).
				Localize("err.country_not_under_review", req.Country, sess.Title))
			break
		}
		country = c
	}
	switch {
	case req.Organisation == "":
		p.bad(line, "organisation", presession.Errorf(presession.EINVALID, "the organisation's name is required").Localize("invite.org_required"))
	case utf8.RuneCountInString(req.Organisation) > MaxOrganisation:
		p.bad(line, "organisation", presession.Errorf(presession.EINVALID, "the organisation's name is longer than %d characters", MaxOrganisation).Localize("invite.org_long", MaxOrganisation))
	}

	var addrs []string
	for _, a := range strings.Split(get("email"), ";") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		p.bad(line, "email", required("email"))
	} else if emails, err := Emails(addrs); err != nil {
		p.bad(line, "email", asError(err))
	} else {
		req.Emails = emails
	}

	if lang, err := Language(sess, get("language")); err != nil {
		p.bad(line, "language", asError(err))
	} else {
		req.Language = lang
	}

	if u := get("until"); u != "" {
		t, err := token.EndOfDay(u)
		switch {
		case err != nil:
			p.bad(line, "until", asError(err))
		case p.now.After(t):
			p.bad(line, "until", presession.Errorf(presession.EINVALID, "the extension date %s is already past; give a date in the future",
				t.UTC().Format("2006-01-02")).Localize("invite.until_past", t.UTC()))
		default:
			req.Until = t
		}
	} else if sess != nil && country.Code != "" {
		if d := sess.Deadline(country); p.now.After(d) {
			p.bad(line, "until", presession.Errorf(presession.EFORBIDDEN, "%s's upload deadline (%s) has passed; grant an extension with an until date",
				country.Name, d.UTC().Format("2 January 2006")).Localize("invite.closed", country, d.UTC()))
		}
	}

	if len(p.problems) > before {
		return
	}
	req.ID = DerivedID(req.Session, req.Country, req.Organisation, req.Emails)
	if first, dup := p.seen[req.ID]; dup {
		p.bad(line, "organisation", presession.Errorf(presession.EINVALID, "the same invitation as line %d (session, country, organisation and addresses)", first).
			Localize("invite.csv.duplicate", first))
		return
	}
	p.seen[req.ID] = line
	p.rows = append(p.rows, Row{Line: line, Request: req})
}

// asError returns err's *presession.Error (every error of Emails,
// Language and EndOfDay is one).
func asError(err error) *presession.Error {
	var e *presession.Error
	if errors.As(err, &e) {
		return e
	}
	return &presession.Error{Code: presession.EINVALID, Message: err.Error()}
}
