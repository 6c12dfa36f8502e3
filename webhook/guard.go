package webhook

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/uprinfo/presession"
)

// Resolver looks a host name up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard decides which endpoint URLs and addresses may be reached. The
// zero value refuses every address that is not public and resolves with
// net.DefaultResolver.
type Guard struct {
	// AllowPrivate lets endpoints reach every address
	// (PRESESSION_WEBHOOK_ALLOW_PRIVATE): for a receiver on the same
	// host or network, and for tests.
	AllowPrivate bool
	// Resolver resolves hosts at registration; nil: net.DefaultResolver.
	// (Deliveries resolve with the dialer, and check what it connects to.)
	Resolver Resolver
}

var (
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")     // "this host": 0.x reaches the local host on Linux
	sharedSpace = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT, a provider's private space
	broadcast   = netip.MustParseAddr("255.255.255.255")
)

// refusal says why addr may not be reached, or "" when it may.
func (g *Guard) refusal(addr netip.Addr) string {
	if g.AllowPrivate {
		return ""
	}
	addr = addr.Unmap()
	switch {
	case addr.IsLoopback():
		return "loopback"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "link-local"
	case addr.IsPrivate(), sharedSpace.Contains(addr):
		return "private"
	case addr.IsUnspecified(), thisNetwork.Contains(addr):
		return "unspecified"
	case addr.IsMulticast(), addr == broadcast:
		return "multicast"
	case !addr.IsValid():
		return "invalid"
	}
	return ""
}

// kindKeys name the catalogue message of each refusal.
var kindKeys = map[string]string{
	"loopback":    "err.webhook_kind_loopback",
	"link-local":  "err.webhook_kind_link-local",
	"private":     "err.webhook_kind_private",
	"unspecified": "err.webhook_kind_unspecified",
	"multicast":   "err.webhook_kind_multicast",
	"invalid":     "err.webhook_kind_invalid",
}

// refused is the error of an endpoint whose host resolves to addr.
func refused(host string, addr netip.Addr, why string) error {
	kind := (&presession.Error{Code: presession.EINVALID, Message: why}).Localize(kindKeys[why])
	if host == addr.String() {
		return presession.Errorf(presession.EINVALID,
			"%s is a %s address, which webhooks may not reach (an operator may allow it with PRESESSION_WEBHOOK_ALLOW_PRIVATE=true)",
			addr, why).Localize("err.webhook_addr_private", addr.String(), kind)
	}
	return presession.Errorf(presession.EINVALID,
		"%s resolves to %s, a %s address, which webhooks may not reach (an operator may allow it with PRESESSION_WEBHOOK_ALLOW_PRIVATE=true)",
		host, addr, why).Localize("err.webhook_url_private", host, addr.String(), kind)
}

// CheckURL validates an endpoint URL as staff register it: absolute http
// or https, a host, no user name or password, and every address the host
// resolves to one that may be reached. It returns the URL as it is kept.
func (g *Guard) CheckURL(ctx context.Context, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", presession.Errorf(presession.EINVALID, "the endpoint URL is required").Localize("err.webhook_url_required")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" || len(raw) > 2000 {
		return "", presession.Errorf(presession.EINVALID, "%q is not an absolute URL such as https://example.org/hooks", raw).Localize("err.webhook_url_invalid", raw)
	}
	if s := strings.ToLower(u.Scheme); s != "http" && s != "https" {
		return "", presession.Errorf(presession.EINVALID, "the endpoint URL must start with https:// or http://, not %s://", u.Scheme).Localize("err.webhook_url_scheme", u.Scheme)
	}
	if u.User != nil {
		return "", presession.Errorf(presession.EINVALID, "the endpoint URL must not carry a user name or password: deliveries are signed instead").Localize("err.webhook_url_credentials")
	}
	u.Fragment = ""
	host := u.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		var res Resolver = net.DefaultResolver
		if g.Resolver != nil {
			res = g.Resolver
		}
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err = res.LookupNetIP(lctx, "ip", host)
		if err != nil || len(addrs) == 0 {
			return "", presession.Errorf(presession.EINVALID, "the host %s cannot be found; check the URL", host).Localize("err.webhook_url_resolve", host)
		}
	}
	for _, a := range addrs {
		if why := g.refusal(a); why != "" {
			if a.String() == strings.Trim(host, "[]") {
				host = a.String()
			}
			return "", refused(host, a, why)
		}
	}
	return u.String(), nil
}

// refusedAddr is the error of a connection the guard refused.
type refusedAddr struct {
	addr string
	why  string
}

func (e *refusedAddr) Error() string {
	return "refused to connect to " + e.addr + ", a " + e.why + " address, which webhooks may not reach"
}

// control is the dialer's Control hook: it runs after the name is resolved,
// on the address about to be connected to.
func (g *Guard) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &refusedAddr{addr: address, why: "unparsable"}
	}
	if why := g.refusal(ap.Addr()); why != "" {
		return &refusedAddr{addr: ap.Addr().String(), why: why}
	}
	return nil
}

// Client returns the HTTP client deliveries use: it connects only where
// the guard allows (checked at dial time), uses no proxy, follows no
// redirect, and gives each request timeout.
func (g *Guard) Client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, Control: g.control}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          20,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
