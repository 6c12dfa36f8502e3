package upload

import (
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/token"
	"github.com/uprinfo/presession/web"
)

// Error codes of our refusals, in tusd's "ERR_…" style. The upload page
// translates them; the message after the code is for tus clients.
const (
	ErrCodeUnauthorized   = "ERR_UNAUTHORIZED"
	ErrCodeClosed         = "ERR_UPLOADS_CLOSED"
	ErrCodeUnknown        = "ERR_UNKNOWN_SESSION"
	ErrCodeTooLarge       = "ERR_TOO_LARGE"
	ErrCodeLengthNeeded   = "ERR_LENGTH_REQUIRED"
	ErrCodeEmpty          = "ERR_EMPTY_FILE"
	ErrCodeTitle          = "ERR_TITLE"
	ErrCodeSpeaker        = "ERR_SPEAKER"
	ErrCodeLanguage       = "ERR_LANGUAGE"
	ErrCodeFileType       = "ERR_FILE_TYPE"
	ErrCodeLimit          = "ERR_TOO_MANY_STATEMENTS"
	ErrCodeUploads        = "ERR_TOO_MANY_UPLOADS"
	ErrCodeInvitationFull = "ERR_INVITATION_FULL"
	ErrCodeComplete       = "ERR_UPLOAD_COMPLETE"
	ErrCodeNotRecorded    = "ERR_NOT_RECORDED"
	ErrCodeUnavailable    = "ERR_UNAVAILABLE"
	ErrCodeNotFound       = "ERR_UPLOAD_NOT_FOUND"
	ErrCodeConcatenation  = "ERR_CONCATENATION"
	ErrCodeMetadata       = "ERR_METADATA_TOO_LARGE"
)

// Extensions lists the video containers we accept, by file extension.
var Extensions = []string{".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".ts", ".mts", ".m2ts", ".3gp"}

// Limits on Upload-Metadata. tusd takes the header whole and saves what
// the pre-create hook keeps with the upload and in the statement's record,
// which every staff list carries: so the header as a whole is capped
// (unknown keys are dropped, but count), and so is every value we keep. A
// title is a line, not an essay.
const (
	maxMetadataHeader = 8 << 10 // bytes of the Upload-Metadata header, as sent (base64)
	maxTitle          = 200     // characters
	maxSpeaker        = 200     // characters
	maxFilename       = 255     // bytes of the name without its folders, as file systems allow
	maxFiletype       = 255     // bytes: RFC 6838 allows 127 each for type and subtype
	maxLanguage       = 35      // bytes: the longest language tag RFC 5646 asks every reader to take
)

// checkMetadataHeader refuses an Upload-Metadata header longer than
// maxMetadataHeader before tusd decodes it.
func checkMetadataHeader(h string) error {
	if n := len(h); n > maxMetadataHeader {
		return tusError(ErrCodeMetadata, http.StatusBadRequest, "upload.tus.metadata_large",
			"the Upload-Metadata header is %s, more than the %s allowed; send only the keys filename, filetype, title, speaker and language",
			i18n.Size(n), i18n.Size(maxMetadataHeader))
	}
	return nil
}

// Server-side metadata keys: set by the pre-create hook from the token,
// whatever the client sent.
const (
	metaInvitation   = "invitation"
	metaSession      = "session"
	metaCountry      = "country"
	metaOrganisation = "organisation"
)

// refusal is a tus refusal that the message catalogue can say in the
// request's language. tusd and its clients see tus, the English text
// ("ERR_…: message"); the endpoint swaps in the translation (see
// Service.localize) just before tusd or sendError writes it. The code
// stays the same in every language.
type refusal struct {
	tus  handler.Error
	key  string // catalogue key (i18n/messages/*/upload.json)
	args []any
}

func (r refusal) Error() string { return r.tus.Error() }
func (r refusal) Unwrap() error { return r.tus }

// tusError returns a refusal with code and status, its English message
// formatted from format and args, and its translation the catalogue's key
// with the same args.
func tusError(code string, status int, key, format string, args ...any) refusal {
	return refusal{tus: handler.NewError(code, fmt.Sprintf(format, args...), status), key: key, args: args}
}

// as gives the translation other arguments than the English text: ones
// that read in the request's language (a presession.Country, a time.Time,
// a coded error; see web.Site.Message).
func (r refusal) as(args ...any) refusal {
	r.args = args
	return r
}

var errNotFound = tusError(ErrCodeNotFound, http.StatusNotFound, "upload.tus.not_found", "there is no such upload for this invitation")

// authenticate returns the invitation of a tus request: tus clients send
// it as a bearer token, and only so.
func authenticate(p web.Principal) (token.Invitation, error) {
	if p.Source != web.SourceBearer {
		return token.Invitation{}, tusError(ErrCodeUnauthorized, http.StatusUnauthorized, "upload.tus.token_required",
			"this upload needs the invitation token: send it as \"Authorization: Bearer <token>\" (the token is the part after token= in your upload link)")
	}
	inv, _, err := p.RequireInvitation() // the bearer token's
	if err != nil {
		return token.Invitation{}, refuseInvitation(err)
	}
	return inv, nil
}

// Deadline returns when the invitation's uploads close: its own extension
// when it has one, else the country's deadline, else the session's.
func Deadline(s *presession.Session, c presession.Country, inv token.Invitation) time.Time {
	if !inv.Until.IsZero() {
		return inv.Until
	}
	return s.Deadline(c)
}

// FormatDeadline writes a deadline the way the call for statements does.
func FormatDeadline(t time.Time) string {
	return t.UTC().Format("2 January 2006 at 15:04 MST")
}

// checkOpen refuses an invitation whose uploads have closed at now.
func checkOpen(sessions *presession.Sessions, inv token.Invitation, now time.Time) (*presession.Session, presession.Country, error) {
	s, c, err := sessions.Lookup(inv.Session, inv.Country)
	if err != nil {
		return nil, c, tusError(ErrCodeUnknown, http.StatusForbidden, "upload.tus.unknown_session",
			"this invitation is for a session or country that is no longer scheduled (%s); ask the organisers for a new link", presession.ErrorMessage(err)).as(err)
	}
	if d := Deadline(s, c, inv); now.After(d) {
		return nil, c, tusError(ErrCodeClosed, http.StatusForbidden, "upload.tus.closed",
			"uploads for %s in %s closed on %s; ask the organisers for an extension if you still want to send a statement",
			c.Name, s.Title, FormatDeadline(d)).as(c, s.Title, d.UTC())
	}
	return s, c, nil
}

// HumanBytes writes n bytes as "8 GiB", "512 MiB", "1.5 KiB".
func HumanBytes(n int64) string { return i18n.Size(n).String() }

func tooLarge(size, max int64) error {
	return tusError(ErrCodeTooLarge, http.StatusRequestEntityTooLarge, "upload.tus.too_large",
		"the file is %s (%d bytes); the largest accepted upload is %s (%d bytes): shorten the recording or export it at a lower bit rate",
		i18n.Size(size), size, i18n.Size(max), max)
}

// checkSize refuses a deferred, empty or too large upload.
func checkSize(info handler.FileInfo, max int64) error {
	switch {
	case info.SizeIsDeferred:
		return tusError(ErrCodeLengthNeeded, http.StatusRequestEntityTooLarge, "upload.tus.length_required",
			"uploads must declare their size with Upload-Length (at most %s); uploads of unknown length are not accepted", i18n.Size(max))
	case max > 0 && info.Size > max:
		return tooLarge(info.Size, max)
	case info.Size == 0:
		return tusError(ErrCodeEmpty, http.StatusBadRequest, "upload.tus.empty", "the file is empty; choose the video file of your statement")
	}
	return nil
}

// AcceptedFile reports whether a file name and media type describe a video
// container we accept. Either may be empty, not both.
func AcceptedFile(filename, filetype string) bool {
	ext := strings.ToLower(path.Ext(filename))
	extOK := slices.Contains(Extensions, ext)
	filetype = strings.ToLower(strings.TrimSpace(filetype))
	if i := strings.IndexByte(filetype, ';'); i >= 0 {
		filetype = strings.TrimSpace(filetype[:i])
	}
	typeOK := strings.HasPrefix(filetype, "video/")
	if filename != "" && !extOK {
		return false
	}
	switch filetype {
	case "":
		return extOK
	case "application/octet-stream", "model/vnd.mts", "application/x-matroska", "application/mp4":
		// Generic or odd types some systems give to .mkv, .mts and .mp4 files:
		// the extension decides.
		return extOK
	}
	return typeOK
}

// metadata checks the client's Upload-Metadata and returns what we keep:
// the known keys, trimmed, and the server's keys from the invitation.
func metadata(s *presession.Session, inv token.Invitation, in handler.MetaData) (handler.MetaData, error) {
	get := func(k string) string { return strings.TrimSpace(in[k]) }
	title, speaker, lang := get("title"), get("speaker"), get("language")
	filename, filetype := path.Base(strings.ReplaceAll(get("filename"), "\\", "/")), get("filetype")
	if filename == "." || filename == "/" {
		filename = ""
	}
	for _, f := range []struct{ key, value, code string }{
		{"title", title, ErrCodeTitle}, {"speaker", speaker, ErrCodeSpeaker}, {"filename", filename, ErrCodeFileType},
		{"filetype", filetype, ErrCodeFileType}, {"language", lang, ErrCodeLanguage},
	} {
		if !utf8.ValidString(f.value) || strings.ContainsAny(f.value, "\x00\r\n") {
			return nil, tusError(f.code, http.StatusBadRequest, "upload.tus.bad_characters", "the %s contains characters that are not allowed", f.key)
		}
	}
	switch {
	case len(lang) > maxLanguage:
		return nil, tusError(ErrCodeLanguage, http.StatusBadRequest, "upload.tus.language_long",
			"the language (Upload-Metadata key \"language\") is longer than %d bytes; send one of %s", maxLanguage, strings.Join(s.Languages, ", "))
	case len(filetype) > maxFiletype:
		return nil, tusError(ErrCodeFileType, http.StatusBadRequest, "upload.tus.filetype_long",
			"the file type (Upload-Metadata key \"filetype\") is longer than %d bytes; send the file's media type, such as video/mp4", maxFiletype)
	case len(filename) > maxFilename:
		return nil, tusError(ErrCodeFileType, http.StatusBadRequest, "upload.tus.filename_long", "the file name is longer than %d bytes; rename the file", maxFilename)
	case title == "":
		return nil, tusError(ErrCodeTitle, http.StatusBadRequest, "upload.tus.title_required", "give the statement a title (Upload-Metadata key \"title\")")
	case utf8.RuneCountInString(title) > maxTitle:
		return nil, tusError(ErrCodeTitle, http.StatusBadRequest, "upload.tus.title_long", "the title is longer than %d characters; shorten it", maxTitle)
	case utf8.RuneCountInString(speaker) > maxSpeaker:
		return nil, tusError(ErrCodeSpeaker, http.StatusBadRequest, "upload.tus.speaker_long", "the speaker's name is longer than %d characters; shorten it", maxSpeaker)
	case lang == "":
		return nil, tusError(ErrCodeLanguage, http.StatusBadRequest, "upload.tus.language_required",
			"say which language the statement is spoken in (Upload-Metadata key \"language\": one of %s)", strings.Join(s.Languages, ", "))
	case !s.HasLanguage(lang):
		return nil, tusError(ErrCodeLanguage, http.StatusBadRequest, "upload.tus.language_other",
			"statements for %s are accepted in %s only, not %q", s.Title, strings.Join(s.Languages, ", "), lang)
	case filename == "" && filetype == "":
		return nil, tusError(ErrCodeFileType, http.StatusBadRequest, "upload.tus.type_required",
			"say what the file is: send its name (Upload-Metadata key \"filename\") or its media type (\"filetype\")")
	case !AcceptedFile(filename, filetype):
		what := filename
		if what == "" {
			what = filetype
		}
		return nil, tusError(ErrCodeFileType, http.StatusBadRequest, "upload.tus.not_video",
			"%q is not a video file we accept; send a video file (%s)", what, strings.Join(Extensions, " "))
	}
	out := handler.MetaData{
		"title":          title,
		"language":       lang,
		metaInvitation:   inv.ID,
		metaSession:      inv.Session,
		metaCountry:      inv.Country,
		metaOrganisation: inv.Organisation,
	}
	if isRecording(in) {
		out[metaRecording] = "1"
	}
	for k, v := range map[string]string{"speaker": speaker, "filename": filename, "filetype": filetype} {
		if v != "" {
			out[k] = v
		}
	}
	return out, nil
}
