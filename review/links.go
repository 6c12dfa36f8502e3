package review

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/web"
)

// LinkCatalog is the part of the catalog that records the viewer links
// issued and revokes invitations and viewer links; *catalog.Catalog
// implements it.
type LinkCatalog interface {
	CreateViewerLink(ctx context.Context, l *presession.ViewerLink) error
	ListViewerLinks(ctx context.Context, session, country string) ([]*presession.ViewerLink, error)
	RevokeViewerLink(ctx context.Context, id string, by presession.Actor) (*presession.ViewerLink, error)
	RevokeInvitation(ctx context.Context, id string, by presession.Actor) (*presession.Invitation, error)
}

// Link states, as the staff API and the dashboard say them.
const (
	LinkActive  = "active"
	LinkExpired = "expired"
	LinkRevoked = "revoked"
)

func (h *Handler) now() time.Time {
	if h.issuer.Now != nil {
		return h.issuer.Now()
	}
	return time.Now()
}

// ViewerLinkView is a viewer link as the staff API lists it: its record
// and whether it works (active), expired or was revoked.
type ViewerLinkView struct {
	*presession.ViewerLink
	State string `json:"state"`
}

// ViewerLinkList is the body of GET /api/v1/viewer-links.
type ViewerLinkList struct {
	ViewerLinks []ViewerLinkView `json:"viewer_links"`
	Total       int              `json:"total"`
}

// linkState is the state of l at now.
func linkState(l *presession.ViewerLink, now time.Time) string {
	switch {
	case l.RevokedAt != nil:
		return LinkRevoked
	case now.After(l.Expires):
		return LinkExpired
	}
	return LinkActive
}

// viewerLinks returns the viewer links of session/country (each "" =
// any), oldest first, with their states.
func (h *Handler) viewerLinks(ctx context.Context, session, country string) ([]ViewerLinkView, error) {
	list, err := h.cat.ListViewerLinks(ctx, session, country)
	if err != nil {
		return nil, err
	}
	now := h.now()
	out := make([]ViewerLinkView, len(list))
	for i, l := range list {
		out[i] = ViewerLinkView{ViewerLink: l, State: linkState(l, now)}
	}
	return out, nil
}

// listViewerLinks serves GET /api/v1/viewer-links[?session=&country=].
func (h *Handler) listViewerLinks(w http.ResponseWriter, r *http.Request) {
	session, country, err := h.invitationFilter(r.URL.Query())
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	list, err := h.viewerLinks(r.Context(), session, country)
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	h.site.JSON(w, http.StatusOK, ViewerLinkList{ViewerLinks: list, Total: len(list)})
}

// revokeViewerLink serves POST /api/v1/viewer-links/{id}/revoke: from
// now on the link is refused on every node. It answers with the link.
func (h *Handler) revokeViewerLink(w http.ResponseWriter, r *http.Request) {
	l, err := h.cat.RevokeViewerLink(r.Context(), r.PathValue("id"), web.ActorFrom(r.Context()))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	web.AuditTarget(r.Context(), l.ID, l.For)
	h.site.JSON(w, http.StatusOK, ViewerLinkView{ViewerLink: l, State: linkState(l, h.now())})
}

// revokeInvitation serves POST /api/v1/invitations/{id}/revoke: from now
// on the upload link is refused on every node, an upload in progress
// under it stops at its next request, and its statements stay. It
// answers with the invitation's record.
func (h *Handler) revokeInvitation(w http.ResponseWriter, r *http.Request) {
	inv, err := h.cat.RevokeInvitation(r.Context(), r.PathValue("id"), web.ActorFrom(r.Context()))
	if err != nil {
		h.site.Error(w, r, err)
		return
	}
	web.AuditTarget(r.Context(), inv.ID, inv.Organisation)
	h.site.JSON(w, http.StatusOK, inv)
}

// Revoked reports whether the invitation was revoked, for the dashboard.
func (r InvitationRow) Revoked() bool { return r.RevokedAt != nil }

// RevokedOn is when the invitation was revoked (zero when it was not).
func (r InvitationRow) RevokedOn() time.Time {
	if r.RevokedAt == nil {
		return time.Time{}
	}
	return *r.RevokedAt
}

// LinksView is the dashboard's list of viewer links: those of the
// filter, newest first, at most ViewerLinkLimit.
type LinksView struct {
	Rows  []ViewerLinkRow
	Total int
}

// ViewerLinkLimit is the number of viewer links the dashboard shows.
const ViewerLinkLimit = 200

// ViewerLinkRow is one viewer link of the dashboard's table.
type ViewerLinkRow struct {
	ViewerLinkView
	SessionTitle string
	CountryName  string // empty: the whole session
	StateText    string
}

// Active reports whether the link still works.
func (r ViewerLinkRow) Active() bool { return r.State == LinkActive }

// RevokedOn is when the link was revoked (zero when it was not).
func (r ViewerLinkRow) RevokedOn() time.Time {
	if r.RevokedAt == nil {
		return time.Time{}
	}
	return *r.RevokedAt
}

// linkMessages are the keys links.js uses.
var linkMessages = []string{
	"staff.revoke.js.confirm_invitation", "staff.revoke.js.invitation_done",
	"staff.revoke.js.confirm_link", "staff.revoke.js.link_done",
}

// linkSection fills in the viewer links of the filter f and the messages
// of the revoke buttons.
func (h *Handler) linkSection(ctx context.Context, d *Dashboard, lang string, f presession.Filter) error {
	for _, k := range linkMessages {
		d.Messages[k] = h.site.Bundle.T(lang, k)
	}
	list, err := h.viewerLinks(ctx, f.Session, f.Country)
	if err != nil {
		return err
	}
	d.Links.Total = len(list)
	slices.Reverse(list)
	for _, v := range list[:min(len(list), ViewerLinkLimit)] {
		row := ViewerLinkRow{ViewerLinkView: v, SessionTitle: v.Session, StateText: h.site.Bundle.T(lang, "staff.links.state."+v.State)}
		if s, ok := h.site.Sessions.Find(v.Session); ok {
			row.SessionTitle = s.Title
		}
		if v.Country != "" {
			row.CountryName = presession.CountryName(v.Country, lang)
		}
		d.Links.Rows = append(d.Links.Rows, row)
	}
	return nil
}
