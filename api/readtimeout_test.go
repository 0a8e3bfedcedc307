package api_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
)

// shortHTTPTimeouts makes the server's read and write timeouts one second, so a test can
// outlast them.
func shortHTTPTimeouts(c *config.Config) {
	c.HTTPReadHeaderTimeout, c.HTTPReadTimeout, c.HTTPWriteTimeout = time.Second, time.Second, time.Second
}

// Issue 12 point 7: a client that sends a header and then trickles its body is cut with 408
// once the read timeout passes, while ordinary requests and a long event stream still work.
func TestSlowRequestBodyIsCut(t *testing.T) {
	e := apitest.New(t, liveOpts, shortHTTPTimeouts)
	w := e.NewWorkspace(t, "A")
	addr := strings.TrimPrefix(e.URL, "http://")

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /v1/contacts HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"first_name\": \"", addr, w.APIKey)
	// One byte every 200 ms: the 1000 promised would take over three minutes.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()
	_ = conn.SetReadDeadline(start.Add(6 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer %s after the trickle began (read timeout 1s): %v", time.Since(start).Round(time.Millisecond), err)
	}
	body, _ := io.ReadAll(resp.Body)
	took := time.Since(start)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("answered %d %s after %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), took, body)
	}
	var p struct {
		Code   string `json:"code"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.Code != "request_timeout" || p.Status != 408 {
		t.Fatalf("problem %s (%v)", body, err)
	}
	// Without the timeout no answer came in 6 s; the bound leaves a loaded machine slack.
	if took > 5*time.Second {
		t.Fatalf("cut only after %s; the read timeout is 1s", took)
	}
	if !resp.Close {
		t.Errorf("the connection of a cut request should close")
	}
	t.Logf("slow body cut after %s", took.Round(time.Millisecond))

	// Ordinary requests are unaffected, and an event stream outlives both timeouts.
	s := openStream(t, e.URL, "/v1/events/stream", w.APIKey, nil)
	time.Sleep(2500 * time.Millisecond)
	id := e.NewContact(t, w.APIKey, map[string]any{"first_name": "Late"})
	if ev := s.next(t, "contact.created", 5*time.Second); ev.Data["data"].(map[string]any)["id"] != id {
		t.Fatalf("stream event %+v", ev)
	}
}
