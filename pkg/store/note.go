package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/resource"
)

// Notes and mentions (migration 0014): a note is a row of messages (type note), its mentions
// are note_mentions rows, and conversation_mentions keeps each user's latest mention per
// conversation, which inbox=mentions walks. Every note change locks the conversation's row
// first (FOR NO KEY UPDATE: it conflicts with the locks sends, ingestion and lifecycle
// changes take, not with the key share of a foreign key check), so two changes in one
// conversation never recompute a user's latest mention from different states.

// The statements of a note change.
const (
	lockNoteConversationSQL = `
SELECT id, contact_id FROM conversations WHERE workspace_id = $1 AND id = $2
FOR NO KEY UPDATE`
	// lockConversationOfNoteSQL locks the conversation of a note, before the note itself.
	lockConversationOfNoteSQL = `
SELECT id, contact_id FROM conversations
WHERE workspace_id = $1 AND id = (SELECT conversation_id FROM messages WHERE workspace_id = $1 AND id = $2 AND type = 'note')
FOR NO KEY UPDATE`
	lockNoteSQL = `SELECT ` + messageColumns + `
FROM messages m WHERE m.workspace_id = $1 AND m.id = $2 AND m.type = 'note'
FOR UPDATE`
	// knownUsersSQL reads which of the ids are the workspace's users, and keeps them so (a
	// deletion waits for the note's commit) until the mentions are written.
	knownUsersSQL = `SELECT id FROM users WHERE workspace_id = $1 AND id = ANY($2::uuid[]) FOR KEY SHARE`
	updateNoteSQL = `UPDATE messages SET text = $1, mentions = $2, updated_at = $3 WHERE workspace_id = $4 AND id = $5`
	deleteNoteSQL = `DELETE FROM messages WHERE workspace_id = $1 AND id = $2`
	// insertMentionsSQL records the mentions of one note, made at one time.
	insertMentionsSQL = `
INSERT INTO note_mentions (workspace_id, message_id, user_id, conversation_id, mentioned_at)
SELECT $1, $2, u.id, $3, $4 FROM unnest($5::uuid[]) AS u(id)`
	deleteMentionsSQL = `DELETE FROM note_mentions WHERE workspace_id = $1 AND message_id = $2 AND user_id = ANY($3::uuid[])`
	// latestMentionsSQL sets, for each of the users in one conversation, conversation_mentions
	// to their latest mention in note_mentions, or removes the row when none is left. It runs
	// after the note's own writes, in the same batch, so it sees them.
	latestMentionsSQL = `
WITH latest AS (
    SELECT u.id AS user_id,
           (SELECT max(n.mentioned_at) FROM note_mentions n
            WHERE n.workspace_id = $1 AND n.user_id = u.id AND n.conversation_id = $2) AS at
    FROM unnest($3::uuid[]) AS u(id)),
gone AS (
    DELETE FROM conversation_mentions cm USING latest l
    WHERE cm.workspace_id = $1 AND cm.user_id = l.user_id AND cm.conversation_id = $2 AND l.at IS NULL)
INSERT INTO conversation_mentions (workspace_id, user_id, conversation_id, last_mention_at)
SELECT $1, l.user_id, $2, l.at FROM latest l WHERE l.at IS NOT NULL
ON CONFLICT (workspace_id, user_id, conversation_id) DO UPDATE SET last_mention_at = EXCLUDED.last_mention_at
    WHERE conversation_mentions.last_mention_at IS DISTINCT FROM EXCLUDED.last_mention_at`
)

// noteLock is what lockNote reads in one round trip.
type noteLock struct {
	conv struct {
		ID        uuid.UUID
		ContactID uuid.UUID
	}
	note                 messageRow
	users                []struct{ ID uuid.UUID }
	foundConv, foundNote bool
}

// WriteNote runs one note change in one transaction: the Idempotency-Key's claim (a creation
// with one), then one batch that locks the conversation (and the note) and reads which named
// users exist, then Decide, then one batch with the writes, the idempotent answer, the events
// and COMMIT: two round trips, three with a key.
func (s *Store) WriteNote(ctx context.Context, w conversation.NoteWrite) (conversation.NoteChange, *conversation.Replay, error) {
	var out conversation.NoteChange
	var replay *conversation.Replay
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		if w.Idempotency != nil {
			r, err := claimIdempotency(ctx, tx, w.WorkspaceID, *w.Idempotency, s.Now())
			if err != nil || r != nil {
				replay = r
				return nil, err
			}
		}
		st, err := lockNote(ctx, tx, w)
		if err != nil {
			return nil, err
		}
		out, err = w.Decide(st)
		if err != nil || out.Event == "" {
			return nil, err
		}
		return s.noteWrites(w, &out)
	})
	if err != nil {
		return conversation.NoteChange{}, nil, err
	}
	return out, replay, nil
}

// lockNote locks the conversation a note is created in, or the conversation of the note an
// edit or delete changes and then the note, and reads which of w.Users are users.
func lockNote(ctx context.Context, tx pgx.Tx, w conversation.NoteWrite) (conversation.NoteState, error) {
	ws := w.WorkspaceID
	var l noteLock
	b := &batch{}
	if w.NoteID == uuid.Nil {
		queueRow(b, "lock conversation", &l.conv, &l.foundConv, statement{lockNoteConversationSQL, []any{ws, w.ConversationID}})
	} else {
		queueRow(b, "lock conversation", &l.conv, &l.foundConv, statement{lockConversationOfNoteSQL, []any{ws, w.NoteID}})
		queueRow(b, "lock note", &l.note, &l.foundNote, statement{lockNoteSQL, []any{ws, w.NoteID}})
	}
	if len(w.Users) > 0 {
		queueRows(b, "read mentioned users", &l.users, statement{knownUsersSQL, []any{ws, w.Users}})
	}
	if err := b.send(ctx, tx); err != nil {
		return conversation.NoteState{}, err
	}
	switch {
	case w.NoteID == uuid.Nil && !l.foundConv:
		return conversation.NoteState{}, conversation.ErrNotFound
	case w.NoteID != uuid.Nil && (!l.foundConv || !l.foundNote):
		return conversation.NoteState{}, conversation.ErrNoteNotFound
	}
	st := conversation.NoteState{ConversationID: l.conv.ID, ContactID: l.conv.ContactID, Users: make([]uuid.UUID, len(l.users))}
	for i, u := range l.users {
		st.Users[i] = u.ID
	}
	if l.foundNote {
		st.Note = l.note.domain()
	}
	return st, nil
}

// noteWrites is the batch that commits a note change: the note, its mentions, the latest
// mention of each user the change touched, the idempotent answer and the events.
func (s *Store) noteWrites(w conversation.NoteWrite, out *conversation.NoteChange) (*batch, error) {
	ws, n := w.WorkspaceID, out.Note
	if n.Mentions == nil {
		n.Mentions = []uuid.UUID{} // a note's mentions are never NULL (messages_note_check)
	}
	b := &batch{}
	switch out.Event {
	case conversation.NoteCreated:
		insert, err := messageInsert(n)
		if err != nil {
			return nil, err
		}
		b.exec("insert note", insert)
	case conversation.NoteUpdated:
		b.exec("update note", statement{updateNoteSQL, []any{n.Text, n.Mentions, n.UpdatedAt, ws, n.ID}})
	case conversation.NoteDeleted:
		// Its note_mentions go with it (ON DELETE CASCADE).
		b.exec("delete note", statement{deleteNoteSQL, []any{ws, n.ID}})
	default:
		return nil, fmt.Errorf("write note: unknown change %q", out.Event)
	}
	touched := slices.Clone(out.Removed)
	if len(out.Removed) > 0 && out.Event == conversation.NoteUpdated {
		b.exec("delete mentions", statement{deleteMentionsSQL, []any{ws, n.ID, out.Removed}})
	}
	if len(out.Added) > 0 {
		added := make([]uuid.UUID, len(out.Added))
		for i, m := range out.Added {
			added[i] = m.UserID
		}
		b.exec("insert mentions", statement{insertMentionsSQL, []any{ws, n.ID, n.ConversationID, out.Added[0].At, added}})
		touched = append(touched, added...)
	}
	if len(touched) > 0 {
		// In id order: each user's counts row is locked in the same order by every writer, so
		// two notes mentioning the same users cannot deadlock.
		slices.SortFunc(touched, func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
		b.exec("update latest mentions", statement{latestMentionsSQL, []any{ws, n.ConversationID, touched}})
	}
	if idem := w.Idempotency; idem != nil {
		body, err := json.Marshal(resource.ToMessage(n))
		if err != nil {
			return nil, fmt.Errorf("render idempotent answer: %w", err)
		}
		out.Body = body
		b.exec("save idempotent answer", statement{saveAnswerSQL, []any{http.StatusCreated, body, ws, idem.Key}})
	}
	conv := n.ConversationID
	evs := []pending{{typ: "note." + string(out.Event), conv: &conv, v: n}}
	for _, m := range out.Added {
		evs = append(evs, pending{typ: event.MentionCreated, conv: &conv, v: m})
	}
	return b, s.queuePublish(b, ws, evs)
}

// mentionRow is a row of inbox=mentions: the conversation and the caller's latest mention in it.
type mentionRow struct {
	readRow
	LastMentionAt time.Time
}

// mentionedConversations is inbox=mentions: the conversations whose notes mention f.Me,
// latest mention first (sort=oldest: earliest), keyset on (last_mention_at, conversation id),
// with every other filter of the inbox and q. Its cursor's sort is "mentions:" and the sort,
// so a cursor of the other inboxes is refused here and this one there.
func (s *Store) mentionedConversations(ctx context.Context, ws uuid.UUID, f conversation.Filter, p page.Request) ([]conversation.Conversation, string, error) {
	sort := conversation.InboxMentions + ":" + f.Sort
	order := keyset[mentionRow, inboxCursor]{
		key:   func(r mentionRow) inboxCursor { return inboxCursor{Sort: sort, At: r.LastMentionAt, ID: r.ID} },
		valid: func(c inboxCursor) bool { return !c.At.IsZero() && c.ID != uuid.Nil },
	}
	return list(order, p, func(after *inboxCursor, limit int) ([]mentionRow, error) {
		if after != nil && after.Sort != sort {
			return nil, errkind.ErrInvalidCursor.Detailf("The cursor belongs to another inbox or sort than inbox=mentions with sort=%s.", f.Sort)
		}
		return s.mentionInbox(ctx, inboxQuery{ws: ws, f: f, limit: limit}, after)
	}, func(r mentionRow) conversation.Conversation { return r.readRow.domain() })
}

// mentionInbox reads one page of inbox=mentions. Without q it walks
// conversation_mentions_recent from the position, each entry's conversation checked against
// the filters, and stops at the page; with q it runs the inbox's search steps (searchSteps):
// that walk keeping the matches, or the matching contacts' conversations with a mention.
// q.after is unused: the position is after, on the mention's time.
func (s *Store) mentionInbox(ctx context.Context, q inboxQuery, after *inboxCursor) ([]mentionRow, error) {
	dir, cmp := "DESC", "<"
	if q.f.Sort == conversation.SortOldest {
		dir, cmp = "ASC", ">"
	}
	orderBy := func(at, id string) string { return "ORDER BY " + at + " " + dir + ", " + id + " " + dir }
	where := func(args *params) string {
		w := "cm.workspace_id = " + args.add(q.ws) + " AND cm.user_id = " + args.add(q.f.Me) + " AND " + q.filters(args)
		if after != nil {
			w += " AND (cm.last_mention_at, cm.conversation_id) " + cmp + " (" + args.add(after.At) + ", " + args.add(after.ID) + ")"
		}
		return w
	}
	const mentioned = `conversation_mentions cm
JOIN conversations v ON v.workspace_id = cm.workspace_id AND v.id = cm.conversation_id`
	// joinPage joins the rest of the row to the conversations m picked.
	joinPage := func(m string, args *params) string {
		return `SELECT ` + conversationColumns + `, m.last_mention_at
FROM (` + m + `) m
JOIN conversations v ON v.workspace_id = ` + args.add(q.ws) + ` AND v.id = m.id` + conversationJoins + `
` + orderBy("m.last_mention_at", "m.id")
	}
	var found []mentionRow
	run := func(sql string, args params) (int, error) {
		var err error
		found, err = listRows[mentionRow](ctx, s, "mentioned conversations", sql, args, q.planEach(), q.limit)
		return len(found), err
	}
	walk := func(bound int) (int, error) {
		var args params
		if q.f.Q == "" {
			return run(`SELECT `+conversationColumns+`, cm.last_mention_at
FROM `+mentioned+conversationJoins+`
WHERE `+where(&args)+`
`+orderBy("cm.last_mention_at", "cm.conversation_id")+`
LIMIT `+pageLimit(q.limit), args)
		}
		m := `SELECT m.id, m.last_mention_at FROM (
      SELECT cm.conversation_id AS id, cm.last_mention_at, v.search_text, v.phone_digits FROM ` + mentioned + `
      WHERE ` + where(&args) + ` ` + orderBy("cm.last_mention_at", "cm.conversation_id") + ` LIMIT ` + args.add(bound) + `) m
      WHERE ` + searchCondition("m", q.f.Q, &args) + ` ` + orderBy("m.last_mention_at", "m.id") + ` LIMIT ` + args.add(q.limit)
		return run(joinPage(m, &args), args)
	}
	fromIDs := func(ids []uuid.UUID) error {
		var args params
		m := `SELECT cm.conversation_id AS id, cm.last_mention_at FROM unnest(` + args.add(ids) + `::uuid[]) AS c(id)
      JOIN conversations v ON v.workspace_id = ` + args.add(q.ws) + ` AND v.contact_id = c.id
      JOIN conversation_mentions cm ON cm.workspace_id = v.workspace_id AND cm.conversation_id = v.id
      WHERE ` + where(&args) + ` ` + orderBy("cm.last_mention_at", "cm.conversation_id") + ` LIMIT ` + args.add(q.limit)
		_, err := run(joinPage(m, &args), args)
		return err
	}
	if err := s.searchSteps(ctx, q.ws, q.f.Q, q.limit, walk, nil, fromIDs); err != nil {
		return nil, err
	}
	return found, s.pageExtras(ctx, q.ws, q.f.Reader, len(found), func(i int) *readRow { return &found[i].readRow })
}

// noteMentionRow is a note with one of its mentions (none: NULL user and time).
type noteMentionRow struct {
	NoteID         uuid.UUID
	ConversationID uuid.UUID
	UserID         *uuid.UUID
	MentionedAt    *time.Time
}

// NoteMentions reads a note's mentions in the order the note names them, in one query.
func (s *Store) NoteMentions(ctx context.Context, ws, id uuid.UUID) ([]conversation.Mention, error) {
	const q = `
SELECT m.id AS note_id, m.conversation_id, n.user_id, n.mentioned_at
FROM messages m
LEFT JOIN note_mentions n ON n.workspace_id = m.workspace_id AND n.message_id = m.id
WHERE m.workspace_id = $1 AND m.id = $2 AND m.type = 'note'
ORDER BY array_position(m.mentions, n.user_id)`
	rows, err := queryRows[noteMentionRow](ctx, s.Pool, q, ws, id)
	if err != nil {
		return nil, fmt.Errorf("read note mentions: %w", err)
	}
	if len(rows) == 0 {
		return nil, conversation.ErrNoteNotFound
	}
	out := make([]conversation.Mention, 0, len(rows))
	for _, r := range rows {
		if r.UserID != nil {
			out = append(out, conversation.Mention{WorkspaceID: ws, UserID: *r.UserID, ConversationID: r.ConversationID,
				NoteID: r.NoteID, At: *r.MentionedAt})
		}
	}
	return out, nil
}
