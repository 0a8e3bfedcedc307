package conversation

import (
	"time"

	"github.com/google/uuid"
)

// Direction is which way a message travels.
type Direction string

// The directions.
const (
	Incoming Direction = "incoming"
	Outgoing Direction = "outgoing"
	// Internal is a note's: it stays inside the workspace and is never delivered.
	Internal Direction = "internal"
)

// MessageType is the form of a message.
type MessageType string

// The message types.
const (
	TypeText       MessageType = "text"
	TypeTemplate   MessageType = "template"
	TypeAttachment MessageType = "attachment"
	// TypeNote is an internal note of the team (see note.go).
	TypeNote MessageType = "note"
)

// MessageStatus is where a message is: received (incoming), or on its way out.
type MessageStatus string

// The message statuses. Outgoing messages move queued → sent → delivered → read, or failed;
// a note is internal and stays so.
const (
	StatusReceived  MessageStatus = "received"
	StatusQueued    MessageStatus = "queued"
	StatusSent      MessageStatus = "sent"
	StatusDelivered MessageStatus = "delivered"
	StatusRead      MessageStatus = "read"
	StatusFailed    MessageStatus = "failed"
	StatusInternal  MessageStatus = "internal"
)

// MaxAttachments bounds a message's attachments.
const MaxAttachments = 10

// AttachmentStatus is where an attachment's file is: ready to read (stored media, or a link
// the server does not fetch), pending while a job fetches a customer's media from the
// provider, or failed when the fetch gave up (Reason says why; the message is kept).
type AttachmentStatus string

// The attachment statuses.
const (
	AttachmentReady   AttachmentStatus = "ready"
	AttachmentPending AttachmentStatus = "pending"
	AttachmentFailed  AttachmentStatus = "failed"
)

// Attachment is a file of a message: media in the workspace's store (MediaID), a link (URL),
// or a provider's media on its way into the store (pending, URL when the provider gave one).
type Attachment struct {
	MediaID  *uuid.UUID       `json:"media_id,omitempty"`
	URL      string           `json:"url,omitempty"`
	MimeType string           `json:"mime_type,omitempty"`
	Filename string           `json:"filename,omitempty"`
	Size     int64            `json:"size,omitempty"`
	Status   AttachmentStatus `json:"status"`
	// Reason is why a fetch failed.
	Reason string `json:"failure_reason,omitempty"`
	// Ref is the provider's id of a pending attachment's file (a WhatsApp media id, a Telegram
	// file_id, a LINE message id), for the job that fetches it; it is never stored or shown.
	Ref string `json:"-"`
}

// TemplateRef names the template an outgoing message was rendered from.
type TemplateRef struct {
	Name      string   `json:"name"`
	Language  string   `json:"language"`
	Variables []string `json:"variables"`
}

// Message is one message of a conversation, on one channel, or a note on none.
type Message struct {
	WorkspaceID    uuid.UUID
	ID             uuid.UUID
	ConversationID uuid.UUID
	ContactID      uuid.UUID
	ChannelID      uuid.UUID // uuid.Nil for a note
	IdentityID     *uuid.UUID
	Direction      Direction
	Type           MessageType
	Text           string
	// Attachments are the message's files (type attachment; Text is then their caption).
	Attachments []Attachment
	Template    *TemplateRef
	Tag         *string
	// Sender is the contact (incoming), or the user, API key or system that sent it.
	Sender            Actor
	Status            MessageStatus
	Billable          bool
	ProviderMessageID *string
	// ExternalID is the sender's id of an ingested message: the same id on the same channel
	// is ingested once.
	ExternalID   *string
	ErrorCode    *string
	ErrorMessage *string
	// Attempts counts the dispatcher's calls to the provider for an outgoing message, and
	// LastAttemptAt is when the latest began.
	Attempts      int
	LastAttemptAt *time.Time
	// Mentions are the users a note mentions, in the order written; nil for other messages.
	Mentions []uuid.UUID
	// CreatedAt is when the message happened: received (incoming) or created (outgoing).
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Preview returns the message as the inbox shows it.
func (m Message) Preview() Preview {
	text := m.Text
	if r := []rune(text); len(r) > PreviewLength {
		text = string(r[:PreviewLength])
	}
	return Preview{ID: m.ID, ChannelID: m.ChannelID, Direction: m.Direction, Type: m.Type, Text: text, At: m.CreatedAt}
}
