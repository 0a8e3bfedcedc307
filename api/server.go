// Package api is Switchboard's HTTP layer: routes, handlers, request and response shapes, and
// the mapping from domain errors to RFC 9457 problems.
//
// @title                      Switchboard API
// @version                    1.0
// @description                Headless REST/JSON API for omnichannel customer conversations: contacts, conversations, a per-channel rule table that decides whether each outbound message may be sent, and rule-checked sends. Errors are RFC 9457 problems (application/problem+json) with a stable `code`. Lists use keyset pagination: pass `next_cursor` back as `cursor`.
// @BasePath                   /
// @securityDefinitions.apikey BearerAuth
// @in                         header
// @name                       Authorization
// @description                "Bearer <token>": a user's access token from POST /v1/auth/login, or an API key (sbk_...).
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/pprof"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// Deps are the services the API serves.
type Deps struct {
	Log        *slog.Logger
	Auth       *auth.Service
	Workspaces *workspace.Service
	Contacts   *contact.Service
	Channels   *channel.Service
	// Conversations runs the inbox, the conversation lifecycle and inbound ingestion.
	Conversations *conversation.Service
	// Ready reports whether the database answers (GET /readyz).
	Ready func(ctx context.Context) error
	// Collectors are extra Prometheus collectors (e.g. the connection pool's stats).
	Collectors []prometheus.Collector
	BodyLimit  string
	Pprof      bool
	Version    string
}

// New builds the HTTP server with every route.
func New(d Deps) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Log)

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
	e.Use(withRequestID, metrics, accessLog(d.Log), middleware.Recover(), middleware.BodyLimit(limit))

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

	v1 := e.Group("/v1")
	ah := &authHandler{auth: d.Auth, workspaces: d.Workspaces}
	v1.POST("/auth/login", ah.login)
	v1.POST("/auth/refresh", ah.refresh)

	authed := v1.Group("", authenticate(d.Auth))
	authed.POST("/auth/logout", ah.logout)
	authed.GET("/me", ah.me)

	admin := require(auth.ScopeAdmin)
	kh := &apiKeyHandler{auth: d.Auth}
	authed.GET("/api-keys", kh.list, admin)
	authed.POST("/api-keys", kh.create, admin)
	authed.DELETE("/api-keys/:id", kh.revoke, admin)

	uh := &userHandler{workspaces: d.Workspaces}
	authed.GET("/users", uh.list)
	authed.POST("/users", uh.create, admin)
	authed.PATCH("/users/:id", uh.update, admin)
	authed.DELETE("/users/:id", uh.delete, admin)

	wh := &workspaceHandler{workspaces: d.Workspaces}
	authed.GET("/workspace", wh.get)
	authed.PATCH("/workspace", wh.update, admin)

	ch := &contactHandler{contacts: d.Contacts}
	read, write := require(auth.ScopeContactsRead), require(auth.ScopeContactsWrite)
	authed.GET("/contacts", ch.list, read)
	authed.POST("/contacts", ch.create, write)
	authed.GET("/contacts/:id", ch.get, read)
	authed.PATCH("/contacts/:id", ch.update, write)
	authed.DELETE("/contacts/:id", ch.delete, write)

	chh := &channelHandler{channels: d.Channels}
	authed.GET("/contacts/:id/channels", chh.identities, read)
	authed.POST("/contacts/:id/channels", chh.addIdentity, write)

	convRead, convWrite := require(auth.ScopeConversationsRead), require(auth.ScopeConversationsWrite)
	authed.GET("/channels", chh.list, convRead)
	authed.POST("/channels", chh.create, admin)
	authed.GET("/channels/:id", chh.get, convRead)
	authed.PATCH("/channels/:id", chh.update, admin)
	authed.DELETE("/channels/:id", chh.delete, admin)
	ih := &inboundHandler{conversations: d.Conversations}
	authed.POST("/channels/:id/inbound", ih.ingest, convWrite)

	vh := &conversationHandler{conversations: d.Conversations}
	authed.GET("/conversations", vh.list, convRead)
	authed.GET("/conversations/:id", vh.get, convRead)
	authed.GET("/conversations/:id/messages", vh.messages, convRead)
	authed.GET("/conversations/:id/events", vh.events, convRead)
	authed.POST("/conversations/:id/close", vh.close, convWrite)
	authed.POST("/conversations/:id/reopen", vh.reopen, convWrite)
	authed.PUT("/conversations/:id/assignee", vh.assign, convWrite)
	return e
}
