package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/resource"
)

// pending is an event a transaction will publish.
type pending struct {
	typ  string
	conv *uuid.UUID
	v    any
}

func conversationEvents(evs []conversation.Event, c conversation.Conversation) []pending {
	out := make([]pending, 0, len(evs))
	for _, e := range evs {
		out = append(out, pending{typ: "conversation." + string(e.Type), conv: &c.ID, v: c})
	}
	return out
}

func messageCreated(m conversation.Message) pending {
	return pending{typ: event.MessageCreated, conv: &m.ConversationID, v: m}
}

func contactEvent(typ string, c contact.Contact) pending {
	conv := c.Conversation.ID
	return pending{typ: typ, conv: &conv, v: c}
}

// queuePublish queues, on a transaction's batch, the writing of its events to the outbox, their
// webhook deliveries and the notification of listeners (PostgreSQL sends it on commit). It
// must be the last write of a transaction that takes row locks: it takes a per-workspace
// transaction lock, so the workspace's event ids are allocated in commit order and a stream
// resuming after id N can never miss an event that committed later with a smaller id. With
// COMMIT in the same batch (see pgxTx), the lock is held for no round trip.
func (s *Store) queuePublish(b *batch, ws uuid.UUID, evs []pending) error {
	if len(evs) == 0 {
		return nil
	}
	st, err := s.publishStatement(ws, evs)
	if err != nil {
		return err
	}
	b.exec("publish events", st)
	return nil
}

// publishSQL is queuePublish's one statement: the workspace's lock, then (the insert reads the
// lock's row, so it cannot start before the lock is held) the events, numbered in the order
// given, their webhook deliveries, and the notification naming the last id. Held from here to
// COMMIT, the lock spans one round trip.
const publishSQL = `
WITH lock AS (SELECT pg_advisory_xact_lock(hashtextextended($1, 0)) AS held),
ev AS (
    INSERT INTO events (workspace_id, type, occurred_at, conversation_id, payload)
    SELECT $2, e.type, $3, nullif(e.conv, '')::uuid, e.payload::jsonb
    FROM lock, unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e(type, conv, payload, n)
    ORDER BY e.n
    RETURNING id, type, conversation_id),
deliveries AS (
    INSERT INTO webhook_deliveries (workspace_id, webhook_id, event_id, order_key, next_attempt_at, created_at)
    SELECT w.workspace_id, w.id, e.id, coalesce(e.conversation_id, w.id), $3, $3
    FROM ev e
    JOIN webhooks w ON w.workspace_id = $2 AND w.enabled AND (w.events && ARRAY['*', e.type])
    ORDER BY e.id, w.id)
SELECT pg_notify($7, $8 || ':' || max(id)) FROM ev`

// publishStatement renders the events' payloads (resource.EventPayload) and builds publishSQL.
// A conversation's reply window is the one at the events' instant.
func (s *Store) publishStatement(ws uuid.UUID, evs []pending) (statement, error) {
	now := s.Now()
	types := make([]string, len(evs))
	convs := make([]string, len(evs))
	payloads := make([]string, len(evs))
	for i, e := range evs {
		v := e.v
		if c, ok := v.(conversation.Conversation); ok {
			c.DecideReplyWindow(now)
			v = c
		}
		b, err := resource.EventPayload(v)
		if err != nil {
			return statement{}, fmt.Errorf("encode %s event: %w", e.typ, err)
		}
		types[i], payloads[i] = e.typ, string(b)
		if e.conv != nil {
			convs[i] = e.conv.String()
		}
	}
	wsID := ws.String()
	return statement{publishSQL, []any{"events/" + wsID, ws, now, types, convs, payloads, event.Channel, wsID}}, nil
}

type eventOutRow struct {
	WorkspaceID    uuid.UUID
	ID             int64
	Type           string
	OccurredAt     time.Time
	ConversationID *uuid.UUID
	Payload        []byte
}

func (r eventOutRow) domain() event.Event {
	return event.Event{WorkspaceID: r.WorkspaceID, ID: r.ID, Type: r.Type, OccurredAt: r.OccurredAt,
		ConversationID: r.ConversationID, Payload: json.RawMessage(r.Payload)}
}

// EventsAfter returns the workspace's events with id > after that pass the filter, oldest
// first, at most limit.
func (s *Store) EventsAfter(ctx context.Context, ws uuid.UUID, after int64, f event.Filter, limit int) ([]event.Event, error) {
	var args params
	q := `SELECT workspace_id, id, type, occurred_at, conversation_id, payload FROM events
WHERE workspace_id = ` + args.add(ws) + ` AND id > ` + args.add(after)
	if len(f.Types) > 0 {
		q += ` AND type = ANY(` + args.add(f.Types) + `)`
	}
	if f.ConversationID != nil {
		q += ` AND conversation_id = ` + args.add(*f.ConversationID)
	}
	q += ` ORDER BY id LIMIT ` + args.add(limit)
	rows, _ := s.Pool.Query(ctx, q, args...)
	found, err := collect[eventOutRow](rows, limit)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	out := make([]event.Event, len(found))
	for i, r := range found {
		out[i] = r.domain()
	}
	return out, nil
}

// LastEventID is the workspace's newest event id (0 when there is none): where a stream that
// does not ask for a replay starts.
func (s *Store) LastEventID(ctx context.Context, ws uuid.UUID) (int64, error) {
	var id int64
	if err := s.Pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM events WHERE workspace_id = $1`, ws).Scan(&id); err != nil {
		return 0, fmt.Errorf("last event id: %w", err)
	}
	return id, nil
}

// PruneEvents deletes events that occurred before cutoff (with their delivery log), at most
// batch per call; it answers how many went.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time, batch int) (int64, error) {
	const q = `
DELETE FROM events WHERE (workspace_id, id) IN (
    SELECT workspace_id, id FROM events WHERE occurred_at < $1 LIMIT $2)`
	tag, err := s.Pool.Exec(ctx, q, cutoff, batch)
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	return tag.RowsAffected(), nil
}

// ListenConn opens a connection of its own for LISTEN, taken out of the pool; the caller
// closes it.
func (s *Store) ListenConn(ctx context.Context) (*pgx.Conn, error) {
	c, err := s.Pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire listen connection: %w", err)
	}
	return c.Hijack(), nil
}
