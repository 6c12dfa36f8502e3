package upload

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/web"
)

//go:embed templates static
var assets embed.FS

// Routes mounts the endpoint and the upload page on mux:
// "/files/" (tus), "GET /upload" and "GET /upload/static/", and, with
// Deps.Captions, the organisation's captions files (CaptionRoute).
func (s *Service) Routes(mux *http.ServeMux, site *web.Site) error {
	page, err := s.Page(site)
	if err != nil {
		return err
	}
	mux.Handle("/files/", s.Handler())
	mux.Handle("GET /upload", page)
	mux.Handle("GET /upload/static/", page)
	if s.deps.Captions != nil {
		mux.Handle(CaptionRoute, s.putCaptions(site))
	}
	return nil
}

// StallTimeout is how long the page lets an upload request move no byte
// and get no answer before it drops the request and retries it.
const StallTimeout = 20 * time.Second

// CaptionExtensions are the captions files the upload page offers to send.
var CaptionExtensions = []string{".vtt", ".srt"}

// StatementsURL is where the upload page lists the invitation's statements.
const StatementsURL = "/api/v1/me/statements"

// Page serves the CSO upload page, GET /upload?token=T, and its script and
// stylesheet under /upload/static/.
func (s *Service) Page(site *web.Site) (http.Handler, error) {
	tmpl, err := site.ParsePage(assets, "templates/upload.html")
	if err != nil {
		return nil, err
	}
	sub, _ := fs.Sub(assets, "static")
	files := http.StripPrefix("/upload/static/", http.FileServer(http.FS(sub)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/upload/static/") {
			w.Header().Set("Cache-Control", "no-cache")
			files.ServeHTTP(w, r)
			return
		}
		data, status := s.pageData(site, r)
		site.Render(w, r, tmpl, status, data)
	}), nil
}

type langOption struct {
	Code, Name string
	Selected   bool
}

type pageData struct {
	Valid, Open, Extended          bool
	Revoked                        bool // staff revoked the invitation
	Org, CountryName, SessionTitle string
	Deadline                       time.Time
	Languages                      []langOption
	Limit                          int
	MaxHuman, ExtList, Accept      string
	MaxClock                       string // the session's longest statement, as m:ss
	CaptionMaxHuman                string // the largest captions file, in the page's units
	Config                         pageConfig
}

// pageConfig is what the page's script reads, as JSON.
type pageConfig struct {
	Lang          string   `json:"lang"`
	Token         string   `json:"token"`
	Invitation    string   `json:"invitation"`
	Endpoint      string   `json:"endpoint"`
	StatementsURL string   `json:"statementsURL"`
	MaxBytes      int64    `json:"maxBytes"`
	ChunkSize     int64    `json:"chunkSize"`
	StallSeconds  int      `json:"stallSeconds"` // a request that moves nothing this long is dropped and retried
	Extensions    []string `json:"extensions"`
	Units         []string `json:"units"`      // bytes, KiB … PiB in the page's language
	MaxSeconds    int      `json:"maxSeconds"` // the session's longest statement: a recording stops there
	Timeslice     int      `json:"timeslice"`  // ms of recording per chunk sent
	// CaptionsURL is CaptionRoute's path, with {id} and {lang} to fill.
	CaptionsURL       string            `json:"captionsURL"`
	CaptionMaxBytes   int               `json:"captionMaxBytes"`
	CaptionExtensions []string          `json:"captionExtensions"`
	Messages          map[string]string `json:"messages"`
}

// jsMessages are the messages the script shows.
var jsMessages = []string{
	"upload.err.title_required", "upload.err.title_long", "upload.err.file_required", "upload.err.file_type",
	"upload.err.file_empty", "upload.err.file_large", "upload.err.form", "upload.starting", "upload.resuming",
	"upload.progress", "upload.speed", "upload.left", "upload.retrying", "upload.offline", "upload.done",
	"upload.paused", "upload.cancelled", "upload.interrupted", "upload.gave_up", "upload.pause", "upload.resume",
	"upload.statements_none", "upload.statements_error", "upload.col.title", "upload.col.status",
	"upload.col.date", "upload.col.size", "upload.unit.s", "upload.unit.min", "upload.unit.h", "upload.srv.other",
	"upload.cap.err_type", "upload.cap.err_empty", "upload.cap.err_large", "upload.cap.err_none", "upload.cap.sending",
	"upload.cap.sent", "upload.cap.refused", "upload.cap.failed",
}

var srvCodes = []string{
	ErrCodeUnauthorized, ErrCodeClosed, ErrCodeUnknown, ErrCodeTooLarge, ErrCodeLengthNeeded, ErrCodeEmpty,
	ErrCodeTitle, ErrCodeSpeaker, ErrCodeLanguage, ErrCodeFileType, ErrCodeLimit, ErrCodeComplete,
}

func (s *Service) pageData(site *web.Site, r *http.Request) (pageData, int) {
	inv, tok, err := site.Auth.Principal(r).RequireInvitation()
	if presession.ErrorCode(err) == presession.EFORBIDDEN {
		return pageData{Revoked: true}, http.StatusForbidden
	}
	if err != nil {
		return pageData{}, http.StatusUnauthorized
	}
	sess, c, err := s.deps.Sessions.Lookup(inv.Session, inv.Country)
	if err != nil {
		return pageData{}, http.StatusNotFound
	}
	lang := site.Lang(r)
	deadline := Deadline(sess, c, inv)
	d := pageData{
		Valid: true, Open: s.deps.Now().Before(deadline), Extended: !inv.Until.IsZero(),
		Org: inv.Organisation, CountryName: presession.CountryName(c.Code, lang), SessionTitle: sess.Title,
		Deadline: deadline, Limit: s.cfg.MaxStatementsPerInvitation,
		MaxHuman: i18n.Bytes(lang, s.cfg.MaxUploadBytes), ExtList: strings.Join(Extensions, " "),
		Accept: strings.Join(Extensions, ",") + ",video/*", CaptionMaxHuman: i18n.Bytes(lang, MaxCaptionBytes),
	}
	for _, l := range sess.Languages {
		d.Languages = append(d.Languages, langOption{Code: l, Name: presession.LanguageName(l), Selected: l == lang})
	}
	chunk := s.cfg.S3Tuning.PartSize
	if chunk <= 0 {
		chunk = defaultPartSize
	}
	msgs := map[string]string{}
	d.MaxClock = clock(sess.MaxStatementSeconds)
	for _, k := range append(jsMessages, recMessages...) {
		msgs[k] = site.Bundle.T(lang, k)
	}
	for _, c := range srvCodes {
		msgs["upload.srv."+c] = site.Bundle.T(lang, "upload.srv."+c)
	}
	msgs["upload.srv."+ErrCodeRevoked] = site.Bundle.T(lang, "auth.invitation_revoked")
	for _, st := range presession.Statuses {
		msgs["status."+string(st)] = site.Bundle.T(lang, "status."+string(st))
	}
	d.Config = pageConfig{
		Lang: lang, Token: tok, Invitation: inv.ID, Endpoint: "/files/", StatementsURL: StatementsURL,
		MaxBytes: s.cfg.MaxUploadBytes,
		// Whole S3 parts per PATCH: no tail parked in a .part object
		// between requests.
		ChunkSize:    2 * chunk,
		StallSeconds: int(max(time.Second, s.cfg.StallTimeout) / time.Second),
		Extensions:   Extensions, Units: i18n.ByteUnits(lang), Messages: msgs,
		MaxSeconds: sess.MaxStatementSeconds, Timeslice: RecordTimeslice,
		CaptionsURL: strings.TrimPrefix(CaptionRoute, "PUT "), CaptionMaxBytes: MaxCaptionBytes,
		CaptionExtensions: CaptionExtensions,
	}
	return d, http.StatusOK
}
