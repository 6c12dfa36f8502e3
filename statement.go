package presession

import (
	"slices"
	"time"
)

// Status is where a statement stands in its lifecycle.
type Status string

// The lifecycle: uploading → uploaded → processing → ready → approved |
// rejected; failed carries a reason. Staff can reopen approved/rejected.
const (
	StatusUploading  Status = "uploading"
	StatusUploaded   Status = "uploaded"
	StatusProcessing Status = "processing"
	StatusReady      Status = "ready"
	StatusApproved   Status = "approved"
	StatusRejected   Status = "rejected"
	StatusFailed     Status = "failed"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusUploading, StatusUploaded, StatusProcessing, StatusReady, StatusApproved, StatusRejected, StatusFailed}

// transitions is the one place the lifecycle's moves are defined; what a
// move needs and changes is Statement.Apply's (lifecycle.go).
//
// processing → uploaded lets a worker that lost its run (killed mid-way)
// hand the statement back for a retry; processing → processing is a retry
// that starts again. failed → uploaded is an operator's re-run.
var transitions = map[Status][]Status{
	StatusUploading:  {StatusUploaded, StatusFailed},
	StatusUploaded:   {StatusProcessing, StatusFailed},
	StatusProcessing: {StatusProcessing, StatusReady, StatusFailed, StatusUploaded},
	StatusReady:      {StatusApproved, StatusRejected, StatusProcessing},
	StatusApproved:   {StatusReady},
	StatusRejected:   {StatusReady},
	StatusFailed:     {StatusUploaded},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// CanTransition reports whether the lifecycle allows moving from s to to.
func (s Status) CanTransition(to Status) bool {
	return slices.Contains(transitions[s], to)
}

// CheckTransition returns an ECONFLICT error naming both ends when the move
// is not allowed.
func CheckTransition(from, to Status) error {
	if !to.Valid() {
		return Errorf(EINVALID, "unknown status %q", to).Localize("err.status_unknown", string(to))
	}
	if !from.CanTransition(to) {
		return Errorf(ECONFLICT, "a statement that is %s cannot become %s", from, to).Localize("err.transition", from, to)
	}
	return nil
}

// Event is one recorded transition of a statement.
type Event struct {
	At     time.Time `json:"at"`
	Actor  Actor     `json:"actor"`
	From   Status    `json:"from,omitempty"`
	To     Status    `json:"to"`
	Reason string    `json:"reason,omitempty"`
}

// Message names a text of the i18n catalogue by its key, with its
// arguments already written out as strings ("0:24", "7"), so it reads the
// same in every language without number or date rules. A statement's
// system-written reason carries one next to its English text.
type Message struct {
	Key  string
	Args []string
}

// Statement is one recorded video statement and everything known of it.
type Statement struct {
	ID           string `json:"id"`
	Session      string `json:"session"`
	Country      string `json:"country"` // ISO 3166-1 alpha-2, upper case
	Organisation string `json:"organisation"`
	InvitationID string `json:"invitation_id"`

	Title    string `json:"title"`
	Speaker  string `json:"speaker,omitempty"`
	Language string `json:"language,omitempty"`
	Filename string `json:"filename,omitempty"`
	Filetype string `json:"filetype,omitempty"`

	Size      int64  `json:"size"`
	SourceKey string `json:"source_key"` // storage key of the uploaded original
	// SourceDeletedAt is when storage stopped holding the uploaded
	// original: deleted when its upload was cancelled or abandoned, or
	// once a failed statement's retention ran out (or there never was
	// one: an upload that did not start). Zero while storage holds it or
	// an upload may still write it.
	SourceDeletedAt time.Time `json:"source_deleted_at,omitzero"`

	Status Status `json:"status"`
	Reason string `json:"reason,omitempty"` // why it failed or was rejected, in English
	// ReasonKey and ReasonArgs name the catalogue message that says a
	// reason the system wrote (not a staff rejection, which stays as
	// typed) in the reader's language; see Message.
	ReasonKey  string   `json:"reason_key,omitempty"`
	ReasonArgs []string `json:"reason_args,omitempty"`
	Warnings   []string `json:"warnings,omitempty"` // shown to staff (e.g. "no audio track")
	Progress   float64  `json:"progress"`           // processing percentage, 0–100

	CreatedAt  time.Time `json:"created_at"`
	UploadedAt time.Time `json:"uploaded_at,omitzero"`
	UpdatedAt  time.Time `json:"updated_at"`

	Media    *Media    `json:"media,omitempty"`
	Captions []Caption `json:"captions,omitempty"`
	History  []Event   `json:"history,omitempty"`
}

// Caption is one caption track of a statement.
type Caption struct {
	Language    string `json:"language"`
	Name        string `json:"name"` // the language's own name, e.g. "Français"
	Key         string `json:"key"`  // storage key of the WebVTT file
	Placeholder bool   `json:"placeholder"`
	// Draft says the track is the organisation's own captions file, sent
	// with its statement and not yet changed by staff: a starting point to
	// check, not captions staff stand behind.
	Draft     bool      `json:"draft,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"` // the actor of the last change
	// History is every change of the track after its placeholder, oldest
	// first.
	History []CaptionChange `json:"history,omitempty"`
	// DraftRefused says why the organisation's captions file in this
	// language could not start the track once the video's length was
	// known (English, as media.ParseCaptions said it, line included),
	// with the catalogue message that says it in the reader's language
	// (DraftRefusedKey with DraftRefusedArgs); the track stayed a
	// placeholder. Staff read it among the statement's warnings until
	// they change the track.
	DraftRefused     string   `json:"draft_refused,omitempty"`
	DraftRefusedKey  string   `json:"draft_refused_key,omitempty"`
	DraftRefusedArgs []string `json:"draft_refused_args,omitempty"`
}

// OpenToDraft reports whether the organisation's captions file may
// (re)start the track: it is a placeholder, or the organisation's own
// draft, which staff have not changed. A track staff changed never is.
func (c Caption) OpenToDraft() bool { return c.Placeholder || c.Draft }

// Sources of a caption change.
const (
	CaptionFromDraft  = "draft"  // the organisation's file, sent with the statement
	CaptionFromUpload = "upload" // a file staff uploaded
	CaptionFromEditor = "editor" // cues staff edited on the review page
)

// CaptionChange is one change of a caption track: when, by whom, from
// what, how many cues it then had, and where the track as it was before
// the change is kept ("" when it was a placeholder).
type CaptionChange struct {
	At       time.Time `json:"at"`
	By       string    `json:"by"`
	Source   string    `json:"source"`
	Cues     int       `json:"cues"`
	Previous string    `json:"previous,omitempty"`
}

// Caption returns the caption track in lang, if any.
func (s *Statement) Caption(lang string) (Caption, bool) {
	for _, c := range s.Captions {
		if c.Language == lang {
			return c, true
		}
	}
	return Caption{}, false
}

// Media describes the processed media of a statement; it is written by the
// worker once every file is in storage.
type Media struct {
	Duration     float64     `json:"duration"` // seconds
	Width        int         `json:"width"`    // display size of the source
	Height       int         `json:"height"`
	SourceFormat string      `json:"source_format,omitempty"`
	Master       string      `json:"master"` // storage key of the statement's multivariant playlist
	Renditions   []Rendition `json:"renditions"`
	MP4          string      `json:"mp4"`
	MP4Size      int64       `json:"mp4_size"`
	Poster       string      `json:"poster"`
	Thumbnail    string      `json:"thumbnail"`
	Storyboard   string      `json:"storyboard,omitempty"`
	StoryboardVT string      `json:"storyboard_vtt,omitempty"`
	// Version names this generation of the media: a hash of the key and
	// content of every file the processing run stored, set by the worker.
	// A statement processed again has its files rewritten under the same
	// keys, so media URLs carry the version (?v=) and caches key on it: new
	// bytes, new URLs. "" for media made before versions were recorded.
	Version string `json:"version,omitempty"`
	// Damage is what the decoders could not read when the media were
	// made; nil when the whole source decoded cleanly.
	Damage *Damage `json:"damage,omitempty"`
	// Quality is the technical report measured while the media were made
	// (see Quality); nil for media made before reports were measured.
	Quality *Quality `json:"quality,omitempty"`
}

// Damage describes the stretches of a statement whose picture or sound
// could not be decoded (garbled, frozen or missing there), found while it
// was transcoded, and the warning staff get about it: Warning in English,
// and the catalogue message that says it in the reader's language
// (WarningKey with WarningArgs, as for a Statement's reason).
type Damage struct {
	Spans       []Span   `json:"spans"`
	Seconds     float64  `json:"seconds"` // the spans' total length
	Warning     string   `json:"warning"`
	WarningKey  string   `json:"warning_key,omitempty"`
	WarningArgs []string `json:"warning_args,omitempty"`
}

// Span is a stretch of media time, in seconds from the start.
type Span struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// Rendition is one rung of a statement's HLS ladder.
type Rendition struct {
	Name             string    `json:"name"` // fixed across statements, e.g. "720p"
	Width            int       `json:"width"`
	Height           int       `json:"height"`
	Bandwidth        int       `json:"bandwidth"`
	AverageBandwidth int       `json:"average_bandwidth"`
	Codecs           string    `json:"codecs"`
	FrameRate        float64   `json:"frame_rate"`
	Playlist         string    `json:"playlist"` // storage key of the media playlist
	Init             string    `json:"init"`     // storage key of the fMP4 init segment
	TargetDuration   int       `json:"target_duration"`
	Segments         []Segment `json:"segments"`
}

// Segment is one media segment of a rendition.
type Segment struct {
	Key      string  `json:"key"` // storage key
	Duration float64 `json:"duration"`
}
