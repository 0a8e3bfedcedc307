package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

// TestInboundFindsTheContact checks how an inbound message finds its contact: by identity,
// by the phone or email of a new identity, by the contact fields given, or a new contact.
func TestInboundFindsTheContact(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	mail := newChannel(t, e, w.OwnerToken, "email")
	tg := newChannel(t, e, w.OwnerToken, "telegram")
	phoneContact := e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Pia", "phone": "+44 7700 900123"})
	mailContact := e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Max", "email": "max@example.com"})

	cases := []struct {
		name        string
		channel     string
		body        map[string]any
		wantContact string // "" means a new contact
		wantIdent   string
	}{
		{"new identity matches a contact's phone", wa, map[string]any{"identifier": "+447700900123", "text": "hi"}, phoneContact, "+447700900123"},
		{"new identity matches a contact's email", mail, map[string]any{"identifier": " MAX@Example.com ", "text": "hi"}, mailContact, "max@example.com"},
		{"contact fields match by email", tg, map[string]any{"identifier": "777001", "text": "hi", "contact": map[string]any{"email": "Max@example.com"}}, mailContact, "777001"},
		{"known identity", wa, map[string]any{"identifier": "07700 900123", "text": "again"}, phoneContact, "+447700900123"},
		{"unknown identifier makes a contact", tg, map[string]any{"identifier": "  998877  ", "text": "hello", "contact": map[string]any{"first_name": "Новый", "last_name": "Клиент"}}, "", "998877"},
	}
	// National numbers are read in the workspace's default_phone_region.
	e.Patch(t, "/v1/workspace", w.OwnerToken, map[string]any{"settings": map[string]any{"default_phone_region": "GB"}}).Expect(t, http.StatusOK)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := count(t, e, `SELECT count(*) FROM contacts`)
			in := ingest(t, e, w.APIKey, tc.channel, tc.body)
			after := count(t, e, `SELECT count(*) FROM contacts`)
			if tc.wantContact != "" && (in.Contact.ID != tc.wantContact || after != before) {
				t.Fatalf("contact %s (contacts %d → %d), want existing %s", in.Contact.ID, before, after, tc.wantContact)
			}
			if tc.wantContact == "" && (after != before+1 || in.Contact.FirstName != "Новый") {
				t.Fatalf("want a new contact: %+v (contacts %d → %d)", in.Contact, before, after)
			}
			var ids struct {
				Data []identityBody `json:"data"`
			}
			e.Get(t, "/v1/contacts/"+in.Contact.ID+"/channels", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &ids)
			found := false
			for _, x := range ids.Data {
				if x.ChannelID == tc.channel && x.Identifier == tc.wantIdent && x.LastInboundAt != nil && x.ID == *in.Message.IdentityID {
					found = true
				}
			}
			if !found {
				t.Fatalf("identity %q on %s not among %+v (message %+v)", tc.wantIdent, tc.channel, ids.Data, in.Message)
			}
			if in.Message.ConversationID != in.Conversation.ID || in.Message.ContactID != in.Contact.ID || in.Conversation.Contact.ID != in.Contact.ID {
				t.Fatalf("ids do not line up: %+v", in)
			}
		})
	}
	// A new contact reached on WhatsApp keeps the number as its phone.
	in := ingest(t, e, w.APIKey, wa, map[string]any{"identifier": "+33 6 12 34 56 78", "text": "bonjour"})
	if in.Contact.Phone == nil || *in.Contact.Phone != "+33612345678" {
		t.Fatalf("new WhatsApp contact's phone: %v", in.Contact.Phone)
	}
	// An attachment without text.
	in = ingest(t, e, w.APIKey, wa, map[string]any{"identifier": "+33612345678", "attachments": []any{map[string]any{"url": "https://cdn.example.com/a.jpg", "mime_type": "Image/JPEG"}}})
	if in.Message.Type != "attachment" || len(in.Message.Attachments) != 1 || *in.Message.Attachments[0].MimeType != "image/jpeg" ||
		in.Message.Attachments[0].Status != "ready" || in.Message.Attachments[0].MediaID != nil {
		t.Fatalf("attachment message: %+v", in.Message)
	}
}

// TestInboundExternalIDReplay checks that the same external_id answers 200 with the first
// body and writes nothing, also under concurrency.
func TestInboundExternalIDReplay(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	body := map[string]any{"identifier": "+12025550111", "text": "first", "external_id": "wamid.A1"}
	first := e.Post(t, "/v1/channels/"+wa+"/inbound", w.APIKey, body).Expect(t, http.StatusCreated)
	tables := `SELECT (SELECT count(*) FROM messages) + 1000 * (SELECT count(*) FROM contacts) +
		100000 * (SELECT count(*) FROM conversation_events) + 10000000 * (SELECT count(*) FROM contact_identities)`
	rows := count(t, e, tables)
	var updated time.Time
	_ = e.Store.Pool.QueryRow(t.Context(), `SELECT updated_at FROM conversations`).Scan(&updated)

	e.Clock.Advance(time.Minute)
	for _, replay := range []map[string]any{
		body,
		{"identifier": "+12025550111", "text": "changed text", "external_id": " wamid.A1 "},
		{"identifier": "+12025550999", "text": "another sender, same id", "external_id": "wamid.A1"},
	} {
		again := e.Post(t, "/v1/channels/"+wa+"/inbound", w.APIKey, replay).Expect(t, http.StatusOK)
		if !bytes.Equal(again.Body, first.Body) {
			t.Fatalf("replay body differs:\n%s\n%s", again.Body, first.Body)
		}
	}
	var after time.Time
	_ = e.Store.Pool.QueryRow(t.Context(), `SELECT updated_at FROM conversations`).Scan(&after)
	if got := count(t, e, tables); got != rows || !after.Equal(updated) {
		t.Fatalf("a replay wrote: rows %d → %d, conversation updated %v → %v", rows, got, updated, after)
	}
	// The same external id on another channel is another message.
	sms := newChannel(t, e, w.OwnerToken, "sms")
	ingest(t, e, w.APIKey, sms, body)

	// Twelve concurrent deliveries of one new message: one 201, eleven 200, one message.
	var wg sync.WaitGroup
	statuses := make([]int, 12)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = e.Post(t, "/v1/channels/"+wa+"/inbound", w.APIKey,
				map[string]any{"identifier": "+12025550122", "text": "dup", "external_id": "wamid.B2"}).Status
		}()
	}
	wg.Wait()
	created, replayed := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusOK:
			replayed++
		}
	}
	if created != 1 || replayed != 11 || count(t, e, `SELECT count(*) FROM messages WHERE external_id = 'wamid.B2'`) != 1 {
		t.Fatalf("concurrent duplicates: %v", statuses)
	}
}

// TestConcurrentInboundNewIdentifier: twenty messages at once from a customer nobody knows
// make one contact, one identity, one conversation and twenty messages.
func TestConcurrentInboundNewIdentifier(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	sms := newChannel(t, e, w.OwnerToken, "sms")
	base := e.Clock.Now().Add(-time.Hour)
	var wg sync.WaitGroup
	results := make([]inboundBody, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Half on WhatsApp, half on SMS: the same phone on two channels is one contact too.
			ch := wa
			if i%2 == 1 {
				ch = sms
			}
			e.Post(t, "/v1/channels/"+ch+"/inbound", w.APIKey, map[string]any{
				"identifier": "+1 202 555 0177", "text": fmt.Sprintf("message %02d", i),
				"received_at": base.Add(time.Duration(i) * time.Second).Format(time.RFC3339),
			}).Expect(t, http.StatusCreated).JSON(t, &results[i])
		}()
	}
	wg.Wait()
	contact := results[0].Contact.ID
	for _, r := range results {
		if r.Contact.ID != contact {
			t.Fatalf("two contacts: %s and %s", contact, r.Contact.ID)
		}
	}
	if n := count(t, e, `SELECT count(*) FROM contacts`); n != 1 {
		t.Fatalf("%d contacts", n)
	}
	if n := count(t, e, `SELECT count(*) FROM contact_identities`); n != 2 {
		t.Fatalf("%d identities, want one per channel", n)
	}
	if n := count(t, e, `SELECT count(*) FROM conversations`); n != 1 {
		t.Fatalf("%d conversations", n)
	}
	if n := count(t, e, `SELECT count(*) FROM messages`); n != 20 {
		t.Fatalf("%d messages", n)
	}
	var v conversationBody
	e.Get(t, "/v1/conversations/"+results[0].Conversation.ID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &v)
	if v.LastMessage == nil || v.LastMessage.Text != "message 19" {
		t.Fatalf("last message is not the latest: %+v", v.LastMessage)
	}
	if es := events(t, e, w.OwnerToken, v.ID); len(es) != 1 || es[0].Type != "opened" {
		t.Fatalf("events: %v", eventTypes(es))
	}
}

// TestLastInboundAtNeverMovesBackward: a late delivery of an older message is stored but does
// not move the window back, nor become the conversation's last message.
func TestLastInboundAtNeverMovesBackward(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	tg := newChannel(t, e, w.OwnerToken, "telegram")
	now := e.Clock.Now()
	identity := func(contact string) identityBody {
		var ids struct {
			Data []identityBody `json:"data"`
		}
		e.Get(t, "/v1/contacts/"+contact+"/channels", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &ids)
		if len(ids.Data) != 1 {
			t.Fatalf("identities: %+v", ids.Data)
		}
		return ids.Data[0]
	}
	steps := []struct {
		name        string
		receivedAt  *time.Time
		wantInbound time.Time
		wantLast    string
	}{
		{"an hour ago", timePtr(now.Add(-time.Hour)), now.Add(-time.Hour), "an hour ago"},
		{"three hours ago, delivered late", timePtr(now.Add(-3 * time.Hour)), now.Add(-time.Hour), "an hour ago"},
		{"now (no received_at)", nil, now, "now (no received_at)"},
		{"yesterday, delivered late", timePtr(now.Add(-24 * time.Hour)), now, "now (no received_at)"},
	}
	contact := ""
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			body := map[string]any{"identifier": "5550001", "text": s.name}
			if s.receivedAt != nil {
				body["received_at"] = s.receivedAt.Format(time.RFC3339Nano)
			}
			in := ingest(t, e, w.APIKey, tg, body)
			contact = in.Contact.ID
			if s.receivedAt != nil && !in.Message.CreatedAt.Equal(*s.receivedAt) {
				t.Errorf("message time %v, want received_at %v", in.Message.CreatedAt, *s.receivedAt)
			}
			if got := identity(contact).LastInboundAt; got == nil || !got.Equal(s.wantInbound) {
				t.Errorf("last_inbound_at %v, want %v", got, s.wantInbound)
			}
			if in.Conversation.LastMessage == nil || in.Conversation.LastMessage.Text != s.wantLast {
				t.Errorf("last message %+v, want %q", in.Conversation.LastMessage, s.wantLast)
			}
		})
	}
	// The thread is ordered by when messages happened, newest first.
	var msgs struct {
		Data []messageBody `json:"data"`
	}
	conv := e.Get(t, "/v1/contacts/"+contact, w.OwnerToken).Map(t)["conversation"].(map[string]any)["id"].(string)
	e.Get(t, "/v1/conversations/"+conv+"/messages", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &msgs)
	var texts []string
	for _, m := range msgs.Data {
		texts = append(texts, m.Text)
	}
	want := []string{"now (no received_at)", "an hour ago", "three hours ago, delivered late", "yesterday, delivered late"}
	if fmt.Sprint(texts) != fmt.Sprint(want) {
		t.Fatalf("messages %q, want %q", texts, want)
	}
}

// TestInboundReopensClosedConversation: a customer writing to a closed conversation reopens
// it, with the contact as actor; the assignee stays as closing left it.
func TestInboundReopensClosedConversation(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agent := e.NewUser(t, w, "agent")
	ch := newChannel(t, e, w.OwnerToken, "webchat")
	in := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "visitor-1", "text": "hello"})
	conv := in.Conversation.ID
	e.Put(t, "/v1/conversations/"+conv+"/assignee", agent.Token, map[string]any{"user_id": agent.ID}).Expect(t, http.StatusOK)
	e.Post(t, "/v1/conversations/"+conv+"/close", agent.Token, nil).Expect(t, http.StatusOK)

	e.Clock.Advance(time.Hour)
	in = ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "visitor-1", "text": "one more thing"})
	if in.Conversation.Status != "open" || in.Conversation.Assignee == nil || in.Conversation.Assignee.ID != agent.ID || in.Contact.Conversation.Status != "open" {
		t.Fatalf("after inbound: %+v", in.Conversation)
	}
	es := events(t, e, w.APIKey, conv)
	last := es[len(es)-1]
	if last.Type != "reopened" || last.Actor.Kind != "contact" || *last.Actor.ID != in.Contact.ID {
		t.Fatalf("events: %+v", es)
	}
	// An open conversation gets no event from more messages.
	ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "visitor-1", "text": "and another"})
	if n := len(events(t, e, w.APIKey, conv)); n != len(es) {
		t.Fatalf("events grew to %d on an open conversation", n)
	}
}

func timePtr(t time.Time) *time.Time { return &t }
