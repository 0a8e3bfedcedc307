package job

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// QueueBroadcasts is the queue of broadcasts: each job sends for a while, so they get workers
// of their own instead of holding up the timed queue's scheduled sends.
const QueueBroadcasts = "broadcasts"

// BroadcastRun sends a broadcast's pending recipients. The store inserts it with the broadcast,
// in the same transaction, with ScheduledAt: send_at when there is one, unique by its args (the
// broadcast's id). A run sends for at most a slice of the job's timeout and then snoozes to go
// on, so a long broadcast is never taken for a crashed process's job; a run after a crash (River
// rescues the job) goes on where the recipients say.
type BroadcastRun struct {
	WorkspaceID uuid.UUID  `json:"workspace_id"`
	ID          uuid.UUID  `json:"id"`
	SendAt      *time.Time `json:"send_at,omitempty"`
}

// Kind names the job kind for River.
func (BroadcastRun) Kind() string { return "broadcast_run" }

// InsertOpts put it on the broadcasts queue, unique by the broadcast.
func (BroadcastRun) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueBroadcasts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Broadcaster runs a broadcast for at most budget; more says it is not finished.
type Broadcaster interface {
	Run(ctx context.Context, ws, id uuid.UUID, budget time.Duration) (more bool, err error)
}

// AddBroadcasts makes h run broadcasts, n at once.
func AddBroadcasts(h *Home, n int, b Broadcaster) error {
	return AddWorker(h, n, &broadcastWorker{b: b, timeout: h.cfg.JobTimeout})
}

type broadcastWorker struct {
	river.WorkerDefaults[BroadcastRun]
	b       Broadcaster
	timeout time.Duration
}

func (w *broadcastWorker) Work(ctx context.Context, j *river.Job[BroadcastRun]) error {
	// River runs the job by the database's clock; never start before send_at by ours.
	if at := j.Args.SendAt; at != nil {
		if d := time.Until(*at); d > 0 {
			return river.JobSnooze(d)
		}
	}
	// Half the timeout: the batch under way when the budget runs out still finishes in time.
	more, err := w.b.Run(ctx, j.Args.WorkspaceID, j.Args.ID, w.timeout/2)
	if err != nil {
		return fmt.Errorf("run broadcast %s: %w", j.Args.ID, err)
	}
	if more {
		return river.JobSnooze(time.Millisecond)
	}
	return nil
}
