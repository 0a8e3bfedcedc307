package dispatch

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Attempt results, the result label of switchboard_delivery_attempts_total.
const (
	resultSent      = "sent"      // the provider accepted the message
	resultRetry     = "retry"     // a transient error; retried with backoff
	resultSnoozed   = "snoozed"   // a transient error with Retry-After; retried no sooner
	resultFailed    = "failed"    // a permanent error, or the last attempt
	resultCancelled = "cancelled" // interrupted by shutdown; released for another worker
)

type metrics struct {
	attempts *prometheus.CounterVec
	outcomes *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	depth    prometheus.Collector
}

func newMetrics(st Store, log *slog.Logger) *metrics {
	return &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_delivery_attempts_total",
			Help: "Provider calls made to deliver outgoing messages, by provider and result (sent, retry, snoozed, failed, cancelled).",
		}, []string{"provider", "result"}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_delivery_outcomes_total",
			Help: "Outgoing messages whose delivery ended, by provider and final status (sent or failed).",
		}, []string{"provider", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_delivery_latency_seconds",
			Help:    "Time from an outgoing message's creation to the provider accepting it, by provider.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600},
		}, []string{"provider"}),
		depth: &depthCollector{st: st, log: log, desc: prometheus.NewDesc("switchboard_delivery_queue_depth",
			"Delivery jobs not finished yet, by River job state (available, scheduled, retryable, running, pending).",
			[]string{"state"}, nil)},
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.attempts, m.outcomes, m.latency, m.depth}
}

// depthCollector counts the queue when scraped, so every process reports the shared queue.
type depthCollector struct {
	st   Store
	log  *slog.Logger
	desc *prometheus.Desc
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	depth, err := c.st.QueueDepth(ctx)
	if err != nil {
		c.log.Warn("delivery queue depth", "error", err.Error())
		return
	}
	for _, state := range []string{"available", "scheduled", "retryable", "running", "pending"} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(depth[state]), state)
	}
}
