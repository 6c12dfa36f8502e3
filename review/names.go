package review

import (
	"context"
	"slices"
	"time"

	"github.com/uprinfo/presession"
)

// Names resolves the actors of histories to the names of the people and
// tokens behind them (package staff's Directory implements it): "staff:id"
// to the member's name, "token:id" to the token's, "service" to itself.
// Actors it does not know are left out of the map.
type Names interface {
	Names(ctx context.Context, actors []presession.Actor) (map[presession.Actor]string, error)
}

// WithNames shows who acted by name in statement histories: the API's
// actor_name and the dashboard's history lists.
func WithNames(n Names) Option { return func(h *Handler) { h.names = n } }

// Claims tells who is reviewing which statement on the review desk
// (package desk's Claims implements it).
type Claims interface {
	Holders(ctx context.Context, ids []string) (map[string]presession.Actor, error)
}

// WithClaims shows, on the dashboard, who is reviewing a statement on the
// review desk, so that no one decides it from here at the same time
// unawares.
func WithClaims(c Claims) Option { return func(h *Handler) { h.claims = c } }

// HistoryEvent is one event of a statement's history as the staff API
// returns it: the stored event, with the actor's name when known.
type HistoryEvent struct {
	presession.Event
	ActorName string `json:"actor_name,omitempty"`
}

// HistoryRow is one event of a statement's history on the dashboard.
type HistoryRow struct {
	At     time.Time
	To     presession.Status
	Reason string
	By     string // who, by name or as the page's language says it
}

// resolve returns the names of the actors in the histories of list (nil
// without WithNames, or when they cannot be resolved, which is logged: a
// name is a help, not a reason to fail the answer).
func (h *Handler) resolve(ctx context.Context, list ...*presession.Statement) map[presession.Actor]string {
	if h.names == nil {
		return nil
	}
	var actors []presession.Actor
	for _, s := range list {
		for _, e := range s.History {
			if !slices.Contains(actors, e.Actor) {
				actors = append(actors, e.Actor)
			}
		}
	}
	if len(actors) == 0 {
		return nil
	}
	names, err := h.names.Names(ctx, actors)
	if err != nil {
		h.log.WarnContext(ctx, "history names not resolved", "err", err)
		return nil
	}
	return names
}

// history is s's history as the API returns it, named with names.
func history(s *presession.Statement, names map[presession.Actor]string) []HistoryEvent {
	if s.History == nil {
		return nil
	}
	out := make([]HistoryEvent, len(s.History))
	for i, e := range s.History {
		out[i] = HistoryEvent{Event: e, ActorName: names[e.Actor]}
	}
	return out
}

// historyRows is s's history for the dashboard in lang, newest first.
func (h *Handler) historyRows(s *presession.Statement, names map[presession.Actor]string, lang string) []HistoryRow {
	out := make([]HistoryRow, 0, len(s.History))
	for i := len(s.History) - 1; i >= 0; i-- {
		e := s.History[i]
		out = append(out, HistoryRow{At: e.At, To: e.To, Reason: e.Reason, By: h.actorText(e.Actor, s, names, lang)})
	}
	return out
}

// actorText says who a is for a reader of lang: the name when known,
// else what kind of actor it is.
func (h *Handler) actorText(a presession.Actor, s *presession.Statement, names map[presession.Actor]string, lang string) string {
	if n := names[a]; n != "" {
		return n
	}
	T := func(key string, args ...any) string { return h.site.Bundle.T(lang, key, args...) }
	switch kind, _ := a.Split(); {
	case a == presession.ActorWorker:
		return T("staff.history.worker")
	case a == presession.ActorSystem:
		return T("staff.history.system")
	case a == presession.ActorStaff:
		return T("staff.history.staff")
	case kind == "cso":
		return T("staff.history.org", s.Organisation)
	}
	return string(a)
}
