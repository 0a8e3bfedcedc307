package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/page"
)

// A conversation's lifecycle events (opened, closed, reopened, assigned, snoozed, woke, ...), written with the
// change that made them and listed in the order they happened.

type eventRow struct {
	WorkspaceID     uuid.UUID
	ID              uuid.UUID
	ConversationID  uuid.UUID
	Type            string
	ActorKind       string
	ActorID         *uuid.UUID
	AssigneeID      *uuid.UUID
	ClosingCategory *string
	ClosingSummary  *string
	SnoozedUntil    *time.Time
	Reason          *string
	At              time.Time
}

func (r eventRow) domain() conversation.Event {
	e := conversation.Event{WorkspaceID: r.WorkspaceID, ID: r.ID, ConversationID: r.ConversationID,
		Type: conversation.EventType(r.Type), Actor: actorOf(r.ActorKind, r.ActorID), AssigneeID: r.AssigneeID,
		Category: r.ClosingCategory, Summary: r.ClosingSummary, SnoozedUntil: r.SnoozedUntil, At: r.At}
	if r.Reason != nil {
		why := conversation.WakeReason(*r.Reason)
		e.Reason = &why
	}
	return e
}

// lifecycleColumns are eventRow's columns.
const lifecycleColumns = `workspace_id, id, conversation_id, type, actor_kind, actor_id, assignee_id, closing_category,
    closing_summary, snoozed_until, reason, at`

// eventsInsert records a conversation's lifecycle events, one row each, in one statement.
func eventsInsert(events []conversation.Event) statement {
	var b strings.Builder
	b.WriteString(`INSERT INTO conversation_events (` + lifecycleColumns + `) VALUES `)
	var args params
	for i, e := range events {
		var reason *string
		if e.Reason != nil {
			why := string(*e.Reason)
			reason = &why
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + strings.Join([]string{args.add(e.WorkspaceID), args.add(e.ID), args.add(e.ConversationID),
			args.add(string(e.Type)), args.add(string(e.Actor.Kind)), args.add(actorID(e.Actor)), args.add(e.AssigneeID),
			args.add(e.Category), args.add(e.Summary), args.add(e.SnoozedUntil), args.add(reason), args.add(e.At)}, ", ") + ")")
	}
	return statement{b.String(), args}
}

// lifecycleOrder pages lifecycle events by id (UUIDv7: the order they happened).
var lifecycleOrder = keyset[eventRow, idCursor]{
	key:   func(r eventRow) idCursor { return idCursor{r.ID} },
	valid: func(c idCursor) bool { return c.ID != uuid.Nil },
}

// Events lists a conversation's lifecycle in the order it happened.
func (s *Store) Events(ctx context.Context, ws, id uuid.UUID, p page.Request) ([]conversation.Event, string, error) {
	if err := s.conversationExists(ctx, ws, id); err != nil {
		return nil, "", err
	}
	return list(lifecycleOrder, p, func(after *idCursor, limit int) ([]eventRow, error) {
		var args params
		q := `SELECT ` + lifecycleColumns + ` FROM conversation_events
WHERE workspace_id = ` + args.add(ws) + ` AND conversation_id = ` + args.add(id)
		if after != nil {
			q += ` AND id > ` + args.add(after.ID)
		}
		q += ` ORDER BY id LIMIT ` + args.add(limit)
		rows, _ := s.Pool.Query(ctx, q, args...)
		found, err := collect[eventRow](rows, limit)
		if err != nil {
			return nil, fmt.Errorf("list conversation events: %w", err)
		}
		return found, nil
	}, eventRow.domain)
}
