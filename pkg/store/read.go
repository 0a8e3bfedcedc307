package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/conversation"
)

// Read state and the inbox's counts (migration 0015). A user's read state of a conversation is
// one conversation_reads row: last_read_at, and read_incoming, how many of the conversation's
// incoming messages (conversations.incoming_count) the read covered, so a row's unread count is
// a subtraction, not a count of messages. The counts are counters kept by triggers.

// readState is one reader's read state of a conversation.
type readState struct {
	ReadAt       *time.Time
	ReadIncoming int64
}

// add puts the read state on c.
func (r readState) add(c *conversation.Conversation) {
	c.Read = &conversation.ReadState{LastReadAt: r.ReadAt, Unread: max(c.IncomingCount-r.ReadIncoming, 0)}
}

// readRow is a list's conversation, with what pageExtras reads for the page after it: its
// labels, and the reader's read state.
type readRow struct {
	conversationFields
	Labels []conversation.Label `db:"-"`
	Read   *readState           `db:"-"`
}

// domain is the conversation, with the read state when it was read for a user.
func (r readRow) domain() conversation.Conversation {
	c := r.conversationFields.domain()
	if r.Labels != nil {
		c.Labels = r.Labels
	}
	if r.Read != nil {
		r.Read.add(&c)
	}
	return c
}

// The page's extras (pageExtras), read by the page's conversation ids ($2) in one batch.
const (
	// pageReadsSQL reads the reader's ($3) read state of the page's conversations by
	// conversation_reads' key. A conversation with no row has read nothing.
	pageReadsSQL = `
SELECT conversation_id, last_read_at AS read_at, read_incoming
FROM conversation_reads WHERE workspace_id = $1 AND user_id = $3 AND conversation_id = ANY($2)`
	// pageLabelsSQL reads the labels of the page's conversations, in conversationLabels'
	// order, by conversation_labels' key and labels'.
	pageLabelsSQL = `
SELECT cl.conversation_id, l.id, l.name, l.color
FROM conversation_labels cl JOIN labels l ON l.workspace_id = cl.workspace_id AND l.id = cl.label_id
WHERE cl.workspace_id = $1 AND cl.conversation_id = ANY($2)
ORDER BY lower(l.name) COLLATE "C"`
)

// pageReadRow is the reader's read state of one of a page's conversations.
type pageReadRow struct {
	ConversationID uuid.UUID
	readState
}

// pageLabelRow is a label on one of a page's conversations.
type pageLabelRow struct {
	ConversationID uuid.UUID
	ID             uuid.UUID
	Name           string
	Color          string
}

// pageExtras reads, for a list's page of n rows (row(i)), their labels and, for a user
// (reader not nil), the user's read state, in one round trip after the page's own statement,
// and puts them on the rows; no rows, no round trip. They are read a moment after the page, as
// the next request would read them.
//
// In the page's statement (the labels as a subquery per row, the read state as a wrap of the
// statement or a join in it) they doubled what the page cost PostgreSQL, in planning and in
// execution: the page was planned on every execution then (as the searches and the filters
// in planEach still are), and the subquery ran a hash join over the workspace's labels for
// every row. These two have no LIMIT, keep their plans for the connection, and probe the keys
// of conversation_reads and conversation_labels once per conversation.
func (s *Store) pageExtras(ctx context.Context, ws uuid.UUID, reader *uuid.UUID, n int, row func(i int) *readRow) error {
	if n == 0 {
		return nil
	}
	ids := make([]uuid.UUID, n)
	at := make(map[uuid.UUID]int, n)
	for i := range n {
		ids[i] = row(i).ID
		at[ids[i]] = i
	}
	var reads []pageReadRow
	var labels []pageLabelRow
	b := &batch{}
	if reader != nil {
		queueRows(b, "read read state", &reads, statement{pageReadsSQL, []any{ws, ids, *reader}})
	}
	queueRows(b, "read labels", &labels, statement{pageLabelsSQL, []any{ws, ids}})
	if err := s.sendReads(ctx, b); err != nil {
		return err
	}
	if reader != nil {
		none := make([]readState, n) // a user reads what they have no row for as all unread
		for i := range n {
			row(i).Read = &none[i]
		}
	}
	for _, r := range reads {
		row(at[r.ConversationID]).Read = &r.readState
	}
	for _, l := range labels {
		r := row(at[l.ConversationID])
		r.Labels = append(r.Labels, conversation.Label{ID: l.ID, Name: l.Name, Color: l.Color})
	}
	return nil
}

// conversationForSQL reads one conversation with its labels and the read state of the user $3.
const conversationForSQL = `
SELECT ` + conversationColumns + `,
       ` + conversationLabels + `,
       r.last_read_at AS read_at, coalesce(r.read_incoming, 0) AS read_incoming
FROM conversations v` + conversationJoins + `
LEFT JOIN conversation_reads r ON r.workspace_id = v.workspace_id AND r.user_id = $3 AND r.conversation_id = v.id
WHERE v.workspace_id = $1 AND v.id = $2`

// ConversationFor returns one conversation with reader's read state.
func (s *Store) ConversationFor(ctx context.Context, ws, id, reader uuid.UUID) (conversation.Conversation, error) {
	r, err := queryRow[struct {
		conversationRow
		readState
	}](ctx, s.Pool, conversationForSQL, ws, id, reader)
	if isNotFound(err) {
		return conversation.Conversation{}, conversation.ErrNotFound
	}
	if err != nil {
		return conversation.Conversation{}, fmt.Errorf("get conversation: %w", err)
	}
	c := r.conversationRow.domain()
	r.add(&c)
	return c, nil
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
