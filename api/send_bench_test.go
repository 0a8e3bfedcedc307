package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

// BenchmarkSend measures rule-checked sends and eligibility answers through the real HTTP
// stack and PostgreSQL (responses are not spec-validated here: that would measure the
// validator). Run with `make bench-go`; figures are per second across 16 concurrent clients.
func BenchmarkSend(b *testing.B) {
	e := apitest.New(b)
	w := e.NewWorkspace(b, "Bench")
	var ch channelBody
	e.Post(b, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "wa"}).Expect(b, http.StatusCreated).JSON(b, &ch)
	contacts := make([]string, 500)
	for i := range contacts {
		var in inboundBody
		e.Post(b, "/v1/channels/"+ch.ID+"/inbound", w.APIKey, map[string]any{"identifier": fmt.Sprintf("+1415555%04d", i), "text": "hi"}).
			Expect(b, http.StatusCreated).JSON(b, &in)
		contacts[i] = in.Contact.ID
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	do := func(b *testing.B, method, path string, body []byte) {
		req, _ := http.NewRequest(method, e.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+w.OwnerToken)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
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
	msg, _ := json.Marshal(map[string]any{"type": "text", "text": "Your order has shipped", "channel_id": ch.ID})
	run := func(name string, f func(i int64)) {
		b.Run(name, func(b *testing.B) {
			var n atomic.Int64
			b.SetParallelism(8) // 8 × GOMAXPROCS clients (16 on two cores)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					f(n.Add(1))
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
	run("one conversation", func(int64) { do(b, http.MethodPost, "/v1/contacts/"+contacts[0]+"/messages", msg) })
	run("many contacts", func(i int64) {
		do(b, http.MethodPost, "/v1/contacts/"+contacts[i%int64(len(contacts))]+"/messages", msg)
	})
	run("eligibility", func(i int64) {
		do(b, http.MethodGet, "/v1/contacts/"+contacts[i%int64(len(contacts))]+"/send-eligibility", nil)
	})
}
