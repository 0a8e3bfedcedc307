package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/conversation"
)

// A conversation: its row with the contact summary and the assignee embedded, one read, and
// the lifecycle changes (close, reopen, assign, snooze) made under its row lock. The inbox is in
// inbox.go, messages in message.go, lifecycle events in lifecycle.go.

// conversationFields is a conversation with what the inbox embeds: the contact summary and the
// assignee's name and email (the last message and closing note live on the row itself). Its
// labels are not among them: see conversationRow and pageExtras.
type conversationFields struct {
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
	SnoozedUntil         *time.Time
	CreatedAt            time.Time
	UpdatedAt            time.Time
	IncomingCount        int64
	ContactFirstName     string
	ContactLastName      string
	ContactEmail         *string
	ContactPhone         *string
	AssigneeName         *string
	AssigneeEmail        *string
	// The team (migration 0021) and its name, NULL without one.
	TeamID   *uuid.UUID
	TeamName *string
	// The default channel and its window, kept on the row (migration 0018).
	WindowIdentityID *uuid.UUID
	WindowChannelID  *uuid.UUID
	WindowInboundAt  *time.Time
	WindowSent       int32
	WindowOpenUntil  *time.Time
	WindowAlert      *string
	WindowAlertAt    *time.Time
	// The default channel's rule and month (conversationJoins' wc, wu), NULL without one.
	WindowChannelType    *string
	WindowRuleOptions    jsonObject
	WindowUsageMonth     *time.Time
	WindowUsageInitiated *int32
}

// conversationRow is one conversation read whole, its labels in the same statement
// (conversationSelect): how a single conversation is read.
type conversationRow struct {
	conversationFields
	// Labels are read as JSON (conversationLabels).
	Labels []labelJSON
}

// labelJSON is a label in conversationLabels' array.
type labelJSON struct {
	ID    uuid.UUID `json:"id"`
	Name  string    `json:"name"`
	Color string    `json:"color"`
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

// domain is the conversation with no labels: whoever read the row adds them.
func (r conversationFields) domain() conversation.Conversation {
	c := conversation.Conversation{WorkspaceID: r.WorkspaceID, ID: r.ID, Status: conversation.Status(r.Status),
		Contact: conversation.ContactSummary{ID: r.ContactID, FirstName: r.ContactFirstName, LastName: r.ContactLastName,
			Email: r.ContactEmail, Phone: r.ContactPhone},
		AssigneeID: r.AssigneeID, LastMessageAt: r.LastMessageAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ClosedAt: r.ClosedAt,
		SnoozedUntil: r.SnoozedUntil, IncomingCount: r.IncomingCount}
	if r.AssigneeID != nil && r.AssigneeName != nil {
		c.Assignee = &conversation.Assignee{ID: *r.AssigneeID, Name: *r.AssigneeName, Email: deref(r.AssigneeEmail)}
	}
	if r.TeamID != nil && r.TeamName != nil {
		c.TeamID = r.TeamID
		c.Team = &conversation.TeamRef{ID: *r.TeamID, Name: *r.TeamName}
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
	c.Labels = []conversation.Label{}
	c.Window, c.WindowOpenUntil = r.window(), r.WindowOpenUntil
	if r.WindowAlert != nil && r.WindowAlertAt != nil {
		c.Alert = &conversation.NextAlert{Kind: conversation.AlertKind(*r.WindowAlert), At: *r.WindowAlertAt}
	}
	return c
}

// window is the default channel read with the row, nil without one.
func (r conversationFields) window() *conversation.Window {
	if r.WindowIdentityID == nil || r.WindowChannelID == nil || r.WindowChannelType == nil {
		return nil
	}
	ch := channelRow{Type: *r.WindowChannelType, RuleOptions: r.WindowRuleOptions}.domain()
	w := &conversation.Window{IdentityID: *r.WindowIdentityID, ChannelID: *r.WindowChannelID, Type: ch.Type, Options: ch.RuleOptions,
		LastInboundAt: r.WindowInboundAt, SentSinceInbound: int(r.WindowSent), UsageMonth: r.WindowUsageMonth}
	if r.WindowUsageInitiated != nil {
		w.UsageInitiated = int(*r.WindowUsageInitiated)
	}
	return w
}

func (r conversationRow) domain() conversation.Conversation {
	c := r.conversationFields.domain()
	c.Labels = labelsOf(r.Labels)
	return c
}

func labelsOf(ls []labelJSON) []conversation.Label {
	out := make([]conversation.Label, len(ls))
	for i, l := range ls {
		out[i] = conversation.Label{ID: l.ID, Name: l.Name, Color: l.Color}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// conversationColumns are conversationFields' columns, of conversations v joined by
// conversationJoins.
const conversationColumns = `v.workspace_id, v.id, v.contact_id, v.status, v.assignee_id, v.last_message_at, v.last_message_id,
       v.last_message_channel_id, v.last_message_direction, v.last_message_type, v.last_message_text,
       v.closed_at, v.closing_category, v.closing_summary, v.closing_at, v.closing_actor_kind, v.closing_actor_id,
       v.snoozed_until, v.created_at, v.updated_at, v.incoming_count,
       c.first_name AS contact_first_name, c.last_name AS contact_last_name, c.email AS contact_email,
       c.phone AS contact_phone, u.name AS assignee_name, u.email AS assignee_email,
       v.team_id, tm.name AS team_name,
       v.window_identity_id, v.window_channel_id, v.window_inbound_at, v.window_sent,
       v.window_open_until, v.window_alert, v.window_alert_at,
       wc.type AS window_channel_type, wc.rule_options AS window_rule_options,
       wu.month AS window_usage_month, wu.initiated AS window_usage_initiated`

// conversationLabels is the labels of the conversation v as a JSON array, in name order
// without regard to case (labels_name_key's), for a statement that reads one conversation (its
// plan is cached with the statement's). A list reads its page's labels by the page's ids
// instead (pageExtras).
const conversationLabels = `(SELECT coalesce(json_agg(json_build_object('id', l.id, 'name', l.name, 'color', l.color)
               ORDER BY lower(l.name) COLLATE "C"), '[]')
        FROM conversation_labels cl JOIN labels l ON l.workspace_id = cl.workspace_id AND l.id = cl.label_id
        WHERE cl.workspace_id = v.workspace_id AND cl.conversation_id = v.id) AS labels`

// conversationJoins embeds the contact summary, the assignee, and the rule of the default
// channel the reply window is decided on, with its latest month of chatbot-initiated messages
// (Viber). The default identity's state is on the row (migration 0018); the channel is one
// lookup per channel, which the rows of a page share (PostgreSQL memoizes it). A channel
// archived since is no default: the row reads none until the refresh job moves it on.
const conversationJoins = `
JOIN contacts c ON c.workspace_id = v.workspace_id AND c.id = v.contact_id
LEFT JOIN users u ON u.workspace_id = v.workspace_id AND u.id = v.assignee_id
LEFT JOIN teams tm ON tm.workspace_id = v.workspace_id AND tm.id = v.team_id
LEFT JOIN channels wc ON wc.workspace_id = v.workspace_id AND wc.id = v.window_channel_id AND wc.archived_at IS NULL
LEFT JOIN LATERAL (
    SELECT cu.month, cu.initiated FROM channel_usage cu
    WHERE cu.workspace_id = v.workspace_id AND cu.channel_id = wc.id AND wc.type = 'viber'
    ORDER BY cu.month DESC
    LIMIT 1) wu ON true`

// conversationSelect reads conversationRows; a WHERE on v follows.
const conversationSelect = `
SELECT ` + conversationColumns + `,
       ` + conversationLabels + `
FROM conversations v` + conversationJoins

// conversationByID reads one conversation; lockConversation takes its row (not the contact's
// or the user's) FOR UPDATE.
func conversationByID(ws, id uuid.UUID) statement {
	return statement{conversationSelect + "\nWHERE v.workspace_id = $1 AND v.id = $2", []any{ws, id}}
}

func lockConversation(ws, id uuid.UUID) statement {
	st := conversationByID(ws, id)
	st.sql += "\nFOR UPDATE OF v"
	return st
}

// Conversation returns one conversation with its contact summary and assignee.
func (s *Store) Conversation(ctx context.Context, ws, id uuid.UUID) (conversation.Conversation, error) {
	st := conversationByID(ws, id)
	r, err := queryRow[conversationRow](ctx, s.Pool, st.sql, st.args...)
	if isNotFound(err) {
		return conversation.Conversation{}, conversation.ErrNotFound
	}
	if err != nil {
		return conversation.Conversation{}, fmt.Errorf("get conversation: %w", err)
	}
	return r.domain(), nil
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

// ChangeConversation locks the conversation row, lets change decide, and saves the result with
// its events in the same transaction: two concurrent changes serialise on the row lock, so
// the second sees the first's outcome (and, say, answers conversation_open).
//
// Three round trips: BEGIN with the lock; the writes with the row read back (for the new
// assignee's name and email); the events with COMMIT.
func (s *Store) ChangeConversation(ctx context.Context, ws, id uuid.UUID, change func(*conversation.Conversation) ([]conversation.Event, error)) (conversation.Conversation, error) {
	var out conversation.Conversation
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		var r conversationRow
		var found bool
		b := &batch{}
		queueRow(b, "lock conversation", &r, &found, lockConversation(ws, id))
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		if !found {
			return nil, conversation.ErrNotFound
		}
		before, c := r.domain(), r.domain()
		events, err := change(&c)
		if err != nil {
			return nil, err
		}
		if len(events) == 0 {
			out = c
			return nil, nil
		}
		b = &batch{}
		queueConversationUpdate(b, c)
		b.exec("insert conversation events", eventsInsert(events))
		queueRow(b, "get conversation", &r, &found, conversationByID(ws, id))
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		out = r.domain()
		b = &batch{}
		if err := s.queueBulkAudit(ctx, b, before, out); err != nil {
			return nil, err
		}
		return b, s.queuePublish(b, ws, conversationEvents(events, out))
	})
	return out, err
}

// queueBulkAudit adds to b, a conversation change's last batch, the audit entry of the bulk
// action ctx carries (audit.WithBulk), if any: a bulk action records each conversation it
// changed in that conversation's own transaction, so one that rolls back has none. Callers
// queue it only for a change that changed something.
func (s *Store) queueBulkAudit(ctx context.Context, b *batch, before, after conversation.Conversation) error {
	action, ok := audit.BulkFrom(ctx)
	if !ok {
		return nil
	}
	return s.queueAudit(ctx, b, after.WorkspaceID, conversation.BulkRecord(action, before, after))
}

const updateConversationSQL = `
UPDATE conversations SET status = $1, assignee_id = $2, closed_at = $3,
       last_message_at = $4, last_message_id = $5, last_message_channel_id = $6,
       last_message_direction = $7, last_message_type = $8, last_message_text = $9,
       closing_category = $10, closing_summary = $11, closing_at = $12,
       closing_actor_kind = $13, closing_actor_id = $14, snoozed_until = $15, updated_at = $16, incoming_count = $19,
       window_identity_id = $20, window_channel_id = $21, window_inbound_at = $22, window_sent = $23,
       window_open_until = $24, window_alert = $25, window_alert_at = $26, team_id = $27
WHERE workspace_id = $17 AND id = $18`

// queueConversationUpdate queues the write of a conversation's state, last message and
// closing note; an assignee who is no user of the workspace is conversation.ErrUnknownAssignee.
func queueConversationUpdate(b *batch, c conversation.Conversation) {
	var lastID, lastChannel *uuid.UUID
	var lastDir, lastType, lastText *string
	if m := c.LastMessage; m != nil {
		id, ch := m.ID, m.ChannelID
		d, t, x := string(m.Direction), string(m.Type), m.Text
		lastID, lastChannel, lastDir, lastType, lastText = &id, &ch, &d, &t, &x
	}
	var cat, sum, kind *string
	var closingBy *uuid.UUID
	var at *time.Time
	if n := c.ClosingNote; n != nil {
		k := string(n.ClosedBy.Kind)
		cat, sum, kind, closingBy = n.Category, n.Summary, &k, actorID(n.ClosedBy)
		t := n.ClosedAt
		at = &t
	}
	w := windowColumnsOf(c)
	b.execWrap(statement{updateConversationSQL, []any{string(c.Status), c.AssigneeID, c.ClosedAt, c.LastMessageAt, lastID,
		lastChannel, lastDir, lastType, lastText, cat, sum, at, kind, closingBy, c.SnoozedUntil, c.UpdatedAt, c.WorkspaceID, c.ID, c.IncomingCount,
		w.identity, w.channel, w.inbound, w.sent, c.WindowOpenUntil, w.alert, w.alertAt, c.TeamID}},
		func(err error) error {
			code, constraint := pgCode(err)
			switch {
			case code == foreignKeyViolation && constraint == "conversations_workspace_id_assignee_id_fkey":
				return conversation.ErrUnknownAssignee
			case code == foreignKeyViolation && constraint == "conversations_team_fkey":
				return conversation.ErrUnknownTeam
			}
			return fmt.Errorf("update conversation: %w", err)
		})
}

// windowColumns are a conversation's default channel and next alert as its columns hold them
// (NULL for none).
type windowColumns struct {
	identity, channel *uuid.UUID
	inbound, alertAt  *time.Time
	sent              int
	alert             *string
}

func windowColumnsOf(c conversation.Conversation) windowColumns {
	var w windowColumns
	if d := c.Window; d != nil {
		id, ch := d.IdentityID, d.ChannelID
		w.identity, w.channel, w.inbound, w.sent = &id, &ch, d.LastInboundAt, d.SentSinceInbound
	}
	if a := c.Alert; a != nil {
		kind, at := string(a.Kind), a.At
		w.alert, w.alertAt = &kind, &at
	}
	return w
}
