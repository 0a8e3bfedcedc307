// Package ratelimit answers whether a request fits its budget: a credential's requests a
// minute, a client address's, a workspace's sends a second. One algorithm, GCRA (the generic
// cell rate algorithm), decides in both places a budget can live: in this process (Memory) or
// in Redis (Redis), shared by every API process.
//
// GCRA keeps one instant per key, the theoretical arrival time (TAT) of the next request if
// requests came evenly. A budget of Rate per Period spaces requests an emission interval
// (Period/Rate) apart and lets a full budget through at once: a request is allowed while the
// TAT it would push out stays within a Period of now. Unlike a fixed window it has no edge
// where twice the budget passes, and unlike a token bucket in Go it needs one number per key,
// which is what lets Redis keep it in one key updated by one script.
package ratelimit

import (
	"context"
	"math"
	"time"
)

// Limit is a budget: Rate requests per Period, all of which may come at once.
type Limit struct {
	Rate   int
	Period time.Duration
}

// PerMinute is a budget of n requests a minute.
func PerMinute(n int) Limit { return Limit{Rate: n, Period: time.Minute} }

// PerSecond is a budget of n requests a second.
func PerSecond(n int) Limit { return Limit{Rate: n, Period: time.Second} }

// Result is the answer for one request.
type Result struct {
	Allowed bool
	// Limit is the budget's size (Limit.Rate); Remaining how many more requests would be
	// allowed now.
	Limit, Remaining int
	// ResetAfter is how long until the budget is full again (Remaining equals Limit).
	ResetAfter time.Duration
	// RetryAfter is how long until the next request is allowed; zero when this one was.
	RetryAfter time.Duration
}

// Limiter decides one request against key's budget. It never fails: a limiter whose store is
// unreachable decides in this process instead (see Redis).
type Limiter interface {
	Allow(ctx context.Context, key string, l Limit) Result
}

// decide is GCRA: the request arriving at now against the key's TAT (the zero time for a key
// never seen, or one whose budget is full). It returns the answer and the key's new TAT,
// unchanged when the request is refused. The Redis script (redis_rate's) is the same
// arithmetic, in seconds as floats.
func decide(tat, now time.Time, l Limit) (Result, time.Time) {
	interval := l.Period / time.Duration(l.Rate)
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	// How far inside the budget's window the new TAT lands; negative: outside, refused.
	slack := now.Sub(next.Add(-l.Period))
	if slack < 0 {
		return Result{Limit: l.Rate, ResetAfter: tat.Sub(now), RetryAfter: -slack}, tat
	}
	return Result{Allowed: true, Limit: l.Rate, Remaining: int(slack / interval), ResetAfter: next.Sub(now)}, next
}

// Seconds rounds a duration up to whole seconds, as the RateLimit-Reset and Retry-After
// headers carry it: a client that waits that long is never early.
func Seconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}
