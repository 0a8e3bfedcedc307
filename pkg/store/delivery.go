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
// a higher rank replaces a lower one, and failed replaces only queued or sent.
const advances = `message_status_rank(m.status) < message_status_rank(@status)
  AND NOT (@status = 'failed' AND m.status IN ('delivered', 'read'))`

// Delivery loads an outgoing message with its channel, its identity's identifier, and the
// external id of the customer's latest earlier message on the same channel (email threading),
// in one query straight through pgx (every send's delivery runs it).
func (s *Store) Delivery(ctx context.Context, ws, id uuid.UUID) (dispatch.Delivery, error) {
	const q = `
SELECT ` + messageColumns + `,
       ch.workspace_id, ch.id, ch.type, ch.name, ch.provider, ch.config, ch.secrets, ch.secret_names, ch.rule_options,
       ch.archived_at, ch.created_at, ch.updated_at,
       (SELECT identifier FROM contact_identities WHERE workspace_id = m.workspace_id AND id = m.identity_id),
       (SELECT p.external_id FROM messages p
        WHERE p.workspace_id = m.workspace_id AND p.conversation_id = m.conversation_id AND p.channel_id = m.channel_id
          AND p.direction = 'incoming' AND p.external_id IS NOT NULL AND p.created_at <= m.created_at
        ORDER BY p.created_at DESC, p.id DESC LIMIT 1)
FROM messages m JOIN channels ch ON ch.workspace_id = m.workspace_id AND ch.id = m.channel_id
WHERE m.workspace_id = $1 AND m.id = $2 AND m.direction = 'outgoing'`
	var r messageRow
	var ch channelRow
	var to, inReplyTo *string
	dest := messageFields(&r)
	err := scanChannel(rowWith{s.Pool.QueryRow(ctx, q, ws, id), dest, []any{&to, &inReplyTo}}, &ch)
	if isNotFound(err) {
		return dispatch.Delivery{}, conversation.ErrMessageNotFound
	}
	if err != nil {
		return dispatch.Delivery{}, fmt.Errorf("load delivery: %w", err)
	}
	return dispatch.Delivery{Message: r.domain(), Channel: ch.domain(), To: deref(to), InReplyTo: deref(inReplyTo)}, nil
}

// rowWith scans before and after around the columns another scan function reads, so a row
// that joins several tables can reuse each table's scan.
type rowWith struct {
	row           pgx.Row
	before, after []any
}

func (r rowWith) Scan(dest ...any) error {
	all := make([]any, 0, len(r.before)+len(dest)+len(r.after))
	all = append(append(append(all, r.before...), dest...), r.after...)
	return r.row.Scan(all...)
}

// StartAttempt counts an attempt on a still-queued message.
func (s *Store) StartAttempt(ctx context.Context, ws, id uuid.UUID, at time.Time) (int, bool, error) {
	const q = `
UPDATE messages SET attempts = attempts + 1, last_attempt_at = ?, updated_at = ?
WHERE workspace_id = ? AND id = ? AND direction = 'outgoing' AND status = 'queued'
RETURNING attempts`
	var attempts []int
	if err := s.conn(ctx).Raw(q, at, at, ws, id).Scan(&attempts).Error; err != nil {
		return 0, false, fmt.Errorf("start attempt: %w", err)
	}
	if len(attempts) == 0 {
		return 0, false, nil
	}
	return attempts[0], true, nil
}

func changeArgs(c dispatch.Change) map[string]any {
	null := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return map[string]any{"status": string(c.Status), "pmid": null(c.ProviderMessageID),
		"code": null(c.ErrorCode), "text": null(c.ErrorMessage), "at": c.At}
}

// Advance applies a forward-only status change to one message in one UPDATE.
func (s *Store) Advance(ctx context.Context, ws, id uuid.UUID, c dispatch.Change) (bool, error) {
	const q = `
UPDATE messages m SET status = @status,
       provider_message_id = COALESCE(@pmid, m.provider_message_id),
       error_code = COALESCE(@code, m.error_code), error_message = COALESCE(@text, m.error_message),
       updated_at = @at
WHERE m.workspace_id = @ws AND m.id = @id AND m.direction = 'outgoing' AND ` + advances
	args := changeArgs(c)
	args["ws"], args["id"] = ws, id
	n, err := s.changeStatus(ctx, q, args)
	if err != nil {
		return false, fmt.Errorf("advance message status: %w", err)
	}
	return n > 0, nil
}

// changeStatus runs a status UPDATE and publishes message.status_changed for every message it
// changed, in one transaction: subscribers hear of exactly the changes that committed. publish
// goes out with COMMIT (see pgxTx), as the send path's does: each delivery takes the same
// workspace lock as the sends.
func (s *Store) changeStatus(ctx context.Context, update string, args map[string]any) (int64, error) {
	var n int64
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*pgx.Batch, func(*batchResults), error) {
		// A batch of one, so that the transaction's BEGIN goes with it (see lazyTx).
		var changed []messageRow
		b := &pgx.Batch{}
		b.Queue(update+"\nRETURNING "+messageColumns, pgx.NamedArgs(args)).Query(func(rows pgx.Rows) error {
			var err error
			changed, err = scanAll(rows, 1, messageFields)
			return err
		})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, nil, err
		}
		n = int64(len(changed))
		if n == 0 {
			return nil, nil, nil
		}
		evs := make([]pending, len(changed))
		for i, r := range changed {
			m := r.domain()
			evs[i] = pending{typ: event.MessageStatusChanged, conv: &m.ConversationID, v: m}
		}
		pub, err := s.publishStatement(changed[0].WorkspaceID, evs)
		if err != nil {
			return nil, nil, err
		}
		b = &pgx.Batch{}
		pub.queue(b)
		return b, func(r *batchResults) { r.exec(wrapf("publish events")) }, nil
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
	args := changeArgs(dispatch.Change{Status: status, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorText, At: now})
	args["ws"], args["ch"] = ws, channelID
	var q string
	switch {
	case r.ProviderMessageID != "":
		args["pmid"] = r.ProviderMessageID
		q = `
UPDATE messages m SET status = @status,
       error_code = COALESCE(@code, m.error_code), error_message = COALESCE(@text, m.error_message),
       updated_at = @at
WHERE m.workspace_id = @ws AND m.channel_id = @ch AND m.provider_message_id = @pmid
  AND m.direction = 'outgoing' AND ` + advances
	case r.Recipient != "" && !r.At.IsZero() && status != conversation.StatusFailed:
		args["rcpt"], args["upto"] = r.Recipient, r.At
		// The recipient's one conversation holds the messages; its index walks them by time.
		q = `
UPDATE messages m SET status = @status, updated_at = @at
FROM contact_identities i
JOIN conversations c ON c.workspace_id = i.workspace_id AND c.contact_id = i.contact_id
WHERE i.workspace_id = @ws AND i.channel_id = @ch AND i.identifier = @rcpt
  AND m.workspace_id = @ws AND m.conversation_id = c.id AND m.channel_id = @ch
  AND m.direction = 'outgoing' AND m.status IN ('sent', 'delivered')
  AND COALESCE(m.last_attempt_at, m.created_at) <= @upto AND ` + advances
	default:
		return 0, nil
	}
	n, err := s.changeStatus(ctx, q, args)
	if err != nil {
		return 0, fmt.Errorf("apply receipt: %w", err)
	}
	return n, nil
}

var receiptStatus = map[string]conversation.MessageStatus{
	sendprovider.StatusSent:      conversation.StatusSent,
	sendprovider.StatusDelivered: conversation.StatusDelivered,
	sendprovider.StatusRead:      conversation.StatusRead,
	sendprovider.StatusFailed:    conversation.StatusFailed,
}

// ChannelByID finds a channel by its id alone (channels_id_key), for provider webhooks.
func (s *Store) ChannelByID(ctx context.Context, id uuid.UUID) (channel.Channel, error) {
	var r channelRow
	res := s.conn(ctx).Raw(`SELECT * FROM channels WHERE id = ?`, id).Scan(&r)
	if res.Error != nil {
		return channel.Channel{}, fmt.Errorf("get channel: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return channel.Channel{}, channel.ErrNotFound
	}
	return r.domain(), nil
}

// QueueDepth counts unfinished delivery jobs by River state.
func (s *Store) QueueDepth(ctx context.Context) (map[string]int64, error) {
	const q = `
SELECT state::text, count(*) FROM river_job
WHERE kind = $1 AND state IN ('available', 'scheduled', 'retryable', 'running', 'pending')
GROUP BY state`
	rows, err := s.Pool.Query(ctx, q, dispatch.JobKind)
	if err != nil {
		return nil, fmt.Errorf("queue depth: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("queue depth: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue depth: %w", err)
	}
	return out, nil
}
