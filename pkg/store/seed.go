package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/seed"
)

// LoadSeed writes a generated batch with COPY, table by table in foreign-key order, in one
// transaction: a batch is stored whole or not at all.
func (s *Store) LoadSeed(ctx context.Context, b seed.Batch) error {
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("seed: begin: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	copyRows := func(table string, cols []string, n int, row func(i int) ([]any, error)) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromFunc(func() func() ([]any, error) {
			i := 0
			return func() ([]any, error) {
				if i == n {
					return nil, nil
				}
				i++
				return row(i - 1)
			}
		}()))
		if err != nil {
			return fmt.Errorf("seed: copy %s: %w", table, err)
		}
		return nil
	}
	err = copyRows("contacts", []string{"workspace_id", "id", "first_name", "last_name", "email", "phone", "language",
		"country", "tags", "custom_fields", "created_at", "updated_at"}, len(b.Contacts), func(i int) ([]any, error) {
		c := b.Contacts[i]
		cf, err := json.Marshal(c.CustomFields)
		if err != nil {
			return nil, err
		}
		return []any{c.WorkspaceID, c.ID, c.FirstName, c.LastName, c.Email, c.Phone, c.Language, c.Country, c.Tags,
			string(cf), c.CreatedAt, c.UpdatedAt}, nil
	})
	if err != nil {
		return err
	}
	err = copyRows("conversations", []string{"workspace_id", "id", "contact_id", "status", "assignee_id", "last_message_at",
		"last_message_id", "last_message_channel_id", "last_message_direction", "last_message_type", "last_message_text",
		"closed_at", "closing_category", "closing_summary", "closing_at", "closing_actor_kind", "closing_actor_id",
		"created_at", "updated_at"}, len(b.Conversations), func(i int) ([]any, error) {
		v := b.Conversations[i]
		row := []any{v.WorkspaceID, v.ID, v.Contact.ID, string(v.Status), v.AssigneeID, v.LastMessageAt,
			nil, nil, nil, nil, nil, v.ClosedAt, nil, nil, nil, nil, nil, v.CreatedAt, v.UpdatedAt}
		if m := v.LastMessage; m != nil {
			row[6], row[7], row[8], row[9], row[10] = m.ID, m.ChannelID, string(m.Direction), string(m.Type), m.Text
		}
		if n := v.ClosingNote; n != nil {
			row[12], row[13], row[14], row[15], row[16] = n.Category, n.Summary, n.ClosedAt, string(n.ClosedBy.Kind), actorID(n.ClosedBy)
		}
		return row, nil
	})
	if err != nil {
		return err
	}
	err = copyRows("contact_identities", []string{"workspace_id", "id", "contact_id", "channel_id", "identifier",
		"last_inbound_at", "outbound_since_inbound", "created_at", "updated_at"}, len(b.Identities), func(i int) ([]any, error) {
		x := b.Identities[i]
		return []any{x.WorkspaceID, x.ID, x.ContactID, x.ChannelID, x.Identifier, x.LastInboundAt,
			int32(x.OutboundSinceInbound), x.CreatedAt, x.UpdatedAt}, nil
	})
	if err != nil {
		return err
	}
	err = copyRows("messages", []string{"workspace_id", "id", "conversation_id", "contact_id", "channel_id", "identity_id",
		"direction", "type", "text", "sender_kind", "sender_id", "status", "created_at", "updated_at"},
		len(b.Messages), func(i int) ([]any, error) {
			m := b.Messages[i]
			return []any{m.WorkspaceID, m.ID, m.ConversationID, m.ContactID, m.ChannelID, m.IdentityID, string(m.Direction),
				string(m.Type), m.Text, string(m.Sender.Kind), actorID(m.Sender), string(m.Status), m.CreatedAt, m.UpdatedAt}, nil
		})
	if err != nil {
		return err
	}
	err = copyRows("conversation_events", []string{"workspace_id", "id", "conversation_id", "type", "actor_kind", "actor_id",
		"assignee_id", "closing_category", "closing_summary", "at"}, len(b.Events), func(i int) ([]any, error) {
		e := b.Events[i]
		return []any{e.WorkspaceID, e.ID, e.ConversationID, string(e.Type), string(e.Actor.Kind), actorID(e.Actor),
			e.AssigneeID, e.Category, e.Summary, e.At}, nil
	})
	if err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("seed: commit: %w", err)
	}
	return nil
}

// CountContacts returns how many contacts a workspace has.
func (s *Store) CountContacts(ctx context.Context, ws uuid.UUID) (int, error) {
	var n int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE workspace_id = $1`, ws).Scan(&n); err != nil {
		return 0, fmt.Errorf("count contacts: %w", err)
	}
	return n, nil
}

// Analyze refreshes the planner's statistics of the tables a seed fills, so the first queries
// after a bulk load get good plans.
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.Pool.Exec(ctx, `ANALYZE contacts, conversations, contact_identities, messages, conversation_events`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}
