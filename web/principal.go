package web

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/token"
)

// Kind is what a request's principal is.
type Kind int

// Kinds of principal.
const (
	KindAnonymous  Kind = iota // no credential, or one that did not verify
	KindStaff                  // the staff token, or the staff cookie
	KindInvitation             // an organisation's invitation (CSO)
	KindViewer                 // a delegation's viewer token
)

// Source is where a request carried the credential that decided its
// principal.
type Source int

// Sources of a credential, in the order Principal tries them.
const (
	SourceNone         Source = iota // the request carried none
	SourceBearer                     // Authorization: Bearer: the staff token or an invitation
	SourceKey                        // ?key=: a viewer token
	SourceToken                      // ?token=: an invitation (the upload link)
	SourceStaffCookie                // the cookie the staff sign-in sets
	SourceViewerCookie               // the cookie the watch page sets
)

// Principal is who a request comes from, as Auth.Principal reads it from
// the request's credentials, once. Every route decides by it.
//
// Kind is decided by the first credential the request carries, in the
// order of the Source constants: a bearer token (the staff token, else an
// API token when it has that form, else an invitation), ?key= (a
// viewer), ?token= (an invitation), the staff cookie (on an unsafe method
// only from the site's own pages), the viewer cookie. A credential that does not verify decides too: the principal is
// anonymous, and Err says why.
//
// Routes for one kind of principal have their own rule, on the same
// reading: RequireStaff for the staff routes, RequireInvitation for an
// organisation's own.
type Principal struct {
	Kind   Kind
	Source Source
	// Staff is who a staff principal is (Kind KindStaff): the service
	// token's identity, a member's, or an API token's.
	Staff presession.Identity
	// Invitation holds the invitation's claims when Kind is KindInvitation.
	Invitation *token.Invitation
	// Viewer holds the viewer token's claims when Kind is KindViewer.
	Viewer *token.Viewer
	// Key is the viewer token when it came as ?key=: playlists carry it
	// into their URIs, so that a player with only the playlist URL can
	// follow them.
	Key string

	err         error               // why the deciding credential did not verify
	apiToken    bool                // the bearer token is of the API token form
	staffCookie bool                // the request carries a valid staff cookie
	cookieStaff presession.Identity // who the staff cookie's session is
	staffErr    error               // why the staff cookie could not be checked (Redis)
	sameOrigin  bool                // Auth.SameOrigin(r)
	invitation  invitation          // the bearer token, else ?token=, as an invitation
}

// invitation is a token read as an invitation.
type invitation struct {
	tok string
	inv token.Invitation
	err error
}

// credentials are the credentials a request carries, as sent.
type credentials struct {
	bearer, key, token, staffCookie, viewerCookie string
}

// readCredentials reads a request's credentials from its headers
// (Authorization, Cookie) and its URL query. It is the one place a
// credential is read.
func readCredentials(h http.Header, q url.Values) credentials {
	c := credentials{key: q.Get("key"), token: q.Get("token")}
	if v := h.Get("Authorization"); len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		c.bearer = strings.TrimSpace(v[7:])
	}
	cookies := &http.Request{Header: h}
	if k, err := cookies.Cookie(StaffCookie); err == nil {
		c.staffCookie = k.Value
	}
	if k, err := cookies.Cookie(ViewerCookie); err == nil {
		c.viewerCookie = k.Value
	}
	return c
}

// Principal reads and verifies the credentials of r (its method, Host,
// headers and URL query): who the request comes from. A staff cookie is
// looked up in the staff session store, with r's context.
func (a *Auth) Principal(r *http.Request) Principal {
	c := readCredentials(r.Header, r.URL.Query())
	p := Principal{sameOrigin: a.SameOrigin(r)}
	if c.bearer == "" { // a bearer token decides alone: the session store is not asked
		p.cookieStaff, p.staffCookie, p.staffErr = a.staffCookie(r.Context(), c.staffCookie)
	}
	var apiID presession.Identity
	var apiErr error
	if c.bearer != "" && a.Directory != nil && !a.CheckStaffToken(c.bearer) {
		apiID, p.apiToken, apiErr = a.Directory.TokenIdentity(r.Context(), c.bearer)
	}
	// An API token is never tried as an invitation.
	if tok := cmp.Or(c.bearer, c.token); tok != "" && !p.apiToken {
		inv, err := a.Signer.ParseInvitation(tok)
		if err == nil {
			err = a.revoked(r.Context(), inv.ID, false)
		}
		p.invitation = invitation{tok: tok, inv: inv, err: err}
	}
	switch {
	case c.bearer != "":
		p.Source = SourceBearer
		switch {
		case a.CheckStaffToken(c.bearer):
			p.Kind, p.Staff = KindStaff, presession.ServiceIdentity()
		case p.apiToken && apiErr != nil:
			p.err = apiErr
		case p.apiToken:
			p.Kind, p.Staff = KindStaff, apiID
		default:
			p.invited()
		}
	case c.key != "":
		p.Source = SourceKey
		p.viewing(a.viewer(r.Context(), c.key))
		if p.Viewer != nil {
			p.Key = c.key
		}
	case c.token != "":
		p.Source = SourceToken
		p.invited()
	case p.staffCookie && p.sameOrigin:
		p.Source, p.Kind, p.Staff = SourceStaffCookie, KindStaff, p.cookieStaff
	case c.viewerCookie != "":
		p.Source = SourceViewerCookie
		p.viewing(a.viewer(r.Context(), c.viewerCookie))
	}
	return p
}

// viewer verifies tok as a viewer token that is not revoked.
func (a *Auth) viewer(ctx context.Context, tok string) (token.Viewer, error) {
	v, err := a.Signer.ParseViewer(tok, a.now())
	if err == nil {
		err = a.revoked(ctx, v.ID, true)
	}
	return v, err
}

// revoked is the refusal of the invitation (or viewer link, when viewer)
// id when staff revoked it, nil when it stands or there is no
// Revocations to ask; the error of Revocations when it cannot tell.
func (a *Auth) revoked(ctx context.Context, id string, viewer bool) error {
	if a.Revocations == nil {
		return nil
	}
	revoked, err := a.Revocations.Revoked(ctx, id)
	switch {
	case err != nil:
		return err
	case !revoked:
		return nil
	case viewer:
		return presession.Errorf(presession.EFORBIDDEN, "this viewing link was revoked by the organisers; ask them for a new one").Localize("auth.viewer_revoked")
	}
	return presession.Errorf(presession.EFORBIDDEN, "this upload link was revoked by the organisers; what was uploaded with it stays, ask them for a new link to send more").Localize("auth.invitation_revoked")
}

// invited makes p the invitation read from the bearer token or ?token=.
func (p *Principal) invited() {
	if p.invitation.err != nil {
		p.err = p.invitation.err
		return
	}
	inv := p.invitation.inv
	p.Kind, p.Invitation = KindInvitation, &inv
}

// viewing makes p the viewer of v, or records why the token is refused.
func (p *Principal) viewing(v token.Viewer, err error) {
	if err != nil {
		p.err = err
		return
	}
	p.Kind, p.Viewer = KindViewer, &v
}

// Err is nil when p is known, else why not: the deciding credential's
// refusal or, when the request carried none, that a viewing link is
// required (the routes that take every kind of principal are the
// delegations': playlists, media, watch pages).
func (p Principal) Err() error {
	switch {
	case p.Kind != KindAnonymous:
		return nil
	case p.err != nil:
		return p.err
	}
	return presession.Errorf(presession.EUNAUTHORIZED,
		"a viewing link is required: open the link the organisers sent your delegation").Localize("auth.viewer_required")
}

// RequireStaff returns nil when the request is staff's: its bearer token
// is the staff token or a live API token or, without a bearer token, it
// carries the cookie of a live staff session; a cookie-authenticated request with an unsafe method must come
// from the same origin (CSRF). Other credentials do not count.
func (p Principal) RequireStaff() error {
	switch {
	case p.Source == SourceBearer && p.Kind == KindStaff:
		return nil
	case p.Source == SourceBearer && p.apiToken:
		return p.err // unknown, revoked or altered
	case p.Source == SourceBearer:
		return presession.Errorf(presession.EUNAUTHORIZED, "this is not the staff token; sign in with the staff token printed at first start").Localize("auth.staff_bad")
	case p.staffErr != nil:
		return p.staffErr
	case !p.staffCookie:
		return presession.Errorf(presession.EUNAUTHORIZED, "staff sign-in required: send Authorization: Bearer <staff token> or sign in at /staff").Localize("auth.staff_required")
	case !p.sameOrigin:
		return CrossSiteError()
	}
	return nil
}

// Require returns the identity of a staff request whose role holds perm:
// RequireStaff's refusal when the request is not staff's, EFORBIDDEN when
// its role does not hold perm.
func (p Principal) Require(perm presession.Permission) (presession.Identity, error) {
	if err := p.RequireStaff(); err != nil {
		return presession.Identity{}, err
	}
	if !p.Staff.Can(perm) {
		return presession.Identity{}, Forbidden(p.Staff.Role, perm)
	}
	return p.Staff, nil
}

// Forbidden is the refusal of a staff request whose role does not hold
// perm.
func Forbidden(role presession.Role, perm presession.Permission) error {
	return presession.Errorf(presession.EFORBIDDEN, "your role (%s) does not allow this (it needs %s); ask an admin", role, perm).
		Localize("auth.role_forbidden", string(role), string(perm))
}

// RequireInvitation returns the verified invitation of the request, and
// its token: the bearer token, else ?token= (the upload page's link).
// Other credentials do not count.
func (p Principal) RequireInvitation() (token.Invitation, string, error) {
	in := p.invitation
	switch {
	case in.tok == "":
		return token.Invitation{}, "", presession.Errorf(presession.EUNAUTHORIZED,
			"an invitation token is required: open the upload link you were sent").Localize("auth.invitation_required")
	case in.err != nil:
		return token.Invitation{}, "", in.err
	}
	return in.inv, in.tok, nil
}

// CanWatch checks that p may see the playlists of country c in sess:
// staff, or a viewer whose link covers it.
func (p Principal) CanWatch(sess *presession.Session, c presession.Country) error {
	switch {
	case p.Kind == KindStaff:
		return nil
	case p.Viewer != nil && p.Viewer.Allows(sess.ID, c.Code):
		return nil
	case p.Viewer != nil:
		return presession.Errorf(presession.EFORBIDDEN, "this viewing link does not cover %s in %s; open the link the organisers sent for it", c.Name, sess.Title).
			Localize("err.viewer_other_country", c, sess.Title)
	}
	return presession.Errorf(presession.EFORBIDDEN, "an upload link does not give access to the delegations' playlists").Localize("err.upload_link_no_playlist")
}

// CanSee reports whether p may fetch the media of s: staff any, an
// invitation its own statements, a viewer the approved statements its
// link covers.
func (p Principal) CanSee(s *presession.Statement) bool {
	switch {
	case p.Kind == KindStaff:
		return true
	case p.Invitation != nil:
		return s.InvitationID != "" && s.InvitationID == p.Invitation.ID
	case p.Viewer != nil:
		return s.Status == presession.StatusApproved && p.Viewer.Allows(s.Session, s.Country)
	}
	return false
}
