package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
)

func liveOpts(c *config.Config) {
	c.WebhookAllowLoopback = true
	c.WebhookPoll = 50 * time.Millisecond
	c.EventHeartbeat = 200 * time.Millisecond
}

type sseEvent struct {
	ID, Type string
	Data     map[string]any
}

// stream is a raw SSE client: EventSource semantics, read line by line.
type stream struct {
	header http.Header // the stream response's headers
	events chan sseEvent
	cancel context.CancelFunc
	done   chan struct{}
}

func openStream(t *testing.T, base, path, token string, header map[string]string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("open stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(resp.Body)
		cancel()
		t.Fatalf("stream answered %d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	s := &stream{header: resp.Header, events: make(chan sseEvent, 100), cancel: cancel, done: make(chan struct{})}
	r := bufio.NewReader(resp.Body)
	// Wait for ": connected", so the subscription is live before the test acts.
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			cancel()
			t.Fatalf("stream closed before connecting: %v", err)
		}
		if strings.HasPrefix(line, ": connected") {
			break
		}
	}
	go func() {
		defer close(s.done)
		defer resp.Body.Close()
		var cur sseEvent
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "":
				if cur.ID != "" {
					s.events <- cur
				}
				cur = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				cur.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				cur.Type = line[7:]
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(line[6:]), &cur.Data)
			}
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *stream) close() { s.cancel(); <-s.done }

// next waits for the next event of the type (skipping others).
func (s *stream) next(t *testing.T, typ string, within time.Duration) sseEvent {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case ev := <-s.events:
			if ev.Type == typ {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event within %s", typ, within)
		}
	}
}

// none fails if any event arrives within d.
func (s *stream) none(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-s.events:
		t.Fatalf("unexpected event %s %s: %v", ev.ID, ev.Type, ev.Data)
	case <-time.After(d):
	}
}

type delivery struct {
	Header http.Header
	Body   []byte
}

// subscriber is a webhook receiver on 127.0.0.1; fail decides per call whether to answer 500.
type subscriber struct {
	*httptest.Server
	got  chan delivery
	mu   sync.Mutex
	n    int
	fail func(n int) bool
}

func newSubscriber(t *testing.T, fail func(n int) bool) *subscriber {
	s := &subscriber{got: make(chan delivery, 100), fail: fail}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.n++
		n := s.n
		s.mu.Unlock()
		if s.fail != nil && s.fail(n) {
			http.Error(w, "not today", http.StatusInternalServerError)
			return
		}
		s.got <- delivery{Header: r.Header.Clone(), Body: b}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *subscriber) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

type webhookCreated struct {
	ID     string   `json:"id"`
	Secret string   `json:"secret"`
	Events []string `json:"events"`
}

func createWebhook(t *testing.T, e *apitest.Env, token, url string, events ...string) webhookCreated {
	t.Helper()
	var w webhookCreated
	e.Post(t, "/v1/webhooks", token, map[string]any{"url": url, "events": events}).Expect(t, http.StatusCreated).JSON(t, &w)
	return w
}

// Acceptance 1 and 4: a signed message.created for an inbound message arrives within a
// second, the README's function verifies it, and another workspace's subscriber hears nothing.
func TestEventWebhookInboundSigned(t *testing.T) {
	e := apitest.New(t, liveOpts)
	a, b := e.NewWorkspace(t, "A"), e.NewWorkspace(t, "B")
	subA, subB := newSubscriber(t, nil), newSubscriber(t, nil)
	hookA := createWebhook(t, e, a.OwnerToken, subA.URL+"/hooks", "message.created")
	if !strings.HasPrefix(hookA.Secret, "whsec_") {
		t.Fatalf("secret %q", hookA.Secret)
	}
	createWebhook(t, e, b.OwnerToken, subB.URL, "*")
	ch := newChannel(t, e, a.APIKey, "whatsapp")

	start := time.Now()
	in := ingest(t, e, a.APIKey, ch, map[string]any{"identifier": "+14155550142", "text": "Where is my order?"})
	var d delivery
	select {
	case d = <-subA.got:
	case <-time.After(time.Second):
		t.Fatalf("no delivery within a second")
	}
	t.Logf("delivered %s after %s", d.Header.Get("webhook-id"), time.Since(start))
	if err := verifySwitchboardWebhook(hookA.Secret, d.Header, d.Body, e.Clock.Now()); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if err := verifySwitchboardWebhook("whsec_"+strings.Repeat("A", 32), d.Header, d.Body, e.Clock.Now()); err == nil {
		t.Fatalf("a wrong secret verified")
	}
	var ev struct {
		ID, Type, WorkspaceID string
		Data                  map[string]any `json:"data"`
	}
	if err := json.Unmarshal(d.Body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "message.created" || ev.ID != d.Header.Get("webhook-id") || ev.Data["id"] != in.Message.ID ||
		ev.Data["text"] != "Where is my order?" || ev.Data["direction"] != "incoming" {
		t.Fatalf("delivery %s: %s", d.Header, d.Body)
	}
	// Only message.created was subscribed: contact.created and conversation.opened are not sent.
	select {
	case x := <-subA.got:
		t.Fatalf("unsubscribed event delivered: %s", x.Body)
	case <-time.After(300 * time.Millisecond):
	}
	if n := subB.calls(); n != 0 {
		t.Fatalf("workspace B's subscriber got %d of A's deliveries", n)
	}
	// B's own change reaches B.
	e.NewContact(t, b.APIKey, map[string]any{"first_name": "Bo"})
	select {
	case x := <-subB.got:
		if !strings.Contains(string(x.Body), `"workspace_id":"`+b.ID+`"`) {
			t.Fatalf("B got %s", x.Body)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("B's subscriber got nothing")
	}
}

// deliveryRow is one entry of GET /v1/webhooks/{id}/deliveries.
type deliveryRow struct {
	EventID       string     `json:"event_id"`
	EventType     string     `json:"event_type"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	LastError     *string    `json:"last_error"`
	AttemptLog    []struct {
		Attempt    int     `json:"attempt"`
		StatusCode *int    `json:"status_code"`
		Error      *string `json:"error"`
	} `json:"attempt_log"`
}

type deliveryLog struct {
	Data []deliveryRow `json:"data"`
}

// Acceptance 2: the subscriber answers 500 for a while; the delivery is retried with backoff
// and arrives, and the delivery log shows the failures, then the success.
func TestEventWebhookRetries(t *testing.T) {
	e := apitest.New(t, liveOpts)
	w := e.NewWorkspace(t, "A")
	sub := newSubscriber(t, func(n int) bool { return n <= 2 })
	hook := createWebhook(t, e, w.OwnerToken, sub.URL, "contact.created")
	e.NewContact(t, w.APIKey, map[string]any{"first_name": "Maria"})

	for want := 1; want <= 2; want++ {
		waitFor(t, func() bool { return sub.calls() >= want })
		// The retry is not due yet: nothing more arrives until the clock passes the backoff.
		time.Sleep(150 * time.Millisecond)
		if sub.calls() != want {
			t.Fatalf("retried before the backoff: %d calls", sub.calls())
		}
		e.Clock.Advance(time.Hour)
	}
	var d delivery
	select {
	case d = <-sub.got:
	case <-time.After(3 * time.Second):
		t.Fatalf("not delivered after the failures")
	}
	if err := verifySwitchboardWebhook(hook.Secret, d.Header, d.Body, e.Clock.Now()); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var log deliveryLog
	waitFor(t, func() bool {
		r := e.Get(t, "/v1/webhooks/"+hook.ID+"/deliveries", w.APIKey).Expect(t, http.StatusOK)
		r.JSON(t, &log)
		return len(log.Data) == 1 && log.Data[0].Status == "delivered"
	})
	got := log.Data[0]
	if got.Attempts != 3 || len(got.AttemptLog) != 3 || *got.AttemptLog[0].StatusCode != 500 ||
		*got.AttemptLog[1].StatusCode != 500 || *got.AttemptLog[2].StatusCode != 200 || got.AttemptLog[0].Error == nil ||
		got.AttemptLog[2].Error != nil || got.AttemptLog[2].Attempt != 3 {
		t.Fatalf("delivery log: %+v", got)
	}
}

// A webhook failing for WEBHOOK_DISABLE_AFTER is disabled; PATCH enabled=true brings it back.
func TestEventWebhookDisabledAfterFailingForDays(t *testing.T) {
	e := apitest.New(t, liveOpts)
	w := e.NewWorkspace(t, "A")
	down := true
	var mu sync.Mutex
	sub := newSubscriber(t, func(int) bool { mu.Lock(); defer mu.Unlock(); return down })
	hook := createWebhook(t, e, w.OwnerToken, sub.URL, "*")
	e.NewContact(t, w.APIKey, map[string]any{"first_name": "Maria"})
	var h struct {
		Enabled        bool    `json:"enabled"`
		DisabledReason *string `json:"disabled_reason"`
	}
	getHook := func() {
		var l struct {
			Data []json.RawMessage `json:"data"`
		}
		e.Get(t, "/v1/webhooks", w.APIKey).Expect(t, http.StatusOK).JSON(t, &l)
		_ = json.Unmarshal(l.Data[0], &h)
	}
	// Events keep coming and every delivery keeps failing, for days.
	waitFor(t, func() bool {
		e.Clock.Advance(6 * time.Hour)
		e.NewContact(t, w.APIKey, map[string]any{"first_name": "Next"})
		time.Sleep(100 * time.Millisecond)
		getHook()
		return !h.Enabled
	})
	if h.DisabledReason == nil {
		t.Fatalf("no disabled_reason")
	}
	mu.Lock()
	down = false
	mu.Unlock()
	e.Patch(t, "/v1/webhooks/"+hook.ID, w.APIKey, map[string]any{"enabled": true}).Expect(t, http.StatusOK)
	e.NewContact(t, w.APIKey, map[string]any{"first_name": "Ana"})
	select {
	case <-sub.got:
	case <-time.After(3 * time.Second):
		t.Fatalf("re-enabled webhook got nothing")
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within 5s")
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Acceptance 3 and 4: two API processes on one database. A stream on process 1 sees a
// message ingested through process 2; reconnecting with Last-Event-ID replays what it missed;
// workspace B's stream sees none of A's events on either process.
func TestEventStreamAcrossProcesses(t *testing.T) {
	p1 := apitest.New(t, liveOpts)
	p2 := p1.Twin(t)
	a, b := p1.NewWorkspace(t, "A"), p1.NewWorkspace(t, "B")
	ch := newChannel(t, p2, a.APIKey, "telegram")

	s := openStream(t, p1.URL, "/v1/events/stream", a.OwnerToken, nil)
	sb1 := openStream(t, p1.URL, "/v1/events/stream", b.OwnerToken, nil)
	sb2 := openStream(t, p2.URL, "/v1/events/stream", b.OwnerToken, nil)

	in := ingest(t, p2, a.APIKey, ch, map[string]any{"identifier": "42", "text": "hello from process 2"})
	ev := s.next(t, "message.created", 2*time.Second)
	if ev.Data["data"].(map[string]any)["id"] != in.Message.ID || ev.Data["workspace_id"] != a.ID {
		t.Fatalf("stream event %+v", ev)
	}
	s.close()

	// Missed while disconnected: a close and a second message, through process 2.
	p2.Post(t, "/v1/conversations/"+in.Conversation.ID+"/close", a.OwnerToken, map[string]any{}).Expect(t, http.StatusOK)
	in2 := ingest(t, p2, a.APIKey, ch, map[string]any{"identifier": "42", "text": "are you there?"})

	s2 := openStream(t, p1.URL, "/v1/events/stream?types=message.created,conversation.closed", a.OwnerToken,
		map[string]string{"Last-Event-ID": ev.ID})
	if got := s2.next(t, "conversation.closed", 2*time.Second); got.Data["conversation_id"] != in.Conversation.ID {
		t.Fatalf("replayed %+v", got)
	}
	if got := s2.next(t, "message.created", 2*time.Second); got.Data["data"].(map[string]any)["id"] != in2.Message.ID {
		t.Fatalf("replayed %+v", got)
	}
	// And live again after the replay, with a stream token as EventSource would.
	var tok struct {
		Token string `json:"token"`
	}
	p1.Post(t, "/v1/events/stream-token", a.OwnerToken, nil).Expect(t, http.StatusCreated).JSON(t, &tok)
	s3 := openStream(t, p1.URL, "/v1/events/stream?token="+tok.Token+"&conversation_id="+in.Conversation.ID, "", nil)
	p2.Put(t, "/v1/conversations/"+in.Conversation.ID+"/assignee", a.OwnerToken, map[string]any{"user_id": nil}).Expect(t, http.StatusOK)
	p2.Put(t, "/v1/conversations/"+in.Conversation.ID+"/assignee", a.OwnerToken, map[string]any{"user_id": a.OwnerID}).Expect(t, http.StatusOK)
	if got := s3.next(t, "conversation.assigned", 2*time.Second); got.Data["data"].(map[string]any)["assignee"].(map[string]any)["id"] != a.OwnerID {
		t.Fatalf("assigned %+v", got)
	}

	// B heard nothing of A on either process, and its polling list is empty.
	sb1.none(t, 100*time.Millisecond)
	sb2.none(t, 100*time.Millisecond)
	var page struct {
		Data []json.RawMessage `json:"data"`
	}
	p1.Get(t, "/v1/events", b.OwnerToken).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Data) != 0 {
		t.Fatalf("B lists A's events: %s", page.Data)
	}
	// B replaying from 0 on process 2 gets only its own first event.
	p2.NewContact(t, b.APIKey, map[string]any{"first_name": "Bo"})
	if got := sb2.next(t, "contact.created", 2*time.Second); got.Data["workspace_id"] != b.ID {
		t.Fatalf("B got %+v", got)
	}
	sb3 := openStream(t, p2.URL, "/v1/events/stream", b.OwnerToken, map[string]string{"Last-Event-ID": "0"})
	if got := <-sb3.events; got.Data["workspace_id"] != b.ID || got.Type != "contact.created" {
		t.Fatalf("B replay %+v", got)
	}
}

// GET /v1/events lists in order with keyset pages and filters.
func TestEventList(t *testing.T) {
	e := apitest.New(t, liveOpts)
	w := e.NewWorkspace(t, "A")
	id := e.NewContact(t, w.APIKey, map[string]any{"first_name": "Maria"})
	e.Patch(t, "/v1/contacts/"+id, w.APIKey, map[string]any{"last_name": "Gonzalez"}).Expect(t, http.StatusOK)
	var page eventPage
	e.Get(t, "/v1/events?limit=2", w.APIKey).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Data) != 2 || page.Data[0].Type != "contact.created" || page.Data[1].Type != "conversation.opened" || page.NextCursor == nil {
		t.Fatalf("page 1: %+v", page)
	}
	e.Get(t, "/v1/events?cursor="+*page.NextCursor, w.APIKey).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Data) != 1 || page.Data[0].Type != "contact.updated" || page.Data[0].Data["last_name"] != "Gonzalez" || page.NextCursor != nil {
		t.Fatalf("page 2: %+v", page)
	}
	e.Get(t, "/v1/events?types=contact.updated&after=0", w.APIKey).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Data) != 1 {
		t.Fatalf("filtered: %+v", page)
	}
	// A key without contacts:read does not see contact events.
	k := e.NewKey(t, w, "conversations:read")
	e.Get(t, "/v1/events", k).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Data) != 1 || page.Data[0].Type != "conversation.opened" {
		t.Fatalf("conversations:read key: %+v", page)
	}
}

// Acceptance 5: SSRF-prone URLs are refused with a stable code.
func TestEventWebhookURLRefused(t *testing.T) {
	e := apitest.New(t) // WEBHOOK_ALLOW_LOOPBACK off
	w := e.NewWorkspace(t, "A")
	for _, u := range []string{
		"http://127.0.0.1:8080/hook", "https://127.0.0.1/hook", "https://localhost/hook", "https://[::1]/hook",
		"https://10.0.0.1/hook", "https://172.16.5.4/hook", "https://192.168.1.1/hook", "https://169.254.169.254/latest/meta-data",
		"https://[fe80::1]/hook", "https://[fc00::1]/hook", "https://0.0.0.0/hook", "https://[::]/hook",
		"ftp://example.com/hook", "file:///etc/passwd", "gopher://x", "https://user:pass@93.184.215.14/hook",
		"http://93.184.215.14/hook", "not a url", "https://[::ffff:10.0.0.1]/hook",
	} {
		e.Post(t, "/v1/webhooks", w.OwnerToken, map[string]any{"url": u, "events": []string{"*"}}).
			ExpectProblem(t, http.StatusUnprocessableEntity, "webhook_url_refused")
	}
	// https to a public address is fine (nothing is sent until an event happens).
	e.Post(t, "/v1/webhooks", w.OwnerToken, map[string]any{"url": "https://93.184.215.14/hook", "events": []string{"*"}}).
		Expect(t, http.StatusCreated)
	// With the development flag, http to loopback is accepted, private ranges still are not.
	dev := apitest.New(t, liveOpts)
	dw := dev.NewWorkspace(t, "dev")
	dev.Post(t, "/v1/webhooks", dw.OwnerToken, map[string]any{"url": "http://127.0.0.1:9/hook", "events": []string{"*"}}).Expect(t, http.StatusCreated)
	dev.Post(t, "/v1/webhooks", dw.OwnerToken, map[string]any{"url": "http://10.0.0.1/hook", "events": []string{"*"}}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "webhook_url_refused")
}

// Bad input on every new route, roles, and other workspaces' webhooks.
func TestEventBadInputAndTenancy(t *testing.T) {
	e := apitest.New(t, liveOpts)
	a, b := e.NewWorkspace(t, "A"), e.NewWorkspace(t, "B")
	agent := e.NewUser(t, a, "agent")
	sub := newSubscriber(t, nil)
	hook := createWebhook(t, e, a.OwnerToken, sub.URL, "*")

	for _, body := range []any{
		map[string]any{"url": sub.URL},                                      // no events
		map[string]any{"url": sub.URL, "events": []string{}},                // empty
		map[string]any{"url": sub.URL, "events": []string{"message.eaten"}}, // unknown
		map[string]any{"events": []string{"*"}},                             // no url
		map[string]any{"url": sub.URL, "events": []string{"*"}, "description": strings.Repeat("x", 501)},
	} {
		e.Post(t, "/v1/webhooks", a.OwnerToken, body).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	}
	e.Post(t, "/v1/webhooks", a.OwnerToken, `{"url": 5}`).Expect(t, http.StatusBadRequest)
	e.Post(t, "/v1/webhooks", a.OwnerToken, `{`).Expect(t, http.StatusBadRequest)
	e.Patch(t, "/v1/webhooks/"+hook.ID, a.OwnerToken, map[string]any{"url": "https://10.1.2.3/"}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "webhook_url_refused")
	e.Patch(t, "/v1/webhooks/"+hook.ID, a.OwnerToken, map[string]any{"events": []string{"nope"}}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")

	// Agents and narrow keys do not manage webhooks.
	e.Get(t, "/v1/webhooks", agent.Token).ExpectProblem(t, http.StatusForbidden, "forbidden")
	e.Post(t, "/v1/webhooks", e.NewKey(t, a, "conversations:read"), map[string]any{"url": sub.URL, "events": []string{"*"}}).
		ExpectProblem(t, http.StatusForbidden, "forbidden")

	// Another workspace's webhook does not exist for B.
	e.Patch(t, "/v1/webhooks/"+hook.ID, b.OwnerToken, map[string]any{"enabled": false}).ExpectProblem(t, http.StatusNotFound, "webhook_not_found")
	e.Get(t, "/v1/webhooks/"+hook.ID+"/deliveries", b.OwnerToken).ExpectProblem(t, http.StatusNotFound, "webhook_not_found")
	e.Delete(t, "/v1/webhooks/"+hook.ID, b.OwnerToken).ExpectProblem(t, http.StatusNotFound, "webhook_not_found")
	e.Delete(t, "/v1/webhooks/not-an-id", a.OwnerToken).ExpectProblem(t, http.StatusNotFound, "webhook_not_found")
	var list struct {
		Data []json.RawMessage `json:"data"`
	}
	e.Get(t, "/v1/webhooks", b.OwnerToken).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Data) != 0 {
		t.Fatalf("B lists A's webhooks")
	}

	// Events and stream parameters.
	e.Get(t, "/v1/events?after=abc", a.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
	e.Get(t, "/v1/events?types=message.eaten", a.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
	e.Get(t, "/v1/events?conversation_id=x", a.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
	e.Get(t, "/v1/events?cursor=zzz", a.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_cursor")
	e.Get(t, "/v1/events?limit=0", a.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
	e.Get(t, "/v1/events", "").ExpectProblem(t, http.StatusUnauthorized, "unauthenticated")
	e.Get(t, "/v1/events/stream?last_event_id=-1", a.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
	e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/events/stream", Token: a.OwnerToken,
		Header: map[string]string{"Last-Event-ID": "x"}}).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
	e.Get(t, "/v1/events/stream?types=nope", a.OwnerToken).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
	e.Get(t, "/v1/events/stream", "").ExpectProblem(t, http.StatusUnauthorized, "unauthenticated")
	// An access token or API key is not a stream token, and a stream token is not a bearer.
	e.Get(t, "/v1/events/stream?token="+a.OwnerToken, "").ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
	e.Get(t, "/v1/events/stream?token="+a.APIKey, "").ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
	var tok struct {
		Token string `json:"token"`
	}
	e.Post(t, "/v1/events/stream-token", a.OwnerToken, nil).Expect(t, http.StatusCreated).JSON(t, &tok)
	e.Get(t, "/v1/events", tok.Token).ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
	e.Clock.Advance(3 * time.Minute)
	e.Get(t, "/v1/events/stream?token="+tok.Token, "").ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
}
