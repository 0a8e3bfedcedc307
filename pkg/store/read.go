package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/conversation"
)

// Read state and the inbox's counts (migration 0015). A user's read state of a conversation is
// one conversation_reads row: last_read_at, and read_incoming, how many of the conversation's
// incoming messages (conversations.incoming_count) the read covered, so a row's unread count is
// a subtraction, not a count of messages. The counts are counters kept by triggers.

// readRow is a conversation with one reader's read state.
type readRow struct {
	conversationRow
	ReadAt       *time.Time
	ReadIncoming int64
}

// domain is the conversation, with the read state when it was read for a user.
func (r readRow) domain(forUser bool) conversation.Conversation {
	c := r.conversationRow.domain()
	if forUser {
		c.Read = &conversation.ReadState{LastReadAt: r.ReadAt, Unread: max(c.IncomingCount-r.ReadIncoming, 0)}
	}
	return c
}

// withReadState wraps a statement that reads conversationRows (of conversations v, ordered by
// orderBy) so each row also carries reader's read state: one primary-key lookup per row of
// the page, in the same statement. A nil reader (an API key) reads as the nil id, which no
// user has.
func withReadState(sql string, args *params, reader *uuid.UUID, orderBy string) string {
	user := uuid.Nil // no user has it
	if reader != nil {
		user = *reader
	}
	return `SELECT p.*, r.last_read_at AS read_at, coalesce(r.read_incoming, 0) AS read_incoming FROM (` + sql + `) p
LEFT JOIN conversation_reads r ON r.workspace_id = p.workspace_id AND r.conversation_id = p.id AND r.user_id = ` + args.add(user) + `
` + strings.ReplaceAll(orderBy, "v.", "p.")
}

// ConversationFor returns one conversation with reader's read state.
func (s *Store) ConversationFor(ctx context.Context, ws, id, reader uuid.UUID) (conversation.Conversation, error) {
	args := params{ws, id}
	sql := withReadState(conversationSelect+"\nWHERE v.workspace_id = $1 AND v.id = $2", &args, &reader, "")
	r, err := queryRow[readRow](ctx, s.Pool, sql, args...)
	if isNotFound(err) {
		return conversation.Conversation{}, conversation.ErrNotFound
	}
	if err != nil {
		return conversation.Conversation{}, fmt.Errorf("get conversation: %w", err)
	}
	return r.domain(true), nil
}

// readFound says what a read's statement found: the conversation, and the message it named.
type readFound struct {
	Conversation bool
	Message      bool
}

// markReadSQL upserts the reader's read state up to a message of the conversation ($4), or up
// to now ($5) and every incoming message so far when $4 is null. The count of incoming messages
// up to the message walks messages_conversation (workspace_id, conversation_id, created_at, id).
const markReadSQL = `
WITH v AS (SELECT workspace_id, id, incoming_count FROM conversations WHERE workspace_id = $1 AND id = $2),
m AS (SELECT created_at, id FROM messages WHERE workspace_id = $1 AND conversation_id = $2 AND id = $4),
target AS (
    SELECT v.workspace_id, v.id, $5::timestamptz AS read_at, v.incoming_count AS read_incoming FROM v WHERE $4::uuid IS NULL
    UNION ALL
    SELECT v.workspace_id, v.id, m.created_at, (SELECT count(*) FROM messages x
        WHERE x.workspace_id = $1 AND x.conversation_id = $2 AND x.direction = 'incoming'
          AND (x.created_at, x.id) <= (m.created_at, m.id))
    FROM v, m),
up AS (
    INSERT INTO conversation_reads AS r (workspace_id, user_id, conversation_id, last_read_at, read_incoming)
    SELECT workspace_id, $3, id, read_at, read_incoming FROM target
    ON CONFLICT (workspace_id, user_id, conversation_id) DO UPDATE
    SET last_read_at = EXCLUDED.last_read_at, read_incoming = EXCLUDED.read_incoming)
SELECT EXISTS (SELECT 1 FROM v) AS conversation, ($4::uuid IS NULL OR EXISTS (SELECT 1 FROM m)) AS message`

// markUnreadSQL moves the reader's last read to just before the latest incoming message, so
// that one message is unread (none, when there is none).
const markUnreadSQL = `
WITH v AS (SELECT workspace_id, id, incoming_count FROM conversations WHERE workspace_id = $1 AND id = $2),
up AS (
    INSERT INTO conversation_reads AS r (workspace_id, user_id, conversation_id, last_read_at, read_incoming)
    SELECT v.workspace_id, $3, v.id,
           (SELECT created_at FROM messages WHERE workspace_id = $1 AND conversation_id = $2 AND direction = 'incoming'
            ORDER BY created_at DESC, id DESC LIMIT 1) - interval '1 microsecond',
           greatest(v.incoming_count - 1, 0)
    FROM v
    ON CONFLICT (workspace_id, user_id, conversation_id) DO UPDATE
    SET last_read_at = EXCLUDED.last_read_at, read_incoming = EXCLUDED.read_incoming)
SELECT EXISTS (SELECT 1 FROM v) AS conversation, true AS message`

// MarkRead records that reader read the conversation up to the message, or up to now.
func (s *Store) MarkRead(ctx context.Context, ws, id, reader uuid.UUID, message *uuid.UUID, now time.Time) (conversation.Conversation, error) {
	return s.markRead(ctx, ws, id, reader, markReadSQL, ws, id, reader, message, now)
}

// MarkUnread marks the latest incoming message unread for reader.
func (s *Store) MarkUnread(ctx context.Context, ws, id, reader uuid.UUID) (conversation.Conversation, error) {
	return s.markRead(ctx, ws, id, reader, markUnreadSQL, ws, id, reader)
}

func (s *Store) markRead(ctx context.Context, ws, id, reader uuid.UUID, sql string, args ...any) (conversation.Conversation, error) {
	// The upsert (a data-modifying WITH) runs whether or not the answer reads it.
	f, err := queryRow[readFound](ctx, s.Pool, sql, args...)
	switch {
	case err != nil:
		return conversation.Conversation{}, fmt.Errorf("mark read: %w", err)
	case !f.Conversation:
		return conversation.Conversation{}, conversation.ErrNotFound
	case !f.Message:
		return conversation.Conversation{}, conversation.ErrReadMessage
	}
	return s.ConversationFor(ctx, ws, id, reader)
}

// countsRow is the counters' sums: the workspace's slots, and the user's row (NULL for an API
// key, or a user with no row yet).
type countsRow struct {
	OpenAll        int64
	OpenUnassigned int64
	SnoozedAll     int64
	OpenMine       *int64
	SnoozedMine    *int64
	MentionsUnread *int64
}

// countsSQL sums the workspace's counter slots (16 rows at most, by primary key) and reads the
// user's row.
const countsSQL = `
SELECT coalesce(sum(c.open_all), 0)::bigint AS open_all, coalesce(sum(c.open_unassigned), 0)::bigint AS open_unassigned,
       coalesce(sum(c.snoozed_all), 0)::bigint AS snoozed_all, u.open_mine, u.snoozed_mine, u.mentions_unread
FROM (SELECT 1) one
LEFT JOIN conversation_counts c ON c.workspace_id = $1
LEFT JOIN user_inbox_counts u ON u.workspace_id = $1 AND u.user_id = $2
GROUP BY u.open_mine, u.snoozed_mine, u.mentions_unread`

// Counts reads the inbox's tab counts; user is nil for an API key.
func (s *Store) Counts(ctx context.Context, ws uuid.UUID, user *uuid.UUID) (conversation.Counts, error) {
	id := uuid.Nil // an API key: no user has the nil id
	if user != nil {
		id = *user
	}
	r, err := queryRow[countsRow](ctx, s.Pool, countsSQL, ws, id)
	if err != nil {
		return conversation.Counts{}, fmt.Errorf("conversation counts: %w", err)
	}
	out := conversation.Counts{OpenAll: r.OpenAll, OpenUnassigned: r.OpenUnassigned, SnoozedAll: r.SnoozedAll}
	if user != nil {
		zero := func(v *int64) *int64 {
			if v == nil {
				v = new(int64)
			}
			return v
		}
		out.OpenMine, out.SnoozedMine, out.MentionsUnread = zero(r.OpenMine), zero(r.SnoozedMine), zero(r.MentionsUnread)
	}
	return out, nil
}
