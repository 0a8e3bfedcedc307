package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Memory keeps budgets in this process: each API process has its own (README says so). The
// zero value is not usable; use NewMemory.
type Memory struct {
	now func() time.Time

	mu      sync.Mutex
	tats    map[string]time.Time
	sweepAt int // the size at which the next new key first forgets full budgets
}

// minSweep is the size below which full budgets are kept: sweeping a small map buys nothing.
const minSweep = 4096

// NewMemory returns an in-process limiter on the clock now.
func NewMemory(now func() time.Time) *Memory {
	return &Memory{now: now, tats: map[string]time.Time{}, sweepAt: minSweep}
}

// Allow decides one request against key's budget.
func (m *Memory) Allow(_ context.Context, key string, l Limit) Result {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	tat, ok := m.tats[key]
	if !ok && len(m.tats) >= m.sweepAt {
		m.sweep(now)
		m.sweepAt = max(2*len(m.tats), minSweep)
	}
	r, next := decide(tat, now, l)
	if r.Allowed {
		m.tats[key] = next
	}
	return r
}

// sweep forgets the keys whose budget is full again (their TAT has passed): they would decide
// exactly as a key never seen, so a client rotating keys cannot grow the map without bound.
func (m *Memory) sweep(now time.Time) {
	for k, tat := range m.tats {
		if !tat.After(now) {
			delete(m.tats, k)
		}
	}
}
