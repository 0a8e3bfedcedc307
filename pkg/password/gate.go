package password

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"github.com/switchboard/switchboard/pkg/errkind"
)

// ErrBusy answers a hash that could not start within the gate's wait: the server is saturated
// with password checks, not this client over its budget, so it is 503 rather than 429.
var ErrBusy = errkind.New(errkind.KindUnavailable, "server_busy",
	"Too many password checks are running; retry after the time in Retry-After.").WithRetryAfter(time.Second)

// Gate bounds how many password hashes run at once. Each argon2id hash holds 19 MiB and a core
// for about 30 ms: 48 parallel logins without a bound took the server to 711 MiB and starved
// every other request. Callers beyond the bound wait their turn, at most the gate's wait (and
// their context), then get ErrBusy; so do callers beyond a bounded queue, without waiting.
type Gate struct {
	sem                     *semaphore.Weighted
	size, queue             int64
	wait                    time.Duration
	waiting, running, peak  atomic.Int64
	busy, done              atomic.Int64
	runningDesc, peakDesc   *prometheus.Desc
	waitingDesc, busiedDesc *prometheus.Desc
	doneDesc                *prometheus.Desc
}

// NewGate lets size hashes run at once (at least 1); others wait up to wait for a turn.
func NewGate(size int, wait time.Duration) *Gate {
	size = max(size, 1)
	return &Gate{sem: semaphore.NewWeighted(int64(size)), size: int64(size), wait: wait,
		// Waiters hold a request each; beyond a few seconds' worth of hashes, waiting is futile.
		queue:       max(64, 32*int64(size)),
		runningDesc: prometheus.NewDesc("switchboard_password_hashes_running", "Password hashes (logins, password changes) running now.", nil, nil),
		peakDesc:    prometheus.NewDesc("switchboard_password_hashes_peak", "Most password hashes that ever ran at once in this process (bounded by PASSWORD_HASH_CONCURRENCY).", nil, nil),
		waitingDesc: prometheus.NewDesc("switchboard_password_hashes_waiting", "Password hashes waiting for a turn.", nil, nil),
		doneDesc:    prometheus.NewDesc("switchboard_password_hashes_total", "Password hashes run (logins, new users, password changes).", nil, nil),
		busiedDesc:  prometheus.NewDesc("switchboard_password_hashes_refused_total", "Password hashes refused because none could start in time (answered 503 server_busy).", nil, nil),
	}
}

// Size is how many hashes may run at once.
func (g *Gate) Size() int { return int(g.size) }

// Verify is the package's Verify, run within the bound.
func (g *Gate) Verify(ctx context.Context, encoded, plain string) (bool, error) {
	first, err := g.VerifyFirst(ctx, []string{encoded}, plain)
	return first == 0, err
}

// VerifyFirst checks plain against each of encoded in order, within one turn of the bound (a
// caller that needs several checks never waits twice, or wastes the first when the second
// cannot start). It runs every check, whatever matches, so its duration says nothing of
// which did, and answers the index of the first match, or -1.
func (g *Gate) VerifyFirst(ctx context.Context, encoded []string, plain string) (int, error) {
	first := -1
	var err error
	gerr := g.do(ctx, len(encoded), func() {
		for i, e := range encoded {
			ok, verr := Verify(e, plain)
			if verr != nil && err == nil {
				err = verr
			}
			if ok && first < 0 {
				first = i
			}
		}
	})
	if gerr != nil {
		return -1, gerr
	}
	return first, err
}

// Hash is the package's Hash, run within the bound.
func (g *Gate) Hash(ctx context.Context, plain string) (string, error) {
	var h string
	var err error
	if gerr := g.do(ctx, 1, func() { h, err = Hash(plain) }); gerr != nil {
		return "", gerr
	}
	return h, err
}

func (g *Gate) do(ctx context.Context, hashes int, hash func()) error {
	if g.waiting.Add(1) > g.queue {
		g.waiting.Add(-1)
		g.busy.Add(1)
		return ErrBusy
	}
	wctx, cancel := context.WithTimeout(ctx, g.wait)
	err := g.sem.Acquire(wctx, 1)
	cancel()
	g.waiting.Add(-1)
	if err != nil {
		// Also when the client left: nobody reads the answer, and it is no server error.
		g.busy.Add(1)
		return ErrBusy
	}
	defer g.sem.Release(1)
	n := g.running.Add(1)
	defer g.running.Add(-1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	hash()
	g.done.Add(int64(hashes))
	return nil
}

// Describe and Collect make the gate a Prometheus collector.
func (g *Gate) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.runningDesc
	ch <- g.peakDesc
	ch <- g.waitingDesc
	ch <- g.busiedDesc
	ch <- g.doneDesc
}

// Collect reports the gate's gauges and its refusals.
func (g *Gate) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(g.runningDesc, prometheus.GaugeValue, float64(g.running.Load()))
	ch <- prometheus.MustNewConstMetric(g.peakDesc, prometheus.GaugeValue, float64(g.peak.Load()))
	ch <- prometheus.MustNewConstMetric(g.waitingDesc, prometheus.GaugeValue, float64(g.waiting.Load()))
	ch <- prometheus.MustNewConstMetric(g.busiedDesc, prometheus.CounterValue, float64(g.busy.Load()))
	ch <- prometheus.MustNewConstMetric(g.doneDesc, prometheus.CounterValue, float64(g.done.Load()))
}
