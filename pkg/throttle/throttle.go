// Package throttle counts failures per key (an email, a client address) in token buckets and
// says when a key has used its budget and must wait.
//
// The buckets are golang.org/x/time/rate limiters driven by the caller's clock. What this
// package adds is the bookkeeping around them: attempts in flight count against the budget
// (so a burst of parallel attempts cannot all pass the check before the first failure is
// recorded), only failures spend a token, and idle keys are forgotten so that an attacker
// who rotates keys cannot grow memory without bound.
package throttle

import (
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

// Begin starts an attempt for key at now. It answers false, with how long to wait, when the
// key's failures and its attempts in flight have used its budget; otherwise the caller must
// call End for the key once the attempt's outcome is known.
func (l *Limiter) Begin(key string, now time.Time) (time.Duration, bool) {
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

// End finishes an attempt that Begin let through; a failure spends one of the key's tokens.
func (l *Limiter) End(key string, now time.Time, failed bool) {
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
