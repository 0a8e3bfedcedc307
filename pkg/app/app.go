// Package app builds Switchboard's services and background work from a configuration and a
// store, so the server binary and the HTTP tests run exactly the same assembly. A process is
// built top-down: config → job queue → store → services (NewServices) → background work
// (NewJobs) → HTTP (api.FromServices).
package app

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/bulk"
	"github.com/switchboard/switchboard/pkg/canned"
	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/dispatch"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/label"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/outage"
	"github.com/switchboard/switchboard/pkg/password"
	"github.com/switchboard/switchboard/pkg/ratelimit"
	"github.com/switchboard/switchboard/pkg/secret"
	"github.com/switchboard/switchboard/pkg/store"
	"github.com/switchboard/switchboard/pkg/subscription"
	"github.com/switchboard/switchboard/pkg/team"
	"github.com/switchboard/switchboard/pkg/template"
	"github.com/switchboard/switchboard/pkg/throttle"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// Services are the domain services, for callers that act without HTTP (CLI, tests).
type Services struct {
	Auth       *auth.Service
	Workspaces *workspace.Service
	Contacts   *contact.Service
	Channels   *channel.Service
	Templates  *template.Service
	// Labels manages labels and a conversation's set of them.
	Labels *label.Service
	// Teams manages teams and their members.
	Teams *team.Service
	// Canned manages and renders canned responses.
	Canned *canned.Service
	// Bulk applies one action to many conversations through Conversations and Labels.
	Bulk *bulk.Service
	// Conversations runs the inbox, the conversation lifecycle and inbound ingestion.
	Conversations *conversation.Service
	// Sends runs rule-checked sends and eligibility answers.
	Sends *conversation.SendService
	// Scheduled schedules sends for later and fires them (through Sends' rules).
	Scheduled *conversation.ScheduledService
	// Broadcasts sends one message to an audience, each recipient through Sends' rules.
	Broadcasts *conversation.BroadcastService
	// Deliveries delivers outgoing messages (its worker runs on the process's job.Home) and
	// applies provider webhooks.
	Deliveries *dispatch.Dispatcher
	// Fetches brings the files customers send through providers into Media (its worker runs
	// on the process's job.Home).
	Fetches *dispatch.Fetcher
	// Events reads the event outbox; its Hub fans this process's LISTEN out to streams.
	Events   *event.Service
	Webhooks *subscription.Service
	// Audit reads the audit log and purges what is past its workspaces' retention.
	Audit *audit.Service
	// Media stores files (uploads, what customers send) in MEDIA_STORE.
	Media *media.Service
	// MediaURLs signs the media URLs that need no bearer token (MEDIA_URL_TTL).
	MediaURLs *media.Signer
	// Hashes bounds the password hashes of logins running at once.
	Hashes *password.Gate
	// Limits are the request and send budgets (nil: RATE_LIMITS=off); a broadcast worker
	// waits on Limits.WaitSend before each send.
	Limits *ratelimit.Service
	// Ready reports whether the database answers.
	Ready func(ctx context.Context) error
	// Metrics are the process's Prometheus collectors besides HTTP's and Go's: the connection
	// pool, the password gate, deliveries.
	Metrics []prometheus.Collector
	st      *store.Store
	shared  throttle.Shared
	guard   subscription.Guard
	box     *secret.Box
	now     func() time.Time
}

// Close releases the connections to Redis (REDIS_URL), if any. A process that exits need not
// call it; tests that start many servers do.
func (s Services) Close() error {
	if s.shared.Redis == nil {
		return nil
	}
	return s.shared.Redis.Close()
}

// maxFetchWorkers bounds the media fetches a process runs at once (dispatch.Fetcher).
const maxFetchWorkers = 4

// NewServices builds every domain service on the store with the clock. It fails only when the
// media store (MEDIA_STORE) cannot be opened.
func NewServices(cfg config.Config, st *store.Store, log *slog.Logger, now func() time.Time) (Services, error) {
	// config.Load admits only a 32-byte key or none, so this cannot fail; without a key the box
	// is nil and channels that need secrets answer secrets_unavailable.
	box, _ := secret.New(cfg.SecretsKey)
	convs := conversation.NewService(st, now)
	guard := subscription.Guard{AllowLoopback: cfg.WebhookAllowLoopback}
	hashes := password.NewGate(cfg.PasswordHashConcurrency, cfg.PasswordHashWait)
	// One Redis (REDIS_URL) holds what the API processes share, the request budgets and the
	// failed-login counts, and one Guard decides around its outages for both: one warning and
	// one metric per outage.
	var shared throttle.Shared
	if cfg.RedisURL != "" {
		// NewClient only parses REDIS_URL, which config.Load has checked; it connects on first use.
		rdb, err := ratelimit.NewClient(cfg.RedisURL)
		if err != nil {
			return Services{}, err
		}
		shared = throttle.Shared{Redis: rdb, Guard: outage.New(log)}
	}
	authn := auth.NewService(st, auth.Config{Secret: cfg.JWTSecret, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
		AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL, Hashes: hashes,
		FailuresPerEmail: cfg.LoginFailuresPerEmail, FailuresPerAddress: cfg.LoginFailuresPerAddress,
		Throttle: shared, MaxRateLimit: cfg.RateLimitPerMinute}, now)
	var limits *ratelimit.Service
	if cfg.RateLimits {
		limits = ratelimit.Open(ratelimit.Config{PerMinute: cfg.RateLimitPerMinute, PerAddressPerMinute: cfg.RateLimitPerAddress,
			SendsPerSecond: cfg.SendRatePerSecond}, shared.Redis, shared.Guard, now)
	}
	channels := channel.NewService(st, box, channel.Destinations{ProviderOverride: cfg.ProviderAPIBaseOverride, WebhookLoopback: cfg.WebhookAllowLoopback}, now)
	// Opening a bucket reads its URL and, for s3://, the AWS configuration; it calls no server,
	// so it needs no deadline.
	files, err := media.Open(context.Background(), st, media.Config{URL: cfg.MediaStore, MaxBytes: cfg.MediaMaxBytes}, now)
	if err != nil {
		return Services{}, err
	}
	// Providers' links are signed with the key of the content route's URLs, for longer.
	providerLinks := media.NewSigner(cfg.JWTSecret, cfg.MediaProviderURLTTL, now)
	deliveries := dispatch.New(dispatch.Config{
		Workers:              cfg.DeliveryWorkers,
		MaxAttempts:          cfg.DeliveryMaxAttempts,
		SendTimeout:          cfg.DeliverySendTimeout,
		PublicBaseURL:        cfg.PublicBaseURL,
		WebhookAllowLoopback: cfg.WebhookAllowLoopback,
		// The switch that lets a channel name an api_base is the one that lets provider
		// destinations (api_base, SMTP hosts) be loopback: both exist for tests and staging.
		ProviderAllowLoopback: cfg.ProviderAPIBaseOverride,
	}, st, channels, dispatch.Media{Files: files, URLs: providerLinks}, log, now)
	fetches := dispatch.NewFetcher(dispatch.FetchConfig{
		// A process that delivers also fetches; a few at once, since each streams a file of up
		// to MEDIA_MAX_BYTES.
		Workers:               min(cfg.DeliveryWorkers, maxFetchWorkers),
		ProviderAllowLoopback: cfg.ProviderAPIBaseOverride,
	}, st, channels, files, log, now)
	metrics := append([]prometheus.Collector{store.PoolCollector(st.Pool), hashes}, deliveries.Collectors()...)
	if shared.Guard != nil {
		metrics = append(metrics, shared.Guard.Collectors()...)
	}
	sends := conversation.NewSendService(st, convs, now, conversation.SendConfig{PublicURL: cfg.PublicBaseURL != ""})
	labels := label.NewService(st, now)
	broadcasts := conversation.NewBroadcastService(st, sends)
	broadcasts.Pace = limits.WaitSend // nil-safe: without limits it never waits
	return Services{
		Bulk:          bulk.NewService(convs, labels),
		Media:         files,
		Fetches:       fetches,
		MediaURLs:     media.NewSigner(cfg.JWTSecret, cfg.MediaURLTTL, now),
		Hashes:        hashes,
		Events:        event.NewService(st, event.NewHub(st.ListenConn)),
		Webhooks:      subscription.NewService(st, box, guard, now),
		Audit:         audit.NewService(st, now),
		Ready:         st.Ping,
		Metrics:       metrics,
		Limits:        limits,
		st:            st,
		shared:        shared,
		guard:         guard,
		box:           box,
		now:           now,
		Auth:          authn,
		Workspaces:    workspace.NewService(st, hashes, authn.ConfirmPassword, now),
		Contacts:      contact.NewService(st, now),
		Channels:      channels,
		Templates:     template.NewService(st, now),
		Labels:        labels,
		Teams:         team.NewService(st, now),
		Canned:        canned.NewService(st, now),
		Conversations: convs,
		Sends:         sends,
		Scheduled:     conversation.NewScheduledService(st, sends),
		Broadcasts:    broadcasts,
		Deliveries:    deliveries,
	}, nil
}

// NewJobs builds the process's background work on the store's pool: the delivery workers
// (DELIVERY_WORKERS; none: another process delivers) and as many media fetch workers (at most
// four), the periodic idempotency purge, event prune, snooze wake-up, media sweep and reply
// window alerts (with the window refreshes), the subscriber webhook outbox and the event
// listener that feeds this process's streams. Any number of processes may run it: River shares the jobs out,
// River's leader alone inserts the periodic ones (a snooze wakes once even if two run at once),
// and the outbox's claims share the webhooks. tune adjusts River's
// settings (tests make it poll and retry fast). The caller starts and stops it.
// scheduledWorkers is how many scheduled sends a process fires at once.
const scheduledWorkers = 4

// broadcastWorkers is how many broadcasts a process runs at once (each sends to several
// recipients at once: conversation.BroadcastService.Workers).
const broadcastWorkers = 2

func NewJobs(cfg config.Config, svc Services, log *slog.Logger, tune ...func(*job.Config)) (*job.Home, error) {
	jc := job.Config{
		// A delivery outlives its provider call by the time to record the provider's answer; a
		// killed process's deliveries are retried after twice that (RescueAfter's default).
		JobTimeout: cfg.DeliverySendTimeout + 10*time.Second,
		// Jobs' transactions share half the pool, so the API's requests find the rest.
		WorkContext: store.Background,
	}
	for _, f := range tune {
		f(&jc)
	}
	h := job.NewHome(svc.st.Pool, jc, log)
	if err := svc.Deliveries.Register(h); err != nil {
		return nil, err
	}
	if err := svc.Fetches.Register(h); err != nil {
		return nil, err
	}
	if err := job.AddHousekeeping(h, svc.st, job.Housekeeping{PurgeEvery: cfg.IdempotencyPurgeInterval,
		PruneEvery: cfg.EventPruneInterval, Retention: cfg.EventRetention}, svc.now); err != nil {
		return nil, err
	}
	if err := job.AddAuditPurge(h, svc.Audit, 0); err != nil {
		return nil, err
	}
	if err := job.AddSnoozeWake(h, svc.Conversations, job.Snooze{Every: cfg.SnoozeWakeInterval}); err != nil {
		return nil, err
	}
	// Scheduled sends are timed work, fired by every process that runs jobs (River gives each
	// to one): a few at once, each a send transaction.
	if err := job.AddScheduledSends(h, scheduledWorkers, svc.Scheduled); err != nil {
		return nil, err
	}
	if err := job.AddBroadcasts(h, broadcastWorkers, svc.Broadcasts); err != nil {
		return nil, err
	}
	if err := job.AddMediaSweep(h, svc.Media, job.MediaSweep{Every: cfg.MediaSweepInterval}); err != nil {
		return nil, err
	}
	if err := job.AddWindowJobs(h, svc.Conversations, job.WindowAlerts{Every: cfg.WindowAlertInterval}); err != nil {
		return nil, err
	}
	hub := svc.Events.Hub
	// Every process numbers the events transactions queue (migration 0027); they take turns
	// on the events' lock, so any one of them keeps the streams and webhooks going.
	h.AddLoop(event.NewSequencer(svc.st, eventSequenceEvery, log).Run)
	h.AddLoop(func(ctx context.Context) { hub.Run(ctx, log) })
	h.AddLoop(func(ctx context.Context) {
		// New events wake the outbox at once; without them it polls.
		wake := hub.SubscribeAll()
		defer wake.Close()
		subscription.NewWorker(svc.st, svc.box, svc.guard, subscription.WorkerConfig{Poll: cfg.WebhookPoll,
			RetryFor: cfg.WebhookRetryFor, DisableAfter: cfg.WebhookDisableAfter, Timeout: cfg.WebhookTimeout,
			Workers: cfg.WebhookWorkers, MaxPerWorkspace: cfg.WebhookMaxPerWorkspace,
			MaxPerWebhook: cfg.WebhookMaxPerWebhook}, svc.now, log, wake.C).Run(ctx)
	})
	return h, nil
}

// eventSequenceEvery is how often a process's sequencer numbers queued events: what a live
// stream or a webhook waits for at most beyond the write's commit. A run that finds nothing
// is one round trip that writes nothing.
const eventSequenceEvery = 10 * time.Millisecond

// NewServer is the HTTP server for h with the configured timeouts, for serve and worker alike.
// A request's header and body must arrive within the read timeouts, so a client trickling
// its body cannot hold a connection and a goroutine for long; event streams lift the read
// deadline and bound each write themselves (see api's stream handler).
func NewServer(cfg config.Config, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           h,
		ReadHeaderTimeout: cfg.HTTPReadHeaderTimeout,
		ReadTimeout:       cfg.HTTPReadTimeout,
		WriteTimeout:      cfg.HTTPWriteTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
	}
}

// NewOps serves what a worker process offers besides delivering: liveness, readiness (the
// database answers) and its metrics.
func NewOps(svc Services) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(svc.Metrics...)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if err := svc.Ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	return mux
}
