package event

import (
	"context"
	"log/slog"
	"time"
)

// SequenceStore numbers queued events (store.SequenceEvents).
type SequenceStore interface {
	SequenceEvents(ctx context.Context) (int, error)
}

// Sequencer numbers the events that transactions queue (migration 0027), in every process that
// runs background work, every few milliseconds: one transaction, one lock and one flush for
// every event that committed meanwhile, in all workspaces. The processes take turns on the
// lock, so any one of them keeps the streams and webhooks going, and one that dies loses
// nothing.
//
// It polls rather than being told: a transaction that sends NOTIFY takes a database-wide lock
// through its commit (PostgreSQL queues notifications in commit order), so a notification from
// every write would serialize every write's commit again. Only the sequencer notifies, once
// per run that numbered something.
type Sequencer struct {
	store SequenceStore
	every time.Duration
	log   *slog.Logger
}

// NewSequencer builds a sequencer that runs every interval.
func NewSequencer(st SequenceStore, every time.Duration, log *slog.Logger) *Sequencer {
	return &Sequencer{store: st, every: every, log: log}
}

// Run numbers queued events until ctx ends.
func (q *Sequencer) Run(ctx context.Context) {
	tick := time.NewTicker(q.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := q.store.SequenceEvents(ctx); err != nil && ctx.Err() == nil {
			// The rows stay queued for the next run.
			q.log.Warn("event sequencer: numbering failed", "err", err)
		}
	}
}
