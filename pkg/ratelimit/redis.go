package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/switchboard/switchboard/pkg/outage"
)

// Redis keeps budgets in Redis, shared by every API process that names the same server
// (REDIS_URL). The GCRA is redis_rate's Lua script, which reads Redis's own clock, so the
// processes' clocks need not agree.
//
// When Redis does not answer, the limiter fails open: it decides in this process (its
// fallback Memory, per-process budgets as without REDIS_URL) rather than refuse or answer 500.
// The Guard, which the failed-login throttle shares, logs one warning per outage, counts the
// requests decided locally, and keeps Redis unasked for a while after a failure.
type Redis struct {
	lim      *redis_rate.Limiter
	fallback *Memory
	guard    *outage.Guard
}

// redisTimeout bounds each call to Redis, dialling included: a request waits at most about
// this long before it is decided in this process. A GCRA script answers in well under a
// millisecond on a healthy server.
const redisTimeout = 250 * time.Millisecond

// NewClient is the client of the Redis at url (REDIS_URL) that the budgets and the
// failed-login throttle share, with timeouts short enough that a request waits at most
// redisTimeout before it is decided locally. It does not connect.
func NewClient(url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = redisTimeout, redisTimeout, redisTimeout, redisTimeout
	// A failed call is decided locally at once rather than retried while the request waits,
	// and a refused connection is not dialled again and again (go-redis's default is 5 tries).
	opt.MaxRetries, opt.DialerRetries = -1, 1
	return redis.NewClient(opt), nil
}

// NewRedis returns a limiter on the Redis client (see NewClient), whose outages guard
// tracks. now is the fallback's clock.
func NewRedis(rdb *redis.Client, guard *outage.Guard, now func() time.Time) *Redis {
	return &Redis{lim: redis_rate.NewLimiter(rdb), fallback: NewMemory(now), guard: guard}
}

// Allow decides one request against key's budget in Redis, or locally while Redis fails.
func (r *Redis) Allow(ctx context.Context, key string, l Limit) Result {
	if r.guard.Ask() {
		rctx, cancel := context.WithTimeout(ctx, redisTimeout)
		res, err := r.lim.Allow(rctx, key, redis_rate.Limit{Rate: l.Rate, Burst: l.Rate, Period: l.Period})
		cancel()
		if err == nil {
			r.guard.Answered()
			return fromRedis(res)
		}
		if ctx.Err() != nil {
			// The client went away: not Redis's fault, and nothing to answer.
			return r.fallback.Allow(ctx, key, l)
		}
		r.guard.Failed(err)
	}
	r.guard.Local()
	return r.fallback.Allow(ctx, key, l)
}

func fromRedis(res *redis_rate.Result) Result {
	out := Result{Allowed: res.Allowed > 0, Limit: res.Limit.Rate, Remaining: res.Remaining, ResetAfter: max(res.ResetAfter, 0)}
	if !out.Allowed {
		out.RetryAfter = max(res.RetryAfter, 0)
	}
	return out
}
