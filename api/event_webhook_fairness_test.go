package api_test

import (
	"fmt"
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

// hangingSubscriber is a webhook receiver on 127.0.0.1 that never answers until the test
// ends; it counts the deliveries it holds at once, in all and per path.
type hangingSubscriber struct {
	*httptest.Server
	mu   sync.Mutex
	open map[string]int // path ("" for all) → requests held now
	max  map[string]int // path ("" for all) → most requests held at once
}

func newHangingSubscriber(t *testing.T) *hangingSubscriber {
	h := &hangingSubscriber{open: map[string]int{}, max: map[string]int{}}
	release := make(chan struct{})
	h.Server = httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		// Reading the body to its end lets the server notice when the client gives up (its
		// context ends), so "held" counts only what the worker still waits for.
		_, _ = io.Copy(io.Discard, r.Body)
		h.mu.Lock()
		for _, k := range []string{"", r.URL.Path} {
			h.open[k]++
			h.max[k] = max(h.max[k], h.open[k])
		}
		h.mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		h.mu.Lock()
		h.open[""]--
		h.open[r.URL.Path]--
		h.mu.Unlock()
	}))
	// Cleanups run last first: release the handlers, then close the server (which waits
	// for them).
	t.Cleanup(h.Close)
	t.Cleanup(func() { close(release) })
	return h
}

// held answers how many requests to path ("" for all) it holds now and at most it held at once.
func (h *hangingSubscriber) held(path string) (now, most int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.open[path], h.max[path]
}

func webhookDeliveries(t *testing.T, e *apitest.Env, token, hook string) []deliveryRow {
	t.Helper()
	var page struct {
		Data []deliveryRow `json:"data"`
	}
	e.Get(t, "/v1/webhooks/"+hook+"/deliveries?limit=100", token).Expect(t, http.StatusOK).JSON(t, &page)
	return page.Data
}

// Issue 12 point 6: workspace B's endpoint never answers and B has 30 conversations' events
// queued for it, on two processes; workspace A's event still arrives at once. B's held
// attempts end at WEBHOOK_TIMEOUT, are recorded as timeouts and retried later: once B points
// its webhook at an endpoint that answers, the timed-out events arrive there.
func TestEventWebhookHangingEndpointDelaysNoOtherWorkspace(t *testing.T) {
	const timeout = 8 * time.Second
	e := apitest.New(t, liveOpts, func(c *config.Config) { c.WebhookTimeout = timeout })
	e.Twin(t) // a second process with its own worker pool on the same database
	a, b := e.NewWorkspace(t, "A"), e.NewWorkspace(t, "B")
	hang := newHangingSubscriber(t)
	subA := newSubscriber(t, nil)
	hookB := createWebhook(t, e, b.OwnerToken, hang.URL, "message.created")
	createWebhook(t, e, a.OwnerToken, subA.URL, "message.created")

	// 30 conversations, so 30 deliveries are due at once (a conversation's events go in order).
	chB := newChannel(t, e, b.APIKey, "sms")
	started := time.Now()
	for i := range 30 {
		ingest(t, e, b.APIKey, chB, map[string]any{"identifier": fmt.Sprintf("+1415555%04d", i), "text": "anyone there?"})
	}
	waitFor(t, func() bool { open, _ := hang.held(""); return open > 0 })
	time.Sleep(300 * time.Millisecond) // let the workers take what they will of B's queue

	chA := newChannel(t, e, a.APIKey, "sms")
	sent := time.Now()
	ingest(t, e, a.APIKey, chA, map[string]any{"identifier": "+14155550100", "text": "hello"})
	select {
	case <-subA.got:
		t.Logf("A's event delivered %s after it was ingested, with B's endpoint hanging", time.Since(sent).Round(time.Millisecond))
	case <-time.After(3 * time.Second):
		t.Fatalf("A's event not delivered within 3s while B's endpoint hangs (WEBHOOK_TIMEOUT %s)", timeout)
	}
	open, maxOpen := hang.held("")
	t.Logf("B's endpoint holds %d deliveries (at most %d at once)", open, maxOpen)
	if limit := e.Config.WebhookMaxPerWebhook; maxOpen > limit {
		t.Fatalf("B's endpoint held %d deliveries at once across two processes, want at most WEBHOOK_MAX_PER_WEBHOOK=%d", maxOpen, limit)
	}

	// B fixes its endpoint. What is held stays held until the timeout; then the events never
	// tried go to the new URL, and the timed-out ones wait for their retry.
	subB := newSubscriber(t, nil)
	e.Patch(t, "/v1/webhooks/"+hookB.ID, b.OwnerToken, map[string]any{"url": subB.URL}).Expect(t, http.StatusOK)
	var timedOut []deliveryRow
	// The held attempts began after the ingests, which a loaded machine may take seconds over:
	// the bound leaves a whole second timeout of slack beyond the first.
	for deadline := started.Add(2*timeout + 4*time.Second); ; time.Sleep(100 * time.Millisecond) {
		timedOut = timedOut[:0]
		for _, d := range webhookDeliveries(t, e, b.OwnerToken, hookB.ID) {
			if d.Attempts > 0 && d.Status == "pending" {
				timedOut = append(timedOut, d)
			}
		}
		if len(timedOut) >= open {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of the %d deliveries B's endpoint held timed out and wait for a retry, %s after the first was held",
				len(timedOut), open, time.Since(started))
		}
	}
	for _, d := range timedOut {
		if d.Attempts != 1 || d.LastError == nil || !strings.Contains(*d.LastError, "timed out") ||
			d.NextAttemptAt == nil || !d.NextAttemptAt.After(e.Clock.Now()) {
			t.Fatalf("timed-out delivery: %+v, last_error %v", d, deref(d.LastError))
		}
	}
	t.Logf("%d of B's deliveries timed out after %s and wait for a retry: %s", len(timedOut),
		time.Since(started).Round(time.Millisecond), *timedOut[0].LastError)

	// The backoff passes: each timed-out event arrives at B's new endpoint, on its second attempt.
	e.Clock.Advance(10 * time.Second)
	want := map[string]bool{}
	for _, d := range timedOut {
		want[d.EventID] = true
	}
	for deadline := time.After(3 * time.Second); len(want) > 0; {
		select {
		case d := <-subB.got:
			delete(want, d.Header.Get("webhook-id"))
		case <-deadline:
			t.Fatalf("timed-out events %v not retried to B's new endpoint", want)
		}
	}
	byEvent := map[string]deliveryRow{}
	waitFor(t, func() bool {
		for _, d := range webhookDeliveries(t, e, b.OwnerToken, hookB.ID) {
			byEvent[d.EventID] = d
		}
		for _, d := range timedOut {
			if byEvent[d.EventID].Status != "delivered" {
				return false
			}
		}
		return true
	})
	for _, d := range timedOut {
		got := byEvent[d.EventID]
		if got.Attempts != 2 || len(got.AttemptLog) != 2 || got.AttemptLog[0].Error == nil ||
			!strings.Contains(*got.AttemptLog[0].Error, "timed out") || got.AttemptLog[1].StatusCode == nil || *got.AttemptLog[1].StatusCode != 200 {
			t.Fatalf("retried delivery of event %s: %+v", d.EventID, got)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// Issue 12 point 6, the fair share: one workspace's endpoints that hang hold at most
// WEBHOOK_MAX_PER_WORKSPACE deliveries, and one webhook at most WEBHOOK_MAX_PER_WEBHOOK, over
// every process together, while the other workspace's deliveries go through.
func TestEventWebhookSharePerWorkspace(t *testing.T) {
	const perWorkspace, perWebhook = 5, 2
	e := apitest.New(t, liveOpts, func(c *config.Config) {
		c.WebhookTimeout = 8 * time.Second
		c.WebhookMaxPerWorkspace, c.WebhookMaxPerWebhook = perWorkspace, perWebhook
	})
	e.Twin(t)
	a, b := e.NewWorkspace(t, "A"), e.NewWorkspace(t, "B")
	hang := newHangingSubscriber(t)
	paths := []string{"/one", "/two", "/three"} // 3 webhooks × 2 would be 6: the workspace's 5 binds
	for _, p := range paths {
		createWebhook(t, e, b.OwnerToken, hang.URL+p, "message.created")
	}
	subA := newSubscriber(t, nil)
	createWebhook(t, e, a.OwnerToken, subA.URL, "message.created")
	chB := newChannel(t, e, b.APIKey, "sms")
	for i := range 12 {
		ingest(t, e, b.APIKey, chB, map[string]any{"identifier": fmt.Sprintf("+1415555%04d", i), "text": "anyone there?"})
	}
	// B's share fills up, and stays at its bound.
	waitFor(t, func() bool { now, _ := hang.held(""); return now >= perWorkspace })
	chA := newChannel(t, e, a.APIKey, "sms")
	for i := range 3 {
		ingest(t, e, a.APIKey, chA, map[string]any{"identifier": fmt.Sprintf("+1415556%04d", i), "text": "hello"})
		select {
		case <-subA.got:
		case <-time.After(3 * time.Second):
			t.Fatalf("A's event %d not delivered within 3s while B's endpoints hang", i)
		}
	}
	if _, most := hang.held(""); most != perWorkspace {
		t.Errorf("B's endpoints held at most %d deliveries at once over two processes, want WEBHOOK_MAX_PER_WORKSPACE=%d", most, perWorkspace)
	}
	for _, p := range paths {
		if _, most := hang.held(p); most > perWebhook {
			t.Errorf("B's webhook %s held %d deliveries at once, want at most WEBHOOK_MAX_PER_WEBHOOK=%d", p, most, perWebhook)
		}
	}
}
