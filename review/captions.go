package review

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/media"
	"github.com/uprinfo/presession/web"
)

// MaxCaptionBytes is the largest caption body PUT .../captions/{lang}
// accepts; a larger one is 413.
const MaxCaptionBytes = media.MaxCaptionBytes

// putCaption replaces (or adds) a statement's caption track in one of its
// session's languages. The body is WebVTT or SRT; it is validated against
// the statement's media duration, converted to WebVTT and written over the
// track's existing key, so the HLS subtitle playlist that points at it
// stays valid.
func (h *Handler) putCaption(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, lang := r.PathValue("id"), r.PathValue("lang")
	if r.ContentLength > MaxCaptionBytes {
		h.site.Error(w, r, tooLarge())
		return
	}
	s, err := h.cat.Get(ctx, id)
	if err == nil {
		err = h.captionable(s, lang)
	}
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	vtt, err := readCaptions(r, s.Media.Duration)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	source := presession.CaptionFromUpload
	if r.URL.Query().Get("source") == presession.CaptionFromEditor {
		source = presession.CaptionFromEditor
	}
	entry, err := h.saveCaptions(ctx, s, lang, vtt, source)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.log.InfoContext(ctx, "captions replaced", "statement", id, "lang", lang, "bytes", len(vtt))
	h.site.JSON(w, http.StatusOK, entry)
}

// captionable refuses captions in lang for s unless lang is one of its
// session's languages and s has processed media to time them against.
func (h *Handler) captionable(s *presession.Statement, lang string) error {
	sess, ok := h.site.Sessions.Find(s.Session)
	if !ok || !sess.HasLanguage(lang) {
		langs := ""
		if ok {
			langs = strings.Join(sess.Languages, ", ")
		}
		return invalid("staff.err.caption_lang", "%q is not one of the languages of this statement's session (%s)", lang, langs)
	}
	if s.Media == nil || s.Media.Duration <= 0 {
		return presession.Errorf(presession.ECONFLICT, "statement %s has no processed media yet; captions can be added once it is ready", s.ID).
			Localize("staff.err.caption_no_media")
	}
	return nil
}

// readCaptions reads a WebVTT or SRT body of at most MaxCaptionBytes and
// returns it as WebVTT checked against a statement of duration seconds.
func readCaptions(r *http.Request, duration float64) ([]byte, error) {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxCaptionBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge()
		}
		return nil, fmt.Errorf("read caption body: %w", err)
	}
	vtt, err := media.ParseCaptions(data, duration)
	if err != nil {
		var ce *media.CaptionError
		if errors.As(err, &ce) {
			args := make([]any, len(ce.Args))
			for i, a := range ce.Args {
				args[i] = a
			}
			why := presession.Errorf(presession.EINVALID, "%s", ce.Error()).Localize(ce.Key, args...)
			return nil, invalid("staff.err.caption_invalid", "the caption file cannot be used: %s", why)
		}
		return nil, err
	}
	return vtt, nil
}

// captionLocker is optional on the Catalog (the catalog has it): the lock
// of one caption track, which the organisation's draft takes too.
type captionLocker interface {
	LockCaption(ctx context.Context, id, lang string) (release func(), err error)
}

// saveCaptions stores vtt as s's captions in lang, from source (an
// uploaded file, or the review page's editor), and records the track as
// real captions (no longer a placeholder or the organisation's draft) with
// the change in its history, by the request's actor. A track that was not
// a placeholder is kept first at its revision key, so no wording is lost.
// A statement without a track in lang gets it where the worker puts
// captions, next to the subtitle playlist of the statement's master.
func (h *Handler) saveCaptions(ctx context.Context, s *presession.Statement, lang string, vtt []byte, source string) (presession.Caption, error) {
	if l, ok := h.cat.(captionLocker); ok {
		// The organisation's draft writes the same file and record: not
		// between ours.
		release, err := l.LockCaption(ctx, s.ID, lang)
		if err != nil {
			return presession.Caption{}, err
		}
		defer release()
		if s, err = h.cat.Get(ctx, s.ID); err != nil {
			return presession.Caption{}, err
		}
	}
	key := layout.Caption(s.ID, lang)
	old, had := s.Caption(lang)
	if had && old.Key != "" {
		key = old.Key
	}
	previous := ""
	if had && !old.Placeholder && old.Key != "" {
		previous = layout.CaptionRevision(s.ID, lang, len(old.History)+1)
		if err := h.keep(ctx, old.Key, previous); err != nil {
			return presession.Caption{}, err
		}
	}
	if err := h.store.Put(ctx, key, bytes.NewReader(vtt), int64(len(vtt)),
		presession.PutOptions{ContentType: "text/vtt; charset=utf-8", CacheControl: "no-cache"}); err != nil {
		return presession.Caption{}, fmt.Errorf("store captions %s: %w", key, err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	by := string(web.ActorFrom(ctx))
	change := presession.CaptionChange{At: now, By: by, Source: source, Cues: media.CountCues(vtt), Previous: previous}
	var entry presession.Caption
	_, err := h.cat.Update(ctx, s.ID, func(st *presession.Statement) error {
		entry = presession.Caption{Language: lang, Name: presession.LanguageName(lang), Key: key, UpdatedAt: now, UpdatedBy: by}
		for i := range st.Captions {
			if st.Captions[i].Language == lang {
				entry.Name = st.Captions[i].Name
				if entry.Name == "" {
					entry.Name = presession.LanguageName(lang)
				}
				entry.History = append(slices.Clone(st.Captions[i].History), change)
				st.Captions[i] = entry
				return nil
			}
		}
		entry.History = []presession.CaptionChange{change}
		st.Captions = append(st.Captions, entry)
		return nil
	})
	return entry, err
}

// keep copies the caption track at key to revision, before it is
// replaced.
func (h *Handler) keep(ctx context.Context, key, revision string) error {
	body, _, err := h.store.Get(ctx, key, nil)
	if presession.ErrorCode(err) == presession.ENOTFOUND {
		return nil // nothing to keep
	}
	if err != nil {
		return fmt.Errorf("read captions %s: %w", key, err)
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, MaxCaptionBytes+1))
	if err != nil {
		return fmt.Errorf("read captions %s: %w", key, err)
	}
	if err := h.store.Put(ctx, revision, bytes.NewReader(data), int64(len(data)),
		presession.PutOptions{ContentType: "text/vtt; charset=utf-8"}); err != nil {
		return fmt.Errorf("keep captions %s: %w", revision, err)
	}
	return nil
}

func tooLarge() error {
	return presession.Errorf(presession.ETOOLARGE, "the caption file is larger than %d KiB", MaxCaptionBytes/1024).
		Localize("staff.err.caption_large", MaxCaptionBytes/1024)
}
