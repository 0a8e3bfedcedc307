package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

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
func (s *Store) Send(ctx context.Context, in conversation.Send) (conversation.Sent, *conversation.Replay, error) {
	var out conversation.Sent
	var replay *conversation.Replay
	ws := in.WorkspaceID
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if in.Idempotency != nil {
			r, err := claimIdempotency(tx, ws, *in.Idempotency, in.Now)
			if err != nil || r != nil {
				replay = r
				return err
			}
		}
		conv, err := conversationWhere(tx, "v.workspace_id = ? AND v.contact_id = ?", true, ws, in.ContactID)
		if errors.Is(err, conversation.ErrNotFound) {
			return contact.ErrNotFound
		}
		if err != nil {
			return err
		}
		st := conversation.SendState{Conversation: conv}
		if st.Identity, st.Channel, err = lockSendIdentity(tx, ws, in.ContactID, in.ChannelID); err != nil {
			return err
		}
		if in.TemplateName != "" {
			if st.Template, err = templateByName(tx, ws, st.Channel.ID, in.TemplateName, in.TemplateLanguage); err != nil {
				return err
			}
		}
		month := monthStart(in.Now)
		if st.Channel.Type == rules.Viber {
			if err := tx.Raw(`SELECT coalesce((SELECT initiated FROM channel_usage WHERE workspace_id = ? AND channel_id = ? AND month = ?), 0)`,
				ws, st.Channel.ID, month).Scan(&st.MonthInitiated).Error; err != nil {
				return fmt.Errorf("read channel usage: %w", err)
			}
		}

		m, decision, events, err := in.Decide(&st)
		if err != nil {
			return err
		}
		if err := insertMessage(tx, m); err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE contact_identities SET outbound_since_inbound = outbound_since_inbound + 1, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			in.Now, ws, st.Identity.ID).Error; err != nil {
			return fmt.Errorf("count outbound: %w", err)
		}
		if decision.Initiated {
			if err := countInitiated(tx, ws, st.Channel, month); err != nil {
				return err
			}
		}
		if err := saveConversation(tx, st.Conversation); err != nil {
			return err
		}
		if err := insertEvents(tx, events); err != nil {
			return err
		}
		if err := s.enqueueDelivery(ctx, tx, ws, m.ID); err != nil {
			return err
		}
		// The locked row, as changed, is the answer; only a new assignee needs a read for the
		// assignee's name and email.
		c := st.Conversation
		if c.AssigneeID != nil && c.Assignee == nil {
			if c, err = conversationWhere(tx, "v.workspace_id = ? AND v.id = ?", false, ws, conv.ID); err != nil {
				return err
			}
		}
		if err := s.publish(tx, ws, append([]pending{messageCreated(m)}, conversationEvents(events, c)...)); err != nil {
			return err
		}
		out = conversation.Sent{Message: m, Conversation: c, Decision: decision}
		if idem := in.Idempotency; idem != nil {
			status, body, err := idem.Render(out)
			if err != nil {
				return fmt.Errorf("render idempotent answer: %w", err)
			}
			out.Body = body
			return saveIdempotency(tx, ws, idem.Key, status, body)
		}
		return nil
	})
	if err != nil {
		return conversation.Sent{}, nil, err
	}
	return out, replay, nil
}

// lockSendIdentity finds the identity to send to, locks it and reads its channel: the one on
// channelID, or the contact's default (the channel they last wrote on, else the newest
// identity) when channelID is nil.
func lockSendIdentity(tx *gorm.DB, ws, contactID uuid.UUID, channelID *uuid.UUID) (channel.Identity, channel.Channel, error) {
	if channelID == nil {
		var rows []identityRow
		const q = `
SELECT i.*, ch.type AS channel_type
FROM contact_identities i JOIN channels ch ON ch.workspace_id = i.workspace_id AND ch.id = i.channel_id
WHERE i.workspace_id = ? AND i.contact_id = ? AND ch.archived_at IS NULL`
		if err := tx.Raw(q, ws, contactID).Scan(&rows).Error; err != nil {
			return channel.Identity{}, channel.Channel{}, fmt.Errorf("read identities: %w", err)
		}
		ids := make([]channel.Identity, len(rows))
		for i, r := range rows {
			ids[i] = r.domain()
		}
		best := conversation.DefaultIdentity(ids)
		if best == nil {
			return channel.Identity{}, channel.Channel{}, conversation.ErrNoChannelIdentity
		}
		ch := best.ChannelID
		channelID = &ch
	}
	c, err := channelByID(tx, ws, *channelID, false)
	if errors.Is(err, channel.ErrNotFound) {
		return channel.Identity{}, channel.Channel{}, errkind.Invalid(errkind.Field{Field: "channel_id", Message: "must be a channel of this workspace"})
	}
	if err != nil {
		return channel.Identity{}, channel.Channel{}, err
	}
	if c.Archived() {
		return channel.Identity{}, channel.Channel{}, channel.ErrArchived
	}
	var r identityRow
	res := tx.Raw(`SELECT i.*, ? AS channel_type FROM contact_identities i WHERE i.workspace_id = ? AND i.contact_id = ? AND i.channel_id = ? FOR UPDATE`,
		string(c.Type), ws, contactID, c.ID).Scan(&r)
	if res.Error != nil {
		return channel.Identity{}, channel.Channel{}, fmt.Errorf("lock identity: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return channel.Identity{}, channel.Channel{}, conversation.ErrNoChannelIdentity
	}
	return r.domain(), c, nil
}

// countInitiated counts a chatbot-initiated message against the channel's month. Without
// the commercial terms the increment is guarded by the limit, so two sends that both read
// the last free unit cannot both pass: the second finds the guard false and fails.
func countInitiated(tx *gorm.DB, ws uuid.UUID, ch channel.Channel, month time.Time) error {
	limit := -1
	if !ch.RuleOptions.CommercialTermsAccepted {
		limit = ch.RuleOptions.MonthlyInitiatedLimit
	}
	const q = `
INSERT INTO channel_usage (workspace_id, channel_id, month, initiated) VALUES (@ws, @ch, @month, 1)
ON CONFLICT (workspace_id, channel_id, month) DO UPDATE SET initiated = channel_usage.initiated + 1
    WHERE @limit < 0 OR channel_usage.initiated < @limit
RETURNING initiated`
	var n []int
	if err := tx.Raw(q, map[string]any{"ws": ws, "ch": ch.ID, "month": month, "limit": limit}).Scan(&n).Error; err != nil {
		return fmt.Errorf("count initiated message: %w", err)
	}
	if len(n) == 0 || (limit >= 0 && n[0] > limit) {
		return conversation.ErrQuotaRace
	}
	return nil
}

// templateByName returns the channel's template with the name and language, or nil.
func templateByName(tx *gorm.DB, ws, ch uuid.UUID, name, language string) (*template.Template, error) {
	var r templateRow
	res := tx.Raw(`SELECT * FROM templates WHERE workspace_id = ? AND channel_id = ? AND name = ? AND language = ?`,
		ws, ch, name, language).Scan(&r)
	if res.Error != nil {
		return nil, fmt.Errorf("read template: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, nil
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
	res := s.conn(ctx).Raw(`SELECT * FROM messages WHERE workspace_id = ? AND id = ?`, ws, id).Scan(&r)
	if res.Error != nil {
		return conversation.Message{}, fmt.Errorf("get message: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return conversation.Message{}, conversation.ErrMessageNotFound
	}
	return r.domain(), nil
}
