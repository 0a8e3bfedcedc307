package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/page"
)

type noteBody struct {
	ID             string     `json:"id"`
	ConversationID string     `json:"conversation_id"`
	ContactID      string     `json:"contact_id"`
	ChannelID      *string    `json:"channel_id"`
	IdentityID     *string    `json:"identity_id"`
	Direction      string     `json:"direction"`
	Type           string     `json:"type"`
	Text           string     `json:"text"`
	Sender         actorBody  `json:"sender"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	Mentions       []string   `json:"mentions"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
}

type mentionBody struct {
	UserID         string    `json:"user_id"`
	ConversationID string    `json:"conversation_id"`
	NoteID         string    `json:"note_id"`
	CreatedAt      time.Time `json:"created_at"`
}

type listedEvent struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	ConversationID *string         `json:"conversation_id"`
	Data           json.RawMessage `json:"data"`
}

// noteEnv is a workspace with two agents (Ana and Ben), a manager, and one customer who wrote
// in on a Telegram channel a minute ago.
type noteEnv struct {
	e                 *apitest.Env
	w                 *apitest.Workspace
	ana, ben, manager *apitest.User
	channel, contact  string
	conv              string
}

func newNoteEnv(t *testing.T, e *apitest.Env) noteEnv {
	t.Helper()
	w := e.NewWorkspace(t, "Acme")
	n := noteEnv{e: e, w: w, ana: e.NewUser(t, w, "agent"), ben: e.NewUser(t, w, "agent"), manager: e.NewUser(t, w, "manager")}
	n.channel = newChannel(t, e, w.OwnerToken, "telegram")
	in := ingest(t, e, w.APIKey, n.channel, map[string]any{"identifier": "4242", "text": "Where is my order?",
		"contact": map[string]any{"first_name": "Maria"}, "received_at": e.Clock.Now().Add(-time.Minute).Format(time.RFC3339)})
	n.contact, n.conv = in.Contact.ID, in.Conversation.ID
	return n
}

// note posts a note and expects 201.
func (n noteEnv) note(t *testing.T, token, conv, text string, mentions ...string) noteBody {
	t.Helper()
	var out noteBody
	body := map[string]any{"text": text}
	if mentions != nil {
		body["mentions"] = mentions
	}
	n.e.Post(t, "/v1/conversations/"+conv+"/notes", token, body).Expect(t, http.StatusCreated).JSON(t, &out)
	return out
}

func (n noteEnv) thread(t *testing.T, conv string) []noteBody {
	t.Helper()
	var p struct {
		Data []noteBody `json:"data"`
	}
	n.e.Get(t, "/v1/conversations/"+conv+"/messages?limit=100", n.w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &p)
	return p.Data
}

// events lists the workspace's events of the types, oldest first.
func (n noteEnv) events(t *testing.T, types string) []listedEvent {
	t.Helper()
	var p struct {
		Data []listedEvent `json:"data"`
	}
	n.e.Get(t, "/v1/events?limit=100&after=0&types="+types, n.w.APIKey).Expect(t, http.StatusOK).JSON(t, &p)
	return p.Data
}

func mentionsOf(t *testing.T, evs []listedEvent) []mentionBody {
	t.Helper()
	var out []mentionBody
	for _, ev := range evs {
		if ev.Type == "mention.created" {
			var m mentionBody
			if err := json.Unmarshal(ev.Data, &m); err != nil {
				t.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

// A note from Ana mentioning Ben: in the thread in order, never delivered, and nothing about
// the conversation or its reply window changes.
func TestNoteIsInternal(t *testing.T) {
	e := apitest.New(t, apitest.WithWorkers(1))
	n := newNoteEnv(t, e)
	ctx := context.Background()
	e.Clock.Advance(time.Second)
	e.Post(t, "/v1/conversations/"+n.conv+"/close", n.w.OwnerToken, map[string]any{}).Expect(t, http.StatusOK)
	var before conversationBody
	e.Get(t, "/v1/conversations/"+n.conv, n.w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &before)
	type window struct {
		LastInboundAt time.Time
		Outbound      int
	}
	readWindow := func() window {
		var w window
		if err := e.Store.Pool.QueryRow(ctx, `SELECT last_inbound_at, outbound_since_inbound FROM contact_identities
			WHERE contact_id = $1`, n.contact).Scan(&w.LastInboundAt, &w.Outbound); err != nil {
			t.Fatal(err)
		}
		return w
	}
	windowBefore := readWindow()
	jobsBefore := count(t, e, `SELECT count(*) FROM river_job`)

	e.Clock.Advance(time.Second)
	r := e.Post(t, "/v1/conversations/"+n.conv+"/notes", n.ana.Token, map[string]any{
		"text": "  Customer is upset; @Ben can you check the refund?  ", "mentions": []string{n.ben.ID}}).Expect(t, http.StatusCreated)
	var note noteBody
	r.JSON(t, &note)
	if note.Type != "note" || note.Direction != "internal" || note.Status != "internal" || note.ChannelID != nil ||
		note.IdentityID != nil || note.Sender.Kind != "user" || note.Sender.ID == nil || *note.Sender.ID != n.ana.ID ||
		note.Text != "Customer is upset; @Ben can you check the refund?" || !slices.Equal(note.Mentions, []string{n.ben.ID}) ||
		note.ConversationID != n.conv || note.ContactID != n.contact || !note.CreatedAt.Equal(e.Clock.Now()) {
		t.Fatalf("note: %+v", note)
	}
	if loc := r.Header.Get("Location"); loc != "/v1/messages/"+note.ID {
		t.Errorf("Location %q", loc)
	}

	// The conversation is as it was: still closed, unassigned, its last message the customer's.
	var after conversationBody
	e.Get(t, "/v1/conversations/"+n.conv, n.w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &after)
	if after.Status != "closed" || after.Assignee != nil || after.LastMessage == nil || before.LastMessage == nil ||
		after.LastMessage.ID != before.LastMessage.ID || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("the note changed the conversation:\nbefore %+v\nafter  %+v", before, after)
	}
	if got := events(t, e, n.w.OwnerToken, n.conv); !slices.Equal(eventTypes(got), []string{"opened", "closed"}) {
		t.Errorf("lifecycle %v", eventTypes(got))
	}
	if w := readWindow(); w != windowBefore {
		t.Errorf("the reply window moved: %+v, was %+v", w, windowBefore)
	}
	if jobs := count(t, e, `SELECT count(*) FROM river_job`); jobs != jobsBefore {
		t.Errorf("%d delivery jobs after the note, %d before", jobs, jobsBefore)
	}

	// A reply after it is delivered by the running workers; the note never is.
	e.Clock.Advance(time.Second)
	var sent struct {
		Message messageBody `json:"message"`
	}
	e.Post(t, "/v1/contacts/"+n.contact+"/messages", n.w.OwnerToken, map[string]any{"type": "text", "text": "Refund is on its way"}).
		Expect(t, http.StatusCreated).JSON(t, &sent)
	deadline := time.Now().Add(15 * time.Second)
	for {
		var m messageBody
		e.Get(t, "/v1/messages/"+sent.Message.ID, n.w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &m)
		if m.Status == "delivered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reply was not delivered: %+v", m)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var again noteBody
	e.Get(t, "/v1/messages/"+note.ID, n.ben.Token).Expect(t, http.StatusOK).JSON(t, &again)
	if again.Status != "internal" || again.Attempts != 0 || again.LastAttemptAt != nil || !slices.Equal(again.Mentions, note.Mentions) {
		t.Fatalf("the note was handled as a delivery: %+v", again)
	}
	if jobs := count(t, e, `SELECT count(*) FROM river_job`); jobs != jobsBefore+1 {
		t.Errorf("%d delivery jobs, want the reply's only (%d before)", jobs, jobsBefore)
	}

	// The thread, newest first: the reply, the note, the customer's message.
	th := n.thread(t, n.conv)
	if len(th) != 3 || th[0].ID != sent.Message.ID || th[1].ID != note.ID || th[2].Direction != "incoming" {
		t.Fatalf("thread: %+v", th)
	}
	if th[1].Type != "note" || !slices.Equal(th[1].Mentions, []string{n.ben.ID}) || th[0].Mentions != nil || th[2].Mentions != nil ||
		th[0].ChannelID == nil || *th[0].ChannelID != n.channel {
		t.Errorf("thread rows: %+v", th)
	}

	// Ben's mentions inbox has the conversation; Ana's and the manager's do not.
	if ids := inboxIDs(t, e, n.ben.Token, q("inbox", "mentions")); !slices.Equal(ids, []string{n.conv}) {
		t.Errorf("Ben's mentions: %v", ids)
	}
	for _, u := range []*apitest.User{n.ana, n.manager} {
		if ids := inboxIDs(t, e, u.Token, q("inbox", "mentions", "status", "all")); len(ids) != 0 {
			t.Errorf("%s's mentions: %v", u.Email, ids)
		}
	}
	var ms struct {
		Data []mentionBody `json:"data"`
	}
	e.Get(t, "/v1/notes/"+note.ID+"/mentions", n.ben.Token).Expect(t, http.StatusOK).JSON(t, &ms)
	if len(ms.Data) != 1 || ms.Data[0].UserID != n.ben.ID || ms.Data[0].NoteID != note.ID || !ms.Data[0].CreatedAt.Equal(note.CreatedAt) {
		t.Errorf("mentions: %+v", ms.Data)
	}

	// Events: note.created with the note, then one mention.created for Ben.
	evs := n.events(t, "note.created,mention.created,note.updated,note.deleted")
	if len(evs) != 2 || evs[0].Type != "note.created" || evs[1].Type != "mention.created" ||
		evs[0].ConversationID == nil || *evs[0].ConversationID != n.conv {
		t.Fatalf("events: %+v", evs)
	}
	var created noteBody
	if err := json.Unmarshal(evs[0].Data, &created); err != nil || created.ID != note.ID || created.Type != "note" {
		t.Errorf("note.created data %s", evs[0].Data)
	}
	if m := mentionsOf(t, evs); len(m) != 1 || m[0] != (mentionBody{UserID: n.ben.ID, ConversationID: n.conv, NoteID: note.ID, CreatedAt: note.CreatedAt}) {
		t.Errorf("mention.created data %+v", m)
	}
}

// Notes are edited and deleted by their author, owners, managers and API keys.
func TestNoteEditAndDeleteRights(t *testing.T) {
	e := apitest.New(t)
	n := newNoteEnv(t, e)
	note := n.note(t, n.ana.Token, n.conv, "First draft")
	path := "/v1/notes/" + note.ID

	// Another agent may neither edit nor delete it.
	e.Patch(t, path, n.ben.Token, map[string]any{"text": "Ben was here"}).ExpectProblem(t, http.StatusForbidden, "note_forbidden")
	e.Delete(t, path, n.ben.Token).ExpectProblem(t, http.StatusForbidden, "note_forbidden")
	// A key without conversations:write may not either.
	e.Patch(t, path, e.NewKey(t, n.w, "conversations:read"), map[string]any{"text": "x"}).ExpectProblem(t, http.StatusForbidden, "forbidden")

	edits := []struct {
		name, token, text string
	}{
		{"the author", n.ana.Token, "Second draft"},
		{"a manager", n.manager.Token, "Third draft"},
		{"the owner", n.w.OwnerToken, "Fourth draft"},
		{"an API key", n.w.APIKey, "Fifth draft"},
	}
	for _, tc := range edits {
		t.Run(tc.name, func(t *testing.T) {
			e.Clock.Advance(time.Second)
			var out noteBody
			e.Patch(t, path, tc.token, map[string]any{"text": " " + tc.text + " "}).Expect(t, http.StatusOK).JSON(t, &out)
			if out.Text != tc.text || out.Sender.ID == nil || *out.Sender.ID != n.ana.ID || !out.UpdatedAt.Equal(e.Clock.Now()) ||
				!out.CreatedAt.Equal(note.CreatedAt) {
				t.Fatalf("edited by %s: %+v", tc.name, out)
			}
		})
	}
	// An edit that changes nothing writes nothing.
	e.Clock.Advance(time.Second)
	var same noteBody
	e.Patch(t, path, n.ana.Token, map[string]any{"text": "Fifth draft"}).Expect(t, http.StatusOK).JSON(t, &same)
	if same.UpdatedAt.Equal(e.Clock.Now()) {
		t.Errorf("a no-op edit moved updated_at: %+v", same)
	}
	if got := len(n.events(t, "note.updated")); got != len(edits) {
		t.Errorf("%d note.updated events, want %d", got, len(edits))
	}

	// A message that is no note is not a note.
	msg := n.thread(t, n.conv)[1] // the customer's
	if msg.Type != "text" {
		t.Fatalf("expected the customer's message, got %+v", msg)
	}
	e.Patch(t, "/v1/notes/"+msg.ID, n.w.OwnerToken, map[string]any{"text": "x"}).ExpectProblem(t, http.StatusNotFound, "note_not_found")
	e.Delete(t, "/v1/notes/"+msg.ID, n.w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "note_not_found")
	e.Get(t, "/v1/notes/"+msg.ID+"/mentions", n.w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "note_not_found")
	e.Delete(t, "/v1/notes/not-an-id", n.w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "note_not_found")

	// The author deletes it: gone from the thread and from GET /v1/messages/{id}.
	e.Delete(t, path, n.ana.Token).Expect(t, http.StatusNoContent)
	e.Get(t, "/v1/messages/"+note.ID, n.w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "message_not_found")
	e.Delete(t, path, n.ana.Token).ExpectProblem(t, http.StatusNotFound, "note_not_found")
	if th := n.thread(t, n.conv); len(th) != 1 || th[0].Type != "text" {
		t.Fatalf("thread after delete: %+v", th)
	}
	deleted := n.events(t, "note.deleted")
	var data noteBody
	if len(deleted) != 1 || json.Unmarshal(deleted[0].Data, &data) != nil || data.ID != note.ID || data.Text != "Fifth draft" {
		t.Fatalf("note.deleted: %+v", deleted)
	}
	// A manager deletes another's note.
	other := n.note(t, n.ben.Token, n.conv, "Ben's note")
	e.Delete(t, "/v1/notes/"+other.ID, n.manager.Token).Expect(t, http.StatusNoContent)
}

// Edits and deletes keep each user's latest mention per conversation: added users get a
// mention made at the edit, removed ones lose it unless another note still mentions them.
func TestNoteMentionsFollowEdits(t *testing.T) {
	e := apitest.New(t)
	n := newNoteEnv(t, e)
	cat, dan := e.NewUser(t, n.w, "agent"), e.NewUser(t, n.w, "agent")
	latest := func(user string) *time.Time {
		var at *time.Time
		err := e.Store.Pool.QueryRow(context.Background(), `SELECT last_mention_at FROM conversation_mentions
			WHERE user_id = $1 AND conversation_id = $2`, user, n.conv).Scan(&at)
		if err != nil && !strings.Contains(err.Error(), "no rows") {
			t.Fatal(err)
		}
		return at
	}
	first := n.note(t, n.ana.Token, n.conv, "for Ben and Cat", n.ben.ID, cat.ID)
	e.Clock.Advance(time.Minute)
	second := n.note(t, n.ana.Token, n.conv, "for Ben again", n.ben.ID)
	if at := latest(n.ben.ID); at == nil || !at.Equal(second.CreatedAt) {
		t.Fatalf("Ben's latest mention %v, want %v", at, second.CreatedAt)
	}

	// The first note now mentions Cat and Dan: Dan's mention is made now, Ben's goes.
	e.Clock.Advance(time.Minute)
	var edited noteBody
	e.Patch(t, "/v1/notes/"+first.ID, n.ana.Token, map[string]any{"mentions": []string{cat.ID, dan.ID}}).
		Expect(t, http.StatusOK).JSON(t, &edited)
	if !slices.Equal(edited.Mentions, []string{cat.ID, dan.ID}) || edited.Text != "for Ben and Cat" {
		t.Fatalf("edited: %+v", edited)
	}
	if at := latest(cat.ID); at == nil || !at.Equal(first.CreatedAt) {
		t.Errorf("Cat's kept mention moved: %v, want %v", at, first.CreatedAt)
	}
	if at := latest(dan.ID); at == nil || !at.Equal(e.Clock.Now()) {
		t.Errorf("Dan's new mention at %v, want now", at)
	}
	if at := latest(n.ben.ID); at == nil || !at.Equal(second.CreatedAt) {
		t.Errorf("Ben is still mentioned by the second note: %v", at)
	}
	m := mentionsOf(t, n.events(t, "mention.created"))
	if len(m) != 4 || m[3].UserID != dan.ID || m[3].NoteID != first.ID || !m[3].CreatedAt.Equal(e.Clock.Now()) {
		t.Errorf("mention.created: %+v (want Ben, Cat, Ben, then Dan only)", m)
	}
	var ms struct {
		Data []mentionBody `json:"data"`
	}
	e.Get(t, "/v1/notes/"+first.ID+"/mentions", n.ana.Token).Expect(t, http.StatusOK).JSON(t, &ms)
	if len(ms.Data) != 2 || ms.Data[0].UserID != cat.ID || ms.Data[1].UserID != dan.ID || !ms.Data[1].CreatedAt.Equal(e.Clock.Now()) {
		t.Errorf("the note's mentions: %+v", ms.Data)
	}

	// Removing Ben from his last note here takes the conversation out of his mentions.
	e.Patch(t, "/v1/notes/"+second.ID, n.ana.Token, map[string]any{"mentions": []string{}}).Expect(t, http.StatusOK)
	if at := latest(n.ben.ID); at != nil {
		t.Errorf("Ben keeps a mention at %v", at)
	}
	if ids := inboxIDs(t, e, n.ben.Token, q("inbox", "mentions", "status", "all")); len(ids) != 0 {
		t.Errorf("Ben's mentions: %v", ids)
	}
	// Deleting the first note takes Cat's and Dan's.
	e.Delete(t, "/v1/notes/"+first.ID, n.manager.Token).Expect(t, http.StatusNoContent)
	if n := count(t, e, `SELECT count(*) FROM conversation_mentions`) + count(t, e, `SELECT count(*) FROM note_mentions`); n != 0 {
		t.Errorf("%d mention rows left", n)
	}
	if ids := inboxIDs(t, e, dan.Token, q("inbox", "mentions")); len(ids) != 0 {
		t.Errorf("Dan's mentions: %v", ids)
	}
}

func TestNoteBadInput(t *testing.T) {
	e := apitest.New(t)
	n := newNoteEnv(t, e)
	other := e.NewWorkspace(t, "Other")
	stranger := e.NewUser(t, other, "agent")
	note := n.note(t, n.ana.Token, n.conv, "keep me", n.ben.ID)
	many := make([]string, 21)
	for i := range many {
		many[i] = uuid.NewString()
	}
	long := strings.Repeat("ä", 20001)
	create := "/v1/conversations/" + n.conv + "/notes"
	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code, field               string
	}{
		{"no text", "POST", create, n.ana.Token, map[string]any{"mentions": []string{}}, 422, "validation_failed", "text"},
		{"blank text", "POST", create, n.ana.Token, map[string]any{"text": " \n\t "}, 422, "validation_failed", "text"},
		{"text too long", "POST", create, n.ana.Token, map[string]any{"text": long}, 422, "validation_failed", "text"},
		{"unknown user", "POST", create, n.ana.Token, map[string]any{"text": "x", "mentions": []string{uuid.NewString()}}, 422, "validation_failed", "mentions"},
		{"another workspace's user", "POST", create, n.ana.Token, map[string]any{"text": "x", "mentions": []string{n.ben.ID, stranger.ID}}, 422, "validation_failed", "mentions"},
		{"twice the same user", "POST", create, n.ana.Token, map[string]any{"text": "x", "mentions": []string{n.ben.ID, n.ben.ID}}, 422, "validation_failed", "mentions"},
		{"21 users", "POST", create, n.ana.Token, map[string]any{"text": "x", "mentions": many}, 422, "validation_failed", "mentions"},
		{"not an id", "POST", create, n.ana.Token, map[string]any{"text": "x", "mentions": []string{"ben"}}, 422, "validation_failed", "mentions"},
		{"null mentions", "POST", create, n.ana.Token, map[string]any{"text": "x", "mentions": nil}, 422, "validation_failed", "mentions"},
		{"an API key on its own", "POST", create, n.w.APIKey, map[string]any{"text": "x"}, 422, "validation_failed", "on_behalf_of"},
		{"on behalf of a stranger", "POST", create, n.w.APIKey, map[string]any{"text": "x", "on_behalf_of": stranger.ID}, 422, "validation_failed", "on_behalf_of"},
		{"a user on behalf of another", "POST", create, n.ana.Token, map[string]any{"text": "x", "on_behalf_of": n.ben.ID}, 403, "forbidden", ""},
		{"an unknown field", "POST", create, n.ana.Token, map[string]any{"text": "x", "channel_id": n.channel}, 400, "unknown_field", "channel_id"},
		{"a bad Idempotency-Key", "POST", create, n.ana.Token, map[string]any{"text": "x"}, 400, "invalid_parameter", "Idempotency-Key"},
		{"edit to blank", "PATCH", "/v1/notes/" + note.ID, n.ana.Token, map[string]any{"text": ""}, 422, "validation_failed", "text"},
		{"edit to null text", "PATCH", "/v1/notes/" + note.ID, n.ana.Token, map[string]any{"text": nil}, 422, "validation_failed", "text"},
		{"edit to a stranger", "PATCH", "/v1/notes/" + note.ID, n.ana.Token, map[string]any{"text": "changed", "mentions": []string{stranger.ID}}, 422, "validation_failed", "mentions"},
		{"edit to 21 users", "PATCH", "/v1/notes/" + note.ID, n.ana.Token, map[string]any{"mentions": many}, 422, "validation_failed", "mentions"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := apitest.Request{Method: tc.method, Path: tc.path, Token: tc.token, Body: tc.body}
			if tc.name == "a bad Idempotency-Key" {
				req.Header = map[string]string{"Idempotency-Key": "has space"}
			}
			r := e.Do(t, req).ExpectProblem(t, tc.status, tc.code)
			var p struct {
				Errors []struct{ Field string } `json:"errors"`
			}
			r.JSON(t, &p)
			if tc.field == "" && len(p.Errors) != 0 || tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field) {
				t.Errorf("errors %+v, want the field %s", p.Errors, tc.field)
			}
		})
	}
	// Nothing was half-written: one note, its one mention, and its events.
	if got := count(t, e, `SELECT count(*) FROM messages WHERE type = 'note'`); got != 1 {
		t.Errorf("%d notes", got)
	}
	var kept noteBody
	e.Get(t, "/v1/messages/"+note.ID, n.ana.Token).Expect(t, http.StatusOK).JSON(t, &kept)
	if kept.Text != "keep me" || !slices.Equal(kept.Mentions, []string{n.ben.ID}) {
		t.Errorf("the refused edits changed the note: %+v", kept)
	}
	if got := count(t, e, `SELECT count(*) FROM note_mentions`) + count(t, e, `SELECT count(*) FROM conversation_mentions`); got != 2 {
		t.Errorf("%d mention rows, want 2", got)
	}
	if got := len(n.events(t, "note.created,note.updated,mention.created")); got != 2 {
		t.Errorf("%d note events, want 2", got)
	}

	// An API key writes a note on behalf of a user, who is its author.
	var byKey noteBody
	e.Post(t, create, n.w.APIKey, map[string]any{"text": "from the CRM", "on_behalf_of": n.ben.ID}).Expect(t, http.StatusCreated).JSON(t, &byKey)
	if byKey.Sender.Kind != "user" || byKey.Sender.ID == nil || *byKey.Sender.ID != n.ben.ID || byKey.Mentions == nil || len(byKey.Mentions) != 0 {
		t.Errorf("note by a key: %+v", byKey)
	}
	// Only the user may list their mentions; a key has none.
	e.Get(t, "/v1/conversations?inbox=mentions", n.w.APIKey).ExpectProblem(t, http.StatusForbidden, "user_required")
}

// Another workspace's conversations and notes do not exist for a caller.
func TestNoteTenancy(t *testing.T) {
	e := apitest.New(t)
	n := newNoteEnv(t, e)
	note := n.note(t, n.ana.Token, n.conv, "internal", n.ben.ID)
	other := e.NewWorkspace(t, "Other")
	for _, token := range []string{other.OwnerToken, other.APIKey} {
		body := map[string]any{"text": "hi"}
		if token == other.APIKey {
			body["on_behalf_of"] = other.OwnerID
		}
		e.Post(t, "/v1/conversations/"+n.conv+"/notes", token, body).ExpectProblem(t, http.StatusNotFound, "conversation_not_found")
		e.Patch(t, "/v1/notes/"+note.ID, token, map[string]any{"text": "mine now"}).ExpectProblem(t, http.StatusNotFound, "note_not_found")
		e.Delete(t, "/v1/notes/"+note.ID, token).ExpectProblem(t, http.StatusNotFound, "note_not_found")
		e.Get(t, "/v1/notes/"+note.ID+"/mentions", token).ExpectProblem(t, http.StatusNotFound, "note_not_found")
		e.Get(t, "/v1/messages/"+note.ID, token).ExpectProblem(t, http.StatusNotFound, "message_not_found")
	}
	if ids := inboxIDs(t, e, other.OwnerToken, q("inbox", "mentions", "status", "all")); len(ids) != 0 {
		t.Errorf("the other workspace's mentions: %v", ids)
	}
	var kept noteBody
	e.Get(t, "/v1/messages/"+note.ID, n.w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &kept)
	if kept.Text != "internal" {
		t.Errorf("note: %+v", kept)
	}
}

// A note's Idempotency-Key replays the first answer and writes once.
func TestIdempotentNotes(t *testing.T) {
	e := apitest.New(t)
	n := newNoteEnv(t, e)
	post := func(text string) *apitest.Response {
		return e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/conversations/" + n.conv + "/notes", Token: n.ana.Token,
			Body: map[string]any{"text": text, "mentions": []string{n.ben.ID}}, Header: map[string]string{"Idempotency-Key": "note-1"}})
	}
	first := post("Once").Expect(t, http.StatusCreated)
	again := post("Once").Expect(t, http.StatusCreated)
	if again.Header.Get("Idempotent-Replayed") != "true" || string(again.Body) != string(first.Body) || first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("replay:\n%s\n%s", first.Body, again.Body)
	}
	post("Twice").ExpectProblem(t, http.StatusUnprocessableEntity, "idempotency_key_reused")
	if got := count(t, e, `SELECT count(*) FROM messages WHERE type = 'note'`); got != 1 {
		t.Errorf("%d notes", got)
	}
	if got := len(n.events(t, "mention.created")); got != 1 {
		t.Errorf("%d mention.created events", got)
	}
}

// inbox=mentions: the caller's mentioned conversations, latest mention first, keyset-paged
// on the mention, with the inbox's other filters and q.
func TestMentionsInbox(t *testing.T) {
	e := apitest.New(t)
	n := newNoteEnv(t, e)
	// Five customers write in; Ana mentions Ben in each, a minute apart, in this order.
	convs := make([]string, 5)
	names := []string{"Maria", "Jonas", "Mario", "Eva", "Marek"}
	for i := range convs {
		in := ingest(t, e, n.w.APIKey, n.channel, map[string]any{"identifier": fmt.Sprint(5000 + i), "text": "hi",
			"contact": map[string]any{"first_name": names[i]}})
		convs[i] = in.Conversation.ID
	}
	for _, c := range convs {
		e.Clock.Advance(time.Minute)
		n.note(t, n.ana.Token, c, "@Ben", n.ben.ID)
	}
	// A later mention in the first conversation moves it to the front; a note without a
	// mention of Ben, and one mentioning Ana, change nothing for him.
	e.Clock.Advance(time.Minute)
	n.note(t, n.ana.Token, convs[0], "@Ben again", n.ben.ID)
	n.note(t, n.ben.Token, convs[4], "@Ana", n.ana.ID)
	n.note(t, n.ana.Token, n.conv, "no one")
	want := []string{convs[0], convs[4], convs[3], convs[2], convs[1]}
	if got := inboxIDs(t, e, n.ben.Token, q("inbox", "mentions")); !slices.Equal(got, want) {
		t.Fatalf("Ben's mentions %v, want %v", got, want)
	}
	// Pages of two, and sort=oldest.
	pageAll := func(sort string) []string {
		var ids []string
		cursor := ""
		for i := 0; i < 10; i++ {
			v := q("inbox", "mentions", "limit", "2", "sort", sort)
			if cursor != "" {
				v.Set("cursor", cursor)
			}
			p := inbox(t, e, n.ben.Token, v)
			for _, c := range p.Data {
				ids = append(ids, c.ID)
			}
			if p.NextCursor == nil {
				return ids
			}
			cursor = *p.NextCursor
		}
		t.Fatal("too many pages")
		return nil
	}
	if got := pageAll("newest"); !slices.Equal(got, want) {
		t.Errorf("paged newest: %v", got)
	}
	if got := pageAll("oldest"); !slices.Equal(got, []string{convs[1], convs[2], convs[3], convs[4], convs[0]}) {
		t.Errorf("paged oldest: %v", got)
	}
	// Combined with status, assignee and q.
	e.Post(t, "/v1/conversations/"+convs[3]+"/close", n.w.OwnerToken, map[string]any{}).Expect(t, http.StatusOK)
	e.Put(t, "/v1/conversations/"+convs[2]+"/assignee", n.w.OwnerToken, map[string]any{"user_id": n.manager.ID}).Expect(t, http.StatusOK)
	cases := []struct {
		query url.Values
		want  []string
	}{
		{q("inbox", "mentions", "status", "open"), []string{convs[0], convs[4], convs[2], convs[1]}},
		{q("inbox", "mentions", "status", "closed"), []string{convs[3]}},
		{q("inbox", "mentions", "status", "all"), want},
		{q("inbox", "mentions", "assignee_id", n.manager.ID), []string{convs[2]}},
		{q("inbox", "mentions", "q", "mar", "status", "all"), []string{convs[0], convs[4], convs[2]}},
		{q("inbox", "mentions", "q", "jonas"), []string{convs[1]}},
		{q("inbox", "mentions", "q", "mar", "sort", "oldest"), []string{convs[2], convs[4], convs[0]}},
	}
	for _, tc := range cases {
		if got := inboxIDs(t, e, n.ben.Token, tc.query); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query.Encode(), got, tc.want)
		}
	}
	// The rows are the inbox's rows.
	p := inbox(t, e, n.ben.Token, q("inbox", "mentions", "limit", "1"))
	if len(p.Data) != 1 || p.Data[0].Contact.FirstName != "Maria" || p.Data[0].LastMessage == nil || p.Data[0].LastMessage.Direction != "incoming" {
		t.Errorf("row: %+v", p.Data)
	}
	// A cursor belongs to its inbox and sort.
	e.Get(t, "/v1/conversations?inbox=all&cursor="+url.QueryEscape(*p.NextCursor), n.ben.Token).ExpectProblem(t, http.StatusBadRequest, "invalid_cursor")
	e.Get(t, "/v1/conversations?inbox=mentions&sort=oldest&cursor="+url.QueryEscape(*p.NextCursor), n.ben.Token).
		ExpectProblem(t, http.StatusBadRequest, "invalid_cursor")
	all := inbox(t, e, n.ben.Token, q("limit", "1"))
	e.Get(t, "/v1/conversations?inbox=mentions&cursor="+url.QueryEscape(*all.NextCursor), n.ben.Token).ExpectProblem(t, http.StatusBadRequest, "invalid_cursor")
	// Each user has their own.
	if ids := inboxIDs(t, e, n.ana.Token, q("inbox", "mentions")); !slices.Equal(ids, []string{convs[4]}) {
		t.Errorf("Ana's mentions: %v", ids)
	}
}

// inbox=mentions walks conversation_mentions_recent in order and stops at the page: no scan,
// no sort of the caller's mentions, however many there are.
func TestMentionsInboxPlan(t *testing.T) {
	e := apitest.New(t)
	n := newNoteEnv(t, e)
	ctx := context.Background()
	seedContacts(t, e, n.w.ID, 3000)
	// Ben and four others are each mentioned in every seeded conversation, at spread times.
	others := []*apitest.User{n.ben, n.ana, n.manager, e.NewUser(t, n.w, "agent"), e.NewUser(t, n.w, "agent")}
	for _, u := range others {
		if _, err := e.Store.Pool.Exec(ctx, `
INSERT INTO conversation_mentions (workspace_id, user_id, conversation_id, last_mention_at)
SELECT workspace_id, $2, id, now() - random() * interval '90 days' FROM conversations WHERE workspace_id = $1`, n.w.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Store.Pool.Exec(ctx, `VACUUM (ANALYZE) conversation_mentions, conversations`); err != nil {
		t.Fatal(err)
	}
	ws, ben := uuid.MustParse(n.w.ID), uuid.MustParse(n.ben.ID)
	for _, tc := range []struct {
		name string
		f    conversation.Filter
	}{
		{"open", conversation.Filter{Inbox: conversation.InboxMentions, Me: ben, Status: "open", Sort: "newest"}},
		{"all, oldest", conversation.Filter{Inbox: conversation.InboxMentions, Me: ben, Status: "all", Sort: "oldest"}},
		{"q", conversation.Filter{Inbox: conversation.InboxMentions, Me: ben, Status: "open", Sort: "newest", Q: "müller"}},
	} {
		plans, err := e.Store.ExplainConversations(ctx, ws, tc.f, page.Request{Limit: 25})
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(plans, "\n\n")
		if !strings.Contains(plans[0], "conversation_mentions_recent") || strings.Contains(plan, "Seq Scan") ||
			strings.Contains(plans[0], "Sort Key: cm.last_mention_at") {
			t.Errorf("%s: the mentions list does not walk its index:\n%s", tc.name, plan)
		}
		t.Logf("EXPLAIN ANALYZE of inbox=mentions (%s), 5 users mentioned in 3 001 conversations each:\n%s", tc.name, plan)
	}
	// A later page starts in the index at the cursor's position.
	f := conversation.Filter{Inbox: conversation.InboxMentions, Me: ben, Status: "open", Sort: "newest"}
	_, next, err := e.Store.Conversations(ctx, ws, f, page.Request{Limit: 1000})
	if err != nil || next == "" {
		t.Fatalf("first page: %q, %v", next, err)
	}
	plans, err := e.Store.ExplainConversations(ctx, ws, f, page.Request{Limit: 25, Cursor: next})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plans[0], "Index Cond: ((workspace_id = ") || !strings.Contains(plans[0], "ROW(last_mention_at, conversation_id) <") ||
		!strings.Contains(plans[0], "conversation_mentions_recent") {
		t.Errorf("a later page does not start at its position in the index:\n%s", plans[0])
	}
}

// Concurrent notes, edits and deletes in one conversation leave each user's latest mention
// equal to what their remaining mentions say.
func TestMentionsUnderConcurrentNotes(t *testing.T) {
	e := apitest.New(t)
	n := newNoteEnv(t, e)
	users := []*apitest.User{n.ben, n.manager, e.NewUser(t, n.w, "agent")}
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.Clock.Advance(time.Second)
			u := users[i%len(users)]
			note := n.note(t, n.ana.Token, n.conv, fmt.Sprint("note ", i), u.ID, users[(i+1)%len(users)].ID)
			switch i % 3 {
			case 0:
				e.Delete(t, "/v1/notes/"+note.ID, n.ana.Token).Expect(t, http.StatusNoContent)
			case 1:
				e.Clock.Advance(time.Second)
				e.Patch(t, "/v1/notes/"+note.ID, n.ana.Token, map[string]any{"mentions": []string{u.ID}}).Expect(t, http.StatusOK)
			}
		}()
	}
	wg.Wait()
	stale := count(t, e, `
SELECT count(*) FROM (
    SELECT user_id, conversation_id, max(mentioned_at) AS at FROM note_mentions GROUP BY 1, 2) n
FULL JOIN conversation_mentions cm USING (user_id, conversation_id)
WHERE n.at IS DISTINCT FROM cm.last_mention_at`)
	if stale != 0 {
		t.Fatalf("%d users' latest mentions disagree with their notes", stale)
	}
	if got := count(t, e, `SELECT count(*) FROM conversation_mentions`); got != len(users) {
		t.Errorf("%d users mentioned, want %d", got, len(users))
	}
}
