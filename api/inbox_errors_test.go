package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
)

// TestInboxBadInput sends wrong input to every route of channels, identities, inbound and
// conversations, and expects a 4xx problem with a stable code (and never a 500).
func TestInboxBadInput(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	other := e.NewWorkspace(t, "Other")
	stranger := e.NewUser(t, other, "agent")
	agent := e.NewUser(t, w, "agent")
	colleague := e.NewUser(t, w, "agent")
	e.Patch(t, "/v1/workspace", w.OwnerToken, map[string]any{"settings": map[string]any{"closing_note_categories": []string{"resolved"}}}).Expect(t, http.StatusOK)
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	otherChannel := newChannel(t, e, other.OwnerToken, "whatsapp")
	in := ingest(t, e, w.APIKey, wa, map[string]any{"identifier": "+12025550100", "text": "hi"})
	contact, conv := in.Contact.ID, in.Conversation.ID
	closedConv := ingest(t, e, w.APIKey, wa, map[string]any{"identifier": "+12025550101", "text": "hi"}).Conversation.ID
	e.Post(t, "/v1/conversations/"+closedConv+"/close", w.OwnerToken, map[string]any{"category": "resolved"}).Expect(t, http.StatusOK)
	newestCursor := *inbox(t, e, w.APIKey, q("status", "all", "limit", "1")).NextCursor
	owner, key := w.OwnerToken, w.APIKey
	contactsKey := e.NewKey(t, w, "contacts:read", "contacts:write")
	future := e.Clock.Now().Add(time.Hour).Format(time.RFC3339)
	long := strings.Repeat("x", 201)

	cases := []struct {
		name   string
		method string
		path   string
		token  string
		body   any
		status int
		code   string
		field  string // a field the problem must name, if any
	}{
		// POST /v1/channels
		{"create channel: unknown type", "POST", "/v1/channels", owner, `{"type": "pigeon", "name": "x"}`, 422, "validation_failed", "type"},
		{"create channel: type missing", "POST", "/v1/channels", owner, `{"name": "x"}`, 422, "validation_failed", "type"},
		{"create channel: type not a string", "POST", "/v1/channels", owner, `{"type": 5, "name": "x"}`, 400, "invalid_type", "type"},
		{"create channel: empty name", "POST", "/v1/channels", owner, `{"type": "sms", "name": "  "}`, 422, "validation_failed", "name"},
		{"create channel: option of another type", "POST", "/v1/channels", owner, `{"type": "messenger", "name": "x", "rule_options": {"window_hours": 4}}`, 422, "validation_failed", "rule_options.window_hours"},
		{"create channel: option of the wrong kind", "POST", "/v1/channels", owner, `{"type": "viber", "name": "x", "rule_options": {"monthly_initiated_limit": -1}}`, 422, "validation_failed", "rule_options.monthly_initiated_limit"},
		{"create channel: unknown option", "POST", "/v1/channels", owner, `{"type": "custom", "name": "x", "rule_options": {"after_window": "maybe"}}`, 422, "validation_failed", "rule_options.after_window"},
		{"create channel: rule_options not an object", "POST", "/v1/channels", owner, `{"type": "custom", "name": "x", "rule_options": [1]}`, 400, "invalid_type", "rule_options"},
		{"create channel: unknown provider", "POST", "/v1/channels", owner, `{"type": "sms", "name": "x", "provider": "carrier-pigeon"}`, 422, "validation_failed", "provider"},
		{"create channel: provider of another type", "POST", "/v1/channels", owner, `{"type": "sms", "name": "x", "provider": "telegram", "config": {"bot_token": "t", "secret_token": "s"}}`, 422, "validation_failed", "provider"},
		{"create channel: required secret missing", "POST", "/v1/channels", owner, `{"type": "viber", "name": "x", "provider": "viber", "config": {"sender_name": "Acme"}}`, 422, "validation_failed", "config.auth_token"},
		{"create channel: unknown config field", "POST", "/v1/channels", owner, `{"type": "viber", "name": "x", "provider": "viber", "config": {"auth_token": "t", "sender_name": "A", "colour": "red"}}`, 422, "validation_failed", "config.colour"},
		{"create channel: config value of the wrong kind", "POST", "/v1/channels", owner, `{"type": "email", "name": "x", "provider": "smtp", "config": {"host": "smtp.example.com", "from": "a@example.com", "port": "587"}}`, 422, "validation_failed", "config.port"},
		{"create channel: twilio without a sender", "POST", "/v1/channels", owner, `{"type": "sms", "name": "x", "provider": "twilio", "config": {"account_sid": "AC1", "auth_token": "t"}}`, 422, "validation_failed", "config.from"},
		{"create channel: webhook url not http", "POST", "/v1/channels", owner, `{"type": "custom", "name": "x", "provider": "webhook", "config": {"url": "file:///etc/passwd", "secret": "s"}}`, 422, "validation_failed", "config.url"},
		{"create channel: sandbox takes no config", "POST", "/v1/channels", owner, `{"type": "sms", "name": "x", "config": {"token": "t"}}`, 422, "validation_failed", "config.token"},
		{"create channel: api_base not allowed", "POST", "/v1/channels", owner, `{"type": "viber", "name": "x", "provider": "viber", "config": {"auth_token": "t", "sender_name": "A", "api_base": "http://10.0.0.1"}}`, 422, "validation_failed", "config.api_base"},
		{"create channel: unknown field", "POST", "/v1/channels", owner, `{"type": "sms", "name": "x", "colour": "red"}`, 400, "unknown_field", "colour"},
		// GET /v1/channels
		{"list channels: bad include_archived", "GET", "/v1/channels?include_archived=maybe", owner, nil, 400, "invalid_parameter", "include_archived"},
		{"list channels: bad cursor", "GET", "/v1/channels?cursor=bm9wZQ", owner, nil, 400, "invalid_cursor", ""},
		{"list channels: empty cursor object", "GET", "/v1/channels?cursor=e30", owner, nil, 400, "invalid_cursor", ""},
		{"list channels: limit too big", "GET", "/v1/channels?limit=500", owner, nil, 400, "invalid_parameter", "limit"},
		// GET/PATCH/DELETE /v1/channels/{id}
		{"get channel: malformed id", "GET", "/v1/channels/not-an-id", owner, nil, 404, "channel_not_found", ""},
		{"get channel: unknown id", "GET", "/v1/channels/" + uuid.NewString(), owner, nil, 404, "channel_not_found", ""},
		{"update channel: type missing", "PATCH", "/v1/channels/" + wa, owner, `{"name": "x"}`, 422, "validation_failed", "type"},
		{"update channel: type is fixed", "PATCH", "/v1/channels/" + wa, owner, `{"type": "sms"}`, 409, "channel_type_mismatch", ""},
		{"update channel: type not a string", "PATCH", "/v1/channels/" + wa, owner, `{"type": 5}`, 400, "invalid_type", "type"},
		{"update channel: bad rule option", "PATCH", "/v1/channels/" + wa, owner, `{"type": "whatsapp", "rule_options": {"human_agent_tag": true}}`, 422, "validation_failed", "rule_options.human_agent_tag"},
		{"update channel: empty name", "PATCH", "/v1/channels/" + wa, owner, `{"type": "whatsapp", "name": ""}`, 422, "validation_failed", "name"},
		{"update channel: provider of another type", "PATCH", "/v1/channels/" + wa, owner, `{"type": "whatsapp", "provider": "smtp", "config": {"host": "h", "from": "a@b.co"}}`, 409, "provider_mismatch", ""},
		{"update channel: provider null", "PATCH", "/v1/channels/" + wa, owner, `{"type": "whatsapp", "provider": null}`, 422, "validation_failed", "provider"},
		{"update channel: unknown field", "PATCH", "/v1/channels/" + wa, owner, `{"type": "whatsapp", "colour": "red"}`, 400, "unknown_field", "colour"},
		{"update channel: unknown id", "PATCH", "/v1/channels/" + uuid.NewString(), owner, `{"type": "whatsapp", "name": "x"}`, 404, "channel_not_found", ""},
		// PUT /v1/channels/{id}/provider
		{"switch provider: type is fixed", "PUT", "/v1/channels/" + wa + "/provider", owner, `{"type": "sms", "provider": "sandbox"}`, 409, "channel_type_mismatch", ""},
		{"switch provider: provider of another type", "PUT", "/v1/channels/" + wa + "/provider", owner, `{"type": "whatsapp", "provider": "smtp", "config": {"host": "h", "from": "a@b.co"}}`, 422, "validation_failed", "provider"},
		{"switch provider: required setting missing", "PUT", "/v1/channels/" + wa + "/provider", owner, `{"type": "whatsapp", "provider": "whatsapp_cloud", "config": {"phone_number_id": "1", "access_token": "t"}}`, 422, "validation_failed", "config.app_secret"},
		{"switch provider: config null", "PUT", "/v1/channels/" + wa + "/provider", owner, `{"type": "whatsapp", "provider": "sandbox", "config": null}`, 422, "validation_failed", "config"},
		{"switch provider: no body", "PUT", "/v1/channels/" + wa + "/provider", owner, "", 400, "invalid_json", ""},
		{"switch provider: unknown id", "PUT", "/v1/channels/" + uuid.NewString() + "/provider", owner, `{"type": "whatsapp", "provider": "sandbox"}`, 404, "channel_not_found", ""},
		{"delete channel: unknown id", "DELETE", "/v1/channels/" + uuid.NewString(), owner, nil, 404, "channel_not_found", ""},
		// GET/POST /v1/contacts/{id}/channels
		{"list identities: bad cursor", "GET", "/v1/contacts/" + contact + "/channels?cursor=!!", owner, nil, 400, "invalid_cursor", ""},
		{"list identities: unknown contact", "GET", "/v1/contacts/" + uuid.NewString() + "/channels", owner, nil, 404, "contact_not_found", ""},
		{"add identity: channel_id not an id", "POST", "/v1/contacts/" + contact + "/channels", owner, `{"channel_id": "wa", "identifier": "+12025550100"}`, 422, "validation_failed", "channel_id"},
		{"add identity: another workspace's channel", "POST", "/v1/contacts/" + contact + "/channels", owner, `{"channel_id": "` + otherChannel + `", "identifier": "+12025550199"}`, 422, "validation_failed", "channel_id"},
		{"add identity: bad phone", "POST", "/v1/contacts/" + contact + "/channels", owner, `{"channel_id": "` + wa + `", "identifier": "12"}`, 422, "validation_failed", "identifier"},
		{"add identity: taken", "POST", "/v1/contacts/" + closedConvContact(t, e, owner, closedConv) + "/channels", owner, `{"channel_id": "` + wa + `", "identifier": "+12025550100"}`, 409, "identity_exists", ""},
		{"add identity: identifier not a string", "POST", "/v1/contacts/" + contact + "/channels", owner, `{"channel_id": "` + wa + `", "identifier": 12025550100}`, 400, "invalid_type", "identifier"},
		// POST /v1/channels/{id}/inbound
		{"inbound: future received_at", "POST", "/v1/channels/" + wa + "/inbound", key, `{"identifier": "+12025550100", "text": "hi", "received_at": "` + future + `"}`, 422, "validation_failed", "received_at"},
		{"inbound: received_at not a time", "POST", "/v1/channels/" + wa + "/inbound", key, `{"identifier": "+12025550100", "text": "hi", "received_at": "yesterday"}`, 422, "validation_failed", "received_at"},
		{"inbound: no text, no attachment", "POST", "/v1/channels/" + wa + "/inbound", key, `{"identifier": "+12025550100", "text": "   "}`, 422, "validation_failed", "text"},
		{"inbound: bad attachment", "POST", "/v1/channels/" + wa + "/inbound", key, `{"identifier": "+12025550100", "attachments": [{"url": "ftp://x", "mime_type": "jpeg"}]}`, 422, "validation_failed", "attachments[0].url"},
		{"inbound: an empty attachment list", "POST", "/v1/channels/" + wa + "/inbound", key, `{"identifier": "+12025550100", "text": "hi", "attachments": []}`, 422, "validation_failed", "attachments"},
		{"inbound: bad identifier", "POST", "/v1/channels/" + wa + "/inbound", key, `{"identifier": "not a phone", "text": "hi"}`, 422, "validation_failed", "identifier"},
		{"inbound: bad contact email", "POST", "/v1/channels/" + wa + "/inbound", key, `{"identifier": "+12025550177", "text": "hi", "contact": {"email": "nope"}}`, 422, "validation_failed", "contact.email"},
		{"inbound: overlong external_id", "POST", "/v1/channels/" + wa + "/inbound", key, `{"identifier": "+12025550100", "text": "hi", "external_id": "` + strings.Repeat("x", 300) + `"}`, 422, "validation_failed", "external_id"},
		{"inbound: unknown contact field", "POST", "/v1/channels/" + wa + "/inbound", key, `{"identifier": "+12025550100", "text": "hi", "contact": {"nickname": "x"}}`, 400, "unknown_field", "nickname"},
		{"inbound: unknown channel", "POST", "/v1/channels/" + uuid.NewString() + "/inbound", key, `{"identifier": "1", "text": "hi"}`, 404, "channel_not_found", ""},
		{"inbound: empty body", "POST", "/v1/channels/" + wa + "/inbound", key, "", 400, "invalid_json", ""},
		{"inbound: an array body", "POST", "/v1/channels/" + wa + "/inbound", agent.Token, `[]`, 400, "invalid_type", ""},
		{"inbound: key without conversations:write", "POST", "/v1/channels/" + wa + "/inbound", contactsKey, `{"identifier": "+12025550100", "text": "hi"}`, 403, "forbidden", ""},
		// GET /v1/conversations
		{"inbox: bad status", "GET", "/v1/conversations?status=pending", owner, nil, 400, "invalid_parameter", "status"},
		{"inbox: bad inbox", "GET", "/v1/conversations?inbox=team", owner, nil, 400, "invalid_parameter", "inbox"},
		{"inbox: bad sort", "GET", "/v1/conversations?sort=alphabetical", owner, nil, 400, "invalid_parameter", "sort"},
		{"inbox: bad assignee_id", "GET", "/v1/conversations?assignee_id=me", owner, nil, 400, "invalid_parameter", "assignee_id"},
		{"inbox: bad channel_id", "GET", "/v1/conversations?channel_id=7", owner, nil, 400, "invalid_parameter", "channel_id"},
		{"inbox: cursor not base64", "GET", "/v1/conversations?cursor=***", owner, nil, 400, "invalid_cursor", ""},
		{"inbox: cursor of another list", "GET", "/v1/conversations?cursor=eyJpZCI6IjAxOTNhNWIwLTdjMWUtN2QyYS05ZjAwLTZiMWMyZDNlNGY1MCJ9", owner, nil, 400, "invalid_cursor", ""},
		{"inbox: cursor of another sort", "GET", "/v1/conversations?status=all&sort=oldest&cursor=" + newestCursor, owner, nil, 400, "invalid_cursor", ""},
		{"inbox: q too long", "GET", "/v1/conversations?q=" + long, owner, nil, 422, "validation_failed", "q"},
		{"inbox: limit zero", "GET", "/v1/conversations?limit=0", owner, nil, 400, "invalid_parameter", "limit"},
		{"inbox: mine with an API key", "GET", "/v1/conversations?inbox=mine", key, nil, 403, "user_required", ""},
		// GET /v1/conversations/{id}, messages, events
		{"conversation: malformed id", "GET", "/v1/conversations/123", owner, nil, 404, "conversation_not_found", ""},
		{"messages: bad cursor", "GET", "/v1/conversations/" + conv + "/messages?cursor=e30", owner, nil, 400, "invalid_cursor", ""},
		{"messages: unknown conversation", "GET", "/v1/conversations/" + uuid.NewString() + "/messages", owner, nil, 404, "conversation_not_found", ""},
		{"events: limit too big", "GET", "/v1/conversations/" + conv + "/events?limit=1000", owner, nil, 400, "invalid_parameter", "limit"},
		{"events: bad cursor", "GET", "/v1/conversations/" + conv + "/events?cursor=xyz", owner, nil, 400, "invalid_cursor", ""},
		{"events: empty cursor object", "GET", "/v1/conversations/" + conv + "/events?cursor=e30", owner, nil, 400, "invalid_cursor", ""},
		{"inbox: empty cursor object", "GET", "/v1/conversations?cursor=e30", owner, nil, 400, "invalid_cursor", ""},
		// POST close / reopen, PUT assignee
		{"close: unknown category", "POST", "/v1/conversations/" + conv + "/close", owner, `{"category": "happy"}`, 422, "validation_failed", "category"},
		{"close: summary too long", "POST", "/v1/conversations/" + conv + "/close", owner, `{"summary": "` + strings.Repeat("s", 2001) + `"}`, 422, "validation_failed", "summary"},
		{"close: category not a string", "POST", "/v1/conversations/" + conv + "/close", owner, `{"category": ["resolved"]}`, 400, "invalid_type", "category"},
		{"close: already closed", "POST", "/v1/conversations/" + closedConv + "/close", owner, nil, 409, "conversation_closed", ""},
		{"close: unknown conversation", "POST", "/v1/conversations/" + uuid.NewString() + "/close", owner, nil, 404, "conversation_not_found", ""},
		{"reopen: already open", "POST", "/v1/conversations/" + conv + "/reopen", owner, nil, 409, "conversation_open", ""},
		{"reopen: on_behalf_of not an id", "POST", "/v1/conversations/" + closedConv + "/reopen", key, `{"on_behalf_of": "ana"}`, 422, "validation_failed", "on_behalf_of"},
		{"reopen: on_behalf_of another workspace's user", "POST", "/v1/conversations/" + closedConv + "/reopen", key, `{"on_behalf_of": "` + stranger.ID + `"}`, 422, "validation_failed", "on_behalf_of"},
		{"reopen: unknown field", "POST", "/v1/conversations/" + closedConv + "/reopen", key, `{"assignee": "x"}`, 400, "unknown_field", "assignee"},
		{"assign: user_id missing", "PUT", "/v1/conversations/" + conv + "/assignee", owner, `{}`, 422, "validation_failed", "user_id"},
		{"assign: user_id not an id", "PUT", "/v1/conversations/" + conv + "/assignee", owner, `{"user_id": 42}`, 422, "validation_failed", "user_id"},
		{"assign: user of another workspace", "PUT", "/v1/conversations/" + conv + "/assignee", owner, `{"user_id": "` + stranger.ID + `"}`, 422, "validation_failed", "user_id"},
		{"assign: unknown user", "PUT", "/v1/conversations/" + conv + "/assignee", owner, `{"user_id": "` + uuid.NewString() + `"}`, 422, "validation_failed", "user_id"},
		{"assign: agent to a colleague", "PUT", "/v1/conversations/" + conv + "/assignee", agent.Token, `{"user_id": "` + colleague.ID + `"}`, 403, "assignment_forbidden", ""},
		{"assign: no body", "PUT", "/v1/conversations/" + conv + "/assignee", owner, "", 400, "invalid_json", ""},
		{"assign: unknown conversation", "PUT", "/v1/conversations/" + uuid.NewString() + "/assignee", owner, `{"user_id": null}`, 404, "conversation_not_found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do(t, apitest.Request{Method: tc.method, Path: tc.path, Token: tc.token, Body: tc.body}).ExpectProblem(t, tc.status, tc.code)
			if tc.field != "" && !problemFields(t, r)[tc.field] {
				t.Fatalf("problem does not name %q: %s", tc.field, r.Body)
			}
		})
	}
	// The unknown type's problem lists the valid types.
	r := e.Post(t, "/v1/channels", owner, map[string]any{"type": "pigeon", "name": "x"})
	for _, typ := range []string{"whatsapp", "messenger", "instagram", "viber", "wechat", "telegram", "line", "webchat", "sms", "email", "custom"} {
		if !strings.Contains(string(r.Body), typ) {
			t.Errorf("unknown-type problem does not list %s: %s", typ, r.Body)
		}
	}
	// Nothing above changed the conversations.
	if n := count(t, e, `SELECT count(*) FROM conversation_events WHERE type IN ('reopened', 'assigned')`); n != 0 {
		t.Fatalf("%d reopen/assign events after refused requests", n)
	}
}

func closedConvContact(t *testing.T, e *apitest.Env, token, conv string) string {
	t.Helper()
	var v conversationBody
	e.Get(t, "/v1/conversations/"+conv, token).Expect(t, http.StatusOK).JSON(t, &v)
	return v.Contact.ID
}

// TestInboxTenancy: every new route answers 404 for another workspace's ids, and lists and
// filters never show another workspace's rows.
func TestInboxTenancy(t *testing.T) {
	e := apitest.New(t)
	a := e.NewWorkspace(t, "A")
	b := e.NewWorkspace(t, "B")
	aChannel := newChannel(t, e, a.OwnerToken, "telegram")
	in := ingest(t, e, a.APIKey, aChannel, map[string]any{"identifier": "alice-1", "text": "hi",
		"contact": map[string]any{"first_name": "Alice", "last_name": "Anders"}})
	aContact, aConv := in.Contact.ID, in.Conversation.ID
	aAgent := e.NewUser(t, a, "agent")
	bChannel := newChannel(t, e, b.OwnerToken, "telegram")

	for _, tok := range []struct{ name, value string }{{"user", b.OwnerToken}, {"api key", b.APIKey}} {
		t.Run(tok.name, func(t *testing.T) {
			cases := []struct {
				method, path string
				body         any
				code         string
			}{
				{"GET", "/v1/channels/" + aChannel, nil, "channel_not_found"},
				{"PATCH", "/v1/channels/" + aChannel, map[string]any{"type": "telegram", "name": "mine now"}, "channel_not_found"},
				{"PUT", "/v1/channels/" + aChannel + "/provider", map[string]any{"type": "telegram", "provider": "sandbox"}, "channel_not_found"},
				{"DELETE", "/v1/channels/" + aChannel, nil, "channel_not_found"},
				{"POST", "/v1/channels/" + aChannel + "/inbound", map[string]any{"identifier": "alice-1", "text": "spoof"}, "channel_not_found"},
				{"GET", "/v1/contacts/" + aContact + "/channels", nil, "contact_not_found"},
				{"POST", "/v1/contacts/" + aContact + "/channels", map[string]any{"channel_id": bChannel, "identifier": "x"}, "contact_not_found"},
				{"GET", "/v1/conversations/" + aConv, nil, "conversation_not_found"},
				{"GET", "/v1/conversations/" + aConv + "/messages", nil, "conversation_not_found"},
				{"GET", "/v1/conversations/" + aConv + "/events", nil, "conversation_not_found"},
				{"POST", "/v1/conversations/" + aConv + "/close", nil, "conversation_not_found"},
				{"POST", "/v1/conversations/" + aConv + "/reopen", nil, "conversation_not_found"},
				{"PUT", "/v1/conversations/" + aConv + "/assignee", map[string]any{"user_id": nil}, "conversation_not_found"},
			}
			for _, c := range cases {
				e.Do(t, apitest.Request{Method: c.method, Path: c.path, Token: tok.value, Body: c.body}).ExpectProblem(t, http.StatusNotFound, c.code)
			}
			for _, query := range []string{"status=all", "status=all&q=alice", "status=all&channel_id=" + aChannel, "status=all&assignee_id=" + aAgent.ID} {
				if p := inbox(t, e, tok.value, mustQuery(query)); len(p.Data) != 0 {
					t.Errorf("B's inbox with %s shows %d of A's conversations", query, len(p.Data))
				}
			}
			var chans struct {
				Data []channelBody `json:"data"`
			}
			e.Get(t, "/v1/channels?include_archived=true", tok.value).Expect(t, http.StatusOK).JSON(t, &chans)
			if len(chans.Data) != 1 || chans.Data[0].ID != bChannel {
				t.Errorf("B's channels: %+v", chans.Data)
			}
		})
	}
	// B writing with A's identifier on its own channel makes B's own contact.
	bIn := ingest(t, e, b.APIKey, bChannel, map[string]any{"identifier": "alice-1", "text": "hi"})
	if bIn.Contact.ID == aContact {
		t.Fatal("B's inbound found A's contact")
	}
	// A is untouched.
	var v conversationBody
	e.Get(t, "/v1/conversations/"+aConv, a.OwnerToken).Expect(t, http.StatusOK).JSON(t, &v)
	if v.Status != "open" || v.LastMessage == nil || v.LastMessage.Text != "hi" {
		t.Fatalf("A's conversation changed: %+v", v)
	}
	if n := count(t, e, `SELECT count(*) FROM messages WHERE workspace_id = $1`, a.ID); n != 1 {
		t.Fatalf("A has %d messages", n)
	}
}
