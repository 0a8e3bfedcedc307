package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/pkg/channel"
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

func (s *Store) ingestOnce(ctx context.Context, in conversation.Inbound) (conversation.Ingested, bool, error) {
	var out conversation.Ingested
	replayed := false
	ws, ch := in.Channel.WorkspaceID, in.Channel.ID
	err := s.tx(ctx, func(tx *gorm.DB) error {
		key := ws.String() + "/" + ch.String() + "/" + in.Identifier
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, key).Error; err != nil {
			return fmt.Errorf("lock identifier: %w", err)
		}
		if x := in.Message.ExternalID; x != nil {
			var prior messageRow
			res := tx.Raw(`SELECT * FROM messages WHERE workspace_id = ? AND channel_id = ? AND external_id = ?`, ws, ch, *x).Scan(&prior)
			if res.Error != nil {
				return fmt.Errorf("find external id: %w", res.Error)
			}
			if res.RowsAffected > 0 {
				replayed = true
				return readIngested(tx, prior.domain(), &out)
			}
		}
		newContact := false
		id, err := findIdentity(tx, ws, ch, in.Identifier)
		if err != nil {
			return err
		}
		if id == nil {
			contactID, err := matchContact(tx, in)
			if err != nil {
				return err
			}
			if contactID == uuid.Nil {
				nc := in.NewContact
				if err := insertContact(tx, &nc); err != nil {
					return err
				}
				contactID = nc.ID
				newContact = true
			}
			r := identityRow{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), ContactID: contactID, ChannelID: ch,
				Identifier: in.Identifier, CreatedAt: in.Now, UpdatedAt: in.Now}
			if err := tx.Create(&r).Error; err != nil {
				return fmt.Errorf("insert identity: %w", err)
			}
			r.ChannelType = string(in.Channel.Type)
			d := r.domain()
			id = &d
		}
		c, err := conversationWhere(tx, "v.workspace_id = ? AND v.contact_id = ?", true, ws, id.ContactID)
		if err != nil {
			return err
		}
		m := in.Message
		m.ConversationID, m.ContactID, m.IdentityID = c.ID, id.ContactID, &id.ID
		m.Sender = conversation.Actor{Kind: conversation.ActorContact, ID: id.ContactID}
		if err := insertMessage(tx, m); err != nil {
			return err
		}
		// The window only moves forward: a late delivery of an older message keeps it.
		const moveWindow = `
UPDATE contact_identities SET last_inbound_at = @at, outbound_since_inbound = 0, updated_at = @now
WHERE workspace_id = @ws AND id = @id AND (last_inbound_at IS NULL OR last_inbound_at < @at)`
		if err := tx.Exec(moveWindow, map[string]any{"at": m.CreatedAt, "now": in.Now, "ws": ws, "id": id.ID}).Error; err != nil {
			return fmt.Errorf("move window: %w", err)
		}
		if c.LastMessage == nil || m.CreatedAt.After(c.LastMessageAt) ||
			(m.CreatedAt.Equal(c.LastMessageAt) && m.ID.String() > c.LastMessage.ID.String()) {
			p := m.Preview()
			c.LastMessage, c.LastMessageAt = &p, m.CreatedAt
		}
		events, err := in.Apply(&c)
		if err != nil {
			return err
		}
		c.UpdatedAt = in.Now
		if err := saveConversation(tx, c); err != nil {
			return err
		}
		if err := insertEvents(tx, events); err != nil {
			return err
		}
		if err := readIngested(tx, m, &out); err != nil {
			return err
		}
		var evs []pending
		if newContact {
			evs = append(evs, contactEvent(event.ContactCreated, out.Contact),
				pending{typ: event.ConversationOpened, conv: &out.Conversation.ID, v: out.Conversation})
		}
		evs = append(evs, messageCreated(out.Message))
		return s.publish(tx, ws, append(evs, conversationEvents(events, out.Conversation)...))
	})
	if err != nil {
		return conversation.Ingested{}, false, err
	}
	return out, replayed, nil
}

func findIdentity(tx *gorm.DB, ws, ch uuid.UUID, identifier string) (*channel.Identity, error) {
	var r identityRow
	res := tx.Raw(`SELECT * FROM contact_identities WHERE workspace_id = ? AND channel_id = ? AND identifier = ?`, ws, ch, identifier).Scan(&r)
	if res.Error != nil {
		return nil, fmt.Errorf("find identity: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, nil
	}
	d := r.domain()
	return &d, nil
}

// matchContact finds the contact a new identity belongs to: by the identifier itself when it
// is a phone number or email address, then by the phone and email given for a new contact.
func matchContact(tx *gorm.DB, in conversation.Inbound) (uuid.UUID, error) {
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
		var ids []uuid.UUID
		if err := tx.Raw(`SELECT id FROM contacts WHERE workspace_id = ? AND `+p.column+` = ?`, in.Channel.WorkspaceID, p.value).Scan(&ids).Error; err != nil {
			return uuid.Nil, fmt.Errorf("match contact by %s: %w", p.column, err)
		}
		if len(ids) > 0 {
			return ids[0], nil
		}
	}
	return uuid.Nil, nil
}

// readIngested reads what the API answers for an ingested message: the same reads serve the
// first answer and a replay, so both are the same body.
func readIngested(tx *gorm.DB, m conversation.Message, out *conversation.Ingested) error {
	ct, err := contactByID(tx, m.WorkspaceID, m.ContactID)
	if err != nil {
		if errors.Is(err, contact.ErrNotFound) {
			return fmt.Errorf("ingested message %s lost its contact: %w", m.ID, err)
		}
		return err
	}
	c, err := conversationWhere(tx, "v.workspace_id = ? AND v.id = ?", false, m.WorkspaceID, m.ConversationID)
	if err != nil {
		return err
	}
	stored, err := messageByID(tx, m.WorkspaceID, m.ID)
	if err != nil {
		return err
	}
	*out = conversation.Ingested{Message: stored, Contact: ct, Conversation: c}
	return nil
}
