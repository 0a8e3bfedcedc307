package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/store/storetest"
)

// TestLocalURL: make run prints this URL for whatever HTTP_ADDR says (it once printed
// http://localhost127.0.0.1:8080).
func TestLocalURL(t *testing.T) {
	for _, c := range []struct {
		addr  string
		bound net.Addr
		want  string
	}{
		{":8080", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "http://localhost:8080"},
		{"0.0.0.0:8080", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "http://localhost:8080"},
		{"[::]:8080", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "http://localhost:8080"},
		{"127.0.0.1:8080", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080"},
		{"[::1]:8080", &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "http://[::1]:8080"},
		{"localhost:9000", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9000}, "http://localhost:9000"},
		{"api.internal:8080", &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 8080}, "http://api.internal:8080"},
		// Port 0: the port the kernel chose.
		{"127.0.0.1:0", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 41234}, "http://127.0.0.1:41234"},
		{":http", &net.TCPAddr{IP: net.IPv6unspecified, Port: 80}, "http://localhost:80"},
		// Without a bound address (never in serve), the configured port stands.
		{"127.0.0.1:8080", nil, "http://127.0.0.1:8080"},
	} {
		if got := localURL(c.addr, c.bound); got != c.want {
			t.Errorf("localURL(%q, %v) = %q, want %q", c.addr, c.bound, got, c.want)
		}
	}
}

// TestServePrintsURL: serve --print-url announces the bound address once it listens, and the
// server answers there.
func TestServePrintsURL(t *testing.T) {
	env := map[string]string{"DATABASE_URL": storetest.URL(t), "JWT_SECRET": strings.Repeat("k", 32),
		"HTTP_ADDR": "127.0.0.1:0", "DELIVERY_WORKERS": "0", "LOG_LEVEL": "error",
		"MEDIA_STORE": "file://" + t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--print-url"}, func(k string) string { return env[k] }, w, io.Discard)
		w.Close()
	}()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(r).ReadString('\n')
		line <- l
		_, _ = io.Copy(io.Discard, r)
	}()
	var l string
	select {
	case l = <-line:
	case err := <-done:
		t.Fatalf("serve ended before printing its URL: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve printed no URL in 30 s")
	}
	api, docs, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(l), "API: "), "  docs: ")
	if !ok || !strings.HasPrefix(api, "http://127.0.0.1:") || strings.HasSuffix(api, ":0") || docs != api+"/docs" {
		t.Fatalf("serve printed %q", l)
	}
	res, err := http.Get(api + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/healthz: %d", api, res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
}
