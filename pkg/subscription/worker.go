package subscription

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/provider/webhook"
	"github.com/switchboard/switchboard/pkg/secret"
)

// Job is a claimed delivery with what sending it needs.
type Job struct {
	WorkspaceID  uuid.UUID
	DeliveryID   int64
	WebhookID    uuid.UUID
	URL          string
	SealedSecret []byte
	Attempts     int // attempts made before this one
	CreatedAt    time.Time
	Event        event.Event
}

// Outcome is the result of one attempt, as the worker records it.
type Outcome struct {
	Attempt Attempt
	// Status is the delivery's status afterwards; NextAttemptAt matters while it is pending.
	Status        string
	NextAttemptAt time.Time
	// DisableAfter disables the webhook once it has failed continuously this long.
	DisableAfter time.Duration
}

// WorkerStore is what the worker needs from persistence.
type WorkerStore interface {
	// ClaimDeliveries leases up to limit due deliveries, only the oldest pending one of each
	// (webhook, conversation), skipping rows other workers hold.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Job, error)
	FinishDelivery(ctx context.Context, j Job, o Outcome) error
	PruneEvents(ctx context.Context, cutoff time.Time, batch int) (int64, error)
}

// WorkerConfig tunes delivery.
type WorkerConfig struct {
	Poll         time.Duration // how often to look for due deliveries without a wake-up
	RetryFor     time.Duration // keep retrying a delivery at least this long after its event
	DisableAfter time.Duration // disable a webhook failing continuously this long
	Retention    time.Duration // keep events (and their delivery log) this long
	Timeout      time.Duration // per attempt
	Batch        int
}

// Worker drains the delivery outbox.
type Worker struct {
	store  WorkerStore
	box    *secret.Box
	client *http.Client
	cfg    WorkerConfig
	now    func() time.Time
	log    *slog.Logger
	wake   <-chan struct{}
}

// NewWorker builds a worker; wake (may be nil) signals new events.
func NewWorker(st WorkerStore, box *secret.Box, guard Guard, cfg WorkerConfig, now func() time.Time, log *slog.Logger, wake <-chan struct{}) *Worker {
	if cfg.Batch <= 0 {
		cfg.Batch = 20
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &Worker{store: st, box: box, client: guard.Client(cfg.Timeout), cfg: cfg, now: now, log: log, wake: wake}
}

// Run delivers until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	lastPrune := time.Time{}
	for ctx.Err() == nil {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Error("webhook deliveries", "err", err)
		}
		if time.Since(lastPrune) > time.Hour && w.cfg.Retention > 0 {
			lastPrune = time.Now()
			if _, err := w.store.PruneEvents(ctx, w.now().Add(-w.cfg.Retention), 10000); err != nil && ctx.Err() == nil {
				w.log.Error("prune events", "err", err)
			}
		}
		if n == w.cfg.Batch {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(w.cfg.Poll):
		case <-w.wake:
		}
	}
}

// RunOnce claims one batch and attempts it, answering how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	jobs, err := w.store.ClaimDeliveries(ctx, w.now().UTC(), w.cfg.Timeout+time.Minute, w.cfg.Batch)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := w.attempt(ctx, j)
			if err := w.store.FinishDelivery(context.WithoutCancel(ctx), j, o); err != nil {
				w.log.Error("record webhook delivery", "err", err, "delivery_id", j.DeliveryID)
			}
		}()
	}
	wg.Wait()
	return len(jobs), nil
}

// Backoff is the wait after the n-th failed attempt: 5 s doubling to at most an hour, ±20 %.
func Backoff(n int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	d = min(d, time.Hour)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func (w *Worker) attempt(ctx context.Context, j Job) Outcome {
	now := w.now().UTC()
	o := Outcome{Attempt: Attempt{Attempt: j.Attempts + 1, At: now}, DisableAfter: w.cfg.DisableAfter}
	code, latency, err := w.post(ctx, j, now)
	o.Attempt.LatencyMS = int(latency / time.Millisecond)
	if code != 0 {
		o.Attempt.StatusCode = &code
	}
	if err == nil {
		o.Status = StatusDelivered
		return o
	}
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	o.Attempt.Error = &msg
	if now.Sub(j.CreatedAt) >= w.cfg.RetryFor {
		o.Status = StatusFailed
		return o
	}
	o.Status, o.NextAttemptAt = StatusPending, now.Add(Backoff(o.Attempt.Attempt))
	return o
}

// post sends the event once; a 2xx answer is success.
func (w *Worker) post(ctx context.Context, j Job, now time.Time) (int, time.Duration, error) {
	plain, err := w.box.Open(j.SealedSecret, SecretAD(j.WorkspaceID, j.WebhookID))
	if err != nil {
		return 0, 0, fmt.Errorf("open signing secret: %w", err)
	}
	body, err := event.Marshal(j.Event)
	if err != nil {
		return 0, 0, err
	}
	id := strconv.FormatInt(j.Event.ID, 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-Webhooks/1")
	req.Header.Set(webhook.HeaderID, id)
	req.Header.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(webhook.HeaderSignature, webhook.Sign(string(plain), id, now, body))
	start := time.Now()
	resp, err := w.client.Do(req)
	latency := time.Since(start)
	if err != nil {
		return 0, latency, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, latency, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(snippet)))
	}
	return resp.StatusCode, latency, nil
}
