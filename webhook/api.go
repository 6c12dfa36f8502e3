package webhook

import (
	"net/http"
	"slices"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
)

// API serves the staff routes of the webhooks:
//
//	POST   /api/v1/webhooks       {"url", "events": [...]} → 201, the endpoint with its secret (shown once)
//	GET    /api/v1/webhooks       {"webhooks": [...]}: every endpoint, without secret, with its last deliveries
//	DELETE /api/v1/webhooks/{id}  204
type API struct {
	Site     *web.Site
	Registry *Registry
	Guard    *Guard
	Now      func() time.Time // default time.Now
}

// Routes are the webhook API's routes with the permission each needs (an
// admin's: webhooks are managed, PermManage) and the action the audit
// records it as ("" for reads).
func (a *API) Routes() []web.Route {
	r := web.StaffRoute
	return []web.Route{
		r("POST /api/v1/webhooks", presession.PermManage, "webhook.create", a.create),
		r("GET /api/v1/webhooks", presession.PermManage, "", a.list),
		r("DELETE /api/v1/webhooks/{id}", presession.PermManage, "webhook.delete", a.remove),
	}
}

// Register adds the routes to mux.
func (a *API) Register(mux *http.ServeMux) { a.Site.Register(mux, a.Routes()) }

// CreateRequest is the body of POST /api/v1/webhooks.
type CreateRequest struct {
	URL    string                      `json:"url"`
	Events []presession.OccurrenceType `json:"events"`
}

// ListResponse is the body of GET /api/v1/webhooks.
type ListResponse struct {
	Webhooks []presession.Webhook `json:"webhooks"`
}

// Events validates a subscription: at least one event, each one of
// presession.OccurrenceTypes. It returns them once each, in that order.
func Events(events []presession.OccurrenceType) ([]presession.OccurrenceType, error) {
	if len(events) == 0 {
		return nil, presession.Errorf(presession.EINVALID, "choose at least one event to send to the endpoint").Localize("err.webhook_events_required")
	}
	for _, e := range events {
		if !slices.Contains(presession.OccurrenceTypes, e) {
			return nil, presession.Errorf(presession.EINVALID, "there is no event %q; use statement.uploaded, statement.ready, statement.failed, statement.approved, statement.rejected, playlist.updated or invitation.created", e).
				Localize("err.webhook_event_unknown", string(e))
		}
	}
	var out []presession.OccurrenceType
	for _, t := range presession.OccurrenceTypes {
		if slices.Contains(events, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (a *API) create(w http.ResponseWriter, r *http.Request) {
	var req CreateRequest
	if err := web.DecodeJSON(r, 16<<10, &req); err != nil {
		a.Site.Error(w, r, err)
		return
	}
	events, err := Events(req.Events)
	if err != nil {
		a.Site.Error(w, r, err)
		return
	}
	u, err := a.Guard.CheckURL(r.Context(), req.URL)
	if err != nil {
		a.Site.Error(w, r, err)
		return
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	ep := &presession.Webhook{ID: NewID(), URL: u, Events: events, Secret: NewSecret(),
		CreatedAt: now().UTC().Truncate(time.Second), CreatedBy: web.ActorFrom(r.Context())}
	if err := a.Registry.Add(r.Context(), ep); err != nil {
		a.Site.Error(w, r, err)
		return
	}
	a.Site.Log.InfoContext(r.Context(), "webhook registered", "webhook", ep.ID, "url", ep.URL, "events", ep.Events)
	a.Site.JSON(w, http.StatusCreated, ep)
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	list, err := a.Registry.List(r.Context())
	if err != nil {
		a.Site.Error(w, r, err)
		return
	}
	a.Site.JSON(w, http.StatusOK, ListResponse{Webhooks: list})
}

func (a *API) remove(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.Registry.Delete(r.Context(), id); err != nil {
		a.Site.Error(w, r, err)
		return
	}
	a.Site.Log.InfoContext(r.Context(), "webhook removed", "webhook", id)
	w.WriteHeader(http.StatusNoContent)
}
