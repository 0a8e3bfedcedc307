package job

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// ScheduledSend fires one scheduled message at its send_at. The store inserts it in the
// scheduling transaction with ScheduledAt: send_at, unique by its args (the message's id): it
// runs once across processes and restarts, and the worker does nothing for a message no
// longer scheduled.
type ScheduledSend struct {
	WorkspaceID uuid.UUID `json:"workspace_id"`
	ID          uuid.UUID `json:"id"`
	// SendAt is the instant it is due: a worker whose clock is behind the database's waits.
	SendAt time.Time `json:"send_at"`
}

// Kind names the job kind for River.
func (ScheduledSend) Kind() string { return "scheduled_send" }

// InsertOpts put it on the timed queue, unique by the scheduled message.
func (ScheduledSend) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTimed, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Firer sends a due scheduled message (the scheduled service's Fire).
type Firer interface {
	FireDue(ctx context.Context, ws, id uuid.UUID) error
}

// AddScheduledSends makes h work scheduled sends, n at once.
func AddScheduledSends(h *Home, n int, f Firer) error {
	return AddWorker(h, n, &scheduledWorker{f: f})
}

type scheduledWorker struct {
	river.WorkerDefaults[ScheduledSend]
	f Firer
}

func (w *scheduledWorker) Work(ctx context.Context, j *river.Job[ScheduledSend]) error {
	// River runs the job by the database's clock; never send before send_at by ours.
	if d := time.Until(j.Args.SendAt); d > 0 {
		return river.JobSnooze(d)
	}
	if err := w.f.FireDue(ctx, j.Args.WorkspaceID, j.Args.ID); err != nil {
		return fmt.Errorf("fire scheduled message %s: %w", j.Args.ID, err)
	}
	return nil
}
