package event

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
)

// SequenceStore numbers queued events (store.SequenceEvents) and finds the workspaces that have
// some (store.QueuedWorkspaces).
type SequenceStore interface {
	SequenceEvents(ctx context.Context, ws uuid.UUID) (int, error)
	QueuedWorkspaces(ctx context.Context) ([]uuid.UUID, error)
}

// sequencerParallel is how many workspaces one process numbers at once: each holds a
// connection for one short transaction, so a few are enough to keep up with many workspaces
// without taking the pool from requests.
const sequencerParallel = 2

// Sequencer numbers the events transactions queue, in every process that runs background
// work. A transaction's commit notifies "queued" (the Hub calls Queued); the sequencer numbers
// that workspace's queue in one transaction, however many events committed meanwhile, so the
// per-workspace lock is taken once per batch rather than once per write. Every process runs
// one and they serialize on the workspace's lock, so a process that dies loses nothing: the
// others (or its restart) number what it left, and the periodic sweep catches queue rows
// whose notification nobody heard (a listener reconnecting).
type Sequencer struct {
	store SequenceStore
	sweep time.Duration
	log   *slog.Logger

	mu   sync.Mutex
	due  map[uuid.UUID]struct{}
	wake chan struct{}
}

// NewSequencer builds a sequencer that also sweeps the queue every sweep.
func NewSequencer(st SequenceStore, sweep time.Duration, log *slog.Logger) *Sequencer {
	return &Sequencer{store: st, sweep: sweep, log: log, due: map[uuid.UUID]struct{}{}, wake: make(chan struct{}, 1)}
}

// Queued marks ws's queue to be numbered. Marks made while a pass runs are taken by the next
// pass, so a burst of notifications costs one pass.
func (q *Sequencer) Queued(ws uuid.UUID) {
	q.mu.Lock()
	q.due[ws] = struct{}{}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Run numbers queued events until ctx ends.
func (q *Sequencer) Run(ctx context.Context) {
	tick := time.NewTicker(q.sweep)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-tick.C:
			ws, err := q.store.QueuedWorkspaces(ctx)
			if err != nil {
				if ctx.Err() == nil {
					q.log.Warn("event sequencer: sweep failed", "err", err)
				}
				continue
			}
			for _, w := range ws {
				q.Queued(w)
			}
		}
		q.pass(ctx)
	}
}

// pass numbers the queues of the workspaces marked due, a few at once.
func (q *Sequencer) pass(ctx context.Context) {
	q.mu.Lock()
	due := q.due
	q.due = map[uuid.UUID]struct{}{}
	q.mu.Unlock()
	slots := make(chan struct{}, sequencerParallel)
	var wg sync.WaitGroup
	for ws := range due {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if _, err := q.store.SequenceEvents(ctx, ws); err != nil && ctx.Err() == nil {
				// The rows stay queued; the sweep tries again.
				q.log.Warn("event sequencer: numbering failed", "workspace", ws, "err", err)
			}
		})
	}
	wg.Wait()
}
