package store

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/channel"
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

// templateColumns are templateRow's columns.
const templateColumns = `workspace_id, id, channel_id, name, language, category, status, body, header, footer, buttons,
       created_at, updated_at`

// channelState reports whether a channel of ws exists and whether it is archived.
func (s *Store) channelState(ctx context.Context, ws, id uuid.UUID) (archived bool, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT archived_at IS NOT NULL FROM channels WHERE workspace_id = $1 AND id = $2`, ws, id).Scan(&archived)
	if isNotFound(err) {
		return false, channel.ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("check channel: %w", err)
	}
	return archived, nil
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
//
// Its audit record goes in the same statement, written only when the template is.
func (s *Store) CreateTemplate(ctx context.Context, t template.Template, rec audit.Record) error {
	r := toTemplateRow(t)
	// The insert reads the channel row FOR SHARE, so a concurrent archive (which locks it
	// FOR UPDATE) either finishes first and the insert sees archived_at, or waits for it.
	const q = `
INSERT INTO templates (` + templateColumns + `)
SELECT $1, $2, ch.id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
FROM channels ch
WHERE ch.workspace_id = $1 AND ch.id = $3 AND ch.archived_at IS NULL
FOR SHARE
RETURNING id`
	inserted, err := s.execAudited(ctx, t.WorkspaceID, statement{q, []any{r.WorkspaceID, r.ID, r.ChannelID, r.Name, r.Language,
		r.Category, r.Status, r.Body, r.Header, r.Footer, r.Buttons, r.CreatedAt, r.UpdatedAt}}, rec)
	if err != nil {
		return s.templateExists(ctx, fmt.Errorf("insert template: %w", err), t)
	}
	if !inserted {
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

// Template returns one template.
func (s *Store) Template(ctx context.Context, ws, id uuid.UUID) (template.Template, error) {
	return take(s.conn(ctx), templateRow.domain, template.ErrNotFound, "template", ws, id)
}

// templateCursor is a position in a channel's templates, which are unique by name and language.
type templateCursor struct {
	Name     string `json:"n"`
	Language string `json:"l"`
}

var templatesByName = keyset[templateRow, templateCursor]{
	key:   func(r templateRow) templateCursor { return templateCursor{Name: r.Name, Language: r.Language} },
	valid: func(c templateCursor) bool { return c.Name != "" && c.Language != "" },
}

// Templates lists a channel's templates by name, then language: the order of the
// templates_name_key index, which serves the keyset.
func (s *Store) Templates(ctx context.Context, ws, channelID uuid.UUID, p page.Request) ([]template.Template, string, error) {
	return list(templatesByName, p, func(after *templateCursor, limit int) ([]templateRow, error) {
		args := params{ws, channelID}
		cond := ""
		if after != nil {
			cond = ` AND (name, language) > (` + args.add(after.Name) + `, ` + args.add(after.Language) + `)`
		}
		q := `SELECT ` + templateColumns + ` FROM templates WHERE workspace_id = $1 AND channel_id = $2` + cond + `
ORDER BY name, language
LIMIT ` + args.add(limit)
		rows, err := queryRows[templateRow](ctx, s.Pool, q, args...)
		if err != nil {
			return nil, fmt.Errorf("list templates: %w", err)
		}
		return rows, nil
	}, templateRow.domain)
}

// UpdateTemplate locks a template, applies the change and saves it. Renaming onto a name and
// language the channel already has is template.ErrExists.
func (s *Store) UpdateTemplate(ctx context.Context, ws, id uuid.UUID, apply func(*template.Template) ([]audit.Record, error)) (template.Template, error) {
	return templateChange.runAudited(ctx, s, ws, apply, ws, id)
}

var templateChange = change[templateRow, template.Template]{
	lock:    `SELECT ` + templateColumns + ` FROM templates WHERE workspace_id = $1 AND id = $2 FOR UPDATE`,
	missing: template.ErrNotFound,
	domain:  templateRow.domain,
	save: func(t template.Template) (string, []any) {
		const q = `
UPDATE templates SET name = $3, language = $4, category = $5, status = $6, body = $7, header = $8, footer = $9,
       buttons = $10, updated_at = $11
WHERE workspace_id = $1 AND id = $2`
		r := toTemplateRow(t)
		return q, []any{r.WorkspaceID, r.ID, r.Name, r.Language, r.Category, r.Status, r.Body, r.Header, r.Footer,
			r.Buttons, r.UpdatedAt}
	},
	what: "template",
	explain: func(ctx context.Context, s *Store, err error, t template.Template) error {
		return s.templateExists(ctx, err, t)
	},
}

// DeleteTemplate deletes a template with its audit record, in one statement. Messages keep
// their rendered text, not a reference.
func (s *Store) DeleteTemplate(ctx context.Context, ws, id uuid.UUID, rec audit.Record) error {
	const q = `DELETE FROM templates WHERE workspace_id = $1 AND id = $2 RETURNING id`
	found, err := s.execAudited(ctx, ws, statement{q, []any{ws, id}}, rec)
	if err != nil {
		return fmt.Errorf("delete template: %w", err)
	}
	if !found {
		return template.ErrNotFound
	}
	return nil
}
