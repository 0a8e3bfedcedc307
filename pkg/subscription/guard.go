package subscription

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchboard/switchboard/pkg/egress"
	"github.com/switchboard/switchboard/pkg/errkind"
)

// Guard keeps tenant-supplied webhook URLs away from the server's own network (SSRF): only
// https (or http to loopback when AllowLoopback is set, for development), no credentials in
// the URL, and no private, link-local, loopback, unspecified, multicast or shared (CGNAT)
// address, checked on the literal host, on every address the name resolves to when the
// webhook is saved, and again on the address actually dialled at delivery time, which also
// covers DNS rebinding.
type Guard struct {
	AllowLoopback bool
	// Resolve looks a host name up; nil uses net.DefaultResolver.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

// CheckAddr reports why an address is refused, or nil. The decision is egress.Allowed's, the
// one list of internal ranges; the cases before it only name the reason for the problem text.
func (g Guard) CheckAddr(a netip.Addr) error {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return errors.New("not an IP address")
	case a.IsUnspecified():
		return errors.New("unspecified address")
	case a.IsLoopback():
		if g.AllowLoopback {
			return nil
		}
		return errors.New("loopback address (allowed only with WEBHOOK_ALLOW_LOOPBACK=true)")
	case a.IsPrivate():
		return errors.New("private address")
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return errors.New("link-local address")
	case a.IsMulticast() || a.IsInterfaceLocalMulticast():
		return errors.New("multicast address")
	case !egress.Allowed(a, g.AllowLoopback):
		return errors.New("shared, reserved or internal address")
	}
	return nil
}

func refused(reason string) error {
	e := ErrURLRefused.Detailf("url: %s.", reason).With("field", "url")
	e.Fields = []errkind.Field{{Field: "url", Message: reason}}
	return e
}

// CheckURL validates a webhook URL and returns it normalised; resolve also checks every
// address a host name resolves to (at save time; delivery checks the dialled address).
func (g Guard) CheckURL(ctx context.Context, raw string, resolve bool) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errkind.Invalid(errkind.Field{Field: "url", Message: "is required"})
	}
	if utf8.RuneCountInString(raw) > 2000 {
		return "", errkind.Invalid(errkind.Field{Field: "url", Message: "must be at most 2000 characters"})
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", refused("must be an absolute http(s) URL")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", refused(fmt.Sprintf("scheme %q is not allowed; use https", u.Scheme))
	}
	if u.User != nil {
		return "", refused("credentials in the URL are not allowed; authenticate the delivery by its signature")
	}
	// net/url takes any run of digits as a port (0, 99999); check it before any lookup.
	if !egress.ValidPort(u.Port()) {
		return "", refused(fmt.Sprintf("port %q is not a number from 1 to 65535", u.Port()))
	}
	u.Scheme, u.Fragment = scheme, ""
	host := u.Hostname()
	var addrs []netip.Addr
	literal := false
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		addrs, literal = []netip.Addr{a}, true
	} else if !egress.HostName(host) {
		return "", refused(fmt.Sprintf("host %q is neither a host name nor an IP address", host))
	} else if resolve {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		lookup := g.Resolve
		if lookup == nil {
			lookup = func(ctx context.Context, h string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", h)
			}
		}
		addrs, err = lookup(rctx, host)
		if err != nil || len(addrs) == 0 {
			return "", refused(fmt.Sprintf("host %q does not resolve to an address this server may connect to", host))
		}
	}
	loopbackOnly := len(addrs) > 0
	for _, a := range addrs {
		if err := g.CheckAddr(a); err != nil {
			if !literal {
				// One answer for a name that does not resolve and one that resolves inside:
				// naming the range would let a workspace map the server's own DNS and hosts file.
				return "", refused(fmt.Sprintf("host %q does not resolve to an address this server may connect to", host))
			}
			return "", refused(fmt.Sprintf("host %q is a %s", host, err))
		}
		loopbackOnly = loopbackOnly && a.Unmap().IsLoopback()
	}
	if scheme == "http" && !(g.AllowLoopback && loopbackOnly) {
		return "", refused("must use https (plain http only to loopback with WEBHOOK_ALLOW_LOOPBACK=true)")
	}
	return u.String(), nil
}

// Client is an HTTP client for deliveries: it dials only addresses egress allows (the check
// runs on the address actually dialled), never follows redirects (a signed delivery goes
// where it was registered or nowhere) and gives up after timeout.
func (g Guard) Client(timeout time.Duration) *http.Client {
	d := egress.Dialer(g.AllowLoopback)
	d.Timeout = 5 * time.Second
	tr := &http.Transport{Proxy: nil, DialContext: d.DialContext, ForceAttemptHTTP2: true,
		TLSHandshakeTimeout: 5 * time.Second, MaxIdleConnsPerHost: 4, IdleConnTimeout: 60 * time.Second}
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
