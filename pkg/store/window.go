package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/conversation"
)

// Reply window alerts and refreshes (migration 0018). Ingestion moves a conversation's window
// and its next alert with the customer's messages (Ingest); here the periodic job publishes
// the alerts whose instant has come, across workspaces, and the refresh job brings the stored
// windows up to a channel's change.

// windowRow is a conversation locked for its window, with its workspace's lead.
type windowRow struct {
	conversationFields
	WindowClosingMinutes int
}

// dueWindowAlertsSQL locks the conversations whose next alert is due at $1, earliest first, at
// most $2: a range of conversations_window_alert, which holds only the pending alerts. Rows
// another transaction holds are skipped, not waited for: a second runner's, or one an inbound
// message is moving right now (which decides its next alert). A row that changed since the
// statement began is read again under the lock, so one whose alert moved no longer matches:
// every alert goes out once, however many runners.
const dueWindowAlertsSQL = `
SELECT ` + conversationColumns + `, ww.window_closing_minutes
FROM conversations v` + conversationJoins + `
JOIN workspaces ww ON ww.id = v.workspace_id
WHERE v.window_alert_at <= $1
ORDER BY v.window_alert_at
LIMIT $2
FOR UPDATE OF v SKIP LOCKED`

// saveWindowsSQL writes conversations' default channel and window state, one row per element
// of the arrays.
const saveWindowsSQL = `
UPDATE conversations v SET window_identity_id = u.identity_id, window_channel_id = u.channel_id, window_inbound_at = u.inbound_at,
       window_sent = u.sent, window_open_until = u.open_until, window_alert = u.alert, window_alert_at = u.alert_at
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::timestamptz[], $6::int[], $7::timestamptz[], $8::text[], $9::timestamptz[])
    AS u(workspace_id, id, identity_id, channel_id, inbound_at, sent, open_until, alert, alert_at)
WHERE v.workspace_id = u.workspace_id AND v.id = u.id`

// windowWrites collects the window state of conversations to write in one statement.
type windowWrites struct {
	ws, ids                []uuid.UUID
	identities, channels   []*uuid.UUID
	inbound, open, alertAt []*time.Time
	sent                   []int
	alert                  []*string
}

func (w *windowWrites) add(c conversation.Conversation) {
	col := windowColumnsOf(c)
	w.ws, w.ids = append(w.ws, c.WorkspaceID), append(w.ids, c.ID)
	w.identities, w.channels = append(w.identities, col.identity), append(w.channels, col.channel)
	w.inbound, w.sent = append(w.inbound, col.inbound), append(w.sent, col.sent)
	w.open, w.alert, w.alertAt = append(w.open, c.WindowOpenUntil), append(w.alert, col.alert), append(w.alertAt, col.alertAt)
}

func (w *windowWrites) statement() statement {
	return statement{saveWindowsSQL, []any{w.ws, w.ids, w.identities, w.channels, w.inbound, w.sent, w.open, w.alert, w.alertAt}}
}

// WindowAlerts locks at most limit conversations whose next alert is due at now, lets due
// decide each (with its workspace's lead), and saves their next alerts with the alerts'
// events in the outbox, in one transaction of two round trips: BEGIN with the lock; the
// writes, the events and COMMIT. It answers how many conversations it locked.
func (s *Store) WindowAlerts(ctx context.Context, now time.Time, limit int,
	due func(c *conversation.Conversation, lead time.Duration) []conversation.WindowAlert) (int, error) {
	var locked int
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		var rows []windowRow
		b := &batch{}
		queueRows(b, "lock due window alerts", &rows, statement{dueWindowAlertsSQL, []any{now, limit}})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		locked = len(rows)
		if locked == 0 {
			return nil, nil
		}
		var writes windowWrites
		published := map[uuid.UUID][]pending{}
		for _, r := range rows {
			c := r.conversationFields.domain()
			for _, a := range due(&c, time.Duration(r.WindowClosingMinutes)*time.Minute) {
				id := a.ConversationID
				published[c.WorkspaceID] = append(published[c.WorkspaceID], pending{typ: a.Type, conv: &id, v: a})
			}
			writes.add(c)
		}
		b = &batch{}
		b.exec("save window alerts", writes.statement())
		if err := s.queuePublishEach(b, published); err != nil {
			return nil, err
		}
		return b, nil
	})
	if err != nil {
		return 0, fmt.Errorf("window alerts: %w", err)
	}
	return locked, nil
}

// ExplainWindowAlerts returns EXPLAIN (ANALYZE, BUFFERS) of the alert job's lock of due
// alerts, in a transaction rolled back (so nothing stays locked), for tests and the bench.
func (s *Store) ExplainWindowAlerts(ctx context.Context, now time.Time, limit int) (string, error) {
	return s.explainLocking(ctx, "explain window alerts", dueWindowAlertsSQL, now, limit)
}

// refreshWindowsSQL locks the conversations of the contacts with an identity on the channel $2,
// after the identifier $3, at most $4 of them in the identifiers' order:
// contact_identities_identifier_key's range, then each conversation by its contact. The
// contacts come in identifier order and their conversations are locked in that order;
// ingestion locks one conversation at a time, so they cannot deadlock.
const refreshWindowsSQL = `
SELECT ` + conversationColumns + `, ri.identifier AS refresh_identifier, ww.window_closing_minutes
FROM (SELECT i.contact_id, i.identifier FROM contact_identities i
      WHERE i.workspace_id = $1 AND i.channel_id = $2 AND i.identifier > $3
      ORDER BY i.identifier LIMIT $4) ri
JOIN conversations v ON v.workspace_id = $1 AND v.contact_id = ri.contact_id` + conversationJoins + `
JOIN workspaces ww ON ww.id = v.workspace_id
ORDER BY ri.identifier
FOR UPDATE OF v`

// contactsLiveIdentitiesSQL reads the identities on live channels of the contacts $2 (by
// contact_identities_contact), with their channels' rules.
const contactsLiveIdentitiesSQL = `
SELECT i.contact_id, i.id, i.channel_id, i.last_inbound_at, i.outbound_since_inbound, i.created_at, ch.type, ch.rule_options
FROM contact_identities i JOIN channels ch ON ch.workspace_id = i.workspace_id AND ch.id = i.channel_id AND ch.archived_at IS NULL
WHERE i.workspace_id = $1 AND i.contact_id = ANY($2)`

// refreshRow is a conversation locked for a refresh, with the identifier it was found by.
type refreshRow struct {
	conversationFields
	RefreshIdentifier    string
	WindowClosingMinutes int
}

// liveIdentityRow is an identity on a live channel, with the channel's rule.
type liveIdentityRow struct {
	ContactID            uuid.UUID
	ID                   uuid.UUID
	ChannelID            uuid.UUID
	LastInboundAt        *time.Time
	OutboundSinceInbound int32
	CreatedAt            time.Time
	Type                 string
	RuleOptions          jsonObject
}

// RefreshWindows locks the conversations of at most limit contacts with an identity on the
// channel, after the identifier (the previous batch's last), reads their identities on live
// channels, lets refresh bring each one's default channel and window up to date (with its
// workspace's lead), and saves those it changed, in one transaction of three round trips (the
// lock; the identities of the contacts it locked; the writes with COMMIT). It answers the last
// identifier it read ("" when there are no more).
func (s *Store) RefreshWindows(ctx context.Context, ws, channelID uuid.UUID, after string, limit int,
	refresh func(c *conversation.Conversation, live []conversation.LiveIdentity, lead time.Duration) bool) (string, error) {
	var last string
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		var rows []refreshRow
		var idents []liveIdentityRow
		b := &batch{}
		queueRows(b, "lock conversations to refresh", &rows, statement{refreshWindowsSQL, []any{ws, channelID, after, limit}})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		last = ""
		if len(rows) == 0 {
			return nil, nil
		}
		if len(rows) == limit {
			last = rows[len(rows)-1].RefreshIdentifier
		}
		contacts := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			contacts[i] = r.ContactID
		}
		b = &batch{}
		queueRows(b, "read live identities", &idents, statement{contactsLiveIdentitiesSQL, []any{ws, contacts}})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		live := map[uuid.UUID][]conversation.LiveIdentity{}
		for _, r := range idents {
			ch := channelRow{Type: r.Type, RuleOptions: r.RuleOptions}.domain()
			live[r.ContactID] = append(live[r.ContactID], conversation.LiveIdentity{IdentityID: r.ID, ChannelID: r.ChannelID,
				Type: ch.Type, Options: ch.RuleOptions, LastInboundAt: r.LastInboundAt, SentSinceInbound: int(r.OutboundSinceInbound),
				CreatedAt: r.CreatedAt})
		}
		var writes windowWrites
		for _, r := range rows {
			c := r.conversationFields.domain()
			if refresh(&c, live[c.Contact.ID], time.Duration(r.WindowClosingMinutes)*time.Minute) {
				writes.add(c)
			}
		}
		if len(writes.ids) == 0 {
			return nil, nil
		}
		b = &batch{}
		b.exec("save windows", writes.statement())
		return b, nil
	})
	if err != nil {
		return "", fmt.Errorf("refresh windows: %w", err)
	}
	return last, nil
}
