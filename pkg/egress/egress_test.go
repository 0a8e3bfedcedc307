package egress

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
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
