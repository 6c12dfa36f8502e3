package web

import (
	"context"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
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

// Auth verifies the three kinds of credentials: the staff token,
// invitation tokens (CSOs) and viewer tokens (delegations). Principal
// reads them from a request.
type Auth struct {
	Signer     *token.Signer
	StaffToken string
	Now        func() time.Time
	// PublicURL is PRESESSION_PUBLIC_URL when it was set, else "". Its
	// origin is the site's, which an unsafe cookie-authenticated request
	// must come from (without it, the request's own scheme and Host);
	// when it is https, every cookie the site sets is Secure.
	PublicURL string
	// Directory keeps the staff accounts, their sessions (which the
	// staff cookie names) and the API tokens; without it the cookie
	// signs nobody in and only the staff token works as a bearer.
	Directory Directory
	// SignIns counts failed staff sign-ins per client address (nil: no
	// limit); see SignInMaxFailures.
	SignIns *Throttle
	// AccountSignIns counts failed password sign-ins per account (nil:
	// no limit); see SignInAccountMaxFailures.
	AccountSignIns *Throttle
	// SecondFactor finishes the password sign-in of a member who has
	// passkeys (nil: none can, they sign in with a passkey); see
	// SecondFactor.
	SecondFactor SecondFactor
	// TrustedProxies are the reverse proxies in front of the service
	// (PRESESSION_TRUSTED_PROXIES), whose X-Forwarded-For ClientAddr
	// believes.
	TrustedProxies []netip.Prefix
	// Revocations tells which invitations and viewer links staff revoked
	// (nil: none are); a revoked one is refused like a forged one, with
	// its own message.
	Revocations Revocations
}

// Revocations tells whether staff revoked the invitation or viewer link
// with a token id; the catalog implements it. Every node asks the same
// store, so a revocation holds everywhere at once.
type Revocations interface {
	Revoked(ctx context.Context, id string) (bool, error)
}

func (a *Auth) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// staffCookie returns who the staff cookie's session id is: ok false
// when it names no live session (never started, ended, expired, its
// account disabled or changed, the staff token changed). The error is
// the directory's, when it cannot tell.
func (a *Auth) staffCookie(ctx context.Context, id string) (presession.Identity, bool, error) {
	if id == "" || a.Directory == nil {
		return presession.Identity{}, false, nil
	}
	who, err := a.Directory.SessionIdentity(ctx, id)
	switch {
	case presession.ErrorCode(err) == presession.ENOTFOUND:
		return presession.Identity{}, false, nil
	case err != nil:
		return presession.Identity{}, false, err
	}
	return who, true, nil
}

// CheckStaffToken reports whether tok is the staff token (constant time).
func (a *Auth) CheckStaffToken(tok string) bool {
	return a.StaffToken != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(a.StaffToken)) == 1
}

// SignIn signs the browser of r in as the service when tok is the staff
// token: it starts a staff session and sets the cookie that names it
// (StartStaffSession). A wrong token is EUNAUTHORIZED;
// once a client address has sent SignInMaxFailures wrong ones within
// SignInWindow, every attempt from it is ETOOMANY (TooManyAttempts) until
// the window ends, the right token too, while other addresses sign in.
func (a *Auth) SignIn(w http.ResponseWriter, r *http.Request, tok string) error {
	ctx := r.Context()
	client := a.ClientAddr(r)
	if a.SignIns != nil {
		wait, err := a.SignIns.Wait(ctx, throttleKey(client))
		if err != nil {
			return err
		}
		if wait > 0 {
			return TooManyAttempts(a.now().Add(wait))
		}
	}
	if !a.CheckStaffToken(tok) {
		if a.SignIns != nil {
			if err := a.SignIns.Fail(ctx, throttleKey(client)); err != nil {
				return err
			}
		}
		return presession.Errorf(presession.EUNAUTHORIZED, "this is not the staff token; check it and try again").Localize("staff.login.bad_token")
	}
	if a.SignIns != nil {
		if err := a.SignIns.Reset(ctx, throttleKey(client)); err != nil {
			return err
		}
	}
	return a.StartStaffSession(w, r, presession.ServiceIdentity())
}

// SignOut ends the staff session r's cookie names, for every node sharing
// the session store, and clears the cookie.
func (a *Auth) SignOut(w http.ResponseWriter, r *http.Request) error {
	if id := readCredentials(r.Header, r.URL.Query()).staffCookie; id != "" && a.Directory != nil {
		if err := a.Directory.EndSession(r.Context(), id); err != nil {
			return err
		}
	}
	a.ClearStaffCookie(w, r)
	return nil
}

// ClearStaffCookie removes the staff cookie from a browser.
func (a *Auth) ClearStaffCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: StaffCookie, Value: "", Path: "/", HttpOnly: true, Secure: a.secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// secure reports whether the cookies of r's answer are Secure: when the
// site is reached over https, by this process's own TLS or, behind a TLS
// proxy, as its public URL says.
func (a *Auth) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(a.PublicURL), "https://")
}

// SameOrigin reports whether an unsafe request came from this site's own
// pages: safe methods always pass; otherwise Sec-Fetch-Site must be
// same-origin or, without it, Origin must be the site's origin (scheme,
// host and port; see PublicURL).
func (a *Auth) SameOrigin(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" {
		return s == "same-origin"
	}
	if o := r.Header.Get("Origin"); o != "" {
		site := a.siteOrigin(r)
		return site != "" && origin(o) == site
	}
	return false // a browser always sends one of the two on unsafe requests
}

// siteOrigin is the origin of the site as r reached it: that of PublicURL
// when set, else the request's own scheme and Host.
func (a *Auth) siteOrigin(r *http.Request) string {
	if a.PublicURL != "" {
		return origin(a.PublicURL)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return origin(scheme + "://" + r.Host)
}

// origin returns the origin of an http(s) URL, scheme://host[:port] in
// lower case and without the scheme's default port, or "" when raw is not
// one (an Origin of "null", say). An Origin header is an origin already;
// a URL with a path (PRESESSION_PUBLIC_URL) gives its origin.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case scheme != "http" && scheme != "https":
		return ""
	case scheme == "http" && port == "80", scheme == "https" && port == "443":
		port = ""
	}
	host := strings.ToLower(u.Hostname())
	if port != "" || strings.Contains(host, ":") {
		host = net.JoinHostPort(host, port)
		host = strings.TrimSuffix(host, ":") // an IPv6 literal without a port
	}
	return scheme + "://" + host
}

// CrossSiteError is the refusal of a cookie-authenticated unsafe request
// that did not come from the site's own pages (see SameOrigin).
func CrossSiteError() error {
	return presession.Errorf(presession.EFORBIDDEN, "this request did not come from the staff dashboard's own page; reload the page and try again").Localize("auth.cross_site")
}

// SetViewerCookie remembers a viewer token for the watch pages.
func (a *Auth) SetViewerCookie(w http.ResponseWriter, r *http.Request, tok string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: ViewerCookie, Value: tok, Path: "/", HttpOnly: true,
		Secure: a.secure(r), SameSite: http.SameSiteLaxMode, Expires: expires})
}
