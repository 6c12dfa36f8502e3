// Package fakes holds in-memory doubles of the service's adapters for the
// tests of the packages that use them. A double applies the domain's own
// rules (a statement moves only through presession.Statement.Apply), so it
// cannot drift from the adapter it stands in for on what those rules are.
//
// A consumer declares the interface it needs; its tests check that a
// double satisfies it (var _ Statements = (*fakes.Catalog)(nil)), since
// this package must not import the packages whose tests import it.
package fakes

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/uprinfo/presession"
)

// Catalog is an in-memory statement catalog: the statements and each
// country's playlist order, kept as the Redis catalog keeps them (an
// approved statement joins its country's order, one leaving approved
// leaves it). It does not check what the Redis catalog checks besides the
// lifecycle (ids, sessions, countries, orders). It is safe for concurrent
// use; what it returns is a copy.
type Catalog struct {
	// Now is the source of timestamps (default time.Now).
	Now func() time.Time

	mu    sync.Mutex
	byID  map[string]*presession.Statement
	order map[string][]string // "session/CC" → ids
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	return &Catalog{byID: map[string]*presession.Statement{}, order: map[string][]string{}}
}

func orderKey(session, country string) string { return session + "/" + country }

func (c *Catalog) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

// Put stores a copy of s as it is, as if the lifecycle had brought it
// there: a fixture. An approved statement not yet in its country's order
// joins its end.
func (c *Catalog) Put(s *presession.Statement) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byID[s.ID] = clone(s)
	k := orderKey(s.Session, s.Country)
	if s.Status == presession.StatusApproved && !slices.Contains(c.order[k], s.ID) {
		c.order[k] = append(c.order[k], s.ID)
	}
}

// Get returns the statement; ENOTFOUND when there is none.
func (c *Catalog) Get(_ context.Context, id string) (*presession.Statement, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.byID[id]
	if !ok {
		return nil, presession.Errorf(presession.ENOTFOUND, "statement %s not found", id).Localize("err.statement_not_found", id)
	}
	return clone(s), nil
}

// Transition moves the statement through the domain's Apply and keeps the
// country's order.
func (c *Catalog) Transition(_ context.Context, id string, to presession.Status, actor, reason string, msg ...presession.Message) (*presession.Statement, error) {
	m, err := presession.NewMove(to, presession.Actor(actor), reason, msg...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cur, ok := c.byID[id]
	if !ok {
		return nil, presession.Errorf(presession.ENOTFOUND, "statement %s not found", id).Localize("err.statement_not_found", id)
	}
	s := clone(cur)
	from := s.Status
	if err := s.Apply(m, c.now()); err != nil {
		return nil, err
	}
	c.byID[id] = s
	if from == presession.StatusApproved || to == presession.StatusApproved {
		k := orderKey(s.Session, s.Country)
		ids := slices.DeleteFunc(c.order[k], func(x string) bool { return x == id })
		if to == presession.StatusApproved {
			ids = append(ids, id)
		}
		c.order[k] = ids
	}
	return clone(s), nil
}

// SetOrder replaces the order of a country's approved statements. Unlike
// the Redis catalog, it takes ids as they are.
func (c *Catalog) SetOrder(_ context.Context, session, country string, ids []string, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.order[orderKey(session, country)] = slices.Clone(ids)
	return nil
}

// ApprovedInOrder returns the country's approved statements in playlist
// order.
func (c *Catalog) ApprovedInOrder(_ context.Context, session, country string) ([]*presession.Statement, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []*presession.Statement{}
	for _, id := range c.order[orderKey(session, country)] {
		if s := c.byID[id]; s != nil && s.Status == presession.StatusApproved {
			out = append(out, clone(s))
		}
	}
	return out, nil
}

// clone copies s deeply enough that neither copy changes the other.
func clone(s *presession.Statement) *presession.Statement {
	c := *s
	c.ReasonArgs = slices.Clone(s.ReasonArgs)
	c.Warnings = slices.Clone(s.Warnings)
	c.Captions = slices.Clone(s.Captions)
	c.History = slices.Clone(s.History)
	if s.Media != nil {
		m := *s.Media
		m.Renditions = slices.Clone(m.Renditions)
		for i := range m.Renditions {
			m.Renditions[i].Segments = slices.Clone(m.Renditions[i].Segments)
		}
		if m.Damage != nil {
			d := *m.Damage
			d.Spans, d.WarningArgs = slices.Clone(d.Spans), slices.Clone(d.WarningArgs)
			m.Damage = &d
		}
		c.Media = &m
	}
	return &c
}
