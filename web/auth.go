package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"time"

	"github.com/uprinfo/presession"
	"github.com/uprinfo/presession/token"
)

// Cookie names.
const (
	StaffCookie  = "presession_staff"
	ViewerCookie = "presession_view"
)

// Auth verifies the three kinds of credentials: the staff token,
// invitation tokens (CSOs) and viewer tokens (delegations). Principal
// reads them from a request.
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

// staffCookieValue is what the login form stores: a MAC of the staff token,
// so the cookie never holds the token itself and rotates with it.
func (a *Auth) staffCookieValue() string {
	m := hmac.New(sha256.New, []byte(a.StaffToken))
	m.Write([]byte("presession staff cookie v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// validStaffCookie reports whether v is the staff cookie's value.
func (a *Auth) validStaffCookie(v string) bool {
	return a.StaffToken != "" && subtle.ConstantTimeCompare([]byte(v), []byte(a.staffCookieValue())) == 1
}

// CheckStaffToken reports whether tok is the staff token (constant time).
func (a *Auth) CheckStaffToken(tok string) bool {
	return a.StaffToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(a.StaffToken)) == 1
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

// CrossSiteError is the refusal of a cookie-authenticated unsafe request
// that did not come from the site's own pages (see SameOrigin).
func CrossSiteError() error {
	return presession.Errorf(presession.EFORBIDDEN, "this request did not come from the staff dashboard's own page; reload the page and try again").Localize("auth.cross_site")
}

// SetViewerCookie remembers a viewer token for the watch pages.
func SetViewerCookie(w http.ResponseWriter, r *http.Request, tok string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: ViewerCookie, Value: tok, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, Expires: expires})
}
