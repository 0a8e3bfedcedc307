package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

// TestSeedStory runs the agent's side of the core story: a customer writes on WhatsApp, an
// agent takes and closes the conversation, and days later another agent finds it among the
// closed ones by last name, email fragment or phone digits, and reopens it into their inbox.
func TestSeedStory(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	e.Patch(t, "/v1/workspace", w.OwnerToken, map[string]any{"settings": map[string]any{
		"closing_note_categories": []string{"resolved", "refund", "spam"}, "closing_note_required": true,
	}}).Expect(t, http.StatusOK)
	ana := e.NewUser(t, w, "agent")
	ben := e.NewUser(t, w, "agent")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")

	// 1. The customer writes; an integration ingests it with the workspace's API key.
	in := ingest(t, e, w.APIKey, wa, map[string]any{
		"identifier": "+1 (415) 555-0142", "text": "Hi, my order #1234 never arrived",
		"contact": map[string]any{"first_name": "Maria", "last_name": "Gonzalez", "email": "Maria.Gonzalez@Example.com"},
	})
	if in.Contact.Phone == nil || *in.Contact.Phone != "+14155550142" || *in.Contact.Email != "maria.gonzalez@example.com" {
		t.Fatalf("new contact: %+v", in.Contact)
	}
	conv := in.Conversation.ID
	if in.Conversation.Status != "open" || in.Conversation.LastMessage == nil || in.Conversation.LastMessage.Text != "Hi, my order #1234 never arrived" ||
		in.Contact.Conversation.ID != conv || in.Message.Sender.Kind != "contact" || in.Message.Status != "received" {
		t.Fatalf("ingested: %+v", in)
	}

	// 2. Ana takes it and closes it with a category and summary.
	var v conversationBody
	e.Put(t, "/v1/conversations/"+conv+"/assignee", ana.Token, map[string]any{"user_id": ana.ID}).Expect(t, http.StatusOK).JSON(t, &v)
	if v.Assignee == nil || v.Assignee.ID != ana.ID || v.Assignee.Email != ana.Email {
		t.Fatalf("assigned: %+v", v.Assignee)
	}
	e.Clock.Advance(10 * time.Minute)
	e.Post(t, "/v1/conversations/"+conv+"/close", ana.Token, map[string]any{"category": "refund", "summary": "Refund issued for the lost parcel"}).
		Expect(t, http.StatusOK).JSON(t, &v)
	if v.Status != "closed" || v.ClosedAt == nil || v.ClosingNote == nil || *v.ClosingNote.Category != "refund" ||
		*v.ClosingNote.Summary != "Refund issued for the lost parcel" || v.ClosingNote.ClosedBy.Kind != "user" || *v.ClosingNote.ClosedBy.ID != ana.ID {
		t.Fatalf("closed: %+v", v)
	}

	// 3. Three days later Ben looks for her among the closed conversations of everyone.
	e.Clock.Advance(72 * time.Hour)
	ana.Token, _ = e.Login(t, ana.Email, apitest.Password) // access tokens live 15 minutes
	ben.Token, _ = e.Login(t, ben.Email, apitest.Password)
	for _, search := range []string{"Gonzalez", "gonz", "maria.gonzalez@exa", "EXAMPLE.COM", "0142", "415 555", "+1 (415) 555-01"} {
		closed := inboxIDs(t, e, ben.Token, q("status", "closed", "inbox", "all", "q", search))
		if !contains(closed, conv) {
			t.Errorf("status=closed q=%q does not find the conversation", search)
		}
		if open := inboxIDs(t, e, ben.Token, q("status", "open", "q", search)); contains(open, conv) {
			t.Errorf("status=open q=%q finds the closed conversation", search)
		}
	}
	if got := inboxIDs(t, e, ben.Token, q("status", "closed", "q", "Gonzalezz")); len(got) != 0 {
		t.Errorf("a non-matching q finds %v", got)
	}
	p := inbox(t, e, ben.Token, q("status", "closed", "q", "gonzalez"))
	if len(p.Data) != 1 || p.Data[0].ClosingNote == nil || *p.Data[0].ClosingNote.Category != "refund" || p.Data[0].Contact.LastName != "Gonzalez" ||
		p.Data[0].LastMessage == nil || p.Data[0].Assignee == nil || p.Data[0].Assignee.ID != ana.ID {
		t.Fatalf("inbox row: %+v", p.Data)
	}

	// 4. Ben reopens it: it is open again under the same id, assigned to him.
	e.Post(t, "/v1/conversations/"+conv+"/reopen", ben.Token, nil).Expect(t, http.StatusOK).JSON(t, &v)
	if v.ID != conv || v.Status != "open" || v.Assignee == nil || v.Assignee.ID != ben.ID || v.ClosedAt != nil || v.ClosingNote == nil {
		t.Fatalf("reopened: %+v", v)
	}
	if mine := inboxIDs(t, e, ben.Token, q("inbox", "mine")); !contains(mine, conv) {
		t.Errorf("not in the reopener's inbox=mine: %v", mine)
	}
	if mine := inboxIDs(t, e, ana.Token, q("inbox", "mine")); contains(mine, conv) {
		t.Errorf("still in the previous agent's inbox=mine")
	}
	if mine := inboxIDs(t, e, ana.Token, q("inbox", "mine", "status", "all")); contains(mine, conv) {
		t.Errorf("in another agent's inbox=mine&status=all")
	}
	ct := e.Get(t, "/v1/contacts/"+in.Contact.ID, ben.Token).Expect(t, http.StatusOK).Map(t)
	if ref := ct["conversation"].(map[string]any); ref["id"] != conv || ref["status"] != "open" {
		t.Errorf("contact's conversation: %v", ref)
	}

	// The lifecycle, with who did what.
	es := events(t, e, ben.Token, conv)
	want := []string{"opened", "assigned", "closed", "reopened", "assigned"}
	if !slices.Equal(eventTypes(es), want) {
		t.Fatalf("events %v, want %v", eventTypes(es), want)
	}
	if *es[1].AssigneeID != ana.ID || *es[1].Actor.ID != ana.ID || *es[2].Category != "refund" || *es[3].Actor.ID != ben.ID ||
		*es[4].AssigneeID != ben.ID || es[0].Actor.Kind != "system" || es[0].Actor.ID != nil {
		t.Fatalf("events: %+v", es)
	}
	if !strings.HasPrefix(es[3].At.Format(time.RFC3339), e.Clock.Now().Format("2006-01-02")) {
		t.Errorf("reopened at %v, clock %v", es[3].At, e.Clock.Now())
	}
}
