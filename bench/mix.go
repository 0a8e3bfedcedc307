package main

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Issue 19's realistic mix in an open loop, shared by make bench's open-mix scenario
// (openmix.go) and bench cluster (cluster.go): the requests, their kinds, and one run at a
// fixed rate with its figures per kind.

// mix is issue 19's realistic mix, in twentieths: 60 % inbox lists and thread reads, 15 %
// searches, 10 % eligibility, 10 % sends, 5 % inbound.
var mix = []struct {
	kind  string
	share int
}{{"inbox", 6}, {"thread", 6}, {"search", 3}, {"eligibility", 2}, {"send", 2}, {"inbound", 1}}

// mixShares is the sum of the mix's shares: a draw r of the mix is in [0, mixShares).
const mixShares = 20

// mixer builds the mix's requests from the scenarios' fixture. The two harnesses differ in
// which conversations a thread read opens and where a send goes, so those are theirs to give.
type mixer struct {
	*fixture
	threads []string                    // conversations whose newest page a thread read asks for
	send    func(i int) vegeta.Target   // the send of variant i, without its Idempotency-Key
	ack     func(kind string, b []byte) // nil, or told of every 2xx answer to a send or an inbound message
}

// request is the mix's request for a draw r (0..mixShares-1) and variant i. The inbox lists,
// searches, eligibility and inbound messages are the closed-loop scenarios' own requests.
func (m *mixer) request(r, i int) vegeta.Target {
	kind := ""
	for _, k := range mix {
		if r < k.share {
			kind = k.kind
			break
		}
		r -= k.share
	}
	switch kind {
	case "inbox":
		return scenarioByID(pick([]string{"inbox-open", "inbox-mine"}, i)).request(m.fixture, i)
	case "thread":
		return m.get(i, "/v1/conversations/"+pick(m.threads, i)+"/messages")
	case "search":
		return scenarioByID(pick([]string{"contacts-phone", "contacts-name", "closed-search"}, i)).request(m.fixture, i)
	case "eligibility":
		return scenarioByID("send-eligibility").request(m.fixture, i)
	case "send":
		// An agent's client sends each message once under a key of its own, as the API asks
		// of clients that may retry; a repeated key would be a replay, not a send.
		tg := m.send(i)
		tg.Header = tg.Header.Clone()
		tg.Header.Set("Idempotency-Key", "bench-send-"+strconv.FormatUint(m.sequence.Add(1), 36)+"-"+m.runID)
		return tg
	default:
		return scenarioByID("inbound").request(m.fixture, i)
	}
}

// kindOf is the mix's kind of a request, from its method and URL.
func kindOf(method, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "?"
	}
	p := u.Path
	switch {
	case method == http.MethodPost && strings.HasSuffix(p, "/inbound"):
		return "inbound"
	case method == http.MethodPost:
		return "send"
	case strings.HasSuffix(p, "/send-eligibility"):
		return "eligibility"
	case strings.HasPrefix(p, "/v1/conversations/"):
		return "thread"
	case u.Query().Get("q") != "" || p == "/v1/contacts":
		return "search"
	}
	return "inbox"
}

// mixRun is one open-loop run of the mix.
type mixRun struct {
	name    string
	target  string
	rate    int
	elapsed time.Duration
	// sent is the rate requests actually left at, and throughput the 2xx answers a second
	// over the attack and the wait for its last answers (vegeta's Rate and Throughput): an
	// open loop that cannot keep up shows it here, below rate.
	sent, throughput float64
	// behind is how late the latest request left after its intended time: the load
	// generator's own lag, which the latencies include.
	behind time.Duration
	all    kindStats
	kinds  map[string]*kindStats
}

type kindStats struct {
	ok        int
	errors    statusCounts
	latencies []time.Duration
}

func (k *kindStats) add(r *vegeta.Result, latency time.Duration) {
	k.latencies = append(k.latencies, latency)
	if r.Code >= 200 && r.Code < 300 {
		k.ok++
		return
	}
	if k.errors == nil {
		k.errors = statusCounts{}
	}
	k.errors[int(r.Code)]++
}

func (k *kindStats) quantile(q float64) time.Duration {
	slices.Sort(k.latencies)
	return quantile(k.latencies, q)
}

func (k *kindStats) errorCount() int { return k.errors.total() }

func (k *kindStats) errorText() string { return k.errors.String() }

// intendedLatency is a result's latency counted from the moment a constant pacer meant to
// send it (seq / rate after the attack began), not from when it left: vegeta times a
// request from its departure, so when the generator falls behind (its goroutines starved on
// a loaded machine), the wait before departure would otherwise be dropped from the figures,
// the coordinated omission an open loop is there to avoid.
func intendedLatency(r *vegeta.Result, began time.Time, rate int) (latency, behind time.Duration) {
	intended := began.Add(time.Duration(r.Seq) * time.Second / time.Duration(rate))
	behind = max(0, r.Timestamp.Sub(intended))
	return r.Latency + behind, behind
}

// runMix sends the mix to base at rate req/s for d, open loop (requests leave on time
// whether or not earlier ones have answered; vegeta starts a worker for each request no
// earlier worker is free for).
func runMix(ctx context.Context, m *mixer, name, target, base string, rate int, d time.Duration) (mixRun, error) {
	m.base = base
	run := mixRun{name: name, target: target, rate: rate, kinds: map[string]*kindStats{}}
	atk := vegeta.NewAttacker(vegeta.KeepAlive(true), vegeta.Timeout(30*time.Second), vegeta.Redirects(vegeta.NoFollow))
	defer context.AfterFunc(ctx, func() { atk.Stop() })()
	targeter := func(t *vegeta.Target) error {
		*t = m.request(rand.IntN(mixShares), rand.IntN(1<<30))
		return nil
	}
	var metrics vegeta.Metrics
	shown := 0
	// Attack takes its own start within microseconds of this one; the first request (seq 0)
	// leaves at once, so this is its intended time.
	start := time.Now()
	for r := range atk.Attack(targeter, vegeta.Rate{Freq: rate, Per: time.Second}, d, name) {
		metrics.Add(r)
		latency, behind := intendedLatency(r, start, rate)
		run.behind = max(run.behind, behind)
		kind := kindOf(r.Method, r.URL)
		if run.kinds[kind] == nil {
			run.kinds[kind] = &kindStats{}
		}
		run.kinds[kind].add(r, latency)
		run.all.add(r, latency)
		ok := r.Code >= 200 && r.Code < 300
		if ok && m.ack != nil && (kind == "send" || kind == "inbound") {
			m.ack(kind, r.Body)
		}
		if !ok && shown < 3 {
			shown++
			logf("%s: %s %s: %d %s %s", name, r.Method, r.URL, r.Code, r.Error, strings.TrimSpace(string(r.Body)))
		}
	}
	run.elapsed = time.Since(start)
	metrics.Close()
	run.sent, run.throughput = metrics.Rate, metrics.Throughput
	logf("%s: sent %.0f req/s, %.0f 2xx/s, p50 %s, p99 %s, errors %s, at most %s behind schedule", name, run.sent,
		run.throughput, ms(run.all.quantile(0.5)), ms(run.all.quantile(0.99)), run.all.errorText(), ms(run.behind))
	return run, ctx.Err()
}
