package api_test

import (
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

// BenchmarkReads measures the two hottest reads through the real HTTP stack and PostgreSQL:
// an agent's inbox page (25 open conversations) and a contact's send-eligibility. Besides
// req/s it reports cpu-µs/req, the process's user+system CPU per request (server and client
// together; PostgreSQL is another process), which varies less than throughput when other
// work shares the cores. Run with `make bench-go`.
func BenchmarkReads(b *testing.B) {
	e := apitest.New(b)
	w := e.NewWorkspace(b, "Bench")
	var ch channelBody
	e.Post(b, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "wa"}).Expect(b, http.StatusCreated).JSON(b, &ch)
	contacts := make([]string, 40)
	for i := range contacts {
		var in inboundBody
		e.Post(b, "/v1/channels/"+ch.ID+"/inbound", w.APIKey, map[string]any{"identifier": fmt.Sprintf("+1415555%04d", i),
			"text": "Hi, my order #1234 never arrived", "contact": map[string]any{"first_name": "Maria", "last_name": fmt.Sprintf("Gonzalez %d", i),
				"email": fmt.Sprintf("maria.%d@example.com", i)}}).Expect(b, http.StatusCreated).JSON(b, &in)
		e.Put(b, "/v1/conversations/"+in.Conversation.ID+"/assignee", w.OwnerToken, map[string]any{"user_id": w.OwnerID}).Expect(b, http.StatusOK)
		contacts[i] = in.Contact.ID
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	get := func(b *testing.B, path string) {
		req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+w.OwnerToken)
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	run := func(name string, f func(i int64)) {
		b.Run(name, func(b *testing.B) {
			var n atomic.Int64
			b.SetParallelism(8) // 8 × GOMAXPROCS clients (16 on two cores)
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
	run("inbox", func(int64) { get(b, "/v1/conversations?status=open&inbox=mine") })
	run("eligibility", func(i int64) { get(b, "/v1/contacts/"+contacts[i%int64(len(contacts))]+"/send-eligibility") })
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
