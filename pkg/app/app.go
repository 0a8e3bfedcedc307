// Package app wires Switchboard's services and HTTP API together from a configuration and a
// store, so the server binary and the HTTP tests run exactly the same assembly.
package app

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/dispatch"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/password"
	"github.com/switchboard/switchboard/pkg/secret"
	"github.com/switchboard/switchboard/pkg/store"
	"github.com/switchboard/switchboard/pkg/subscription"
	"github.com/switchboard/switchboard/pkg/template"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// Services are the domain services, for callers that act without HTTP (CLI, tests).
type Services struct {
	Auth       *auth.Service
	Workspaces *workspace.Service
	Contacts   *contact.Service
	Channels   *channel.Service
	Templates  *template.Service
	// Conversations runs the inbox, the conversation lifecycle and inbound ingestion.
	Conversations *conversation.Service
	// Sends runs rule-checked sends and eligibility answers.
	Sends *conversation.SendService
	// Events reads the event outbox; its Hub fans this process's LISTEN out to streams.
	Events   *event.Service
	Webhooks *subscription.Service
	// Hashes bounds the password hashes of logins running at once.
	Hashes *password.Gate
	guard  subscription.Guard
	box    *secret.Box
	now    func() time.Time
}

// NewServices builds every domain service on the store with the clock.
func NewServices(cfg config.Config, st *store.Store, now func() time.Time) Services {
	// config.Load admits only a 32-byte key or none, so this cannot fail; without a key the box
	// is nil and channels that need secrets answer secrets_unavailable.
	box, _ := secret.New(cfg.SecretsKey)
	convs := conversation.NewService(st, now)
	guard := subscription.Guard{AllowLoopback: cfg.WebhookAllowLoopback}
	hashes := password.NewGate(cfg.PasswordHashConcurrency, cfg.PasswordHashWait)
	authn := auth.NewService(st, auth.Config{Secret: cfg.JWTSecret, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
		AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL, Hashes: hashes,
		FailuresPerEmail: cfg.LoginFailuresPerEmail, FailuresPerAddress: cfg.LoginFailuresPerAddress}, now)
	return Services{
		Hashes:        hashes,
		Events:        event.NewService(st, event.NewHub(st.ListenConn)),
		Webhooks:      subscription.NewService(st, box, guard, now),
		guard:         guard,
		box:           box,
		now:           now,
		Auth:          authn,
		Workspaces:    workspace.NewService(st, hashes, authn.ConfirmPassword, now),
		Contacts:      contact.NewService(st, now),
		Channels:      channel.NewService(st, box, channel.Destinations{ProviderOverride: cfg.ProviderAPIBaseOverride, WebhookLoopback: cfg.WebhookAllowLoopback}, now),
		Templates:     template.NewService(st, now),
		Conversations: convs,
		Sends:         conversation.NewSendService(st, convs, now),
	}
}

// NewDispatcher builds the delivery dispatcher (cfg.DeliveryWorkers workers; none makes it
// enqueue only) and makes the store enqueue every outgoing message's delivery through it.
// tune adjusts its settings (tests make it poll and retry fast). The caller starts and stops it.
func NewDispatcher(cfg config.Config, st *store.Store, svc Services, log *slog.Logger, now func() time.Time,
	tune ...func(*dispatch.Config)) (*dispatch.Dispatcher, error) {
	dc := dispatch.Config{
		Workers:              cfg.DeliveryWorkers,
		MaxAttempts:          cfg.DeliveryMaxAttempts,
		SendTimeout:          cfg.DeliverySendTimeout,
		PublicBaseURL:        cfg.PublicBaseURL,
		WebhookAllowLoopback: cfg.WebhookAllowLoopback,
		// The switch that lets a channel name an api_base is the one that lets provider
		// destinations (api_base, SMTP hosts) be loopback: both exist for tests and staging.
		ProviderAllowLoopback: cfg.ProviderAPIBaseOverride,
	}
	for _, f := range tune {
		f(&dc)
	}
	d, err := dispatch.New(dc, st.Pool, st, svc.Channels, log, now)
	if err != nil {
		return nil, err
	}
	st.SetDeliveryQueue(d)
	return d, nil
}

// NewHTTP builds the HTTP server on the services; d provides the delivery metrics and the
// provider webhooks. closing ends every event stream when it closes (graceful shutdown); nil
// never does.
func NewHTTP(cfg config.Config, st *store.Store, svc Services, d *dispatch.Dispatcher, log *slog.Logger, version string,
	closing <-chan struct{}) *echo.Echo {
	return api.New(api.Deps{
		Log:              log,
		Auth:             svc.Auth,
		Workspaces:       svc.Workspaces,
		Contacts:         svc.Contacts,
		Channels:         svc.Channels,
		Templates:        svc.Templates,
		Conversations:    svc.Conversations,
		Sends:            svc.Sends,
		ProviderWebhooks: d.Receiver(svc.Conversations),
		PublicBaseURL:    cfg.PublicBaseURL,
		Events:           svc.Events,
		Webhooks:         svc.Webhooks,
		Heartbeat:        cfg.EventHeartbeat,
		StreamRecheck:    cfg.EventStreamRecheck,
		StreamWrite:      cfg.HTTPWriteTimeout,
		Closing:          closing,
		Ready:            st.Ping,
		Collectors:       append([]prometheus.Collector{store.PoolCollector(st.Pool), svc.Hashes}, d.Collectors()...),
		BodyLimit:        cfg.BodyLimit,
		Pprof:            cfg.EnablePprof,
		Version:          version,
		TrustedProxies:   cfg.TrustedProxies,
	})
}

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
func NewOps(st *store.Store, d *dispatch.Dispatcher) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		store.PoolCollector(st.Pool))
	reg.MustRegister(d.Collectors()...)
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
		if err := st.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"status":"unavailable"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	return mux
}

// RunWorkers runs what a process does besides answering requests until ctx ends: the event
// listener that feeds this process's streams, and the webhook delivery worker (any number of
// processes may run it; they share the work through row locks). It returns once both stopped.
func RunWorkers(ctx context.Context, cfg config.Config, st *store.Store, svc Services, log *slog.Logger) {
	hub := svc.Events.Hub
	wake := hub.SubscribeAll()
	defer wake.Close()
	w := subscription.NewWorker(st, svc.box, svc.guard, subscription.WorkerConfig{Poll: cfg.WebhookPoll,
		RetryFor: cfg.WebhookRetryFor, DisableAfter: cfg.WebhookDisableAfter, Retention: cfg.EventRetention,
		Timeout: cfg.WebhookTimeout, Workers: cfg.WebhookWorkers, MaxPerWorkspace: cfg.WebhookMaxPerWorkspace,
		MaxPerWebhook: cfg.WebhookMaxPerWebhook}, svc.now, log, wake.C)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); hub.Run(ctx, log) }()
	go func() { defer wg.Done(); w.Run(ctx) }()
	wg.Wait()
}
