// Package dispatch delivers outgoing messages to their channel's provider and applies what
// providers report back.
//
// Delivery is a kind of background job (pkg/job, River on PostgreSQL): the send path inserts a
// job in the transaction that stores the message, so a committed message always has its job.
// Workers in any number of processes fetch jobs with row locks (FOR UPDATE SKIP LOCKED), so one
// job runs in one place at a time; a worker records the attempt, builds the channel's provider
// adapter (pkg/provider/...) and calls it. Success moves the message to sent; a permanent error
// to failed with the provider's code; a transient one is retried after job.Backoff, no sooner
// than the provider's Retry-After, until the attempts run out. A killed worker's jobs are
// rescued by River once they have run longer than job.Config's RescueAfter; the provider
// call carries the message id as its idempotency key where the provider has one (LINE's retry
// key, the webhook id of custom channels), so a rescued job does not deliver twice.
//
// Statuses only move forward (queued → sent → delivered → read, or failed), in one UPDATE each:
// a late receipt never undoes a newer one. The Receiver applies provider webhooks: inbound
// messages go through the same ingestion as POST /v1/channels/{id}/inbound, receipts move
// statuses. The Fetcher brings the files of inbound messages into the media store, one job
// per file, on its own queue (fetch.go).
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/egress"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/provider"
	"github.com/switchboard/switchboard/pkg/provider/sandbox"
)

// JobKind is the River job kind of a delivery.
const JobKind = "deliver_message"

// QueueName is the River queue deliveries run on.
const QueueName = "delivery"

// maxJobRuns bounds River's runs of one delivery job. It is not DELIVERY_MAX_ATTEMPTS (at most
// 100): the worker counts provider calls on the message and fails it after the last, cancelling
// its job, so River never gives up on a delivery by itself; this bound ends only a job whose
// every run fails before reaching the provider (the database unreachable for days).
const maxJobRuns = 100

// Args are a delivery job's arguments: which message to deliver.
type Args struct {
	WorkspaceID uuid.UUID `json:"workspace_id"`
	MessageID   uuid.UUID `json:"message_id"`
}

// Kind names the job kind for River.
func (Args) Kind() string { return JobKind }

// InsertOpts puts deliveries on their queue.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueName, MaxAttempts: maxJobRuns}
}

// Config tunes the dispatcher. Zero values take the defaults noted.
type Config struct {
	// Workers is how many deliveries this process runs at once; 0: none (the API enqueues,
	// other processes deliver).
	Workers int
	// MaxAttempts bounds the provider calls per message (default 8); after the last one a
	// transient error fails the message.
	MaxAttempts int
	// SendTimeout bounds one provider call (default 20s). The job's timeout (job.Config) must
	// leave time after it to record the answer.
	SendTimeout time.Duration
	// MaxRetryAfter caps a provider's Retry-After (default 1h).
	MaxRetryAfter time.Duration
	// PublicBaseURL is where providers reach this server (Twilio's StatusCallback, the signed
	// links to stored media of providers that fetch files by URL); empty: no status callback is
	// requested, and stored media has no link.
	PublicBaseURL string
	// WebhookAllowLoopback lets custom channels' webhook URLs point at loopback (development,
	// tests); private and link-local addresses stay refused.
	WebhookAllowLoopback bool
	// ProviderAllowLoopback lets providers' api_base overrides and SMTP hosts point at loopback
	// (PROVIDER_API_BASE_OVERRIDE: tests, staging); private and link-local addresses stay
	// refused.
	ProviderAllowLoopback bool
}

func (c Config) withDefaults() Config {
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 20 * time.Second
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = time.Hour
	}
	c.PublicBaseURL = strings.TrimRight(c.PublicBaseURL, "/")
	return c
}

// Media is how deliveries reach stored media: Files reads its bytes (for providers that
// upload them with the send), URLs signs links to the public content route (for providers
// that fetch them; valid for MEDIA_PROVIDER_URL_TTL).
type Media struct {
	Files interface {
		Open(ctx context.Context, ws, id uuid.UUID) (media.Media, io.ReadSeekCloser, error)
	}
	URLs interface {
		URL(base string, ws, id uuid.UUID) (string, time.Time)
	}
}

// Dispatcher delivers outgoing messages: its worker runs the delivery jobs the send path
// inserts.
type Dispatcher struct {
	cfg     Config
	store   Store
	secrets Secrets
	media   Media
	log     *slog.Logger
	now     func() time.Time
	http    clients
	metrics *metrics
}

// New builds a dispatcher on the store.
func New(cfg Config, st Store, sec Secrets, md Media, log *slog.Logger, now func() time.Time) *Dispatcher {
	cfg = cfg.withDefaults()
	return &Dispatcher{cfg: cfg, store: st, secrets: sec, media: md, log: log, now: now, metrics: newMetrics(st, log),
		http: clients{
			api:     &http.Client{Transport: http.DefaultTransport},
			apiBase: egress.Client(cfg.ProviderAllowLoopback, 0),
			tenant:  egress.Client(cfg.WebhookAllowLoopback, 0),
			smtp:    egress.Dialer(cfg.ProviderAllowLoopback),
		}}
}

// Register makes h run this process's delivery workers (Config.Workers; none: it registers
// nothing).
func (d *Dispatcher) Register(h *job.Home) error {
	return job.AddWorker(h, d.cfg.Workers, &worker{d: d})
}

// Collectors are the dispatcher's Prometheus metrics.
func (d *Dispatcher) Collectors() []prometheus.Collector { return d.metrics.collectors() }

type worker struct {
	river.WorkerDefaults[Args]
	d *Dispatcher
}

func (w *worker) Work(ctx context.Context, j *river.Job[Args]) error {
	return w.d.deliver(ctx, j.Args.WorkspaceID, j.Args.MessageID, j.Attempt >= j.MaxAttempts)
}

func (d *Dispatcher) clock() time.Time { return d.now().UTC().Truncate(time.Microsecond) }

// deliver runs one attempt at a message. lastJobAttempt says River will not run the job again.
func (d *Dispatcher) deliver(ctx context.Context, ws, id uuid.UUID, lastJobAttempt bool) error {
	dl, err := d.store.Delivery(ctx, ws, id)
	if errors.Is(err, conversation.ErrMessageNotFound) {
		d.log.Info("delivery skipped: the message no longer exists", "workspace_id", ws.String(), "message_id", id.String())
		return nil
	}
	if err != nil {
		d.log.Warn("delivery: cannot load the message; will retry", "workspace_id", ws.String(), "message_id", id.String(), "error", err.Error())
		return err
	}
	if dl.Message.Status != conversation.StatusQueued {
		return nil // already delivered or failed: a duplicate or rescued job
	}
	prov := dl.Channel.Provider
	log := d.log.With("workspace_id", ws.String(), "message_id", id.String(), "channel_id", dl.Channel.ID.String(), "provider", prov)
	attempts, started, err := d.store.StartAttempt(ctx, ws, id, d.clock())
	if err != nil {
		log.Warn("delivery: cannot record the attempt; will retry", "error", err.Error())
		return err
	}
	if !started {
		return nil
	}
	final := lastJobAttempt || attempts >= d.cfg.MaxAttempts

	a, s, err := open(dl.Channel, d.secrets)
	if err != nil {
		return d.failed(ctx, log, dl, attempts, final, err, nil)
	}
	m, err := d.message(dl)
	if err != nil {
		return d.failed(ctx, log, dl, attempts, final, err, s.secretValues())
	}
	if dl.Channel.Archived() {
		return d.failed(ctx, log, dl, attempts, final, &provider.Error{Provider: prov, Permanent: true, Code: "channel_archived",
			Text: "the channel was archived before the message could be delivered"}, nil)
	}
	sctx, cancel := context.WithTimeout(ctx, d.cfg.SendTimeout)
	res, err := a.sender(s, d.http).Send(sctx, m)
	cancel()
	if err != nil {
		return d.failed(ctx, log, dl, attempts, final, err, s.secretValues())
	}
	return d.sent(ctx, log, dl, attempts, res)
}

// record runs a status write that must survive the job's cancellation: the provider has
// already answered, and losing its answer would mean sending again.
func record(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	for i := range 3 {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = fn(c)
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(time.Duration(i+1) * 200 * time.Millisecond)
	}
	return err
}

func (d *Dispatcher) sent(ctx context.Context, log *slog.Logger, dl Delivery, attempts int, res provider.Result) error {
	ws, id, prov := dl.Message.WorkspaceID, dl.Message.ID, dl.Channel.Provider
	now := d.clock()
	err := record(ctx, func(ctx context.Context) error {
		_, err := d.store.Advance(ctx, ws, id, Change{Status: conversation.StatusSent, ProviderMessageID: res.ProviderMessageID, At: now})
		return err
	})
	if err != nil {
		log.Error("delivery: the provider accepted the message but its status could not be saved", "error", err.Error())
		return fmt.Errorf("save sent status: %w", err)
	}
	d.metrics.attempts.WithLabelValues(prov, resultSent).Inc()
	d.metrics.outcomes.WithLabelValues(prov, string(conversation.StatusSent)).Inc()
	d.metrics.latency.WithLabelValues(prov).Observe(max(now.Sub(dl.Message.CreatedAt).Seconds(), 0))
	log.Info("delivery: sent", "attempts", attempts, "provider_message_id", res.ProviderMessageID)
	if dl.Channel.Provider == "sandbox" {
		// The sandbox reports its receipts at once instead of by webhook.
		for _, r := range sandbox.Receipts(res, now) {
			if err := record(ctx, func(ctx context.Context) error {
				_, err := d.store.ApplyReceipt(ctx, ws, dl.Channel.ID, r, now)
				return err
			}); err != nil {
				log.Warn("delivery: sandbox receipt not applied", "error", err.Error())
			}
		}
	}
	return nil
}

// maxErrorText bounds the provider's error text kept on the message.
const maxErrorText = 1000

// failed settles a failed attempt: permanent errors and the last attempt fail the message
// (and cancel the job), a Retry-After snoozes the job, other errors go back to River to retry
// with backoff. A cancelled job (shutdown) is released at once for another worker.
func (d *Dispatcher) failed(ctx context.Context, log *slog.Logger, dl Delivery, attempts int, final bool, err error, secrets []string) error {
	prov := dl.Channel.Provider
	code, text := "delivery_error", err.Error()
	var pe *provider.Error
	if errors.As(err, &pe) {
		code, text = pe.Code, pe.Text
	}
	permanent := provider.IsPermanent(err) || errors.Is(err, ErrUnknownProvider)
	if errors.Is(err, egress.ErrForbiddenAddress) {
		// One fixed answer for every refused destination, whoever wrapped the refusal.
		permanent, code, text = true, provider.CodeForbidden, provider.TextForbidden
	}
	text = provider.Redact(text, secrets...)
	if r := []rune(text); len(r) > maxErrorText {
		text = string(r[:maxErrorText])
	}
	// The tenant sees text; the cause behind a fixed text (which address was refused, whether
	// the connection was refused, closed or timed out) is for the operator's log only.
	if pe != nil && pe.Unwrap() != nil {
		log = log.With("cause", provider.Redact(pe.Unwrap().Error(), secrets...))
	}
	if !permanent && errors.Is(ctx.Err(), context.Canceled) {
		d.metrics.attempts.WithLabelValues(prov, resultCancelled).Inc()
		log.Info("delivery: interrupted by shutdown; released for another worker", "attempts", attempts)
		return river.JobSnooze(0)
	}
	if permanent || final {
		now := d.clock()
		if rerr := record(ctx, func(ctx context.Context) error {
			_, err := d.store.Advance(ctx, dl.Message.WorkspaceID, dl.Message.ID,
				Change{Status: conversation.StatusFailed, ErrorCode: code, ErrorMessage: text, At: now})
			return err
		}); rerr != nil {
			return fmt.Errorf("save failed status: %w", rerr)
		}
		d.metrics.attempts.WithLabelValues(prov, resultFailed).Inc()
		d.metrics.outcomes.WithLabelValues(prov, string(conversation.StatusFailed)).Inc()
		log.Warn("delivery: failed", "attempts", attempts, "permanent", permanent, "error_code", code, "error", text)
		return river.JobCancel(fmt.Errorf("%s: %s", code, text))
	}
	if pe != nil && pe.RetryAfter > 0 {
		wait := min(pe.RetryAfter, d.cfg.MaxRetryAfter)
		d.metrics.attempts.WithLabelValues(prov, resultSnoozed).Inc()
		log.Info("delivery: provider asked to retry later", "attempts", attempts, "retry_after", wait.String(), "error_code", code)
		return river.JobSnooze(wait)
	}
	d.metrics.attempts.WithLabelValues(prov, resultRetry).Inc()
	log.Info("delivery: transient error; will retry", "attempts", attempts, "error_code", code, "error", text)
	return fmt.Errorf("deliver: %s: %s", code, text)
}

// message translates a stored message into the provider's. Its ID is the message id, so every
// attempt carries the same idempotency key.
func (d *Dispatcher) message(dl Delivery) (provider.Message, error) {
	publicBaseURL := d.cfg.PublicBaseURL
	m := dl.Message
	if dl.To == "" {
		return provider.Message{}, provider.Invalid(dl.Channel.Provider, "the message has no channel identity to send to")
	}
	pm := provider.Message{ID: m.ID.String(), To: dl.To, Type: string(m.Type), Text: m.Text, InReplyTo: dl.InReplyTo}
	if pm.Type == "" {
		pm.Type = provider.TypeText
	}
	if m.Tag != nil {
		pm.Tag = *m.Tag
	}
	if t := m.Template; t != nil {
		pm.Template = &provider.Template{Name: t.Name, Language: t.Language, Variables: t.Variables}
	}
	for _, a := range m.Attachments {
		pa := provider.Attachment{URL: a.URL, MIMEType: a.MimeType, Filename: a.Filename, Size: a.Size}
		if a.MediaID != nil {
			d.stored(&pa, m.WorkspaceID, *a.MediaID, dl.Channel.Provider)
		}
		pm.Attachments = append(pm.Attachments, pa)
	}
	if dl.InReplyTo != "" {
		pm.References = []string{dl.InReplyTo}
	}
	if publicBaseURL != "" && dl.Channel.Provider == "twilio" {
		pm.StatusCallbackURL = publicBaseURL + "/webhooks/" + dl.Channel.ID.String() + "/twilio"
	}
	return pm, nil
}

// stored makes a the stored media ws/id: Open reads its bytes from the media store, and URL
// is its signed link when the server has a public URL. A media that is gone fails the
// delivery for good; a store that cannot be read now is retried.
func (d *Dispatcher) stored(a *provider.Attachment, ws, id uuid.UUID, prov string) {
	a.MediaID = id.String()
	if d.cfg.PublicBaseURL != "" && d.media.URLs != nil {
		a.URL, _ = d.media.URLs.URL(d.cfg.PublicBaseURL, ws, id)
	}
	a.Open = func(ctx context.Context) (io.ReadCloser, error) {
		if d.media.Files == nil {
			return nil, &provider.Error{Provider: prov, Permanent: true, Code: "media_unavailable", Text: "this server has no media store"}
		}
		_, r, err := d.media.Files.Open(ctx, ws, id)
		switch {
		case errors.Is(err, media.ErrNotFound):
			return nil, &provider.Error{Provider: prov, Permanent: true, Code: "media_not_found",
				Text: "the attachment's stored file was deleted before the message could be delivered"}
		case err != nil:
			d.log.Warn("delivery: cannot open stored media; will retry", "workspace_id", ws.String(), "media_id", id.String(), "error", err.Error())
			return nil, &provider.Error{Provider: prov, Code: "media_unavailable", Text: "the attachment's stored file cannot be read now"}
		}
		return r, nil
	}
}
