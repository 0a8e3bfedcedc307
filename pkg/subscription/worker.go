package subscription

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/egress"
	"github.com/switchboard/switchboard/pkg/job"
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
	EventID      int64
	// Body is the event as subscribers receive it, rendered by the store when it claims the
	// delivery (pkg/resource's EventBody, the shape GET /v1/events answers with).
	Body []byte
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

// Claim asks for due deliveries to attempt now.
type Claim struct {
	Now   time.Time
	Lease time.Duration // how long the claimed deliveries are held for this worker
	Limit int           // at most this many
	// PerWorkspace and PerWebhook bound the deliveries in flight at once, counted over every
	// process: a claim takes none beyond them.
	PerWorkspace, PerWebhook int
}

// WorkerStore is what the worker needs from persistence.
type WorkerStore interface {
	// ClaimDeliveries leases due deliveries within the claim's shares, only the oldest pending
	// one of each (webhook, conversation), skipping rows other workers hold.
	ClaimDeliveries(ctx context.Context, c Claim) ([]Job, error)
	// FinishDelivery records the attempt and ends the lease.
	FinishDelivery(ctx context.Context, j Job, o Outcome) error
}

// WorkerConfig tunes delivery.
type WorkerConfig struct {
	Poll         time.Duration // how often to look for due deliveries without a wake-up
	RetryFor     time.Duration // keep retrying a delivery at least this long after its event
	DisableAfter time.Duration // disable a webhook failing continuously this long
	Timeout      time.Duration // per attempt
	// Workers is how many deliveries this process attempts at once.
	Workers int
	// MaxPerWorkspace and MaxPerWebhook bound one workspace's and one webhook's deliveries in
	// flight at once over all processes, so endpoints that hang hold only their own share.
	MaxPerWorkspace, MaxPerWebhook int
}

// Worker drains the delivery outbox: the webhook_deliveries rows that publishing an event
// writes in the event's transaction. It runs as a loop of job.Home, beside River's workers.
//
// It is not one River job per delivery because what it may claim depends on what is in flight
// over every process: at most MaxPerWorkspace deliveries of one workspace and MaxPerWebhook of
// one webhook at once (so one tenant's hanging endpoint holds only its own share), and only the
// oldest pending delivery of each (webhook, conversation), so a subscriber sees a
// conversation's events in order. The claim (store.ClaimDeliveries) decides that in one
// statement under row locks; River fetches a queue's available jobs by priority and time with
// no such per-key caps or ordering. Retries wait job.Backoff, as River's do.
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
	if cfg.Workers <= 0 {
		cfg.Workers = 20
	}
	if cfg.MaxPerWorkspace <= 0 {
		cfg.MaxPerWorkspace = 8
	}
	if cfg.MaxPerWebhook <= 0 {
		cfg.MaxPerWebhook = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	return &Worker{store: st, box: box, client: guard.Client(cfg.Timeout), cfg: cfg, now: now, log: log, wake: wake}
}

// Run delivers until ctx ends, then waits for the attempts under way. Each delivery runs on
// its own and frees its slot when it ends: there is no batch to wait for, so a slot that
// frees is filled at once with whatever is due.
func (w *Worker) Run(ctx context.Context) {
	// Buffered for every slot, so a finishing delivery never blocks on the loop.
	done := make(chan struct{}, w.cfg.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	running := 0
	poll := time.NewTimer(0)
	defer poll.Stop()
	for ctx.Err() == nil {
		if free := w.cfg.Workers - running; free > 0 {
			jobs, err := w.store.ClaimDeliveries(ctx, Claim{Now: w.now().UTC(), Lease: w.cfg.Timeout + time.Minute,
				Limit: free, PerWorkspace: w.cfg.MaxPerWorkspace, PerWebhook: w.cfg.MaxPerWebhook})
			if err != nil && ctx.Err() == nil {
				w.log.Error("webhook deliveries", "err", err)
			}
			for _, j := range jobs {
				running++
				wg.Add(1)
				go func() {
					defer wg.Done()
					w.deliver(ctx, j)
					done <- struct{}{}
				}()
			}
		}
		poll.Reset(w.cfg.Poll) // since Go 1.23 a Reset timer never delivers a stale tick
		select {
		case <-ctx.Done():
		case <-poll.C:
		case <-w.wake:
		case <-done:
			running--
		}
		// Count every slot that freed meanwhile before claiming again.
		for drained := false; !drained; {
			select {
			case <-done:
				running--
			default:
				drained = true
			}
		}
	}
}

// deliver attempts one claimed delivery and records the outcome, even when ctx has ended.
func (w *Worker) deliver(ctx context.Context, j Job) {
	o := w.attempt(ctx, j)
	if err := w.store.FinishDelivery(context.WithoutCancel(ctx), j, o); err != nil {
		w.log.Error("record webhook delivery", "err", err, "delivery_id", j.DeliveryID)
	}
}

// retryBase and retryMax shape the outbox's job.Backoff: a subscriber's endpoint is retried
// after about 5 s, then ever later, at most an hour apart.
const (
	retryBase = 5 * time.Second
	retryMax  = time.Hour
)

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
	o.Status, o.NextAttemptAt = StatusPending, now.Add(job.Backoff(o.Attempt.Attempt, retryBase, retryMax))
	return o
}

// post sends the event once; a 2xx answer is success.
func (w *Worker) post(ctx context.Context, j Job, now time.Time) (int, time.Duration, error) {
	plain, err := w.box.Open(j.SealedSecret, SecretAD(j.WorkspaceID, j.WebhookID))
	if err != nil {
		return 0, 0, fmt.Errorf("open signing secret: %w", err)
	}
	body := j.Body
	id := strconv.FormatInt(j.EventID, 10)
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
		// Say plainly that the endpoint took too long: it is what the subscriber has to fix.
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return 0, latency, fmt.Errorf("timed out: no answer within %s", latency.Round(time.Second))
		}
		// A refusal names the address the name resolved to (DNS rebinding, a name that points
		// inside): the subscriber sees the fixed text only, so deliveries map no internal DNS.
		if errors.Is(err, egress.ErrForbiddenAddress) {
			return 0, latency, egress.ErrForbiddenAddress
		}
		return 0, latency, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, latency, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(snippet)))
	}
	return resp.StatusCode, latency, nil
}
