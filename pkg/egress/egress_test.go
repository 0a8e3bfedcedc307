package egress

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestAllowed(t *testing.T) {
	tests := []struct {
		name     string
		ip       string
		loopback bool
		want     bool
	}{
		{"public v4", "93.184.216.34", false, true},
		{"public v6", "2606:2800:220:1:248:1893:25c8:1946", false, true},
		{"loopback refused", "127.0.0.1", false, false},
		{"loopback range refused", "127.3.2.1", false, false},
		{"loopback allowed when asked", "127.0.0.1", true, true},
		{"v6 loopback allowed when asked", "::1", true, true},
		{"v6 loopback refused", "::1", false, false},
		{"private 10/8 stays refused", "10.1.2.3", true, false},
		{"private 172.16/12", "172.20.0.1", true, false},
		{"private 192.168/16", "192.168.1.1", true, false},
		{"link-local metadata", "169.254.169.254", true, false},
		{"v6 link-local", "fe80::1", true, false},
		{"v6 unique local", "fd00::1", true, false},
		{"unspecified", "0.0.0.0", true, false},
		{"this network", "0.1.2.3", false, false},
		{"cgnat", "100.64.0.1", false, false},
		{"v4-mapped private", "::ffff:10.0.0.1", true, false},
		{"v4-mapped loopback", "::ffff:127.0.0.1", false, false},
		{"multicast", "224.0.0.1", false, false},
		{"broadcast", "255.255.255.255", false, false},
		{"nat64 of private", "64:ff9b::a00:1", false, false},
		{"v4-compatible loopback", "::127.0.0.1", false, false},
		{"v4-compatible loopback is not loopback", "::127.0.0.1", true, false},
		{"v4-compatible private", "::10.0.0.1", true, false},
		{"v4-compatible public: the whole of ::/96 is refused", "::93.184.216.34", false, false},
		{"v4-translated private", "::ffff:0:a00:1", true, false},
		{"6to4 of loopback", "2002:7f00:1::1", true, false},
		{"6to4 of private", "2002:a00:1::1", false, false},
		{"6to4 of metadata", "2002:a9fe:a9fe::1", false, false},
		{"6to4 of public", "2002:5db8:d822::1", false, true},
		{"teredo", "2001:0:4136:e378:8000:63bf:3fff:fdd2", false, false},
		{"benchmarking v6", "2001:2::1", false, false},
		{"documentation v6", "2001:db8::1", false, false},
		{"documentation v6 (3fff::/20)", "3fff::1", false, false},
		{"site-local (deprecated)", "fec0::1", false, false},
		{"srv6 sids", "5f00::1", false, false},
		{"discard-only", "100::1", false, false},
		{"v6 multicast", "ff02::1", false, false},
		{"6to4 relay anycast", "192.88.99.1", false, false},
		{"zoned link-local", "fe80::1%eth0", true, false},
		{"zoned public", "2606:2800:220:1:248:1893:25c8:1946%eth0", false, false},
		{"zoned loopback", "::1%lo", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Allowed(netip.MustParseAddr(tc.ip), tc.loopback); got != tc.want {
				t.Errorf("Allowed(%s, %v) = %v, want %v", tc.ip, tc.loopback, got, tc.want)
			}
		})
	}
}

func TestClientRefusesLoopbackUnlessAllowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()

	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
	_, err := Client(false, 0).Do(req)
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("loopback without permission: err = %v, want ErrForbiddenAddress", err)
	}
	resp, err := Client(true, 0).Do(req)
	if err != nil {
		t.Fatalf("loopback with permission: %v", err)
	}
	resp.Body.Close()

	// A redirect into a refused range is refused at the dial, whatever the first host was.
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://10.255.255.1:9/internal", http.StatusFound)
	}))
	defer redirect.Close()
	req, _ = http.NewRequestWithContext(context.Background(), http.MethodGet, redirect.URL, nil)
	_, err = Client(true, 0).Do(req)
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("redirect to a private address: err = %v, want ErrForbiddenAddress", err)
	}
}

func TestLiteral(t *testing.T) {
	tests := []struct {
		host     string
		loopback bool
		refused  bool
	}{
		{"smtp.example.com", false, false},
		{"localhost", false, false}, // a name: decided at the dial
		{"93.184.216.34", false, false},
		{"[2606:2800:220:1:248:1893:25c8:1946]", false, false},
		{"127.0.0.1", false, true},
		{"127.0.0.1", true, false},
		{"[::1]", false, true},
		{"::1", true, false},
		{"10.0.0.1", true, true},
		{"[::127.0.0.1]", true, true},
		{"::ffff:192.168.0.1", true, true},
		{"[fe80::1%25eth0]", true, true}, // a zoned address however the zone is spelt
		{"fe80::1%eth0", true, true},
	}
	for _, tc := range tests {
		t.Run(tc.host, func(t *testing.T) {
			err := Literal(tc.host, tc.loopback)
			if refused := errors.Is(err, ErrForbiddenAddress); refused != tc.refused {
				t.Errorf("Literal(%q, %v) = %v, want refused %v", tc.host, tc.loopback, err, tc.refused)
			}
			if err != nil && !tc.refused {
				t.Errorf("Literal(%q) = %v, want nil", tc.host, err)
			}
		})
	}
}

func TestValidPort(t *testing.T) {
	for port, want := range map[string]bool{
		"": true, "1": true, "25": true, "443": true, "0443": true, "65535": true,
		"0": false, "00000": false, "65536": false, "99999": false, "123456": false, "-1": false, "+80": false,
		"8o": false, " 80": false, "0x50": false,
	} {
		if got := ValidPort(port); got != want {
			t.Errorf("ValidPort(%q) = %v, want %v", port, got, want)
		}
	}
}

// TestDialerRefusesLoopbackUnlessAllowed: the dialer for non-HTTP destinations refuses a
// loopback listener before connecting (it never hears a connection) unless loopback is allowed.
func TestDialerRefusesLoopbackUnlessAllowed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.Close()
		}
	}()
	ctx := context.Background()
	for _, addr := range []string{ln.Addr().String(), "localhost:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)} {
		_, err = Dialer(false).DialContext(ctx, "tcp", addr)
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Fatalf("dial %s without loopback: err = %v, want ErrForbiddenAddress", addr, err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("the listener accepted %d connections from a refused dial", n)
	}
	c, err := Dialer(true).DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial with loopback allowed: %v", err)
	}
	c.Close()
	for deadline := time.Now().Add(5 * time.Second); accepted.Load() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("accepted = %d, want 1", accepted.Load())
		}
	}
}

func TestHostName(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"example.com", true},
		{"smtp.example.com.", true},
		{"mail-1.example.co.uk", true},
		{"_dmarc.example.com", true},
		{"localhost", true},   // a name: the dial decides what it resolves to
		{"0x7f.com", true},    // a label that only looks hexadecimal is fine in a name with a TLD
		{"127.1", false},      // read as 127.0.0.1 by C resolvers
		{"2130706433", false}, // 127.0.0.1 as one number
		{"0177.0.0.1", false}, // octal
		{"0x7f000001", false}, // hexadecimal
		{"0x7f.1", false},
		{"a.0X7F", true},
		{"0x.org", true},
		{"0X10.0x20", false},
		{"", false},
		{"a b", false},
		{"-a.example.com", false},
		{"a..example.com", false},
		{"example.com:25", false},
		{strings.Repeat("a", 64) + ".com", false},
	}
	for _, tc := range tests {
		if got := HostName(tc.host); got != tc.want {
			t.Errorf("HostName(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}
