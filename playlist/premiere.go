package playlist

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
	"github.com/uprinfo/presession/web"
)

// Slots tells a country's slot in its session's programme, as staff left
// it; package programme's Store implements it.
type Slots interface {
	Slot(ctx context.Context, session, country string) (*presession.Slot, error) // nil: the country has none
}

// Audience records who watches a premiere: the viewer token (its id)
// behind each request for a live playlist. package programme's Audience
// implements it, counting them in Redis.
type Audience interface {
	Seen(ctx context.Context, session, country, viewer string) error
}

// WithAudience records, in a, every viewer token that asks for a live
// playlist (staff's requests are not counted).
func (h *Handler) WithAudience(a Audience) *Handler {
	h.mu.Lock()
	h.audience = a
	h.mu.Unlock()
	return h
}

// WithSlots serves the premieres of the countries that have a slot:
//
//	GET /playlists/{s}/{cc}/live.json                 where the premiere stands
//	GET /playlists/{s}/{cc}/live/master.m3u8          its multivariant playlist
//	GET /playlists/{s}/{cc}/live/{rung}.m3u8          event playlists by the clock
//	GET /playlists/{s}/{cc}/live/subs/{lang}.m3u8     …and of subtitles
//	GET /playlists/{s}/{cc}/live/subs/{lang}/{id}.vtt a subtitle segment
//	GET /playlists/{s}/{cc}/live/captions/{lang}.vtt  whole-premiere WebVTT
//
// under the access rules of the other playlists.
func (h *Handler) WithSlots(s Slots) *Handler {
	h.mu.Lock()
	h.slots = s
	h.mu.Unlock()
	return h
}

// premiereDeps returns the slots and audience the handler was given (nil
// when it was not), read under its lock: they may be given while it
// serves.
func (h *Handler) premiereDeps() (Slots, Audience) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.slots, h.audience
}

// premiereKey names a premiere: the country and its start (a slot that
// moves before it starts is another premiere).
type premiereKey struct {
	session, country string
	start            int64
}

// LiveStatus is the body of GET /playlists/{s}/{cc}/live.json.
type LiveStatus struct {
	// State is "scheduled" (before the start), "live", "ended" (every
	// segment listed) or "none" (the country has no slot, or nothing was
	// approved when it started).
	State        string    `json:"state"`
	Now          time.Time `json:"now"`
	Start        time.Time `json:"start,omitzero"`
	End          time.Time `json:"end,omitzero"` // of the slot
	Minutes      int       `json:"minutes,omitempty"`
	QuestionsURL string    `json:"questions_url,omitempty"`
	Note         string    `json:"note,omitempty"`
	// HLS is the live stream, once it has started; Recorded the
	// country's stitched stream, which stays once the premiere ends.
	HLS      string  `json:"hls,omitempty"`
	Recorded string  `json:"recorded,omitempty"`
	Duration float64 `json:"duration,omitempty"` // of the premiere's statements, seconds
	// TargetDuration is the live playlists' segment length bound,
	// seconds: players keep a few of them behind the newest segment.
	TargetDuration int `json:"target_duration,omitempty"`
	// Current is the index in Statements of the statement on air.
	Current    *int   `json:"current,omitempty"`
	Statements []Item `json:"statements,omitempty"`
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// premiereRequest authorises a live route and finds the country's slot
// and, once it has started, its premiere (nil before).
func (h *Handler) premiereRequest(w http.ResponseWriter, r *http.Request) (web.Principal, *presession.Session, presession.Country, *presession.Slot, *Premiere, bool) {
	fail := func(err error) (web.Principal, *presession.Session, presession.Country, *presession.Slot, *Premiere, bool) {
		h.site.Error(w, r, err)
		return web.Principal{}, nil, presession.Country{}, nil, nil, false
	}
	sess, c, err := h.site.Sessions.Lookup(r.PathValue("s"), r.PathValue("cc"))
	if err != nil {
		return fail(err)
	}
	p := h.site.Auth.Principal(r)
	err = p.Err()
	if err == nil {
		err = p.CanWatch(sess, c)
	}
	if err != nil {
		return fail(err)
	}
	var slot *presession.Slot
	if slots, _ := h.premiereDeps(); slots != nil {
		if slot, err = slots.Slot(r.Context(), sess.ID, c.Code); err != nil {
			return fail(err)
		}
	}
	if slot == nil {
		return p, sess, c, nil, nil, true
	}
	if h.now().Before(slot.Start) {
		return p, sess, c, slot, nil, true
	}
	pr, err := h.premiere(r.Context(), sess, c, slot.Start)
	if err != nil && presession.ErrorCode(err) != presession.ENOTFOUND {
		return fail(err)
	}
	return p, sess, c, slot, pr, true
}

// premiere returns the premiere of a country from start: the build that
// stood at start (the latest kept at or before it), from memory once
// found, since it cannot change. ENOTFOUND when nothing was approved then.
func (h *Handler) premiere(ctx context.Context, sess *presession.Session, c presession.Country, start time.Time) (*Premiere, error) {
	k := premiereKey{sess.ID, c.Code, start.UnixNano()}
	h.mu.Lock()
	pr, ok := h.premieres[k]
	h.mu.Unlock()
	if ok {
		return pr, nil
	}
	res, err := h.buildAt(ctx, sess, c, start)
	if err != nil {
		return nil, err
	}
	if pr, err = NewPremiere(res, start); err != nil {
		return nil, presession.Errorf(presession.ENOTFOUND, "nothing on %s was approved when its premiere started", c.Name).
			Localize("err.premiere_empty", c.Name)
	}
	h.mu.Lock()
	if len(h.premieres) >= 256 {
		clear(h.premieres)
	}
	h.premieres[k] = pr
	h.mu.Unlock()
	return pr, nil
}

// buildAt reads the build of a country's playlist that was current at t:
// the latest kept one stored at or before t; without any kept (a build
// older than the keeping), the current build when it was stored by t.
func (h *Handler) buildAt(ctx context.Context, sess *presession.Session, c presession.Country, t time.Time) (*Result, error) {
	list, err := h.store.List(ctx, layout.BuildsOf(sess.ID, c.Code))
	if err != nil {
		return nil, err
	}
	key, best := "", time.Time{}
	for _, o := range list {
		at, _, ok := layout.ParseBuildAt(o.Key)
		if ok && !at.After(t) && (key == "" || at.After(best)) {
			key, best = o.Key, at
		}
	}
	if key == "" && len(list) == 0 {
		info, err := h.store.Stat(ctx, BuildKey(sess.ID, c.Code))
		if err == nil && !info.ModTime.After(t) {
			key = BuildKey(sess.ID, c.Code)
		}
	}
	if key == "" {
		return Build(Input{Session: sess, Country: c})
	}
	body, _, err := h.store.Get(ctx, key, nil)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, fmt.Errorf("playlist: read %s: %w", key, err)
	}
	return DecodeResult(b)
}

// liveBase is the path of a country's live files.
func liveBase(sess *presession.Session, c presession.Country) string {
	return "/playlists/" + url.PathEscape(sess.ID) + "/" + c.Code + "/live/"
}

// serveLiveStatus serves GET /playlists/{s}/{cc}/live.json.
func (h *Handler) serveLiveStatus(w http.ResponseWriter, r *http.Request) {
	p, sess, c, slot, pr, ok := h.premiereRequest(w, r)
	if !ok {
		return
	}
	st := h.liveStatus(sess, c, slot, pr, p.Key)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(st); err != nil {
		h.site.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(buf.Bytes())
}

// Live is where the premiere of a country stands now, as live.json tells
// it, with URIs for staff (no key): what the staff's programme page shows.
func (h *Handler) Live(ctx context.Context, session, country string) (LiveStatus, error) {
	sess, c, err := h.site.Sessions.Lookup(session, country)
	if err != nil {
		return LiveStatus{}, err
	}
	var slot *presession.Slot
	if slots, _ := h.premiereDeps(); slots != nil {
		if slot, err = slots.Slot(ctx, sess.ID, c.Code); err != nil {
			return LiveStatus{}, err
		}
	}
	var pr *Premiere
	if slot != nil && !h.now().Before(slot.Start) {
		if pr, err = h.premiere(ctx, sess, c, slot.Start); err != nil && presession.ErrorCode(err) != presession.ENOTFOUND {
			return LiveStatus{}, err
		}
	}
	return h.liveStatus(sess, c, slot, pr, ""), nil
}

// liveStatus is where the premiere pr (nil before the start, or when
// nothing was approved then) of a country's slot (nil: none) stands now,
// its URIs carrying key.
func (h *Handler) liveStatus(sess *presession.Session, c presession.Country, slot *presession.Slot, pr *Premiere, key string) LiveStatus {
	now := h.now().UTC()
	st := LiveStatus{State: "none", Now: now.Truncate(time.Millisecond)}
	if slot != nil {
		st.Start, st.End, st.Minutes = slot.Start.UTC(), slot.End().UTC(), slot.Minutes
		st.QuestionsURL, st.Note = slot.QuestionsURL, slot.Note
		st.Recorded = addKey("/playlists/"+url.PathEscape(sess.ID)+"/"+c.Code+"/master.m3u8", key)
		switch {
		case now.Before(slot.Start):
			st.State = "scheduled"
		case pr != nil:
			st.State = "live"
			if pr.Ended(now) && !now.Before(pr.End()) {
				st.State = "ended"
			}
			st.HLS = addKey(liveBase(sess, c)+"master.m3u8", key)
			st.Duration = pr.Duration
			st.TargetDuration = pr.TargetDuration()
			st.Statements = Playlist{Statements: pr.Items()}.WithKey(key).Statements
			if _, i, on := pr.Current(now); on {
				st.Current = &i
			}
		}
	}
	return st
}

// serveLiveFile serves the live playlists and subtitle segments.
func (h *Handler) serveLiveFile(w http.ResponseWriter, r *http.Request) {
	p, sess, c, slot, pr, ok := h.premiereRequest(w, r)
	if !ok {
		return
	}
	switch {
	case slot == nil:
		h.site.Error(w, r, presession.Errorf(presession.ENOTFOUND, "%s has no slot in the programme, so there is no premiere; its recorded stream is at its watch page", c.Name).
			Localize("err.no_slot", c.Name))
		return
	case pr == nil && h.now().Before(slot.Start):
		wait := slot.Start.Sub(h.now())
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		h.site.Error(w, r, presession.Errorf(presession.ENOTFOUND, "the premiere of %s starts at %s Geneva time (%s UTC)", c.Name,
			slot.Start.In(presession.Geneva).Format("2 January 2006 15:04"), slot.Start.UTC().Format("15:04")).
			Localize("err.premiere_not_yet", c.Name, slot.Start.In(presession.Geneva).Format("2006-01-02 15:04"), slot.Start.UTC().Format("15:04")))
		return
	case pr == nil:
		h.site.Error(w, r, presession.Errorf(presession.ENOTFOUND, "nothing on %s was approved when its premiere started", c.Name).
			Localize("err.premiere_empty", c.Name))
		return
	}
	rel := strings.TrimPrefix(r.URL.Path, "/playlists/"+r.PathValue("s")+"/"+r.PathValue("cc")+"/live/")
	if strings.HasSuffix(rel, ".m3u8") {
		h.seen(r, p, sess, c)
	}
	if lang, file, isCue := strings.Cut(strings.TrimPrefix(rel, "subs/"), "/"); strings.HasPrefix(rel, "subs/") && isCue {
		h.serveLiveCue(w, r, pr, lang, file)
		return
	}
	if strings.HasPrefix(rel, "captions/") {
		// The premiere's whole-stream caption tracks, for players that do
		// not show an HLS subtitle group (Chromium's own HLS).
		text, ok := pr.captions[rel]
		if !ok {
			h.site.Error(w, r, presession.Errorf(presession.ENOTFOUND, "no such caption").Localize("err.no_caption"))
			return
		}
		serveBytes(w, r, []byte(text), "text/vtt; charset=utf-8", etag(pr.Version, "live/"+rel, ""), playlistCache)
		return
	}
	text, ok := pr.File(rel, h.now())
	if !ok || path.Ext(rel) != ".m3u8" {
		h.site.Error(w, r, presession.Errorf(presession.ENOTFOUND, "no such playlist").Localize("err.no_playlist"))
		return
	}
	// A live playlist changes with every segment: a player polls it, and
	// nothing in between may keep it longer than a second.
	cache := "private, max-age=1"
	if rel == "master.m3u8" || pr.Ended(h.now()) {
		cache = playlistCache
	}
	w.Header().Set("Cache-Control", cache)
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Write([]byte(WithKey(text, p.Key)))
}

// serveLiveCue serves a subtitle segment of the premiere's build.
func (h *Handler) serveLiveCue(w http.ResponseWriter, r *http.Request, pr *Premiere, lang, file string) {
	id, ok := strings.CutSuffix(file, ".vtt")
	src, found := pr.cues[lang+"/"+id]
	if !ok || !found {
		h.site.Error(w, r, presession.Errorf(presession.ENOTFOUND, "no such caption").Localize("err.no_caption"))
		return
	}
	serveBytes(w, r, []byte(SegmentVTT(src.Text, src.MPEGTS)), "text/vtt; charset=utf-8", etag(pr.Version, "live/cue/"+lang+"/"+id, ""), playlistCache)
}

// seen tells the audience that the viewer behind r asks for a live
// playlist of c. A token without an id (issued before tokens had one) is
// told apart by its claims. A failure is logged: counting viewers never
// stops one from watching.
func (h *Handler) seen(r *http.Request, p web.Principal, sess *presession.Session, c presession.Country) {
	_, audience := h.premiereDeps()
	if audience == nil || p.Kind != web.KindViewer || p.Viewer == nil {
		return
	}
	id := p.Viewer.ID
	if id == "" {
		sum := sha256.Sum256([]byte(p.Viewer.Session + "\x00" + p.Viewer.Country + "\x00" + p.Viewer.IssuedAt.String() + "\x00" + p.Viewer.Expires.String()))
		id = "claims:" + hex.EncodeToString(sum[:8])
	}
	if err := audience.Seen(r.Context(), sess.ID, c.Code, id); err != nil {
		h.site.Log.WarnContext(r.Context(), "premiere audience not recorded", "session", sess.ID, "country", c.Code, "err", err)
	}
}
