package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/event"
)

// sequenceBatch is the most queued events one sequencer transaction numbers, so a backlog (no
// process ran a sequencer for a while) is worked off in transactions of bounded size.
const sequenceBatch = 1000

// sequenceLockSQL is the events' lock. Only sequencers take it, so events are numbered by one
// transaction at a time, and ids are allocated in commit order.
const sequenceLockSQL = `SELECT pg_advisory_xact_lock(hashtextextended('events', 0))`

// sequenceSQL moves the oldest queued events into events, numbered in queue order, with their
// webhook deliveries (due at once), and notifies each workspace's listeners of its last id. It
// runs after sequenceLockSQL, as its own statement, so its snapshot is taken with the lock
// held: it sees every queue row that committed before, and none that an earlier sequencer
// moved.
const sequenceSQL = `
WITH moved AS (
    DELETE FROM event_queue
    WHERE id IN (SELECT id FROM event_queue ORDER BY id LIMIT $1)
    RETURNING id, workspace_id, type, occurred_at, conversation_id, payload),
ev AS (
    INSERT INTO events (workspace_id, type, occurred_at, conversation_id, payload)
    SELECT workspace_id, type, occurred_at, conversation_id, payload FROM moved ORDER BY id
    RETURNING workspace_id, id, type, occurred_at, conversation_id),
deliveries AS (
    INSERT INTO webhook_deliveries (workspace_id, webhook_id, event_id, order_key, next_attempt_at, created_at)
    SELECT w.workspace_id, w.id, e.id, coalesce(e.conversation_id, w.id), e.occurred_at, e.occurred_at
    FROM ev e
    JOIN webhooks w ON w.workspace_id = e.workspace_id AND w.enabled AND (w.events && ARRAY['*', e.type])
    ORDER BY e.id, w.id),
notified AS (
    SELECT pg_notify($2, workspace_id::text || ':' || max(id)) FROM ev GROUP BY workspace_id)
SELECT (SELECT count(*) FROM ev), (SELECT count(*) FROM notified)`

// SequenceEvents numbers the queued events (see migration 0027) and answers how many it
// numbered. Each process's sequencer runs it every few milliseconds, and the readers of the
// outbox run it before reading when their workspace has some, so a client that wrote reads its
// events at once. An empty run writes nothing, so it costs no flush.
func (s *Store) SequenceEvents(ctx context.Context) (int, error) {
	total := 0
	for {
		var n int
		err := s.pgxTx(ctx, func(pgx.Tx) (*batch, error) {
			b := &batch{}
			b.exec("lock the events", statement{sequenceLockSQL, nil})
			b.read(statement{sequenceSQL, []any{sequenceBatch, event.Channel}}, func(br pgx.BatchResults) error {
				var notified int
				if err := br.QueryRow().Scan(&n, &notified); err != nil {
					return fmt.Errorf("number queued events: %w", err)
				}
				return nil
			})
			return b, nil
		})
		if err != nil {
			return total, fmt.Errorf("sequence events: %w", err)
		}
		total += n
		if n < sequenceBatch {
			return total, nil
		}
	}
}

// sequenceQueued numbers the queued events, if the workspace has any, before a read of its
// outbox: a read sees every event that committed before it.
func (s *Store) sequenceQueued(ctx context.Context, ws uuid.UUID) error {
	var queued bool
	if err := s.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM event_queue WHERE workspace_id = $1)`, ws).Scan(&queued); err != nil {
		return fmt.Errorf("look for queued events: %w", err)
	}
	if !queued {
		return nil
	}
	_, err := s.SequenceEvents(ctx)
	return err
}

// ExplainSequence returns EXPLAIN (ANALYZE, BUFFERS) of a sequencer run that numbers n queued
// events (copies of the workspace's newest), and of a reader's probe for its workspace's queued
// events, in a transaction rolled back, for the bench.
func (s *Store) ExplainSequence(ctx context.Context, ws uuid.UUID, n int) (run, probe string, err error) {
	errExplained := errors.New("explained")
	err = s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		if _, err := tx.Exec(ctx, `
INSERT INTO event_queue (workspace_id, type, occurred_at, conversation_id, payload)
SELECT workspace_id, type, occurred_at, conversation_id, payload
FROM (SELECT * FROM events WHERE workspace_id = $1 ORDER BY id DESC LIMIT $2) e ORDER BY id`, ws, n); err != nil {
			return nil, fmt.Errorf("queue events to explain: %w", err)
		}
		if probe, err = explainOn(ctx, tx, `SELECT EXISTS (SELECT 1 FROM event_queue WHERE workspace_id = $1)`, ws); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, sequenceLockSQL); err != nil {
			return nil, err
		}
		if run, err = explainOn(ctx, tx, sequenceSQL, sequenceBatch, event.Channel); err != nil {
			return nil, err
		}
		return nil, errExplained // rolls back: nothing numbered, nothing notified
	})
	if !errors.Is(err, errExplained) {
		return "", "", fmt.Errorf("explain the event sequencer: %w", err)
	}
	return run, probe, nil
}
