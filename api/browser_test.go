package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/switchboard/switchboard/api/apitest"
)

// chromiumPath is Debian's chromium, which `make test` (and `make test-tools`) installs.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds a whole browser run: start, page, every call and the event.
const browserTimeout = 60 * time.Second

// browserResult is what testdata/browser/index.html writes into #result.
type browserResult struct {
	Login *struct {
		Status int  `json:"status"`
		Token  bool `json:"token"`
	} `json:"login"`
	List *struct {
		Status          int      `json:"status"`
		ConversationIDs []string `json:"conversation_ids"`
	} `json:"list"`
	StreamToken *struct {
		Status int `json:"status"`
	} `json:"stream_token"`
	Stream *struct {
		Open bool `json:"open"`
	} `json:"stream"`
	Send *struct {
		Status    int    `json:"status"`
		MessageID string `json:"message_id"`
		RequestID string `json:"request_id"`
	} `json:"send"`
	Replay *struct {
		Status    int    `json:"status"`
		MessageID string `json:"message_id"`
		Replayed  string `json:"replayed"`
	} `json:"replay"`
	Event *struct {
		ID        string `json:"id"`
		Type      string `json:"type"`
		MessageID string `json:"message_id"`
	} `json:"event"`
	Error *struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
}

// TestBrowser drives a real headless Chromium on a page served from another loopback origin
// than the API: the page logs in, lists the inbox, opens the event stream with a stream
// token, sends with an Idempotency-Key and receives the sent message's message.created, all
// through the browser's own fetch and EventSource, so CORS is enforced by a browser and not by
// our reading of it. When CORS_ALLOWED_ORIGINS leaves the page's origin out, the browser
// refuses the login's preflight and the page gets a TypeError, with the reason in the console.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the browser test needs Debian's chromium at %s (%v): `make test` installs it, or `make test-tools`", chromiumPath, err)
	}
	// The page's server starts first: its origin (another port on 127.0.0.1, so another
	// origin than the API's) goes into the API's CORS configuration.
	pages := httptest.NewServer(http.FileServer(http.Dir("testdata/browser")))
	t.Cleanup(pages.Close)
	pageOrigin := pages.URL

	cases := []struct {
		name  string
		cors  string // CORS_ALLOWED_ORIGINS of the API
		check func(t *testing.T, r browserResult, conversation string, consoleErrors []string)
	}{
		{"the page's origin is allowed", pageOrigin, func(t *testing.T, r browserResult, conversation string, consoleErrors []string) {
			if len(consoleErrors) > 0 {
				t.Errorf("console errors: %q", consoleErrors)
			}
			if r.Error != nil {
				t.Fatalf("the page failed: %s: %s", r.Error.Name, r.Error.Message)
			}
			if r.Login == nil || r.Login.Status != http.StatusOK || !r.Login.Token {
				t.Errorf("login: %+v, want 200 with an access token", r.Login)
			}
			if r.List == nil || r.List.Status != http.StatusOK || !contains(r.List.ConversationIDs, conversation) {
				t.Errorf("list: %+v, want 200 listing %s", r.List, conversation)
			}
			if r.StreamToken == nil || r.StreamToken.Status != http.StatusCreated || r.Stream == nil || !r.Stream.Open {
				t.Errorf("stream token %+v, stream %+v: want 201 and an open stream", r.StreamToken, r.Stream)
			}
			if r.Send == nil || r.Send.Status != http.StatusCreated || r.Send.MessageID == "" || r.Send.RequestID == "" {
				t.Fatalf("send: %+v, want 201 with a message id and a readable X-Request-Id", r.Send)
			}
			// The same Idempotency-Key replays the first answer: the header crossed the preflight
			// and reached the server, and the exposed Idempotent-Replayed is readable.
			if r.Replay == nil || r.Replay.Status != http.StatusCreated || r.Replay.MessageID != r.Send.MessageID || r.Replay.Replayed != "true" {
				t.Errorf("replay with the same Idempotency-Key: %+v, want 201 replaying %s", r.Replay, r.Send.MessageID)
			}
			if r.Event == nil || r.Event.Type != "message.created" || r.Event.MessageID != r.Send.MessageID || r.Event.ID == "" {
				t.Errorf("event: %+v, want message.created of %s with an id", r.Event, r.Send.MessageID)
			}
		}},
		// make run allows http://localhost:* and http://127.0.0.1:*; this list forgets the second.
		{"the page's origin is left out", "http://localhost:*", func(t *testing.T, r browserResult, _ string, consoleErrors []string) {
			// The login is a JSON POST: its preflight gets no Access-Control-Allow-Origin, the
			// browser never sends the request, and fetch rejects with a TypeError.
			if r.Error == nil || r.Error.Name != "TypeError" {
				t.Fatalf("error %+v, want the browser's TypeError from fetch", r.Error)
			}
			if r.Login != nil {
				t.Errorf("the page read the login answer: %+v", r.Login)
			}
			// The browser says why: CORS, and not, say, a server that is down.
			if !slices.ContainsFunc(consoleErrors, func(l string) bool { return strings.Contains(l, "blocked by CORS policy") }) {
				t.Errorf("no CORS refusal among the console errors %q", consoleErrors)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := apitest.New(t, apitest.WithCORS(tc.cors))
			w := e.NewWorkspace(t, "Acme")
			agent := e.NewUser(t, w, "agent")
			// Telegram has no reply window (DESIGN §4): a free-form send is allowed.
			channel := newChannel(t, e, w.OwnerToken, "telegram")
			in := ingest(t, e, w.APIKey, channel, map[string]any{"identifier": "555001", "text": "hello"})

			q := url.Values{"api": {e.URL}, "email": {agent.Email}, "password": {apitest.Password},
				"contact": {in.Contact.ID}, "channel": {channel}}
			text, console, err := runPage(t, pageOrigin+"/index.html?"+q.Encode())
			if err != nil {
				t.Fatalf("browser: %v\nconsole:\n%s", err, strings.Join(console, "\n"))
			}
			var r browserResult
			if err := json.Unmarshal([]byte(text), &r); err != nil {
				t.Fatalf("#result is not JSON: %v\n%s\nconsole:\n%s", err, text, strings.Join(console, "\n"))
			}
			defer func() {
				if t.Failed() {
					t.Logf("page result:\n%s\nconsole:\n%s", text, strings.Join(console, "\n"))
				}
			}()
			tc.check(t, r, in.Conversation.ID, consoleErrors(console))
		})
	}
}

// pageDone is what the page logs last, once #result is final.
const pageDone = "browser page: done"

// runPage opens the page in a fresh headless Chromium and returns #result once the page marks
// it done, with everything the page and the browser logged to the console up to then, one
// "type: text" line per message.
func runPage(t *testing.T, pageURL string) (result string, console []string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // the tests run as root, where Chromium's sandbox refuses to start
		chromedp.Headless,
		chromedp.UserDataDir(t.TempDir()),
		// Chromium also writes under HOME (crash-report settings, dconf) and TMPDIR (its
		// singleton socket): both are the test's own directories, so a run leaves nothing behind.
		chromedp.Env("HOME="+t.TempDir(), "TMPDIR="+t.TempDir()),
		// Nothing but the page's loopback traffic: no GPU process, QUIC, first-run work,
		// component updates or sync.
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Even so, Debian's chromium looks up clients2.google.com and accounts.google.com at
		// start (seen with strace): no name resolves, and the page and the API are addresses.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	var mu sync.Mutex
	var lines []string
	done := make(chan struct{})
	ended := false // only the goroutine below reads and sets it
	logged := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(lines)
	}
	// Subscribed before the navigation, so nothing the page logs is lost; the subscription
	// ends with the browser's context.
	messages := chromedp.Console(bctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			lines = append(lines, fmt.Sprintf("%s: %s", m.Type, m.Text))
			mu.Unlock()
			if m.Text == pageDone && !ended {
				ended = true
				close(done)
			}
		}
	}()
	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL)); err != nil {
		return "", logged(), fmt.Errorf("open %s: %w", pageURL, err)
	}
	// The page ends within its own timeouts (15 s for the stream, 20 s for the event); the poll
	// gives up before the context does, so what the page got so far can still be read.
	_, err = chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById("result").dataset.done === "true"`,
		chromedp.WithPollingTimeout(browserTimeout-10*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if err != nil {
		partial, _ := chromedp.Run(bctx, chromedp.TextContent("#result"))
		return partial, logged(), fmt.Errorf("the page did not finish: %w\n#result so far: %s", err, partial)
	}
	if result, err = chromedp.Run(bctx, chromedp.TextContent("#result")); err != nil {
		return "", logged(), fmt.Errorf("read #result: %w", err)
	}
	// The console comes in order: once the page's last line is here, so is every earlier one.
	select {
	case <-done:
	case <-ctx.Done():
		return result, logged(), fmt.Errorf("the console never showed %q: %w", pageDone, ctx.Err())
	}
	return result, logged(), nil
}

// consoleErrors are the errors and uncaught exceptions among the console lines.
func consoleErrors(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, string(chromedp.ConsoleError)+": ") || strings.HasPrefix(l, string(chromedp.ConsoleException)+": ") {
			out = append(out, l)
		}
	}
	return out
}
