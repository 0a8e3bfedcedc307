// Package outage keeps track of whether the Redis that API processes share (REDIS_URL)
// answers, so that the rate limits and the failed-login throttle decide in their own process
// while it does not (fail open) instead of refusing or answering 500: one warning per outage,
// a metric of the decisions made locally, and a pause before Redis is asked again, so that an
// outage does not add a connection timeout to every request.
package outage

import (
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Retry is how long the users of a Guard decide locally after Redis failed, before asking
// again.
const Retry = 2 * time.Second

// Guard is one Redis's outages, shared by everything that asks that Redis: one outage is one
// warning and one gauge however many budgets live there.
type Guard struct {
	log *slog.Logger

	mu        sync.Mutex
	downUntil time.Time // Redis is not asked before this
	down      bool      // an outage was logged and its end not yet

	failOpen prometheus.Counter
	up       prometheus.Gauge
}

// New returns a Guard that logs to log. Its metrics keep the names they had when only the
// rate limiter used Redis.
func New(log *slog.Logger) *Guard {
	g := &Guard{
		log: log,
		failOpen: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "switchboard", Subsystem: "ratelimit", Name: "fail_open_total",
			Help: "Decisions made in this process because the shared limiter (Redis) did not answer: one per request, two per login (its address's and its email's budgets).",
		}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "switchboard", Subsystem: "ratelimit", Name: "redis_up",
			Help: "1 while the shared limiter (Redis) answers, 0 during an outage.",
		}),
	}
	g.up.Set(1)
	return g
}

// Collectors are the Guard's metrics.
func (g *Guard) Collectors() []prometheus.Collector { return []prometheus.Collector{g.failOpen, g.up} }

// Ask reports whether Redis may be asked now: not within Retry of its last failure. The
// pause is timed on the wall clock: it is the network's time, not the domain's (a test's
// fixed clock would otherwise never let Redis be asked again).
func (g *Guard) Ask() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !time.Now().Before(g.downUntil)
}

// Failed records that Redis did not answer: the first failure of an outage logs a warning.
func (g *Guard) Failed(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.downUntil = time.Now().Add(Retry)
	if !g.down {
		g.down = true
		g.up.Set(0)
		g.log.Warn("rate limits: Redis does not answer; deciding in this process (per-process budgets) until it does",
			"error", err.Error())
	}
}

// Answered records that Redis answered, which ends an outage.
func (g *Guard) Answered() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.down {
		g.down = false
		g.up.Set(1)
		g.log.Info("rate limits: Redis answers again; budgets are shared")
	}
}

// Local counts one decision made in this process because Redis did not answer.
func (g *Guard) Local() { g.failOpen.Inc() }
