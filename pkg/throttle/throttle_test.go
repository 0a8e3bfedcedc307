package throttle

import (
	"context"
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// begin is l.Begin without the attempt, which these tests end through l.end by key.
func begin(l *Limiter, key string, now time.Time) (time.Duration, bool) {
	_, wait, ok := l.Begin(context.Background(), key, now)
	return wait, ok
}

func TestFailuresSpendTheBudget(t *testing.T) {
	l := New(3, 10*time.Second)
	for i := 0; i < 3; i++ {
		if _, ok := begin(l, "a", t0); !ok {
			t.Fatalf("attempt %d refused", i)
		}
		l.end("a", t0, true)
	}
	wait, ok := begin(l, "a", t0)
	if ok || wait != 10*time.Second {
		t.Fatalf("4th attempt: ok %v, wait %v; want refused for 10s", ok, wait)
	}
	// Other keys are not affected; successes spend nothing.
	for i := 0; i < 10; i++ {
		if _, ok := begin(l, "b", t0); !ok {
			t.Fatalf("key b refused after %d successes", i)
		}
		l.end("b", t0, false)
	}
	// One token comes back per interval.
	if _, ok := begin(l, "a", t0.Add(10*time.Second)); !ok {
		t.Fatal("not let through after the interval")
	}
	l.end("a", t0.Add(10*time.Second), true)
	if _, ok := begin(l, "a", t0.Add(10*time.Second)); ok {
		t.Fatal("a second attempt after one interval")
	}
}

func TestAttemptsInFlightCount(t *testing.T) {
	l := New(2, time.Minute)
	// Parallel attempts that have not failed yet still hold the budget.
	for i := 0; i < 2; i++ {
		if _, ok := begin(l, "a", t0); !ok {
			t.Fatalf("attempt %d refused", i)
		}
	}
	if _, ok := begin(l, "a", t0); ok {
		t.Fatal("a third attempt in flight with a budget of 2")
	}
	l.end("a", t0, false)
	if _, ok := begin(l, "a", t0); !ok {
		t.Fatal("an ended success did not free its place")
	}
}

func TestIdleKeysAreForgotten(t *testing.T) {
	l := New(5, time.Second)
	// An attacker rotating keys: each fails once, and a minute later they are all idle.
	for i := 0; i < 50_000; i++ {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		key := fmt.Sprintf("k%d", i)
		if _, ok := begin(l, key, now); !ok {
			t.Fatalf("fresh key %s refused", key)
		}
		l.end(key, now, true)
	}
	// Keys refill within 5 s, so only those of the last ~5 s (5 000) and the growth headroom
	// before a sweep may stay.
	if n := l.Len(); n > 2*5_000+minSweep {
		t.Fatalf("%d keys held; idle ones are not forgotten", n)
	}
}
