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
	"github.com/switchboard/switchboard/pkg/resource"
	"github.com/switchboard/switchboard/pkg/rules"
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
// It runs on pgx directly, in three round trips: BEGIN with the batch that locks and reads
// everything the rules need; the delivery job; and one batch with the writes, the idempotent
// answer, the events (queued for the sequencer: no lock) and COMMIT.
func (s *Store) Send(ctx context.Context, in conversation.Send) (conversation.Sent, *conversation.Replay, error) {
	var out conversation.Sent
	var replay *conversation.Replay
	err := s.pgxTx(ctx, func(tx pgx.Tx) (last *batch, err error) {
		out, replay, last, err = s.send(ctx, tx, in, nil, sendAlone)
		return last, err
	})
	if err != nil {
		return conversation.Sent{}, nil, err
	}
	return out, replay, nil
}

// sendAlso adds a caller's writes to a send's last batch (a scheduled message or a broadcast's
// recipient marked sent). It gets the send's events and returns the events the batch publishes:
// those, with the caller's after them, or none when the caller publishes them itself later in
// the transaction (a broadcast queues a batch of sends' events in one statement).
type sendAlso func(b *batch, out conversation.Sent, evs []pending) ([]pending, error)

// sendMode says what a send leaves to its caller.
type sendMode int

const (
	// sendAlone: the send inserts its delivery job itself.
	sendAlone sendMode = iota
	// sendGrouped: one of a broadcast's group of sends in one transaction. The caller inserts
	// the group's delivery jobs in one statement, and its also records them.
	sendGrouped
)

// send does the work of Send up to its last batch, which it returns (nil when a replay ends
// the transaction, or when the writes had to be checked before COMMIT). also, when not nil,
// adds its writes to that batch.
func (s *Store) send(ctx context.Context, tx pgx.Tx, in conversation.Send, also sendAlso, mode sendMode) (conversation.Sent, *conversation.Replay, *batch, error) {
	if in.Idempotency != nil {
		r, err := claimIdempotency(ctx, tx, in.WorkspaceID, *in.Idempotency, in.Now)
		if err != nil || r != nil {
			return conversation.Sent{}, r, nil, err
		}
	}
	st, sender, err := lockSend(ctx, tx, in)
	if err != nil {
		return conversation.Sent{}, nil, nil, err
	}
	m, decision, events, err := in.Decide(&st)
	if err != nil {
		return conversation.Sent{}, nil, nil, err
	}
	c, err := sentConversation(ctx, tx, st.Conversation, sender)
	if err != nil {
		return conversation.Sent{}, nil, nil, err
	}
	if mode == sendAlone {
		if err := s.enqueueDelivery(ctx, tx, in.WorkspaceID, m.ID); err != nil {
			return conversation.Sent{}, nil, nil, err
		}
	}
	out := conversation.Sent{Message: m, Conversation: c, Decision: decision}
	b, err := s.sendWrites(in, st, &out, events, also)
	if err != nil {
		return conversation.Sent{}, nil, nil, err
	}
	if decision.Initiated {
		// The count is checked before COMMIT, so this batch goes out without it (Viber's
		// chatbot-initiated messages only).
		if err := b.send(ctx, tx); err != nil {
			return conversation.Sent{}, nil, nil, err
		}
		return out, nil, nil, nil
	}
	return out, nil, b, nil
}

// sentConversation is the conversation a send answers with: the locked row as the send
// changed it, with its assignee's name. A new assignee is the sender, read with the locks, or
// else (not a path a send takes today) read here.
func sentConversation(ctx context.Context, tx pgx.Tx, c conversation.Conversation, sender *conversation.Assignee) (conversation.Conversation, error) {
	if c.AssigneeID == nil || c.Assignee != nil {
		return c, nil
	}
	if sender != nil && sender.ID == *c.AssigneeID {
		c.Assignee = sender
		return c, nil
	}
	var err error
	c.Assignee, err = assigneeByID(ctx, tx, c.WorkspaceID, *c.AssigneeID)
	return c, err
}

const (
	countOutboundSQL = `
UPDATE contact_identities SET outbound_since_inbound = outbound_since_inbound + 1, updated_at = $1
WHERE workspace_id = $2 AND id = $3`
	saveAnswerSQL = `
UPDATE idempotency_keys SET response_status = $1, response_body = $2 WHERE workspace_id = $3 AND key = $4`
)

// sendWrites is the batch that commits a send: the message, the identity's count, the
// chatbot-initiated count, the conversation, its events, the idempotent answer and, last,
// the events to publish. It sets out.Body to the idempotent answer.
func (s *Store) sendWrites(in conversation.Send, st conversation.SendState, out *conversation.Sent, events []conversation.Event,
	also sendAlso) (*batch, error) {
	ws := in.WorkspaceID
	insert, err := messageInsert(out.Message)
	if err != nil {
		return nil, err
	}
	b := &batch{}
	b.exec("insert message", insert)
	b.exec("count outbound", statement{countOutboundSQL, []any{in.Now, ws, st.Identity.ID}})
	if out.Decision.Initiated {
		countInitiated(b, ws, st.Channel, monthStart(in.Now))
	}
	queueConversationUpdate(b, st.Conversation)
	if len(events) > 0 {
		b.exec("insert conversation events", eventsInsert(events))
	}
	if idem := in.Idempotency; idem != nil {
		status, body, err := resource.SendAnswer(*out)
		if err != nil {
			return nil, fmt.Errorf("render idempotent answer: %w", err)
		}
		out.Body = body
		b.exec("save idempotent answer", statement{saveAnswerSQL, []any{status, body, ws, idem.Key}})
	}
	evs := append([]pending{messageCreated(out.Message)}, conversationEvents(events, out.Conversation)...)
	if also != nil {
		var err error
		if evs, err = also(b, *out, evs); err != nil {
			return nil, err
		}
	}
	return b, s.queuePublish(b, ws, evs)
}

// The statements of lockSend's batch.
const (
	// lockContactConversationSQL locks a contact's conversation, labels included: the send
	// answers with it.
	lockContactConversationSQL = conversationSelect + `
WHERE v.workspace_id = $1 AND v.contact_id = $2
FOR UPDATE OF v`
	lockIdentitySQL = `
SELECT ` + identityColumns + `
FROM contact_identities i JOIN channels ch ON ch.workspace_id = i.workspace_id AND ch.id = i.channel_id
WHERE i.workspace_id = $1 AND i.contact_id = $2 AND i.channel_id = $3
FOR UPDATE OF i`
	// userNameSQL reads a user's name and email (a userName).
	userNameSQL = `SELECT name, email FROM users WHERE workspace_id = $1 AND id = $2`
	templateSQL = `
SELECT ` + templateColumns + `
FROM templates WHERE workspace_id = $1 AND channel_id = $2 AND name = $3 AND language = $4`
)

// userName is a user as a conversation's assignee shows them (userNameSQL).
type userName struct {
	Name  string
	Email *string
}

func (u userName) assignee(id uuid.UUID) *conversation.Assignee {
	return &conversation.Assignee{ID: id, Name: u.Name, Email: deref(u.Email)}
}

// sendLock is what lockSend reads in one round trip, each row by name from its own statement.
type sendLock struct {
	conv     conversationRow
	identity identityRow
	channel  channelRow
	sender   userName
	template templateRow
	media    []mediaRow
	found    struct{ conv, identity, channel, sender, template bool }
}

// lockSend locks the conversation and the identity to send to and reads the state the rules
// decide on, and the sender's name for the answer (nil without a sending user). The identity
// is the one on in.ChannelID, or on the contact's default channel (the one they last wrote
// on, else the newest identity) when it is nil.
//
// One batch: the conversation's lock, then the identity's (in the order every path takes
// them), the channel, the sending user, the template a template message names, and the media
// its attachments name.
func lockSend(ctx context.Context, tx pgx.Tx, in conversation.Send) (conversation.SendState, *conversation.Assignee, error) {
	ws := in.WorkspaceID
	channelID := in.ChannelID
	if channelID == nil {
		best, err := defaultChannel(ctx, tx, ws, in.ContactID)
		if err != nil {
			return conversation.SendState{}, nil, err
		}
		channelID = &best
	}
	var l sendLock
	b := &batch{}
	queueRow(b, "lock conversation", &l.conv, &l.found.conv, statement{lockContactConversationSQL, []any{ws, in.ContactID}})
	queueRow(b, "lock identity", &l.identity, &l.found.identity, statement{lockIdentitySQL, []any{ws, in.ContactID, *channelID}})
	queueRow(b, "read channel", &l.channel, &l.found.channel, statement{channelSQL, []any{ws, *channelID}})
	if in.UserID != nil {
		queueRow(b, "read sender", &l.sender, &l.found.sender, statement{userNameSQL, []any{ws, *in.UserID}})
	}
	if in.TemplateName != "" {
		queueRow(b, "read template", &l.template, &l.found.template, statement{templateSQL,
			[]any{ws, *channelID, in.TemplateName, in.TemplateLanguage}})
	}
	queueMedia(b, ws, in.MediaIDs, &l.media)
	if err := b.send(ctx, tx); err != nil {
		return conversation.SendState{}, nil, err
	}
	return l.state(ctx, tx, in)
}

// state checks what lockSend found and turns it into the rules' state.
func (l *sendLock) state(ctx context.Context, tx pgx.Tx, in conversation.Send) (conversation.SendState, *conversation.Assignee, error) {
	switch {
	case !l.found.conv:
		return conversation.SendState{}, nil, contact.ErrNotFound
	case !l.found.channel:
		return conversation.SendState{}, nil, errkind.Invalid(errkind.Field{Field: "channel_id", Message: "must be a channel of this workspace"})
	}
	ch := l.channel.domain()
	if ch.Archived() {
		return conversation.SendState{}, nil, channel.ErrArchived
	}
	if !l.found.identity {
		return conversation.SendState{}, nil, conversation.ErrNoChannelIdentity
	}
	st := conversation.SendState{Conversation: l.conv.domain(), Identity: l.identity.domain(), Channel: ch, Media: mediaByID(l.media)}
	if l.found.template {
		t := l.template.domain()
		st.Template = &t
	}
	if ch.Type == rules.Viber {
		const q = `SELECT coalesce((SELECT initiated FROM channel_usage WHERE workspace_id = $1 AND channel_id = $2 AND month = $3), 0)`
		if err := tx.QueryRow(ctx, q, in.WorkspaceID, ch.ID, monthStart(in.Now)).Scan(&st.MonthInitiated); err != nil {
			return conversation.SendState{}, nil, fmt.Errorf("read channel usage: %w", err)
		}
	}
	var sender *conversation.Assignee
	if l.found.sender {
		sender = l.sender.assignee(*in.UserID)
	}
	return st, sender, nil
}

const liveIdentitiesSQL = `
SELECT i.id, i.channel_id, i.last_inbound_at, i.created_at
FROM contact_identities i JOIN channels ch ON ch.workspace_id = i.workspace_id AND ch.id = i.channel_id
WHERE i.workspace_id = $1 AND i.contact_id = $2 AND ch.archived_at IS NULL`

// defaultChannel is the channel of the contact's default identity on a live channel. It
// locks the conversation first, as lockSend would, before reading which identity that is.
func defaultChannel(ctx context.Context, tx pgx.Tx, ws, contactID uuid.UUID) (uuid.UUID, error) {
	var ids []struct {
		ID            uuid.UUID
		ChannelID     uuid.UUID
		LastInboundAt *time.Time
		CreatedAt     time.Time
	}
	var conv struct{ ID uuid.UUID }
	var found bool
	b := &batch{}
	queueRow(b, "lock conversation", &conv, &found, statement{`SELECT id FROM conversations WHERE workspace_id = $1 AND contact_id = $2 FOR UPDATE`,
		[]any{ws, contactID}})
	queueRows(b, "read identities", &ids, statement{liveIdentitiesSQL, []any{ws, contactID}})
	if err := b.send(ctx, tx); err != nil {
		return uuid.Nil, err
	}
	if !found {
		return uuid.Nil, contact.ErrNotFound
	}
	identities := make([]channel.Identity, len(ids))
	for i, r := range ids {
		identities[i] = channel.Identity{ID: r.ID, ChannelID: r.ChannelID, LastInboundAt: r.LastInboundAt, CreatedAt: r.CreatedAt}
	}
	best := conversation.DefaultIdentity(identities)
	if best == nil {
		return uuid.Nil, conversation.ErrNoChannelIdentity
	}
	return best.ChannelID, nil
}

// assigneeByID reads a user's name and email for a conversation's assignee.
func assigneeByID(ctx context.Context, tx pgx.Tx, ws, id uuid.UUID) (*conversation.Assignee, error) {
	r, err := queryRow[userName](ctx, tx, userNameSQL, ws, id)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read assignee: %w", err)
	}
	return r.assignee(id), nil
}

// countInitiated queues the count of a chatbot-initiated message against the channel's month.
// Without the commercial terms the increment is guarded by the channel's monthly limit, so two
// sends that both read the last free unit cannot both pass: the second finds the guard false,
// gets no row and fails the send with conversation.ErrQuotaRace before COMMIT.
func countInitiated(b *batch, ws uuid.UUID, ch channel.Channel, month time.Time) {
	limit := -1
	if !ch.RuleOptions.CommercialTermsAccepted {
		limit = ch.RuleOptions.MonthlyInitiatedLimit
	}
	const q = `
INSERT INTO channel_usage (workspace_id, channel_id, month, initiated) VALUES ($1, $2, $3, 1)
ON CONFLICT (workspace_id, channel_id, month) DO UPDATE SET initiated = channel_usage.initiated + 1
    WHERE $4 < 0 OR channel_usage.initiated < $4
RETURNING initiated`
	b.read(statement{q, []any{ws, ch.ID, month, limit}}, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		var n []int
		if err == nil {
			n, err = pgx.CollectRows(rows, pgx.RowTo[int])
		}
		switch {
		case err != nil:
			return fmt.Errorf("count initiated message: %w", err)
		case len(n) == 0 || (limit >= 0 && n[0] > limit):
			return conversation.ErrQuotaRace
		}
		return nil
	})
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
// it, so it goes to pgx directly: gorm's reflection over database/sql was most of the Go CPU
// the endpoint spent.
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
	found, err := collect[eligibilityRow](rows, 4)
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
