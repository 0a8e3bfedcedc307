package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

// mergePair ingests a Messenger and a WhatsApp contact of the same person, messages
// interleaved in time (m0 messenger, w1 whatsapp, m2, w3, from base), and answers their
// inbound answers (the last of each).
func mergePair(t *testing.T, e *apitest.Env, w *apitest.Workspace, fb, wa, psid, phone string, base time.Time) (m, wm inboundBody) {
	t.Helper()
	for i := 0; i < 4; i++ {
		at := base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		if i%2 == 0 {
			m = ingest(t, e, w.APIKey, fb, map[string]any{"identifier": psid, "text": fmt.Sprintf("m%d", i), "received_at": at,
				"contact": map[string]any{"first_name": "Maria"}})
		} else {
			wm = ingest(t, e, w.APIKey, wa, map[string]any{"identifier": phone, "text": fmt.Sprintf("w%d", i), "received_at": at,
				"contact": map[string]any{"first_name": "Maria", "last_name": "Gonzalez"}})
		}
	}
	return m, wm
}

func merge(e *apitest.Env, t *testing.T, token, into, from string) *apitest.Response {
	return e.Post(t, "/v1/contacts/"+into+"/merge", token, map[string]any{"from_contact_id": from})
}

// TestContactMerge is issue 17's acceptance 2: one person's Messenger and WhatsApp contacts,
// each with messages, a note and a label, become one contact with both identities and one
// conversation with every message in order; the merged id answers 404 everywhere; a repeat
// answers the same.
func TestContactMerge(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	fb := newChannel(t, e, w.OwnerToken, "messenger")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	m, wm := mergePair(t, e, w, fb, wa, "psid-maria", "+12025550180", e.Clock.Now().Add(-time.Hour))
	survivor, merged := m.Contact.ID, wm.Contact.ID
	sConv, mConv := m.Conversation.ID, wm.Conversation.ID
	if survivor == merged {
		t.Fatal("the two channels made one contact already")
	}
	e.Patch(t, "/v1/contacts/"+survivor, w.OwnerToken, map[string]any{"tags": []string{"vip"}, "custom_fields": map[string]any{"plan": "gold"}}).Expect(t, http.StatusOK)
	e.Patch(t, "/v1/contacts/"+merged, w.OwnerToken, map[string]any{"tags": []string{"es", "vip"},
		"custom_fields": map[string]any{"plan": "free", "city": "Madrid"}}).Expect(t, http.StatusOK)
	e.Post(t, "/v1/conversations/"+sConv+"/notes", w.OwnerToken, map[string]any{"text": "note on messenger"}).Expect(t, http.StatusCreated)
	e.Post(t, "/v1/conversations/"+mConv+"/notes", w.OwnerToken, map[string]any{"text": "note on whatsapp"}).Expect(t, http.StatusCreated)
	l1, l2 := newLabel(t, e, w.OwnerToken, "billing", "#112233"), newLabel(t, e, w.OwnerToken, "spanish", "#445566")
	setLabels(t, e, w.OwnerToken, sConv, l1.ID).Expect(t, http.StatusOK)
	setLabels(t, e, w.OwnerToken, mConv, l1.ID, l2.ID).Expect(t, http.StatusOK)
	e.Post(t, "/v1/conversations/"+sConv+"/close", w.OwnerToken, map[string]any{}).Expect(t, http.StatusOK)

	var got contactBody
	merge(e, t, w.OwnerToken, survivor, merged).Expect(t, http.StatusOK).JSON(t, &got)
	if got.ID != survivor || got.Conversation.ID != sConv || got.Conversation.Status != "open" {
		t.Errorf("merge answered %+v, want %s with its conversation %s open (the merged one was open)", got, survivor, sConv)
	}
	if got.Phone == nil || *got.Phone != "+12025550180" || got.LastName != "Gonzalez" {
		t.Errorf("the merged contact's phone and last name fill the survivor's gaps: %+v", got)
	}
	if fmt.Sprint(got.Tags) != "[vip es]" || got.CustomFields["plan"] != "gold" || got.CustomFields["city"] != "Madrid" {
		t.Errorf("tags %v, custom fields %v: want tags united, the survivor's fields winning", got.Tags, got.CustomFields)
	}

	// One conversation, every message and both notes, newest first.
	var msgs struct {
		Data []messageBody `json:"data"`
	}
	e.Get(t, "/v1/conversations/"+sConv+"/messages", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &msgs)
	var texts []string
	for _, x := range msgs.Data {
		texts = append(texts, x.Text)
		if x.ConversationID != sConv {
			t.Errorf("message %q in %s, want %s", x.Text, x.ConversationID, sConv)
		}
	}
	if want := "[note on whatsapp note on messenger w3 m2 w1 m0]"; fmt.Sprint(texts) != want {
		t.Errorf("thread %v, want %s", texts, want)
	}
	var conv struct {
		conversationBody
		Labels []struct {
			ID string `json:"id"`
		} `json:"labels"`
	}
	e.Get(t, "/v1/conversations/"+sConv, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &conv)
	if len(conv.Labels) != 2 || conv.LastMessage == nil || conv.LastMessage.Text != "w3" {
		t.Errorf("conversation: labels %v, last message %+v; want both labels and w3", conv.Labels, conv.LastMessage)
	}

	// Both identities, both channels eligible.
	var el struct {
		Channels []struct {
			ChannelID string `json:"channel_id"`
		} `json:"channels"`
	}
	e.Get(t, "/v1/contacts/"+survivor+"/send-eligibility", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &el)
	chans := map[string]bool{}
	for _, c := range el.Channels {
		chans[c.ChannelID] = true
	}
	if len(chans) != 2 || !chans[fb] || !chans[wa] {
		t.Errorf("send-eligibility channels %v, want messenger and whatsapp", el.Channels)
	}

	// The merged id is gone: reads, search, the inbox.
	e.Get(t, "/v1/contacts/"+merged, w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
	e.Get(t, "/v1/conversations/"+mConv, w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "conversation_not_found")
	var found struct {
		Data []contactBody `json:"data"`
	}
	e.Get(t, "/v1/contacts?q=Maria", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &found)
	if len(found.Data) != 1 || found.Data[0].ID != survivor {
		t.Errorf("search finds %+v, want only the survivor", found.Data)
	}
	if ids := inboxIDs(t, e, w.OwnerToken, q("status", "all")); len(ids) != 1 || ids[0] != sConv {
		t.Errorf("inbox %v, want only %s", ids, sConv)
	}

	// contact.merged went out.
	var evs struct {
		Data []struct {
			Data map[string]any `json:"data"`
		} `json:"data"`
	}
	e.Get(t, "/v1/events?types=contact.merged", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &evs)
	if len(evs.Data) != 1 || evs.Data[0].Data["survivor_id"] != survivor || evs.Data[0].Data["merged_id"] != merged {
		t.Errorf("contact.merged events %v", evs.Data)
	}

	// A repeat answers the same and publishes nothing more.
	var again contactBody
	merge(e, t, w.APIKey, survivor, merged).Expect(t, http.StatusOK).JSON(t, &again)
	if again.ID != survivor || fmt.Sprint(again.Tags) != fmt.Sprint(got.Tags) {
		t.Errorf("repeat answered %+v, want %+v", again, got)
	}
	e.Get(t, "/v1/events?types=contact.merged", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &evs)
	if len(evs.Data) != 1 {
		t.Errorf("a repeat published again: %v", evs.Data)
	}
	// The audit log has the merge once (the repeat records none), by the user who asked, on the survivor.
	var log struct {
		Data []struct {
			Actor    struct{ Kind string } `json:"actor"`
			Resource struct{ ID string }   `json:"resource"`
			Changes  map[string]struct {
				Before any `json:"before"`
			} `json:"changes"`
		} `json:"data"`
	}
	e.Get(t, "/v1/audit-log?action=contact.merged", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &log)
	if len(log.Data) != 1 || log.Data[0].Actor.Kind != "user" || log.Data[0].Resource.ID != survivor ||
		log.Data[0].Changes["merged_id"].Before != merged {
		t.Errorf("audit entries of the merge: %+v", log.Data)
	}

	// A new WhatsApp message lands in the survivor's conversation.
	in := ingest(t, e, w.APIKey, wa, map[string]any{"identifier": "+12025550180", "text": "after"})
	if in.Contact.ID != survivor || in.Conversation.ID != sConv {
		t.Errorf("inbound after the merge went to %s / %s", in.Contact.ID, in.Conversation.ID)
	}
}

// TestContactMergeBadInput: itself, unknown and other workspaces' contacts are 422 on
// from_contact_id; an unknown {id} is 404.
func TestContactMergeBadInput(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	other := e.NewWorkspace(t, "Other")
	a := e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "A"})
	theirs := e.NewContact(t, other.OwnerToken, map[string]any{"first_name": "Theirs"})
	unknown := "0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f99"
	for _, from := range []string{a, theirs, unknown, "not-an-id"} {
		r := merge(e, t, w.OwnerToken, a, from).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
		if msg := problemFieldMessage(t, r, "from_contact_id"); msg == "" {
			t.Errorf("from %s: no message on from_contact_id", from)
		}
	}
	merge(e, t, w.OwnerToken, unknown, a).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
	merge(e, t, w.OwnerToken, unknown, unknown).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
	e.Post(t, "/v1/contacts/"+a+"/merge", w.OwnerToken, map[string]any{}).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	// Both still there.
	e.Get(t, "/v1/contacts/"+a, w.OwnerToken).Expect(t, http.StatusOK)
	e.Get(t, "/v1/contacts/"+theirs, other.OwnerToken).Expect(t, http.StatusOK)
}

// TestContactMergeConcurrentInbound: an inbound message to the merged contact's identity,
// sent at the same moment as the merge, is never lost and always ends in the survivor's
// conversation, whichever transaction takes the locks first.
func TestContactMergeConcurrentInbound(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	fb := newChannel(t, e, w.OwnerToken, "messenger")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	base := e.Clock.Now().Add(-time.Hour)
	for round := 0; round < 12; round++ {
		phone := fmt.Sprintf("+120255501%02d", round)
		m, wm := mergePair(t, e, w, fb, wa, fmt.Sprintf("psid-%d", round), phone, base)
		survivor, merged := m.Contact.ID, wm.Contact.ID
		start := make(chan struct{})
		var wg sync.WaitGroup
		var mergeRes, inRes *apitest.Response
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			mergeRes = merge(e, t, w.OwnerToken, survivor, merged)
		}()
		go func() {
			defer wg.Done()
			<-start
			inRes = e.Post(t, "/v1/channels/"+wa+"/inbound", w.APIKey, map[string]any{"identifier": phone,
				"text": fmt.Sprintf("during %d", round)})
		}()
		close(start)
		wg.Wait()
		mergeRes.Expect(t, http.StatusOK)
		var in inboundBody
		inRes.Expect(t, http.StatusCreated).JSON(t, &in)
		var msgs struct {
			Data []messageBody `json:"data"`
		}
		e.Get(t, "/v1/conversations/"+m.Conversation.ID+"/messages?limit=100", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &msgs)
		ok := false
		for _, x := range msgs.Data {
			if x.ID == in.Message.ID {
				ok = x.ContactID == survivor
			}
		}
		if !ok || len(msgs.Data) != 5 {
			t.Fatalf("round %d: the concurrent message %s is not in the survivor's thread (%d messages, answered contact %s)",
				round, in.Message.ID, len(msgs.Data), in.Contact.ID)
		}
	}
}

// TestContactMergeAssigneeAndReadState: both conversations open and assigned, the later
// assignment wins; each agent keeps the later of their reads, and what they read in either
// conversation stays read (what they never saw stays unread), a mention moves with its note, and the tab counters equal a
// direct count afterwards.
func TestContactMergeAssigneeAndReadState(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ana, ben := e.NewUser(t, w, "agent"), e.NewUser(t, w, "agent")
	fb := newChannel(t, e, w.OwnerToken, "messenger")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	m, wm := mergePair(t, e, w, fb, wa, "psid-leo", "+12025550190", e.Clock.Now().Add(-time.Hour))
	sConv, mConv := m.Conversation.ID, wm.Conversation.ID
	e.Put(t, "/v1/conversations/"+sConv+"/assignee", w.OwnerToken, map[string]any{"user_id": ana.ID}).Expect(t, http.StatusOK)
	e.Clock.Advance(time.Minute)
	e.Put(t, "/v1/conversations/"+mConv+"/assignee", w.OwnerToken, map[string]any{"user_id": ben.ID}).Expect(t, http.StatusOK)
	// Ana has read the Messenger thread (up to m2), Ben the WhatsApp one (up to w3).
	e.Post(t, "/v1/conversations/"+sConv+"/read", ana.Token, nil).Expect(t, http.StatusOK)
	e.Post(t, "/v1/conversations/"+mConv+"/read", ben.Token, nil).Expect(t, http.StatusOK)
	e.Clock.Advance(time.Minute)
	e.Post(t, "/v1/conversations/"+mConv+"/notes", ben.Token, map[string]any{"text": "@ana can you take this?",
		"mentions": []string{ana.ID}}).Expect(t, http.StatusCreated)

	merge(e, t, w.OwnerToken, m.Contact.ID, wm.Contact.ID).Expect(t, http.StatusOK)

	var conv conversationBody
	e.Get(t, "/v1/conversations/"+sConv, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &conv)
	if conv.Status != "open" || conv.Assignee == nil || conv.Assignee.ID != ben.ID {
		t.Errorf("merged conversation %s assigned to %+v, want open and Ben's (the later assignment)", conv.Status, conv.Assignee)
	}
	wantUnread(t, "Ana (read m0 and m2, never saw w1 and w3)", row(t, e, ana.Token, sConv), 2)
	wantUnread(t, "Ben (read w1 and w3, never saw m0 and m2)", row(t, e, ben.Token, sConv), 2)
	for _, u := range []*apitest.User{ana, ben} {
		var got countsBody
		e.Get(t, "/v1/conversations/counts", u.Token).Expect(t, http.StatusOK).JSON(t, &got)
		sameCounts(t, "counts of "+u.ID, got, directCounts(t, e, w.ID, u.ID))
	}
	var anaCounts countsBody
	e.Get(t, "/v1/conversations/counts", ana.Token).Expect(t, http.StatusOK).JSON(t, &anaCounts)
	if *anaCounts.MentionsUnread != 1 || *anaCounts.Open.Mine != 0 {
		t.Errorf("Ana's counts %+v: want her mention unread and nothing open of hers", anaCounts)
	}
}

// TestContactMergeInboundWaitingOnTheMerge forces the interleaving the random rounds of
// TestContactMergeConcurrentInbound may miss: the merge holds the merged conversation's lock
// while an inbound message to the merged identity waits on it. The test holds that lock
// itself until both wait (the merge first), then lets go: the merge deletes the row the
// ingest waited for, and the ingest must find the identity on the survivor instead.
func TestContactMergeInboundWaitingOnTheMerge(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	fb := newChannel(t, e, w.OwnerToken, "messenger")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	m, wm := mergePair(t, e, w, fb, wa, "psid-eva", "+12025550170", e.Clock.Now().Add(-time.Hour))
	ctx := context.Background()
	tx, err := e.Store.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // released below; this is for a failure before
	if _, err := tx.Exec(ctx, `SELECT 1 FROM conversations WHERE workspace_id = $1 AND id = $2 FOR UPDATE`,
		w.ID, wm.Conversation.ID); err != nil {
		t.Fatal(err)
	}
	waiting := func(n int) func() bool {
		return func() bool {
			return count(t, e, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`) >= n
		}
	}
	var wg sync.WaitGroup
	var mergeRes, inRes *apitest.Response
	wg.Add(2)
	go func() {
		defer wg.Done()
		mergeRes = merge(e, t, w.OwnerToken, m.Contact.ID, wm.Contact.ID)
	}()
	waitFor(t, waiting(1))
	go func() {
		defer wg.Done()
		inRes = e.Post(t, "/v1/channels/"+wa+"/inbound", w.APIKey, map[string]any{"identifier": "+12025550170", "text": "while merging"})
	}()
	waitFor(t, waiting(2))
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	mergeRes.Expect(t, http.StatusOK)
	var in inboundBody
	inRes.Expect(t, http.StatusCreated).JSON(t, &in)
	if in.Contact.ID != m.Contact.ID || in.Conversation.ID != m.Conversation.ID {
		t.Errorf("the waiting inbound went to contact %s, conversation %s; want the survivor's %s, %s",
			in.Contact.ID, in.Conversation.ID, m.Contact.ID, m.Conversation.ID)
	}
	if n := count(t, e, `SELECT count(*) FROM messages WHERE conversation_id = $1`, m.Conversation.ID); n != 5 {
		t.Errorf("survivor's thread has %d messages, want 5", n)
	}
	if n := count(t, e, `SELECT count(*) FROM contacts WHERE workspace_id = $1`, w.ID); n != 1 {
		t.Errorf("%d contacts, want the survivor alone (the waiting inbound made no new one)", n)
	}
}
