// Package throttle counts failures per key (an email, a client address) in token buckets and
// says when a key has used its budget and must wait.
//
// A Budget lives in this process (Limiter: golang.org/x/time/rate limiters driven by the
// caller's clock) or, with a Shared Redis, in Redis for every process (redis.go). What this
// package adds is the bookkeeping around the buckets: attempts in flight count against the
// budget (so a burst of parallel attempts cannot all pass the check before the first failure
// is recorded), only failures spend a token, and idle keys are forgotten so that an attacker
// who rotates keys cannot grow memory without bound.
package throttle

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter holds one token bucket per key. The zero value is not usable; use New.
type Limiter struct {
	burst int
	every time.Duration

	mu      sync.Mutex
	keys    map[string]*entry
	sweepAt int // the size at which the next insert first forgets idle keys
}

type entry struct {
	lim     *rate.Limiter
	pending int // attempts begun and not ended
}

// minSweep is the size below which idle keys are left alone: sweeping a small map buys nothing.
const minSweep = 1024

// New returns a limiter whose keys may fail burst times at once and get one more try every
// every.
func New(burst int, every time.Duration) *Limiter {
	return &Limiter{burst: max(burst, 1), every: every, keys: map[string]*entry{}, sweepAt: minSweep}
}

// Budget is a failure budget per key.
type Budget interface {
	// Begin starts an attempt for key at now. It answers false, with how long to wait, when
	// the key's failures and its attempts in flight have used its budget; otherwise the caller
	// must End the Attempt once its outcome is known.
	Begin(ctx context.Context, key string, now time.Time) (Attempt, time.Duration, bool)
}

// Attempt is an attempt a Budget let through. End records its outcome where the attempt was
// counted: in this process, or in Redis (a Shared budget that fell back to this process during
// an outage ends its attempts here, even once Redis answers again).
type Attempt struct {
	key    string
	local  *Limiter
	shared *redisBudget
}

// End records the attempt's outcome at now: a failure spends one of the key's tokens, a
// success gives back the place the attempt held.
func (a Attempt) End(ctx context.Context, now time.Time, failed bool) {
	switch {
	case a.local != nil:
		a.local.end(a.key, now, failed)
	case a.shared != nil:
		a.shared.end(ctx, a.key, failed)
	}
}

// Begin starts an attempt for key at now (see Budget).
func (l *Limiter) Begin(_ context.Context, key string, now time.Time) (Attempt, time.Duration, bool) {
	wait, ok := l.begin(key, now)
	if !ok {
		return Attempt{}, wait, false
	}
	return Attempt{key: key, local: l}, 0, true
}

func (l *Limiter) begin(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= l.sweepAt {
			l.sweep(now)
			l.sweepAt = max(2*len(l.keys), minSweep)
		}
		e = &entry{lim: l.fresh()}
		l.keys[key] = e
	}
	if missing := float64(e.pending) + 1 - e.lim.TokensAt(now); missing > 0 {
		return time.Duration(math.Ceil(missing * float64(l.every))), false
	}
	e.pending++
	return 0, true
}

func (l *Limiter) end(key string, now time.Time, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.keys[key]
	if !ok { // not expected: sweep keeps the keys of attempts in flight
		if !failed {
			return
		}
		e = &entry{lim: l.fresh()}
		l.keys[key] = e
	} else if e.pending > 0 {
		e.pending--
	}
	if failed {
		// ReserveN always succeeds for one token and may take the bucket below zero, which
		// only lengthens the wait.
		e.lim.ReserveN(now, 1)
	}
}

// Len is how many keys the limiter holds.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

func (l *Limiter) fresh() *rate.Limiter { return rate.NewLimiter(rate.Every(l.every), l.burst) }

// sweep forgets the keys a fresh bucket would replace exactly: nothing in flight, every token
// back. A key stays at most burst×every after its last failure, so the map holds the keys that
// failed within that time plus the attempts in flight.
func (l *Limiter) sweep(now time.Time) {
	for k, e := range l.keys {
		if e.pending == 0 && e.lim.TokensAt(now) >= float64(l.burst) {
			delete(l.keys, k)
		}
	}
}
