package resource

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
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
