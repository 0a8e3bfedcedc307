package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The open-mix scenario (issue 19): the closed-loop scenarios at 64 clients ask more of 2
// cores than any inbox would, so the figure that tells whether the server is fast enough is
// its latency at a realistic arrival rate of a realistic mix. It runs issue 19's mix
// (mix.go) on make bench's data at fixed rates, BENCH_OPEN_RATES, instead of at the levels.
const (
	// openTargetRate and openTargetP99 are issue 19's target: at 300 req/s, p99 under 50 ms.
	openTargetRate = 300
	openTargetP99  = 50 * time.Millisecond
	// openHoldP99 is the p99 under which a rate counts as held, for the highest rate reported.
	openHoldP99 = 100 * time.Millisecond
	// openHoldShare is the share of the rate that must be answered 2xx a second (vegeta's
	// throughput, over the attack and the wait for its last answers) for the rate to count as
	// held: below it, requests queued up or failed.
	openHoldShare = 0.95
	// openWarmup is the open mix's least warm-up (see measureOpenMix).
	openWarmup = 5 * time.Second
)

// mixRoutes are the routes the mix drives; open-mix runs only on a server that has them all.
var mixRoutes = []string{"GET /v1/conversations", "GET /v1/contacts", "GET /v1/conversations/{id}/messages",
	"GET /v1/contacts/{id}/send-eligibility", "POST /v1/contacts/{id}/messages", "POST /v1/channels/{id}/inbound"}

// benchMixer is the mix on make bench's data: thread reads of the thread scenarios'
// conversations (half with media, half text), and sends as the send scenario makes them, to
// contacts with an identity on a channel without a messaging window, so every send is let
// through as it is there.
func benchMixer(f *fixture) *mixer {
	send := scenarioByID("send")
	return &mixer{fixture: f, threads: append(slices.Clone(sample(f.textThreads)), sample(f.mediaThreads)...),
		send: func(i int) vegeta.Target { return send.request(f, i) }}
}

// measureOpenMix warms the server up with the mix at the first rate, then runs it at each
// rate of BENCH_OPEN_RATES in turn for BENCH_DURATION. It stops after the first rate the
// server does not hold: above it the queue only grows, and the run would load the machine
// (and the shared bench database) for figures that say nothing more.
func measureOpenMix(ctx context.Context, e *env) ([]mixRun, error) {
	m := benchMixer(e.fix)
	rates := e.cfg.openRates
	// The send scenario before it (or an earlier run) leaves thousands of deliveries queued,
	// which the server works through beside the mix: the figures would include that work.
	// The first run on the 1 M data delivered a backlog of about 4 000 at 50 a second
	// throughout.
	if err := e.settleDeliveries(ctx); err != nil {
		return nil, err
	}
	// A server just started answered the mix's first seconds in a second or more (its
	// connection pool filling, caches cold) in trial runs; 2 s of warm-up did not settle it.
	warmup := max(e.cfg.warmup, openWarmup)
	logf("open mix: warming up at %d req/s for %s", rates[0], warmup)
	warm, err := runMix(ctx, m, "open mix warm-up", "", e.server.base, rates[0], warmup)
	if err != nil {
		return nil, err
	}
	if warm.all.ok == 0 {
		return nil, fmt.Errorf("open mix: no successful request while warming up (%s)", warm.all.errorText())
	}
	var runs []mixRun
	for _, rate := range rates {
		run, err := runMix(ctx, m, fmt.Sprintf("open mix, %d req/s", rate), "", e.server.base, rate, e.cfg.duration)
		if err != nil {
			return nil, err
		}
		runs = append(runs, run)
		if why := notHeld(run); why != "" {
			logf("open mix: %d req/s not held (%s); higher rates not run", rate, why)
			break
		}
	}
	return runs, nil
}

// notHeld says why the server did not hold the run's rate, or "" when it did: every answer
// 2xx, p99 under openHoldP99, and at least openHoldShare of the rate answered a second.
func notHeld(r mixRun) string {
	why := notServed(r)
	if p99 := r.all.quantile(0.99); p99 >= openHoldP99 {
		why = append([]string{fmt.Sprintf("p99 %s", ms(p99))}, why...)
	}
	return strings.Join(why, ", ")
}

// notServed lists the ways the run failed its requests, latency aside: errors, and fewer 2xx
// a second than openHoldShare of the rate.
func notServed(r mixRun) []string {
	var why []string
	if n := r.all.errorCount(); n > 0 {
		why = append(why, fmt.Sprintf("%d errors", n))
	}
	if r.throughput < openHoldShare*float64(r.rate) {
		why = append(why, fmt.Sprintf("%.0f 2xx/s", r.throughput))
	}
	return why
}

// openVerdict is the two answers issue 19 asks of the open loop: whether 300 req/s has a p99
// under 50 ms (held, too), and the highest rate held with a p99 under 100 ms.
func openVerdict(runs []mixRun) (target, highest string) {
	target = fmt.Sprintf("not run (%d req/s is not in BENCH_OPEN_RATES, or an earlier rate was not held)", openTargetRate)
	for _, r := range runs {
		if r.rate != openTargetRate {
			continue
		}
		// A p99 of answers that failed or came too slowly to keep up is no answer to the
		// target, whatever its value.
		p99 := r.all.quantile(0.99)
		switch why := notServed(r); {
		case len(why) > 0:
			target = fmt.Sprintf("no: p99 %s, and %s", ms(p99), strings.Join(why, ", "))
		case p99 >= openTargetP99:
			target = fmt.Sprintf("no: p99 %s", ms(p99))
		default:
			target = fmt.Sprintf("yes: p99 %s", ms(p99))
		}
	}
	held := -1
	for k, r := range runs {
		if notHeld(r) != "" {
			break
		}
		held = k
	}
	switch {
	case len(runs) == 0:
		highest = "not run"
	case held < 0:
		highest = fmt.Sprintf("none of the rates run: the lowest, %d req/s, was not held (%s)", runs[0].rate, notHeld(runs[0]))
	case held == len(runs)-1:
		highest = fmt.Sprintf("%d req/s or more: every rate run was held (p99 %s); BENCH_OPEN_RATES with higher rates finds the limit",
			runs[held].rate, ms(runs[held].all.quantile(0.99)))
	default:
		highest = fmt.Sprintf("%d req/s (p99 %s); %d req/s was not held (%s)", runs[held].rate, ms(runs[held].all.quantile(0.99)),
			runs[held+1].rate, notHeld(runs[held+1]))
	}
	return target, highest
}

// openMarkdown is the open-mix section of the results: a row a rate, then the verdict.
func openMarkdown(cfg config, runs []mixRun) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n## Open loop: issue 19's mix\n\n"+
		"`open-mix`: vegeta at a fixed rate (an open loop: requests leave on time whether or not earlier ones have "+
		"answered), each rate of BENCH_OPEN_RATES for %s after a %s warm-up at the first, stopping after the first rate "+
		"not held. The mix: 30 %% inbox lists (open; mine), 30 %% thread reads (the thread scenarios' conversations, half "+
		"with media), 15 %% searches (contacts by 4 phone digits and by a last-name fragment, closed conversations by "+
		"name), 10 %% send-eligibility, 10 %% sends (the send scenario's: channels without a window; each under its own "+
		"Idempotency-Key), 5 %% inbound (WhatsApp, unique external ids), from the closed-loop scenarios' pools. "+
		"Latencies count from each request's intended send time. *Sent* is the rate requests left at, *2xx/s* vegeta's "+
		"throughput (2xx answers over the attack and the wait for its last answers), *behind* how late the generator sent "+
		"its latest request. A rate is *held* with no errors, p99 under %s and 2xx/s at least %.0f %% of the rate.\n\n",
		cfg.duration, max(cfg.warmup, openWarmup), ms(openHoldP99), 100*openHoldShare)
	b.WriteString("| rate | sent/s | 2xx/s | p50 ms | p95 ms | p99 ms | errors | behind ms |")
	for _, k := range mix {
		b.WriteString(" " + k.kind + " p99 ms |")
	}
	b.WriteString(" held |\n| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |" + strings.Repeat(" ---: |", len(mix)) + " --- |\n")
	for _, r := range runs {
		fmt.Fprintf(&b, "| %d | %.0f | %.0f | %s | %s | %s | %s | %s |", r.rate, r.sent, r.throughput,
			millis(r.all.quantile(0.50)), millis(r.all.quantile(0.95)), millis(r.all.quantile(0.99)), r.all.errorText(), millis(r.behind))
		for _, k := range mix {
			if s := r.kinds[k.kind]; s != nil {
				b.WriteString(" " + millis(s.quantile(0.99)) + " |")
			} else {
				b.WriteString(" – |")
			}
		}
		held := "yes"
		if why := notHeld(r); why != "" {
			held = "no: " + why
		}
		b.WriteString(" " + held + " |\n")
	}
	target, highest := openVerdict(runs)
	fmt.Fprintf(&b, "\n- %d req/s with p99 under %s: %s\n- highest rate held with p99 under %s: %s\n",
		openTargetRate, ms(openTargetP99), target, ms(openHoldP99), highest)
	return b.String()
}
