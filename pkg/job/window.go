package job

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
)

// AlertWindows is the periodic job that publishes the reply window alerts whose instant has
// come (window.expiring, window.closed).
type AlertWindows struct{}

// Kind names the job kind for River.
func (AlertWindows) Kind() string { return "alert_windows" }

// InsertOpts puts the job on the timed queue, with the snooze wake-up.
func (AlertWindows) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueTimed}
}

// QueueWindows is the queue of window refreshes: one channel's conversations can take a while,
// and the timed queue's minute must not wait for them.
const QueueWindows = "windows"

// RefreshWindows brings the stored reply windows of the conversations whose contacts wrote on a
// channel up to the channel's state, after its rule options changed or it was archived. The
// store inserts it in the change's transaction.
type RefreshWindows struct {
	WorkspaceID uuid.UUID `json:"workspace_id"`
	ChannelID   uuid.UUID `json:"channel_id"`
}

// Kind names the job kind for River.
func (RefreshWindows) Kind() string { return "refresh_windows" }

// InsertOpts puts the job on the windows queue.
func (RefreshWindows) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueWindows}
}

// Windows is what the window jobs need: the conversation service's AlertDue and
// RefreshChannelWindows.
type Windows interface {
	// AlertDue publishes the alerts due now of at most limit conversations and answers how many
	// it handled; each alert goes out once however many processes call it at once.
	AlertDue(ctx context.Context, limit int) (int, error)
	// RefreshChannelWindows refreshes the windows of the channel's contacts, batch at a time.
	RefreshChannelWindows(ctx context.Context, ws, channelID uuid.UUID, batch int) (int, error)
}

// WindowAlerts tunes the alert job.
type WindowAlerts struct {
	// Every is the time between two runs: an alert goes out at most this long (and the time a
	// run takes) after its instant.
	Every time.Duration
	// Batch is how many conversations one transaction handles (default 100).
	Batch int
}

// AddWindowJobs makes h run the window alerts periodically, and work them and the refreshes.
func AddWindowJobs(h *Home, w Windows, cfg WindowAlerts) error {
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if err := AddWorker(h, 1, &alertWorker{w: w, batch: cfg.Batch, log: h.log}); err != nil {
		return err
	}
	if err := AddWorker(h, 1, &refreshWorker{w: w, log: h.log}); err != nil {
		return err
	}
	h.AddPeriodic(cfg.Every, AlertWindows{})
	return nil
}

type alertWorker struct {
	river.WorkerDefaults[AlertWindows]
	w     Windows
	batch int
	log   *slog.Logger
}

func (w *alertWorker) Work(ctx context.Context, _ *river.Job[AlertWindows]) error {
	n, err := inBatches(ctx, w.batch, func(ctx context.Context, limit int) (int64, error) {
		n, err := w.w.AlertDue(ctx, limit)
		return int64(n), err
	})
	if n > 0 {
		w.log.Info("window alerts", "conversations", n)
	}
	return err
}

// refreshBatch is how many contacts one transaction of a refresh handles.
const refreshBatch = 500

type refreshWorker struct {
	river.WorkerDefaults[RefreshWindows]
	w   Windows
	log *slog.Logger
}

// Timeout lets a refresh of a large channel run past the default job timeout: it works in
// batches, each committed, so a retry after a cut starts over harmlessly.
func (w *refreshWorker) Timeout(*river.Job[RefreshWindows]) time.Duration { return time.Hour }

func (w *refreshWorker) Work(ctx context.Context, j *river.Job[RefreshWindows]) error {
	n, err := w.w.RefreshChannelWindows(ctx, j.Args.WorkspaceID, j.Args.ChannelID, refreshBatch)
	w.log.Info("refreshed reply windows", "workspace_id", j.Args.WorkspaceID, "channel_id", j.Args.ChannelID, "changed", n)
	return err
}
