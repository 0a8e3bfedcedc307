package job

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// PurgeAuditLog is the periodic job that deletes audit log entries older than their
// workspace's audit_retention_days.
type PurgeAuditLog struct{}

// Kind names the job kind for River.
func (PurgeAuditLog) Kind() string { return "purge_audit_log" }

// InsertOpts puts the job on the housekeeping queue.
func (PurgeAuditLog) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueHousekeeping}
}

// AuditPurger is the audit service's side of the purge: it deletes, a batch at a time, what
// is past retention and answers how many entries went.
type AuditPurger interface {
	Purge(ctx context.Context) (int, error)
}

// AuditPurgeEvery is how often the purge runs (when a process has none configured): retention
// is counted in days, so an hour late is nothing.
const AuditPurgeEvery = time.Hour

// AddAuditPurge makes h run the audit log purge every every (AuditPurgeEvery if 0), and work
// it.
func AddAuditPurge(h *Home, p AuditPurger, every time.Duration) error {
	if every <= 0 {
		every = AuditPurgeEvery
	}
	if err := AddWorker(h, 1, &auditPurgeWorker{p: p, log: h.log}); err != nil {
		return err
	}
	h.AddPeriodic(every, PurgeAuditLog{})
	return nil
}

type auditPurgeWorker struct {
	river.WorkerDefaults[PurgeAuditLog]
	p   AuditPurger
	log *slog.Logger
}

func (w *auditPurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeAuditLog]) error {
	n, err := w.p.Purge(ctx)
	if n > 0 {
		w.log.Info("purged audit log entries past retention", "deleted", n)
	}
	return err
}
