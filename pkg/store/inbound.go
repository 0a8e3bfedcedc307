package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/rules"
)

// ingestRetries bounds how often Ingest starts over after losing a race on a unique index.
const ingestRetries = 3

// retryableIngest reports whether a concurrent ingest (or API call) won a race that a fresh
// attempt resolves by finding what the other one wrote.
func retryableIngest(err error) bool {
	code, constraint := pgCode(err)
	switch code {
	case uniqueViolation:
		switch constraint {
		case "contacts_email_key", "contacts_phone_key", "contact_identities_identifier_key", "messages_external_id_key":
			return true
		}
	case "40001", "40P01": // serialization failure, deadlock
		return true
	}
	return false
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
func (s *Store) Ingest(ctx context.Context, in conversation.Inbound) (conversation.Ingested, bool, error) {
	for attempt := 1; ; attempt++ {
		out, replayed, err := s.ingestOnce(ctx, in)
		if err != nil && attempt < ingestRetries && retryableIngest(err) {
			continue
		}
		return out, replayed, err
	}
}

// ingestOnce runs on pgx in three round trips when the identity exists: a batch that begins,
// takes the identifier's lock, looks for the external id and, with the identity, locks its
// contact's conversation (each statement sees what committed before it ran, so the lookups
// see what a transaction that held the lock before us wrote); a batch that writes the message,
// the window and the conversation and reads back the answer; and publish with COMMIT.
func (s *Store) ingestOnce(ctx context.Context, in conversation.Inbound) (conversation.Ingested, bool, error) {
	var out conversation.Ingested
	replayed := false
	ws, ch := in.Channel.WorkspaceID, in.Channel.ID
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*pgx.Batch, func(*batchResults), error) {
		b := &pgx.Batch{}
		b.Queue(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, ws.String()+"/"+ch.String()+"/"+in.Identifier)
		if x := in.Message.ExternalID; x != nil {
			b.Queue(`SELECT id, conversation_id, contact_id FROM messages WHERE workspace_id = $1 AND channel_id = $2 AND external_id = $3`, ws, ch, *x)
		}
		b.Queue(identityConversationSQL, ws, ch, in.Identifier)
		var prior *conversation.Message
		var identityID, contactID uuid.UUID
		var c conversationRow
		found := false
		err := runBatch(ctx, tx, b, func(r *batchResults) {
			r.exec(wrapf("lock identifier"))
			if in.Message.ExternalID != nil && r.err == nil {
				var m conversation.Message
				err := r.br.QueryRow().Scan(&m.ID, &m.ConversationID, &m.ContactID)
				switch {
				case err == nil:
					m.WorkspaceID = ws
					prior = &m
				case !isNotFound(err):
					r.err = fmt.Errorf("find external id: %w", err)
				}
			}
			if r.err != nil {
				return
			}
			err := scanIdentityConversation(r.br.QueryRow(), &identityID, &contactID, &c)
			switch {
			case err == nil:
				found = true
			case !isNotFound(err):
				r.err = fmt.Errorf("find identity: %w", err)
			}
		})
		if err != nil {
			return nil, nil, err
		}
		if prior != nil {
			replayed = true
			return nil, nil, readIngested(ctx, tx, *prior, &out)
		}
		newContact := false
		if !found {
			if identityID, contactID, newContact, err = addIdentity(ctx, tx, in, &c); err != nil {
				return nil, nil, err
			}
		}
		conv := c.domain()
		m := in.Message
		m.ConversationID, m.ContactID, m.IdentityID = conv.ID, contactID, &identityID
		m.Sender = conversation.Actor{Kind: conversation.ActorContact, ID: contactID}
		if conv.LastMessage == nil || m.CreatedAt.After(conv.LastMessageAt) ||
			(m.CreatedAt.Equal(conv.LastMessageAt) && m.ID.String() > conv.LastMessage.ID.String()) {
			p := m.Preview()
			conv.LastMessage, conv.LastMessageAt = &p, m.CreatedAt
		}
		events, err := in.Apply(&conv)
		if err != nil {
			return nil, nil, err
		}
		conv.UpdatedAt = in.Now

		b = &pgx.Batch{}
		insert, err := messageInsert(m)
		if err != nil {
			return nil, nil, err
		}
		insert.queue(b)
		// The window only moves forward: a late delivery of an older message keeps it.
		b.Queue(`
UPDATE contact_identities SET last_inbound_at = $1, outbound_since_inbound = 0, updated_at = $2
WHERE workspace_id = $3 AND id = $4 AND (last_inbound_at IS NULL OR last_inbound_at < $1)`, m.CreatedAt, in.Now, ws, identityID)
		conversationUpdate(conv).queue(b)
		if len(events) > 0 {
			eventsInsert(events).queue(b)
		}
		queueIngested(b, m)
		err = runBatch(ctx, tx, b, func(r *batchResults) {
			r.exec(wrapf("insert message"))
			r.exec(wrapf("move window"))
			r.exec(conversationSaveError)
			if len(events) > 0 {
				r.exec(wrapf("insert conversation events"))
			}
			readQueuedIngested(r, m, &out)
		})
		if err != nil {
			return nil, nil, err
		}

		var evs []pending
		if newContact {
			evs = append(evs, contactEvent(event.ContactCreated, out.Contact),
				pending{typ: event.ConversationOpened, conv: &out.Conversation.ID, v: out.Conversation})
		}
		evs = append(evs, messageCreated(out.Message))
		pub, err := s.publishStatement(ws, append(evs, conversationEvents(events, out.Conversation)...))
		if err != nil {
			return nil, nil, err
		}
		b = &pgx.Batch{}
		pub.queue(b)
		return b, func(r *batchResults) { r.exec(wrapf("publish events")) }, nil
	})
	if err != nil {
		return conversation.Ingested{}, false, err
	}
	return out, replayed, nil
}

// identityConversationSQL finds the identity and locks its contact's conversation.
const identityConversationSQL = `
SELECT i.id, i.contact_id, ` + conversationColumnList + `
FROM contact_identities i
JOIN conversations v ON v.workspace_id = i.workspace_id AND v.contact_id = i.contact_id` + conversationJoins + `
WHERE i.workspace_id = $1 AND i.channel_id = $2 AND i.identifier = $3
FOR UPDATE OF v`

func scanIdentityConversation(row pgx.Row, identityID, contactID *uuid.UUID, r *conversationRow) error {
	return row.Scan(append([]any{identityID, contactID}, conversationFields(r)...)...)
}

// addIdentity makes the identity of a new identifier, on the contact it matches or a new one,
// and locks the contact's conversation into c.
func addIdentity(ctx context.Context, tx pgx.Tx, in conversation.Inbound, c *conversationRow) (identityID, contactID uuid.UUID, newContact bool, err error) {
	ws := in.Channel.WorkspaceID
	contactID, err = matchContact(ctx, tx, in)
	if err != nil {
		return uuid.Nil, uuid.Nil, false, err
	}
	b := &pgx.Batch{}
	if contactID == uuid.Nil {
		nc := in.NewContact
		contactSt, convSt, err := contactInsert(&nc)
		if err != nil {
			return uuid.Nil, uuid.Nil, false, err
		}
		contactSt.queue(b)
		convSt.queue(b)
		contactID, newContact = nc.ID, true
	}
	identityID = uuid.Must(uuid.NewV7())
	b.Queue(`
INSERT INTO contact_identities (workspace_id, id, contact_id, channel_id, identifier, last_inbound_at,
                                outbound_since_inbound, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, NULL, 0, $6, $6)`, ws, identityID, contactID, in.Channel.ID, in.Identifier, in.Now)
	b.Queue(conversationSelect+`
WHERE v.workspace_id = $1 AND v.contact_id = $2
FOR UPDATE OF v`, ws, contactID)
	err = runBatch(ctx, tx, b, func(r *batchResults) {
		if newContact {
			r.exec(wrapf("insert contact"))
			r.exec(wrapf("insert conversation"))
		}
		r.exec(wrapf("insert identity"))
		if r.err == nil {
			if err := scanConversation(r.br.QueryRow(), c); err != nil {
				r.err = fmt.Errorf("get conversation: %w", err)
			}
		}
	})
	return identityID, contactID, newContact, err
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

// queueIngested queues the reads of what the API answers for an ingested message: the same
// reads serve the first answer and a replay, so both are the same body.
func queueIngested(b *pgx.Batch, m conversation.Message) {
	b.Queue(`SELECT `+contactColumns+`
FROM contacts c JOIN conversations v ON v.workspace_id = c.workspace_id AND v.contact_id = c.id
WHERE c.workspace_id = $1 AND c.id = $2`, m.WorkspaceID, m.ContactID)
	b.Queue(conversationSelect+`
WHERE v.workspace_id = $1 AND v.id = $2`, m.WorkspaceID, m.ConversationID)
	b.Queue(`SELECT `+messageColumns+` FROM messages m WHERE m.workspace_id = $1 AND m.id = $2`, m.WorkspaceID, m.ID)
}

// readQueuedIngested reads queueIngested's results into out.
func readQueuedIngested(r *batchResults, m conversation.Message, out *conversation.Ingested) {
	if r.err != nil {
		return
	}
	var ct contactRow
	if err := scanContact(r.br.QueryRow(), &ct); err != nil {
		if isNotFound(err) {
			err = fmt.Errorf("ingested message %s lost its contact: %w", m.ID, contact.ErrNotFound)
		}
		r.err = fmt.Errorf("get contact: %w", err)
		return
	}
	var c conversationRow
	if err := scanConversation(r.br.QueryRow(), &c); err != nil {
		if isNotFound(err) {
			err = conversation.ErrNotFound
		}
		r.err = fmt.Errorf("get conversation: %w", err)
		return
	}
	var mr messageRow
	if err := r.br.QueryRow().Scan(messageFields(&mr)...); err != nil {
		r.err = fmt.Errorf("get message: %w", err)
		return
	}
	*out = conversation.Ingested{Message: mr.domain(), Contact: ct.domain(), Conversation: c.domain()}
}

// readIngested reads what the API answers for an ingested message, in one round trip.
func readIngested(ctx context.Context, tx pgx.Tx, m conversation.Message, out *conversation.Ingested) error {
	b := &pgx.Batch{}
	queueIngested(b, m)
	return runBatch(ctx, tx, b, func(r *batchResults) { readQueuedIngested(r, m, out) })
}
