package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/switchboard/switchboard/pkg/seed"
)

// copySource is one table's rows of a batch, in COPY's terms.
type copySource struct {
	table string
	cols  []string
	n     int
	row   func(i int) ([]any, error)
}

// seedSources lists a batch's tables in foreign-key order.
func seedSources(b seed.Batch) []copySource {
	return []copySource{
		{"contacts", []string{"workspace_id", "id", "first_name", "last_name", "email", "phone", "language",
			"country", "tags", "custom_fields", "created_at", "updated_at"}, len(b.Contacts), func(i int) ([]any, error) {
			c := b.Contacts[i]
			cf, err := json.Marshal(c.CustomFields)
			if err != nil {
				return nil, err
			}
			return []any{u(c.WorkspaceID), u(c.ID), c.FirstName, c.LastName, c.Email, c.Phone, c.Language, c.Country, c.Tags,
				string(cf), c.CreatedAt, c.UpdatedAt}, nil
		}},
		{"conversations", []string{"workspace_id", "id", "contact_id", "status", "assignee_id", "last_message_at",
			"last_message_id", "last_message_channel_id", "last_message_direction", "last_message_type", "last_message_text",
			"closed_at", "closing_category", "closing_summary", "closing_at", "closing_actor_kind", "closing_actor_id",
			"created_at", "updated_at", "incoming_count"}, len(b.Conversations), func(i int) ([]any, error) {
			v := b.Conversations[i]
			row := []any{u(v.WorkspaceID), u(v.ID), u(v.Contact.ID), string(v.Status), up(v.AssigneeID), v.LastMessageAt,
				nil, nil, nil, nil, nil, v.ClosedAt, nil, nil, nil, nil, nil, v.CreatedAt, v.UpdatedAt, v.IncomingCount}
			if m := v.LastMessage; m != nil {
				row[6], row[7], row[8], row[9], row[10] = u(m.ID), u(m.ChannelID), string(m.Direction), string(m.Type), m.Text
			}
			if n := v.ClosingNote; n != nil {
				row[12], row[13], row[14], row[15], row[16] = n.Category, n.Summary, n.ClosedAt, string(n.ClosedBy.Kind), up(actorID(n.ClosedBy))
			}
			return row, nil
		}},
		{"contact_identities", []string{"workspace_id", "id", "contact_id", "channel_id", "identifier",
			"last_inbound_at", "outbound_since_inbound", "created_at", "updated_at"}, len(b.Identities), func(i int) ([]any, error) {
			x := b.Identities[i]
			return []any{u(x.WorkspaceID), u(x.ID), u(x.ContactID), u(x.ChannelID), x.Identifier, x.LastInboundAt,
				int32(x.OutboundSinceInbound), x.CreatedAt, x.UpdatedAt}, nil
		}},
		{"messages", []string{"workspace_id", "id", "conversation_id", "contact_id", "channel_id", "identity_id",
			"direction", "type", "text", "sender_kind", "sender_id", "status", "created_at", "updated_at"},
			len(b.Messages), func(i int) ([]any, error) {
				m := b.Messages[i]
				return []any{u(m.WorkspaceID), u(m.ID), u(m.ConversationID), u(m.ContactID), u(m.ChannelID), up(m.IdentityID), string(m.Direction),
					string(m.Type), m.Text, string(m.Sender.Kind), up(actorID(m.Sender)), string(m.Status), m.CreatedAt, m.UpdatedAt}, nil
			}},
		{"conversation_events", []string{"workspace_id", "id", "conversation_id", "type", "actor_kind", "actor_id",
			"assignee_id", "closing_category", "closing_summary", "at"}, len(b.Events), func(i int) ([]any, error) {
			e := b.Events[i]
			return []any{u(e.WorkspaceID), u(e.ID), u(e.ConversationID), string(e.Type), string(e.Actor.Kind), up(actorID(e.Actor)),
				up(e.AssigneeID), e.Category, e.Summary, e.At}, nil
		}},
	}
}

// u and up hand ids to COPY as pgtype.UUID: a uuid.UUID goes through its driver.Valuer
// (text, then parsed back), which costs a third of the seed's CPU.
func u(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

func up(id *uuid.UUID) pgtype.UUID {
	if id == nil {
		return pgtype.UUID{}
	}
	return u(*id)
}

// LoadSeed writes a generated batch with COPY, table by table in foreign-key order, in one
// transaction: a batch is stored whole or not at all. COPY is not a batch statement, so BEGIN
// goes before the first and COMMIT after the last on its own (see lazyTx).
func (s *Store) LoadSeed(ctx context.Context, b seed.Batch) error {
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		for _, src := range seedSources(b) {
			i := 0
			_, err := tx.CopyFrom(ctx, pgx.Identifier{src.table}, src.cols, pgx.CopyFromFunc(func() ([]any, error) {
				if i == src.n {
					return nil, nil
				}
				i++
				return src.row(i - 1)
			}))
			if err != nil {
				return nil, fmt.Errorf("copy %s: %w", src.table, err)
			}
		}
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
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

// VacuumAnalyze vacuums and analyzes the tables a seed fills. After a bulk load the first
// reads would otherwise set every row's hint bits and find no visibility map, and the planner
// would have no statistics: the first queries would be slow and badly planned.
func (s *Store) VacuumAnalyze(ctx context.Context) error {
	if _, err := s.Pool.Exec(ctx, `VACUUM (ANALYZE) contacts, conversations, contact_identities, messages, conversation_events`); err != nil {
		return fmt.Errorf("vacuum analyze: %w", err)
	}
	return nil
}
