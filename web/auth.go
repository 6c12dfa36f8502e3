package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/token"
)

// Cookie names.
const (
	StaffCookie  = "presession_staff"
	ViewerCookie = "presession_view"
)

// Auth extracts and verifies the three kinds of credentials: the staff
// token, invitation tokens (CSOs) and viewer tokens (delegations).
type Auth struct {
	Signer     *token.Signer
	StaffToken string
	Now        func() time.Time
}

func (a *Auth) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Bearer returns the token of an "Authorization: Bearer" header.
func Bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// staffCookieValue is what the login form stores: a MAC of the staff token,
// so the cookie never holds the token itself and rotates with it.
func (a *Auth) staffCookieValue() string {
	m := hmac.New(sha256.New, []byte(a.StaffToken))
	m.Write([]byte("presession staff cookie v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckStaffToken reports whether tok is the staff token (constant time).
func (a *Auth) CheckStaffToken(tok string) bool {
	return a.StaffToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(a.StaffToken)) == 1
}

// Staff returns nil when the request carries the staff token (bearer) or
// the staff cookie. A cookie-authenticated request with an unsafe method
// must come from the same origin (CSRF).
func (a *Auth) Staff(r *http.Request) error {
	if tok := Bearer(r); tok != "" {
		if a.CheckStaffToken(tok) {
			return nil
		}
		return presession.Errorf(presession.EUNAUTHORIZED, "this is not the staff token; sign in with the staff token printed at first start").Localize("auth.staff_bad")
	}
	c, err := r.Cookie(StaffCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(a.staffCookieValue())) != 1 {
		return presession.Errorf(presession.EUNAUTHORIZED, "staff sign-in required: send Authorization: Bearer <staff token> or sign in at /staff").Localize("auth.staff_required")
	}
	if !SameOrigin(r) {
		return presession.Errorf(presession.EFORBIDDEN, "this request did not come from the staff dashboard's own page; reload the page and try again").Localize("auth.cross_site")
	}
	return nil
}

// SetStaffCookie signs a staff browser in.
func (a *Auth) SetStaffCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: StaffCookie, Value: a.staffCookieValue(), Path: "/",
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: 12 * 3600})
}

// ClearStaffCookie signs a staff browser out.
func ClearStaffCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: StaffCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// SameOrigin reports whether an unsafe request came from this site's own
// pages: safe methods always pass; otherwise Sec-Fetch-Site must be
// same-origin, or Origin must match Host.
func SameOrigin(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return s == "same-origin"
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		return err == nil && u.Host == r.Host
	}
	return false // a browser always sends one of the two on unsafe requests
}

// Invitation returns the verified invitation of the request: its bearer
// token, or ?token= (the upload page's link).
func (a *Auth) Invitation(r *http.Request) (token.Invitation, error) {
	tok := Bearer(r)
	if tok == "" {
		tok = r.URL.Query().Get("token")
	}
	if tok == "" {
		return token.Invitation{}, presession.Errorf(presession.EUNAUTHORIZED,
			"an invitation token is required: open the upload link you were sent").Localize("auth.invitation_required")
	}
	return a.Signer.ParseInvitation(tok)
}

// Viewer returns the verified viewer token of the request: ?key= first,
// then the cookie the watch page sets.
func (a *Auth) Viewer(r *http.Request) (token.Viewer, string, error) {
	tok := r.URL.Query().Get("key")
	if tok == "" {
		if c, err := r.Cookie(ViewerCookie); err == nil {
			tok = c.Value
		}
	}
	if tok == "" {
		return token.Viewer{}, "", presession.Errorf(presession.EUNAUTHORIZED,
			"a viewing link is required: open the link the organisers sent your delegation").Localize("auth.viewer_required")
	}
	v, err := a.Signer.ParseViewer(tok, a.now())
	return v, tok, err
}

// SetViewerCookie remembers a viewer token for the watch pages.
func SetViewerCookie(w http.ResponseWriter, r *http.Request, tok string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: ViewerCookie, Value: tok, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, Expires: expires})
}
