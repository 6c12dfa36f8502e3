// Package drafts is an organisation's own captions: the one WebVTT or SRT
// file it may send per session language with its statement, kept as sent
// at layout.CaptionDraft, and the caption track of that language started
// from it once the video's length is known. The upload side (which takes
// the file) and the worker (which makes the tracks) both go through this
// package, so a track is the same whichever of them made it.
//
// A track made from a draft is a pure function of the draft as stored and
// the video's length: its WebVTT is the draft converted by
// media.ParseCaptions, and its record says Draft, the organisation's actor
// and one history entry timed at when storage received the file. Made
// again from the same file it is the same, bytes and record.
package drafts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/i18n"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/media"
)

// Store is what drafts need of storage.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, o presession.PutOptions) error
	Get(ctx context.Context, key string, rng *presession.Range) (io.ReadCloser, presession.ObjectInfo, error)
}

// Statements is what drafts need of the catalog.
type Statements interface {
	Get(ctx context.Context, id string) (*presession.Statement, error)
	Update(ctx context.Context, id string, fn func(*presession.Statement) error) (*presession.Statement, error)
}

// CaptionLocker is optional on Statements (the catalog has it): with it,
// applying a file holds the track's lock, which staff's caption changes
// hold too, so that neither writes its file between the other's file and
// record.
type CaptionLocker interface {
	LockCaption(ctx context.Context, id, lang string) (release func(), err error)
}

// Draft is an organisation's captions file as storage keeps it.
type Draft struct {
	Data []byte
	// At is when storage received it, to the second: the time of the
	// track made from it.
	At   time.Time
	ETag string // tells one stored file from the next
}

// Save stores data, as the organisation sent it, as the draft in lang of
// statement id, replacing any earlier one.
func Save(ctx context.Context, store Store, id, lang string, data []byte) error {
	key := layout.CaptionDraft(id, lang)
	ct := "application/x-subrip; charset=utf-8"
	if isVTT(data) {
		ct = "text/vtt; charset=utf-8"
	}
	if err := store.Put(ctx, key, bytes.NewReader(data), int64(len(data)),
		presession.PutOptions{ContentType: ct, CacheControl: "no-store"}); err != nil {
		return fmt.Errorf("store captions draft %s: %w", key, err)
	}
	return nil
}

func isVTT(data []byte) bool {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	return bytes.HasPrefix(data, []byte("WEBVTT"))
}

// Read returns the draft in lang of statement id; nil when there is none.
func Read(ctx context.Context, store Store, id, lang string) (*Draft, error) {
	key := layout.CaptionDraft(id, lang)
	rc, info, err := store.Get(ctx, key, nil)
	if presession.ErrorCode(err) == presession.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read captions draft %s: %w", key, err)
	}
	defer rc.Close()
	// A draft was checked against media.MaxCaptionBytes before it was
	// stored; reading one byte more tells a file put there otherwise.
	data, err := io.ReadAll(io.LimitReader(rc, media.MaxCaptionBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read captions draft %s: %w", key, err)
	}
	return &Draft{Data: data, At: info.ModTime.UTC().Truncate(time.Second), ETag: info.ETag}, nil
}

// Check checks data before the video's length is known, with what can be
// checked then: everything media.ParseCaptions checks but the end of the
// video — the syntax, the encoding, the size, cues that end after they
// start and come in time order — and, for the end, that no cue starts
// after the longest statement the session accepts (maxSeconds; no bound
// when 0), which no video of the session can reach. It returns the number
// of cues; a refusal is a *media.CaptionError. Once the video is
// processed, the worker checks the file again against its real length.
func Check(data []byte, maxSeconds float64) (int, error) {
	vtt, err := media.ParseCaptions(data, 0)
	if err != nil {
		return 0, err
	}
	if last := lastStart(vtt); maxSeconds > 0 && last > maxSeconds+1 {
		text, msg := i18n.Reason("reject.caption.past_limit",
			"a cue starts at %s, after the longest statement this session accepts (%s)",
			presession.ClockDuration(last), presession.ClockDuration(maxSeconds))
		return 0, &media.CaptionError{Reason: text, Key: msg.Key, Args: msg.Args}
	}
	return media.CountCues(vtt), nil
}

// lastStart is the latest cue start of a WebVTT file ParseCaptions wrote
// (its cues sorted by start, each timing "HH:MM:SS.mmm --> …").
func lastStart(vtt []byte) float64 {
	last := 0.0
	for _, l := range strings.Split(string(vtt), "\n") {
		start, _, ok := strings.Cut(l, " --> ")
		if !ok {
			continue
		}
		var h, m, s, ms int
		if _, err := fmt.Sscanf(start, "%d:%d:%d.%d", &h, &m, &s, &ms); err == nil {
			last = max(last, float64(h*3600+m*60+s)+float64(ms)/1000)
		}
	}
	return last
}

// Track makes the caption track in lang of st, stored at key, from the
// organisation's draft d, for media of duration seconds. When d is usable
// the track starts from it: vtt is d converted to WebVTT and the track is
// the organisation's draft (Placeholder false, Draft true, UpdatedBy the
// invitation's actor, one history entry). When it is not (a cue past the
// end, say), vtt is nil and the track is a placeholder that says why
// (DraftRefused…): the caller writes the placeholder's file.
func Track(st *presession.Statement, lang, key string, d *Draft, duration float64) (vtt []byte, c presession.Caption) {
	c = presession.Caption{Language: lang, Name: presession.LanguageName(lang), Key: key}
	if old, ok := st.Caption(lang); ok && old.Name != "" {
		c.Name = old.Name
	}
	vtt, err := media.ParseCaptions(d.Data, duration)
	if err != nil {
		c.Placeholder = true
		c.DraftRefused = err.Error()
		var ce *media.CaptionError
		if errors.As(err, &ce) {
			c.DraftRefusedKey, c.DraftRefusedArgs = ce.Key, ce.Args
		}
		return nil, c
	}
	by := string(presession.ActorCSO(st.InvitationID))
	c.Draft, c.UpdatedAt, c.UpdatedBy = true, d.At, by
	c.History = []presession.CaptionChange{{At: d.At, By: by, Source: presession.CaptionFromDraft, Cues: media.CountCues(vtt)}}
	return vtt, c
}

// Applicable reports whether st is where a draft that arrives is made its
// track at once: processed (ready) and so with the video's length known.
// Before that the worker makes the tracks when it processes st; after a
// decision the organisation's files are no longer taken (see upload).
func Applicable(st *presession.Statement) bool {
	return st.Status == presession.StatusReady && st.Media != nil && st.Media.Duration > 0
}

// Apply makes the draft in lang of statement id its caption track, now,
// when the statement is Applicable and its track in lang is OpenToDraft:
// the track's file is replaced by the draft converted (or, for a draft
// that cannot be used, by the placeholder, saying why) and its record
// updated as the worker would have. A draft whose ETag is skip (one the
// caller has just made the track from) is left alone. It reports whether
// it changed the track.
//
// The upload side calls it after storing a draft, the worker after a
// statement became ready: each writes before it reads what the other
// writes (the draft, then the status; the status, then the draft), so
// at least one of them sees both and no draft is lost between them. Both
// may apply the same draft: a track made again from it is the same. A
// newer draft stored meanwhile is taken before Apply returns, so the last
// file sent is the one that stays.
func Apply(ctx context.Context, store Store, stmts Statements, id, lang, skip string) (bool, error) {
	changed := false
	for range 3 {
		d, err := Read(ctx, store, id, lang)
		if err != nil || d == nil || d.ETag == skip && skip != "" {
			return changed, err
		}
		did, err := lockedApply(ctx, store, stmts, id, lang, d)
		changed = changed || did
		if err != nil || !did {
			return changed, err
		}
		// Whoever stored a newer file meanwhile may have seen the track
		// before this change and left it to us.
		skip = d.ETag
	}
	return changed, nil
}

// lockedApply is apply holding the track's lock, when stmts has one.
func lockedApply(ctx context.Context, store Store, stmts Statements, id, lang string, d *Draft) (bool, error) {
	if l, ok := stmts.(CaptionLocker); ok {
		release, err := l.LockCaption(ctx, id, lang)
		if err != nil {
			return false, err
		}
		defer release()
	}
	return apply(ctx, store, stmts, id, lang, d)
}

// apply makes d the track in lang of statement id, if it may.
func apply(ctx context.Context, store Store, stmts Statements, id, lang string, d *Draft) (bool, error) {
	st, err := stmts.Get(ctx, id)
	if err != nil {
		return false, err
	}
	if !Applicable(st) {
		return false, nil
	}
	cur, ok := st.Caption(lang)
	if !ok || !cur.OpenToDraft() {
		return false, nil
	}
	key := cur.Key
	if key == "" {
		key = layout.Caption(id, lang)
	}
	vtt, c := Track(st, lang, key, d, st.Media.Duration)
	if vtt == nil {
		vtt = media.PlaceholderVTT(lang, st.Media.Duration, st.Speaker, st.Organisation)
	}
	changed := false
	// The file is written inside the record's update, after the track
	// was seen open to the draft in the same transaction: a track staff
	// changed before it is never written over.
	_, err = stmts.Update(ctx, id, func(s *presession.Statement) error {
		changed = false
		for i := range s.Captions {
			if s.Captions[i].Language != lang {
				continue
			}
			if !s.Captions[i].OpenToDraft() || !Applicable(s) {
				return nil
			}
			if err := store.Put(ctx, key, bytes.NewReader(vtt), int64(len(vtt)),
				presession.PutOptions{ContentType: "text/vtt; charset=utf-8", CacheControl: "no-cache"}); err != nil {
				return fmt.Errorf("store captions %s: %w", key, err)
			}
			s.Captions[i], changed = c, true
			return nil
		}
		return nil
	})
	return changed, err
}
