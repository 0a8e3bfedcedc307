package api_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/job"
)

// runJob runs a periodic job now, as River's leader does at its interval, and waits for it.
func runJob(t *testing.T, e *apitest.Env, args river.JobArgs) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.Jobs.Run(ctx, args); err != nil {
		t.Fatalf("%s: %v", args.Kind(), err)
	}
}

// The periodic purge deletes idempotency records whose key has expired (24 hours after the
// send) and keeps the others, which still replay.
func TestPeriodicPurgeOfExpiredIdempotencyKeys(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	s := newSendEnv(t, e, w, "sms", nil, "+14155550178", time.Hour)
	send := func(key string) *apitest.Response {
		return e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/contacts/" + s.contact + "/messages", Token: w.APIKey,
			Body: map[string]any{"type": "text", "text": "hi", "channel_id": s.channel}, Header: map[string]string{"Idempotency-Key": key}})
	}
	send("old").Expect(t, http.StatusCreated)
	e.Clock.Advance(23 * time.Hour)
	fresh := send("fresh").Expect(t, http.StatusCreated)
	e.Clock.Advance(2 * time.Hour) // "old" expired an hour ago; "fresh" has 22 hours left

	runJob(t, e, job.PurgeIdempotency{})

	rows, err := e.Store.Pool.Query(context.Background(), `SELECT key FROM idempotency_keys ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{"fresh"}) {
		t.Fatalf("idempotency keys after the purge: %v, want [fresh]", keys)
	}
	if again := send("fresh").Expect(t, http.StatusCreated); string(again.Body) != string(fresh.Body) {
		t.Fatalf("the kept key does not replay:\n%s\nwant\n%s", again.Body, fresh.Body)
	}
}

// The periodic prune deletes the events older than EVENT_RETENTION with their webhook
// deliveries, and keeps the newer ones.
func TestPeriodicPruneOfEventsPastRetention(t *testing.T) {
	e := apitest.New(t, liveOpts)
	w := e.NewWorkspace(t, "Acme")
	sub := newSubscriber(t, nil)
	hook := createWebhook(t, e, w.OwnerToken, sub.URL, "contact.created")
	type eventRow struct {
		ID   string         `json:"id"`
		Type string         `json:"type"`
		Data map[string]any `json:"data"`
	}
	created := func(contact string) (ev eventRow) {
		t.Helper()
		var page struct {
			Data []eventRow `json:"data"`
		}
		e.Get(t, "/v1/events?types=contact.created&limit=100", w.APIKey).Expect(t, http.StatusOK).JSON(t, &page)
		for _, ev := range page.Data {
			if ev.Data["id"] == contact {
				return ev
			}
		}
		return eventRow{}
	}
	delivered := func(event string) bool {
		t.Helper()
		for _, d := range webhookDeliveries(t, e, w.APIKey, hook.ID) {
			if d.EventID == event {
				return d.Status == "delivered"
			}
		}
		return false
	}

	old := e.NewContact(t, w.APIKey, map[string]any{"first_name": "Old"})
	oldEvent := created(old)
	waitFor(t, func() bool { return delivered(oldEvent.ID) })
	e.Clock.Advance(e.Config.EventRetention)
	kept := e.NewContact(t, w.APIKey, map[string]any{"first_name": "Kept"})
	keptEvent := created(kept)
	waitFor(t, func() bool { return delivered(keptEvent.ID) })
	e.Clock.Advance(time.Minute) // the old event is now past the retention, the new one within it

	runJob(t, e, job.PruneEvents{})

	if ev := created(old); ev.ID != "" {
		t.Errorf("the event past retention is still listed: %+v", ev)
	}
	if ev := created(kept); ev.ID != keptEvent.ID {
		t.Errorf("the event within retention is gone")
	}
	var events []string
	for _, d := range webhookDeliveries(t, e, w.APIKey, hook.ID) {
		events = append(events, d.EventID)
	}
	if !slices.Equal(events, []string{keptEvent.ID}) {
		t.Errorf("webhook deliveries after the prune are of events %v, want [%s] (not %s)", events, keptEvent.ID, oldEvent.ID)
	}
}
