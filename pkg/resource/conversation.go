package resource

import (
	"time"

	"github.com/switchboard/switchboard/pkg/conversation"
)

// Actor is who did something: a user, an API key, a contact or the system.
type Actor struct {
	Kind string `json:"kind" enums:"user,api_key,contact,system" example:"user"`
	// ID is the user's, API key's or contact's id; null for the system.
	ID *string `json:"id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
} // @name Actor

// ConversationContact is the contact embedded in a conversation.
type ConversationContact struct {
	ID        string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f53"`
	FirstName string `json:"first_name" example:"Maria"`
	LastName  string `json:"last_name" example:"Gonzalez"`
	// Email and Phone are null when the contact has none, and always for a caller without
	// the contacts:read scope.
	Email *string `json:"email" extensions:"x-nullable" example:"maria@example.com"`
	Phone *string `json:"phone" extensions:"x-nullable" example:"+12025550123"`
} // @name ConversationContact

// Assignee is the user a conversation is assigned to.
type Assignee struct {
	ID    string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	Name  string `json:"name" example:"Ana Silva"`
	Email string `json:"email" example:"ana@example.com"`
} // @name Assignee

// MessagePreview is the latest message of a conversation, shortened, for the inbox.
type MessagePreview struct {
	ID        string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f70"`
	ChannelID string `json:"channel_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	Direction string `json:"direction" enums:"incoming,outgoing" example:"incoming"`
	Type      string `json:"type" enums:"text,template,attachment" example:"text"`
	// Text is the first 200 characters of the message.
	Text      string    `json:"text" example:"Hi, my order hasn't arrived yet"`
	CreatedAt time.Time `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name MessagePreview

// ClosingNote is what was said when a conversation was closed, and by whom.
type ClosingNote struct {
	Category *string   `json:"category" extensions:"x-nullable" example:"resolved"`
	Summary  *string   `json:"summary" extensions:"x-nullable" example:"Refund issued"`
	ClosedAt time.Time `json:"closed_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	ClosedBy Actor     `json:"closed_by"`
} // @name ClosingNote

// Conversation is a contact's conversation as the inbox shows it.
type Conversation struct {
	ID      string              `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52"`
	Status  string              `json:"status" enums:"open,snoozed,closed" example:"open"`
	Contact ConversationContact `json:"contact"`
	// Assignee is the user working the conversation, or null.
	Assignee *Assignee `json:"assignee" extensions:"x-nullable"`
	// Team is the team the conversation belongs to (its queue while unassigned), or null.
	Team *ConversationTeam `json:"team" extensions:"x-nullable"`
	// LastMessage previews the latest message, or null before the first one.
	LastMessage *MessagePreview `json:"last_message" extensions:"x-nullable"`
	// ClosingNote is the latest closing note; it stays after a reopen. Null if never closed.
	ClosingNote *ClosingNote `json:"closing_note" extensions:"x-nullable"`
	CreatedAt   time.Time    `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt   time.Time    `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	// ClosedAt is set while the conversation is closed.
	ClosedAt *time.Time `json:"closed_at" extensions:"x-nullable" format:"date-time"`
	// Labels are the conversation's labels by name (without regard to case); [] when none.
	Labels []ConversationLabel `json:"labels"`
	// SnoozedUntil is when a snoozed conversation wakes (within a minute after it); null unless
	// snoozed, and while snoozed until the customer writes.
	SnoozedUntil *time.Time `json:"snoozed_until" extensions:"x-nullable" format:"date-time"`
	// LastReadAt is when the calling user last read the conversation (null if never). Set on
	// inbox rows, GET /v1/conversations/{id} and the read and unread answers, for a user;
	// null for an API key and in events.
	LastReadAt *time.Time `json:"last_read_at" extensions:"x-nullable" format:"date-time"`
	// UnreadCount is how many incoming messages came after the calling user's last read; set
	// where last_read_at is (0 or more), else null.
	UnreadCount *int64 `json:"unread_count" extensions:"x-nullable" example:"2"`
	// ReplyWindow is what the rule table allows a person to send on the conversation's default
	// channel (the one the contact last wrote on, else their newest identity) at the answer's
	// instant, or in an event at the event's; null when the contact has no identity on a live
	// channel.
	ReplyWindow *ReplyWindow `json:"reply_window" extensions:"x-nullable"`
} // @name Conversation

// ReplyWindow is the rule table's answer for a person writing on a conversation's default
// channel: the send-eligibility answer of that channel, in short.
type ReplyWindow struct {
	ChannelID string `json:"channel_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	Decision  string `json:"decision" enums:"allowed,template_required,tag_required,blocked" example:"allowed"`
	// ReasonCode is send-eligibility's: within_window, no_window, window_closed_template_required, human_agent_tag_window, window_closed, tag_window_expired, quota_available, quota_exceeded, commercial_terms, wechat_reply_limit.
	ReasonCode string `json:"reason_code" example:"within_window"`
	// WindowExpiresAt is when the channel's messaging window closes (or closed); null on
	// channels without one and before the customer's first message.
	WindowExpiresAt *time.Time `json:"window_expires_at" extensions:"x-nullable" format:"date-time" example:"2026-11-30T08:00:00Z"`
} // @name ReplyWindow

// WindowAlert is the data of window.expiring (the workspace's window_closing_minutes before a
// window closes) and window.closed (when it closes): which conversation, which channel, which
// window, when it closes, and what a person may send at the event's instant.
type WindowAlert struct {
	ConversationID string `json:"conversation_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52"`
	ContactID      string `json:"contact_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f53"`
	// Status is the conversation's at the event's instant.
	Status string `json:"status" enums:"open,snoozed,closed" example:"open"`
	// AssigneeID is the conversation's assignee, or null.
	AssigneeID  *string `json:"assignee_id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	ChannelID   string  `json:"channel_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	ChannelType string  `json:"channel_type" enums:"whatsapp,messenger,instagram,viber,wechat,telegram,line,webchat,sms,email,custom" example:"whatsapp"`
	// Window is messaging (the channel's reply window) or human_agent_tag (Messenger's, and
	// Instagram's when enabled, 7 days in which a person may still send tagged HUMAN_AGENT).
	Window string `json:"window" enums:"messaging,human_agent_tag" example:"messaging"`
	// ExpiresAt is when the window closes (window.expiring) or closed (window.closed).
	ExpiresAt time.Time `json:"expires_at" format:"date-time" example:"2026-11-30T08:00:00Z"`
	// ReplyWindow is the rule table's answer for a person at the event's instant.
	ReplyWindow ReplyWindow `json:"reply_window"`
} // @name WindowAlert

// ToWindowAlert is a as the API writes it.
func ToWindowAlert(a conversation.WindowAlert) WindowAlert {
	return WindowAlert{ConversationID: a.ConversationID.String(), ContactID: a.ContactID.String(), Status: string(a.Status),
		AssigneeID: optID(a.AssigneeID), ChannelID: a.ChannelID.String(), ChannelType: string(a.ChannelType), Window: a.Window,
		ExpiresAt: a.ExpiresAt.UTC(), ReplyWindow: toReplyWindow(a.Reply)}
}

func toReplyWindow(r conversation.ReplyWindow) ReplyWindow {
	return ReplyWindow{ChannelID: r.ChannelID.String(), Decision: string(r.Decision), ReasonCode: r.ReasonCode,
		WindowExpiresAt: r.WindowExpiresAt}
}

// Counts are the inbox's tab counts, kept as counters. The caller's own counts (mine,
// mentions_unread) are null for an API key.
type Counts struct {
	Open           OpenCounts    `json:"open"`
	Snoozed        SnoozedCounts `json:"snoozed"`
	MentionsUnread *int64        `json:"mentions_unread" extensions:"x-nullable" example:"1"`
} // @name ConversationCounts

// OpenCounts count open conversations.
type OpenCounts struct {
	Mine       *int64 `json:"mine" extensions:"x-nullable" example:"4"`
	Unassigned int64  `json:"unassigned" example:"12"`
	All        int64  `json:"all" example:"57"`
} // @name OpenCounts

// SnoozedCounts count snoozed conversations.
type SnoozedCounts struct {
	Mine *int64 `json:"mine" extensions:"x-nullable" example:"1"`
	All  int64  `json:"all" example:"6"`
} // @name SnoozedCounts

// ToCounts is c as the API writes it.
func ToCounts(c conversation.Counts) Counts {
	return Counts{Open: OpenCounts{Mine: c.OpenMine, Unassigned: c.OpenUnassigned, All: c.OpenAll},
		Snoozed: SnoozedCounts{Mine: c.SnoozedMine, All: c.SnoozedAll}, MentionsUnread: c.MentionsUnread}
}

// ConversationList is a page of the inbox.
type ConversationList struct {
	Data       []Conversation `json:"data"`
	NextCursor *string        `json:"next_cursor" extensions:"x-nullable"`
} // @name ConversationList

// ConversationEvent is one step of a conversation's lifecycle (opened, closed, ...).
type ConversationEvent struct {
	ID    string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f80"`
	Type  string `json:"type" enums:"opened,closed,reopened,assigned,unassigned,snoozed,woke" example:"closed"`
	Actor Actor  `json:"actor"`
	// AssigneeID is the user assigned (assigned) or unassigned (unassigned).
	AssigneeID *string `json:"assignee_id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	// Category and Summary are the closing note of a closed event.
	Category *string `json:"category" extensions:"x-nullable" example:"resolved"`
	Summary  *string `json:"summary" extensions:"x-nullable" example:"Refund issued"`
	// SnoozedUntil is the instant a snoozed event put the conversation aside until; null for
	// a snooze until the customer writes, and for other events.
	SnoozedUntil *time.Time `json:"snoozed_until" extensions:"x-nullable" format:"date-time"`
	// Reason is why a woke event woke it: customer_replied (an inbound message) or time (its
	// snoozed_until passed). Null for other events.
	Reason *string   `json:"reason" extensions:"x-nullable" enums:"customer_replied,time"`
	At     time.Time `json:"at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name ConversationEvent

// ConversationEventList is a page of a conversation's lifecycle.
type ConversationEventList struct {
	Data       []ConversationEvent `json:"data"`
	NextCursor *string             `json:"next_cursor" extensions:"x-nullable"`
} // @name ConversationEventList

// InboundResult is the answer of an ingested message: the message, its contact and
// conversation.
type InboundResult struct {
	Message      Message      `json:"message"`
	Contact      Contact      `json:"contact"`
	Conversation Conversation `json:"conversation"`
} // @name InboundResult

// ToActor is a as the API writes it.
func ToActor(a conversation.Actor) Actor {
	return Actor{Kind: string(a.Kind), ID: idString(a.ID)}
}

// ToConversation is v with its contact (reach included), assignee, last message, latest
// closing note and labels.
func ToConversation(v conversation.Conversation) Conversation {
	out := Conversation{ID: v.ID.String(), Status: string(v.Status),
		Contact: ConversationContact{ID: v.Contact.ID.String(), FirstName: v.Contact.FirstName, LastName: v.Contact.LastName,
			Email: v.Contact.Email, Phone: v.Contact.Phone},
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, ClosedAt: v.ClosedAt, SnoozedUntil: v.SnoozedUntil, Labels: toConversationLabels(v.Labels)}
	if a := v.Assignee; a != nil {
		out.Assignee = &Assignee{ID: a.ID.String(), Name: a.Name, Email: a.Email}
	}
	if t := v.Team; t != nil {
		out.Team = &ConversationTeam{ID: t.ID.String(), Name: t.Name}
	}
	if m := v.LastMessage; m != nil {
		out.LastMessage = &MessagePreview{ID: m.ID.String(), ChannelID: m.ChannelID.String(), Direction: string(m.Direction),
			Type: string(m.Type), Text: m.Text, CreatedAt: m.At}
	}
	if n := v.ClosingNote; n != nil {
		out.ClosingNote = &ClosingNote{Category: n.Category, Summary: n.Summary, ClosedAt: n.ClosedAt, ClosedBy: ToActor(n.ClosedBy)}
	}
	if r := v.Read; r != nil {
		unread := r.Unread
		out.LastReadAt, out.UnreadCount = r.LastReadAt, &unread
	}
	if r := v.ReplyWindow; r != nil {
		rw := toReplyWindow(*r)
		out.ReplyWindow = &rw
	}
	return out
}

// ToConversationEvent is e as the API writes it.
func ToConversationEvent(e conversation.Event) ConversationEvent {
	out := ConversationEvent{ID: e.ID.String(), Type: string(e.Type), Actor: ToActor(e.Actor), AssigneeID: optID(e.AssigneeID),
		Category: e.Category, Summary: e.Summary, SnoozedUntil: e.SnoozedUntil, At: e.At}
	if e.Reason != nil {
		why := string(*e.Reason)
		out.Reason = &why
	}
	return out
}

// ToInboundResult is what an ingestion produced, contact reach included.
func ToInboundResult(in conversation.Ingested) InboundResult {
	return InboundResult{Message: ToMessage(in.Message), Contact: ToContact(in.Contact), Conversation: ToConversation(in.Conversation)}
}
