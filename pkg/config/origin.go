package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Origin is one entry of CORS_ALLOWED_ORIGINS: a browser origin, scheme://host[:port], whose
// port may be "*" (any port, or none). The entry "*" alone is Any: every origin.
type Origin struct {
	Any    bool
	Scheme string // http or https
	Host   string // lower case; an IPv6 address keeps its brackets
	Port   string // "" for the scheme's default port, "*" for any port
}

// ParseOrigins reads CORS_ALLOWED_ORIGINS: comma-separated origins, blanks ignored. "*" is
// allowed only as the whole list, so that nobody writes it next to real origins believing
// they still restrict something.
func ParseOrigins(list string) ([]Origin, error) {
	var out []Origin
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		o, err := ParseOrigin(s)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	for _, o := range out {
		if o.Any && len(out) > 1 {
			return nil, errors.New(`"*" allows every origin and must be the only entry`)
		}
	}
	return out, nil
}

// ParseOrigin reads one allowed origin: "*", or http(s)://host[:port] without a path, query,
// user or trailing slash, where port may be "*". Hosts are names or IP addresses; a wildcard
// in the host is refused.
func ParseOrigin(s string) (Origin, error) {
	if s == "*" {
		return Origin{Any: true}, nil
	}
	o, err := splitOrigin(s, true)
	if err != nil {
		return Origin{}, fmt.Errorf("want scheme://host[:port] such as https://app.example.com or http://localhost:*, got %q: %w", s, err)
	}
	return o, nil
}

// Matches reports whether a request's Origin header is allowed by o. Browsers send an origin
// serialized as scheme://host[:port], lower case, without the default port.
func (o Origin) Matches(origin string) bool {
	if o.Any {
		return true
	}
	got, err := splitOrigin(origin, false)
	if err != nil {
		return false
	}
	return got.Scheme == o.Scheme && got.Host == o.Host && (o.Port == "*" || got.Port == o.Port)
}

// String is the origin as configured (normalized).
func (o Origin) String() string {
	switch {
	case o.Any:
		return "*"
	case o.Port == "":
		return o.Scheme + "://" + o.Host
	}
	return o.Scheme + "://" + o.Host + ":" + o.Port
}

// splitOrigin parses scheme://host[:port]; a port "*" is accepted when wildcard is set. A
// port equal to the scheme's default is dropped, as browsers do.
func splitOrigin(s string, wildcard bool) (Origin, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "http" && scheme != "https") {
		return Origin{}, errors.New("the scheme must be http or https")
	}
	if rest == "" || strings.ContainsAny(rest, "/?#@\\ ") {
		return Origin{}, errors.New("an origin has a host and no path, query, fragment or user")
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
		if port == "" {
			return Origin{}, errors.New("the port is empty")
		}
	}
	host = strings.ToLower(host)
	switch {
	case strings.HasPrefix(host, "["):
		a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
		if err != nil || !strings.HasSuffix(host, "]") || !a.Is6() {
			return Origin{}, errors.New("the host is not a bracketed IPv6 address")
		}
	case !validHostname(host):
		return Origin{}, errors.New("the host is not a name or address (no wildcards)")
	}
	switch {
	case port == "*" && wildcard:
	case port == "*":
		return Origin{}, errors.New("the port is not a number")
	case port != "":
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' || port[0] == '+' {
			return Origin{}, errors.New("the port is not 1..65535")
		}
		if (scheme == "http" && n == 80) || (scheme == "https" && n == 443) {
			port = ""
		}
	}
	return Origin{Scheme: scheme, Host: host, Port: port}, nil
}

// validHostname accepts DNS names and IPv4 addresses: dot-separated labels of letters, digits
// and hyphens, none empty.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return false
			}
		}
	}
	return true
}
