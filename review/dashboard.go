package review

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/invite"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/web"
)

// PageLimit is the number of statements per dashboard page.
const PageLimit = 50

// maxFormDays is the longest validity the viewer link form offers when
// the issuer has no cap: ten years.
const maxFormDays = 3650

// Dashboard is what the dashboard template receives as .Data.
type Dashboard struct {
	Sessions  []SessionView
	Filter    Filter
	Error     string // a bad filter, said plainly
	Rows      []Row
	Total     int // the statements of the filter, every page
	Offset    int
	Limit     int
	From, To  int    // the rows shown, counted from 1 (0, 0: none)
	Prev      string // URL of the previous page, if any
	Next      string
	Pages     []PageLink // links to the pages; none when one page holds all
	Page      int        // the page shown, from 1
	PageCount int
	// ClearSearch is the filter without its search, when it has one.
	ClearSearch string
	Orders      []OrderView
	Statuses    []presession.Status
	Messages    map[string]string // the strings staff.js needs, in the page's language
	Webhooks    *WebhooksView     // nil: no webhooks section

	Invitations      []InvitationRow // newest first, at most InvitationLimit
	InvitationsTotal int
	MailLanguages    []LangView // the languages an organisation's mail can be in
	// The viewer link form's longest and first-offered validity, in days.
	MaxViewerDays, ViewerDays int
	Links                     LinksView // the viewer links of the filter

	// Me is who is signed in; Can says which of the page's actions their
	// role allows (the API refuses the others whatever the page shows).
	Me  presession.Identity
	Can Can
}

// Can is what the signed-in member of staff may do on the dashboard.
type Can struct{ Review, Links, Manage bool }

// can is what id may do on the dashboard.
func can(id presession.Identity) Can {
	return Can{Review: id.Can(presession.PermReview), Links: id.Can(presession.PermLinks), Manage: id.Can(presession.PermManage)}
}

// Filter is the dashboard's current filter.
type Filter struct{ Session, Country, Status, Search string }

// PageLink is one link of the dashboard's pages: a page number with its
// URL, or a gap between distant pages.
type PageLink struct {
	N       int
	URL     string
	Current bool
	Gap     bool
}

// SessionView is a session with its countries' counts.
type SessionView struct {
	ID, Title string
	Languages []LangView
	Countries []CountryView
}

// LangView is a session language.
type LangView struct{ Code, Name string }

// CountryView is one row of the counts table.
type CountryView struct {
	Code, Name string
	Counts     []Count
	Total      int
}

// Count is how many statements of a country have a status.
type Count struct {
	Status presession.Status
	N      int
	URL    string // the statements list filtered to them
}

// Row is one statement of the table.
type Row struct {
	*presession.Statement
	CountryName  string
	LanguageName string   // the spoken language, in its own name
	ReasonText   string   // the reason in the page's language
	WarningsText []string // every warning, the media's damage first, in the page's language
	// Quality is the media's quality summary and findings in the page's
	// language ("" when the media carry no report).
	Quality         string
	QualityFindings []string
	Languages       []LangView
	HLS, MP4        string
	ReviewingBy     string       // who has it on the review desk now, if anyone
	Events          []HistoryRow // the history, newest first, naming who acted
}

// Active reports whether processing progress is shown.
func (r Row) Active() bool {
	switch r.Status {
	case presession.StatusUploading, presession.StatusUploaded, presession.StatusProcessing:
		return true
	}
	return false
}

// Preview reports whether the statement can be watched.
func (r Row) Preview() bool {
	return r.HLS != "" && r.MP4 != "" && (r.Status == presession.StatusReady || r.Status == presession.StatusApproved)
}

// Ready, Reopenable and HasMedia drive the row's buttons.
func (r Row) Ready() bool { return r.Status == presession.StatusReady }
func (r Row) Reopenable() bool {
	return r.Status == presession.StatusApproved || r.Status == presession.StatusRejected
}
func (r Row) HasMedia() bool { return r.Media != nil && r.Media.Duration > 0 }

// Duration is the media duration in seconds (0 without media).
func (r Row) Duration() float64 {
	if r.Media == nil {
		return 0
	}
	return r.Media.Duration
}

// ProgressText is the rounded progress percentage.
func (r Row) ProgressText() string { return strconv.Itoa(int(r.Progress + 0.5)) }

// OrderView is the order of one country's approved statements.
type OrderView struct {
	Session, Country, CountryName, SessionTitle string
	Items                                       []*presession.Statement
}

// jsMessages are the keys staff.js uses.
var jsMessages = []string{
	"staff.js.failed", "staff.js.approved", "staff.js.rejected", "staff.js.reopened",
	"staff.js.moved", "staff.js.move_first", "staff.js.move_last", "staff.js.move_failed",
	"staff.js.caption_done", "staff.js.caption_file", "staff.js.reason_required", "staff.js.org_required",
	"staff.js.changed", "staff.js.copied", "staff.js.copy_failed", "staff.js.link_ready",
	"staff.js.preview_hide", "staff.js.preview_show", "staff.js.reload", "staff.err.valid_for", "staff.caption.uploaded",
	"staff.js.import_file", "staff.js.imported", "staff.js.row_error", "staff.js.line_error", "staff.js.invited",
	"staff.err.valid_for_max",
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	me, err := h.site.Auth.Principal(r).Require(presession.PermRead)
	if err != nil {
		h.site.Render(w, r, h.login, http.StatusOK, loginData{})
		return
	}
	lang := h.site.Lang(r)
	d, err := h.dashboardData(r.Context(), lang, r.URL.Query())
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	d.Me, d.Can = me, can(me)
	if !d.Can.Manage { // the webhooks are an admin's (PermManage)
		d.Webhooks = nil
	}
	h.site.Render(w, r, h.dashboard, http.StatusOK, d)
}

func (h *Handler) dashboardData(ctx context.Context, lang string, q url.Values) (*Dashboard, error) {
	d := &Dashboard{Statuses: presession.Statuses, Messages: map[string]string{}, MaxViewerDays: maxFormDays}
	if m := h.issuer.MaxViewerValidity; m > 0 {
		d.MaxViewerDays = max(1, int(m/(24*time.Hour)))
	}
	d.ViewerDays = min(int(h.issuer.DefaultValidity()/(24*time.Hour)), d.MaxViewerDays)
	for _, k := range jsMessages {
		d.Messages[k] = h.site.Bundle.T(lang, k)
	}
	for _, st := range presession.Statuses {
		k := "status." + string(st)
		d.Messages[k] = h.site.Bundle.T(lang, k)
	}
	if err := h.countries(ctx, d, lang); err != nil {
		return nil, err
	}
	f, err := h.table(ctx, d, lang, q)
	if err != nil {
		return nil, err
	}
	if err := h.orders(ctx, d, f); err != nil {
		return nil, err
	}
	for _, l := range invite.Languages {
		d.MailLanguages = append(d.MailLanguages, LangView{Code: l, Name: presession.LanguageName(l)})
	}
	if err := h.invitationRows(ctx, d, lang, f); err != nil {
		return nil, err
	}
	if err := h.linkSection(ctx, d, lang, f); err != nil {
		return nil, err
	}
	if err := h.webhookSection(ctx, d, lang); err != nil {
		return nil, err
	}
	return d, nil
}

// countries fills in every session's countries with their counts per
// status, each linking to the table filtered on it: one round trip per
// session (Catalog.CountryCounts).
func (h *Handler) countries(ctx context.Context, d *Dashboard, lang string) error {
	for i := range h.site.Sessions.List {
		s := &h.site.Sessions.List[i]
		sv := SessionView{ID: s.ID, Title: s.Title}
		for _, l := range s.Languages {
			sv.Languages = append(sv.Languages, LangView{Code: l, Name: presession.LanguageName(l)})
		}
		codes := make([]string, len(s.Countries))
		for j, c := range s.Countries {
			codes[j] = c.Code
		}
		counts, err := h.cat.CountryCounts(ctx, s.ID, codes)
		if err != nil {
			return err
		}
		for _, c := range s.Countries {
			cv := CountryView{Code: c.Code, Name: presession.CountryName(c.Code, lang)}
			for _, st := range presession.Statuses {
				n := counts[strings.ToUpper(c.Code)][st]
				v := url.Values{"session": {s.ID}, "country": {c.Code}, "status": {string(st)}}
				cv.Counts = append(cv.Counts, Count{Status: st, N: n, URL: "/staff?" + v.Encode() + "#statements"})
				cv.Total += n
			}
			sv.Countries = append(sv.Countries, cv)
		}
		d.Sessions = append(d.Sessions, sv)
	}
	return nil
}

// table fills in the statements table: the same filters as the API,
// search included, a page at a time, with links to the other pages that
// keep every filter. It returns the filter it applied (the default one
// when q's is not valid, with the refusal in d.Error).
func (h *Handler) table(ctx context.Context, d *Dashboard, lang string, q url.Values) (presession.Filter, error) {
	fq := url.Values{}
	for _, k := range []string{"session", "country", "status", "q", "offset"} {
		if v := q.Get(k); v != "" {
			fq.Set(k, v)
		}
	}
	fq.Set("limit", strconv.Itoa(PageLimit))
	f, err := h.filter(fq)
	if err != nil {
		d.Error = h.site.Message(lang, err)
		f = presession.Filter{Limit: PageLimit}
	}
	d.Filter = Filter{Session: f.Session, Country: f.Country, Status: string(f.Status), Search: f.Search}
	if err != nil {
		d.Filter.Search = q.Get("q") // what was typed stays, to be corrected
	}
	list, total, err := h.cat.List(ctx, f)
	if err != nil {
		return f, err
	}
	d.Total, d.Offset, d.Limit = total, f.Offset, f.Limit
	if len(list) > 0 {
		d.From, d.To = f.Offset+1, f.Offset+len(list)
	}
	names := h.resolve(ctx, list...)
	reviewing := h.reviewing(ctx, list, lang)
	for _, s := range list {
		row := h.row(s, lang)
		row.Events = h.historyRows(s, names, lang)
		row.ReviewingBy = reviewing[s.ID]
		d.Rows = append(d.Rows, row)
	}
	if f.Search != "" {
		g := f
		g.Search = ""
		d.ClearSearch = pageURL(g, 0)
	}
	if f.Offset > 0 {
		d.Prev = pageURL(f, max(0, f.Offset-f.Limit))
	}
	if f.Offset+len(list) < total {
		d.Next = pageURL(f, f.Offset+f.Limit)
	}
	d.Page, d.PageCount, d.Pages = pages(f, total)
	return f, nil
}

// pageURL is the dashboard's URL of the statements of f from offset on.
func pageURL(f presession.Filter, offset int) string {
	v := url.Values{}
	if f.Session != "" {
		v.Set("session", f.Session)
	}
	if f.Country != "" {
		v.Set("country", f.Country)
	}
	if f.Status != "" {
		v.Set("status", string(f.Status))
	}
	if f.Search != "" {
		v.Set("q", f.Search)
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	if len(v) == 0 {
		return "/staff#statements"
	}
	return "/staff?" + v.Encode() + "#statements"
}

// pageWindow is how many pages on each side of the current one are
// linked, besides the first and the last.
const pageWindow = 2

// pages returns the number of the page f shows (from 1), how many pages
// there are, and the links to them: the first, the last, and those within
// pageWindow of the current one, with a gap for the others. None when
// one page holds them all.
func pages(f presession.Filter, total int) (cur, n int, links []PageLink) {
	if f.Limit <= 0 {
		return 1, 1, nil
	}
	cur = f.Offset/f.Limit + 1
	n = max((total+f.Limit-1)/f.Limit, cur)
	if n <= 1 {
		return cur, n, nil
	}
	for p := 1; p <= n; p++ {
		if p != 1 && p != n && (p < cur-pageWindow || p > cur+pageWindow) {
			if !links[len(links)-1].Gap {
				links = append(links, PageLink{Gap: true})
			}
			continue
		}
		links = append(links, PageLink{N: p, URL: pageURL(f, (p-1)*f.Limit), Current: p == cur})
	}
	return cur, n, links
}

// row is one statement of the table in lang.
func (h *Handler) row(s *presession.Statement, lang string) Row {
	row := Row{Statement: s, CountryName: presession.CountryName(s.Country, lang), ReasonText: h.site.Reason(lang, s),
		WarningsText: h.site.Warnings(lang, s)}
	row.Quality, row.QualityFindings = h.site.Quality(lang, s)
	if s.Language != "" {
		row.LanguageName = presession.LanguageName(s.Language)
	}
	if s.Media != nil {
		row.HLS, row.MP4 = layout.MediaURL(s.ID, s.Media.Master), layout.MediaURL(s.ID, s.Media.MP4)
	}
	if sess, ok := h.site.Sessions.Find(s.Session); ok {
		for _, l := range sess.Languages {
			row.Languages = append(row.Languages, LangView{Code: l, Name: presession.LanguageName(l)})
		}
	}
	return row
}

// orders fills in the playlist order of each country in the filter f that
// has approved statements, with any approved one missing from the order
// (which should not happen) at the end: per session, one read of the
// orders and one of the approved statements (brief: the order names
// them), however many countries.
func (h *Handler) orders(ctx context.Context, d *Dashboard, f presession.Filter) error {
	approvedAt := slices.Index(presession.Statuses, presession.StatusApproved)
	for _, sv := range d.Sessions {
		if f.Session != "" && sv.ID != f.Session {
			continue
		}
		var shown []CountryView
		for _, cv := range sv.Countries {
			if (f.Country == "" || cv.Code == f.Country) && cv.Counts[approvedAt].N > 0 {
				shown = append(shown, cv)
			}
		}
		if len(shown) == 0 {
			continue
		}
		codes := make([]string, len(shown))
		for i, cv := range shown {
			codes[i] = cv.Code
		}
		orders, err := h.cat.Orders(ctx, sv.ID, codes)
		if err != nil {
			return err
		}
		af := presession.Filter{Session: sv.ID, Status: presession.StatusApproved}
		if len(shown) == 1 {
			af.Country = shown[0].Code
		}
		approved, _, err := h.cat.ListBrief(ctx, af)
		if err != nil {
			return err
		}
		byCountry := map[string][]*presession.Statement{}
		for _, s := range approved {
			byCountry[s.Country] = append(byCountry[s.Country], s)
		}
		for _, cv := range shown {
			d.Orders = append(d.Orders, orderView(sv, cv, orders[strings.ToUpper(cv.Code)], byCountry[strings.ToUpper(cv.Code)]))
		}
	}
	return nil
}

// orderView is one country's approved statements in the order o, with any
// approved one missing from it at the end.
func orderView(sv SessionView, cv CountryView, o *presession.Order, approved []*presession.Statement) OrderView {
	ov := OrderView{Session: sv.ID, SessionTitle: sv.Title, Country: cv.Code, CountryName: cv.Name}
	byID := map[string]*presession.Statement{}
	for _, s := range approved {
		byID[s.ID] = summary(s)
	}
	if o != nil {
		for _, id := range o.Statements {
			if s, ok := byID[id]; ok {
				ov.Items = append(ov.Items, s)
				delete(byID, id)
			}
		}
	}
	for _, s := range approved {
		if _, ok := byID[s.ID]; ok {
			ov.Items = append(ov.Items, byID[s.ID])
		}
	}
	return ov
}

// loginData is what the sign-in template receives: the error of the
// form that was sent (Token: the staff token's, else the password's) and
// the address typed.
type loginData struct {
	Error string
	Token bool
	Email string
}

// signIn serves POST /staff/login: an e-mail address and password, or
// the staff token (its own form, for bootstrap and automation), start a
// staff session, named by the HttpOnly, SameSite=Strict staff cookie.
// Every attempt is audited ("signin"), refused ones too.
func (h *Handler) signIn(w http.ResponseWriter, r *http.Request) {
	lang := h.site.Lang(r)
	if !h.site.Auth.SameOrigin(r) {
		h.site.Render(w, r, h.login, http.StatusForbidden, loginData{Error: h.site.Bundle.T(lang, "auth.cross_site")})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		if presession.ErrorCode(err) == presession.ETIMEOUT { // the body came too slowly (web.Bodies)
			h.signInFailed(w, r, loginData{}, err)
			return
		}
		h.site.Render(w, r, h.login, http.StatusBadRequest, loginData{Error: h.site.Bundle.T(lang, "staff.login.bad_token"), Token: true})
		return
	}
	if _, ok := r.PostForm["token"]; ok {
		h.signInToken(w, r)
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	password := r.PostForm.Get("password")
	data := loginData{Email: email}
	if email == "" || password == "" {
		data.Error = h.site.Bundle.T(lang, "staff.login.password_required")
		h.site.Render(w, r, h.login, http.StatusBadRequest, data)
		return
	}
	m, answered, err := h.site.Auth.SignInPassword(w, r, email, password)
	var who presession.Identity
	if m != nil {
		who = m.Identity()
	}
	if answered { // the passkey step has the request; it audits its own outcome
		return
	}
	h.site.AuditAuth(r, "signin", who, strings.ToLower(email), "password", err)
	if err != nil {
		h.signInFailed(w, r, data, err)
		return
	}
	http.Redirect(w, r, "/staff", http.StatusSeeOther)
}

// signInToken signs in with the staff token of the form.
func (h *Handler) signInToken(w http.ResponseWriter, r *http.Request) {
	lang := h.site.Lang(r)
	tok := strings.TrimSpace(r.PostForm.Get("token"))
	if tok == "" {
		h.site.Render(w, r, h.login, http.StatusBadRequest, loginData{Error: h.site.Bundle.T(lang, "staff.login.token_required"), Token: true})
		return
	}
	err := h.site.Auth.SignIn(w, r, tok)
	var who presession.Identity
	if err == nil {
		who = presession.ServiceIdentity()
	}
	h.site.AuditAuth(r, "signin", who, string(presession.ActorService), "staff token", err)
	if err != nil {
		h.signInFailed(w, r, loginData{Token: true}, err)
		return
	}
	http.Redirect(w, r, "/staff", http.StatusSeeOther)
}

// signInFailed answers a refused or failed sign-in with the form and why.
func (h *Handler) signInFailed(w http.ResponseWriter, r *http.Request, data loginData, err error) {
	status := web.Status(err)
	switch {
	case status >= 500:
		h.log.ErrorContext(r.Context(), "staff sign-in failed", "err", err)
	case presession.ErrorCode(err) == presession.EUNAUTHORIZED:
		h.log.WarnContext(r.Context(), "staff sign-in refused", "remote", h.site.Auth.ClientAddr(r))
	case presession.ErrorCode(err) == presession.ETOOMANY:
		h.log.WarnContext(r.Context(), "staff sign-in refused: too many failures", "remote", h.site.Auth.ClientAddr(r))
	}
	web.SetRetryAfter(w, err)
	data.Error = h.site.Message(h.site.Lang(r), err)
	h.site.Render(w, r, h.login, status, data)
}

// signOut serves POST /staff/logout: it ends the staff session on every
// node, so the cookie no longer signs anyone in, wherever it was copied.
func (h *Handler) signOut(w http.ResponseWriter, r *http.Request) {
	if !h.site.Auth.SameOrigin(r) {
		h.site.Error(w, r, web.CrossSiteError())
		return
	}
	p := h.site.Auth.Principal(r)
	err := h.site.Auth.SignOut(w, r)
	if p.Kind == web.KindStaff && p.Source == web.SourceStaffCookie {
		h.site.AuditAuth(r, "signout", p.Staff, cmp.Or(p.Staff.Email, string(p.Staff.Actor())), "", err)
	}
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	http.Redirect(w, r, "/staff", http.StatusSeeOther)
}

// reviewing says who holds each ready statement of list on the review
// desk, by name in lang (nothing without WithClaims, or when the claims
// cannot be read, which is logged: a note, not a reason to fail the page).
func (h *Handler) reviewing(ctx context.Context, list []*presession.Statement, lang string) map[string]string {
	if h.claims == nil {
		return nil
	}
	var ids []string
	for _, s := range list {
		if s.Status == presession.StatusReady {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	by, err := h.claims.Holders(ctx, ids)
	if err != nil {
		h.log.WarnContext(ctx, "review claims not read", "err", err)
		return nil
	}
	var actors []presession.Actor
	for _, a := range by {
		if !slices.Contains(actors, a) {
			actors = append(actors, a)
		}
	}
	var names map[presession.Actor]string
	if h.names != nil && len(actors) > 0 {
		if names, err = h.names.Names(ctx, actors); err != nil {
			h.log.WarnContext(ctx, "reviewer names not resolved", "err", err)
		}
	}
	out := make(map[string]string, len(by))
	for _, s := range list {
		if a, ok := by[s.ID]; ok {
			out[s.ID] = h.actorText(a, s, names, lang)
		}
	}
	return out
}
