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
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/rules"
)

// ingestRetries bounds how often Ingest starts over after losing a race on a unique index.
const ingestRetries = 3

// retryableIngest reports whether a concurrent ingest (or API call) won a race that a fresh
// attempt resolves by finding what the other one wrote.
func retryableIngest(err error) bool {
	if code, constraint := pgCode(err); code == uniqueViolation {
		switch constraint {
		case "contacts_email_key", "contacts_phone_key", "contact_identities_identifier_key", "messages_external_id_key":
			return true
		}
	}
	return lostToConcurrent(err)
}

// Ingest stores an inbound message with everything around it in one transaction.
//
// Concurrent messages for one identifier serialise on a transaction-scoped advisory lock keyed
// by (workspace, channel, identifier), so twenty messages from a new customer make one contact
// and one identity. Races the lock does not cover (the same new phone on two channels, an
// identity added through the API meanwhile, one external id under two identifiers) end in a
// unique violation; the attempt is then repeated and finds the winner's rows.
//
// Locks are taken in the order conversation, then identity, as in every path that takes both.
// Routing (routeInbound) then locks the channel's team, and the events' workspace lock comes
// last (queuePublish): identifier, conversation, team, workspace events.
func (s *Store) Ingest(ctx context.Context, in conversation.Inbound) (conversation.Ingested, bool, error) {
	for attempt := 1; ; attempt++ {
		out, replayed, err := s.ingestOnce(ctx, in)
		if err != nil && attempt < ingestRetries && retryableIngest(err) {
			continue
		}
		return out, replayed, err
	}
}

// ingestOnce runs on pgx in three round trips when the identity exists: findInbound's batch,
// which begins, takes the identifier's lock and looks up the external id and the identity
// with its contact's conversation, locked; writeInbound's batch, which writes the message, the
// window and the conversation and reads back the answer; and the events with COMMIT. A new
// identity adds addIdentity's lookups and writes; a replay reads the answer with COMMIT.
func (s *Store) ingestOnce(ctx context.Context, in conversation.Inbound) (conversation.Ingested, bool, error) {
	var out conversation.Ingested
	var replay *ingestedReads
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		f, err := findInbound(ctx, tx, in)
		if err != nil {
			return nil, err
		}
		if f.hasPrior {
			replay = &ingestedReads{}
			b := &batch{}
			replay.queue(b, f.prior.message(in.Channel.WorkspaceID))
			return b, nil
		}
		newContact := false
		if !f.found {
			if newContact, err = addIdentity(ctx, tx, in, &f.row); err != nil {
				return nil, err
			}
		}
		m, conv, events, err := applyInbound(in, f.row, mediaByID(f.media))
		if err != nil {
			return nil, err
		}
		var cancelled []scheduledRow
		events, routed, err := routeInbound(ctx, tx, in, &conv, events)
		if err != nil {
			return nil, err
		}
		if out, err = writeInbound(ctx, tx, in, m, conv, events, f.row.IdentityID, routed, &cancelled); err != nil {
			return nil, err
		}
		// m, not out.Message: the pending attachments' provider ids (Ref) are never stored, so
		// only the message as ingested has them for the fetch jobs.
		if err := s.enqueueFetches(ctx, tx, m); err != nil {
			return nil, err
		}
		b := &batch{}
		queueAdoptMedia(b, m)
		teamChanged := !sameID(f.row.TeamID, conv.TeamID)
		return b, s.queuePublish(b, in.Channel.WorkspaceID, append(ingestedEvents(out, newContact, events, teamChanged),
			replyCancelled(cancelled, out.Conversation.ID)...))
	})
	if err != nil {
		return conversation.Ingested{}, false, err
	}
	if replay != nil {
		out, err = replay.answer()
		return out, true, err
	}
	return out, false, nil
}

// ingestedEvents are what an ingestion publishes: a new contact with its conversation, the
// message, the conversation's lifecycle (a reopening, routing's assignment) and the team
// routing gave it.
func ingestedEvents(out conversation.Ingested, newContact bool, events []conversation.Event, teamChanged bool) []pending {
	var evs []pending
	if newContact {
		evs = append(evs, contactEvent(event.ContactCreated, out.Contact),
			pending{typ: event.ConversationOpened, conv: &out.Conversation.ID, v: out.Conversation})
	}
	evs = append(evs, messageCreated(out.Message))
	if teamChanged {
		evs = append(evs, pending{typ: event.ConversationTeamChanged, conv: &out.Conversation.ID, v: out.Conversation})
	}
	return append(evs, conversationEvents(events, out.Conversation)...)
}

// sameID reports whether two optional ids are equal.
func sameID(a, b *uuid.UUID) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// inboundLookup is what findInbound finds under the identifier's lock.
type inboundLookup struct {
	// prior is the message already stored under the external id, if hasPrior.
	prior    priorMessage
	hasPrior bool
	// row is the identity and its contact's conversation, locked; found reports whether the
	// identity exists.
	row   identityConversationRow
	found bool
	// media are the workspace's media among those the message's attachments name.
	media []mediaRow
}

// priorMessage is a message found by its external id.
type priorMessage struct{ ID, ConversationID, ContactID uuid.UUID }

func (p priorMessage) message(ws uuid.UUID) conversation.Message {
	return conversation.Message{WorkspaceID: ws, ID: p.ID, ConversationID: p.ConversationID, ContactID: p.ContactID}
}

// identityConversationRow is an identity's id and its contact's conversation, without its
// labels: the lock's read only decides the changes, and the answer reads the conversation
// again, labels included, after the writes (ingestedReads), so ingestion reads them once.
type identityConversationRow struct {
	IdentityID uuid.UUID
	conversationFields
}

const (
	externalIDSQL = `
SELECT id, conversation_id, contact_id FROM messages WHERE workspace_id = $1 AND channel_id = $2 AND external_id = $3`
	// identityConversationSQL finds the identity and locks its contact's conversation
	// (identityConversationRow).
	identityConversationSQL = `
SELECT i.id AS identity_id, ` + conversationColumns + `
FROM contact_identities i
JOIN conversations v ON v.workspace_id = i.workspace_id AND v.contact_id = i.contact_id` + conversationJoins + `
WHERE i.workspace_id = $1 AND i.channel_id = $2 AND i.identifier = $3
FOR UPDATE OF v`
	// lockNewIdentityConversationSQL locks the conversation of a new identity's contact
	// (identityConversationRow).
	lockNewIdentityConversationSQL = `
SELECT ` + conversationColumns + `
FROM conversations v` + conversationJoins + `
WHERE v.workspace_id = $1 AND v.contact_id = $2
FOR UPDATE OF v`
)

// findInbound takes the identifier's lock and then looks up the external id and the identity
// with its contact's conversation, locking the conversation. Each statement sees what
// committed before it ran, so the lookups see what a transaction that held the lock before us
// wrote.
func findInbound(ctx context.Context, tx pgx.Tx, in conversation.Inbound) (inboundLookup, error) {
	ws, ch := in.Channel.WorkspaceID, in.Channel.ID
	var f inboundLookup
	b := &batch{}
	b.exec("lock identifier", statement{`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`,
		[]any{ws.String() + "/" + ch.String() + "/" + in.Identifier}})
	if x := in.Message.ExternalID; x != nil {
		queueRow(b, "find external id", &f.prior, &f.hasPrior, statement{externalIDSQL, []any{ws, ch, *x}})
	}
	queueRow(b, "find identity", &f.row, &f.found, statement{identityConversationSQL, []any{ws, ch, in.Identifier}})
	queueMedia(b, ws, in.MediaIDs, &f.media)
	return f, b.send(ctx, tx)
}

// applyInbound is the message as stored and the conversation as it changes: in.Attach
// resolves the attachments' media, the message becomes the conversation's last unless a later
// one is (a late delivery), and in.Apply decides the rest (a closed conversation reopens).
func applyInbound(in conversation.Inbound, r identityConversationRow, found map[uuid.UUID]media.Media) (conversation.Message, conversation.Conversation, []conversation.Event, error) {
	conv := r.domain()
	m := in.Message
	if in.Attach != nil {
		atts, err := in.Attach(found)
		if err != nil {
			return conversation.Message{}, conversation.Conversation{}, nil, err
		}
		m.Attachments = atts
	}
	m.ConversationID, m.ContactID, m.IdentityID = conv.ID, r.ContactID, &r.IdentityID
	m.Sender = conversation.Actor{Kind: conversation.ActorContact, ID: r.ContactID}
	if conv.LastMessage == nil || m.CreatedAt.After(conv.LastMessageAt) ||
		(m.CreatedAt.Equal(conv.LastMessageAt) && m.ID.String() > conv.LastMessage.ID.String()) {
		p := m.Preview()
		conv.LastMessage, conv.LastMessageAt = &p, m.CreatedAt
	}
	// Under the conversation's lock: unread counts are this minus what a reader has read.
	conv.IncomingCount++
	events, err := in.Apply(&conv, m)
	if err != nil {
		return conversation.Message{}, conversation.Conversation{}, nil, err
	}
	conv.UpdatedAt = in.Now
	return m, conv, events, nil
}

// moveWindowSQL opens the identity's window at the message. It only moves forward: a late
// delivery of an older message keeps it.
const moveWindowSQL = `
UPDATE contact_identities SET last_inbound_at = $1, outbound_since_inbound = 0, updated_at = $2
WHERE workspace_id = $3 AND id = $4 AND (last_inbound_at IS NULL OR last_inbound_at < $1)`

// writeInbound writes the message, moves the identity's window, saves the conversation with
// its events, cancels the contact's scheduled messages that wait for no reply (into
// cancelled: under the conversation's lock, so a fire cannot race it), records a routing's
// turn (routed, when routing assigned the conversation) and reads back what the API answers,
// in one round trip.
func writeInbound(ctx context.Context, tx pgx.Tx, in conversation.Inbound, m conversation.Message, conv conversation.Conversation,
	events []conversation.Event, identityID uuid.UUID, routed *conversation.Routed, cancelled *[]scheduledRow) (conversation.Ingested, error) {
	insert, err := messageInsert(m)
	if err != nil {
		return conversation.Ingested{}, err
	}
	b := &batch{}
	b.exec("insert message", insert)
	b.exec("move window", statement{moveWindowSQL, []any{m.CreatedAt, in.Now, m.WorkspaceID, identityID}})
	queueConversationUpdate(b, conv)
	if len(events) > 0 {
		b.exec("insert conversation events", eventsInsert(events))
	}
	queueReplyCancel(b, m.WorkspaceID, m.ContactID, in.Now, cancelled)
	if routed != nil {
		b.exec("record routing", statement{recordRoutingSQL, []any{m.WorkspaceID, routed.TeamID, routed.UserID, routed.At}})
	}
	var reads ingestedReads
	reads.queue(b, m)
	if err := b.send(ctx, tx); err != nil {
		return conversation.Ingested{}, err
	}
	return reads.answer()
}

const (
	// lockRoutingTeamSQL locks the team a conversation is routed to. FOR NO KEY UPDATE: two
	// routings to one team take turns (the second reads the members after the first
	// committed its assignment, so nobody goes over the cap and round robin moves on), while
	// a conversation's team_id foreign key check (FOR KEY SHARE) does not wait for it. No path
	// locks a team and then a conversation: DeleteTeam clears the team's conversations before
	// it deletes the team's row.
	lockRoutingTeamSQL = `SELECT last_routed_at FROM teams WHERE workspace_id = $1 AND id = $2 FOR NO KEY UPDATE`
	// onlineMembersSQL reads the team's online members with their open assigned conversations
	// (of every team and none; conversations_assignee counts them) and their last routing in
	// the team. A statement of its own after the lock: it sees what the routing before it
	// committed.
	onlineMembersSQL = `
SELECT m.user_id, m.last_routed_at,
       (SELECT count(*) FROM conversations o
        WHERE o.workspace_id = m.workspace_id AND o.assignee_id = m.user_id AND o.status = 'open')::int AS open
FROM team_members m
JOIN users u ON u.workspace_id = m.workspace_id AND u.id = m.user_id
WHERE m.workspace_id = $1 AND m.team_id = $2 AND u.availability = 'online'
ORDER BY m.user_id`
	// recordRoutingSQL stamps the routing on the member picked and on the team.
	recordRoutingSQL = `
WITH team AS (UPDATE teams SET last_routed_at = $4 WHERE workspace_id = $1 AND id = $2)
UPDATE team_members SET last_routed_at = $4 WHERE workspace_id = $1 AND team_id = $2 AND user_id = $3`
)

// candidateRow is a team member routing may pick.
type candidateRow struct {
	UserID       uuid.UUID
	LastRoutedAt *time.Time
	Open         int32
}

// routeInbound lets in.Route route the conversation, reading the team under its lock when it
// routes, and answers the events with the routing's added.
func routeInbound(ctx context.Context, tx pgx.Tx, in conversation.Inbound, conv *conversation.Conversation,
	events []conversation.Event) ([]conversation.Event, *conversation.Routed, error) {
	if in.Route == nil {
		return events, nil, nil
	}
	ws := in.Channel.WorkspaceID
	read := func(ctx context.Context, teamID uuid.UUID) (channel.Team, bool, error) {
		var last struct{ LastRoutedAt *time.Time }
		var found bool
		var rows []candidateRow
		b := &batch{}
		queueRow(b, "lock team", &last, &found, statement{lockRoutingTeamSQL, []any{ws, teamID}})
		queueRows(b, "read team members", &rows, statement{onlineMembersSQL, []any{ws, teamID}})
		if err := b.send(ctx, tx); err != nil || !found {
			return channel.Team{}, false, err
		}
		t := channel.Team{LastRoutedAt: last.LastRoutedAt, Online: make([]channel.Candidate, len(rows))}
		for i, r := range rows {
			t.Online[i] = channel.Candidate{UserID: r.UserID, Open: int(r.Open), LastRoutedAt: r.LastRoutedAt}
		}
		return t, true, nil
	}
	more, routed, err := in.Route(ctx, conv, events, read)
	if err != nil {
		return nil, nil, err
	}
	return append(events, more...), routed, nil
}

const insertIdentitySQL = `
INSERT INTO contact_identities (workspace_id, id, contact_id, channel_id, identifier, last_inbound_at,
                                outbound_since_inbound, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, NULL, 0, $6, $6)`

// addIdentity makes the identity of a new identifier, on the contact it matches or a new one,
// and locks the contact's conversation into r.
func addIdentity(ctx context.Context, tx pgx.Tx, in conversation.Inbound, r *identityConversationRow) (newContact bool, err error) {
	ws := in.Channel.WorkspaceID
	contactID, err := matchContact(ctx, tx, in)
	if err != nil {
		return false, err
	}
	b := &batch{}
	if contactID == uuid.Nil {
		nc := in.NewContact
		contactSt, convSt, err := contactInsert(&nc)
		if err != nil {
			return false, err
		}
		b.exec("insert contact", contactSt)
		b.exec("insert conversation", convSt)
		contactID, newContact = nc.ID, true
	}
	r.IdentityID = uuid.Must(uuid.NewV7())
	b.exec("insert identity", statement{insertIdentitySQL, []any{ws, r.IdentityID, contactID, in.Channel.ID, in.Identifier, in.Now}})
	var found bool
	queueRow(b, "lock conversation", &r.conversationFields, &found, statement{lockNewIdentityConversationSQL, []any{ws, contactID}})
	if err := b.send(ctx, tx); err != nil {
		return false, err
	}
	if !found {
		return false, fmt.Errorf("get conversation: %w", conversation.ErrNotFound)
	}
	return newContact, nil
}

// matchContact finds the contact a new identity belongs to: by the identifier itself when it
// is a phone number or email address, then by the phone and email given for a new contact.
func matchContact(ctx context.Context, tx pgx.Tx, in conversation.Inbound) (uuid.UUID, error) {
	type probe struct{ column, value string }
	var probes []probe
	switch in.Channel.Type {
	case rules.WhatsApp, rules.SMS:
		probes = append(probes, probe{"phone", in.Identifier})
	case rules.Email:
		probes = append(probes, probe{"email", in.Identifier})
	}
	if p := in.NewContact.Phone; p != nil {
		probes = append(probes, probe{"phone", *p})
	}
	if e := in.NewContact.Email; e != nil {
		probes = append(probes, probe{"email", *e})
	}
	for _, p := range probes {
		var id uuid.UUID
		err := tx.QueryRow(ctx, `SELECT id FROM contacts WHERE workspace_id = $1 AND `+p.column+` = $2 LIMIT 1`, in.Channel.WorkspaceID, p.value).Scan(&id)
		if err == nil {
			return id, nil
		}
		if !isNotFound(err) {
			return uuid.Nil, fmt.Errorf("match contact by %s: %w", p.column, err)
		}
	}
	return uuid.Nil, nil
}

// ingestedReads are the reads of what the API answers for an ingested message: the same
// reads serve the first answer and a replay, so both are the same body.
type ingestedReads struct {
	m       conversation.Message
	contact contactRow
	conv    conversationRow
	message messageRow
	found   struct{ contact, conv, message bool }
}

// queue queues the reads of m's contact, conversation and the message itself.
func (r *ingestedReads) queue(b *batch, m conversation.Message) {
	r.m = m
	queueRow(b, "get contact", &r.contact, &r.found.contact, contactByID(m.WorkspaceID, m.ContactID))
	queueRow(b, "get conversation", &r.conv, &r.found.conv, conversationByID(m.WorkspaceID, m.ConversationID))
	queueRow(b, "get message", &r.message, &r.found.message, messageByID(m.WorkspaceID, m.ID))
}

// answer is what the reads found.
func (r *ingestedReads) answer() (conversation.Ingested, error) {
	switch {
	case !r.found.contact:
		return conversation.Ingested{}, fmt.Errorf("get contact: ingested message %s lost its contact: %w", r.m.ID, contact.ErrNotFound)
	case !r.found.conv:
		return conversation.Ingested{}, fmt.Errorf("get conversation: %w", conversation.ErrNotFound)
	case !r.found.message:
		return conversation.Ingested{}, fmt.Errorf("get message: %w", pgx.ErrNoRows)
	}
	return conversation.Ingested{Message: r.message.domain(), Contact: r.contact.domain(), Conversation: r.conv.domain()}, nil
}
