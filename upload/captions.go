package upload

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/drafts"
	"github.com/uprinfo/presession/media"
	"github.com/uprinfo/presession/web"
)

// CaptionRoute is the pattern of the organisation's captions upload: one
// WebVTT or SRT file per session language for a statement of its
// invitation, the starting point of that language's caption track. {id}
// is the statement's id or its upload's (the last segment of the tus
// upload URL, "<statement>[+<multipart upload>]").
const CaptionRoute = "PUT /api/v1/uploads/{id}/captions/{lang}"

// MaxCaptionBytes is the largest captions body CaptionRoute accepts.
const MaxCaptionBytes = media.MaxCaptionBytes

// CaptionResponse is the body of a captions file accepted.
type CaptionResponse struct {
	Statement string `json:"statement"`
	Language  string `json:"language"`
	Cues      int    `json:"cues"`
	// Applied says the track in Language starts from the file now (the
	// statement was processed); false, the worker starts it from the
	// file when it processes the video.
	Applied bool `json:"applied"`
}

// putCaptions serves CaptionRoute. It is authorised like the tus
// endpoint: the invitation's token as a bearer token, and the statement
// must be one that invitation created. A refused file is answered in the
// request's language with why, and nothing stored changes: an earlier
// file, the video and its upload stay as they were.
func (s *Service) putCaptions(site *web.Site) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		p := site.Auth.Principal(r)
		if p.Source != web.SourceBearer {
			site.Error(w, r, presession.Errorf(presession.EUNAUTHORIZED,
				"this upload needs the invitation token: send it as \"Authorization: Bearer <token>\" (the token is the part after token= in your upload link)").
				Localize("upload.tus.token_required"))
			return
		}
		inv, _, err := p.RequireInvitation()
		if err != nil {
			site.Error(w, r, err)
			return
		}
		id, lang := statementID(r.PathValue("id")), r.PathValue("lang")
		st, sess, err := s.captionable(r, inv.ID, id, lang)
		if err != nil {
			site.Error(w, r, err)
			return
		}
		data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxCaptionBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				err = presession.Errorf(presession.ETOOLARGE, "the captions file is larger than %d KiB", MaxCaptionBytes/1024).
					Localize("upload.captions.large", MaxCaptionBytes/1024)
			}
			site.Error(w, r, err)
			return
		}
		// Processed, the video's length is known and the file must fit
		// it; before, it is checked with what can be checked, and the
		// worker checks it against the length once it is known.
		var cues int
		if drafts.Applicable(st) {
			var vtt []byte
			if vtt, err = media.ParseCaptions(data, st.Media.Duration); err == nil {
				cues = media.CountCues(vtt)
			}
		} else {
			cues, err = drafts.Check(data, float64(sess.MaxStatementSeconds))
		}
		if err != nil {
			site.Error(w, r, refusedCaptions(err))
			return
		}
		if err := drafts.Save(ctx, s.deps.Captions, id, lang, data); err != nil {
			site.Error(w, r, err)
			return
		}
		// The file is stored before the statement is read again: a worker
		// that made the statement ready after this read reads the file
		// after it (drafts.Apply).
		applied, err := drafts.Apply(ctx, s.deps.Captions, s.deps.Statements, id, lang, "")
		if err != nil {
			site.Error(w, r, err)
			return
		}
		s.log.InfoContext(ctx, "captions draft stored", "statement", id, "invitation", inv.ID, "lang", lang,
			"bytes", len(data), "cues", cues, "applied", applied)
		site.JSON(w, http.StatusOK, CaptionResponse{Statement: id, Language: lang, Cues: cues, Applied: applied})
	}
}

// captionable returns statement id and its session when invitation inv
// may send captions in lang for it: the statement is the invitation's,
// lang is one of its session's languages, no decision was taken on it,
// and staff have not changed its track in lang.
func (s *Service) captionable(r *http.Request, inv, id, lang string) (*presession.Statement, *presession.Session, error) {
	notFound := presession.Errorf(presession.ENOTFOUND, "there is no such upload for this invitation").Localize("upload.tus.not_found")
	if !validStatementID(id) {
		return nil, nil, notFound
	}
	st, err := s.deps.Statements.Get(r.Context(), id)
	if presession.ErrorCode(err) == presession.ENOTFOUND || err == nil && st.InvitationID != inv {
		return nil, nil, notFound
	}
	if err != nil {
		return nil, nil, err
	}
	sess, ok := s.deps.Sessions.Find(st.Session)
	if !ok {
		return nil, nil, notFound
	}
	if !sess.HasLanguage(lang) {
		langs := strings.Join(sess.Languages, ", ")
		return nil, nil, presession.Errorf(presession.EINVALID, "captions for %s are accepted in %s only, not %q", sess.Title, langs, lang).
			Localize("upload.captions.lang", sess.Title, langs, lang)
	}
	switch st.Status {
	case presession.StatusApproved, presession.StatusRejected:
		return nil, nil, presession.Errorf(presession.ECONFLICT,
			"staff have already decided on this statement (%s), so its captions can no longer be sent here; write to the organisers if they need correcting", st.Status).
			Localize("upload.captions.decided", st.Status)
	case presession.StatusFailed:
		return nil, nil, presession.Errorf(presession.ECONFLICT,
			"this statement could not be used, so its captions are not needed; upload the video again, then send its captions").
			Localize("upload.captions.failed")
	}
	if c, ok := st.Caption(lang); ok && !c.OpenToDraft() {
		return nil, nil, presession.Errorf(presession.ECONFLICT,
			"the organisers have already edited the captions in %s for this statement, so your file was not used; write to them if they need correcting", c.Name).
			Localize("upload.captions.staff", c.Name)
	}
	return st, sess, nil
}

// refusedCaptions is the refusal of a captions file the parser refused,
// with why in the reader's language.
func refusedCaptions(err error) error {
	var ce *media.CaptionError
	if !errors.As(err, &ce) {
		return err
	}
	args := make([]any, len(ce.Args))
	for i, a := range ce.Args {
		args[i] = a
	}
	why := presession.Errorf(presession.EINVALID, "%s", ce.Error()).Localize(ce.Key, args...)
	return presession.Errorf(presession.EINVALID, "the captions file cannot be used: %s", ce.Error()).
		Localize("upload.captions.invalid", why)
}
