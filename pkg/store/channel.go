package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/job"
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
	// Routing (migration 0021): RoutingTeamID nil is no routing.
	RoutingTeamID  *uuid.UUID
	RoutingMode    string
	RoutingMaxOpen *int32
	ArchivedAt     *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
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
		Routing: routingOf(r), ArchivedAt: r.ArchivedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func routingOf(r channelRow) channel.Routing {
	out := channel.Routing{TeamID: r.RoutingTeamID, Mode: channel.RoutingMode(r.RoutingMode)}
	if out.Mode == "" {
		out.Mode = channel.RoutingManual
	}
	if r.RoutingMaxOpen != nil {
		n := int(*r.RoutingMaxOpen)
		out.MaxOpenPerAgent = &n
	}
	return out
}

func toChannelRow(c channel.Channel) channelRow {
	r := channelRow{WorkspaceID: c.WorkspaceID, ID: c.ID, Type: string(c.Type), Name: c.Name, Provider: c.Provider,
		Config: jsonObject(c.Config), Secrets: c.Secrets, SecretNames: textArray(c.SecretNames),
		RuleOptions: jsonObject(c.RuleOptions.Map(c.Type)), ArchivedAt: c.ArchivedAt, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		RoutingTeamID: c.Routing.TeamID, RoutingMode: string(c.Routing.Mode)}
	if r.RoutingMode == "" {
		r.RoutingMode = string(channel.RoutingManual)
	}
	if n := c.Routing.MaxOpenPerAgent; n != nil {
		v := int32(*n)
		r.RoutingMaxOpen = &v
	}
	return r
}

// CreateChannel stores a channel with its audit record, in one statement.
func (s *Store) CreateChannel(ctx context.Context, c channel.Channel, rec audit.Record) error {
	const q = `INSERT INTO channels (` + channelColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id`
	r := toChannelRow(c)
	st := statement{q, []any{r.WorkspaceID, r.ID, r.Type, r.Name, r.Provider, r.Config, r.Secrets, r.SecretNames, r.RuleOptions,
		r.RoutingTeamID, r.RoutingMode, r.RoutingMaxOpen, r.ArchivedAt, r.CreatedAt, r.UpdatedAt}}
	if _, err := s.execAudited(ctx, c.WorkspaceID, st, rec); err != nil {
		return fmt.Errorf("insert channel: %w", err)
	}
	return nil
}

// Channel returns one channel, archived or not. It reads straight through pgx: every inbound
// message starts with it, and gorm's reflection cost more than the query.
func (s *Store) Channel(ctx context.Context, ws, id uuid.UUID) (channel.Channel, error) {
	r, err := queryRow[channelRow](ctx, s.Pool, channelSQL, ws, id)
	if isNotFound(err) {
		return channel.Channel{}, channel.ErrNotFound
	}
	if err != nil {
		return channel.Channel{}, fmt.Errorf("get channel: %w", err)
	}
	return r.domain(), nil
}

// channelColumns are channelRow's columns.
const channelColumns = `workspace_id, id, type, name, provider, config, secrets, secret_names, rule_options,
       routing_team_id, routing_mode, routing_max_open, archived_at, created_at, updated_at`

// Channels lists channels, oldest first.
func (s *Store) Channels(ctx context.Context, ws uuid.UUID, f channel.Filter, p page.Request) ([]channel.Channel, string, error) {
	cond := map[string]any{"workspace_id": ws}
	if !f.IncludeArchived {
		cond["archived_at"] = nil
	}
	q := s.conn(ctx).Where(cond)
	return listByID(q, channelsByID, false, p, channelRow.domain, "channels")
}

var channelsByID = byID(func(r channelRow) uuid.UUID { return r.ID }, true)

// UpdateChannel locks a channel, applies the change and saves it. The type never changes. A
// change of its rule options refreshes the reply windows of its contacts (job.RefreshWindows,
// in the same transaction): a custom channel's window_hours moves their windows' closes, the
// HUMAN_AGENT tag adds or removes the tag period's alerts.
func (s *Store) UpdateChannel(ctx context.Context, ws, id uuid.UUID, apply func(*channel.Channel) ([]audit.Record, error)) (channel.Channel, error) {
	c := channelChange
	c.also = func(ctx context.Context, tx pgx.Tx, before, after channel.Channel) error {
		if before.RuleOptions == after.RuleOptions {
			return nil
		}
		return s.refreshWindows(ctx, tx, ws, id)
	}
	return c.runAudited(ctx, s, ws, apply, ws, id)
}

// refreshWindows enqueues, inside tx, the refresh of the reply windows of the channel's
// contacts.
func (s *Store) refreshWindows(ctx context.Context, tx pgx.Tx, ws, channelID uuid.UUID) error {
	if err := s.queue.InsertTx(ctx, tx, job.RefreshWindows{WorkspaceID: ws, ChannelID: channelID}, nil); err != nil {
		return fmt.Errorf("enqueue window refresh: %w", err)
	}
	return nil
}

const (
	// channelSQL reads a channel of a workspace (a send reads it in lockSend's batch).
	channelSQL = `SELECT ` + channelColumns + ` FROM channels WHERE workspace_id = $1 AND id = $2`
	// lockChannel locks a channel's row.
	lockChannel = channelSQL + ` FOR UPDATE`
)

var channelChange = change[channelRow, channel.Channel]{
	lock:    lockChannel,
	missing: channel.ErrNotFound,
	domain:  channelRow.domain,
	save: func(c channel.Channel) (string, []any) {
		const q = `
UPDATE channels SET name = $3, provider = $4, config = $5, secrets = $6, secret_names = $7, rule_options = $8, updated_at = $9,
       routing_team_id = $10, routing_mode = $11, routing_max_open = $12
WHERE workspace_id = $1 AND id = $2`
		r := toChannelRow(c)
		return q, []any{r.WorkspaceID, r.ID, r.Name, r.Provider, r.Config, r.Secrets, r.SecretNames, r.RuleOptions, r.UpdatedAt,
			r.RoutingTeamID, r.RoutingMode, r.RoutingMaxOpen}
	},
	what: "channel",
	// The routing team's foreign key is the check that it is a team of the channel's
	// workspace: another workspace's team, or none, fails it.
	explain: func(_ context.Context, _ *Store, err error, _ channel.Channel) error {
		if code, constraint := pgCode(err); code == foreignKeyViolation && constraint == "channels_routing_team_fkey" {
			return channel.ErrRoutingTeamUnknown
		}
		return err
	},
}

// moveDefaultsOffSQL gives the conversations whose default channel is $2, which is being
// deleted, the next one: their contact's newest identity on another live channel. A channel
// without messages has no identity the customer wrote on, and a contact whose default it is
// wrote on no live channel, so the next one has no window either.
const moveDefaultsOffSQL = `
UPDATE conversations v SET window_identity_id = d.id, window_channel_id = d.channel_id, window_inbound_at = d.last_inbound_at,
       window_sent = coalesce(d.outbound_since_inbound, 0), window_open_until = NULL, window_alert = NULL, window_alert_at = NULL
FROM (SELECT DISTINCT contact_id FROM contact_identities WHERE workspace_id = $1 AND channel_id = $2) x
LEFT JOIN LATERAL (
    SELECT i.id, i.channel_id, i.last_inbound_at, i.outbound_since_inbound
    FROM contact_identities i JOIN channels ch ON ch.workspace_id = i.workspace_id AND ch.id = i.channel_id AND ch.archived_at IS NULL
    WHERE i.workspace_id = $1 AND i.contact_id = x.contact_id AND i.channel_id <> $2
    ORDER BY i.last_inbound_at DESC NULLS LAST, i.created_at DESC
    LIMIT 1) d ON true
WHERE v.workspace_id = $1 AND v.contact_id = x.contact_id AND v.window_channel_id = $2`

// DeleteChannel deletes a channel that has no messages, with its identities, or archives
// one that has. The channel row is locked first: a message insert checks its foreign key
// against that row, so no message can slip in between the check and the delete. Two round
// trips: BEGIN with the lock and then the check (a statement of its own, so it reads after
// the lock is held); the delete or the archive with COMMIT, and the audit entry record makes of
// the channel and whether it was archived.
func (s *Store) DeleteChannel(ctx context.Context, ws, id uuid.UUID, now time.Time, record func(channel.Channel, bool) audit.Record) (bool, error) {
	archived := false
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		var c channelRow
		var found, used bool
		b := &batch{}
		queueRow(b, "lock channel", &c, &found, statement{lockChannel, []any{ws, id}})
		queueValue(b, "check channel messages", &used,
			statement{`SELECT EXISTS (SELECT 1 FROM messages WHERE workspace_id = $1 AND channel_id = $2)`, []any{ws, id}})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		if !found {
			return nil, channel.ErrNotFound
		}
		b = &batch{}
		if !used {
			b.exec("move default channels", statement{moveDefaultsOffSQL, []any{ws, id}})
			b.exec("delete channel", statement{`DELETE FROM channels WHERE workspace_id = $1 AND id = $2`, []any{ws, id}})
			return b, s.queueAudit(ctx, b, ws, record(c.domain(), false))
		}
		archived = true
		if c.ArchivedAt != nil {
			return nil, nil
		}
		// Its identities are no one's default channel any more: the conversations whose
		// contacts wrote on it take their next one's window. (Deleted, a channel had no
		// messages, so no window to give up.)
		if err := s.refreshWindows(ctx, tx, ws, id); err != nil {
			return nil, err
		}
		b.exec("archive channel", statement{`UPDATE channels SET archived_at = $1, updated_at = $1 WHERE workspace_id = $2 AND id = $3`,
			[]any{now, ws, id}})
		return b, s.queueAudit(ctx, b, ws, record(c.domain(), true))
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

// identityColumns are identityRow's columns, of contact_identities i joined to channels ch.
const identityColumns = `i.workspace_id, i.id, i.contact_id, i.channel_id, i.identifier, i.last_inbound_at,
       i.outbound_since_inbound, i.created_at, i.updated_at, ch.type AS channel_type`

// Identities lists a contact's identities in the order they were made.
func (s *Store) Identities(ctx context.Context, ws, contactID uuid.UUID, p page.Request) ([]channel.Identity, string, error) {
	return list(identitiesByID, p, func(after *idCursor, limit int) ([]identityRow, error) {
		args := params{ws, contactID}
		cond := ""
		if after != nil {
			cond = ` AND i.id > ` + args.add(after.ID)
		}
		q := `SELECT ` + identityColumns + `
FROM contact_identities i JOIN channels ch ON ch.workspace_id = i.workspace_id AND ch.id = i.channel_id
WHERE i.workspace_id = $1 AND i.contact_id = $2` + cond + `
ORDER BY i.id
LIMIT ` + args.add(limit)
		rows, err := queryRows[identityRow](ctx, s.Pool, q, args...)
		if err != nil {
			return nil, fmt.Errorf("list identities: %w", err)
		}
		if len(rows) == 0 {
			found, err := exists(ctx, s.Pool, `SELECT EXISTS (SELECT 1 FROM contacts WHERE workspace_id = $1 AND id = $2)`, ws, contactID)
			if err != nil {
				return nil, fmt.Errorf("check contact: %w", err)
			}
			if !found {
				return nil, contact.ErrNotFound
			}
		}
		return rows, nil
	}, identityRow.domain)
}

var identitiesByID = byID(func(r identityRow) uuid.UUID { return r.ID }, true)

// The statements of CreateIdentity.
const (
	insertIdentityRowSQL = `
INSERT INTO contact_identities (workspace_id, id, contact_id, channel_id, identifier, last_inbound_at,
                                outbound_since_inbound, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	// newestDefaultSQL makes the new identity its contact's default channel (migration 0018)
	// when the contact has not written on the default: then the newest identity is the default.
	newestDefaultSQL = `
UPDATE conversations SET window_identity_id = $3, window_channel_id = $4, window_inbound_at = NULL, window_sent = 0,
       window_open_until = NULL, window_alert = NULL, window_alert_at = NULL
WHERE workspace_id = $1 AND contact_id = $2 AND window_inbound_at IS NULL`
	identityHolderSQL = `SELECT contact_id FROM contact_identities WHERE workspace_id = $1 AND channel_id = $2 AND identifier = $3`
)

// CreateIdentity stores an identity, in one transaction of one round trip: the contact's
// conversation's lock (ingestion's order: the conversation, then identities), the identity,
// and the conversation's default channel when the identity is now the contact's newest and
// they never wrote on the default.
func (s *Store) CreateIdentity(ctx context.Context, id *channel.Identity) error {
	r := toIdentityRow(*id)
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		b := &batch{}
		b.exec("lock conversation", statement{`SELECT id FROM conversations WHERE workspace_id = $1 AND contact_id = $2 FOR UPDATE`,
			[]any{r.WorkspaceID, r.ContactID}})
		b.execWrap(statement{insertIdentityRowSQL, []any{r.WorkspaceID, r.ID, r.ContactID, r.ChannelID, r.Identifier, r.LastInboundAt,
			r.OutboundSinceInbound, r.CreatedAt, r.UpdatedAt}}, func(err error) error { return err })
		b.exec("set the default channel", statement{newestDefaultSQL, []any{r.WorkspaceID, r.ContactID, r.ID, r.ChannelID}})
		return b, nil
	})
	if err == nil {
		return nil
	}
	switch code, constraint := pgCode(err); {
	case code == uniqueViolation && constraint == "contact_identities_identifier_key":
		var holder uuid.UUID
		_ = s.Pool.QueryRow(ctx, identityHolderSQL, id.WorkspaceID, id.ChannelID, id.Identifier).Scan(&holder)
		return channel.ErrIdentityExists.With("existing_id", holder.String())
	case code == foreignKeyViolation && constraint == "contact_identities_workspace_id_contact_id_fkey":
		return contact.ErrNotFound
	case code == foreignKeyViolation && constraint == "contact_identities_workspace_id_channel_id_fkey":
		return channel.ErrNotFound
	}
	return fmt.Errorf("insert identity: %w", err)
}
