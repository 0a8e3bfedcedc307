package ratelimit_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard/switchboard/pkg/outage"
	"github.com/switchboard/switchboard/pkg/ratelimit"
	"github.com/switchboard/switchboard/pkg/ratelimit/redistest"
)

var t0 = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestMemoryBudget walks one key through a budget of 20 a minute on a fixed clock: the whole
// budget at once, counting down, then refused until one emission interval (3 s) has passed.
func TestMemoryBudget(t *testing.T) {
	c := &clock{t: t0}
	m := ratelimit.NewMemory(c.now)
	ctx := context.Background()
	l := ratelimit.PerMinute(20)
	for i := 19; i >= 0; i-- {
		r := m.Allow(ctx, "k", l)
		if !r.Allowed || r.Limit != 20 || r.Remaining != i {
			t.Fatalf("request %d: %+v, want allowed with %d remaining", 20-i, r, i)
		}
	}
	tests := []struct {
		name        string
		after       time.Duration
		allowed     bool
		remaining   int
		retry, rest time.Duration
	}{
		{"the 21st is refused", 0, false, 0, 3 * time.Second, 60 * time.Second},
		{"still refused a moment before the interval", 2999 * time.Millisecond, false, 0, time.Millisecond, 57001 * time.Millisecond},
		{"one request back after the interval", time.Millisecond, true, 0, 0, 60 * time.Second},
		{"a full budget a minute after the last", time.Minute, true, 19, 0, 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c.advance(tc.after)
			r := m.Allow(ctx, "k", l)
			if r.Allowed != tc.allowed || r.Remaining != tc.remaining || r.RetryAfter != tc.retry || r.ResetAfter != tc.rest {
				t.Fatalf("got %+v; want allowed %v, remaining %d, retry %v, reset %v", r, tc.allowed, tc.remaining, tc.retry, tc.rest)
			}
		})
	}
	if r := m.Allow(ctx, "other", l); !r.Allowed || r.Remaining != 19 {
		t.Fatalf("another key: %+v, want its own full budget", r)
	}
}

func TestSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{0, 0}, {-time.Second, 0}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {time.Minute, 60}} {
		if got := ratelimit.Seconds(tc.d); got != tc.want {
			t.Errorf("Seconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

// TestRedisSharedAndFailOpen: two limiters on one Redis (two processes) share a budget, with
// the same countdown as Memory; when Redis stops, both answer from their own budgets, log one
// warning and count the requests.
func TestRedisSharedAndFailOpen(t *testing.T) {
	srv := redistest.Start(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	guard := outage.New(log) // process a's
	open := func(g *outage.Guard) *ratelimit.Redis {
		rdb, err := ratelimit.NewClient(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rdb.Close() })
		return ratelimit.NewRedis(rdb, g, time.Now)
	}
	a, b := open(guard), open(outage.New(log))
	ctx := context.Background()
	l := ratelimit.PerMinute(20)
	for i := 19; i >= 0; i-- {
		lim := a
		if i%2 == 0 {
			lim = b
		}
		if r := lim.Allow(ctx, "k", l); !r.Allowed || r.Remaining != i || r.Limit != 20 {
			t.Fatalf("request %d: %+v, want allowed with %d remaining", 20-i, r, i)
		}
	}
	r := a.Allow(ctx, "k", l)
	if r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > 3*time.Second || r.ResetAfter < 57*time.Second {
		t.Fatalf("the 21st over both processes: %+v, want refused for up to 3s", r)
	}

	srv.Stop()
	for i := 0; i < 5; i++ {
		if r := a.Allow(ctx, "k", l); !r.Allowed {
			t.Fatalf("request %d with Redis down: %+v, want allowed (fail open)", i, r)
		}
	}
	if n := strings.Count(logs.String(), "Redis does not answer"); n != 1 {
		t.Fatalf("%d warnings for one outage, want 1:\n%s", n, logs.String())
	}
	if got := testutil.ToFloat64(guard.Collectors()[0]); got != 5 {
		t.Fatalf("fail-open count %v, want 5", got)
	}
}

// TestWaitSend: a worker's send waits on the workspace's send budget, shared with the API's
// sends, and gives up when its context ends.
func TestWaitSend(t *testing.T) {
	c := &clock{t: t0}
	s := ratelimit.New(ratelimit.NewMemory(c.now), ratelimit.Config{PerMinute: 1200, PerAddressPerMinute: 600, SendsPerSecond: 2})
	ws := uuid.New()
	ctx := context.Background()
	if r := s.Send(ctx, ws); !r.Allowed { // an API send
		t.Fatalf("first send refused: %+v", r)
	}
	if err := s.WaitSend(ctx, ws); err != nil {
		t.Fatalf("the budget's second send waited: %v", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.WaitSend(done, ws); err != context.Canceled {
		t.Fatalf("WaitSend on a spent budget and an ended context: %v, want context.Canceled", err)
	}
	if r := s.Send(ctx, uuid.New()); !r.Allowed {
		t.Fatalf("another workspace's send refused: %+v", r)
	}
	var off *ratelimit.Service // RATE_LIMITS=off
	if err := off.WaitSend(ctx, ws); err != nil {
		t.Fatalf("WaitSend without limits: %v", err)
	}
}

// BenchmarkMemoryAllow is the in-process limiter's cost per request (one credential's key, as
// every authenticated request spends), for comparison with a request's (make bench).
func BenchmarkMemoryAllow(b *testing.B) {
	m := ratelimit.NewMemory(time.Now)
	ctx := context.Background()
	l := ratelimit.PerMinute(1_000_000_000)
	keys := make([]string, 50)
	for i := range keys {
		keys[i] = "user:" + uuid.NewString()
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.Allow(ctx, keys[i%len(keys)], l)
			i++
		}
	})
}
