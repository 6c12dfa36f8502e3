package playlist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
)

// Approved reads a country's approved statements in playlist order. The
// catalog provides it (the caller adapts).
type Approved interface {
	ApprovedInOrder(ctx context.Context, session, country string) ([]*presession.Statement, error)
}

// Store is what this package needs of storage; storage.Dir and storage.S3
// provide it. Get, Open and Stat of a missing key return an error with code
// presession.ENOTFOUND.
type Store interface {
	Put(ctx context.Context, key string, r io.Reader, size int64, o presession.PutOptions) error
	Get(ctx context.Context, key string, rng *presession.Range) (io.ReadCloser, presession.ObjectInfo, error)
	Stat(ctx context.Context, key string) (presession.ObjectInfo, error)
	// Open opens an object for http.ServeContent: it seeks, and reads
	// from storage only what is read from it.
	Open(ctx context.Context, key string) (io.ReadSeekCloser, presession.ObjectInfo, error)
	// List returns every object whose key starts with prefix.
	List(ctx context.Context, prefix string) ([]presession.ObjectInfo, error)
	// PublicURL is a URL a browser can fetch the object from itself for
	// ttl, or "" when there is none and the object is served from here.
	PublicURL(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// BuildKey is the storage key of the stored build of a country's playlist
// (layout.Build).
func BuildKey(session, country string) string { return layout.Build(session, country) }

// maxCaptionBytes bounds a caption read at rebuild time.
const maxCaptionBytes = 1 << 20

// Rebuilder rebuilds and stores a country's playlist.
type Rebuilder struct {
	Sessions *presession.Sessions
	Catalog  Approved
	Store    Store
	Log      *slog.Logger
	Now      func() time.Time // default time.Now
}

// Rebuild reads the approved statements of the country in order, measures
// where each one's media starts, reads their captions, builds, and stores
// the build under BuildKey unless the stored one has the same version.
// Running it again with the same input writes nothing; the stored bytes
// depend only on the input.
func (rb *Rebuilder) Rebuild(ctx context.Context, session, country string) error {
	_, _, err := rb.rebuild(ctx, session, country)
	return err
}

// RebuildVersion is Rebuild that also returns the version of the build it
// left stored, how many statements it plays, and whether this call wrote
// it (false when the stored build already had that version).
func (rb *Rebuilder) RebuildVersion(ctx context.Context, session, country string) (version string, statements int, changed bool, err error) {
	res, changed, err := rb.rebuild(ctx, session, country)
	if err != nil {
		return "", 0, false, err
	}
	return res.Version, len(res.Playlist.Statements), changed, nil
}

func (rb *Rebuilder) rebuild(ctx context.Context, session, country string) (*Result, bool, error) {
	sess, c, err := rb.Sessions.Lookup(session, country)
	if err != nil {
		return nil, false, err
	}
	list, err := rb.Catalog.ApprovedInOrder(ctx, sess.ID, c.Code)
	if err != nil {
		return nil, false, fmt.Errorf("playlist: rebuild %s/%s: %w", sess.ID, c.Code, err)
	}
	in := Input{Session: sess, Country: c, Statements: list,
		StartTimes: map[string]float64{}, Captions: map[string]string{}}
	if err := rb.readMedia(ctx, sess, list, &in); err != nil {
		return nil, false, fmt.Errorf("playlist: rebuild %s/%s: %w", sess.ID, c.Code, err)
	}
	res, err := Build(in)
	if err != nil {
		return nil, false, err
	}
	log := rb.logger().With("session", sess.ID, "country", c.Code)
	for _, s := range res.Skipped {
		log.WarnContext(ctx, "statement left out of the playlist", "statement", s.ID, "reason", s.Reason)
	}
	key := BuildKey(sess.ID, c.Code)
	if v, err := rb.storedVersion(ctx, key); err == nil && v == res.Version {
		return res, false, nil
	}
	enc, err := res.Encode()
	if err != nil {
		return nil, false, err
	}
	// The build is kept by when it became current, before it does, so
	// that a premiere finds the one that stood when its slot started.
	now := time.Now
	if rb.Now != nil {
		now = rb.Now
	}
	at := layout.BuildAt(sess.ID, c.Code, now(), res.Version)
	if err := rb.Store.Put(ctx, at, bytes.NewReader(enc), int64(len(enc)),
		presession.PutOptions{ContentType: "application/json", CacheControl: "no-cache"}); err != nil {
		return nil, false, fmt.Errorf("playlist: store %s: %w", at, err)
	}
	if err := rb.Store.Put(ctx, key, bytes.NewReader(enc), int64(len(enc)),
		presession.PutOptions{ContentType: "application/json", CacheControl: "no-cache"}); err != nil {
		return nil, false, fmt.Errorf("playlist: store %s: %w", key, err)
	}
	log.InfoContext(ctx, "playlist rebuilt", "version", res.Version, "statements", len(res.Playlist.Statements), "duration", res.Playlist.Duration)
	return res, true, nil
}

func (rb *Rebuilder) logger() *slog.Logger {
	if rb.Log != nil {
		return rb.Log
	}
	return slog.New(slog.DiscardHandler)
}

// storedVersion reads the version of a stored build from its first bytes:
// Encode writes the version first.
func (rb *Rebuilder) storedVersion(ctx context.Context, key string) (string, error) {
	body, _, err := rb.Store.Get(ctx, key, &presession.Range{Start: 0, End: 63})
	if err != nil {
		return "", err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, 64))
	if err != nil {
		return "", err
	}
	const prefix = `{"version":"`
	rest, ok := bytes.CutPrefix(b, []byte(prefix))
	if !ok {
		return "", errors.New("playlist: stored build has no leading version")
	}
	v, _, ok := bytes.Cut(rest, []byte(`"`))
	if !ok {
		return "", errors.New("playlist: stored build has no leading version")
	}
	return string(v), nil
}

// readMedia fills in.StartTimes and in.Captions, a few statements at a time.
func (rb *Rebuilder) readMedia(ctx context.Context, sess *presession.Session, list []*presession.Statement, in *Input) error {
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, s := range list {
		if s == nil || s.Media == nil || s.Status != presession.StatusApproved {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			start, caps, err := rb.readStatement(ctx, sess, s)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			in.StartTimes[s.ID] = start
			for l, text := range caps {
				in.Captions[l+"/"+s.ID] = text
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// readStatement measures where a statement's media starts and reads its
// captions in the session's languages. A caption or media file that is
// missing is logged and left out (the build still covers the statement);
// other storage errors fail the rebuild so that it is retried.
func (rb *Rebuilder) readStatement(ctx context.Context, sess *presession.Session, s *presession.Statement) (float64, map[string]string, error) {
	log := rb.logger().With("statement", s.ID)
	var start float64
	for i := range s.Media.Renditions {
		r := &s.Media.Renditions[i]
		if !usableRendition(r) {
			continue
		}
		init, err := rb.read(ctx, r.Init, nil, 1<<20)
		var first []byte
		if err == nil {
			first, err = rb.read(ctx, r.Segments[0].Key, &presession.Range{Start: 0, End: 256<<10 - 1}, 256<<10)
		}
		if presession.ErrorCode(err) == presession.ENOTFOUND {
			log.WarnContext(ctx, "media file missing; assuming the media starts at 0", "err", err)
			break
		}
		if err != nil {
			return 0, nil, err
		}
		starts, err := TrackStarts(init, first)
		if err != nil {
			log.WarnContext(ctx, "cannot measure the media start; assuming 0", "err", err)
			break
		}
		start = min(starts.Video, starts.Audio)
		if lead := starts.Video - starts.Audio; starts.HasAudio && starts.HasVideo && lead > 0.02 {
			log.WarnContext(ctx, "the statement's video starts after its audio; Chromium stalls at the boundary before it (encode with -bf 0 or movflags +negative_cts_offsets)", "seconds", lead)
		}
		break
	}
	caps := map[string]string{}
	for _, l := range sess.Languages {
		c, ok := s.Caption(l)
		if !ok || c.Key == "" {
			continue
		}
		b, err := rb.read(ctx, c.Key, nil, maxCaptionBytes)
		if presession.ErrorCode(err) == presession.ENOTFOUND {
			log.WarnContext(ctx, "caption file missing", "language", l, "key", c.Key)
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		caps[l] = string(b)
	}
	return start, caps, nil
}

func (rb *Rebuilder) read(ctx context.Context, key string, rng *presession.Range, limit int64) ([]byte, error) {
	body, _, err := rb.Store.Get(ctx, key, rng)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, limit))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return b, nil
}
