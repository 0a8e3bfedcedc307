package dispatch

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/provider"
)

// Delivery is an outgoing message with everything its delivery needs.
type Delivery struct {
	Message conversation.Message
	Channel channel.Channel
	// To is the identifier of the message's channel identity; empty when it has none.
	To string
	// InReplyTo is the external id of the customer's latest earlier message in the thread on
	// the same channel (an email's Message-ID), for threading; empty when there is none.
	InReplyTo string
}

// Change is a status change of an outgoing message. It applies only when it moves the status
// forward (queued → sent → delivered → read; failed after queued or sent).
type Change struct {
	Status conversation.MessageStatus
	// ProviderMessageID, ErrorCode and ErrorMessage are stored when set.
	ProviderMessageID string
	ErrorCode         string
	ErrorMessage      string
	At                time.Time
}

// Store is what delivery needs from persistence.
type Store interface {
	// Delivery loads an outgoing message with its channel and recipient;
	// conversation.ErrMessageNotFound when it does not exist.
	Delivery(ctx context.Context, ws, id uuid.UUID) (Delivery, error)
	// StartAttempt counts an attempt on a message that is still queued, and reports the count;
	// started is false (and nothing changes) when the message is no longer queued.
	StartAttempt(ctx context.Context, ws, id uuid.UUID, at time.Time) (attempts int, started bool, err error)
	// Advance applies a forward-only status change and reports whether it applied.
	Advance(ctx context.Context, ws, id uuid.UUID, c Change) (bool, error)
	// ApplyReceipt applies a provider's receipt to the channel's messages it names (by
	// provider message id, or every message to the recipient up to At for a watermark), forward
	// only, and reports how many changed.
	ApplyReceipt(ctx context.Context, ws, channelID uuid.UUID, r provider.Receipt, now time.Time) (int64, error)
	// ChannelByID finds a channel by id alone, for provider webhooks; channel.ErrNotFound
	// when there is none.
	ChannelByID(ctx context.Context, id uuid.UUID) (channel.Channel, error)
	// QueueDepth counts the delivery jobs not yet finished, by River job state.
	QueueDepth(ctx context.Context) (map[string]int64, error)
	// DeleteMedia deletes a media row (its blob goes with the media sweep): what a webhook
	// stored for a message that was not ingested.
	DeleteMedia(ctx context.Context, ws, id uuid.UUID) error
}
