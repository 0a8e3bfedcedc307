package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/rules"
	"github.com/switchboard/switchboard/pkg/template"
)

// monthStart is the first instant of t's calendar month in UTC: the key of channel_usage.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Send runs one rule-checked send in one transaction. The Idempotency-Key is claimed first,
// so a duplicate waits here and replays; then the conversation and the identity are locked
// (in that order, as in every path that takes both), the rules decide on what is read under
// those locks, and the message, its count, the conversation's change and the delivery job
// commit together.
//
// It runs on pgx directly, in three round trips: BEGIN with one statement that locks and reads
// everything the rules need; the delivery job; and one batch with the writes, the idempotent
// answer, the events and COMMIT. The events go last, so the workspace's event lock is held
// only while PostgreSQL finishes that batch (see pgxTx).
func (s *Store) Send(ctx context.Context, in conversation.Send) (conversation.Sent, *conversation.Replay, error) {
	var out conversation.Sent
	var replay *conversation.Replay
	err := s.pgxTx(ctx, func(tx pgx.Tx) (last *pgx.Batch, read func(*batchResults), err error) {
		out, replay, last, read, err = s.send(ctx, tx, in)
		return last, read, err
	})
	if err != nil {
		return conversation.Sent{}, nil, err
	}
	return out, replay, nil
}

// send does the work of Send up to its last batch, which it returns with the function that
// reads the batch's results (nil when a replay ends the transaction early).
func (s *Store) send(ctx context.Context, tx pgx.Tx, in conversation.Send) (conversation.Sent, *conversation.Replay, *pgx.Batch, func(*batchResults), error) {
	ws := in.WorkspaceID
	if in.Idempotency != nil {
		r, err := claimIdempotency(ctx, tx, ws, *in.Idempotency, in.Now)
		if err != nil || r != nil {
			return conversation.Sent{}, r, nil, nil, err
		}
	}
	st, sender, err := lockSend(ctx, tx, in)
	if err != nil {
		return conversation.Sent{}, nil, nil, nil, err
	}
	if in.TemplateName != "" {
		if st.Template, err = templateByName(ctx, tx, ws, st.Channel.ID, in.TemplateName, in.TemplateLanguage); err != nil {
			return conversation.Sent{}, nil, nil, nil, err
		}
	}
	month := monthStart(in.Now)
	if st.Channel.Type == rules.Viber {
		const q = `SELECT coalesce((SELECT initiated FROM channel_usage WHERE workspace_id = $1 AND channel_id = $2 AND month = $3), 0)`
		if err := tx.QueryRow(ctx, q, ws, st.Channel.ID, month).Scan(&st.MonthInitiated); err != nil {
			return conversation.Sent{}, nil, nil, nil, fmt.Errorf("read channel usage: %w", err)
		}
	}

	m, decision, events, err := in.Decide(&st)
	if err != nil {
		return conversation.Sent{}, nil, nil, nil, err
	}
	// The locked row, as changed, is the answer; a new assignee is the sender, read with the
	// locks, or else (not a path a send takes today) read here.
	c := st.Conversation
	if c.AssigneeID != nil && c.Assignee == nil {
		if sender != nil && sender.ID == *c.AssigneeID {
			c.Assignee = sender
		} else if c.Assignee, err = assigneeByID(ctx, tx, ws, *c.AssigneeID); err != nil {
			return conversation.Sent{}, nil, nil, nil, err
		}
	}
	if err := s.enqueueDelivery(ctx, tx, ws, m.ID); err != nil {
		return conversation.Sent{}, nil, nil, nil, err
	}

	b := &pgx.Batch{}
	insert, err := messageInsert(m)
	if err != nil {
		return conversation.Sent{}, nil, nil, nil, err
	}
	insert.queue(b)
	b.Queue(`UPDATE contact_identities SET outbound_since_inbound = outbound_since_inbound + 1, updated_at = $1 WHERE workspace_id = $2 AND id = $3`,
		in.Now, ws, st.Identity.ID)
	limit := -1
	if decision.Initiated {
		limit = countInitiated(b, ws, st.Channel, month)
	}
	conversationUpdate(st.Conversation).queue(b)
	if len(events) > 0 {
		eventsInsert(events).queue(b)
	}
	out := conversation.Sent{Message: m, Conversation: c, Decision: decision}
	if idem := in.Idempotency; idem != nil {
		status, body, err := idem.Render(out)
		if err != nil {
			return conversation.Sent{}, nil, nil, nil, fmt.Errorf("render idempotent answer: %w", err)
		}
		out.Body = body
		b.Queue(`UPDATE idempotency_keys SET response_status = $1, response_body = $2 WHERE workspace_id = $3 AND key = $4`,
			status, body, ws, idem.Key)
	}
	pub, err := s.publishStatement(ws, append([]pending{messageCreated(m)}, conversationEvents(events, c)...))
	if err != nil {
		return conversation.Sent{}, nil, nil, nil, err
	}
	pub.queue(b)

	read := func(r *batchResults) {
		r.exec(wrapf("insert message"))
		r.exec(wrapf("count outbound"))
		if decision.Initiated && r.err == nil {
			rows, err := r.br.Query()
			var n []int
			if err == nil {
				n, err = pgx.CollectRows(rows, pgx.RowTo[int])
			}
			switch {
			case err != nil:
				r.err = fmt.Errorf("count initiated message: %w", err)
			case len(n) == 0 || (limit >= 0 && n[0] > limit):
				r.err = conversation.ErrQuotaRace
			}
		}
		r.exec(conversationSaveError)
		if len(events) > 0 {
			r.exec(wrapf("insert conversation events"))
		}
		if in.Idempotency != nil {
			r.exec(wrapf("save idempotent answer"))
		}
		r.exec(wrapf("publish events"))
	}
	if decision.Initiated {
		// The count is checked before COMMIT, so this batch goes out without it (Viber's
		// chatbot-initiated messages only).
		if err := runBatch(ctx, tx, b, read); err != nil {
			return conversation.Sent{}, nil, nil, nil, err
		}
		return out, nil, nil, nil, nil
	}
	return out, nil, b, read, nil
}

// sendLockSQL locks the contact's conversation, then (the identity's lookup needs the
// conversation's contact, so it cannot run first) the identity on channel $3, and reads the
// channel and the sending user ($4) with them: everything the rules and the answer need, in
// one round trip. A missing channel or identity comes back as NULLs.
const sendLockSQL = `
WITH v AS (` + conversationSelect + `
    WHERE v.workspace_id = $1 AND v.contact_id = $2
    FOR UPDATE OF v)
SELECT v.*,
       ch.id, ch.type, ch.name, ch.provider, ch.config, ch.secrets, ch.secret_names, ch.rule_options, ch.archived_at,
       ch.created_at, ch.updated_at,
       i.id, i.identifier, i.last_inbound_at, i.outbound_since_inbound, i.created_at, i.updated_at,
       su.name, su.email
FROM v
LEFT JOIN channels ch ON ch.workspace_id = $1 AND ch.id = $3
LEFT JOIN LATERAL (
    SELECT * FROM contact_identities i
    WHERE i.workspace_id = $1 AND i.contact_id = v.contact_id AND i.channel_id = $3
    FOR UPDATE) i ON true
LEFT JOIN users su ON su.workspace_id = $1 AND su.id = $4`

// lockSend locks the conversation and the identity to send to and reads the state the rules
// decide on, and the sender's name for the answer (nil without a sending user). The identity
// is the one on in.ChannelID, or on the contact's default channel (the one they last wrote
// on, else the newest identity) when it is nil.
func lockSend(ctx context.Context, tx pgx.Tx, in conversation.Send) (conversation.SendState, *conversation.Assignee, error) {
	ws := in.WorkspaceID
	channelID := in.ChannelID
	if channelID == nil {
		// Lock the conversation before reading which identity is the default, as the
		// statement below would.
		var id uuid.UUID
		err := tx.QueryRow(ctx, `SELECT id FROM conversations WHERE workspace_id = $1 AND contact_id = $2 FOR UPDATE`, ws, in.ContactID).Scan(&id)
		if isNotFound(err) {
			return conversation.SendState{}, nil, contact.ErrNotFound
		}
		if err != nil {
			return conversation.SendState{}, nil, fmt.Errorf("get conversation: %w", err)
		}
		best, err := defaultIdentity(ctx, tx, ws, in.ContactID)
		if err != nil {
			return conversation.SendState{}, nil, err
		}
		channelID = &best
	}
	var (
		cr                                       conversationRow
		chID, idID                               *uuid.UUID
		chType, chName, chProvider, idIdentifier *string
		chConfig, chRules                        map[string]any
		chSecrets                                []byte
		chSecretNames                            []string
		chArchived, chCreated, chUpdated         *time.Time
		idLastInbound, idCreated, idUpdated      *time.Time
		idOutbound                               *int
		senderName, senderEmail                  *string
	)
	b := &pgx.Batch{}
	row := b.Queue(sendLockSQL, ws, in.ContactID, *channelID, in.UserID)
	var err error
	row.QueryRow(func(row pgx.Row) error {
		err = row.Scan(
			&cr.WorkspaceID, &cr.ID, &cr.ContactID, &cr.Status, &cr.AssigneeID, &cr.LastMessageAt, &cr.LastMessageID,
			&cr.LastMessageChannelID, &cr.LastMessageDirection, &cr.LastMessageType, &cr.LastMessageText,
			&cr.ClosedAt, &cr.ClosingCategory, &cr.ClosingSummary, &cr.ClosingAt, &cr.ClosingActorKind, &cr.ClosingActorID,
			&cr.CreatedAt, &cr.UpdatedAt,
			&cr.ContactFirstName, &cr.ContactLastName, &cr.ContactEmail, &cr.ContactPhone, &cr.AssigneeName, &cr.AssigneeEmail,
			&chID, &chType, &chName, &chProvider, &chConfig, &chSecrets, &chSecretNames, &chRules, &chArchived, &chCreated, &chUpdated,
			&idID, &idIdentifier, &idLastInbound, &idOutbound, &idCreated, &idUpdated,
			&senderName, &senderEmail)
		return nil
	})
	if berr := tx.SendBatch(ctx, b).Close(); err == nil {
		err = berr
	}
	if isNotFound(err) {
		return conversation.SendState{}, nil, contact.ErrNotFound
	}
	if err != nil {
		return conversation.SendState{}, nil, fmt.Errorf("lock send: %w", err)
	}
	if chID == nil {
		return conversation.SendState{}, nil, errkind.Invalid(errkind.Field{Field: "channel_id", Message: "must be a channel of this workspace"})
	}
	if chConfig == nil {
		chConfig = map[string]any{}
	}
	if chRules == nil {
		chRules = map[string]any{}
	}
	if chSecretNames == nil {
		chSecretNames = []string{}
	}
	ch := channelRow{WorkspaceID: ws, ID: *chID, Type: *chType, Name: *chName, Provider: *chProvider, Config: chConfig,
		Secrets: chSecrets, SecretNames: chSecretNames, RuleOptions: chRules, ArchivedAt: chArchived,
		CreatedAt: *chCreated, UpdatedAt: *chUpdated}.domain()
	if ch.Archived() {
		return conversation.SendState{}, nil, channel.ErrArchived
	}
	if idID == nil {
		return conversation.SendState{}, nil, conversation.ErrNoChannelIdentity
	}
	ir := identityRow{WorkspaceID: ws, ID: *idID, ContactID: in.ContactID, ChannelID: ch.ID, Identifier: *idIdentifier,
		LastInboundAt: idLastInbound, OutboundSinceInbound: *idOutbound, CreatedAt: *idCreated, UpdatedAt: *idUpdated,
		ChannelType: string(ch.Type)}
	st := conversation.SendState{Conversation: cr.domain(), Identity: ir.domain(), Channel: ch}
	var sender *conversation.Assignee
	if in.UserID != nil && senderName != nil {
		sender = &conversation.Assignee{ID: *in.UserID, Name: *senderName, Email: deref(senderEmail)}
	}
	return st, sender, nil
}

// defaultIdentity is the channel of the contact's default identity on a live channel.
func defaultIdentity(ctx context.Context, tx pgx.Tx, ws, contactID uuid.UUID) (uuid.UUID, error) {
	const q = `
SELECT i.id, i.channel_id, i.last_inbound_at, i.created_at
FROM contact_identities i JOIN channels ch ON ch.workspace_id = i.workspace_id AND ch.id = i.channel_id
WHERE i.workspace_id = $1 AND i.contact_id = $2 AND ch.archived_at IS NULL`
	rows, _ := tx.Query(ctx, q, ws, contactID)
	ids, err := scanAll(rows, 4, func(i *channel.Identity) []any {
		return []any{&i.ID, &i.ChannelID, &i.LastInboundAt, &i.CreatedAt}
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("read identities: %w", err)
	}
	best := conversation.DefaultIdentity(ids)
	if best == nil {
		return uuid.Nil, conversation.ErrNoChannelIdentity
	}
	return best.ChannelID, nil
}

// assigneeByID reads a user's name and email for a conversation's assignee.
func assigneeByID(ctx context.Context, tx pgx.Tx, ws, id uuid.UUID) (*conversation.Assignee, error) {
	var name string
	var email *string
	err := tx.QueryRow(ctx, `SELECT name, email FROM users WHERE workspace_id = $1 AND id = $2`, ws, id).Scan(&name, &email)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read assignee: %w", err)
	}
	return &conversation.Assignee{ID: id, Name: name, Email: deref(email)}, nil
}

// countInitiated queues the count of a chatbot-initiated message against the channel's month
// and returns the limit its answer is checked against (-1: none). Without the commercial
// terms the increment is guarded by the limit, so two sends that both read the last free unit
// cannot both pass: the second finds the guard false and gets no row.
func countInitiated(b *pgx.Batch, ws uuid.UUID, ch channel.Channel, month time.Time) int {
	limit := -1
	if !ch.RuleOptions.CommercialTermsAccepted {
		limit = ch.RuleOptions.MonthlyInitiatedLimit
	}
	const q = `
INSERT INTO channel_usage (workspace_id, channel_id, month, initiated) VALUES ($1, $2, $3, 1)
ON CONFLICT (workspace_id, channel_id, month) DO UPDATE SET initiated = channel_usage.initiated + 1
    WHERE $4 < 0 OR channel_usage.initiated < $4
RETURNING initiated`
	b.Queue(q, ws, ch.ID, month, limit)
	return limit
}

// templateByName returns the channel's template with the name and language, or nil.
func templateByName(ctx context.Context, tx pgx.Tx, ws, ch uuid.UUID, name, language string) (*template.Template, error) {
	const q = `
SELECT workspace_id, id, channel_id, name, language, category, status, body, header, footer, buttons, created_at, updated_at
FROM templates WHERE workspace_id = $1 AND channel_id = $2 AND name = $3 AND language = $4`
	var r templateRow
	var buttons []byte
	err := tx.QueryRow(ctx, q, ws, ch, name, language).Scan(&r.WorkspaceID, &r.ID, &r.ChannelID, &r.Name, &r.Language,
		&r.Category, &r.Status, &r.Body, &r.Header, &r.Footer, &buttons, &r.CreatedAt, &r.UpdatedAt)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	if err := r.Buttons.Scan(buttons); err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t := r.domain()
	return &t, nil
}

// eligibilityRow is a row of the eligibility query: a contact's identity (nil columns when the
// contact has none) with its channel and this month's usage.
type eligibilityRow struct {
	ContactID            uuid.UUID
	IdentityID           *uuid.UUID
	ChannelID            *uuid.UUID
	ChannelType          *string
	Identifier           *string
	LastInboundAt        *time.Time
	OutboundSinceInbound *int32
	IdentityCreatedAt    *time.Time
	RuleOptions          jsonObject
	Initiated            int32
}

// Eligibility reads a contact's identities on live channels with what the rules need, in one
// query; a contact that does not exist is contact.ErrNotFound. Every eligibility answer runs
// it, so it goes to pgx directly and scans by position: gorm's reflection over database/sql
// was most of the Go CPU the endpoint spent.
func (s *Store) Eligibility(ctx context.Context, ws, contactID uuid.UUID, now time.Time) ([]conversation.EligibilityRow, error) {
	const q = `
SELECT c.id AS contact_id, i.id AS identity_id, i.channel_id, ch.type AS channel_type, i.identifier,
       i.last_inbound_at, i.outbound_since_inbound, i.created_at AS identity_created_at, ch.rule_options,
       coalesce(u.initiated, 0) AS initiated
FROM contacts c
LEFT JOIN contact_identities i ON i.workspace_id = c.workspace_id AND i.contact_id = c.id
LEFT JOIN channels ch ON ch.workspace_id = i.workspace_id AND ch.id = i.channel_id
LEFT JOIN channel_usage u ON u.workspace_id = ch.workspace_id AND u.channel_id = ch.id AND u.month = $1
WHERE c.workspace_id = $2 AND c.id = $3 AND (i.id IS NULL OR ch.archived_at IS NULL)
ORDER BY i.created_at, i.id`
	rows, _ := s.Pool.Query(ctx, q, monthStart(now), ws, contactID)
	found, err := scanAll(rows, 4, func(r *eligibilityRow) []any {
		return []any{&r.ContactID, &r.IdentityID, &r.ChannelID, &r.ChannelType, &r.Identifier, &r.LastInboundAt,
			&r.OutboundSinceInbound, &r.IdentityCreatedAt, &r.RuleOptions, &r.Initiated}
	})
	if err != nil {
		return nil, fmt.Errorf("read eligibility: %w", err)
	}
	if len(found) == 0 {
		// Either no such contact, or its only identities are on archived channels.
		if err := s.checkContact(ctx, ws, contactID); err != nil {
			return nil, err
		}
		return []conversation.EligibilityRow{}, nil
	}
	out := make([]conversation.EligibilityRow, 0, len(found))
	for _, r := range found {
		if r.IdentityID == nil {
			continue
		}
		t := rules.ChannelType(*r.ChannelType)
		ch := channelRow{WorkspaceID: ws, ID: *r.ChannelID, Type: *r.ChannelType, RuleOptions: r.RuleOptions}.domain()
		out = append(out, conversation.EligibilityRow{
			Identity: channel.Identity{WorkspaceID: ws, ID: *r.IdentityID, ContactID: r.ContactID, ChannelID: *r.ChannelID,
				ChannelType: t, Identifier: *r.Identifier, LastInboundAt: r.LastInboundAt,
				OutboundSinceInbound: int(*r.OutboundSinceInbound), CreatedAt: *r.IdentityCreatedAt},
			Channel:        ch,
			MonthInitiated: int(r.Initiated),
		})
	}
	return out, nil
}

func (s *Store) checkContact(ctx context.Context, ws, id uuid.UUID) error {
	var ok bool
	if err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM contacts WHERE workspace_id = $1 AND id = $2)`, ws, id).Scan(&ok); err != nil {
		return fmt.Errorf("check contact: %w", err)
	}
	if !ok {
		return contact.ErrNotFound
	}
	return nil
}

// Message returns one message of the workspace.
func (s *Store) Message(ctx context.Context, ws, id uuid.UUID) (conversation.Message, error) {
	var r messageRow
	err := s.Pool.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages m WHERE m.workspace_id = $1 AND m.id = $2`, ws, id).
		Scan(messageFields(&r)...)
	if isNotFound(err) {
		return conversation.Message{}, conversation.ErrMessageNotFound
	}
	if err != nil {
		return conversation.Message{}, fmt.Errorf("get message: %w", err)
	}
	return r.domain(), nil
}
