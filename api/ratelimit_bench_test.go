package api_test

import (
	"fmt"
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
		w := e.NewWorkspace(b, "Bench "+v.name)
		var ch channelBody
		e.Post(b, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "wa"}).Expect(b, http.StatusCreated).JSON(b, &ch)
		for i := range 40 {
			var in inboundBody
			e.Post(b, "/v1/channels/"+ch.ID+"/inbound", w.APIKey, map[string]any{"identifier": fmt.Sprintf("+1415555%04d", i),
				"text": "Hi, my order #1234 never arrived"}).Expect(b, http.StatusCreated).JSON(b, &in)
			e.Put(b, "/v1/conversations/"+in.Conversation.ID+"/assignee", w.OwnerToken, map[string]any{"user_id": w.OwnerID}).Expect(b, http.StatusOK)
		}
		c := newBenchClient(e, w.OwnerToken)
		runParallel(b, "inbox/limits="+v.name, func(int64) { c.do(b, http.MethodGet, "/v1/conversations?status=open&inbox=mine", nil) })
	}
}
