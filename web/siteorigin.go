package web

import "net/http"

// SiteOrigin is the origin of the site as r reached it (scheme, host and
// port): PublicURL's when it is set, else the request's own, the origin
// SameOrigin holds unsafe requests to. WebAuthn binds credentials to it.
func (a *Auth) SiteOrigin(r *http.Request) string { return a.siteOrigin(r) }
