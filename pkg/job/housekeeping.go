package job

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// QueueHousekeeping is the queue of the periodic clean-ups; one runs at a time per process.
const QueueHousekeeping = "housekeeping"

// PurgeIdempotency is the periodic job that deletes expired idempotency records: a send's
// answer is kept for replay until its key expires, and nothing reads it afterwards.
type PurgeIdempotency struct{}

// Kind names the job kind for River.
func (PurgeIdempotency) Kind() string { return "purge_idempotency" }

// InsertOpts puts the job on the housekeeping queue.
func (PurgeIdempotency) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueHousekeeping}
}

// PruneEvents is the periodic job that deletes events older than the retention, with their
// webhook delivery log.
type PruneEvents struct{}

// Kind names the job kind for River.
func (PruneEvents) Kind() string { return "prune_events" }

// InsertOpts puts the job on the housekeeping queue.
func (PruneEvents) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueHousekeeping}
}

// Store is what housekeeping needs from persistence. Each method deletes at most limit rows
// and answers how many went.
type Store interface {
	// PurgeIdempotency deletes idempotency records that have expired by the store's clock.
	PurgeIdempotency(ctx context.Context, limit int) (int64, error)
	// PruneEvents deletes events that occurred before cutoff, with their delivery log.
	PruneEvents(ctx context.Context, cutoff time.Time, limit int) (int64, error)
}

// Housekeeping tunes the periodic clean-ups.
type Housekeeping struct {
	PurgeEvery time.Duration // between idempotency purges
	PruneEvery time.Duration // between event prunes
	Retention  time.Duration // how long events are kept
	// Batch is how many rows one statement deletes (default 1000), so that no clean-up holds
	// its locks or its share of the WAL for long.
	Batch int
}

// AddHousekeeping makes h run the idempotency purge and the event prune periodically, and work
// them. now is the clock the retention counts on.
func AddHousekeeping(h *Home, st Store, cfg Housekeeping, now func() time.Time) error {
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	purge := &purgeWorker{st: st, batch: cfg.Batch, log: h.log}
	if err := AddWorker(h, 1, purge); err != nil {
		return err
	}
	prune := &pruneWorker{st: st, batch: cfg.Batch, log: h.log, retention: cfg.Retention, now: now}
	if err := AddWorker(h, 1, prune); err != nil {
		return err
	}
	h.AddPeriodic(cfg.PurgeEvery, PurgeIdempotency{})
	h.AddPeriodic(cfg.PruneEvery, PruneEvents{})
	return nil
}

type purgeWorker struct {
	river.WorkerDefaults[PurgeIdempotency]
	st    Store
	batch int
	log   *slog.Logger
}

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[PurgeIdempotency]) error {
	n, err := inBatches(ctx, w.batch, w.st.PurgeIdempotency)
	if n > 0 {
		w.log.Info("purged expired idempotency records", "deleted", n)
	}
	return err
}

type pruneWorker struct {
	river.WorkerDefaults[PruneEvents]
	st        Store
	batch     int
	log       *slog.Logger
	retention time.Duration
	now       func() time.Time
}

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[PruneEvents]) error {
	cutoff := w.now().Add(-w.retention)
	n, err := inBatches(ctx, w.batch, func(ctx context.Context, limit int) (int64, error) {
		return w.st.PruneEvents(ctx, cutoff, limit)
	})
	if n > 0 {
		w.log.Info("pruned events past retention", "deleted", n, "before", cutoff)
	}
	return err
}

// inBatches calls del until it deletes fewer than batch rows, and answers how many it deleted.
// A run cut short (its timeout, shutdown) is retried, and carries on where this one stopped.
func inBatches(ctx context.Context, batch int, del func(ctx context.Context, limit int) (int64, error)) (int64, error) {
	var total int64
	for {
		n, err := del(ctx, batch)
		total += n
		if err != nil || n < int64(batch) {
			return total, err
		}
	}
}
