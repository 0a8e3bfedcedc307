package job

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// SweepMedia is the periodic job that deletes the stored files of deleted media (a deleted
// contact's or workspace's) that no media row refers to any more, and the temporary files of
// uploads a process died in.
type SweepMedia struct{}

// Kind names the job kind for River.
func (SweepMedia) Kind() string { return "sweep_media" }

// InsertOpts puts the job on the housekeeping queue.
func (SweepMedia) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueHousekeeping}
}

// MediaSweeper is the media service's side of the sweep.
type MediaSweeper interface {
	// Sweep handles at most limit records of deleted media and answers how many it took.
	Sweep(ctx context.Context, limit int) (int64, error)
	// SweepTemp deletes temporary uploads older than age and answers how many.
	SweepTemp(ctx context.Context, age time.Duration) (int64, error)
}

// MediaSweep tunes the sweep.
type MediaSweep struct {
	Every time.Duration
	// Batch is how many records one call handles (default 100).
	Batch int
	// TempAge is how old a temporary upload must be to count as abandoned (default 1h: an
	// upload is bounded by the HTTP read timeout, and a fetch by its job's timeout).
	TempAge time.Duration
}

// AddMediaSweep makes h run the media sweep periodically, and work it.
func AddMediaSweep(h *Home, s MediaSweeper, cfg MediaSweep) error {
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.TempAge <= 0 {
		cfg.TempAge = time.Hour
	}
	if err := AddWorker(h, 1, &mediaSweepWorker{s: s, cfg: cfg, log: h.log}); err != nil {
		return err
	}
	h.AddPeriodic(cfg.Every, SweepMedia{})
	return nil
}

type mediaSweepWorker struct {
	river.WorkerDefaults[SweepMedia]
	s   MediaSweeper
	cfg MediaSweep
	log *slog.Logger
}

func (w *mediaSweepWorker) Work(ctx context.Context, _ *river.Job[SweepMedia]) error {
	n, err := inBatches(ctx, w.cfg.Batch, w.s.Sweep)
	if n > 0 {
		w.log.Info("swept the files of deleted media", "records", n)
	}
	if err != nil {
		return err
	}
	tmp, err := w.s.SweepTemp(ctx, w.cfg.TempAge)
	if tmp > 0 {
		w.log.Info("deleted abandoned media uploads", "deleted", tmp)
	}
	return err
}
