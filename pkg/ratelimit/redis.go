package ratelimit

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Redis keeps budgets in Redis, shared by every API process that names the same server
// (REDIS_URL). The GCRA is redis_rate's Lua script, which reads Redis's own clock, so the
// processes' clocks need not agree.
//
// When Redis does not answer, the limiter fails open: it decides in this process (its
// fallback Memory, per-process budgets as without REDIS_URL) rather than refuse or answer 500,
// logs one warning per outage and counts the requests in a metric. After a failure it leaves
// Redis alone for a while (retryRedis), so an outage does not add a connection timeout to
// every request.
type Redis struct {
	lim      *redis_rate.Limiter
	fallback *Memory
	log      *slog.Logger

	mu        sync.Mutex
	downUntil time.Time // Redis is not asked before this
	down      bool      // an outage was logged and its end not yet

	failOpen prometheus.Counter
	up       prometheus.Gauge
}

// retryRedis is how long the limiter decides locally after Redis failed, before asking again.
const retryRedis = 2 * time.Second

// redisTimeout bounds each decision in Redis, dialling included: a request waits at most
// about this long before it is decided in this process. A GCRA script answers in well under
// a millisecond on a healthy server.
const redisTimeout = 250 * time.Millisecond

// NewRedis returns a limiter on the Redis client, which should have short timeouts: a request
// waits for Redis at most that long before it is decided locally. now is the fallback's clock.
func NewRedis(rdb *redis.Client, log *slog.Logger, now func() time.Time) *Redis {
	r := &Redis{
		lim:      redis_rate.NewLimiter(rdb),
		fallback: NewMemory(now),
		log:      log,
		failOpen: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "switchboard", Subsystem: "ratelimit", Name: "fail_open_total",
			Help: "Requests decided in this process because the shared limiter (Redis) did not answer.",
		}),
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "switchboard", Subsystem: "ratelimit", Name: "redis_up",
			Help: "1 while the shared limiter (Redis) answers, 0 during an outage.",
		}),
	}
	r.up.Set(1)
	return r
}

// Collectors are the limiter's metrics.
func (r *Redis) Collectors() []prometheus.Collector { return []prometheus.Collector{r.failOpen, r.up} }

// Allow decides one request against key's budget in Redis, or locally while Redis fails.
func (r *Redis) Allow(ctx context.Context, key string, l Limit) Result {
	// The outage is timed on the wall clock: it is the network's time, not the domain's (a
	// test's fixed clock would otherwise never let Redis be asked again).
	now := time.Now()
	r.mu.Lock()
	skip := now.Before(r.downUntil)
	r.mu.Unlock()
	if !skip {
		rctx, cancel := context.WithTimeout(ctx, redisTimeout)
		res, err := r.lim.Allow(rctx, key, redis_rate.Limit{Rate: l.Rate, Burst: l.Rate, Period: l.Period})
		cancel()
		if err == nil {
			r.recovered()
			return fromRedis(res)
		}
		if ctx.Err() != nil {
			// The client went away: not Redis's fault, and nothing to answer.
			return r.fallback.Allow(ctx, key, l)
		}
		r.failed(now, err)
	}
	r.failOpen.Inc()
	return r.fallback.Allow(ctx, key, l)
}

func (r *Redis) failed(now time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.downUntil = now.Add(retryRedis)
	if !r.down {
		r.down = true
		r.up.Set(0)
		r.log.Warn("rate limits: Redis does not answer; deciding in this process (per-process budgets) until it does",
			"error", err.Error())
	}
}

func (r *Redis) recovered() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		r.down = false
		r.up.Set(1)
		r.log.Info("rate limits: Redis answers again; budgets are shared")
	}
}

func fromRedis(res *redis_rate.Result) Result {
	out := Result{Allowed: res.Allowed > 0, Limit: res.Limit.Rate, Remaining: res.Remaining, ResetAfter: max(res.ResetAfter, 0)}
	if !out.Allowed {
		out.RetryAfter = max(res.RetryAfter, 0)
	}
	return out
}
