package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/dispatch"
	"github.com/switchboard/switchboard/pkg/event"
	sendprovider "github.com/switchboard/switchboard/pkg/provider"
)

// advances is the forward-only condition every status change carries (see 0005_delivery.sql):
// a higher rank replaces a lower one, and failed replaces only queued or sent. The new status
// is $1 in every status UPDATE.
const advances = `message_status_rank(m.status) < message_status_rank($1)
  AND NOT ($1 = 'failed' AND m.status IN ('delivered', 'read'))`

// outgoingRow is an outgoing message with where it goes: its identity's identifier, and the
// external id of the customer's latest earlier message on the same channel (email threading).
type outgoingRow struct {
	messageRow
	To        *string
	InReplyTo *string
}

// Delivery loads an outgoing message with its channel, in one round trip (every send's
// delivery runs it).
func (s *Store) Delivery(ctx context.Context, ws, id uuid.UUID) (dispatch.Delivery, error) {
	const message = `
SELECT ` + messageColumns + `,
       (SELECT identifier FROM contact_identities WHERE workspace_id = m.workspace_id AND id = m.identity_id) AS to,
       (SELECT p.external_id FROM messages p
        WHERE p.workspace_id = m.workspace_id AND p.conversation_id = m.conversation_id AND p.channel_id = m.channel_id
          AND p.direction = 'incoming' AND p.external_id IS NOT NULL AND p.created_at <= m.created_at
        ORDER BY p.created_at DESC, p.id DESC LIMIT 1) AS in_reply_to
FROM messages m
WHERE m.workspace_id = $1 AND m.id = $2 AND m.direction = 'outgoing'`
	const channel = `
SELECT ` + channelColumns + ` FROM channels
WHERE workspace_id = $1 AND id = (SELECT channel_id FROM messages WHERE workspace_id = $1 AND id = $2)`
	var r outgoingRow
	var ch channelRow
	var found, foundChannel bool
	b := &batch{}
	queueRow(b, "load delivery", &r, &found, statement{message, []any{ws, id}})
	queueRow(b, "load delivery channel", &ch, &foundChannel, statement{channel, []any{ws, id}})
	if err := b.send(ctx, s.Pool); err != nil {
		return dispatch.Delivery{}, err
	}
	if !found || !foundChannel {
		return dispatch.Delivery{}, conversation.ErrMessageNotFound
	}
	return dispatch.Delivery{Message: r.domain(), Channel: ch.domain(), To: deref(r.To), InReplyTo: deref(r.InReplyTo)}, nil
}

// StartAttempt counts an attempt on a still-queued message.
func (s *Store) StartAttempt(ctx context.Context, ws, id uuid.UUID, at time.Time) (int, bool, error) {
	const q = `
UPDATE messages SET attempts = attempts + 1, last_attempt_at = $1, updated_at = $1
WHERE workspace_id = $2 AND id = $3 AND direction = 'outgoing' AND status = 'queued'
RETURNING attempts`
	var attempts int
	err := s.Pool.QueryRow(ctx, q, at, ws, id).Scan(&attempts)
	if isNotFound(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("start attempt: %w", err)
	}
	return attempts, true, nil
}

// nullIfEmpty is s, or NULL when it is empty.
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Advance applies a forward-only status change to one message in one UPDATE.
func (s *Store) Advance(ctx context.Context, ws, id uuid.UUID, c dispatch.Change) (bool, error) {
	const q = `
UPDATE messages m SET status = $1,
       provider_message_id = COALESCE($2, m.provider_message_id),
       error_code = COALESCE($3, m.error_code), error_message = COALESCE($4, m.error_message),
       updated_at = $5
WHERE m.workspace_id = $6 AND m.id = $7 AND m.direction = 'outgoing' AND ` + advances
	n, err := s.changeStatus(ctx, statement{q, []any{string(c.Status), nullIfEmpty(c.ProviderMessageID), nullIfEmpty(c.ErrorCode),
		nullIfEmpty(c.ErrorMessage), c.At, ws, id}})
	if err != nil {
		return false, fmt.Errorf("advance message status: %w", err)
	}
	return n > 0, nil
}

// changeStatus runs a status UPDATE and publishes message.status_changed for every message it
// changed (changeMessages).
func (s *Store) changeStatus(ctx context.Context, update statement) (int64, error) {
	return s.changeMessages(ctx, update, event.MessageStatusChanged)
}

// changeMessages runs an UPDATE of messages m and publishes an event of type typ for every
// message it changed, in one transaction: subscribers hear of exactly the changes that
// committed. The UPDATE locks the rows it changes, so a condition in its WHERE is checked on
// each row's latest version. publish goes out with COMMIT (see pgxTx), as the send path's
// does: each change takes the same workspace lock as the sends.
func (s *Store) changeMessages(ctx context.Context, update statement, typ string) (int64, error) {
	var n int64
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		// A batch of one, so that the transaction's BEGIN goes with it (see lazyTx).
		var changed []messageRow
		b := &batch{}
		update.sql += "\nRETURNING " + messageColumns
		queueRows(b, "change messages", &changed, update)
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		n = int64(len(changed))
		if n == 0 {
			return nil, nil
		}
		evs := make([]pending, len(changed))
		for i, r := range changed {
			m := r.domain()
			evs[i] = pending{typ: typ, conv: &m.ConversationID, v: m}
		}
		b = &batch{}
		return b, s.queuePublish(b, changed[0].WorkspaceID, evs)
	})
	return n, err
}

// ApplyReceipt applies a provider's receipt within one channel, forward only. A receipt with a
// provider message id changes that message; a watermark receipt (Messenger: no id, a recipient
// and a time) changes every message sent to the recipient up to that time.
func (s *Store) ApplyReceipt(ctx context.Context, ws, channelID uuid.UUID, r sendprovider.Receipt, now time.Time) (int64, error) {
	status, ok := receiptStatus[r.Status]
	if !ok {
		return 0, nil
	}
	var update statement
	switch {
	case r.ProviderMessageID != "":
		update = statement{receiptSQL, []any{string(status), nullIfEmpty(r.ErrorCode), nullIfEmpty(r.ErrorText), now, ws,
			channelID, r.ProviderMessageID}}
	case r.Recipient != "" && !r.At.IsZero() && status != conversation.StatusFailed:
		update = statement{watermarkSQL, []any{string(status), now, ws, channelID, r.Recipient, r.At}}
	default:
		return 0, nil
	}
	n, err := s.changeStatus(ctx, update)
	if err != nil {
		return 0, fmt.Errorf("apply receipt: %w", err)
	}
	return n, nil
}

const (
	// receiptSQL applies a receipt to the message with the provider's id.
	receiptSQL = `
UPDATE messages m SET status = $1,
       error_code = COALESCE($2, m.error_code), error_message = COALESCE($3, m.error_message),
       updated_at = $4
WHERE m.workspace_id = $5 AND m.channel_id = $6 AND m.provider_message_id = $7
  AND m.direction = 'outgoing' AND ` + advances
	// watermarkSQL applies a receipt to every message sent to the recipient up to a time. The
	// recipient's one conversation holds the messages; its index walks them by time.
	watermarkSQL = `
UPDATE messages m SET status = $1, updated_at = $2
FROM contact_identities i
JOIN conversations c ON c.workspace_id = i.workspace_id AND c.contact_id = i.contact_id
WHERE i.workspace_id = $3 AND i.channel_id = $4 AND i.identifier = $5
  AND m.workspace_id = $3 AND m.conversation_id = c.id AND m.channel_id = $4
  AND m.direction = 'outgoing' AND m.status IN ('sent', 'delivered')
  AND COALESCE(m.last_attempt_at, m.created_at) <= $6 AND ` + advances
)

var receiptStatus = map[string]conversation.MessageStatus{
	sendprovider.StatusSent:      conversation.StatusSent,
	sendprovider.StatusDelivered: conversation.StatusDelivered,
	sendprovider.StatusRead:      conversation.StatusRead,
	sendprovider.StatusFailed:    conversation.StatusFailed,
}

// ChannelByID finds a channel by its id alone (channels_id_key), for provider webhooks.
func (s *Store) ChannelByID(ctx context.Context, id uuid.UUID) (channel.Channel, error) {
	r, err := queryRow[channelRow](ctx, s.Pool, `SELECT `+channelColumns+` FROM channels WHERE id = $1`, id)
	if isNotFound(err) {
		return channel.Channel{}, channel.ErrNotFound
	}
	if err != nil {
		return channel.Channel{}, fmt.Errorf("get channel: %w", err)
	}
	return r.domain(), nil
}

// QueueDepth counts unfinished delivery jobs by River state.
func (s *Store) QueueDepth(ctx context.Context) (map[string]int64, error) {
	const q = `
SELECT state::text AS state, count(*) AS jobs FROM river_job
WHERE kind = $1 AND state IN ('available', 'scheduled', 'retryable', 'running', 'pending')
GROUP BY state`
	type depth struct {
		State string
		Jobs  int64
	}
	rows, err := queryRows[depth](ctx, s.Pool, q, dispatch.JobKind)
	if err != nil {
		return nil, fmt.Errorf("queue depth: %w", err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.State] = r.Jobs
	}
	return out, nil
}
