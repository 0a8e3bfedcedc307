package store

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
)

// inboxCursor is the inbox's position: the last row's (last_message_at, id), and the sort it
// belongs to.
type inboxCursor struct {
	Sort string    `json:"s"`
	At   time.Time `json:"t"`
	ID   uuid.UUID `json:"id"`
}

// Conversations is the inbox, newest (or oldest) last message first, keyset on (last_message_at,
// id). Every statement walks an index in that order (see migration 0002) or starts from known
// contacts, picks the page's conversation ids, and only then joins the contact and the
// assignee for those rows. A search runs in steps (see searchSteps) and is planned for its
// arguments on every execution (see planEach).
func (s *Store) Conversations(ctx context.Context, ws uuid.UUID, f conversation.Filter, p page.Request) ([]conversation.Conversation, string, error) {
	if f.Inbox == conversation.InboxMentions {
		return s.mentionedConversations(ctx, ws, f, p) // note.go
	}
	order := keyset[conversationRow, inboxCursor]{
		key:   func(r conversationRow) inboxCursor { return inboxCursor{Sort: f.Sort, At: r.LastMessageAt, ID: r.ID} },
		valid: func(c inboxCursor) bool { return !c.At.IsZero() && c.ID != uuid.Nil },
	}
	return list(order, p, func(after *inboxCursor, limit int) ([]conversationRow, error) {
		if after != nil && after.Sort != f.Sort {
			return nil, errkind.ErrInvalidCursor.Detailf("The cursor belongs to sort=%s, not sort=%s.", after.Sort, f.Sort)
		}
		return s.inbox(ctx, inboxQuery{ws: ws, f: f, after: after, limit: limit})
	}, conversationRow.domain)
}

// inboxQuery is one page of the inbox to read: at most limit rows after the position.
type inboxQuery struct {
	ws    uuid.UUID
	f     conversation.Filter
	after *inboxCursor
	limit int
}

// order is the inbox's ORDER BY, and the comparison that continues it after a position.
func (q inboxQuery) order() (orderBy, cmp string) {
	if q.f.Sort == conversation.SortOldest {
		return "ORDER BY v.last_message_at ASC, v.id ASC", ">"
	}
	return "ORDER BY v.last_message_at DESC, v.id DESC", "<"
}

// filters are the request's conditions on v other than q.
func (q inboxQuery) filters(args *params) string {
	f := q.f
	where := []string{"v.workspace_id = " + args.add(q.ws)}
	// Statuses are literals, not parameters, so the planner can match the partial
	// indexes even with a generic plan.
	switch f.Status {
	case string(conversation.StatusOpen):
		where = append(where, "v.status = 'open'")
	case string(conversation.StatusClosed):
		where = append(where, "v.status = 'closed'")
	}
	switch f.Inbox {
	case conversation.InboxMine:
		where = append(where, "v.assignee_id = "+args.add(f.Me))
	case conversation.InboxUnassigned:
		where = append(where, "v.assignee_id IS NULL")
	}
	if f.AssigneeID != nil {
		where = append(where, "v.assignee_id = "+args.add(*f.AssigneeID))
	}
	if f.ChannelID != nil {
		where = append(where, `EXISTS (SELECT 1 FROM contact_identities i
    WHERE i.workspace_id = v.workspace_id AND i.contact_id = v.contact_id AND i.channel_id = `+args.add(*f.ChannelID)+`)`)
	}
	if q.after != nil {
		_, cmp := q.order()
		where = append(where, "(v.last_message_at, v.id) "+cmp+" ("+args.add(q.after.At)+", "+args.add(q.after.ID)+")")
	}
	return strings.Join(where, " AND ")
}

// joinPage joins the contact and the assignee to the conversations m picked by id.
func (q inboxQuery) joinPage(m string, args *params) string {
	orderBy, _ := q.order()
	return `SELECT ` + conversationColumns + `
FROM (` + m + `) m
JOIN conversations v ON v.workspace_id = ` + args.add(q.ws) + ` AND v.id = m.id` + conversationJoins + `
` + orderBy
}

// inbox reads one page: without q the list's own walk, with q the search's steps.
func (s *Store) inbox(ctx context.Context, q inboxQuery) ([]conversationRow, error) {
	orderBy, _ := q.order()
	var found []conversationRow
	run := func(sql string, args params) (int, error) {
		var err error
		found, err = listRows[conversationRow](ctx, s, "conversations", sql, args, q.f.Q != "", q.limit)
		return len(found), err
	}
	walk := func(bound int) (int, error) {
		var args params
		where := q.filters(&args)
		if q.f.Q == "" {
			return run(conversationSelect+"\nWHERE "+where+"\n"+orderBy+"\nLIMIT "+args.add(q.limit), args)
		}
		// Only columns of the walked index (conversations_open, _closed, _recent, _assignee
		// carry the search text), so the walk reads no table row. The subquery's LIMIT keeps
		// the walk a walk (see Contacts).
		m := `SELECT v.id FROM (SELECT v.id, v.last_message_at, v.search_text, v.phone_digits FROM conversations v
      WHERE ` + where + ` ` + orderBy + ` LIMIT ` + args.add(bound) + `) v
      WHERE ` + searchCondition("v", q.f.Q, &args) + ` ` + orderBy + ` LIMIT ` + args.add(q.limit)
		return run(q.joinPage(m, &args), args)
	}
	fromIDs := func(ids []uuid.UUID) error {
		// At most SearchFirstLimit index lookups and a top-N sort, however the matches
		// spread over the conversations. (As a filter, contact_id = ANY(...), the planner
		// walks the last-message index instead.)
		var args params
		m := `SELECT v.id FROM unnest(` + args.add(ids) + `::uuid[]) AS c(id)
      JOIN conversations v ON v.workspace_id = ` + args.add(q.ws) + ` AND v.contact_id = c.id
      WHERE ` + q.filters(&args) + ` ` + orderBy + ` LIMIT ` + args.add(q.limit)
		_, err := run(q.joinPage(m, &args), args)
		return err
	}
	if err := s.searchSteps(ctx, q.ws, q.f.Q, q.limit, walk, fromIDs); err != nil {
		return nil, err
	}
	return found, nil
}
