package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/label"
	"github.com/switchboard/switchboard/pkg/page"
)

// A workspace's labels, and the labels on its conversations. A conversation read on its own
// reads its labels in the same statement (conversationLabels, conversation.go), an inbox page
// after the page, by its ids (pageExtras, read.go); the inbox filters by one
// (inboxQuery.filters).

type labelRow struct {
	WorkspaceID uuid.UUID `gorm:"primaryKey"`
	ID          uuid.UUID `gorm:"primaryKey"`
	Name        string
	Color       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (labelRow) TableName() string { return "labels" }

func (r labelRow) domain() label.Label {
	return label.Label{WorkspaceID: r.WorkspaceID, ID: r.ID, Name: r.Name, Color: r.Color, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func toLabelRow(l label.Label) labelRow {
	return labelRow{WorkspaceID: l.WorkspaceID, ID: l.ID, Name: l.Name, Color: l.Color, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
}

// labelColumns are labelRow's columns.
const labelColumns = `workspace_id, id, name, color, created_at, updated_at`

// labelExists turns a unique violation on a label's name into label.ErrExists naming the
// label that holds it; other errors pass through.
func (s *Store) labelExists(ctx context.Context, err error, l label.Label) error {
	if code, constraint := pgCode(err); code != uniqueViolation || constraint != "labels_name_key" {
		return err
	}
	// A fresh query: the violation has aborted any transaction it happened in.
	var id uuid.UUID
	_ = s.Pool.QueryRow(ctx, `SELECT id FROM labels WHERE workspace_id = $1 AND lower(name) COLLATE "C" = lower($2) COLLATE "C"`,
		l.WorkspaceID, l.Name).Scan(&id)
	return label.ErrExists.With("existing_id", id.String())
}

// CreateLabel stores a label; a name the workspace already has (without regard to case) is
// label.ErrExists with the holder's id.
func (s *Store) CreateLabel(ctx context.Context, l label.Label) error {
	r := toLabelRow(l)
	const q = `INSERT INTO labels (` + labelColumns + `) VALUES ($1, $2, $3, $4, $5, $6)`
	if _, err := s.Pool.Exec(ctx, q, r.WorkspaceID, r.ID, r.Name, r.Color, r.CreatedAt, r.UpdatedAt); err != nil {
		return s.labelExists(ctx, fmt.Errorf("insert label: %w", err), l)
	}
	return nil
}

// labelCursor is a position in the label list: the name, which is unique without regard to
// case.
type labelCursor struct {
	Name string `json:"n"`
}

var labelsByName = keyset[labelRow, labelCursor]{
	key:   func(r labelRow) labelCursor { return labelCursor{Name: r.Name} },
	valid: func(c labelCursor) bool { return c.Name != "" },
}

// Labels lists the workspace's labels by name without regard to case: the order of
// labels_name_key, which serves the keyset, and of the labels a conversation's row carries.
func (s *Store) Labels(ctx context.Context, ws uuid.UUID, p page.Request) ([]label.Label, string, error) {
	return list(labelsByName, p, func(after *labelCursor, limit int) ([]labelRow, error) {
		args := params{ws}
		cond := ""
		if after != nil {
			cond = ` AND lower(name) COLLATE "C" > lower(` + args.add(after.Name) + `) COLLATE "C"`
		}
		q := `SELECT ` + labelColumns + ` FROM labels WHERE workspace_id = $1` + cond + `
ORDER BY lower(name) COLLATE "C"
LIMIT ` + args.add(limit)
		rows, err := queryRows[labelRow](ctx, s.Pool, q, args...)
		if err != nil {
			return nil, fmt.Errorf("list labels: %w", err)
		}
		return rows, nil
	}, labelRow.domain)
}

// UpdateLabel locks a label, applies the change and saves it. Renaming onto another label's
// name is label.ErrExists.
func (s *Store) UpdateLabel(ctx context.Context, ws, id uuid.UUID, apply func(*label.Label) error) (label.Label, error) {
	return labelChange.run(ctx, s, apply, ws, id)
}

var labelChange = change[labelRow, label.Label]{
	lock:    `SELECT ` + labelColumns + ` FROM labels WHERE workspace_id = $1 AND id = $2 FOR UPDATE`,
	missing: label.ErrNotFound,
	domain:  labelRow.domain,
	save: func(l label.Label) (string, []any) {
		const q = `UPDATE labels SET name = $3, color = $4, updated_at = $5 WHERE workspace_id = $1 AND id = $2`
		return q, []any{l.WorkspaceID, l.ID, l.Name, l.Color, l.UpdatedAt}
	},
	what: "label",
	explain: func(ctx context.Context, s *Store, err error, l label.Label) error {
		return s.labelExists(ctx, err, l)
	},
}

// DeleteLabel deletes a label; the foreign key's cascade takes it off every conversation in
// the same statement (through conversation_labels_label).
func (s *Store) DeleteLabel(ctx context.Context, ws, id uuid.UUID) error {
	return remove[labelRow](s.conn(ctx), label.ErrNotFound, "label", ws, id)
}

// labelRefRow is a label as a conversation carries it.
type labelRefRow struct {
	ID    uuid.UUID
	Name  string
	Color string
}

const (
	// wantedLabelsSQL reads the workspace's labels among $2 in name order, and keeps them
	// (FOR KEY SHARE, as the foreign key's own check would) until the transaction ends: a
	// concurrent delete of one waits, so the set written and the event published name
	// labels that exist when they commit.
	wantedLabelsSQL = `
SELECT id, name, color FROM labels WHERE workspace_id = $1 AND id = ANY($2::uuid[])
ORDER BY lower(name) COLLATE "C"
FOR KEY SHARE`
	removeLabelsSQL = `
DELETE FROM conversation_labels WHERE workspace_id = $1 AND conversation_id = $2 AND label_id <> ALL($3::uuid[])`
	addLabelsSQL = `
INSERT INTO conversation_labels (workspace_id, conversation_id, label_id, created_at)
SELECT $1, $2, l, $4 FROM unnest($3::uuid[]) AS l
ON CONFLICT DO NOTHING`
	touchConversationSQL = `UPDATE conversations SET updated_at = $3 WHERE workspace_id = $1 AND id = $2`
)

// ReplaceConversationLabels locks the conversation, reads which of want are the workspace's
// labels, lets decide change the conversation, and when its labels changed writes the new set
// and publishes conversation.labels_changed with the conversation, in the same transaction.
// Two round trips: BEGIN with the lock and the labels; the writes and the event with COMMIT
// (an unchanged set commits on its own).
func (s *Store) ReplaceConversationLabels(ctx context.Context, ws, id uuid.UUID, want []uuid.UUID,
	decide func(c *conversation.Conversation, found []conversation.Label) (bool, error)) (conversation.Conversation, error) {
	if want == nil {
		want = []uuid.UUID{} // nil is NULL to pgx, and "<> ALL(NULL)" keeps every row
	}
	var out conversation.Conversation
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		var r conversationRow
		var found bool
		var labels []labelRefRow
		b := &batch{}
		queueRow(b, "lock conversation", &r, &found, lockConversation(ws, id))
		queueRows(b, "read labels", &labels, statement{wantedLabelsSQL, []any{ws, want}})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		if !found {
			return nil, conversation.ErrNotFound
		}
		before, c := r.domain(), r.domain()
		refs := make([]conversation.Label, len(labels))
		for i, l := range labels {
			refs[i] = conversation.Label{ID: l.ID, Name: l.Name, Color: l.Color}
		}
		changed, err := decide(&c, refs)
		if err != nil {
			return nil, err
		}
		out = c
		if !changed {
			return nil, nil
		}
		ids := make([]uuid.UUID, len(c.Labels))
		for i, l := range c.Labels {
			ids[i] = l.ID
		}
		b = &batch{}
		b.exec("remove labels", statement{removeLabelsSQL, []any{ws, id, ids}})
		b.exec("add labels", statement{addLabelsSQL, []any{ws, id, ids, c.UpdatedAt}})
		b.exec("touch conversation", statement{touchConversationSQL, []any{ws, id, c.UpdatedAt}})
		if err := s.queueBulkAudit(ctx, b, before, c); err != nil {
			return nil, err
		}
		return b, s.queuePublish(b, ws, []pending{{typ: event.ConversationLabelsChanged, conv: &c.ID, v: c}})
	})
	return out, err
}
