package api_test

import (
	"bytes"
	"io"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

// benchClient drives the test server as concurrent API clients do: keep-alive connections, a
// bearer token, bodies read and dropped (responses are not spec-validated here: that would
// measure the validator), any status of 300 or more an error.
type benchClient struct {
	base, token string
	http        *http.Client
}

func newBenchClient(e *apitest.Env, token string) *benchClient {
	return &benchClient{base: e.URL, token: token, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

func (c *benchClient) do(b *testing.B, method, path string, body []byte) {
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		b.Errorf("%s %s: %d", method, path, resp.StatusCode)
	}
}

// runParallel runs f (given a request number) from 8 × GOMAXPROCS clients (16 on two cores)
// and reports req/s and cpu-µs/req: the process's user and system CPU per request (server and
// client together; PostgreSQL is another process), which varies less than throughput when
// other work shares the cores.
func runParallel(b *testing.B, name string, f func(i int64)) {
	b.Run(name, func(b *testing.B) {
		var n atomic.Int64
		b.SetParallelism(8)
		cpu0, start := cpuTime(), time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				f(n.Add(1))
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/req")
	})
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
