package desk

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/uprinfo/presession"
)

// Catalog is the part of the statement catalog the desk reads;
// *catalog.Catalog implements it.
type Catalog interface {
	Get(ctx context.Context, id string) (*presession.Statement, error)
	List(ctx context.Context, f presession.Filter) ([]*presession.Statement, int, error)
	CountryCounts(ctx context.Context, session string, countries []string) (map[string]map[presession.Status]int, error)
}

// Programme is where the countries' slots come from; package programme's
// Store implements it.
type Programme interface {
	Programme(ctx context.Context, session string) ([]presession.Scheduled, *presession.Programme, error)
}

// Scope narrows the queue to one session, and within it to one country
// ("" for any).
type Scope struct{ Session, Country string }

// Queue hands out the statements awaiting review, one per reviewer at a
// time.
type Queue struct {
	cat       Catalog
	programme Programme // nil: no slots, oldest first
	claims    *Claims
	sessions  *presession.Sessions
}

// NewQueue returns the queue over cat, ordered by programme's slots when
// it is not nil, its claims in claims.
func NewQueue(cat Catalog, programme Programme, claims *Claims, sessions *presession.Sessions) *Queue {
	return &Queue{cat: cat, programme: programme, claims: claims, sessions: sessions}
}

// Claims are the queue's claims.
func (q *Queue) Claims() *Claims { return q.claims }

// Waiting is the queue as one reviewer sees it.
type Waiting struct {
	// Order is every statement awaiting review in scope, in the order the
	// queue offers them.
	Order []*presession.Statement
	// Others holds who (another reviewer) has each claimed statement.
	Others map[string]presession.Actor
	// Skipped are the statements this reviewer skipped.
	Skipped map[string]bool
}

// Free is how many statements the reviewer could be given now: neither
// held by another reviewer nor skipped.
func (w Waiting) Free() int {
	n := 0
	for _, s := range w.Order {
		if w.Others[s.ID] == "" && !w.Skipped[s.ID] {
			n++
		}
	}
	return n
}

// SkippedCount is how many statements awaiting review the reviewer
// skipped.
func (w Waiting) SkippedCount() int {
	n := 0
	for _, s := range w.Order {
		if w.Skipped[s.ID] && w.Others[s.ID] == "" {
			n++
		}
	}
	return n
}

// Waiting returns the statements awaiting review in scope, in queue order,
// with who holds them and what actor skipped.
func (q *Queue) Waiting(ctx context.Context, scope Scope, actor presession.Actor) (Waiting, error) {
	list, _, err := q.cat.List(ctx, presession.Filter{Session: scope.Session, Country: scope.Country, Status: presession.StatusReady})
	if err != nil {
		return Waiting{}, err
	}
	starts, err := q.slotStarts(ctx, list)
	if err != nil {
		return Waiting{}, err
	}
	Sort(list, starts)
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	holders, err := q.claims.Holders(ctx, ids)
	if err != nil {
		return Waiting{}, err
	}
	for id, a := range holders {
		if a == actor {
			delete(holders, id)
		}
	}
	skipped, err := q.claims.Skipped(ctx, actor)
	if err != nil {
		return Waiting{}, err
	}
	return Waiting{Order: list, Others: holders, Skipped: skipped}, nil
}

// slotStarts returns the start of the programme slot of each
// "session/CC" of list that has one.
func (q *Queue) slotStarts(ctx context.Context, list []*presession.Statement) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if q.programme == nil {
		return out, nil
	}
	seen := map[string]bool{}
	for _, s := range list {
		if seen[s.Session] {
			continue
		}
		seen[s.Session] = true
		slots, _, err := q.programme.Programme(ctx, s.Session)
		if presession.ErrorCode(err) == presession.ENOTFOUND {
			continue // a session no longer in the sessions file: no slots
		}
		if err != nil {
			return nil, err
		}
		for _, e := range slots {
			out[s.Session+"/"+strings.ToUpper(e.Country.Code)] = e.Slot.Start
		}
	}
	return out, nil
}

// Sort orders statements awaiting review as the queue offers them: first
// the countries whose programme slot comes first (starts maps
// "session/CC" to its slot's start), then the countries without a slot;
// within a country, and among countries without a slot, the statement
// that has waited longest (uploaded first) first.
func Sort(list []*presession.Statement, starts map[string]time.Time) {
	waited := func(s *presession.Statement) time.Time {
		if !s.UploadedAt.IsZero() {
			return s.UploadedAt
		}
		return s.CreatedAt
	}
	slices.SortStableFunc(list, func(a, b *presession.Statement) int {
		sa, okA := starts[a.Session+"/"+a.Country]
		sb, okB := starts[b.Session+"/"+b.Country]
		switch {
		case okA && !okB:
			return -1
		case okB && !okA:
			return 1
		case okA && okB:
			if c := sa.Compare(sb); c != 0 {
				return c
			}
			if c := cmp.Compare(a.Session+"/"+a.Country, b.Session+"/"+b.Country); c != 0 {
				return c
			}
		}
		if c := waited(a).Compare(waited(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// Next gives actor the statement to review: the one actor already holds
// while it still awaits review (a reload keeps it), else the first of the
// queue that no other reviewer holds and actor did not skip, claimed for
// actor. When only skipped statements are left, the first of them is
// given; nil when none is free at all.
func (q *Queue) Next(ctx context.Context, scope Scope, actor presession.Actor) (*presession.Statement, Waiting, error) {
	w, err := q.Waiting(ctx, scope, actor)
	if err != nil {
		return nil, w, err
	}
	held, err := q.claims.Held(ctx, actor)
	if err != nil {
		return nil, w, err
	}
	if held != "" {
		for _, s := range w.Order {
			if s.ID == held && w.Others[s.ID] == "" {
				if _, ok, err := q.claims.Claim(ctx, s.ID, actor); err != nil || ok {
					return s, w, err
				}
			}
		}
	}
	for _, pass := range []bool{false, true} { // unskipped first, then skipped
		for _, s := range w.Order {
			if w.Others[s.ID] != "" || w.Skipped[s.ID] != pass {
				continue
			}
			holder, ok, err := q.claims.Claim(ctx, s.ID, actor)
			if err != nil {
				return nil, w, err
			}
			if ok {
				if pass { // the skipped come round again: start a new round
					if err := q.claims.ClearSkips(ctx, actor); err != nil {
						return nil, w, err
					}
					w.Skipped = map[string]bool{}
				}
				return s, w, nil
			}
			w.Others[s.ID] = holder // taken a moment ago
		}
	}
	if held != "" { // held, but no longer awaiting review
		if err := q.claims.Release(ctx, held, actor); err != nil {
			return nil, w, err
		}
	}
	return nil, w, nil
}

// Counts is one country's line of the desk's counts.
type Counts struct {
	Session, Country                 string
	Approved, Awaiting, Failed, Busy int // Busy: uploading or being processed
}

// Counts returns the counts of every country of the sessions in scope.
func (q *Queue) Counts(ctx context.Context, scope Scope) ([]Counts, error) {
	var out []Counts
	for i := range q.sessions.List {
		sess := &q.sessions.List[i]
		if scope.Session != "" && sess.ID != scope.Session {
			continue
		}
		codes := make([]string, 0, len(sess.Countries))
		for _, c := range sess.Countries {
			if scope.Country == "" || strings.EqualFold(scope.Country, c.Code) {
				codes = append(codes, c.Code)
			}
		}
		counts, err := q.cat.CountryCounts(ctx, sess.ID, codes)
		if err != nil {
			return nil, err
		}
		for _, cc := range codes {
			n := counts[strings.ToUpper(cc)]
			out = append(out, Counts{Session: sess.ID, Country: strings.ToUpper(cc),
				Approved: n[presession.StatusApproved], Awaiting: n[presession.StatusReady], Failed: n[presession.StatusFailed],
				Busy: n[presession.StatusUploading] + n[presession.StatusUploaded] + n[presession.StatusProcessing]})
		}
	}
	return out, nil
}
