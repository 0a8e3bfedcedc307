package api_test

import (
	"net/http"
	"testing"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/ratelimit/redistest"
)

// BenchmarkRateLimits measures what the rate limiter costs the inbox list (issue 18: under 5 %
// of its throughput): the same page as BenchmarkReads's, with limits off, on in the process,
// and on in Redis (a redis-server the benchmark starts), with budgets no run reaches, so every
// request pays for the check and none is refused. cpu-µs/req is this process's CPU (server and
// client), which a busy machine disturbs less than req/s. Run with `make bench-go`.
func BenchmarkRateLimits(b *testing.B) {
	unlimited := func(c *config.Config) {
		c.RateLimitPerMinute, c.RateLimitPerAddress, c.SendRatePerSecond = 1_000_000, 1_000_000, 100_000
	}
	redis := redistest.Start(b)
	for _, v := range []struct {
		name string
		opts []apitest.Option
	}{
		{"off", nil},
		{"in-process", []apitest.Option{apitest.WithRateLimits(), unlimited}},
		{"redis", []apitest.Option{apitest.WithRateLimits(), unlimited, func(c *config.Config) { c.RedisURL = redis.URL }}},
	} {
		e := apitest.New(b, v.opts...)
		w, _ := seedBenchInbox(b, e, "Bench "+v.name)
		c := newBenchClient(e, w.OwnerToken)
		runParallel(b, "inbox/limits="+v.name, func(int64) { c.do(b, http.MethodGet, "/v1/conversations?status=open&inbox=mine", nil) })
	}
}
