package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
)

// conversationRow is a conversation with what the inbox embeds: the contact summary and the
// assignee's name and email (the last message and closing note live on the row itself).
type conversationRow struct {
	WorkspaceID          uuid.UUID
	ID                   uuid.UUID
	ContactID            uuid.UUID
	Status               string
	AssigneeID           *uuid.UUID
	LastMessageAt        time.Time
	LastMessageID        *uuid.UUID
	LastMessageChannelID *uuid.UUID
	LastMessageDirection *string
	LastMessageType      *string
	LastMessageText      *string
	ClosedAt             *time.Time
	ClosingCategory      *string
	ClosingSummary       *string
	ClosingAt            *time.Time
	ClosingActorKind     *string
	ClosingActorID       *uuid.UUID
	CreatedAt            time.Time
	UpdatedAt            time.Time
	ContactFirstName     string
	ContactLastName      string
	ContactEmail         *string
	ContactPhone         *string
	AssigneeName         *string
	AssigneeEmail        *string
}

func actorOf(kind string, id *uuid.UUID) conversation.Actor {
	a := conversation.Actor{Kind: conversation.ActorKind(kind)}
	if id != nil {
		a.ID = *id
	}
	return a
}

func actorID(a conversation.Actor) *uuid.UUID {
	if a.ID == uuid.Nil {
		return nil
	}
	id := a.ID
	return &id
}

func (r conversationRow) domain() conversation.Conversation {
	c := conversation.Conversation{WorkspaceID: r.WorkspaceID, ID: r.ID, Status: conversation.Status(r.Status),
		Contact: conversation.ContactSummary{ID: r.ContactID, FirstName: r.ContactFirstName, LastName: r.ContactLastName,
			Email: r.ContactEmail, Phone: r.ContactPhone},
		AssigneeID: r.AssigneeID, LastMessageAt: r.LastMessageAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ClosedAt: r.ClosedAt}
	if r.AssigneeID != nil && r.AssigneeName != nil {
		c.Assignee = &conversation.Assignee{ID: *r.AssigneeID, Name: *r.AssigneeName, Email: deref(r.AssigneeEmail)}
	}
	if r.LastMessageID != nil {
		p := conversation.Preview{ID: *r.LastMessageID, Direction: conversation.Direction(deref(r.LastMessageDirection)),
			Type: conversation.MessageType(deref(r.LastMessageType)), Text: deref(r.LastMessageText), At: r.LastMessageAt}
		if r.LastMessageChannelID != nil {
			p.ChannelID = *r.LastMessageChannelID
		}
		c.LastMessage = &p
	}
	if r.ClosingAt != nil {
		c.ClosingNote = &conversation.ClosingNote{Category: r.ClosingCategory, Summary: r.ClosingSummary,
			ClosedAt: *r.ClosingAt, ClosedBy: actorOf(deref(r.ClosingActorKind), r.ClosingActorID)}
	}
	return c
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

const conversationColumns = `
SELECT ` + conversationColumnList

// conversationColumnList are conversationColumns without the SELECT.
const conversationColumnList = `v.workspace_id, v.id, v.contact_id, v.status, v.assignee_id, v.last_message_at, v.last_message_id,
       v.last_message_channel_id, v.last_message_direction, v.last_message_type, v.last_message_text,
       v.closed_at, v.closing_category, v.closing_summary, v.closing_at, v.closing_actor_kind, v.closing_actor_id,
       v.created_at, v.updated_at,
       c.first_name AS contact_first_name, c.last_name AS contact_last_name, c.email AS contact_email,
       c.phone AS contact_phone, u.name AS assignee_name, u.email AS assignee_email`

// conversationJoins embeds the contact summary and the assignee.
const conversationJoins = `
JOIN contacts c ON c.workspace_id = v.workspace_id AND c.id = v.contact_id
LEFT JOIN users u ON u.workspace_id = v.workspace_id AND u.id = v.assignee_id`

const conversationSelect = conversationColumns + `
FROM conversations v` + conversationJoins

// conversationWhere reads one conversation; lock takes the conversation row (not the contact's
// or the user's) FOR UPDATE.
func conversationWhere(db *gorm.DB, cond string, lock bool, args ...any) (conversation.Conversation, error) {
	q := conversationSelect + "\nWHERE " + cond
	if lock {
		q += "\nFOR UPDATE OF v"
	}
	var r conversationRow
	res := db.Raw(q, args...).Scan(&r)
	if res.Error != nil {
		return conversation.Conversation{}, fmt.Errorf("get conversation: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return conversation.Conversation{}, conversation.ErrNotFound
	}
	return r.domain(), nil
}

// Conversation returns one conversation with its contact summary and assignee.
func (s *Store) Conversation(ctx context.Context, ws, id uuid.UUID) (conversation.Conversation, error) {
	const q = conversationSelect + `
WHERE v.workspace_id = $1 AND v.id = $2`
	var r conversationRow
	err := s.Pool.QueryRow(ctx, q, ws, id).Scan(conversationFields(&r)...)
	if isNotFound(err) {
		return conversation.Conversation{}, conversation.ErrNotFound
	}
	if err != nil {
		return conversation.Conversation{}, fmt.Errorf("get conversation: %w", err)
	}
	return r.domain(), nil
}

// scanConversation reads one row of conversationColumns.
func scanConversation(row pgx.Row, r *conversationRow) error {
	return row.Scan(conversationFields(r)...)
}

// conversationFields are the scan destinations of a row of conversationColumns.
func conversationFields(r *conversationRow) []any {
	return []any{&r.WorkspaceID, &r.ID, &r.ContactID, &r.Status, &r.AssigneeID, &r.LastMessageAt, &r.LastMessageID,
		&r.LastMessageChannelID, &r.LastMessageDirection, &r.LastMessageType, &r.LastMessageText,
		&r.ClosedAt, &r.ClosingCategory, &r.ClosingSummary, &r.ClosingAt, &r.ClosingActorKind, &r.ClosingActorID,
		&r.CreatedAt, &r.UpdatedAt,
		&r.ContactFirstName, &r.ContactLastName, &r.ContactEmail, &r.ContactPhone, &r.AssigneeName, &r.AssigneeEmail}
}

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
	dir, cmp := "DESC", "<"
	if f.Sort == conversation.SortOldest {
		dir, cmp = "ASC", ">"
	}
	var cur *inboxCursor
	if p.Cursor != "" {
		cur = new(inboxCursor)
		if err := page.Decode(p.Cursor, cur); err != nil {
			return nil, "", err
		}
		if cur.At.IsZero() || cur.ID == uuid.Nil {
			return nil, "", errkind.ErrInvalidCursor
		}
		if cur.Sort != f.Sort {
			return nil, "", errkind.ErrInvalidCursor.Detailf("The cursor belongs to sort=%s, not sort=%s.", cur.Sort, f.Sort)
		}
	}
	order := "ORDER BY v.last_message_at " + dir + ", v.id " + dir
	// filters are the request's conditions on v other than q.
	filters := func(args *params) []string {
		where := []string{"v.workspace_id = " + args.add(ws)}
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
		if cur != nil {
			where = append(where, "(v.last_message_at, v.id) "+cmp+" ("+args.add(cur.At)+", "+args.add(cur.ID)+")")
		}
		return where
	}
	var found []conversationRow
	// joinPage joins the contact and the assignee to the conversations a query picked by id.
	joinPage := func(m string, args *params) string {
		return conversationColumns + `
FROM (` + m + `) m
JOIN conversations v ON v.workspace_id = ` + args.add(ws) + ` AND v.id = m.id` + conversationJoins + `
` + order
	}
	run := func(q string, args params) (int, error) {
		return listRows(ctx, s, "conversations", q, args, f.Q != "", p.Limit+1, conversationFields, &found)
	}
	walk := func(bound int) (int, error) {
		var args params
		where := filters(&args)
		if f.Q != "" {
			// Only columns of the walked index (conversations_open, _closed, _recent,
			// _assignee carry the search text), so the walk reads no table row. The
			// subquery's LIMIT keeps the walk a walk (see Contacts).
			m := `SELECT v.id FROM (SELECT v.id, v.last_message_at, v.search_text, v.phone_digits FROM conversations v
      WHERE ` + strings.Join(where, " AND ") + ` ` + order + ` LIMIT ` + args.add(bound) + `) v
      WHERE ` + searchCondition("v", f.Q, &args) + ` ` + order + ` LIMIT ` + args.add(p.Limit+1)
			return run(joinPage(m, &args), args)
		}
		return run(conversationSelect+"\nWHERE "+strings.Join(where, " AND ")+"\n"+order+"\nLIMIT "+args.add(p.Limit+1), args)
	}
	fromIDs := func(ids []uuid.UUID) error {
		// At most SearchFirstLimit index lookups and a top-N sort, however the matches
		// spread over the conversations. (As a filter, contact_id = ANY(...), the planner
		// walks the last-message index instead.)
		var args params
		m := `SELECT v.id FROM unnest(` + args.add(ids) + `::uuid[]) AS c(id)
      JOIN conversations v ON v.workspace_id = ` + args.add(ws) + ` AND v.contact_id = c.id
      WHERE ` + strings.Join(filters(&args), " AND ") + ` ` + order + ` LIMIT ` + args.add(p.Limit+1)
		_, err := run(joinPage(m, &args), args)
		return err
	}
	if err := s.searchSteps(ctx, ws, f.Q, p.Limit+1, walk, fromIDs); err != nil {
		return nil, "", err
	}
	next := ""
	if len(found) > p.Limit {
		found = found[:p.Limit]
		last := found[len(found)-1]
		next = page.Encode(inboxCursor{Sort: f.Sort, At: last.LastMessageAt, ID: last.ID})
	}
	out := make([]conversation.Conversation, len(found))
	for i, r := range found {
		out[i] = r.domain()
	}
	return out, next, nil
}

// ExplainConversations returns EXPLAIN (ANALYZE, BUFFERS) of each statement Conversations runs
// for this request, in order.
func (s *Store) ExplainConversations(ctx context.Context, ws uuid.UUID, f conversation.Filter, p page.Request) ([]string, error) {
	ctx, plans := withPlans(ctx)
	if _, _, err := s.Conversations(ctx, ws, f, p); err != nil {
		return nil, err
	}
	return *plans, nil
}

type eventRow struct {
	WorkspaceID     uuid.UUID `gorm:"primaryKey"`
	ID              uuid.UUID `gorm:"primaryKey"`
	ConversationID  uuid.UUID
	Type            string
	ActorKind       string
	ActorID         *uuid.UUID
	AssigneeID      *uuid.UUID
	ClosingCategory *string
	ClosingSummary  *string
	At              time.Time
}

func (eventRow) TableName() string { return "conversation_events" }

func (r eventRow) domain() conversation.Event {
	return conversation.Event{WorkspaceID: r.WorkspaceID, ID: r.ID, ConversationID: r.ConversationID,
		Type: conversation.EventType(r.Type), Actor: actorOf(r.ActorKind, r.ActorID), AssigneeID: r.AssigneeID,
		Category: r.ClosingCategory, Summary: r.ClosingSummary, At: r.At}
}

func insertEvents(tx *gorm.DB, events []conversation.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := execSQL(tx, eventsInsert(events)); err != nil {
		return fmt.Errorf("insert conversation events: %w", err)
	}
	return nil
}

// saveConversation writes a conversation's state, last message and closing note.
func saveConversation(tx *gorm.DB, c conversation.Conversation) error {
	if err := execSQL(tx, conversationUpdate(c)); err != nil {
		return conversationSaveError(err)
	}
	return nil
}

// ChangeConversation locks the conversation row, lets change decide, and saves the result with
// its events in the same transaction: two concurrent changes serialise on the row lock, so
// the second sees the first's outcome (and, say, answers conversation_open).
func (s *Store) ChangeConversation(ctx context.Context, ws, id uuid.UUID, change func(*conversation.Conversation) ([]conversation.Event, error)) (conversation.Conversation, error) {
	var out conversation.Conversation
	err := s.tx(ctx, func(tx *gorm.DB) error {
		c, err := conversationWhere(tx, "v.workspace_id = ? AND v.id = ?", true, ws, id)
		if err != nil {
			return err
		}
		events, err := change(&c)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			out = c
			return nil
		}
		if err := saveConversation(tx, c); err != nil {
			return err
		}
		if err := insertEvents(tx, events); err != nil {
			return err
		}
		// Read back for the assignee's name and email.
		if out, err = conversationWhere(tx, "v.workspace_id = ? AND v.id = ?", false, ws, id); err != nil {
			return err
		}
		return s.publish(tx, ws, conversationEvents(events, out))
	})
	return out, err
}

type conversationCursor struct {
	At time.Time `json:"t"`
	ID uuid.UUID `json:"id"`
}

// conversationExists reports conversation.ErrNotFound for an unknown id.
func (s *Store) conversationExists(ctx context.Context, ws, id uuid.UUID) error {
	var ok bool
	const q = `SELECT EXISTS (SELECT 1 FROM conversations WHERE workspace_id = $1 AND id = $2)`
	if err := s.Pool.QueryRow(ctx, q, ws, id).Scan(&ok); err != nil {
		return fmt.Errorf("check conversation: %w", err)
	}
	if !ok {
		return conversation.ErrNotFound
	}
	return nil
}

// messageColumns are a message's columns, of the messages table aliased m, in messageFields'
// order: every read of a message (one, a thread, an ingested or changed one, a delivery) reads
// these, so no read can leave a column out.
const messageColumns = `m.workspace_id, m.id, m.conversation_id, m.contact_id, m.channel_id, m.identity_id,
       m.direction, m.type, m.text, m.attachment, m.template, m.tag, m.sender_kind, m.sender_id, m.status, m.billable,
       m.provider_message_id, m.external_id, m.error_code, m.error_message, m.attempts, m.last_attempt_at,
       m.created_at, m.updated_at`

// messageFields are the scan destinations of a row of messageColumns.
func messageFields(r *messageRow) []any {
	return []any{&r.WorkspaceID, &r.ID, &r.ConversationID, &r.ContactID, &r.ChannelID, &r.IdentityID, &r.Direction,
		&r.Type, &r.Text, (*[]byte)(&r.Attachment), (*[]byte)(&r.Template), &r.Tag, &r.SenderKind, &r.SenderID,
		&r.Status, &r.Billable, &r.ProviderMessageID, &r.ExternalID, &r.ErrorCode, &r.ErrorMessage,
		&r.Attempts, &r.LastAttemptAt, &r.CreatedAt, &r.UpdatedAt}
}

// Messages lists a conversation's messages newest first.
func (s *Store) Messages(ctx context.Context, ws, id uuid.UUID, p page.Request) ([]conversation.Message, string, error) {
	if err := s.conversationExists(ctx, ws, id); err != nil {
		return nil, "", err
	}
	var args params
	q := `SELECT ` + messageColumns + `
FROM messages m
WHERE m.workspace_id = ` + args.add(ws) + ` AND m.conversation_id = ` + args.add(id)
	if p.Cursor != "" {
		var c conversationCursor
		if err := page.Decode(p.Cursor, &c); err != nil {
			return nil, "", err
		}
		if c.At.IsZero() || c.ID == uuid.Nil {
			return nil, "", errkind.ErrInvalidCursor
		}
		q += ` AND (m.created_at, m.id) < (` + args.add(c.At) + `, ` + args.add(c.ID) + `)`
	}
	q += `
ORDER BY m.created_at DESC, m.id DESC
LIMIT ` + args.add(p.Limit+1)
	rows, _ := s.Pool.Query(ctx, q, args...)
	found, err := scanAll(rows, p.Limit+1, messageFields)
	if err != nil {
		return nil, "", fmt.Errorf("list messages: %w", err)
	}
	next := ""
	if len(found) > p.Limit {
		found = found[:p.Limit]
		last := found[len(found)-1]
		next = page.Encode(conversationCursor{At: last.CreatedAt, ID: last.ID})
	}
	out := make([]conversation.Message, len(found))
	for i, r := range found {
		out[i] = r.domain()
	}
	return out, next, nil
}

// Events lists a conversation's lifecycle in the order it happened.
func (s *Store) Events(ctx context.Context, ws, id uuid.UUID, p page.Request) ([]conversation.Event, string, error) {
	if err := s.conversationExists(ctx, ws, id); err != nil {
		return nil, "", err
	}
	q := s.conn(ctx).Where("workspace_id = ? AND conversation_id = ?", ws, id)
	if p.Cursor != "" {
		var c idCursor
		if err := page.Decode(p.Cursor, &c); err != nil {
			return nil, "", err
		}
		if c.ID == uuid.Nil {
			return nil, "", errkind.ErrInvalidCursor
		}
		q = q.Where("id > ?", c.ID)
	}
	var rows []eventRow
	if err := q.Order("id").Limit(p.Limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list conversation events: %w", err)
	}
	next := ""
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		next = page.Encode(idCursor{rows[len(rows)-1].ID})
	}
	out := make([]conversation.Event, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}

type messageRow struct {
	WorkspaceID       uuid.UUID `gorm:"primaryKey"`
	ID                uuid.UUID `gorm:"primaryKey"`
	ConversationID    uuid.UUID
	ContactID         uuid.UUID
	ChannelID         uuid.UUID
	IdentityID        *uuid.UUID
	Direction         string
	Type              string
	Text              string
	Attachment        nullJSON
	Template          nullJSON
	Tag               *string
	SenderKind        string
	SenderID          *uuid.UUID
	Status            string
	Billable          bool
	ProviderMessageID *string
	ExternalID        *string
	ErrorCode         *string
	ErrorMessage      *string
	Attempts          int
	LastAttemptAt     *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (messageRow) TableName() string { return "messages" }

func (r messageRow) domain() conversation.Message {
	return conversation.Message{WorkspaceID: r.WorkspaceID, ID: r.ID, ConversationID: r.ConversationID,
		ContactID: r.ContactID, ChannelID: r.ChannelID, IdentityID: r.IdentityID,
		Direction: conversation.Direction(r.Direction), Type: conversation.MessageType(r.Type), Text: r.Text,
		Attachment: fromNullJSON[conversation.Attachment](r.Attachment), Template: fromNullJSON[conversation.TemplateRef](r.Template),
		Tag: r.Tag, Sender: actorOf(r.SenderKind, r.SenderID), Status: conversation.MessageStatus(r.Status),
		Billable: r.Billable, ProviderMessageID: r.ProviderMessageID, ExternalID: r.ExternalID, ErrorCode: r.ErrorCode,
		ErrorMessage: r.ErrorMessage, Attempts: r.Attempts, LastAttemptAt: r.LastAttemptAt,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func toMessageRow(m conversation.Message) (messageRow, error) {
	att, err := toNullJSON(m.Attachment)
	if err != nil {
		return messageRow{}, err
	}
	tpl, err := toNullJSON(m.Template)
	if err != nil {
		return messageRow{}, err
	}
	return messageRow{WorkspaceID: m.WorkspaceID, ID: m.ID, ConversationID: m.ConversationID, ContactID: m.ContactID,
		ChannelID: m.ChannelID, IdentityID: m.IdentityID, Direction: string(m.Direction), Type: string(m.Type),
		Text: m.Text, Attachment: att, Template: tpl, Tag: m.Tag, SenderKind: string(m.Sender.Kind),
		SenderID: actorID(m.Sender), Status: string(m.Status), Billable: m.Billable,
		ProviderMessageID: m.ProviderMessageID, ExternalID: m.ExternalID, ErrorCode: m.ErrorCode,
		ErrorMessage: m.ErrorMessage, Attempts: m.Attempts, LastAttemptAt: m.LastAttemptAt,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}, nil
}
