package web

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/token"
)

// Auditor records the actions of staff; package audit's Log implements
// it. Record must not fail the request it records: an error is logged.
type Auditor interface {
	Record(ctx context.Context, e presession.AuditEntry) error
}

// identityKey is the context key of the identity of a staff request.
type identityKey struct{}

// auditNote is what a handler adds to the audit entry of its request.
type auditNote struct {
	target, detail string
}

type auditNoteKey struct{}

// IdentityFrom returns the identity of the staff request ctx belongs to,
// as a staff route (Site.Staff) put it there; ok is false elsewhere.
func IdentityFrom(ctx context.Context) (presession.Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(presession.Identity)
	return id, ok
}

// ActorFrom is the actor of the staff request ctx belongs to, for the
// histories its changes write: the service when the request is not a
// staff route's (a test calling a handler directly).
func ActorFrom(ctx context.Context) presession.Actor {
	if id, ok := IdentityFrom(ctx); ok {
		return id.Actor()
	}
	return presession.ActorService
}

// WithIdentity returns ctx carrying id as the staff request's identity.
func WithIdentity(ctx context.Context, id presession.Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// AuditTarget sets what the audit entry of a staff route's request names
// as acted on (default: the route's {id}, else "{s}/{cc}", else {s}) and a
// detail (e.g. the organisation an invitation is for). Outside a staff
// route it does nothing.
func AuditTarget(ctx context.Context, target, detail string) {
	if n, ok := ctx.Value(auditNoteKey{}).(*auditNote); ok {
		n.target, n.detail = target, detail
	}
}

// Staff is the handler of a staff route: it lets through a request whose
// principal is staff with a role holding perm (Principal.Require), with
// its identity in the context (IdentityFrom), and refuses any other with
// the site's error. When action is not empty and the site has an
// Auditor, the request is recorded as that action once answered, with its
// outcome: "ok" for a 2xx or 3xx answer, else the error code the answer
// carries; a request refused for its role is recorded too ("forbidden").
//
// Every staff route is registered through it, so that the role each one
// needs and the action it is audited as are read in one table per
// package.
func (s *Site) Staff(perm presession.Permission, action string, fn http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := s.Auth.Principal(r)
		id, err := p.Require(perm)
		if err != nil {
			if action != "" && p.Kind == KindStaff && presession.ErrorCode(err) == presession.EFORBIDDEN {
				s.audit(r, p.Staff, action, &auditNote{}, presession.EFORBIDDEN)
			}
			s.Error(w, r, err)
			return
		}
		note := &auditNote{}
		ctx := context.WithValue(WithIdentity(r.Context(), id), auditNoteKey{}, note)
		r = r.WithContext(ctx)
		if action == "" || s.Audit == nil {
			fn(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		fn(sw, r)
		s.audit(r, id, action, note, outcome(sw.status))
	})
}

// outcome is the audit outcome of an answer with status code.
func outcome(code int) string {
	if code < 400 {
		return "ok"
	}
	for c, st := range statuses {
		if st == code {
			return c
		}
	}
	return presession.EINTERNAL
}

// audit records action by id on r's target with the outcome.
func (s *Site) audit(r *http.Request, id presession.Identity, action string, note *auditNote, outcome string) {
	if s.Audit == nil {
		return
	}
	target := note.target
	if target == "" {
		target = routeTarget(r)
	}
	e := presession.AuditEntry{ID: token.NewID(), At: time.Now().UTC(), Actor: id.Actor(), ActorName: id.Name,
		Action: action, Target: target, Detail: note.detail, Remote: s.Auth.ClientAddr(r).String(), Outcome: outcome}
	// The answer has gone: the entry is recorded even if the client left.
	ctx := context.WithoutCancel(r.Context())
	if err := s.Audit.Record(ctx, e); err != nil {
		s.Log.ErrorContext(ctx, "audit: not recorded", "action", action, "actor", e.Actor, "err", err)
	}
}

// routeTarget is what a staff route's path names: {id}, else {s}/{cc},
// else {s}.
func routeTarget(r *http.Request) string {
	if id := r.PathValue("id"); id != "" {
		return id
	}
	if s, cc := r.PathValue("s"), r.PathValue("cc"); s != "" && cc != "" {
		return s + "/" + cc
	}
	return r.PathValue("s")
}

// statusWriter remembers the status code a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Route is one staff route: its pattern, the permission its caller's role
// must hold, and the action the audit records it as ("" for reads, which
// are not recorded). Each package that serves staff routes lists them as
// a []Route, the one table of who may do what there.
type Route struct {
	Pattern string
	Perm    presession.Permission
	Action  string
	Handler http.HandlerFunc
	// Transient marks an unsafe route that changes only state which lapses
	// by itself within minutes (a review claim's renewal or release): not
	// audited, or the audit would be a heartbeat.
	Transient bool
}

// StaffRoute is the Route of pattern served by h.
func StaffRoute(pattern string, perm presession.Permission, action string, h http.HandlerFunc) Route {
	return Route{Pattern: pattern, Perm: perm, Action: action, Handler: h}
}

// TransientRoute is the unaudited Route of pattern served by h, which
// changes only state that lapses by itself (see Route.Transient).
func TransientRoute(pattern string, perm presession.Permission, h http.HandlerFunc) Route {
	return Route{Pattern: pattern, Perm: perm, Handler: h, Transient: true}
}

// Register adds routes to mux, each behind Site.Staff, and keeps them in
// the list StaffRoutes returns.
func (s *Site) Register(mux *http.ServeMux, routes []Route) {
	s.routesMu.Lock()
	s.routes = append(s.routes, routes...)
	s.routesMu.Unlock()
	for _, rt := range routes {
		mux.Handle(rt.Pattern, s.Staff(rt.Perm, rt.Action, rt.Handler))
	}
}

// StaffRoutes are the staff routes registered on the site, from every
// package, in the order they were: the whole table of who may do what,
// which the role × route test walks.
func (s *Site) StaffRoutes() []Route {
	s.routesMu.Lock()
	defer s.routesMu.Unlock()
	return slices.Clone(s.routes)
}
