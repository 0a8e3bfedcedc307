package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/event"
)

// Contact merge (migration 0024, DESIGN §7 "Contact merge").
//
// Lock order. The merge locks both contacts' rows FOR UPDATE in id order, then both
// conversations' rows FOR UPDATE in id order, and only then writes identities, messages and
// the rest; the events' workspace lock comes last (queuePublish). Every other path that takes
// more than one of these takes them in the same order:
//   - ingestion: identifier (advisory) → conversation → identity → team → workspace events.
//     The merge takes no identifier lock, and an ingest holds no contact lock except the KEY
//     SHARE an identity insert takes on a matched contact before it locks that contact's
//     conversation (contact → conversation, as here);
//   - sends: conversation → identity; UpdateContact: contact → its conversation (the search
//     trigger).
// Two merges over the same contacts queue on the first contact row.
//
// A concurrent inbound to the merged contact's identity lands in the survivor: an ingest that
// locked the merged conversation first commits before the merge can lock it, and the merge's
// later statements (each sees what committed before it ran) move its message; an ingest that
// waits on the merged conversation's lock finds, once the merge commits, that row deleted, so
// its lookup finds nothing, its identity insert hits the identifier's unique index (the
// identity is now the survivor's) and Ingest repeats the attempt, which finds the identity on
// the survivor's conversation.

const (
	lockMergeContactsSQL = `
SELECT id FROM contacts WHERE workspace_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`
	mergedIntoSQL = `
SELECT survivor_id FROM contact_merges WHERE workspace_id = $1 AND merged_id = $2`
	lockMergeConversationsSQL = `
SELECT id FROM conversations WHERE workspace_id = $1 AND contact_id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`
	// mergeConversationsSQL reads the two conversations, each with the instant of its latest
	// assignment (which decides the assignee when both are open).
	mergeConversationsSQL = `
SELECT ` + conversationColumns + `,
       (SELECT max(e.at) FROM conversation_events e
        WHERE e.workspace_id = v.workspace_id AND e.conversation_id = v.id AND e.type = 'assigned') AS assigned_at
FROM conversations v` + conversationJoins + `
WHERE v.workspace_id = $1 AND v.contact_id = ANY($2::uuid[])`
	windowLeadSQL = `SELECT window_closing_minutes FROM workspaces WHERE id = $1`
)

// mergeConversationRow is a conversation of a merge with its latest assignment.
type mergeConversationRow struct {
	conversationFields
	AssignedAt *time.Time
}

// mergeMoves are the statements that move the merged contact's rows (merged, its conversation mc)
// to the survivor (survivor, its conversation sc), in this order: read state before
// mentions (the mentions trigger writes last_mention_at into the survivor's read rows, which
// must exist with their last_read_at first); everything moved before the merged conversation
// and contact are deleted (their cascades would take it).
func mergeMoves(ws, survivor, merged, sc, mc uuid.UUID) []struct {
	what string
	st   statement
} {
	type move = struct {
		what string
		st   statement
	}
	return []move{
		{"move identities", statement{`UPDATE contact_identities SET contact_id = $2 WHERE workspace_id = $1 AND contact_id = $3`, []any{ws, survivor, merged}}},
		// The thread is ordered by created_at (messages_conversation), so repointing merges it in
		// time order.
		{"move messages", statement{`UPDATE messages SET conversation_id = $3, contact_id = $2 WHERE workspace_id = $1 AND conversation_id = $4`, []any{ws, survivor, sc, mc}}},
		{"move lifecycle", statement{`UPDATE conversation_events SET conversation_id = $2 WHERE workspace_id = $1 AND conversation_id = $3`, []any{ws, sc, mc}}},
		// Labels: the union.
		{"unite labels", statement{`
INSERT INTO conversation_labels (workspace_id, conversation_id, label_id, created_at)
SELECT workspace_id, $2, label_id, created_at FROM conversation_labels
WHERE workspace_id = $1 AND conversation_id = $3
ON CONFLICT (workspace_id, conversation_id, label_id) DO NOTHING`, []any{ws, sc, mc}}},
		// Read state, per user: the later last_read_at (greatest ignores NULL), and as read the
		// incoming messages they had read in either conversation (read_incoming counts what a read
		// covered; unread_count is incoming_count minus it), so what they never saw stays unread.
		{"merge read state", statement{`
INSERT INTO conversation_reads AS r (workspace_id, user_id, conversation_id, last_read_at, read_incoming)
SELECT workspace_id, user_id, $2, last_read_at, read_incoming FROM conversation_reads
WHERE workspace_id = $1 AND conversation_id = $3
ON CONFLICT (workspace_id, user_id, conversation_id) DO UPDATE
SET last_read_at = greatest(r.last_read_at, EXCLUDED.last_read_at), read_incoming = r.read_incoming + EXCLUDED.read_incoming`, []any{ws, sc, mc}}},
		{"move note mentions", statement{`UPDATE note_mentions SET conversation_id = $2 WHERE workspace_id = $1 AND conversation_id = $3`, []any{ws, sc, mc}}},
		{"merge mentions", statement{`
INSERT INTO conversation_mentions AS cm (workspace_id, user_id, conversation_id, last_mention_at)
SELECT workspace_id, user_id, $2, last_mention_at FROM conversation_mentions
WHERE workspace_id = $1 AND conversation_id = $3
ON CONFLICT (workspace_id, user_id, conversation_id) DO UPDATE SET last_mention_at = greatest(cm.last_mention_at, EXCLUDED.last_mention_at)`, []any{ws, sc, mc}}},
		// Scheduled messages and a customer's media follow the contact. Broadcast recipients stay
		// as they are: they record whom a broadcast reached under which id, and a pending one for
		// the merged id ends failed (no such contact) rather than sending twice to the survivor.
		{"move scheduled messages", statement{`UPDATE scheduled_messages SET contact_id = $2 WHERE workspace_id = $1 AND contact_id = $3`, []any{ws, survivor, merged}}},
		{"move media", statement{`UPDATE media SET contact_id = $2 WHERE workspace_id = $1 AND contact_id = $3`, []any{ws, survivor, merged}}},
		// Earlier merges into the merged contact now answer with the survivor.
		{"forward earlier merges", statement{`UPDATE contact_merges SET survivor_id = $2 WHERE workspace_id = $1 AND survivor_id = $3`, []any{ws, survivor, merged}}},
		{"delete merged conversation", statement{`DELETE FROM conversations WHERE workspace_id = $1 AND id = $2`, []any{ws, mc}}},
		{"delete merged contact", statement{`DELETE FROM contacts WHERE workspace_id = $1 AND id = $2`, []any{ws, merged}}},
	}
}

// MergeContacts merges contact mergedID into survivorID in one transaction (see the lock
// order above): the merged contact's identities, messages, notes, lifecycle, labels, read
// state, mentions, scheduled messages and media move to the survivor, the two conversations
// become the survivor's one (conversation.Absorb, then its window refreshed from the united
// identities), the contact's fields unite (contact.Absorb), the merged contact is deleted and
// remembered in contact_merges, and contact.merged is published. It answers the survivor.
//
// A repeat (mergedID already merged into survivorID) answers the survivor and writes nothing.
// Its audit entry (contact.merged, on the survivor, naming the merged id) goes in the last
// batch, before the publication; a repeat records none.
func (s *Store) MergeContacts(ctx context.Context, ws, survivorID, mergedID uuid.UUID, now time.Time) (contact.Contact, error) {
	var out contactRow
	var outFound bool
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		ids := []uuid.UUID{survivorID, mergedID}
		var locked []struct{ ID uuid.UUID }
		var into struct{ SurvivorID uuid.UUID }
		var merged bool
		b := &batch{}
		queueRows(b, "lock contacts", &locked, statement{lockMergeContactsSQL, []any{ws, ids}})
		queueRow(b, "find earlier merge", &into, &merged, statement{mergedIntoSQL, []any{ws, mergedID}})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		has := map[uuid.UUID]bool{}
		for _, l := range locked {
			has[l.ID] = true
		}
		if !has[survivorID] {
			return nil, contact.ErrNotFound
		}
		if !has[mergedID] {
			if merged && into.SurvivorID == survivorID {
				b = &batch{}
				queueRow(b, "get contact", &out, &outFound, contactByID(ws, survivorID))
				return b, nil
			}
			return nil, contact.ErrMergeUnknown
		}

		var convs []mergeConversationRow
		var survivorRow, mergedRow contactRow
		var found1, found2 bool
		var leadMinutes int
		b = &batch{}
		queueRows(b, "lock conversations", &[]struct{ ID uuid.UUID }{}, statement{lockMergeConversationsSQL, []any{ws, ids}})
		queueRows(b, "read conversations", &convs, statement{mergeConversationsSQL, []any{ws, ids}})
		queueRow(b, "read survivor", &survivorRow, &found1, contactByID(ws, survivorID))
		queueRow(b, "read merged", &mergedRow, &found2, contactByID(ws, mergedID))
		queueValue(b, "read window lead", &leadMinutes, statement{windowLeadSQL, []any{ws}})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		var sc, mc *mergeConversationRow
		for i := range convs {
			switch convs[i].ContactID {
			case survivorID:
				sc = &convs[i]
			case mergedID:
				mc = &convs[i]
			}
		}
		if sc == nil || mc == nil || !found1 || !found2 {
			return nil, fmt.Errorf("merge contacts: a contact without its conversation: %w", conversation.ErrNotFound)
		}

		conv := sc.domain()
		oAssignedLater := mc.AssignedAt != nil && (sc.AssignedAt == nil || mc.AssignedAt.After(*sc.AssignedAt))
		conv.Absorb(mc.domain(), oAssignedLater, now)
		survivor := survivorRow.domain()
		survivor.Absorb(mergedRow.domain(), now)
		tags, fields, err := contactArgs(survivor)
		if err != nil {
			return nil, err
		}

		var live []liveIdentityRow
		b = &batch{}
		for _, m := range mergeMoves(ws, survivorID, mergedID, sc.ID, mc.ID) {
			b.exec(m.what, m.st)
		}
		b.exec("record merge", statement{`INSERT INTO contact_merges (workspace_id, merged_id, survivor_id, merged_at) VALUES ($1, $2, $3, $4)`,
			[]any{ws, mergedID, survivorID, now}})
		// After the merged contact's deletion: its email and phone are free for the survivor.
		b.exec("update survivor", statement{updateContactSQL, []any{survivor.FirstName, survivor.LastName, survivor.Email, survivor.Phone,
			survivor.Language, survivor.Country, tags, fields, survivor.UpdatedAt, ws, survivorID}})
		queueRows(b, "read live identities", &live, statement{contactsLiveIdentitiesSQL, []any{ws, []uuid.UUID{survivorID}}})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		idents := make([]conversation.LiveIdentity, 0, len(live))
		for _, r := range live {
			ch := channelRow{Type: r.Type, RuleOptions: r.RuleOptions}.domain()
			idents = append(idents, conversation.LiveIdentity{IdentityID: r.ID, ChannelID: r.ChannelID, Type: ch.Type,
				Options: ch.RuleOptions, LastInboundAt: r.LastInboundAt, SentSinceInbound: int(r.OutboundSinceInbound), CreatedAt: r.CreatedAt})
		}
		conv.RefreshWindow(idents, time.Duration(leadMinutes)*time.Minute, now)

		b = &batch{}
		queueConversationUpdate(b, conv)
		queueRow(b, "get contact", &out, &outFound, contactByID(ws, survivorID))
		rec := audit.On(audit.ContactMerged, "contact", survivorID, audit.Changes{"merged_id": {Before: mergedID.String()}})
		if err := s.queueAudit(ctx, b, ws, rec); err != nil {
			return nil, err
		}
		return b, s.queuePublish(b, ws, []pending{{typ: event.ContactMerged, conv: &conv.ID,
			v: contact.Merge{SurvivorID: survivorID, MergedID: mergedID}}})
	})
	if err != nil {
		return contact.Contact{}, err
	}
	if !outFound {
		return contact.Contact{}, contact.ErrNotFound
	}
	return out.domain(), nil
}
