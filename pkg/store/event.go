package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// queuePublishEach queues the publication of each workspace's pending events, for the periodic
// jobs that change many workspaces' conversations at once (snooze wake-ups, window alerts);
// workspaces in id order, so a run's queue rows are in a reproducible order.
func (s *Store) queuePublishEach(b *batch, published map[uuid.UUID][]pending) error {
	workspaces := make([]uuid.UUID, 0, len(published))
	for ws := range published {
		workspaces = append(workspaces, ws)
	}
	slices.SortFunc(workspaces, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	for _, ws := range workspaces {
		if err := s.queuePublish(b, ws, published[ws]); err != nil {
			return err
		}
	}
	return nil
}

// explainLocking returns EXPLAIN (ANALYZE, BUFFERS) of a statement that locks rows (a timed
// job's claim of what is due), in a transaction rolled back so nothing stays locked, for
// tests and the bench; what names it in an error.
func (s *Store) explainLocking(ctx context.Context, what, sql string, args ...any) (string, error) {
	var plan string
	errExplained := errors.New("explained")
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		var err error
		if plan, err = explainOn(ctx, tx, sql, args...); err != nil {
			return nil, err
		}
		return nil, errExplained // rolls back
	})
	if !errors.Is(err, errExplained) {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return plan, nil
}

// queuePublish queues, on a transaction's batch, the appending of its events to the queue. No
// lock is taken and nothing is notified (see event.Sequencer for why): transactions commit side
// by side, and PostgreSQL flushes their commits together. The sequencer (SequenceEvents)
// numbers them once they committed.
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

// publishSQL is queuePublish's one statement: the events, queued in the order given (identity
// values follow the ORDER BY).
const publishSQL = `
INSERT INTO event_queue (workspace_id, type, occurred_at, conversation_id, payload)
SELECT $1, e.type, $2, nullif(e.conv, '')::uuid, e.payload::jsonb
FROM unnest($3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS e(type, conv, payload, n)
ORDER BY e.n`

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
	return statement{publishSQL, []any{ws, now, types, convs, payloads}}, nil
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
	if err := s.sequenceQueued(ctx, ws); err != nil {
		return nil, err
	}
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
	if err := s.sequenceQueued(ctx, ws); err != nil {
		return 0, err
	}
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
