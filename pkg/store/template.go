package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/template"
)

// buttonJSON is one element of templates.buttons.
type buttonJSON struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Value string `json:"value,omitempty"`
}

// buttonList is the templates.buttons jsonb column.
type buttonList []buttonJSON

func (b *buttonList) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case []byte:
		raw = v
	case string:
		raw = []byte(v)
	case nil:
		*b = buttonList{}
		return nil
	default:
		return fmt.Errorf("scan buttons: unexpected %T", src)
	}
	out := buttonList{}
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("scan buttons: %w", err)
	}
	*b = out
	return nil
}

func (b buttonList) Value() (driver.Value, error) {
	if b == nil {
		return "[]", nil
	}
	raw, err := json.Marshal([]buttonJSON(b))
	if err != nil {
		return nil, fmt.Errorf("encode buttons: %w", err)
	}
	return string(raw), nil
}

// GormDataType tells gorm the column type.
func (buttonList) GormDataType() string { return "jsonb" }

type templateRow struct {
	WorkspaceID uuid.UUID `gorm:"primaryKey"`
	ID          uuid.UUID `gorm:"primaryKey"`
	ChannelID   uuid.UUID
	Name        string
	Language    string
	Category    string
	Status      string
	Body        string
	Header      string
	Footer      string
	Buttons     buttonList
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (templateRow) TableName() string { return "templates" }

func (r templateRow) domain() template.Template {
	bs := make([]template.Button, len(r.Buttons))
	for i, b := range r.Buttons {
		bs[i] = template.Button{Type: b.Type, Text: b.Text, Value: b.Value}
	}
	return template.Template{WorkspaceID: r.WorkspaceID, ID: r.ID, ChannelID: r.ChannelID, Name: r.Name,
		Language: r.Language, Category: r.Category, Status: r.Status, Body: r.Body, Header: r.Header,
		Footer: r.Footer, Buttons: bs, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func toTemplateRow(t template.Template) templateRow {
	bs := make(buttonList, len(t.Buttons))
	for i, b := range t.Buttons {
		bs[i] = buttonJSON{Type: b.Type, Text: b.Text, Value: b.Value}
	}
	return templateRow{WorkspaceID: t.WorkspaceID, ID: t.ID, ChannelID: t.ChannelID, Name: t.Name,
		Language: t.Language, Category: t.Category, Status: t.Status, Body: t.Body, Header: t.Header,
		Footer: t.Footer, Buttons: bs, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

// channelState reports whether a channel of ws exists and whether it is archived.
func (s *Store) channelState(ctx context.Context, ws, id uuid.UUID) (archived bool, err error) {
	var rows []bool
	if err := s.conn(ctx).Raw(`SELECT archived_at IS NOT NULL FROM channels WHERE workspace_id = ? AND id = ?`, ws, id).
		Scan(&rows).Error; err != nil {
		return false, fmt.Errorf("check channel: %w", err)
	}
	if len(rows) == 0 {
		return false, channel.ErrNotFound
	}
	return rows[0], nil
}

// ChannelExists fails with channel.ErrNotFound unless the channel is in ws. An archived
// channel exists: its templates stay readable.
func (s *Store) ChannelExists(ctx context.Context, ws, id uuid.UUID) error {
	_, err := s.channelState(ctx, ws, id)
	return err
}

// templateExists turns a unique violation on a channel's name and language into
// template.ErrExists naming the template that holds them; other errors pass through.
func (s *Store) templateExists(ctx context.Context, err error, t template.Template) error {
	if code, constraint := pgCode(err); code != uniqueViolation || constraint != "templates_name_key" {
		return err
	}
	// A fresh query: the violation has aborted any transaction it happened in.
	var id uuid.UUID
	_ = s.Pool.QueryRow(ctx, `SELECT id FROM templates WHERE workspace_id = $1 AND channel_id = $2 AND name = $3 AND language = $4`,
		t.WorkspaceID, t.ChannelID, t.Name, t.Language).Scan(&id)
	return template.ErrExists.With("existing_id", id.String())
}

// CreateTemplate stores a template on a live channel: an archived channel is
// channel.ErrArchived, an unknown one channel.ErrNotFound, a taken name and language
// template.ErrExists with the holder's id.
func (s *Store) CreateTemplate(ctx context.Context, t template.Template) error {
	r := toTemplateRow(t)
	// The insert reads the channel row FOR SHARE, so a concurrent archive (which locks it
	// FOR UPDATE) either finishes first and the insert sees archived_at, or waits for it.
	const q = `
INSERT INTO templates (workspace_id, id, channel_id, name, language, category, status, body, header, footer, buttons, created_at, updated_at)
SELECT @ws, @id, ch.id, @name, @language, @category, @status, @body, @header, @footer, @buttons, @created_at, @updated_at
FROM channels ch
WHERE ch.workspace_id = @ws AND ch.id = @channel AND ch.archived_at IS NULL
FOR SHARE`
	res := s.conn(ctx).Exec(q, map[string]any{"ws": r.WorkspaceID, "id": r.ID, "channel": r.ChannelID, "name": r.Name,
		"language": r.Language, "category": r.Category, "status": r.Status, "body": r.Body, "header": r.Header,
		"footer": r.Footer, "buttons": r.Buttons, "created_at": r.CreatedAt, "updated_at": r.UpdatedAt})
	if res.Error != nil {
		return s.templateExists(ctx, fmt.Errorf("insert template: %w", res.Error), t)
	}
	if res.RowsAffected == 0 {
		archived, err := s.channelState(ctx, t.WorkspaceID, t.ChannelID)
		if err != nil {
			return err
		}
		if archived {
			return channel.ErrArchived
		}
		// The channel was un-archived in between, which nothing does; say so rather than guess.
		return fmt.Errorf("insert template: channel %s took no row", t.ChannelID)
	}
	return nil
}

func templateByID(db *gorm.DB, ws, id uuid.UUID, lock bool) (template.Template, error) {
	q := `SELECT * FROM templates WHERE workspace_id = ? AND id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var r templateRow
	res := db.Raw(q, ws, id).Scan(&r)
	if res.Error != nil {
		return template.Template{}, fmt.Errorf("get template: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return template.Template{}, template.ErrNotFound
	}
	return r.domain(), nil
}

// Template returns one template.
func (s *Store) Template(ctx context.Context, ws, id uuid.UUID) (template.Template, error) {
	return templateByID(s.conn(ctx), ws, id, false)
}

// templateCursor is a position in a channel's templates, which are unique by name and language.
type templateCursor struct {
	Name     string `json:"n"`
	Language string `json:"l"`
}

// Templates lists a channel's templates by name, then language: the order of the
// templates_name_key index, which serves the keyset.
func (s *Store) Templates(ctx context.Context, ws, channelID uuid.UUID, p page.Request) ([]template.Template, string, error) {
	args := []any{ws, channelID}
	cond := ""
	if p.Cursor != "" {
		var c templateCursor
		if err := page.Decode(p.Cursor, &c); err != nil {
			return nil, "", err
		}
		if c.Name == "" || c.Language == "" {
			return nil, "", errkind.ErrInvalidCursor
		}
		cond = ` AND (name, language) > (?, ?)`
		args = append(args, c.Name, c.Language)
	}
	q := `SELECT * FROM templates WHERE workspace_id = ? AND channel_id = ?` + cond + `
ORDER BY name, language
LIMIT ?`
	args = append(args, p.Limit+1)
	var rows []templateRow
	if err := s.conn(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list templates: %w", err)
	}
	next := ""
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		last := rows[len(rows)-1]
		next = page.Encode(templateCursor{Name: last.Name, Language: last.Language})
	}
	out := make([]template.Template, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}

// UpdateTemplate locks a template, applies the change and saves it. Renaming onto a name and
// language the channel already has is template.ErrExists.
func (s *Store) UpdateTemplate(ctx context.Context, ws, id uuid.UUID, apply func(*template.Template) error) (template.Template, error) {
	var out template.Template
	err := s.tx(ctx, func(tx *gorm.DB) error {
		t, err := templateByID(tx, ws, id, true)
		if err != nil {
			return err
		}
		if err := apply(&t); err != nil {
			return err
		}
		out = t
		r := toTemplateRow(t)
		const q = `
UPDATE templates SET name = ?, language = ?, category = ?, status = ?, body = ?, header = ?, footer = ?, buttons = ?, updated_at = ?
WHERE workspace_id = ? AND id = ?`
		if err := tx.Exec(q, r.Name, r.Language, r.Category, r.Status, r.Body, r.Header, r.Footer, r.Buttons, r.UpdatedAt, ws, id).Error; err != nil {
			return fmt.Errorf("update template: %w", err)
		}
		return nil
	})
	if err != nil {
		return template.Template{}, s.templateExists(ctx, err, out)
	}
	return out, nil
}

// DeleteTemplate deletes a template. Messages keep their rendered text, not a reference.
func (s *Store) DeleteTemplate(ctx context.Context, ws, id uuid.UUID) error {
	res := s.conn(ctx).Exec(`DELETE FROM templates WHERE workspace_id = ? AND id = ?`, ws, id)
	if res.Error != nil {
		return fmt.Errorf("delete template: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return template.ErrNotFound
	}
	return nil
}
