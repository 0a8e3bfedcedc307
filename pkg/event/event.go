// Package event provides Switchboard's live events: the event model every change is published
// as (written to an outbox in the change's transaction), the filters subscribers choose, and the
// Hub that fans PostgreSQL notifications out to the streams of one process.
package event

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/errkind"
)

// Event types. The payload of message.* is a Message, of conversation.* a Conversation (its
// state once the change committed), of contact.* a Contact, of note.* the note as a Message
// (as it was, when deleted), of mention.* a Mention, each as the API returns it.
const (
	MessageCreated       = "message.created"
	MessageStatusChanged = "message.status_changed"
	// MessageUpdated is published when a message's content changes after it was created: a
	// customer's attachment, fetched from the provider, settled (ready or failed).
	MessageUpdated         = "message.updated"
	ConversationOpened     = "conversation.opened"
	ConversationClosed     = "conversation.closed"
	ConversationReopened   = "conversation.reopened"
	ConversationAssigned   = "conversation.assigned"
	ConversationUnassigned = "conversation.unassigned"
	ConversationSnoozed    = "conversation.snoozed"
	ConversationWoke       = "conversation.woke"
	ContactCreated         = "contact.created"
	ContactUpdated         = "contact.updated"
	// ContactMerged's payload is a ContactMerged {survivor_id, merged_id}: POST
	// /v1/contacts/{id}/merge moved merged_id's everything to survivor_id and deleted it.
	ContactMerged  = "contact.merged"
	NoteCreated    = "note.created"
	NoteUpdated    = "note.updated"
	NoteDeleted    = "note.deleted"
	MentionCreated = "mention.created"
)

// ConversationLabelsChanged is published when a conversation's set of labels changes (PUT
// /v1/conversations/{id}/labels); renaming, recolouring or deleting a label publishes none.
const ConversationLabelsChanged = "conversation.labels_changed"

// Scheduled sends' events, with the ScheduledMessage as payload: it fired and sent a message
// (message_id), was blocked by the rules at send_at (decision), could not be sent at all
// (failed: reason, e.g. no_channel_identity or channel_archived), or was cancelled (DELETE,
// or the customer replied: reason).
const (
	ScheduledMessageSent      = "scheduled_message.sent"
	ScheduledMessageBlocked   = "scheduled_message.blocked"
	ScheduledMessageFailed    = "scheduled_message.failed"
	ScheduledMessageCancelled = "scheduled_message.cancelled"
)

// BroadcastCompleted is published when a broadcast has gone through every recipient (status
// done), with the Broadcast, its final counts included, as payload. A cancelled one publishes none.
const BroadcastCompleted = "broadcast.completed"

// ConversationTeamChanged is published when a conversation's team is set or cleared (PUT
// /v1/conversations/{id}/team), and when routing gives an inbound conversation its channel's
// team; deleting a team publishes none for its conversations.
const ConversationTeamChanged = "conversation.team_changed"

// Reply window alerts, with a WindowAlert as payload: window.expiring goes out the workspace's
// window_closing_minutes before a conversation's default channel's window (or HUMAN_AGENT tag
// period) closes, window.closed when it closes; each once per window, from one process, and
// never for a window a newer customer message extended.
const (
	WindowExpiring = "window.expiring"
	WindowClosed   = "window.closed"
)

// Types lists every event type, in a stable order.
var Types = []string{MessageCreated, MessageStatusChanged, MessageUpdated, ConversationOpened, ConversationClosed,
	ConversationReopened, ConversationAssigned, ConversationUnassigned, ConversationSnoozed, ConversationWoke,
	ConversationLabelsChanged, ConversationTeamChanged, ContactCreated, ContactUpdated, ContactMerged, NoteCreated, NoteUpdated, NoteDeleted, MentionCreated,
	WindowExpiring, WindowClosed,
	ScheduledMessageSent, ScheduledMessageBlocked, ScheduledMessageFailed, ScheduledMessageCancelled, BroadcastCompleted}

// Channel is the PostgreSQL NOTIFY channel; each payload is "<workspace id>:<last event id>",
// sent by the Sequencer when it numbered events.
const Channel = "switchboard_events"

// Event is one published change.
type Event struct {
	WorkspaceID    uuid.UUID
	ID             int64
	Type           string
	OccurredAt     time.Time
	ConversationID *uuid.UUID
	Payload        json.RawMessage
}

// Filter narrows what a subscriber receives within its workspace.
type Filter struct {
	Types          []string // empty: every type
	ConversationID *uuid.UUID
}

// Match reports whether e passes the filter.
func (f Filter) Match(e Event) bool {
	if len(f.Types) > 0 && !slices.Contains(f.Types, e.Type) {
		return false
	}
	if f.ConversationID != nil && (e.ConversationID == nil || *e.ConversationID != *f.ConversationID) {
		return false
	}
	return true
}

// ParseTypes reads a comma-separated list of event types; field names the parameter in errors.
func ParseTypes(field, s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(Types, t) {
			msg := strconv.Quote(t) + " is not an event type; want a comma-separated list of " + strings.Join(Types, ", ")
			e := errkind.New(errkind.KindBadRequest, "invalid_parameter", field+": "+msg)
			e.Fields = []errkind.Field{{Field: field, Message: msg}}
			return nil, e
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}
