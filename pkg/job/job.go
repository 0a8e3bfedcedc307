// Package job is Switchboard's one home for background work, on River (riverqueue.com) over the
// store's PostgreSQL.
//
// Queue inserts jobs in the caller's transaction: the store is built with it and enqueues
// through it, so a committed write always has its job and a rolled-back one never does. Home
// runs the work of a process: the workers of each kind (AddWorker), periodic jobs (AddPeriodic,
// unique per interval, so several processes never duplicate them), and long-running loops that
// are not jobs (AddLoop: the webhook outbox, the event listener). Every retry waits Backoff.
//
// A new kind of job is an args type (its Kind, and its queue in InsertOpts), a worker, and one
// AddWorker call where the process is wired (pkg/app); the store or a service inserts it.
package job

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Queue inserts jobs in its caller's transaction. It is River's insert-only client: it has no
// pool of its own and runs nothing, so it is built before the store that uses it.
type Queue struct {
	client *river.Client[pgx.Tx]
}

// NewQueue builds the queue; log receives River's warnings and errors.
func NewQueue(log *slog.Logger) (*Queue, error) {
	// River's pgx driver without a pool can insert only in a transaction it is given, which is
	// all a queue does; its arguments encode natively, where database/sql went through a
	// driver.Valuer per parameter (a tenth of a send's CPU).
	c, err := river.NewClient(riverpgxv5.New(nil), &river.Config{Logger: riverLogger(log)})
	if err != nil {
		return nil, fmt.Errorf("river insert client: %w", err)
	}
	return &Queue{client: c}, nil
}

// InsertTx inserts a job inside tx: it runs once tx commits, and never if tx rolls back. opts
// may be nil; unset options come from the args' InsertOpts.
func (q *Queue) InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := q.client.InsertTx(ctx, tx, args, opts); err != nil {
		return fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	return nil
}

// InsertManyTx inserts jobs inside tx in one statement, each with its args' InsertOpts: they
// run once tx commits, and never if tx rolls back.
func (q *Queue) InsertManyTx(ctx context.Context, tx pgx.Tx, args ...river.JobArgs) error {
	if len(args) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(args))
	for i, a := range args {
		params[i] = river.InsertManyParams{Args: a}
	}
	if _, err := q.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("insert %d %s jobs: %w", len(args), args[0].Kind(), err)
	}
	return nil
}

// Backoff is how long to wait before retrying after the attempt-th failed attempt: base,
// doubling with each attempt up to max, with ±25 % jitter so that a destination that is down
// is not hammered and many failures do not retry in lockstep. It is the one retry schedule of
// background work: River's retries of every kind, and the webhook outbox's.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	// Uniform in [0.75 d, 1.25 d), and never beyond max.
	d = d*3/4 + time.Duration(rand.Int64N(int64(d/2)+1))
	return min(d, max)
}

// retryPolicy is River's retry policy for every kind: Backoff.
type retryPolicy struct{ base, max time.Duration }

func (p retryPolicy) NextRetry(j *rivertype.JobRow) time.Time {
	return time.Now().Add(Backoff(j.Attempt, p.base, p.max))
}

// riverLogger is log for River, without River's routine reports (a job errored and will retry):
// the workers log those in their own words.
func riverLogger(log *slog.Logger) *slog.Logger {
	return slog.New(minLevel{h: log.Handler(), min: slog.LevelWarn}).With("component", "river")
}

// minLevel drops records below min.
type minLevel struct {
	h   slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.h.Enabled(ctx, l)
}
func (m minLevel) Handle(ctx context.Context, r slog.Record) error { return m.h.Handle(ctx, r) }
func (m minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h: m.h.WithAttrs(attrs), min: m.min}
}
func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h: m.h.WithGroup(name), min: m.min}
}
