package resource

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/event"
)

// Event is an event on the wire: the SSE data line, a webhook body and a row of
// GET /v1/events all have this shape (see EventBody).
type Event struct {
	ID             string    `json:"id" example:"1042"`
	Type           string    `json:"type" example:"message.created"`
	OccurredAt     time.Time `json:"occurred_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	WorkspaceID    string    `json:"workspace_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	ConversationID *string   `json:"conversation_id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52"`
	// Data is the resource as the API returns it: a Message for message.* and note.* (a
	// deleted note as it was), a Conversation for conversation.*, a Contact for contact.* (a ContactMerged for contact.merged), a
	// Mention for mention.*, a WindowAlert for window.*, a ScheduledMessage for
	// scheduled_message.*, a Broadcast for broadcast.*. As in answers, a Conversation's contact has a
	// null email and phone for a caller without contacts:read (subscriber webhooks, which an
	// admin sets up, carry them).
	Data json.RawMessage `json:"data" swaggertype:"object"`
} // @name Event

// EventList is a page of the workspace's past events.
type EventList struct {
	Data       []Event `json:"data"`
	NextCursor *string `json:"next_cursor" extensions:"x-nullable"`
} // @name EventList

// StreamToken opens the event stream from a browser's EventSource.
type StreamToken struct {
	Token     string    `json:"token" example:"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."`
	ExpiresAt time.Time `json:"expires_at" format:"date-time" example:"2026-11-29T08:02:00Z"`
} // @name StreamToken

// ToEvent is e on the wire, its data as it was stored.
func ToEvent(e event.Event) Event {
	out := Event{ID: strconv.FormatInt(e.ID, 10), Type: e.Type, OccurredAt: e.OccurredAt.UTC(),
		WorkspaceID: e.WorkspaceID.String(), Data: e.Payload}
	if e.ConversationID != nil {
		s := e.ConversationID.String()
		out.ConversationID = &s
	}
	return out
}

// EventBody is the JSON of e as the stream's data line and a subscriber webhook's body
// carry it.
func EventBody(e event.Event) ([]byte, error) {
	b, err := json.Marshal(ToEvent(e))
	if err != nil {
		return nil, fmt.Errorf("encode event %d: %w", e.ID, err)
	}
	return b, nil
}

// EventPayload is an event's data: the resource the event is about (a conversation.Message,
// conversation.Conversation, contact.Contact, conversation.Mention or conversation.WindowAlert)
// as the API returns it, reach included. The store writes it with the change, in the change's transaction.
func EventPayload(v any) ([]byte, error) {
	switch x := v.(type) {
	case conversation.Message:
		return json.Marshal(ToMessage(x))
	case conversation.Conversation:
		return json.Marshal(ToConversation(x))
	case contact.Contact:
		return json.Marshal(ToContact(x))
	case contact.Merge:
		return json.Marshal(ContactMerged{SurvivorID: x.SurvivorID.String(), MergedID: x.MergedID.String()})
	case conversation.Mention:
		return json.Marshal(ToMention(x))
	case conversation.Scheduled:
		return json.Marshal(ToScheduledMessage(x))
	case conversation.WindowAlert:
		return json.Marshal(ToWindowAlert(x))
	case conversation.Broadcast:
		return json.Marshal(ToBroadcast(x))
	}
	return nil, fmt.Errorf("no event payload for %T", v)
}

// eventDataSchemas is no route. swag writes into the spec only the schemas some route
// returns, and an event's data that none returns (WindowAlert) would be missing from the
// Event union; this annotation names them, and cmd/specgen takes its path out again.
//
// @ID      eventDataSchemas
// @Tags    events
// @Success 200 {object} WindowAlert
// @Success 201 {object} ContactMerged
// @Router  /x-event-data [get]
func eventDataSchemas() {}

var _ = eventDataSchemas // read by swag only

// ContactMerged is contact.merged's data: merged_id was merged into survivor_id (POST
// /v1/contacts/{id}/merge) and answers 404 from then on.
type ContactMerged struct {
	SurvivorID string `json:"survivor_id" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f51"`
	MergedID   string `json:"merged_id" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f53"`
} // @name ContactMerged
