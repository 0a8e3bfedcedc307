// Package provider defines the one small interface every delivery provider implements (Sender),
// the shapes a provider's webhook is parsed into (Event, Inbound, Receipt), and the error that
// tells a dispatcher whether a failed send is worth retrying (Error).
//
// Each provider lives in its own package below this one (whatsapp, messenger, telegram, twilio,
// smtp, viber, line, webhook, sandbox). They are plain clients: no database, no queue, no
// package-level state; the dispatcher and the webhook routes are built on top of them.
//
// Every package offers the same three things:
//
//   - New(cfg Config, ...) *Client, a Sender. A failed Send returns an *Error: the dispatcher
//     marks the message failed when IsPermanent(err), and otherwise retries no sooner than
//     Error.RetryAfter. Providers with an idempotency key get Message.ID (LINE, webhook).
//   - Verify(h http.Header, body []byte, secret ...) error, the provider's own webhook
//     authentication, to run on the raw body before anything is parsed; failures wrap
//     ErrSignature (401, store nothing). Meta's GET handshake is whatsapp.Handshake and
//     messenger.Handshake.
//   - Parse(body []byte) (Event, error), turning a verified webhook into Inbound messages (the
//     ingestion path, deduplicated on ExternalID) and Receipts; failures wrap ErrMalformed.
//
// Customers' files arrive by the provider's id or by a link, and are downloaded as streams for
// the media store: whatsapp.Client.Media, telegram.Client.File and line.Client.Content by id,
// twilio.Client.Media by a link behind the account's credentials, Fetch by any other link. A
// failed download is an *Error as a failed send is: 404 permanent, 5xx and 429 transient.
package provider

import (
	"context"
	"io"
	"time"

	"github.com/switchboard/switchboard/pkg/errkind"
)

// Message types a Sender understands. An empty Type means TypeText.
const (
	TypeText       = "text"
	TypeTemplate   = "template"
	TypeAttachment = "attachment"
)

// Delivery statuses a Receipt reports. They only move forward: sent → delivered → read, or failed.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// Message is one outbound message, already checked against the channel rules.
type Message struct {
	// ID is our message id (a UUIDv7 string). Providers that support an idempotency key get it
	// (LINE's X-Line-Retry-Key, the webhook-id of custom channels), so a retried send never
	// reaches the customer twice.
	ID string
	// To is the channel identity's identifier: an E.164 phone, a PSID, a chat id, an email
	// address, a LINE user id, a Viber id.
	To   string
	Type string // TypeText, TypeTemplate or TypeAttachment
	Text string // the text, or the caption of an attachment
	// Tag is the message tag of a Messenger/Instagram MESSAGE_TAG send ("HUMAN_AGENT").
	Tag      string
	Template *Template
	// Attachments are the files of an attachment message, in order (Text is their caption);
	// the send's check (the provider's Limits) has made sure the provider can carry them.
	Attachments []Attachment

	// Email threading.
	Subject    string
	InReplyTo  string   // Message-ID of the mail answered, with or without angle brackets
	References []string // Message-IDs of the thread, oldest first

	// StatusCallbackURL is where the provider should report delivery (Twilio's StatusCallback).
	StatusCallbackURL string
}

// Template names an approved template and fills its body variables.
type Template struct {
	Name      string
	Language  string   // e.g. "en_US"
	Variables []string // body parameters {{1}}, {{2}}, ... in order
}

// Attachment is media sent or received: by link, by the provider's media id, or as bytes.
type Attachment struct {
	// URL is a link the provider fetches (outbound: the caller's, or a signed link to stored
	// media), or where a provider keeps inbound media (Messenger, Twilio, Viber; it may expire).
	URL      string
	MIMEType string
	Filename string
	// Size is the file's size in bytes when known (stored media); 0 when not.
	Size int64
	// Open reads stored media's bytes, for providers that upload files with the send
	// (WhatsApp's media upload, Telegram's multipart, Messenger's filedata, SMTP parts); nil
	// for a link. Each call opens a new reader; the caller closes it.
	Open func(ctx context.Context) (io.ReadCloser, error)
	// ID is the provider's media id, for inbound media that arrives without a URL (WhatsApp,
	// Telegram, LINE); fetching it needs the provider's media API.
	ID string
	// MediaID is our id of stored media (outbound), which custom channels receive beside its
	// URL.
	MediaID string
	// Data is inbound media the webhook itself carries (an email's MIME parts).
	Data []byte
}

// File is what a provider's Limits know of the attachment: stored media has Open.
func (a Attachment) File() File {
	return File{MIMEType: a.MIMEType, Size: a.Size, Stored: a.Open != nil}
}

// Result is what a provider answered to an accepted send.
type Result struct {
	// ProviderMessageID is the provider's id of the message; receipts refer to it.
	ProviderMessageID string
}

// Sender delivers a message through one provider. A failed send returns an *Error.
type Sender interface {
	Send(ctx context.Context, m Message) (Result, error)
}

// Inbound is a customer's message parsed from a provider webhook.
type Inbound struct {
	// ExternalID is the provider's id of the message, the key inbound messages are deduplicated on.
	ExternalID string
	// From is the sender's channel identity, in the same form Message.To takes.
	From        string
	ContactName string // the name the provider shows for the sender, if any
	Text        string
	Subject     string // email only
	InReplyTo   string // email only: the Message-ID answered, without angle brackets
	// ReceivedAt is when the provider received the message; zero when the provider does not
	// say (Twilio), and the caller stamps it with its own clock.
	ReceivedAt time.Time
	// Attachments are the message's files: by the provider's media id (ID), by a link the
	// provider keeps (URL, which may expire or need the provider's credentials), or carried
	// in the webhook itself (Data). The receiver brings each into the media store; at most
	// MaxAttachments are kept.
	Attachments []Attachment
}

// MaxAttachments bounds the files kept of one inbound message, as a message carries at most
// ten (conversation.MaxAttachments); Twilio's NumMedia is at most ten too.
const MaxAttachments = 10

// Receipt is a delivery status report for one of our messages.
type Receipt struct {
	// ProviderMessageID is the id Send returned. It is empty for watermark receipts (Messenger):
	// then the receipt covers every message to Recipient sent at or before At.
	ProviderMessageID string
	Recipient         string // the channel identity the message went to, when the provider says
	Status            string // StatusSent, StatusDelivered, StatusRead or StatusFailed
	// At is when the status changed; zero when the provider does not say (Twilio).
	At        time.Time
	ErrorCode string
	ErrorText string
}

// Event is everything one provider webhook call carried.
type Event struct {
	Inbound  []Inbound
	Receipts []Receipt
}

// ErrSignature is returned by every Verify when a webhook's signature is missing, malformed or
// does not match; the webhook route answers 401 and stores nothing.
var ErrSignature = errkind.New(errkind.KindUnauthenticated, "invalid_signature",
	"The webhook signature is missing or does not match.")

// ErrMalformed is returned by every Parse when a (verified) webhook body cannot be read.
var ErrMalformed = errkind.New(errkind.KindBadRequest, "malformed_webhook",
	"The webhook body cannot be read.")
