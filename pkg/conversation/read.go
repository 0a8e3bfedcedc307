package conversation

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/errkind"
)

// ReadState is how far one user has read a conversation.
type ReadState struct {
	// LastReadAt is the instant the user read up to; nil when they never read it.
	LastReadAt *time.Time
	// Unread is how many incoming messages came after that.
	Unread int64
}

// Counts are the inbox's tab counts. The Mine counts and MentionsUnread are the caller's, nil
// for an API key.
type Counts struct {
	OpenMine       *int64
	OpenUnassigned int64
	OpenAll        int64
	SnoozedMine    *int64
	SnoozedAll     int64
	MentionsUnread *int64
}

// ReadStore is what read state needs from persistence.
type ReadStore interface {
	// ConversationFor is Conversation with reader's read state.
	ConversationFor(ctx context.Context, ws, id, reader uuid.UUID) (Conversation, error)
	// MarkRead records that reader read the conversation up to the message (the latest when
	// nil), and returns the conversation with the new read state. A message of another
	// conversation is ErrReadMessage.
	MarkRead(ctx context.Context, ws, id, reader uuid.UUID, message *uuid.UUID, now time.Time) (Conversation, error)
	// MarkUnread moves reader's last read back to just before the latest incoming message.
	MarkUnread(ctx context.Context, ws, id, reader uuid.UUID) (Conversation, error)
	// Counts reads the counters; user is nil for an API key.
	Counts(ctx context.Context, ws uuid.UUID, user *uuid.UUID) (Counts, error)
}

// ErrReadMessage answers a read up to a message that is not one of the conversation's.
var ErrReadMessage = errkind.Invalid(errkind.Field{Field: "message_id", Message: "must be a message of this conversation"})

// GetFor returns one conversation with reader's read state (none for a nil reader).
func (s *Service) GetFor(ctx context.Context, ws, id uuid.UUID, reader *uuid.UUID) (Conversation, error) {
	if reader == nil {
		return s.Get(ctx, ws, id)
	}
	return s.decided(s.store.ConversationFor(ctx, ws, id, *reader))
}

// MarkRead marks the conversation read for the user, up to the message or everything now.
func (s *Service) MarkRead(ctx context.Context, ws, id, user uuid.UUID, message *uuid.UUID) (Conversation, error) {
	return s.decided(s.store.MarkRead(ctx, ws, id, user, message, s.clock()))
}

// MarkUnread marks the conversation's latest incoming message unread for the user.
func (s *Service) MarkUnread(ctx context.Context, ws, id, user uuid.UUID) (Conversation, error) {
	return s.decided(s.store.MarkUnread(ctx, ws, id, user))
}

// Counts returns the inbox's tab counts; user is nil for an API key.
func (s *Service) Counts(ctx context.Context, ws uuid.UUID, user *uuid.UUID) (Counts, error) {
	return s.store.Counts(ctx, ws, user)
}
