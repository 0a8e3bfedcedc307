package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

// TestAgentsWorkingTogether is issue 14's story, through the API: Ana leaves a note mentioning
// Ben; Ben's inbox=mentions and counts show it; the customer never receives it; Ben labels the
// conversation refund and filters by it, snoozes it until the customer replies; an inbound
// message wakes it with the right events; Ben's unread_count is 1, he marks it read, 0.
func TestAgentsWorkingTogether(t *testing.T) {
	e := apitest.New(t, apitest.WithWorkers(1)) // deliveries run: a note must still send nothing
	w := e.NewWorkspace(t, "Acme")
	ana, ben := e.NewUser(t, w, "agent"), e.NewUser(t, w, "agent")
	tg := newChannel(t, e, w.OwnerToken, "telegram")
	first := ingest(t, e, w.APIKey, tg, map[string]any{"identifier": "5150", "text": "my refund?"})
	conv := first.Conversation.ID
	e.Put(t, "/v1/conversations/"+conv+"/assignee", ben.Token, map[string]any{"user_id": ben.ID}).Expect(t, http.StatusOK)
	e.Post(t, "/v1/conversations/"+conv+"/read", ben.Token, nil).Expect(t, http.StatusOK)
	jobsBefore := count(t, e, `SELECT count(*) FROM river_job`)
	e.Clock.Advance(time.Second) // the note comes after Ben's read (the test clock stands still)

	// Ana's note mentions Ben.
	var note struct {
		ID        string   `json:"id"`
		Type      string   `json:"type"`
		Direction string   `json:"direction"`
		Status    string   `json:"status"`
		Mentions  []string `json:"mentions"`
	}
	e.Post(t, "/v1/conversations/"+conv+"/notes", ana.Token, map[string]any{"text": "@Ben the refund went out Monday", "mentions": []string{ben.ID}}).
		Expect(t, http.StatusCreated).JSON(t, &note)
	if note.Type != "note" || note.Direction != "internal" || len(note.Mentions) != 1 || note.Mentions[0] != ben.ID {
		t.Fatalf("note: %+v", note)
	}
	if ids := inboxIDs(t, e, ben.Token, q("inbox", "mentions")); len(ids) != 1 || ids[0] != conv {
		t.Fatalf("Ben's inbox=mentions: %v", ids)
	}
	if ids := inboxIDs(t, e, ana.Token, q("inbox", "mentions")); len(ids) != 0 {
		t.Fatalf("Ana is not mentioned, her inbox=mentions: %v", ids)
	}
	var c countsBody
	e.Get(t, "/v1/conversations/counts", ben.Token).Expect(t, http.StatusOK).JSON(t, &c)
	if *c.MentionsUnread != 1 || *c.Open.Mine != 1 {
		t.Fatalf("Ben's counts after the note: %+v (mine %d, mentions_unread %d)", c, *c.Open.Mine, *c.MentionsUnread)
	}
	// The customer never receives it: no delivery job, the note stays internal, and the row's
	// last message (and unread count) are still the customer's.
	time.Sleep(300 * time.Millisecond) // the worker would have picked a job up by now
	if jobs := count(t, e, `SELECT count(*) FROM river_job`); jobs != jobsBefore {
		t.Fatalf("%d jobs after the note, %d before: something was queued for delivery", jobs, jobsBefore)
	}
	var m struct{ Status string }
	e.Get(t, "/v1/messages/"+note.ID, ana.Token).Expect(t, http.StatusOK).JSON(t, &m)
	if m.Status != "internal" {
		t.Fatalf("the note's status: %q", m.Status)
	}
	r := row(t, e, ben.Token, conv)
	wantUnread(t, "a note is not unread", r, 0)

	// Ben labels it refund and filters by the label.
	var label struct{ ID string }
	e.Post(t, "/v1/labels", w.OwnerToken, map[string]any{"name": "refund", "color": "#e5484d"}).Expect(t, http.StatusCreated).JSON(t, &label)
	e.Put(t, "/v1/conversations/"+conv+"/labels", ben.Token, map[string]any{"label_ids": []string{label.ID}}).Expect(t, http.StatusOK)
	if ids := inboxIDs(t, e, ben.Token, q("label_id", label.ID, "inbox", "mine")); len(ids) != 1 || ids[0] != conv {
		t.Fatalf("Ben's refund-labelled inbox: %v", ids)
	}
	// Reading the conversation clears the mention.
	e.Post(t, "/v1/conversations/"+conv+"/read", ben.Token, nil).Expect(t, http.StatusOK)
	e.Get(t, "/v1/conversations/counts", ben.Token).Expect(t, http.StatusOK).JSON(t, &c)
	if *c.MentionsUnread != 0 {
		t.Fatalf("mentions_unread after reading: %d", *c.MentionsUnread)
	}

	// Ben snoozes it until the customer replies: out of the open tab, into the snoozed one.
	e.Post(t, "/v1/conversations/"+conv+"/snooze", ben.Token, map[string]any{"until": nil}).Expect(t, http.StatusOK)
	if ids := inboxIDs(t, e, ben.Token, q("inbox", "mine")); len(ids) != 0 {
		t.Fatalf("a snoozed conversation in the open inbox: %v", ids)
	}
	e.Get(t, "/v1/conversations/counts", ben.Token).Expect(t, http.StatusOK).JSON(t, &c)
	if *c.Open.Mine != 0 || *c.Snoozed.Mine != 1 || c.Snoozed.All != 1 {
		t.Fatalf("counts while snoozed: open mine %d, snoozed mine %d, all %d", *c.Open.Mine, *c.Snoozed.Mine, c.Snoozed.All)
	}

	// The customer writes: the conversation wakes, with its timeline event and the outbox event.
	ingest(t, e, w.APIKey, tg, map[string]any{"identifier": "5150", "text": "any news?"})
	evs := events(t, e, ben.Token, conv)
	last := evs[len(evs)-1]
	if last.Type != "woke" {
		t.Fatalf("timeline ends with %q: %v", last.Type, eventTypes(evs))
	}
	var feed struct {
		Data []struct {
			Type string `json:"type"`
			Data struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"data"`
		} `json:"data"`
	}
	e.Get(t, "/v1/events?types=conversation.woke&conversation_id="+conv, w.APIKey).Expect(t, http.StatusOK).JSON(t, &feed)
	if len(feed.Data) != 1 || feed.Data[0].Data.ID != conv || feed.Data[0].Data.Status != "open" {
		t.Fatalf("conversation.woke events: %+v", feed.Data)
	}
	var tl struct {
		Data []struct {
			Type   string  `json:"type"`
			Reason *string `json:"reason"`
		} `json:"data"`
	}
	e.Get(t, "/v1/conversations/"+conv+"/events?limit=100", ben.Token).Expect(t, http.StatusOK).JSON(t, &tl)
	if w := tl.Data[len(tl.Data)-1]; w.Reason == nil || *w.Reason != "customer_replied" {
		t.Fatalf("woke without reason customer_replied: %+v", w)
	}

	// Ben has one unread message; he reads it.
	wantUnread(t, "after the customer's reply", row(t, e, ben.Token, conv), 1)
	e.Post(t, "/v1/conversations/"+conv+"/read", ben.Token, nil).Expect(t, http.StatusOK).JSON(t, &r)
	wantUnread(t, "after reading", r, 0)
	e.Get(t, "/v1/conversations/counts", ben.Token).Expect(t, http.StatusOK).JSON(t, &c)
	if *c.Open.Mine != 1 || *c.Snoozed.Mine != 0 || *c.MentionsUnread != 0 {
		t.Fatalf("final counts: open mine %d, snoozed mine %d, mentions_unread %d", *c.Open.Mine, *c.Snoozed.Mine, *c.MentionsUnread)
	}
}
