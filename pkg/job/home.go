package job

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// Config tunes Home's River client. Zero values take the defaults noted.
type Config struct {
	// ID names this process's River client (default: River picks one).
	ID string
	// JobTimeout cancels a job that runs longer, for every kind (default 1m).
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before River takes it for a crashed
	// process's and retries it (default 2 × JobTimeout; always more than JobTimeout). River's
	// rescuer looks every 30 seconds.
	RescueAfter time.Duration
	// FetchPollInterval is the fallback poll for new jobs (default 1s, at least 100ms); new jobs
	// normally arrive at once through LISTEN/NOTIFY.
	FetchPollInterval time.Duration
	// FetchCooldown is the least time between two fetches (default 10ms). A queue that
	// fetched a full set of jobs fetches again after it, so it caps how fast a backlog drains:
	// at River's 100ms, a queue of 10 workers ran at most 100 jobs a second, however quick
	// each job was (deliveries to a sandbox channel drained at ~100/s).
	FetchCooldown time.Duration
	// RetryBase and RetryMax shape Backoff for every kind's retries (defaults 1s and 1h).
	RetryBase time.Duration
	RetryMax  time.Duration
	// LeaderElectionDisabled keeps this process out of River's maintenance (rescue, cleanup,
	// periodic jobs); another process must run it.
	LeaderElectionDisabled bool
	// TestOnly skips River's jittered start-up of maintenance services.
	TestOnly bool
	// WorkContext, when set, marks the context every job and loop works under (the store's
	// Background: background work's transactions share a bounded part of the pool).
	WorkContext func(context.Context) context.Context
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.JobTimeout, time.Minute)
	def(&c.RescueAfter, 2*c.JobTimeout)
	if c.RescueAfter <= c.JobTimeout {
		c.RescueAfter = c.JobTimeout + time.Second
	}
	def(&c.FetchPollInterval, time.Second)
	c.FetchPollInterval = max(c.FetchPollInterval, 100*time.Millisecond)
	def(&c.FetchCooldown, 10*time.Millisecond)
	def(&c.RetryBase, time.Second)
	def(&c.RetryMax, time.Hour)
	return c
}

// Home runs a process's background work from Start until Stop: River's workers of the kinds
// registered with AddWorker, the periodic jobs of AddPeriodic (which River's elected leader
// inserts), and the loops of AddLoop. Register everything before Start.
type Home struct {
	pool     *pgxpool.Pool
	cfg      Config
	log      *slog.Logger
	workers  *river.Workers
	queues   map[string]river.QueueConfig
	periodic []*river.PeriodicJob
	loops    []func(ctx context.Context)

	client    *river.Client[pgx.Tx] // nil before Start
	stopLoops context.CancelFunc
	loopsDone sync.WaitGroup
}

// NewHome builds a home for background work on pool, the store's.
func NewHome(pool *pgxpool.Pool, cfg Config, log *slog.Logger) *Home {
	return &Home{pool: pool, cfg: cfg.withDefaults(), log: log, workers: river.NewWorkers(), queues: map[string]river.QueueConfig{}}
}

// AddWorker makes this process work the jobs of w's kind, up to n at once, from the queue the
// kind's InsertOpts name (River's default queue when they name none). Kinds that share a queue
// share the largest n. With n < 1 this process works none (another process does) but still
// knows the kind: River's rescuer, on whichever process is the leader, discards a stuck job of
// a kind its process does not know, so a `serve` with DELIVERY_WORKERS=0 elected leader would
// throw away the deliveries a killed worker left running, and their messages would stay queued
// for good (make bench-cluster found it).
func AddWorker[T river.JobArgs](h *Home, n int, w river.Worker[T]) error {
	var args T
	if h.client != nil {
		return fmt.Errorf("register %s worker: after Start", args.Kind())
	}
	if err := river.AddWorkerSafely(h.workers, w); err != nil {
		return fmt.Errorf("register %s worker: %w", args.Kind(), err)
	}
	if n < 1 {
		return nil // known, not worked: no queue to fetch it from
	}
	queue := river.QueueDefault
	if o, ok := any(args).(river.JobArgsWithInsertOpts); ok && o.InsertOpts().Queue != "" {
		queue = o.InsertOpts().Queue
	}
	h.queues[queue] = river.QueueConfig{MaxWorkers: max(n, h.queues[queue].MaxWorkers)}
	return nil
}

// AddPeriodic inserts args every interval, and once when this process becomes River's leader
// (only the leader inserts periodic jobs, so a process that restarts often still runs them).
// The job is unique per interval: a new leader elected within one does not insert it again,
// nor does a second process that believes itself leader. Some process must work the kind
// (AddWorker).
func (h *Home) AddPeriodic(every time.Duration, args river.JobArgs) {
	h.periodic = append(h.periodic, river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) {
			return args, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: every}}
		},
		&river.PeriodicJobOpts{ID: args.Kind(), RunOnStart: true}))
}

// middleware is River's worker middleware: WorkContext around every job's work.
func (h *Home) middleware() []rivertype.Middleware {
	if h.cfg.WorkContext == nil {
		return nil
	}
	return []rivertype.Middleware{&workContext{mark: h.cfg.WorkContext}}
}

// workContext runs each job under its mark.
type workContext struct {
	river.MiddlewareDefaults
	mark func(context.Context) context.Context
}

func (w *workContext) Work(ctx context.Context, _ *rivertype.JobRow, doInner func(context.Context) error) error {
	return doInner(w.mark(ctx))
}

// AddLoop runs run from Start until Stop beside River's workers: long-running work that is not
// a job. run returns once its ctx ends.
func (h *Home) AddLoop(run func(ctx context.Context)) {
	h.loops = append(h.loops, run)
}

// Start starts River's workers, when this process has any, and the loops. They run until Stop,
// whatever ctx does afterwards.
func (h *Home) Start(ctx context.Context) error {
	if len(h.queues) > 0 {
		periodic := h.periodic
		if h.cfg.LeaderElectionDisabled {
			periodic = nil // only the leader inserts them, and River refuses them otherwise
		}
		c, err := river.NewClient(riverpgxv5.New(h.pool), &river.Config{
			ID:                     h.cfg.ID,
			Logger:                 riverLogger(h.log),
			Queues:                 h.queues,
			Workers:                h.workers,
			PeriodicJobs:           periodic,
			JobTimeout:             h.cfg.JobTimeout,
			RescueStuckJobsAfter:   h.cfg.RescueAfter,
			FetchPollInterval:      h.cfg.FetchPollInterval,
			FetchCooldown:          h.cfg.FetchCooldown,
			RetryPolicy:            retryPolicy{base: h.cfg.RetryBase, max: h.cfg.RetryMax},
			LeaderElectionDisabled: h.cfg.LeaderElectionDisabled,
			TestOnly:               h.cfg.TestOnly,
			Middleware:             h.middleware(),
		})
		if err != nil {
			return fmt.Errorf("river client: %w", err)
		}
		if err := c.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start workers: %w", err)
		}
		h.client = c
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h.stopLoops = cancel
	if h.cfg.WorkContext != nil {
		lctx = h.cfg.WorkContext(lctx)
	}
	for _, run := range h.loops {
		h.loopsDone.Go(func() { run(lctx) })
	}
	return nil
}

// Stop stops fetching jobs and lets the running ones finish until ctx ends; then it cancels the
// rest, which releases them at once for another process. The loops stop after the workers.
func (h *Home) Stop(ctx context.Context) error {
	var err error
	if h.client != nil {
		if err = h.client.Stop(ctx); err != nil {
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if cerr := h.client.StopAndCancel(cctx); cerr != nil {
				err = fmt.Errorf("stop workers: %w", errors.Join(err, cerr))
			} else {
				err = nil
			}
			cancel()
		}
	}
	h.endLoops()
	return err
}

// StopAndCancel stops at once, cancelling the running jobs.
func (h *Home) StopAndCancel(ctx context.Context) error {
	var err error
	if h.client != nil {
		err = h.client.StopAndCancel(ctx)
	}
	h.endLoops()
	return err
}

func (h *Home) endLoops() {
	if h.stopLoops != nil {
		h.stopLoops()
	}
	h.loopsDone.Wait()
}

// Run inserts args as a job to run now and waits until it has finished, whichever process
// works it: nil once it completed; an error when it was discarded or cancelled, or when ctx
// ends first. It runs a periodic job on demand (tests, an operator's one-off).
func (h *Home) Run(ctx context.Context, args river.JobArgs) error {
	if h.client == nil {
		return fmt.Errorf("run %s job: this process works no jobs", args.Kind())
	}
	res, err := h.client.Insert(ctx, args, nil)
	if err != nil {
		return fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		j, err := h.client.JobGet(ctx, res.Job.ID)
		if err != nil {
			return fmt.Errorf("%s job %d: %w", args.Kind(), res.Job.ID, err)
		}
		switch j.State {
		case rivertype.JobStateCompleted:
			return nil
		case rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
			var msgs []string
			for _, e := range j.Errors {
				msgs = append(msgs, e.Error)
			}
			return fmt.Errorf("%s job %d %s: %s", args.Kind(), j.ID, j.State, strings.Join(msgs, "; "))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s job %d still %s: %w", args.Kind(), j.ID, j.State, ctx.Err())
		case <-tick.C:
		}
	}
}
