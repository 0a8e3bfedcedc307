// Package api is Switchboard's HTTP layer: routes, handlers, request and response shapes, and
// the mapping from domain errors to RFC 9457 problems.
//
// @title                      Switchboard API
// @version                    1.0
// @description                Headless REST/JSON API for omnichannel customer conversations: contacts, conversations, a per-channel rule table that decides whether each outbound message may be sent, and rule-checked sends. Errors are RFC 9457 problems (application/problem+json) with a stable `code`. Lists use keyset pagination: pass `next_cursor` back as `cursor`. An instant marked `x-from-now` must fall in that range of the server's clock when it takes the request (ISO 8601 durations: `exclusiveMinimum: PT0S` is in the future, `maximum: P30D` at most 30 days ahead).
// @BasePath                   /
// @tag.name                  auth
// @tag.description           Log in, rotate the refresh token, log out; who am I.
// @tag.name                  workspace
// @tag.description           The workspace and its settings (closing logic).
// @tag.name                  users
// @tag.description           Agents, managers and owners of the workspace, and their roles.
// @tag.name                  api-keys
// @tag.description           API keys with scopes for scripts and integrations; the secret is shown once.
// @tag.name                  contacts
// @tag.description           Customers: create, search by name, email or phone, and their channel identities.
// @tag.name                  channels
// @tag.description           Connected channels, their provider settings and rule options, and inbound ingestion.
// @tag.name                  channel-rules
// @tag.description           The per-channel rule table that decides whether a message may be sent now.
// @tag.name                  templates
// @tag.description           Message templates of a channel, with their approval status.
// @tag.name                  conversations
// @tag.description           The inbox: list, search and filter conversations; close, reopen and assign them.
// @tag.name                  labels
// @tag.description           Conversation labels of the workspace; a conversation's own labels are set under conversations.
// @tag.name                  teams
// @tag.description           Teams of users that conversations belong to and channels route to; a conversation's team is set under conversations.
// @tag.name                  canned-responses
// @tag.description           Reusable answers found by shortcut or title, rendered for a conversation with the contact's and the agent's names.
// @tag.name                  notes
// @tag.description           Internal notes on a conversation's thread, never sent to the customer, with @mentions of users (GET /v1/conversations?inbox=mentions).
// @tag.name                  messages
// @tag.description           Rule-checked sends, send eligibility ("may I write now?") and single messages.
// @tag.name                  broadcasts
// @tag.description           One message to an audience of contacts (by id or tag), each recipient through the rule-checked send; dry runs count decisions and billable sends first.
// @tag.name                  media
// @tag.description           Files to send as attachments and that customers sent: upload, download (ranges), and signed URLs for <img src>.
// @tag.name                  events
// @tag.description           Past events for polling, and the live Server-Sent Events stream.
// @tag.name                  webhooks
// @tag.description           Subscriber webhooks: signed event deliveries and their delivery log.
// @tag.name                  operations
// @tag.description           Liveness, readiness and the OpenAPI document.
// @securityDefinitions.apikey BearerAuth
// @in                         header
// @name                       Authorization
// @description                "Bearer <token>": a user's access token from POST /v1/auth/login, or an API key (sbk_...).
package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard/switchboard/pkg/app"
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
	"github.com/switchboard/switchboard/pkg/label"
	"github.com/switchboard/switchboard/pkg/media"
	"github.com/switchboard/switchboard/pkg/ratelimit"
	"github.com/switchboard/switchboard/pkg/subscription"
	"github.com/switchboard/switchboard/pkg/team"
	"github.com/switchboard/switchboard/pkg/template"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// Deps are the services the API serves.
type Deps struct {
	Log        *slog.Logger
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
	// Bulk applies one action to many conversations.
	Bulk *bulk.Service
	// Conversations runs the inbox, the conversation lifecycle and inbound ingestion.
	Conversations *conversation.Service
	// Sends runs rule-checked sends and eligibility answers.
	Sends *conversation.SendService
	// Scheduled schedules sends (POST /contacts/{id}/messages with send_at) and lists them.
	Scheduled *conversation.ScheduledService
	// Broadcasts sends one message to an audience (POST /v1/broadcasts) and lists them.
	Broadcasts *conversation.BroadcastService
	// Media stores and serves files; MediaURLs signs the URLs that need no bearer token.
	Media     *media.Service
	MediaURLs *media.Signer
	// ProviderWebhooks receives provider webhooks (inbound messages and delivery receipts).
	ProviderWebhooks *dispatch.Receiver
	// PublicBaseURL is this server's public URL, for signatures over the full URL (Twilio);
	// empty means the request's scheme and host.
	PublicBaseURL string
	// Events serves the event outbox and the live stream; Webhooks manages subscribers.
	Events   *event.Service
	Webhooks *subscription.Service
	// Audit reads the audit log.
	Audit     *audit.Service
	Heartbeat time.Duration // between heartbeat comments on idle streams
	// StreamRecheck is how often a stream checks that its credential is still live (5s if 0).
	StreamRecheck time.Duration
	// StreamWrite bounds each write to a stream (the server's write timeout; none if 0): a
	// stream lives for hours, so the server-wide write deadline is lifted for it.
	StreamWrite time.Duration
	Closing     <-chan struct{} // closed at shutdown: ends every stream
	// Ready reports whether the database answers (GET /readyz).
	Ready func(ctx context.Context) error
	// Collectors are extra Prometheus collectors (e.g. the connection pool's stats).
	Collectors []prometheus.Collector
	BodyLimit  string
	Pprof      bool
	Version    string
	// TrustedProxies are the CIDRs of reverse proxies whose X-Forwarded-For names the client;
	// without them the connection's address is the client's (the login throttle keys on it).
	TrustedProxies []string
	// CORSAllowedOrigins are the browser origins whose pages may call the API; none: no CORS.
	CORSAllowedOrigins []config.Origin
	// Limits are the request and send budgets; nil: none (RATE_LIMITS=off).
	Limits *ratelimit.Service
}

// FromServices is the HTTP API of a process on its services, as cfg configures it: what serve
// runs and the HTTP tests start. closing ends every event stream when it closes (graceful
// shutdown); nil never does.
func FromServices(cfg config.Config, svc app.Services, log *slog.Logger, version string, closing <-chan struct{}) *echo.Echo {
	return New(Deps{
		Log:                log,
		Auth:               svc.Auth,
		Workspaces:         svc.Workspaces,
		Contacts:           svc.Contacts,
		Channels:           svc.Channels,
		Templates:          svc.Templates,
		Labels:             svc.Labels,
		Teams:              svc.Teams,
		Canned:             svc.Canned,
		Bulk:               svc.Bulk,
		Conversations:      svc.Conversations,
		Sends:              svc.Sends,
		Scheduled:          svc.Scheduled,
		Broadcasts:         svc.Broadcasts,
		Media:              svc.Media,
		MediaURLs:          svc.MediaURLs,
		ProviderWebhooks:   svc.Deliveries.Receiver(svc.Conversations, svc.Media),
		PublicBaseURL:      cfg.PublicBaseURL,
		Events:             svc.Events,
		Webhooks:           svc.Webhooks,
		Audit:              svc.Audit,
		Heartbeat:          cfg.EventHeartbeat,
		StreamRecheck:      cfg.EventStreamRecheck,
		StreamWrite:        cfg.HTTPWriteTimeout,
		Closing:            closing,
		Ready:              svc.Ready,
		Collectors:         svc.Metrics,
		BodyLimit:          cfg.BodyLimit,
		Pprof:              cfg.EnablePprof,
		Version:            version,
		TrustedProxies:     cfg.TrustedProxies,
		CORSAllowedOrigins: cfg.CORSAllowedOrigins,
		Limits:             svc.Limits,
	})
}

// New builds the HTTP server with every route.
func New(d Deps) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Log)
	e.JSONSerializer = newJSONSerializer()
	e.IPExtractor = ipExtractor(d.TrustedProxies)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, c := range d.Collectors {
		reg.MustRegister(c)
	}
	metrics, err := echoprometheus.MiddlewareConfig{
		Namespace:                 "switchboard",
		Subsystem:                 "http",
		Registerer:                reg,
		DoNotUseRequestPathFor404: true,
		Skipper:                   func(c echo.Context) bool { return c.Path() == "/metrics" },
	}.ToMiddleware()
	if err != nil {
		panic(err) // only a duplicate registration on a fresh registry, a programming error
	}

	limit := d.BodyLimit
	if limit == "" {
		limit = "1M"
	}
	mw := []echo.MiddlewareFunc{withRequestID, withAuditOrigin, metrics, accessLog(d.Log), middleware.Recover()}
	// CORS comes before every middleware and route that can refuse a request, so refusals
	// (413, 401, 404...) carry its headers and a page can read them.
	if c := cors(d.CORSAllowedOrigins); c != nil {
		mw = append(mw, c)
	}
	// An upload has its own, larger cap (MEDIA_MAX_BYTES), which its handler enforces while it
	// streams the file to the store.
	bodyLimit := middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: limit, Skipper: isUpload})
	e.Use(append(mw, bodyDeadline, bodyLimit, validQuery)...)

	e.GET("/healthz", health)
	e.GET("/readyz", ready(d.Ready))
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	e.GET("/openapi.json", spec)
	registerDocs(e)
	if d.Pprof {
		e.GET("/debug/pprof/*", echo.WrapHandler(http.HandlerFunc(pprof.Index)))
		e.GET("/debug/pprof/profile", echo.WrapHandler(http.HandlerFunc(pprof.Profile)))
		e.GET("/debug/pprof/trace", echo.WrapHandler(http.HandlerFunc(pprof.Trace)))
	}

	// The routes without a credential spend their client address's budget; provider webhooks
	// (signed, from the providers' shared addresses, and a refusal would drop a customer's
	// message), signed media URLs (issued by a counted request) and the probes above do not.
	lim := limits{svc: d.Limits}
	ah := &authHandler{auth: d.Auth, workspaces: d.Workspaces}
	e.POST("/v1/auth/login", ah.login, lim.address)
	e.POST("/v1/auth/refresh", ah.refresh, lim.address)

	// Authentication is attached per route, not to a group: echo gives a group with middleware
	// a catch-all route, which would turn an unknown path into 401 instead of 404. The
	// credential's budget is spent before the scope check, so a 403 tells it too.
	authn := authenticate(d.Auth)
	route := func(method, path string, h echo.HandlerFunc, scope string, extra ...echo.MiddlewareFunc) {
		mw := []echo.MiddlewareFunc{lim.unauthenticated, authn, lim.credential}
		if scope != "" {
			mw = append(mw, require(scope))
		}
		e.Add(method, "/v1"+path, h, append(mw, extra...)...)
	}
	route(http.MethodPost, "/auth/logout", ah.logout, "")
	route(http.MethodGet, "/me", ah.me, "")

	kh := &apiKeyHandler{auth: d.Auth}
	route(http.MethodGet, "/api-keys", kh.list, auth.ScopeAdmin)
	route(http.MethodPost, "/api-keys", kh.create, auth.ScopeAdmin)
	route(http.MethodDelete, "/api-keys/:id", kh.revoke, auth.ScopeAdmin)

	uh := &userHandler{workspaces: d.Workspaces}
	route(http.MethodGet, "/users", uh.list, "")
	route(http.MethodPost, "/users", uh.create, auth.ScopeAdmin)
	// No scope: every user may change their own name and password; the workspace service
	// decides who may change whom.
	route(http.MethodPatch, "/users/:id", uh.update, "")
	route(http.MethodDelete, "/users/:id", uh.delete, auth.ScopeAdmin)

	adh := &auditHandler{audit: d.Audit}
	route(http.MethodGet, "/audit-log", adh.list, auth.ScopeAdmin)

	wh := &workspaceHandler{workspaces: d.Workspaces}
	route(http.MethodGet, "/workspace", wh.get, "")
	route(http.MethodPatch, "/workspace", wh.update, auth.ScopeAdmin)

	route(http.MethodGet, "/channel-rules", channelRules, "")

	ch := &contactHandler{contacts: d.Contacts}
	route(http.MethodGet, "/contacts", ch.list, auth.ScopeContactsRead)
	route(http.MethodPost, "/contacts", ch.create, auth.ScopeContactsWrite)
	route(http.MethodGet, "/contacts/:id", ch.get, auth.ScopeContactsRead)
	route(http.MethodPatch, "/contacts/:id", ch.update, auth.ScopeContactsWrite)
	route(http.MethodDelete, "/contacts/:id", ch.delete, auth.ScopeContactsWrite)
	route(http.MethodPost, "/contacts/:id/merge", ch.merge, auth.ScopeContactsWrite)

	chh := &channelHandler{channels: d.Channels}
	route(http.MethodGet, "/contacts/:id/channels", chh.identities, auth.ScopeContactsRead)
	route(http.MethodPost, "/contacts/:id/channels", chh.addIdentity, auth.ScopeContactsWrite)

	route(http.MethodGet, "/channels", chh.list, auth.ScopeConversationsRead)
	route(http.MethodPost, "/channels", chh.create, auth.ScopeAdmin)
	route(http.MethodGet, "/channels/:id", chh.get, auth.ScopeConversationsRead)
	route(http.MethodPatch, "/channels/:id", chh.update, auth.ScopeAdmin)
	route(http.MethodPut, "/channels/:id/provider", chh.setProvider, auth.ScopeAdmin)
	route(http.MethodDelete, "/channels/:id", chh.delete, auth.ScopeAdmin)
	// Agents read templates to pick one for a send; registering them is an admin's job.
	th := &templateHandler{templates: d.Templates}
	route(http.MethodGet, "/channels/:id/templates", th.list, auth.ScopeConversationsRead)
	route(http.MethodPost, "/channels/:id/templates", th.create, auth.ScopeAdmin)
	route(http.MethodGet, "/templates/:id", th.get, auth.ScopeConversationsRead)
	route(http.MethodPatch, "/templates/:id", th.update, auth.ScopeAdmin)
	route(http.MethodDelete, "/templates/:id", th.delete, auth.ScopeAdmin)
	ih := &inboundHandler{conversations: d.Conversations}
	route(http.MethodPost, "/channels/:id/inbound", ih.ingest, auth.ScopeConversationsWrite)

	vh := &conversationHandler{conversations: d.Conversations}
	route(http.MethodGet, "/conversations", vh.list, auth.ScopeConversationsRead)
	route(http.MethodGet, "/conversations/counts", vh.counts, auth.ScopeConversationsRead)
	bh := &bulkHandler{bulk: d.Bulk, log: d.Log}
	route(http.MethodPost, "/conversations/bulk", bh.apply, auth.ScopeConversationsWrite)
	route(http.MethodGet, "/conversations/:id", vh.get, auth.ScopeConversationsRead)
	route(http.MethodPost, "/conversations/:id/read", vh.read, auth.ScopeConversationsRead)
	route(http.MethodPost, "/conversations/:id/unread", vh.unread, auth.ScopeConversationsRead)
	route(http.MethodGet, "/conversations/:id/messages", vh.messages, auth.ScopeConversationsRead)
	route(http.MethodGet, "/conversations/:id/events", vh.events, auth.ScopeConversationsRead)
	route(http.MethodPost, "/conversations/:id/close", vh.close, auth.ScopeConversationsWrite)
	route(http.MethodPost, "/conversations/:id/reopen", vh.reopen, auth.ScopeConversationsWrite)
	route(http.MethodPost, "/conversations/:id/snooze", vh.snooze, auth.ScopeConversationsWrite)
	route(http.MethodPut, "/conversations/:id/assignee", vh.assign, auth.ScopeConversationsWrite)

	// Agents read labels and put them on conversations; defining them is an admin's job, as
	// templates are.
	lh := &labelHandler{labels: d.Labels}
	route(http.MethodGet, "/labels", lh.list, auth.ScopeConversationsRead)
	route(http.MethodPost, "/labels", lh.create, auth.ScopeAdmin)
	route(http.MethodPatch, "/labels/:id", lh.update, auth.ScopeAdmin)
	route(http.MethodDelete, "/labels/:id", lh.delete, auth.ScopeAdmin)
	route(http.MethodPut, "/conversations/:id/labels", lh.setConversation, auth.ScopeConversationsWrite)
	// Everyone reads teams and moves conversations between them; forming them is an admin's
	// job, as labels are. Availability is each user's own.
	tmh := &teamHandler{teams: d.Teams, conversations: d.Conversations, workspaces: d.Workspaces}
	route(http.MethodGet, "/teams", tmh.list, auth.ScopeConversationsRead)
	route(http.MethodPost, "/teams", tmh.create, auth.ScopeAdmin)
	route(http.MethodGet, "/teams/:id", tmh.get, auth.ScopeConversationsRead)
	route(http.MethodPatch, "/teams/:id", tmh.update, auth.ScopeAdmin)
	route(http.MethodDelete, "/teams/:id", tmh.delete, auth.ScopeAdmin)
	route(http.MethodPut, "/teams/:id/members", tmh.setMembers, auth.ScopeAdmin)
	route(http.MethodPut, "/conversations/:id/team", tmh.setConversation, auth.ScopeConversationsWrite)
	route(http.MethodPut, "/me/availability", tmh.setAvailability, "")
	// Agents find and render canned responses; writing them is an admin's job.
	cnh := &cannedHandler{canned: d.Canned}
	route(http.MethodGet, "/canned-responses", cnh.list, auth.ScopeConversationsRead)
	route(http.MethodPost, "/canned-responses", cnh.create, auth.ScopeAdmin)
	route(http.MethodGet, "/canned-responses/:id", cnh.get, auth.ScopeConversationsRead)
	route(http.MethodPatch, "/canned-responses/:id", cnh.update, auth.ScopeAdmin)
	route(http.MethodDelete, "/canned-responses/:id", cnh.delete, auth.ScopeAdmin)
	route(http.MethodPost, "/canned-responses/:id/render", cnh.render, auth.ScopeConversationsRead)
	nh := &noteHandler{conversations: d.Conversations}
	route(http.MethodPost, "/conversations/:id/notes", nh.create, auth.ScopeConversationsWrite)
	route(http.MethodPatch, "/notes/:id", nh.update, auth.ScopeConversationsWrite)
	route(http.MethodDelete, "/notes/:id", nh.delete, auth.ScopeConversationsWrite)
	route(http.MethodGet, "/notes/:id/mentions", nh.mentions, auth.ScopeConversationsRead)

	sh := &sendHandler{sends: d.Sends, conversations: d.Conversations, scheduled: d.Scheduled}
	// Sends spend their workspace's send budget too, so a script cannot flood providers.
	route(http.MethodPost, "/contacts/:id/messages", sh.send, auth.ScopeMessagesSend, lim.sends)
	route(http.MethodGet, "/contacts/:id/send-eligibility", sh.eligibility, auth.ScopeConversationsRead)
	route(http.MethodGet, "/messages/:id", sh.message, auth.ScopeConversationsRead)
	sch := &scheduledHandler{scheduled: d.Scheduled}
	route(http.MethodGet, "/scheduled-messages", sch.list, auth.ScopeConversationsRead)
	route(http.MethodGet, "/scheduled-messages/:id", sch.get, auth.ScopeConversationsRead)
	route(http.MethodDelete, "/scheduled-messages/:id", sch.cancel, auth.ScopeMessagesSend)
	brh := &broadcastHandler{broadcasts: d.Broadcasts}
	route(http.MethodPost, "/broadcasts", brh.create, auth.ScopeMessagesSend)
	route(http.MethodGet, "/broadcasts", brh.list, auth.ScopeConversationsRead)
	route(http.MethodGet, "/broadcasts/:id", brh.get, auth.ScopeConversationsRead)
	route(http.MethodGet, "/broadcasts/:id/recipients", brh.recipients, auth.ScopeConversationsRead)
	route(http.MethodPost, "/broadcasts/:id/cancel", brh.cancel, auth.ScopeMessagesSend)

	mh := &mediaHandler{media: d.Media, urls: d.MediaURLs, publicBaseURL: d.PublicBaseURL}
	// An upload exists to be sent: messages:send is what a reply needs, so a key made for
	// sending can attach files, and one that only closes or assigns conversations cannot store
	// them. Reading media is reading conversations.
	route(http.MethodPost, uploadPath, mh.upload, auth.ScopeMessagesSend)
	route(http.MethodGet, "/media/:id", mh.download, auth.ScopeConversationsRead)
	route(http.MethodGet, "/media/:id/url", mh.signedURL, auth.ScopeConversationsRead)
	// The signed URL is its own credential: no bearer token, as an <img src> sends none.
	e.GET("/v1/media/:id/content", mh.signedDownload)

	// Provider webhooks carry the provider's own signature instead of a bearer token.
	pwh := &providerWebhookHandler{receiver: d.ProviderWebhooks, publicBaseURL: d.PublicBaseURL}
	e.POST("/webhooks/:id/:provider", pwh.receive)
	e.GET("/webhooks/:id/:provider", pwh.handshake)

	hb := d.Heartbeat
	if hb <= 0 {
		hb = 15 * time.Second
	}
	recheck := d.StreamRecheck
	if recheck <= 0 {
		recheck = 5 * time.Second
	}
	evh := &eventHandler{events: d.Events, auth: d.Auth, heartbeat: hb, recheck: recheck, writeTimeout: d.StreamWrite,
		closing: d.Closing, log: d.Log}
	route(http.MethodGet, "/events", evh.list, auth.ScopeConversationsRead)
	route(http.MethodPost, "/events/stream-token", evh.streamToken, auth.ScopeConversationsRead)
	e.GET("/v1/events/stream", evh.stream, lim.unauthenticated, streamAuth(d.Auth), lim.credential, require(auth.ScopeConversationsRead))

	wbh := &webhookHandler{webhooks: d.Webhooks}
	route(http.MethodGet, "/webhooks", wbh.list, auth.ScopeAdmin)
	route(http.MethodPost, "/webhooks", wbh.create, auth.ScopeAdmin)
	route(http.MethodPatch, "/webhooks/:id", wbh.update, auth.ScopeAdmin)
	route(http.MethodDelete, "/webhooks/:id", wbh.delete, auth.ScopeAdmin)
	route(http.MethodGet, "/webhooks/:id/deliveries", wbh.deliveries, auth.ScopeAdmin)
	return e
}

// ipExtractor picks how c.RealIP finds the client. echo's default reads X-Forwarded-For and
// X-Real-IP from anyone, which would let a client choose the address the login throttle
// counts; so headers count only from the configured proxies, and echo's own trust of every
// loopback, link-local and private address is switched off.
func ipExtractor(trusted []string) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, cidr := range trusted {
		// config.Load has checked every CIDR.
		if _, n, err := net.ParseCIDR(cidr); err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
