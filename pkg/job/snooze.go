package job

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// QueueTimed is the queue of work due at an instant (snooze wake-ups), apart from
// housekeeping so that a long clean-up cannot hold it past its minute.
const QueueTimed = "timed"

// WakeSnoozed is the periodic job that wakes the snoozed conversations whose instant has
// passed.
type WakeSnoozed struct{}

// Kind names the job kind for River.
func (WakeSnoozed) Kind() string { return "wake_snoozed" }

// InsertOpts puts the job on the timed queue.
func (WakeSnoozed) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTimed}
}

// Waker wakes at most limit due snoozes and answers how many it woke (the conversation
// service's WakeDue). Each wakes once however many processes call it at once.
type Waker interface {
	WakeDue(ctx context.Context, limit int) (int, error)
}

// Snooze tunes the wake-up.
type Snooze struct {
	// Every is the time between two runs: a snooze wakes at most this long (and the time a
	// run takes) after its instant.
	Every time.Duration
	// Batch is how many conversations one transaction wakes (default 100).
	Batch int
}

// AddSnoozeWake makes h run the snooze wake-up periodically, and work it.
func AddSnoozeWake(h *Home, w Waker, cfg Snooze) error {
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if err := AddWorker(h, 1, &wakeWorker{w: w, batch: cfg.Batch, log: h.log}); err != nil {
		return err
	}
	h.AddPeriodic(cfg.Every, WakeSnoozed{})
	return nil
}

type wakeWorker struct {
	river.WorkerDefaults[WakeSnoozed]
	w     Waker
	batch int
	log   *slog.Logger
}

func (w *wakeWorker) Work(ctx context.Context, _ *river.Job[WakeSnoozed]) error {
	n, err := inBatches(ctx, w.batch, func(ctx context.Context, limit int) (int64, error) {
		n, err := w.w.WakeDue(ctx, limit)
		return int64(n), err
	})
	if n > 0 {
		w.log.Info("woke snoozed conversations", "woke", n)
	}
	return err
}
