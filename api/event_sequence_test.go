package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

type eventPage struct {
	Data []struct {
		ID   string         `json:"id"`
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	} `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// Events are numbered by the sequencer, not under a lock held to COMMIT (migration 0027). An
// event whose transaction queued it early but committed late gets an id above every event
// already read, so a reader resuming after the last id it saw still gets it.
func TestEventCommittedLateIsNotSkipped(t *testing.T) {
	e := apitest.New(t, liveOpts)
	w := e.NewWorkspace(t, "A")
	first := e.NewContact(t, w.APIKey, map[string]any{"first_name": "Early"})
	var page eventPage
	e.Get(t, "/v1/events?types=contact.created", w.APIKey).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Data) != 1 || page.Data[0].Data["id"] != first {
		t.Fatalf("events: %+v", page)
	}

	// A writer queues an event (a copy of the contact's, so its payload is a real one), and
	// holds its transaction open: its queue id is older than anything written after.
	ctx := context.Background()
	late, err := e.Store.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = late.Rollback(ctx) }()
	if _, err := late.Exec(ctx, `INSERT INTO event_queue (workspace_id, type, occurred_at, conversation_id, payload)
SELECT workspace_id, type, occurred_at, conversation_id, payload FROM events WHERE workspace_id = $1 AND id = $2`,
		w.ID, page.Data[0].ID); err != nil {
		t.Fatal(err)
	}

	// Another write commits and is read; the reader's position is now past it.
	second := e.NewContact(t, w.APIKey, map[string]any{"first_name": "Meanwhile"})
	e.Get(t, "/v1/events?types=contact.created&after="+page.Data[0].ID, w.APIKey).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Data) != 1 || page.Data[0].Data["id"] != second {
		t.Fatalf("after the first: %+v", page)
	}
	seen := page.Data[0].ID

	// The late writer commits, and a stream following from the last id seen hears it (the
	// sequencer numbers it within milliseconds and notifies).
	s := openStream(t, e.URL, "/v1/events/stream?types=contact.created", w.OwnerToken, map[string]string{"Last-Event-ID": seen})
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := s.next(t, "contact.created", 5*time.Second); ev.Data["data"].(map[string]any)["id"] != first {
		t.Fatalf("streamed %+v", ev)
	}
	// Resuming after the last id seen returns it too.
	e.Get(t, "/v1/events?types=contact.created&after="+seen, w.APIKey).Expect(t, http.StatusOK).JSON(t, &page)
	if len(page.Data) != 1 || page.Data[0].Data["id"] != first {
		t.Fatalf("resumed after %s: %+v", seen, page)
	}
	if a, b := mustInt(t, page.Data[0].ID), mustInt(t, seen); a <= b {
		t.Fatalf("the late event got id %d, not above %d", a, b)
	}
}

// Many writers of one workspace commit side by side; a stream that follows them, cut and
// resumed with Last-Event-ID, gets every event once, in increasing ids, and each customer's
// messages in the order they were written.
func TestEventConcurrentWritersOneOrder(t *testing.T) {
	e := apitest.New(t, liveOpts)
	w := e.NewWorkspace(t, "A")
	ch := newChannel(t, e, w.APIKey, "telegram")
	const writers, each = 8, 15

	s := openStream(t, e.URL, "/v1/events/stream?types=message.created", w.OwnerToken, nil)
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for i := range writers {
		wg.Go(func() {
			for j := range each {
				r, err := e.Check(t, apitest.Request{Method: http.MethodPost, Path: "/v1/channels/" + ch + "/inbound",
					Token: w.APIKey, Body: map[string]any{"identifier": strconv.Itoa(1000 + i), "text": fmt.Sprintf("%d/%02d", i, j)}})
				if err == nil && r.Status != http.StatusCreated {
					err = fmt.Errorf("inbound answered %d: %s", r.Status, r.Body)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}

	// Halfway through the stream is cut, and resumed from the last id it delivered.
	var got []sseEvent
	for len(got) < writers*each/2 {
		got = append(got, s.next(t, "message.created", 10*time.Second))
	}
	s.close()
	s = openStream(t, e.URL, "/v1/events/stream?types=message.created", w.OwnerToken,
		map[string]string{"Last-Event-ID": got[len(got)-1].ID})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for len(got) < writers*each {
		got = append(got, s.next(t, "message.created", 10*time.Second))
	}
	s.none(t, 300*time.Millisecond)

	next := make([]int, writers)
	var last int64
	for _, ev := range got {
		id := mustInt(t, ev.ID)
		if id <= last {
			t.Fatalf("event %d after %d", id, last)
		}
		last = id
		var i, j int
		if _, err := fmt.Sscanf(ev.Data["data"].(map[string]any)["text"].(string), "%d/%d", &i, &j); err != nil {
			t.Fatal(err)
		}
		if j != next[i] {
			t.Fatalf("writer %d's message %d came when %d was due", i, j, next[i])
		}
		next[i]++
	}
	// And the stream's events are the outbox's, none more.
	if n := count(t, e, `SELECT count(*) FROM events WHERE workspace_id = $1 AND type = 'message.created'`, w.ID); n != writers*each {
		t.Fatalf("%d message.created events in the outbox, want %d", n, writers*each)
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("event id %q: %v", s, err)
	}
	return n
}
