package catalog

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/uprinfo/presession"
)

type getter interface {
	Get(ctx context.Context, key string) *redis.StringCmd
}

// load reads a statement record; ENOTFOUND when there is none.
func (c *Catalog) load(ctx context.Context, g getter, id string) (*presession.Statement, []byte, error) {
	raw, err := g.Get(ctx, c.kStmt(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil, presession.Errorf(presession.ENOTFOUND, "statement %s not found", id).Localize("err.statement_not_found", id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("catalog: get %s: %w", id, err)
	}
	s, err := decode(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("catalog: record of %s: %w", id, err)
	}
	return s, raw, nil
}

func decode(raw []byte) (*presession.Statement, error) {
	var s presession.Statement
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func validID(id string) bool {
	if id == "" || id == "." || id == ".." || len(id) > 200 || !utf8.ValidString(id) {
		return false
	}
	return !strings.ContainsFunc(id, func(r rune) bool {
		return r == '/' || r == '\\' || r == ':' || unicode.IsSpace(r) || unicode.IsControl(r)
	})
}

func validSession(s string) bool {
	return s != "" && !strings.ContainsAny(s, "/?#% \\")
}

// Create records a new statement. Its ID, Session, Country (normalised to
// upper case) and InvitationID are fixed from then on. The statement's
// Begin sets its initial status, times and creation event, on s itself.
//
// Create is idempotent by ID: when the ID exists it changes nothing and
// returns an ECONFLICT error wrapping ErrExists.
func (c *Catalog) Create(ctx context.Context, s *presession.Statement) error {
	if !validID(s.ID) {
		return presession.Errorf(presession.EINVALID, "statement id %q is not valid", s.ID)
	}
	if !validSession(s.Session) {
		return presession.Errorf(presession.EINVALID, "session %q is not valid", s.Session)
	}
	s.Country = strings.ToUpper(s.Country)
	if !presession.IsCountryCode(s.Country) {
		return presession.Errorf(presession.EINVALID, "country %q is not an ISO 3166-1 alpha-2 code", s.Country)
	}
	if err := s.Begin(c.clock()); err != nil {
		return err
	}
	rec, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("catalog: create %s: %w", s.ID, err)
	}
	key := c.kStmt(s.ID)
	exists := false
	err = c.watch(ctx, func(tx *redis.Tx) error {
		n, err := tx.Exists(ctx, key).Result()
		if err != nil {
			return err
		}
		if exists = n > 0; exists {
			return nil
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, rec, 0)
			c.addIndexes(ctx, p, s)
			p.SAdd(ctx, c.kDirty(), mStmt(s.ID))
			return nil
		})
		return err
	}, key)
	if err != nil {
		return fmt.Errorf("catalog: create %s: %w", s.ID, err)
	}
	if exists {
		// A repeated call may be the retry of one whose storage write
		// failed: finish that write, best effort.
		_ = c.syncIfDirty(ctx, mStmt(s.ID))
		return &presession.Error{Code: presession.ECONFLICT, Message: fmt.Sprintf("statement %s already exists", s.ID), Err: ErrExists}
	}
	return c.sync(ctx, mStmt(s.ID))
}

func (c *Catalog) addIndexes(ctx context.Context, p redis.Pipeliner, s *presession.Statement) {
	z := redis.Z{Score: score(s), Member: s.ID}
	for _, k := range c.idxKeys(s.Session, s.Country, s.Status) {
		p.ZAdd(ctx, k, z)
	}
	if s.InvitationID != "" {
		p.ZAdd(ctx, c.kInv(s.InvitationID), z)
	}
}

// Get returns the statement with the given id, its live progress merged in;
// ENOTFOUND when there is none.
func (c *Catalog) Get(ctx context.Context, id string) (*presession.Statement, error) {
	var rec *redis.StringCmd
	var prog *redis.StringCmd
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		rec = p.Get(ctx, c.kStmt(id))
		prog = p.HGet(ctx, c.kProgress(), id)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("catalog: get %s: %w", id, err)
	}
	s, _, err := c.load(ctx, cmdGetter{rec}, id)
	if err != nil {
		return nil, err
	}
	c.mergeProgress(s, prog.Val())
	return s, nil
}

// cmdGetter replays an already executed GET.
type cmdGetter struct{ cmd *redis.StringCmd }

func (g cmdGetter) Get(context.Context, string) *redis.StringCmd { return g.cmd }

func (c *Catalog) mergeProgress(s *presession.Statement, v string) {
	if s.Status != presession.StatusProcessing || v == "" {
		return
	}
	if p, err := strconv.ParseFloat(v, 64); err == nil {
		s.Progress = p
	}
}

// List returns the statements that match f, oldest first (ties by id), and
// how many match in all. Every combination of Session, Country and Status
// is one index read; with InvitationID or Search the records of the
// narrowest index are read and filtered (see listFiltered).
func (c *Catalog) List(ctx context.Context, f presession.Filter) ([]*presession.Statement, int, error) {
	return c.list(ctx, f, false)
}

// ListBrief is List with each statement brief: without its media,
// captions and history, which are most of a record, for lists that only
// name or count statements (a country's order, an invitation's uploads).
func (c *Catalog) ListBrief(ctx context.Context, f presession.Filter) ([]*presession.Statement, int, error) {
	return c.list(ctx, f, true)
}

func (c *Catalog) list(ctx context.Context, f presession.Filter, brief bool) ([]*presession.Statement, int, error) {
	f.Country = strings.ToUpper(f.Country)
	if f.Status != "" && !f.Status.Valid() {
		return nil, 0, presession.Errorf(presession.EINVALID, "unknown status %q", f.Status).Localize("err.status_unknown", string(f.Status))
	}
	if f.Offset < 0 || f.Limit < 0 {
		return nil, 0, presession.Errorf(presession.EINVALID, "offset and limit must not be negative").Localize("err.paging_negative")
	}
	f.Search = strings.TrimSpace(f.Search)
	if f.InvitationID != "" || f.Search != "" {
		return c.listFiltered(ctx, f, brief)
	}
	key := c.kIdx(f.Session, f.Country, f.Status)
	stop := int64(-1)
	if f.Limit > 0 {
		stop = int64(f.Offset + f.Limit - 1)
	}
	var card *redis.IntCmd
	var rng *redis.StringSliceCmd
	if _, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		card = p.ZCard(ctx, key)
		rng = p.ZRange(ctx, key, int64(f.Offset), stop)
		return nil
	}); err != nil {
		return nil, 0, fmt.Errorf("catalog: list: %w", err)
	}
	dec := decode
	if brief {
		dec = decodeBrief
	}
	out, err := c.fetchAs(ctx, rng.Val(), dec)
	if err != nil {
		return nil, 0, err
	}
	return out, int(card.Val()), nil
}

// CountryCounts returns how many statements of session each of countries has in
// each status (counts[country][status]; a country or status with none is
// absent), in one round trip however many countries: the dashboard's and
// the review queue's tables of counts.
func (c *Catalog) CountryCounts(ctx context.Context, session string, countries []string) (map[string]map[presession.Status]int, error) {
	type cell struct {
		country string
		status  presession.Status
		cmd     *redis.IntCmd
	}
	cells := make([]cell, 0, len(countries)*len(presession.Statuses))
	if _, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, cc := range countries {
			cc = strings.ToUpper(cc)
			for _, st := range presession.Statuses {
				cells = append(cells, cell{cc, st, p.ZCard(ctx, c.kIdx(session, cc, st))})
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("catalog: counts of %s: %w", session, err)
	}
	out := make(map[string]map[presession.Status]int, len(countries))
	for _, x := range cells {
		if n := int(x.cmd.Val()); n > 0 {
			if out[x.country] == nil {
				out[x.country] = map[presession.Status]int{}
			}
			out[x.country][x.status] = n
		}
	}
	return out, nil
}

// captionLockTTL bounds how long a caption lock is held if its holder
// dies: far longer than writing a 1 MiB track and its record takes.
const captionLockTTL = 30 * time.Second

// unlockScript deletes KEYS[1] if it still holds ARGV[1].
var unlockScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`)

// LockCaption takes the lock of statement id's caption track in lang,
// waiting for it while another writer holds it (until ctx ends), and
// returns its release. Staff's caption changes and the organisation's
// draft both write the track's file and then its record; holding the lock
// across the two, neither can land between the other's.
func (c *Catalog) LockCaption(ctx context.Context, id, lang string) (release func(), err error) {
	key := c.prefix + "caplock:" + id + ":" + lang
	tok := rand.Text()
	for {
		ok, err := c.rdb.SetNX(ctx, key, tok, captionLockTTL).Result()
		if err != nil {
			return nil, fmt.Errorf("catalog: lock captions %s/%s: %w", id, lang, err)
		}
		if ok {
			return func() { unlockScript.Run(context.WithoutCancel(ctx), c.rdb, []string{key}, tok) }, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("catalog: lock captions %s/%s: %w", id, lang, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// fetch reads the records and live progress of ids, in order, skipping ids
// whose record vanished.
func (c *Catalog) fetch(ctx context.Context, ids []string) ([]*presession.Statement, error) {
	return c.fetchAs(ctx, ids, decode)
}

// fetchAs is fetch with each record decoded by dec (decode, decodeBrief).
func (c *Catalog) fetchAs(ctx context.Context, ids []string, dec func([]byte) (*presession.Statement, error)) ([]*presession.Statement, error) {
	if len(ids) == 0 {
		return []*presession.Statement{}, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = c.kStmt(id)
	}
	var recs *redis.SliceCmd
	var progs *redis.SliceCmd
	if _, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		recs = p.MGet(ctx, keys...)
		progs = p.HMGet(ctx, c.kProgress(), ids...)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("catalog: list: %w", err)
	}
	out := make([]*presession.Statement, 0, len(ids))
	pv := progs.Val()
	for i, v := range recs.Val() {
		raw, ok := v.(string)
		if !ok {
			continue
		}
		s, err := dec([]byte(raw))
		if err != nil {
			return nil, fmt.Errorf("catalog: record of %s: %w", ids[i], err)
		}
		if p, ok := pv[i].(string); ok {
			c.mergeProgress(s, p)
		}
		out = append(out, s)
	}
	return out, nil
}

// Stale returns the statements in any of the given statuses (uploaded and
// processing when none is given), for the reconciliation at start.
func (c *Catalog) Stale(ctx context.Context, statuses ...presession.Status) ([]*presession.Statement, error) {
	if len(statuses) == 0 {
		statuses = []presession.Status{presession.StatusUploaded, presession.StatusProcessing}
	}
	var out []*presession.Statement
	for _, st := range statuses {
		l, _, err := c.List(ctx, presession.Filter{Status: st})
		if err != nil {
			return nil, err
		}
		out = append(out, l...)
	}
	return out, nil
}

// Counts returns how many statements are in each status (every status
// present, zeros included): one ZCARD of each status index, pipelined, so
// it is cheap enough for every metrics scrape.
func (c *Catalog) Counts(ctx context.Context) (map[presession.Status]int, error) {
	p := c.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(presession.Statuses))
	for i, st := range presession.Statuses {
		cmds[i] = p.ZCard(ctx, c.kIdx("", "", st))
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("catalog: counts: %w", err)
	}
	out := make(map[presession.Status]int, len(cmds))
	for i, st := range presession.Statuses {
		out[st] = int(cmds[i].Val())
	}
	return out, nil
}

// Transition moves a statement to status to: the statement's Apply decides
// whether the move is allowed (an illegal one is ECONFLICT naming the
// current status, a rejection or failure without a reason EINVALID) and
// which fields change, and Transition makes it atomic. It keeps the
// country's order: an approved statement joins its end, one leaving
// approved leaves it. Concurrent transitions of one statement are
// serialised: of two staff approving and rejecting at once, exactly one
// wins.
//
// reason is English, as history and logs keep it. A reason the system
// wrote may come with at most one msg, the catalogue message that says the
// same in other languages (see presession.NewMove). Staff rejections
// pass none.
func (c *Catalog) Transition(ctx context.Context, id string, to presession.Status, actor, reason string, msg ...presession.Message) (*presession.Statement, error) {
	m, err := presession.NewMove(to, presession.Actor(actor), reason, msg...)
	if err != nil {
		return nil, err
	}
	first, _, err := c.load(ctx, c.rdb, id)
	if err != nil {
		return nil, err
	}
	session, country := first.Session, first.Country
	var done moved
	err = c.watch(ctx, func(tx *redis.Tx) error {
		var err error
		done, err = c.tryMove(ctx, tx, id, m)
		return err
	}, c.kStmt(id), c.kOrder(session, country))
	if err != nil {
		if presession.ErrorCode(err) != presession.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("catalog: %s → %s of %s: %w", done.from, to, id, err)
	}
	affects := done.from == presession.StatusApproved || to == presession.StatusApproved
	if done.retried {
		// Complete what the earlier call left pending.
		done.orderChanged = affects
	}
	err = c.sync(ctx, mStmt(id))
	if err == nil && done.orderChanged {
		err = c.sync(ctx, mOrder(session, country))
	}
	if affects {
		c.notify(ctx, session, country)
	}
	if o, ok := presession.StatementOccurrence(done.s); ok {
		c.tell(ctx, o)
	}
	if err != nil {
		return nil, err
	}
	return done.s, nil
}

// moved is what one attempt of a Transition did.
type moved struct {
	s            *presession.Statement // the statement after it
	from         presession.Status
	orderChanged bool
	retried      bool // s already showed it, pending in storage
}

// tryMove is one optimistic attempt of a Transition in tx: it applies m
// to the current record and queues the record, its status indexes and
// the country's order (when approved is either end) for EXEC.
func (c *Catalog) tryMove(ctx context.Context, tx *redis.Tx, id string, m presession.Move) (moved, error) {
	s, _, err := c.load(ctx, tx, id)
	if err != nil {
		return moved{}, err
	}
	from, to := s.Status, m.To
	now := c.clock()
	if err := s.Apply(m, now); err != nil {
		if c.isOwnPendingRetry(ctx, tx, s, m) {
			return moved{s: s, from: s.History[len(s.History)-1].From, retried: true}, nil
		}
		return moved{from: from}, err
	}
	rec, err := json.Marshal(s)
	if err != nil {
		return moved{from: from}, err
	}
	ord, err := c.movedOrder(ctx, tx, s, from, m.By, now)
	if err != nil {
		return moved{from: from}, err
	}
	_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, c.kStmt(id), rec, 0)
		p.SAdd(ctx, c.kDirty(), mStmt(id))
		if from != to {
			for _, k := range c.statusIdxKeys(s.Session, s.Country, from) {
				p.ZRem(ctx, k, id)
			}
			z := redis.Z{Score: score(s), Member: id}
			for _, k := range c.statusIdxKeys(s.Session, s.Country, to) {
				p.ZAdd(ctx, k, z)
			}
		}
		if ord != nil {
			b, err := json.Marshal(ord)
			if err != nil {
				return err
			}
			p.Set(ctx, c.kOrder(s.Session, s.Country), b, 0)
			p.SAdd(ctx, c.kDirty(), mOrder(s.Session, s.Country))
		}
		if to == presession.StatusProcessing || from == presession.StatusProcessing {
			p.HDel(ctx, c.kProgress(), id)
		}
		return nil
	})
	if err != nil {
		return moved{from: from}, err
	}
	return moved{s: s, from: from, orderChanged: ord != nil}, nil
}

// movedOrder is the country's order after s moved from status from, by by
// at now: s joins its end when it became approved and leaves it when it
// stopped being approved. It is nil when approved is neither end.
func (c *Catalog) movedOrder(ctx context.Context, tx *redis.Tx, s *presession.Statement, from presession.Status, by presession.Actor, now time.Time) (*presession.Order, error) {
	to := s.Status
	if from != presession.StatusApproved && to != presession.StatusApproved {
		return nil, nil
	}
	ord, err := c.loadOrder(ctx, tx, s.Session, s.Country)
	if err != nil {
		return nil, err
	}
	ids := slices.DeleteFunc(slices.Clone(ord.Statements), func(x string) bool { return x == s.ID })
	if to == presession.StatusApproved {
		ids = append(ids, s.ID)
	}
	ord.Statements, ord.UpdatedAt, ord.UpdatedBy = ids, now, string(by)
	return ord, nil
}

// isOwnPendingRetry reports whether s already shows the transition asked
// for, by the same actor with the same reason, and that change is not yet
// in storage: the caller is retrying a call whose storage write failed.
func (c *Catalog) isOwnPendingRetry(ctx context.Context, tx *redis.Tx, s *presession.Statement, m presession.Move) bool {
	if len(s.History) == 0 || s.Status != m.To {
		return false
	}
	last := s.History[len(s.History)-1]
	if last.To != m.To || last.Actor != m.By || last.Reason != m.Reason.Text {
		return false
	}
	ok, err := tx.SIsMember(ctx, c.kDirty(), mStmt(s.ID)).Result()
	return err == nil && ok
}

// Update applies fn to the statement in one atomic read-modify-write, for
// the fields that are not the lifecycle: media, captions, warnings, title…
// fn may run more than once (on a lost race) and must not change ID,
// Session, Country, InvitationID, CreatedAt, Status, Reason (its key and
// arguments included) or History
// (EINVALID if it does: the lifecycle changes only through Transition). An
// error from fn is returned as is and nothing is written. UpdatedAt is set
// when anything changed.
func (c *Catalog) Update(ctx context.Context, id string, fn func(*presession.Statement) error) (*presession.Statement, error) {
	first, _, err := c.load(ctx, c.rdb, id)
	if err != nil {
		return nil, err
	}
	var out *presession.Statement
	changed := false
	err = c.watch(ctx, func(tx *redis.Tx) error {
		out, changed = nil, false
		s, raw, err := c.load(ctx, tx, id)
		if err != nil {
			return err
		}
		before, _ := decode(raw)
		if err := fn(s); err != nil {
			return err
		}
		if f := changedFixed(before, s); f != "" {
			return presession.Errorf(presession.EINVALID, "an update cannot change the %s of a statement", f)
		}
		s.UpdatedAt = before.UpdatedAt
		if rec, err := json.Marshal(s); err != nil {
			return err
		} else if bytes.Equal(rec, raw) {
			out = s
			return nil
		}
		s.UpdatedAt = c.clock()
		rec, err := json.Marshal(s)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, c.kStmt(id), rec, 0)
			p.SAdd(ctx, c.kDirty(), mStmt(id))
			return nil
		})
		if err != nil {
			return err
		}
		out, changed = s, true
		return nil
	}, c.kStmt(id))
	if err != nil {
		if presession.ErrorCode(err) != presession.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("catalog: update %s: %w", id, err)
	}
	if !changed {
		return out, c.syncIfDirty(ctx, mStmt(id))
	}
	err = c.sync(ctx, mStmt(id))
	if out.Status == presession.StatusApproved {
		c.notify(ctx, first.Session, first.Country)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changedFixed names the first field Update may not change that differs.
func changedFixed(a, b *presession.Statement) string {
	switch {
	case a.ID != b.ID:
		return "id"
	case a.Session != b.Session:
		return "session"
	case a.Country != b.Country:
		return "country"
	case a.InvitationID != b.InvitationID:
		return "invitation"
	case !a.CreatedAt.Equal(b.CreatedAt):
		return "creation time"
	case a.Status != b.Status:
		return "status"
	case a.Reason != b.Reason || a.ReasonKey != b.ReasonKey || !slices.Equal(a.ReasonArgs, b.ReasonArgs):
		return "reason"
	}
	ha, _ := json.Marshal(a.History)
	hb, _ := json.Marshal(b.History)
	if !bytes.Equal(ha, hb) {
		return "history"
	}
	return ""
}

// SetProgress records the live processing percentage (0–100) of a
// statement. It is cheap (one hash field; no storage write, no history) and
// shown by Get and List while the statement is processing.
func (c *Catalog) SetProgress(ctx context.Context, id string, pct float64) error {
	if math.IsNaN(pct) || pct < 0 || pct > 100 {
		return presession.Errorf(presession.EINVALID, "progress %v is not a percentage", pct)
	}
	if err := c.rdb.HSet(ctx, c.kProgress(), id, strconv.FormatFloat(pct, 'f', -1, 64)).Err(); err != nil {
		return fmt.Errorf("catalog: progress of %s: %w", id, err)
	}
	return nil
}
