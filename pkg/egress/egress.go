// Package egress provides the HTTP client and the dialer for destinations a tenant controls (a
// custom channel's webhook URL, a provider's api_base override, an SMTP host, a subscriber's
// webhook): they refuse to connect to loopback, private, link-local and other internal
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
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is the cause of a refused connection; callers treat it as permanent.
var ErrForbiddenAddress = errors.New("destination address is not allowed")

// blocked4 are the IPv4 ranges beyond what netip's predicates cover: "this network", shared
// address space (CGNAT), IETF protocol assignments, documentation, the 6to4 relay anycast,
// benchmarking, reserved and broadcast.
var blocked4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("192.88.99.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
}

// global6 is the IPv6 global unicast space. Everything outside it is loopback, unspecified,
// link-local, unique local, multicast, discard-only or an address that embeds an IPv4 one
// (IPv4-compatible ::/96, IPv4-translated ::ffff:0:0:0/96, NAT64 64:ff9b::/96 and
// 64:ff9b:1::/48), which could otherwise smuggle an internal IPv4 address past the checks.
var global6 = netip.MustParsePrefix("2000::/3")

// blocked6 are the ranges inside global6 that are not destinations: IETF protocol
// assignments (Teredo 2001::/32, which embeds IPv4 addresses, benchmarking, ORCHID) and
// documentation.
var blocked6 = []netip.Prefix{
	netip.MustParsePrefix("2001::/23"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("3fff::/20"),
}

// sixToFour is 6to4 (RFC 3056): bits 16-47 are an IPv4 address, which must pass on its own.
var sixToFour = netip.MustParsePrefix("2002::/16")

// Allowed reports whether a connection to ip may be made. Loopback is allowed only with
// allowLoopback (development and tests); private, link-local and the other internal ranges
// never are, nor is an IPv6 address that embeds a refused IPv4 one, nor one with a zone.
func Allowed(ip netip.Addr, allowLoopback bool) bool {
	ip = ip.Unmap()
	// A zone only scopes link-local and multicast addresses, and netip.Prefix.Contains never
	// matches a zoned address, which would let it through the range checks below.
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	if ip.IsLoopback() {
		return allowLoopback
	}
	if ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() {
		return false
	}
	if ip.Is4() {
		for _, p := range blocked4 {
			if p.Contains(ip) {
				return false
			}
		}
		return true
	}
	if !global6.Contains(ip) {
		return false
	}
	for _, p := range blocked6 {
		if p.Contains(ip) {
			return false
		}
	}
	if sixToFour.Contains(ip) {
		b := ip.As16()
		return Allowed(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), false)
	}
	return true
}

// Literal reports whether host (a URL's host name or an SMTP host, with or without the
// brackets of an IPv6 literal) is an IP address Allowed refuses. Names are not resolved: this
// is the early answer when a destination is saved; the dial-time check is the one that counts,
// since what a name resolves to can change.
func Literal(host string, allowLoopback bool) error {
	h := host
	if len(h) > 1 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
	}
	ip, err := netip.ParseAddr(h)
	if err != nil {
		return nil
	}
	if !Allowed(ip, allowLoopback) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ip)
	}
	return nil
}

// ValidPort reports whether a URL's port is a decimal number from 1 to 65535 (an empty port
// means the scheme's default and is valid). net/url accepts any run of digits, 0 and 99999
// included.
func ValidPort(port string) bool {
	if port == "" {
		return true
	}
	if len(port) > 5 {
		return false
	}
	n := 0
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n >= 1 && n <= 65535
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

// Dialer returns a dialer whose every connection passes Control: the way for anything that is
// not HTTP (SMTP) to reach a destination a tenant chose. A refused address fails the dial
// with an error wrapping ErrForbiddenAddress before any packet is sent.
func Dialer(allowLoopback bool) *net.Dialer {
	return &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: Control(allowLoopback)}
}

// Client returns an HTTP client whose every connection passes Control. timeout bounds a whole
// request (0: none; callers usually bound it with a context).
func Client(allowLoopback bool, timeout time.Duration) *http.Client {
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           Dialer(allowLoopback).DialContext,
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

// HostName reports whether s is a DNS host name: dot-separated labels of letters, digits,
// hyphens and underscores, each 1-63 characters, at most 253 in all, with an optional final
// dot. The last label may not be all digits: no top-level domain is, and resolvers read
// such names ("127.1", "2130706433") as IPv4 addresses; nor may every label be a number, as in
// "0x7f000001", which C resolvers read likewise. Destinations a workspace saves are
// held to it, so what the server dials is never an address in disguise.
func HostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	if last := s[strings.LastIndexByte(s, '.')+1:]; strings.Trim(last, "0123456789") == "" {
		return false
	}
	allNumbers := true
	for label := range strings.SplitSeq(s, ".") {
		hex, isHex := strings.CutPrefix(strings.ToLower(label), "0x")
		allNumbers = allNumbers && (isHex && strings.Trim(hex, "0123456789abcdef") == "" || strings.Trim(label, "0123456789") == "")
	}
	if allNumbers {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}

		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
