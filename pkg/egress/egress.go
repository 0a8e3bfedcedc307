// Package egress provides the HTTP client for URLs a tenant controls (a custom channel's
// webhook URL): it refuses to connect to loopback, private, link-local and other internal
// addresses, so a workspace cannot make the server call into its own network.
//
// The check runs in the dialer's Control hook, on the address actually being dialled after
// name resolution, so DNS answers that point inside (including a name that resolves
// differently the second time) and redirects to internal hosts are refused alike. Proxies are
// not used: the dialled address must be the destination's.
package egress

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrForbiddenAddress is the cause of a refused connection; callers treat it as permanent.
var ErrForbiddenAddress = errors.New("destination address is not allowed")

// blocked are the ranges beyond what netip's predicates cover: shared address space (CGNAT),
// "this network", IETF protocol assignments, benchmarking, documentation, reserved and
// broadcast, NAT64, discard-only, IPv6 documentation and unique local.
var blocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fc00::/7"),
}

// Allowed reports whether a connection to ip may be made. Loopback is allowed only with
// allowLoopback (development and tests); private, link-local and the other internal ranges
// never are.
func Allowed(ip netip.Addr, allowLoopback bool) bool {
	ip = ip.Unmap()
	if !ip.IsValid() {
		return false
	}
	if ip.IsLoopback() {
		return allowLoopback
	}
	if ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	for _, p := range blocked {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// Control is a net.Dialer Control hook that refuses addresses Allowed rejects.
func Control(allowLoopback bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, network)
		}
		if !Allowed(ap.Addr(), allowLoopback) {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
		}
		return nil
	}
}

// maxRedirects bounds the redirects followed; each one dials through the same check.
const maxRedirects = 5

// Client returns an HTTP client whose every connection passes Control. timeout bounds a whole
// request (0: none; callers usually bound it with a context).
func Client(allowLoopback bool, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: Control(allowLoopback)}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			return nil
		},
	}
}
