package resource

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/rules"
)

// TestEventPayload holds an event's data to the answer's shape: the store writes it, and
// GET /v1/events, the stream and webhooks carry it as the API's resource.
func TestEventPayload(t *testing.T) {
	id := uuid.MustParse("0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52")
	tests := []struct {
		name string
		v    any
		want any
	}{
		{"message", conversation.Message{ID: id}, ToMessage(conversation.Message{ID: id})},
		{"conversation", conversation.Conversation{ID: id}, ToConversation(conversation.Conversation{ID: id})},
		{"contact", contact.Contact{ID: id}, ToContact(contact.Contact{ID: id})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EventPayload(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(tc.want)
			if string(got) != string(want) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
	if _, err := EventPayload(struct{}{}); err == nil {
		t.Error("a value that is no resource: no error")
	}
}

func TestSendAnswer(t *testing.T) {
	s := conversation.Sent{Decision: rules.Result{Decision: rules.Allowed}}
	status, body, err := SendAnswer(s)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("status %d, err %v", status, err)
	}
	var got SendResult
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Decision.Decision != string(rules.Allowed) || got.Decision.AllowedTags == nil {
		t.Errorf("decision %+v", got.Decision)
	}
}

// TestEventBody pins the bytes the stream's data line and a webhook's body carry: subscribers
// verify signatures over them, and GET /v1/events answers each row in the same shape.
func TestEventBody(t *testing.T) {
	ws := uuid.MustParse("0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50")
	conv := uuid.MustParse("0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52")
	at := time.Date(2026, 11, 29, 9, 0, 0, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		name string
		e    event.Event
		want string
	}{
		{"of a conversation", event.Event{WorkspaceID: ws, ID: 1042, Type: event.MessageCreated, OccurredAt: at, ConversationID: &conv,
			Payload: []byte(`{"id": "m1"}`)},
			`{"id":"1042","type":"message.created","occurred_at":"2026-11-29T08:00:00Z","workspace_id":"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50","conversation_id":"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52","data":{"id":"m1"}}`},
		{"of a contact", event.Event{WorkspaceID: ws, ID: 7, Type: event.ContactCreated, OccurredAt: at, Payload: []byte(`{}`)},
			`{"id":"7","type":"contact.created","occurred_at":"2026-11-29T08:00:00Z","workspace_id":"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50","conversation_id":null,"data":{}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EventBody(tc.e)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
