package throttle_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/switchboard/switchboard/pkg/outage"
	"github.com/switchboard/switchboard/pkg/ratelimit"
	"github.com/switchboard/switchboard/pkg/ratelimit/redistest"
	"github.com/switchboard/switchboard/pkg/throttle"
)

// TestRedisBudgetShared: two budgets on one Redis (two processes) are one budget: failures on
// either spend it, attempts in flight on either hold it, a success gives its place back, and
// the wait is a refill's. When Redis stops, each decides alone (fail open) with one warning.
func TestRedisBudgetShared(t *testing.T) {
	srv := redistest.Start(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	guard := outage.New(log) // process a's
	open := func(g *outage.Guard) throttle.Budget {
		rdb, err := ratelimit.NewClient(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rdb.Close() })
		return throttle.Shared{Redis: rdb, Guard: g}.Budget("test", 3, time.Minute)
	}
	a, b := open(guard), open(outage.New(log))
	ctx, now := context.Background(), time.Now()
	begin := func(bud throttle.Budget, key string) (throttle.Attempt, time.Duration, bool) {
		t.Helper()
		return bud.Begin(ctx, key, now)
	}

	// Two attempts in flight, one on each process, and a success: the third place is free.
	x, _, ok1 := begin(a, "k")
	y, _, ok2 := begin(b, "k")
	z, _, ok3 := begin(a, "k")
	if !ok1 || !ok2 || !ok3 {
		t.Fatal("three attempts refused with a budget of 3")
	}
	if _, _, ok := begin(b, "k"); ok {
		t.Fatal("a fourth attempt in flight over two processes with a budget of 3")
	}
	z.End(ctx, now, false)
	w, _, ok := begin(b, "k")
	if !ok {
		t.Fatal("an ended success did not give its place back")
	}
	// Three failures over both processes spend the budget: refused, for about one refill.
	for _, at := range []throttle.Attempt{x, y, w} {
		at.End(ctx, now, true)
	}
	_, wait, ok := begin(a, "k")
	if ok || wait <= 55*time.Second || wait > time.Minute {
		t.Fatalf("after 3 failures: ok %v, wait %v; want refused for about a minute", ok, wait)
	}
	if _, _, ok := begin(b, "other"); !ok {
		t.Fatal("another key is refused")
	}

	srv.Stop()
	for i := 0; i < 3; i++ {
		at, _, ok := begin(a, "k")
		if !ok {
			t.Fatalf("attempt %d with Redis down refused; want this process's own budget (fail open)", i)
		}
		at.End(ctx, now, true)
	}
	if _, _, ok := begin(a, "k"); ok {
		t.Fatal("the process's own budget is not applied during the outage")
	}
	if n := strings.Count(logs.String(), "Redis does not answer"); n != 1 {
		t.Fatalf("%d warnings for one outage on process a, want 1:\n%s", n, logs.String())
	}
	if got := testutil.ToFloat64(guard.Collectors()[0]); got != 4 {
		t.Fatalf("fail-open count %v, want 4", got)
	}
}
