package audit

import (
	"embed"
	"encoding/csv"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
)

//go:embed templates
var files embed.FS

// API serves the audit to staff of every role (PermRead: observers, who
// may be the auditors, read it too):
//
//	GET /api/v1/audit?actor=&action=&since=&limit=&offset=   {"entries": [...], "more": bool}, newest first
//	GET /api/v1/audit?...&format=csv (or Accept: text/csv)   the same entries as CSV
//	GET /staff/audit?actor=&action=&since=&offset=           the audit page
type API struct {
	site *web.Site
	log  *Log
	page *web.Page
}

// NewAPI returns the audit's routes on log; it parses the page template.
func NewAPI(site *web.Site, log *Log) (*API, error) {
	p, err := site.ParsePage(files, "templates/audit.html")
	if err != nil {
		return nil, err
	}
	return &API{site: site, log: log, page: p}, nil
}

// Routes are the audit's staff routes with the permission each needs;
// reads are not audited themselves.
func (a *API) Routes() []web.Route {
	r := web.StaffRoute
	return []web.Route{
		r("GET /api/v1/audit", presession.PermRead, "", a.list),
	}
}

// Register adds the routes and the page to mux. The page checks its
// caller itself, like the dashboard: a browser that is not signed in is
// sent to the sign-in form rather than answered with JSON.
func (a *API) Register(mux *http.ServeMux) {
	a.site.Register(mux, a.Routes())
	mux.HandleFunc("GET /staff/audit", a.show)
}

// DefaultLimit and MaxLimit bound a JSON answer's entries; a CSV export
// has every match unless limit says otherwise.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// ListResponse is the JSON body of GET /api/v1/audit.
type ListResponse struct {
	Entries []presession.AuditEntry `json:"entries"`
	// More says whether older matches follow: ask again with offset
	// increased by the number of entries.
	More bool `json:"more"`
}

// query is a parsed audit query.
type query struct {
	f      presession.AuditFilter
	offset int
	csv    bool
}

// parseQuery reads the audit query of r. defLimit is the limit when none
// is given.
func parseQuery(r *http.Request, defLimit int) (query, error) {
	q := r.URL.Query()
	var out query
	var err error
	if out.f, err = parseFilter(q); err != nil {
		return out, err
	}
	switch f := q.Get("format"); f {
	case "csv":
		out.csv = true
	case "json":
	case "":
		out.csv = acceptsCSV(r.Header.Get("Accept"))
	default:
		return out, presession.Errorf(presession.EINVALID, "format %q is not json or csv", f).Localize("err.audit_format", f)
	}
	if out.csv {
		defLimit = 0
	}
	out.f.Limit = defLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit && !out.csv {
			return out, presession.Errorf(presession.EINVALID, "limit %q is not a number from 1 to %d", v, MaxLimit).Localize("err.audit_limit", v, MaxLimit)
		}
		out.f.Limit = n
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return out, presession.Errorf(presession.EINVALID, "offset %q is not a number of entries to skip", v).Localize("err.audit_offset", v)
		}
		out.offset = n
	}
	return out, nil
}

// parseFilter reads actor, action and since of q.
func parseFilter(q url.Values) (presession.AuditFilter, error) {
	var f presession.AuditFilter
	if v := strings.TrimSpace(q.Get("actor")); v != "" {
		if len(v) > 200 || strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return f, presession.Errorf(presession.EINVALID, "actor %q is not one the audit could have recorded", v).Localize("err.audit_actor", v)
		}
		f.Actor = presession.Actor(v)
	}
	if v := strings.TrimSpace(q.Get("action")); v != "" {
		if !ValidAction(v) {
			return f, presession.Errorf(presession.EINVALID, "action %q is not an action such as statement.approve, nor a family such as statement.", v).
				Localize("err.audit_action", v)
		}
		f.Action = v
	}
	if v := strings.TrimSpace(q.Get("since")); v != "" {
		t, err := ParseSince(v)
		if err != nil {
			return f, err
		}
		f.Since = t
	}
	return f, nil
}

// ParseSince reads a time given as RFC 3339 (2026-12-02T09:30:00Z) or as
// a date (2026-12-02: the start of that day, UTC).
func ParseSince(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, presession.Errorf(presession.EINVALID, "since %q is neither a date (2026-12-02) nor a time in RFC 3339 (2026-12-02T09:30:00Z)", v).
		Localize("err.audit_since", v)
}

// acceptsCSV reports whether an Accept header asks for text/csv.
func acceptsCSV(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && mt == "text/csv" {
			return true
		}
	}
	return false
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, DefaultLimit)
	if err != nil {
		a.site.Error(w, r, err)
		return
	}
	entries, more, err := a.log.Page(r.Context(), q.f, q.offset)
	if err != nil {
		a.site.Error(w, r, err)
		return
	}
	if q.csv {
		writeCSV(w, entries, a.log.now())
		return
	}
	a.site.JSON(w, http.StatusOK, ListResponse{Entries: entries, More: more})
}

// CSVHeader is the header row of the CSV export.
var CSVHeader = []string{"id", "at", "actor", "actor_name", "action", "target", "detail", "remote", "outcome"}

// writeCSV writes entries as CSV (RFC 4180: CRLF line ends, quoted
// fields where needed), each cell made safe to open in a spreadsheet.
func writeCSV(w http.ResponseWriter, entries []presession.AuditEntry, now time.Time) {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="audit-`+now.UTC().Format("20060102T150405Z")+`.csv"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	cw.Write(CSVHeader)
	for _, e := range entries {
		cw.Write([]string{Cell(e.ID), Cell(e.At.UTC().Format(time.RFC3339Nano)), Cell(string(e.Actor)), Cell(e.ActorName),
			Cell(e.Action), Cell(e.Target), Cell(e.Detail), Cell(e.Remote), Cell(e.Outcome)})
	}
	cw.Flush()
}

// Cell is s made safe for a spreadsheet (CSV formula injection): a cell
// that starts with =, +, -, @, a tab or a carriage return, which a
// spreadsheet would read as a formula, starts with a single quote
// instead, which it shows as text.
func Cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
