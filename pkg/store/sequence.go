package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/event"
)

// sequenceBatch is the most queued events one sequencer transaction numbers, so a backlog (no
// process ran a sequencer for a while) is worked off in transactions of bounded size.
const sequenceBatch = 1000

// sequenceLockSQL is the workspace's event lock. Only sequencers take it, so one workspace's
// events are numbered by one transaction at a time, and ids are allocated in commit order.
const sequenceLockSQL = `SELECT pg_advisory_xact_lock(hashtextextended('events/' || $1::text, 0))`

// sequenceSQL moves the workspace's oldest queued events into events, numbered in queue order,
// with their webhook deliveries (due at once), and notifies listeners of the last id. It runs
// after sequenceLockSQL, as its own statement, so its snapshot is taken with the lock held:
// it sees every queue row that committed before, and none that an earlier sequencer moved.
const sequenceSQL = `
WITH moved AS (
    DELETE FROM event_queue
    WHERE workspace_id = $1 AND id IN (SELECT id FROM event_queue WHERE workspace_id = $1 ORDER BY id LIMIT $2)
    RETURNING id, type, occurred_at, conversation_id, payload),
ev AS (
    INSERT INTO events (workspace_id, type, occurred_at, conversation_id, payload)
    SELECT $1, type, occurred_at, conversation_id, payload FROM moved ORDER BY id
    RETURNING id, type, occurred_at, conversation_id),
deliveries AS (
    INSERT INTO webhook_deliveries (workspace_id, webhook_id, event_id, order_key, next_attempt_at, created_at)
    SELECT w.workspace_id, w.id, e.id, coalesce(e.conversation_id, w.id), e.occurred_at, e.occurred_at
    FROM ev e
    JOIN webhooks w ON w.workspace_id = $1 AND w.enabled AND (w.events && ARRAY['*', e.type])
    ORDER BY e.id, w.id),
moved_ids AS (SELECT count(*) AS n, max(id) AS last FROM ev),
notified AS (SELECT pg_notify($3, $1::text || ':' || last) FROM moved_ids WHERE n > 0)
SELECT n, (SELECT count(*) FROM notified) FROM moved_ids`

// SequenceEvents numbers the workspace's queued events (see migration 0027) and answers how
// many it numbered. Each process's sequencer runs it when a transaction queues events, and the
// readers of the outbox run it before reading, so a client that wrote reads its events at once.
func (s *Store) SequenceEvents(ctx context.Context, ws uuid.UUID) (int, error) {
	total := 0
	for {
		var n int
		err := s.pgxTx(ctx, func(pgx.Tx) (*batch, error) {
			b := &batch{}
			b.exec("lock the workspace's events", statement{sequenceLockSQL, []any{ws}})
			b.read(statement{sequenceSQL, []any{ws, sequenceBatch, event.Channel}}, func(br pgx.BatchResults) error {
				var notified int
				if err := br.QueryRow().Scan(&n, &notified); err != nil {
					return fmt.Errorf("number queued events: %w", err)
				}
				return nil
			})
			return b, nil
		})
		if err != nil {
			return total, fmt.Errorf("sequence events of %s: %w", ws, err)
		}
		total += n
		if n < sequenceBatch {
			return total, nil
		}
	}
}

// QueuedWorkspaces lists the workspaces with events waiting for the sequencer: its periodic
// sweep, for queue rows whose notification no process heard.
func (s *Store) QueuedWorkspaces(ctx context.Context) ([]uuid.UUID, error) {
	rows, _ := s.Pool.Query(ctx, `SELECT DISTINCT workspace_id FROM event_queue`)
	ws, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("queued workspaces: %w", err)
	}
	return ws, nil
}

// sequenceQueued numbers the workspace's queued events, if it has any, before a read of the
// outbox: a read sees every event that committed before it.
func (s *Store) sequenceQueued(ctx context.Context, ws uuid.UUID) error {
	var queued bool
	if err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM event_queue WHERE workspace_id = $1)`, ws).Scan(&queued); err != nil {
		return fmt.Errorf("look for queued events: %w", err)
	}
	if !queued {
		return nil
	}
	_, err := s.SequenceEvents(ctx, ws)
	return err
}

// SequenceAll numbers every workspace's queued events: for tools and tests that read the
// events table itself rather than through EventsAfter.
func (s *Store) SequenceAll(ctx context.Context) error {
	ws, err := s.QueuedWorkspaces(ctx)
	if err != nil {
		return err
	}
	for _, w := range ws {
		if _, err := s.SequenceEvents(ctx, w); err != nil {
			return err
		}
	}
	return nil
}
