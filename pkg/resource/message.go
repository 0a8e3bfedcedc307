package resource

import (
	"time"

	"github.com/switchboard/switchboard/pkg/conversation"
)

// Attachment is one file of an attachment message.
type Attachment struct {
	// MediaID is the file in the workspace's media store (GET /v1/media/{id}); null for a link, and while a customer's media is still pending.
	MediaID *string `json:"media_id" format:"uuid" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f80"`
	// URL is the link the file was sent or received by; null for uploaded media and for media a provider delivers by id.
	URL *string `json:"url" extensions:"x-nullable" example:"https://example.com/photo.jpg"`
	// MimeType is sniffed from the bytes for stored media; null while the provider has not said.
	MimeType *string `json:"mime_type" extensions:"x-nullable" example:"image/jpeg"`
	Filename *string `json:"filename" extensions:"x-nullable" example:"photo.jpg"`
	// Size in bytes of stored media; null for a link.
	Size *int64 `json:"size" extensions:"x-nullable" example:"48213"`
	// Status is ready (stored, or a link), pending (a customer's media being fetched from the provider; event message.updated when it settles) or failed.
	Status string `json:"status" enums:"ready,pending,failed" example:"ready"`
	// FailureReason says why fetching the media failed.
	FailureReason *string `json:"failure_reason" extensions:"x-nullable" example:"the provider answered 404 for the media id"`
} // @name Attachment

// MessageTemplate names the template a message was rendered from.
type MessageTemplate struct {
	Name      string   `json:"name" example:"order_update"`
	Language  string   `json:"language" example:"en_US"`
	Variables []string `json:"variables" example:"Maria,#1234"`
} // @name MessageTemplate

// MessageError is the provider's reason a message failed.
type MessageError struct {
	Code    string `json:"code" example:"provider_rejected"`
	Message string `json:"message" example:"Recipient phone number not on WhatsApp"`
} // @name MessageError

// Message is one message of a conversation, incoming or outgoing, with its delivery status,
// or an internal note of the team (type note, direction and status internal, no channel).
type Message struct {
	ID             string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f70"`
	ConversationID string `json:"conversation_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52"`
	ContactID      string `json:"contact_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f53"`
	// ChannelID is null for a note.
	ChannelID  *string `json:"channel_id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	IdentityID *string `json:"identity_id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f61"`
	// Direction is internal for a note, which never leaves the workspace.
	Direction string `json:"direction" enums:"incoming,outgoing,internal" example:"incoming"`
	Type      string `json:"type" enums:"text,template,attachment,note" example:"text"`
	Text      string `json:"text" example:"Hi, my order hasn't arrived yet"`
	// Attachments are the files of an attachment message (text is then their caption); [] for other messages.
	Attachments []Attachment `json:"attachments"`
	// Template names the template an outgoing template message was rendered from.
	Template *MessageTemplate `json:"template" extensions:"x-nullable"`
	// Tag is the message tag an outgoing message was sent with (e.g. HUMAN_AGENT).
	Tag    *string `json:"tag" extensions:"x-nullable" example:"HUMAN_AGENT"`
	Sender Actor   `json:"sender"`
	// Status is received for incoming messages; outgoing ones move queued, sent, delivered, read, or failed; a note's is internal.
	Status            string  `json:"status" enums:"received,queued,sent,delivered,read,failed,internal" example:"received"`
	Billable          bool    `json:"billable" example:"false"`
	ProviderMessageID *string `json:"provider_message_id" extensions:"x-nullable" example:"wamid.HBgLMTIwMjU1NTAxMjM"`
	// ExternalID is the sender's id of an ingested message (dedupe key per channel).
	ExternalID *string       `json:"external_id" extensions:"x-nullable" example:"wamid.HBgLMTIwMjU1NTAxMjM"`
	Error      *MessageError `json:"error" extensions:"x-nullable"`
	// Attempts counts the dispatcher's calls to the provider (0 for incoming messages and
	// outgoing ones not tried yet); LastAttemptAt is when the latest began.
	Attempts      int        `json:"attempts" example:"1"`
	LastAttemptAt *time.Time `json:"last_attempt_at" format:"date-time" extensions:"x-nullable" example:"2026-11-29T08:00:01Z"`
	// Mentions are the users a note mentions ([] when none); null for other messages.
	Mentions []string `json:"mentions" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f51"`
	// CreatedAt is when the message happened: received (incoming) or created (outgoing).
	CreatedAt time.Time `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt time.Time `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Message

// MessageList is a page of a conversation's messages.
type MessageList struct {
	Data       []Message `json:"data"`
	NextCursor *string   `json:"next_cursor" extensions:"x-nullable"`
} // @name MessageList

// ToMessage is m as the API writes it.
func ToMessage(m conversation.Message) Message {
	out := Message{ID: m.ID.String(), ConversationID: m.ConversationID.String(), ContactID: m.ContactID.String(),
		ChannelID: idString(m.ChannelID), IdentityID: optID(m.IdentityID), Direction: string(m.Direction), Type: string(m.Type),
		Text: m.Text, Tag: m.Tag, Sender: ToActor(m.Sender), Status: string(m.Status), Billable: m.Billable,
		ProviderMessageID: m.ProviderMessageID, ExternalID: m.ExternalID, Attempts: m.Attempts, LastAttemptAt: m.LastAttemptAt,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
	if m.Type == conversation.TypeNote {
		out.Mentions = make([]string, len(m.Mentions))
		for i, u := range m.Mentions {
			out.Mentions[i] = u.String()
		}
	}
	out.Attachments = make([]Attachment, len(m.Attachments))
	for i, a := range m.Attachments {
		out.Attachments[i] = Attachment{MediaID: optID(a.MediaID), URL: optString(a.URL), MimeType: optString(a.MimeType),
			Filename: optString(a.Filename), Status: string(a.Status), FailureReason: optString(a.Reason)}
		if a.MediaID != nil {
			size := a.Size
			out.Attachments[i].Size = &size
		}
	}
	if t := m.Template; t != nil {
		out.Template = &MessageTemplate{Name: t.Name, Language: t.Language, Variables: orEmpty(t.Variables)}
	}
	if m.ErrorCode != nil {
		msg := ""
		if m.ErrorMessage != nil {
			msg = *m.ErrorMessage
		}
		out.Error = &MessageError{Code: *m.ErrorCode, Message: msg}
	}
	return out
}

// Mention is a user named in a note: the data of a mention.created event.
type Mention struct {
	UserID         string `json:"user_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f51"`
	ConversationID string `json:"conversation_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52"`
	NoteID         string `json:"note_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f70"`
	// CreatedAt is when the mention was made: the note's creation, or the edit that added the user.
	CreatedAt time.Time `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Mention

// MentionList is who a note mentions.
type MentionList struct {
	Data []Mention `json:"data"`
} // @name MentionList

// ToMention is m as the API writes it.
func ToMention(m conversation.Mention) Mention {
	return Mention{UserID: m.UserID.String(), ConversationID: m.ConversationID.String(), NoteID: m.NoteID.String(),
		CreatedAt: m.At}
}
