package job_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/store/storetest"
)

func TestBackoff(t *testing.T) {
	tests := []struct {
		name      string
		attempt   int
		base, max time.Duration
		lo, hi    time.Duration // the wait is in [lo, hi]
	}{
		{"first retry", 1, time.Second, time.Hour, 750 * time.Millisecond, 1250 * time.Millisecond},
		{"doubles", 4, time.Second, time.Hour, 6 * time.Second, 10 * time.Second},
		{"webhook outbox's first", 1, 5 * time.Second, time.Hour, 3750 * time.Millisecond, 6250 * time.Millisecond},
		{"capped", 30, time.Second, time.Hour, 45 * time.Minute, time.Hour},
		{"no base", 3, 0, time.Hour, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 200 {
				if d := job.Backoff(tc.attempt, tc.base, tc.max); d < tc.lo || d > tc.hi {
					t.Fatalf("Backoff(%d, %s, %s) = %s, want within [%s, %s]", tc.attempt, tc.base, tc.max, d, tc.lo, tc.hi)
				}
			}
		})
	}
}

func newHome(t *testing.T, cfg job.Config) (*job.Home, *pgxpool.Pool) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), storetest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	cfg.FetchPollInterval, cfg.TestOnly = 100*time.Millisecond, true
	h := job.NewHome(pool, cfg, slog.New(slog.DiscardHandler))
	return h, pool
}

func start(t *testing.T, h *job.Home) {
	t.Helper()
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
}

type tick struct{}

func (tick) Kind() string { return "test_tick" }

type tickWorker struct {
	river.WorkerDefaults[tick]
	ran chan struct{}
}

func (w *tickWorker) Work(context.Context, *river.Job[tick]) error {
	w.ran <- struct{}{}
	return nil
}

// A periodic job runs when the process becomes River's leader, and is inserted unique for its
// interval, so another leader within the interval would not run it again.
func TestPeriodicJobRunsOnStartUniquePerInterval(t *testing.T) {
	h, pool := newHome(t, job.Config{})
	w := &tickWorker{ran: make(chan struct{}, 10)}
	if err := job.AddWorker(h, 1, w); err != nil {
		t.Fatal(err)
	}
	h.AddPeriodic(time.Hour, tick{})
	start(t, h)
	select {
	case <-w.ran:
	case <-time.After(20 * time.Second):
		t.Fatal("the periodic job did not run on start")
	}
	var unique int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = $1 AND unique_key IS NOT NULL`,
		tick{}.Kind()).Scan(&unique); err != nil {
		t.Fatal(err)
	}
	if unique != 1 {
		t.Fatalf("%d unique %s jobs, want 1", unique, tick{}.Kind())
	}
}

// purgeCounter deletes n[i] rows on its i-th call.
type purgeCounter struct {
	mu    sync.Mutex
	n     []int64
	calls int
}

func (p *purgeCounter) PurgeIdempotency(_ context.Context, limit int) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.n[p.calls]
	p.calls++
	return min(n, int64(limit)), nil
}

func (p *purgeCounter) PruneEvents(context.Context, time.Time, int) (int64, error) { return 0, nil }

// The purge deletes in batches until a batch comes back short.
func TestPurgeDeletesInBatchesUntilShort(t *testing.T) {
	// Without leader election this process inserts no periodic jobs: the only run is Run's.
	h, _ := newHome(t, job.Config{LeaderElectionDisabled: true})
	st := &purgeCounter{n: []int64{10, 10, 3, 10}}
	if err := job.AddHousekeeping(h, st, job.Housekeeping{PurgeEvery: time.Hour, PruneEvery: time.Hour, Batch: 10}, time.Now); err != nil {
		t.Fatal(err)
	}
	start(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := h.Run(ctx, job.PurgeIdempotency{}); err != nil {
		t.Fatal(err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.calls != 3 {
		t.Fatalf("%d purge statements, want 3 (10, 10, then 3 < the batch of 10)", st.calls)
	}
}

// parked is a kind in a queue of its own, as deliveries are.
type parked struct{}

func (parked) Kind() string { return "test_parked" }

func (parked) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: "test_parked"} }

type parkedWorker struct{ river.WorkerDefaults[parked] }

func (parkedWorker) Work(context.Context, *river.Job[parked]) error { return nil }

// A process that works none of a kind (a serve with DELIVERY_WORKERS=0) may be River's leader,
// whose rescuer takes the jobs a killed process left running: it must hand them back to be
// retried, not discard them as a kind it does not know.
func TestLeaderThatWorksNoneOfAKindRetriesItsStuckJobs(t *testing.T) {
	h, pool := newHome(t, job.Config{JobTimeout: time.Second, RescueAfter: 2 * time.Second})
	if err := job.AddWorker(h, 0, parkedWorker{}); err != nil {
		t.Fatal(err)
	}
	// Another kind it does work, so that it runs River and can lead.
	if err := job.AddWorker(h, 1, &tickWorker{ran: make(chan struct{}, 1)}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var id int64
	// As a killed process leaves it: running, attempted an hour ago, by a client long gone.
	const stuck = `
INSERT INTO river_job (args, kind, queue, state, attempt, max_attempts, attempted_at, attempted_by, scheduled_at)
VALUES ('{}', $1, $2, 'running', 1, 5, now() - interval '1 hour', '{killed}', now() - interval '1 hour')
RETURNING id`
	if err := pool.QueryRow(ctx, stuck, parked{}.Kind(), parked{}.InsertOpts().Queue).Scan(&id); err != nil {
		t.Fatal(err)
	}
	start(t, h)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var state string
		if err := pool.QueryRow(ctx, `SELECT state FROM river_job WHERE id = $1`, id).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state != "running" {
			if state != "retryable" && state != "available" {
				t.Fatalf("the rescued job is %s, want retryable (another process works its kind)", state)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the leader did not rescue the stuck job within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
