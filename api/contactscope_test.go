package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

// obj walks nested JSON objects by key.
func obj(t *testing.T, m map[string]any, path ...string) map[string]any {
	t.Helper()
	for _, k := range path {
		next, ok := m[k].(map[string]any)
		if !ok {
			t.Fatalf("no object %q in %v", k, m)
		}
		m = next
	}
	return m
}

// checkReach fails unless the contact object shows its email and phone exactly when sees,
// and its display name always.
func checkReach(t *testing.T, what string, c map[string]any, sees bool) {
	t.Helper()
	if c["first_name"] != "Maria" || c["last_name"] != "Gonzalez" || c["id"] == nil {
		t.Errorf("%s: the display name and id are for everyone: %v", what, c)
	}
	shown := c["email"] != nil || c["phone"] != nil
	if shown != sees {
		t.Errorf("%s: email %v, phone %v; want them shown: %v", what, c["email"], c["phone"], sees)
	}
	if sees && (c["email"] != "maria@example.com" || c["phone"] != "+14155550142") {
		t.Errorf("%s: email %v, phone %v", what, c["email"], c["phone"])
	}
}

// Issue 12 point 8: a caller without contacts:read sees a contact's id and name, never its
// email, phone, tags or custom fields, wherever a contact is embedded: inbox rows, the
// thread, inbound and send answers (replays included), send eligibility, the event list and
// the live stream. Callers with contacts:read (keys that hold it, every user's role) see them.
func TestContactReachNeedsContactsRead(t *testing.T) {
	e := apitest.New(t, liveOpts)
	w := e.NewWorkspace(t, "A")
	ch := newChannel(t, e, w.APIKey, "whatsapp")
	in := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "+1 415 555 0142", "text": "where is my parcel?",
		"contact": map[string]any{"first_name": "Maria", "last_name": "Gonzalez", "email": "maria@example.com"}})
	conv := in.Conversation.ID
	e.Patch(t, "/v1/contacts/"+in.Contact.ID, w.APIKey, map[string]any{"tags": []string{"vip"},
		"custom_fields": map[string]any{"iban": "DE89370400440532013000"}, "language": "es", "country": "MX"}).Expect(t, http.StatusOK)

	agent := e.NewUser(t, w, "agent")
	callers := []struct {
		name   string
		token  string
		writes bool // may ingest and send
		sees   bool
	}{
		{"conversations:read key", e.NewKey(t, w, "conversations:read"), false, false},
		{"writing key without contacts:read", e.NewKey(t, w, "conversations:read", "conversations:write", "messages:send"), true, false},
		{"key with contacts:read", e.NewKey(t, w, "conversations:read", "contacts:read", "conversations:write", "messages:send"), true, true},
		{"owner", w.OwnerToken, true, true},
		{"agent", agent.Token, true, true},
	}
	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) {
			s := openStream(t, e.URL, "/v1/events/stream?types=conversation.closed,conversation.reopened", c.token, nil)

			var list struct {
				Data []map[string]any `json:"data"`
			}
			e.Get(t, "/v1/conversations?status=all", c.token).Expect(t, http.StatusOK).JSON(t, &list)
			if len(list.Data) != 1 {
				t.Fatalf("inbox: %v", list.Data)
			}
			checkReach(t, "inbox row", obj(t, list.Data[0], "contact"), c.sees)
			// q matches emails and phone digits, so without contacts:read it would confirm an
			// address one guess at a time: it is refused whether or not the guess is right.
			for _, q := range []string{"maria%40example.com", "0142", "nobody%40example.com"} {
				r := e.Get(t, "/v1/conversations?status=all&q="+q, c.token)
				if c.sees {
					r.Expect(t, http.StatusOK)
				} else {
					r.ExpectProblem(t, http.StatusForbidden, "forbidden")
				}
			}
			checkReach(t, "thread", obj(t, e.Get(t, "/v1/conversations/"+conv, c.token).Expect(t, http.StatusOK).Map(t), "contact"), c.sees)

			var events struct {
				Data []map[string]any `json:"data"`
			}
			e.Get(t, "/v1/events?types=conversation.opened", c.token).Expect(t, http.StatusOK).JSON(t, &events)
			if len(events.Data) != 1 {
				t.Fatalf("events: %v", events.Data)
			}
			checkReach(t, "event list", obj(t, events.Data[0], "data", "contact"), c.sees)

			var el struct {
				Channels []map[string]any `json:"channels"`
			}
			e.Get(t, "/v1/contacts/"+in.Contact.ID+"/send-eligibility", c.token).Expect(t, http.StatusOK).JSON(t, &el)
			if len(el.Channels) != 1 || (el.Channels[0]["identifier"] != nil) != c.sees {
				t.Errorf("send eligibility identifier: %v", el.Channels)
			}

			// The owner closes and reopens the thread; the stream carries both.
			e.Post(t, "/v1/conversations/"+conv+"/close", w.OwnerToken, map[string]any{}).Expect(t, http.StatusOK)
			checkReach(t, "stream", obj(t, s.next(t, "conversation.closed", 3*time.Second).Data, "data", "contact"), c.sees)
			if !c.writes {
				e.Post(t, "/v1/conversations/"+conv+"/reopen", w.OwnerToken, map[string]any{}).Expect(t, http.StatusOK)
				return
			}
			got := e.Post(t, "/v1/conversations/"+conv+"/reopen", c.token, map[string]any{}).Expect(t, http.StatusOK).Map(t)
			checkReach(t, "reopen answer", obj(t, got, "contact"), c.sees)

			r := e.Post(t, "/v1/channels/"+ch+"/inbound", c.token, map[string]any{"identifier": "+14155550142", "text": "hello?"}).
				Expect(t, http.StatusCreated).Map(t)
			checkReach(t, "inbound contact", obj(t, r, "contact"), c.sees)
			checkReach(t, "inbound conversation", obj(t, r, "conversation", "contact"), c.sees)
			ct := obj(t, r, "contact")
			if hidden := ct["tags"] == nil && ct["custom_fields"] == nil && ct["language"] == nil && ct["country"] == nil; hidden == c.sees {
				t.Errorf("inbound contact's tags, custom fields, language, country: %v", ct)
			}

			sr := e.Post(t, "/v1/contacts/"+in.Contact.ID+"/messages", c.token, map[string]any{"type": "text", "text": "on its way"}).
				Expect(t, http.StatusCreated).Map(t)
			checkReach(t, "send answer", obj(t, sr, "conversation", "contact"), c.sees)
		})
	}

	// A send's answer is stored for Idempotency-Key replays; a replay shows what the replaying
	// caller may see, whoever sent first.
	hidden, full := callers[1].token, callers[2].token
	send := func(token, key string) map[string]any {
		r := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/contacts/" + in.Contact.ID + "/messages", Token: token,
			Body: map[string]any{"type": "text", "text": "replayed"}, Header: map[string]string{"Idempotency-Key": key}})
		r.Expect(t, http.StatusCreated)
		return obj(t, r.Map(t), "conversation", "contact")
	}
	checkReach(t, "first send, full sight", send(full, "k1"), true)
	checkReach(t, "replay without contacts:read", send(hidden, "k1"), false)
	checkReach(t, "first send without contacts:read", send(hidden, "k2"), false)
	checkReach(t, "replay, full sight", send(full, "k2"), true)
	checkReach(t, "replay without contacts:read again", send(hidden, "k2"), false)
}
