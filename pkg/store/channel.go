package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/rules"
)

type channelRow struct {
	WorkspaceID uuid.UUID `gorm:"primaryKey"`
	ID          uuid.UUID `gorm:"primaryKey"`
	Type        string
	Name        string
	Provider    string
	Config      jsonObject
	Secrets     []byte
	SecretNames textArray
	RuleOptions jsonObject
	ArchivedAt  *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (channelRow) TableName() string { return "channels" }

func (r channelRow) domain() channel.Channel {
	t := rules.ChannelType(r.Type)
	opts, errs := rules.ParseOptions(t, map[string]any(r.RuleOptions))
	if len(errs) > 0 {
		// Stored options are validated on the way in; options the table has since dropped
		// fall back to the defaults rather than making the channel unreadable.
		opts = rules.DefaultOptions(t)
	}
	return channel.Channel{WorkspaceID: r.WorkspaceID, ID: r.ID, Type: t, Name: r.Name, Provider: r.Provider,
		Config: map[string]any(r.Config), SecretNames: []string(r.SecretNames), Secrets: r.Secrets, RuleOptions: opts,
		ArchivedAt: r.ArchivedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func toChannelRow(c channel.Channel) channelRow {
	return channelRow{WorkspaceID: c.WorkspaceID, ID: c.ID, Type: string(c.Type), Name: c.Name, Provider: c.Provider,
		Config: jsonObject(c.Config), Secrets: c.Secrets, SecretNames: textArray(c.SecretNames),
		RuleOptions: jsonObject(c.RuleOptions.Map(c.Type)), ArchivedAt: c.ArchivedAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// CreateChannel stores a channel.
func (s *Store) CreateChannel(ctx context.Context, c channel.Channel) error {
	r := toChannelRow(c)
	if err := s.conn(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("insert channel: %w", err)
	}
	return nil
}

func channelByID(db *gorm.DB, ws, id uuid.UUID, lock bool) (channel.Channel, error) {
	q := `SELECT * FROM channels WHERE workspace_id = ? AND id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var r channelRow
	res := db.Raw(q, ws, id).Scan(&r)
	if res.Error != nil {
		return channel.Channel{}, fmt.Errorf("get channel: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return channel.Channel{}, channel.ErrNotFound
	}
	return r.domain(), nil
}

// Channel returns one channel, archived or not. It reads straight through pgx: every inbound
// message starts with it, and gorm's reflection cost more than the query.
func (s *Store) Channel(ctx context.Context, ws, id uuid.UUID) (channel.Channel, error) {
	var r channelRow
	err := scanChannel(s.Pool.QueryRow(ctx, `SELECT `+channelColumns+` FROM channels WHERE workspace_id = $1 AND id = $2`, ws, id), &r)
	if isNotFound(err) {
		return channel.Channel{}, channel.ErrNotFound
	}
	if err != nil {
		return channel.Channel{}, fmt.Errorf("get channel: %w", err)
	}
	return r.domain(), nil
}

// channelColumns are a channel's columns in scanChannel's order.
const channelColumns = `workspace_id, id, type, name, provider, config, secrets, secret_names, rule_options,
       archived_at, created_at, updated_at`

// scanChannel reads a row of channelColumns; NULL settings read as empty, as their gorm
// scanners do.
func scanChannel(row pgx.Row, r *channelRow) error {
	err := row.Scan(&r.WorkspaceID, &r.ID, &r.Type, &r.Name, &r.Provider, (*map[string]any)(&r.Config), &r.Secrets,
		(*[]string)(&r.SecretNames), (*map[string]any)(&r.RuleOptions), &r.ArchivedAt, &r.CreatedAt, &r.UpdatedAt)
	if r.Config == nil {
		r.Config = jsonObject{}
	}
	if r.RuleOptions == nil {
		r.RuleOptions = jsonObject{}
	}
	if r.SecretNames == nil {
		r.SecretNames = textArray{}
	}
	return err
}

// Channels lists channels, oldest first.
func (s *Store) Channels(ctx context.Context, ws uuid.UUID, f channel.Filter, p page.Request) ([]channel.Channel, string, error) {
	q := s.conn(ctx).Where("workspace_id = ?", ws)
	if !f.IncludeArchived {
		q = q.Where("archived_at IS NULL")
	}
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
	var rows []channelRow
	if err := q.Order("id").Limit(p.Limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list channels: %w", err)
	}
	next := ""
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		next = page.Encode(idCursor{rows[len(rows)-1].ID})
	}
	out := make([]channel.Channel, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}

// UpdateChannel locks a channel, applies the change and saves it. The type never changes.
func (s *Store) UpdateChannel(ctx context.Context, ws, id uuid.UUID, apply func(*channel.Channel) error) (channel.Channel, error) {
	var out channel.Channel
	err := s.tx(ctx, func(tx *gorm.DB) error {
		c, err := channelByID(tx, ws, id, true)
		if err != nil {
			return err
		}
		if err := apply(&c); err != nil {
			return err
		}
		r := toChannelRow(c)
		const q = `
UPDATE channels SET name = ?, provider = ?, config = ?, secrets = ?, secret_names = ?, rule_options = ?, updated_at = ?
WHERE workspace_id = ? AND id = ?`
		if err := tx.Exec(q, r.Name, r.Provider, r.Config, r.Secrets, r.SecretNames, r.RuleOptions, r.UpdatedAt, ws, id).Error; err != nil {
			return fmt.Errorf("update channel: %w", err)
		}
		out = c
		return nil
	})
	return out, err
}

// DeleteChannel deletes a channel that has no messages, with its identities, or archives
// one that has. The channel row is locked first: a message insert checks its foreign key
// against that row, so no message can slip in between the check and the delete.
func (s *Store) DeleteChannel(ctx context.Context, ws, id uuid.UUID, now time.Time) (bool, error) {
	archived := false
	err := s.tx(ctx, func(tx *gorm.DB) error {
		c, err := channelByID(tx, ws, id, true)
		if err != nil {
			return err
		}
		var used bool
		if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM messages WHERE workspace_id = ? AND channel_id = ?)`, ws, id).Scan(&used).Error; err != nil {
			return fmt.Errorf("check channel messages: %w", err)
		}
		if !used {
			if err := tx.Exec(`DELETE FROM channels WHERE workspace_id = ? AND id = ?`, ws, id).Error; err != nil {
				return fmt.Errorf("delete channel: %w", err)
			}
			return nil
		}
		archived = true
		if c.Archived() {
			return nil
		}
		if err := tx.Exec(`UPDATE channels SET archived_at = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`, now, now, ws, id).Error; err != nil {
			return fmt.Errorf("archive channel: %w", err)
		}
		return nil
	})
	return archived, err
}

type identityRow struct {
	WorkspaceID          uuid.UUID `gorm:"primaryKey"`
	ID                   uuid.UUID `gorm:"primaryKey"`
	ContactID            uuid.UUID
	ChannelID            uuid.UUID
	Identifier           string
	LastInboundAt        *time.Time
	OutboundSinceInbound int
	CreatedAt            time.Time
	UpdatedAt            time.Time
	ChannelType          string `gorm:"->"`
}

func (identityRow) TableName() string { return "contact_identities" }

func (r identityRow) domain() channel.Identity {
	return channel.Identity{WorkspaceID: r.WorkspaceID, ID: r.ID, ContactID: r.ContactID, ChannelID: r.ChannelID,
		ChannelType: rules.ChannelType(r.ChannelType), Identifier: r.Identifier, LastInboundAt: r.LastInboundAt,
		OutboundSinceInbound: r.OutboundSinceInbound, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func toIdentityRow(i channel.Identity) identityRow {
	return identityRow{WorkspaceID: i.WorkspaceID, ID: i.ID, ContactID: i.ContactID, ChannelID: i.ChannelID,
		Identifier: i.Identifier, LastInboundAt: i.LastInboundAt, OutboundSinceInbound: i.OutboundSinceInbound,
		CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt}
}

const identityColumns = `i.workspace_id, i.id, i.contact_id, i.channel_id, i.identifier, i.last_inbound_at,
       i.outbound_since_inbound, i.created_at, i.updated_at, ch.type AS channel_type`

// Identities lists a contact's identities in the order they were made.
func (s *Store) Identities(ctx context.Context, ws, contactID uuid.UUID, p page.Request) ([]channel.Identity, string, error) {
	args := []any{ws, contactID}
	cond := ""
	if p.Cursor != "" {
		var c idCursor
		if err := page.Decode(p.Cursor, &c); err != nil {
			return nil, "", err
		}
		if c.ID == uuid.Nil {
			return nil, "", errkind.ErrInvalidCursor
		}
		cond = ` AND i.id > ?`
		args = append(args, c.ID)
	}
	q := `SELECT ` + identityColumns + `
FROM contact_identities i JOIN channels ch ON ch.workspace_id = i.workspace_id AND ch.id = i.channel_id
WHERE i.workspace_id = ? AND i.contact_id = ?` + cond + `
ORDER BY i.id
LIMIT ?`
	args = append(args, p.Limit+1)
	var rows []identityRow
	if err := s.conn(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list identities: %w", err)
	}
	if len(rows) == 0 {
		var exists bool
		if err := s.conn(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM contacts WHERE workspace_id = ? AND id = ?)`, ws, contactID).Scan(&exists).Error; err != nil {
			return nil, "", fmt.Errorf("check contact: %w", err)
		}
		if !exists {
			return nil, "", contact.ErrNotFound
		}
	}
	next := ""
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		next = page.Encode(idCursor{rows[len(rows)-1].ID})
	}
	out := make([]channel.Identity, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}

// CreateIdentity stores an identity.
func (s *Store) CreateIdentity(ctx context.Context, id *channel.Identity) error {
	r := toIdentityRow(*id)
	err := s.conn(ctx).Create(&r).Error
	if err == nil {
		return nil
	}
	switch code, constraint := pgCode(err); {
	case code == uniqueViolation && constraint == "contact_identities_identifier_key":
		var holder uuid.UUID
		_ = s.Pool.QueryRow(ctx, `SELECT contact_id FROM contact_identities WHERE workspace_id = $1 AND channel_id = $2 AND identifier = $3`,
			id.WorkspaceID, id.ChannelID, id.Identifier).Scan(&holder)
		return channel.ErrIdentityExists.With("existing_id", holder.String())
	case code == foreignKeyViolation && constraint == "contact_identities_workspace_id_contact_id_fkey":
		return contact.ErrNotFound
	case code == foreignKeyViolation && constraint == "contact_identities_workspace_id_channel_id_fkey":
		return channel.ErrNotFound
	}
	return fmt.Errorf("insert identity: %w", err)
}
