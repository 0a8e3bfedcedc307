package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/store/storetest"
)

// serveProcess runs `switchboard serve --print-url` as a process of its own (this test binary,
// see TestMain) until the test ends, and answers the URL it printed.
func serveProcess(t *testing.T, env []string) string {
	t.Helper()
	var logs syncBuffer
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), env...), execEnv+"=serve --print-url")
	cmd.Stderr = &logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		l, _ := r.ReadString('\n')
		line <- l
		_, _ = io.Copy(io.Discard, r)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("serve process %d:\n%s", cmd.Process.Pid, tail(logs.String(), 30))
		}
	})
	select {
	case l := <-line:
		api, _, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(l), "API: "), "  docs: ")
		if !ok {
			t.Fatalf("serve printed %q\n%s", l, logs.String())
		}
		return api
	case <-time.After(time.Minute):
		t.Fatalf("serve printed no URL within a minute\n%s", logs.String())
	}
	return ""
}

// apiCall is one request to a server with the key; it decodes a 2xx answer into out.
func apiCall(t *testing.T, base, key, method, path string, body, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

type windowAlertEvent struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	OccurredAt time.Time `json:"occurred_at"`
	Data       struct {
		ConversationID string    `json:"conversation_id"`
		Window         string    `json:"window"`
		ExpiresAt      time.Time `json:"expires_at"`
		ReplyWindow    struct {
			Decision string `json:"decision"`
		} `json:"reply_window"`
	} `json:"data"`
}

// Acceptance 1 of issue 16, on the real clock with two `switchboard serve` processes on one
// database running the alert job every second: a WhatsApp contact whose last message was
// 23 h 59 m ago has an allowed reply window with its expiry; with window_closing_minutes 1,
// window.expiring and then window.closed reach the event feed within 60 s of their instants,
// exactly once each; a contact who writes again before the instants gets neither, and a new
// window.
func TestWindowAlertsTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a window to close on the real clock (about 80 s)")
	}
	dbURL := storetest.URL(t)
	env := []string{"DATABASE_URL=" + dbURL, "JWT_SECRET=" + strings.Repeat("k", 32), "HTTP_ADDR=127.0.0.1:0",
		"DELIVERY_WORKERS=0", "LOG_LEVEL=warn", "WINDOW_ALERT_INTERVAL=1s"}
	var boot struct {
		APIKey string `json:"api_key"`
	}
	out, _, err := runCLI(t, map[string]string{"DATABASE_URL": dbURL}, "bootstrap", "--workspace", "Acme", "--email", "owner@example.com",
		"--name", "Owner", "--password", "a long passphrase")
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	if err := json.Unmarshal([]byte(out), &boot); err != nil || boot.APIKey == "" {
		t.Fatalf("bootstrap printed %q: %v", out, err)
	}
	a, b := serveProcess(t, env), serveProcess(t, env)
	key := boot.APIKey

	var ch struct {
		ID string `json:"id"`
	}
	apiCall(t, a, key, "POST", "/v1/channels", map[string]any{"type": "whatsapp", "name": "WhatsApp"}, &ch)
	apiCall(t, b, key, "PATCH", "/v1/workspace", map[string]any{"settings": map[string]any{"window_closing_minutes": 1}}, nil)
	type conv struct {
		ID          string `json:"id"`
		ReplyWindow *struct {
			Decision        string     `json:"decision"`
			WindowExpiresAt *time.Time `json:"window_expires_at"`
		} `json:"reply_window"`
	}
	ingest := func(base, identifier string, received time.Time) conv {
		var in struct {
			Conversation conv `json:"conversation"`
		}
		apiCall(t, base, key, "POST", "/v1/channels/"+ch.ID+"/inbound", map[string]any{"identifier": identifier, "text": "hi",
			"received_at": received.UTC().Format(time.RFC3339Nano)}, &in)
		return in.Conversation
	}
	start := time.Now().UTC().Truncate(time.Microsecond)
	// Ana: 23 h 59 m ago. Her window closes in a minute: expiring is due now, closed in 60 s.
	anaAt := start.Add(-23*time.Hour - 59*time.Minute)
	ana := ingest(a, "+14155550150", anaAt)
	var row conv
	apiCall(t, b, key, "GET", "/v1/conversations/"+ana.ID, nil, &row)
	closes := anaAt.Add(24 * time.Hour)
	if r := row.ReplyWindow; r == nil || r.Decision != "allowed" || r.WindowExpiresAt == nil || !r.WindowExpiresAt.Equal(closes) {
		t.Fatalf("ana's row: reply_window %+v, want allowed until %s", r, closes)
	}
	expiring := closes.Add(-time.Minute)
	// Ben: his alerts would be due in 10 s and 70 s; he writes again before them.
	benAt := start.Add(-23*time.Hour - 58*time.Minute - 50*time.Second)
	ben := ingest(b, "+14155550151", benAt)
	ingest(a, "+14155550151", time.Now())
	benOld := benAt.Add(24 * time.Hour)

	events := func(base string) []windowAlertEvent {
		var p struct {
			Data []windowAlertEvent `json:"data"`
		}
		apiCall(t, base, key, "GET", "/v1/events?limit=100&types="+url.QueryEscape("window.expiring,window.closed"), nil, &p)
		return p.Data
	}
	// Poll both processes' feed until Ana's window.closed, then a few more job runs.
	deadline := closes.Add(90 * time.Second)
	var got []windowAlertEvent
	var seen time.Time
	for ; ; time.Sleep(250 * time.Millisecond) {
		base := a
		if time.Now().UnixNano()%2 == 0 {
			base = b
		}
		got = events(base)
		for _, ev := range got {
			if ev.Type == "window.closed" && ev.Data.ConversationID == ana.ID && seen.IsZero() {
				seen = time.Now()
			}
		}
		if !seen.IsZero() && time.Since(seen) > 3*time.Second && time.Now().After(benOld.Add(3*time.Second)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("by %s: window events %+v", deadline, got)
		}
	}
	var anas []windowAlertEvent
	for _, ev := range got {
		switch ev.Data.ConversationID {
		case ana.ID:
			anas = append(anas, ev)
		case ben.ID:
			t.Errorf("ben wrote again before his instants, yet got %s at %s", ev.Type, ev.OccurredAt)
		}
	}
	if len(anas) != 2 || anas[0].Type != "window.expiring" || anas[1].Type != "window.closed" {
		t.Fatalf("ana's window events: %+v, want window.expiring then window.closed, once each", anas)
	}
	for i, instant := range []time.Time{expiring, closes} {
		ev := anas[i]
		late := ev.OccurredAt.Sub(instant)
		if late < 0 || late > 60*time.Second || !ev.Data.ExpiresAt.Equal(closes) || ev.Data.Window != "messaging" {
			t.Errorf("%s at %s for the instant %s (%s late), expires_at %s", ev.Type, ev.OccurredAt, instant, late, ev.Data.ExpiresAt)
		}
		t.Logf("%s %s after its instant", ev.Type, late.Round(time.Millisecond))
	}
	if anas[0].Data.ReplyWindow.Decision != "allowed" || anas[1].Data.ReplyWindow.Decision != "template_required" {
		t.Errorf("decisions %s then %s, want allowed then template_required", anas[0].Data.ReplyWindow.Decision, anas[1].Data.ReplyWindow.Decision)
	}
	// Ben's new window closes a day after his new message.
	apiCall(t, a, key, "GET", "/v1/conversations/"+ben.ID, nil, &row)
	if r := row.ReplyWindow; r == nil || r.Decision != "allowed" || r.WindowExpiresAt == nil || r.WindowExpiresAt.Sub(start) < 23*time.Hour {
		t.Fatalf("ben's new window: %+v", r)
	}
}
