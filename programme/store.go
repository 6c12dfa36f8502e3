package programme

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/layout"
)

// Blobs is the part of storage the programme is kept in; storage.Store
// gives it (through catalog.StorageBlobs).
type Blobs interface {
	WriteObject(ctx context.Context, key string, data []byte, contentType string) error
	ReadObject(ctx context.Context, key string) ([]byte, error) // ENOTFOUND when none
	ListKeys(ctx context.Context, prefix string) ([]string, error)
}

// Store keeps staff's changes to each session's programme over the
// sessions file's slots: in storage (programme/{s}.json), written first,
// and in Redis, which every node reads, so that a change holds everywhere
// at once and survives a restart with an empty Redis (Reindex).
type Store struct {
	rdb      redis.Cmdable
	blobs    Blobs
	prefix   string
	sessions *presession.Sessions
	now      func() time.Time
	// Approved, when set, gives how long a country's approved
	// statements last, in seconds, so that a slot too short for them is
	// refused.
	Approved func(ctx context.Context, session, country string) (float64, error)
}

// NewStore returns the programme store of sessions, in rdb under prefix
// (the service's key prefix) and in blobs. now nil is time.Now.
func NewStore(rdb redis.Cmdable, blobs Blobs, prefix string, sessions *presession.Sessions, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{rdb: rdb, blobs: blobs, prefix: prefix + "programme:", sessions: sessions, now: now}
}

func (s *Store) key(session string) string { return s.prefix + session }

// Changes returns staff's changes to the programme of session (an empty
// Programme when there are none).
func (s *Store) Changes(ctx context.Context, session string) (*presession.Programme, error) {
	raw, err := s.rdb.Get(ctx, s.key(session)).Bytes()
	if errors.Is(err, redis.Nil) {
		return &presession.Programme{Session: session, Slots: map[string]*presession.Slot{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("programme %s: %w", session, err)
	}
	var p presession.Programme
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("programme %s: %w", session, err)
	}
	if p.Slots == nil {
		p.Slots = map[string]*presession.Slot{}
	}
	return &p, nil
}

// Programme returns the programme of session as it stands: the countries
// with a slot, by start.
func (s *Store) Programme(ctx context.Context, session string) ([]presession.Scheduled, *presession.Programme, error) {
	sess, ok := s.sessions.Find(session)
	if !ok {
		return nil, nil, presession.Errorf(presession.ENOTFOUND, "there is no session %q", session).Localize("err.session_unknown", session)
	}
	p, err := s.Changes(ctx, session)
	if err != nil {
		return nil, nil, err
	}
	return sess.Programme(p), p, nil
}

// Slot returns the slot of a country as it stands; nil when it has none.
func (s *Store) Slot(ctx context.Context, session, country string) (*presession.Slot, error) {
	list, _, err := s.Programme(ctx, session)
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		if strings.EqualFold(e.Country.Code, country) {
			slot := e.Slot
			return &slot, nil
		}
	}
	return nil, nil
}

// SetSlot gives a country of session the slot (nil: no slot), as staff
// by decided. It refuses (ECONFLICT) to move or remove a slot that has
// started, or to put one in the past; and (EINVALID) a slot that is
// invalid, overlaps another of the session, or is shorter than the
// country's approved statements.
func (s *Store) SetSlot(ctx context.Context, session, country string, slot *presession.Slot, by presession.Actor) (*presession.Programme, error) {
	sess, c, err := s.sessions.Lookup(session, country)
	if err != nil {
		return nil, err
	}
	now := s.now()
	current, err := s.Slot(ctx, sess.ID, c.Code)
	if err != nil {
		return nil, err
	}
	if current != nil && !now.Before(current.Start) && (slot == nil || !slot.Equal(*current)) {
		return nil, presession.Errorf(presession.ECONFLICT, "the slot of %s has started; it can no longer move", c.Name).Localize("err.slot_started", c.Name)
	}
	if slot != nil {
		if err := slot.Check(); err != nil {
			return nil, err
		}
		if (current == nil || !slot.Equal(*current)) && slot.Start.Before(now) {
			return nil, presession.Errorf(presession.ECONFLICT, "a slot cannot start in the past").Localize("err.slot_past")
		}
		if s.Approved != nil {
			secs, err := s.Approved(ctx, sess.ID, c.Code)
			if err != nil {
				return nil, err
			}
			if err := slot.Fits(secs); err != nil {
				return nil, err
			}
		}
	}
	p, err := s.Changes(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	if slot != nil {
		v := *slot
		v.Start = v.Start.Truncate(time.Second)
		slot = &v
	}
	p.Session, p.UpdatedAt, p.UpdatedBy = sess.ID, now.UTC().Truncate(time.Second), by
	p.Slots[c.Code] = slot
	if err := presession.CheckProgramme(sess.Title, sess.Programme(p)); err != nil {
		return nil, err
	}
	if err := s.write(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// write stores p in storage, then in Redis.
func (s *Store) write(ctx context.Context, p *presession.Programme) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := s.blobs.WriteObject(ctx, layout.Programme(p.Session), b, "application/json"); err != nil {
		return fmt.Errorf("programme %s: %w", p.Session, err)
	}
	if err := s.rdb.Set(ctx, s.key(p.Session), b, 0).Err(); err != nil {
		return fmt.Errorf("programme %s: %w", p.Session, err)
	}
	return nil
}

// Reindex puts every programme kept in storage back in Redis, and
// returns how many.
func (s *Store) Reindex(ctx context.Context) (int, error) {
	keys, err := s.blobs.ListKeys(ctx, layout.Programmes)
	if err != nil {
		return 0, fmt.Errorf("programme: reindex: %w", err)
	}
	n := 0
	for _, k := range keys {
		if !strings.HasSuffix(k, ".json") {
			continue
		}
		b, err := s.blobs.ReadObject(ctx, k)
		if err != nil {
			return n, fmt.Errorf("programme: reindex %s: %w", k, err)
		}
		var p presession.Programme
		if err := json.Unmarshal(b, &p); err != nil || p.Session == "" {
			return n, fmt.Errorf("programme: reindex %s: not a programme: %v", k, err)
		}
		if err := s.rdb.Set(ctx, s.key(p.Session), b, 0).Err(); err != nil {
			return n, fmt.Errorf("programme: reindex: %w", err)
		}
		n++
	}
	return n, nil
}
