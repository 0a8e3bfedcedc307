package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// TestMixRequests: every draw makes a request of the kind the mix gives it, which kindOf
// reads back (the per-kind figures rely on it), in the shares; sends carry
// Idempotency-Keys of their own.
func TestMixRequests(t *testing.T) {
	f := &fixture{base: "http://127.0.0.1:1", agents: []agent{{auth: http.Header{"Authorization": {"Bearer a"}}}},
		phoneFragments: []string{"1234"}, nameFragments: []string{"garc"}, contactIDs: []string{"c1"},
		sendTargets: []sendTarget{{contact: "c2", channel: "ch"}}, inboundChannel: "wa", inboundIdentifiers: []string{"+1555"},
		keyAuth: http.Header{"Authorization": {"Bearer key"}}, textThreads: []string{"t1"}, mediaThreads: []string{"t2"}, runID: "r"}
	m := benchMixer(f)
	counts := map[string]int{}
	keys := map[string]bool{}
	for r := range mixShares {
		for i := range 6 {
			tg := m.request(r, i)
			kind := kindOf(tg.Method, tg.URL)
			counts[kind]++
			if kind == "send" {
				k := tg.Header.Get("Idempotency-Key")
				if k == "" || keys[k] {
					t.Errorf("send %d/%d: Idempotency-Key %q, empty or repeated", r, i, k)
				}
				keys[k] = true
			}
		}
	}
	sum := 0
	for _, k := range mix {
		sum += k.share
		if counts[k.kind] != 6*k.share {
			t.Errorf("%s: %d requests of %d draws, want %d", k.kind, counts[k.kind], 6*mixShares, 6*k.share)
		}
	}
	if sum != mixShares {
		t.Errorf("the shares sum to %d, want mixShares (%d)", sum, mixShares)
	}
	if got := m.request(0, 0).Header.Get("Idempotency-Key"); got != "" {
		t.Errorf("an inbox list carries an Idempotency-Key %q", got)
	}
	if !strings.HasSuffix(f.agents[0].auth.Get("Authorization"), "a") || f.agents[0].auth.Get("Idempotency-Key") != "" {
		t.Errorf("a send's key leaked into the agent's shared headers: %v", f.agents[0].auth)
	}
}

func TestIntendedLatency(t *testing.T) {
	began := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name                string
		seq                 uint64
		left                time.Duration // after began
		latency             time.Duration
		wantLatency, behind time.Duration
	}{
		{"on time", 100, time.Second, 5 * time.Millisecond, 5 * time.Millisecond, 0},
		{"early counts as on time", 100, time.Second - time.Millisecond, 5 * time.Millisecond, 5 * time.Millisecond, 0},
		{"late: the wait counts", 100, time.Second + 30*time.Millisecond, 5 * time.Millisecond, 35 * time.Millisecond, 30 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &vegeta.Result{Seq: tc.seq, Timestamp: began.Add(tc.left), Latency: tc.latency}
			l, b := intendedLatency(r, began, 100)
			if l != tc.wantLatency || b != tc.behind {
				t.Errorf("intendedLatency = %s, %s behind; want %s, %s", l, b, tc.wantLatency, tc.behind)
			}
		})
	}
}

// fakeRun is a mix run at rate whose answers all took latency, with failed of them errors.
func fakeRun(rate int, latency time.Duration, failed int, throughput float64) mixRun {
	r := mixRun{rate: rate, throughput: throughput, kinds: map[string]*kindStats{}}
	for i := range 100 {
		res := &vegeta.Result{Code: http.StatusOK}
		if i < failed {
			res.Code = http.StatusInternalServerError
		}
		r.all.add(res, latency)
	}
	return r
}

func TestOpenVerdict(t *testing.T) {
	tests := []struct {
		name            string
		runs            []mixRun
		target, highest string
	}{
		{"target met, limit found",
			[]mixRun{fakeRun(300, 20*time.Millisecond, 0, 300), fakeRun(400, 60*time.Millisecond, 0, 400), fakeRun(500, 150*time.Millisecond, 0, 480)},
			"yes: p99 20.0 ms", "400 req/s (p99 60.0 ms); 500 req/s was not held (p99 150.0 ms)"},
		{"held but slower than the target",
			[]mixRun{fakeRun(300, 70*time.Millisecond, 0, 299), fakeRun(400, 90*time.Millisecond, 2, 398)},
			"no: p99 70.0 ms", "300 req/s (p99 70.0 ms); 400 req/s was not held (2 errors)"},
		{"slow and failing at the target",
			[]mixRun{fakeRun(300, 120*time.Millisecond, 3, 290)},
			"no: p99 120.0 ms, and 3 errors", "none of the rates run: the lowest, 300 req/s, was not held (p99 120.0 ms, 3 errors)"},
		{"fell behind",
			[]mixRun{fakeRun(300, 20*time.Millisecond, 0, 200)},
			"no: p99 20.0 ms, and 200 2xx/s", "none of the rates run: the lowest, 300 req/s, was not held (200 2xx/s)"},
		{"every rate held",
			[]mixRun{fakeRun(300, 10*time.Millisecond, 0, 300), fakeRun(400, 12*time.Millisecond, 0, 400)},
			"yes: p99 10.0 ms", "400 req/s or more: every rate run was held (p99 12.0 ms); BENCH_OPEN_RATES with higher rates finds the limit"},
		{"300 not run",
			[]mixRun{fakeRun(200, 10*time.Millisecond, 0, 200)},
			"not run (300 req/s is not in BENCH_OPEN_RATES, or an earlier rate was not held)", "200 req/s or more: every rate run was held (p99 10.0 ms); BENCH_OPEN_RATES with higher rates finds the limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target, highest := openVerdict(tc.runs)
			if target != tc.target || highest != tc.highest {
				t.Errorf("openVerdict =\n%q\n%q\nwant\n%q\n%q", target, highest, tc.target, tc.highest)
			}
		})
	}
}

// TestClusterMix: bench cluster's mix reads its own sample of conversations and sends every
// message to the LINE channel.
func TestClusterMix(t *testing.T) {
	f := &fixture{base: "http://127.0.0.1:1", agents: []agent{{auth: http.Header{"Authorization": {"Bearer a"}}}},
		phoneFragments: []string{"1234"}, nameFragments: []string{"garc"}, contactIDs: []string{"c1"},
		inboundChannel: "wa", inboundIdentifiers: []string{"+1555"}, keyAuth: http.Header{"Authorization": {"Bearer key"}}, runID: "r"}
	c := &clusterFixture{mixer: mixer{fixture: f, threads: []string{"conv"}}, lineChannel: "line", lineContacts: []string{"lc"}}
	c.send = c.lineSend
	for r := range mixShares {
		tg := c.request(r, r)
		switch kindOf(tg.Method, tg.URL) {
		case "thread":
			if !strings.Contains(tg.URL, "/v1/conversations/conv/messages") {
				t.Errorf("thread read of %s, want the cluster's sample", tg.URL)
			}
		case "send":
			if !strings.Contains(tg.URL, "/v1/contacts/lc/messages") || !strings.Contains(string(tg.Body), `"channel_id":"line"`) ||
				tg.Header.Get("Idempotency-Key") == "" {
				t.Errorf("send %s %s %v, want one to a LINE contact on the LINE channel, with a key", tg.URL, tg.Body, tg.Header)
			}
		}
	}
}
