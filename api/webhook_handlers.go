package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/subscription"
)

type webhookHandler struct {
	webhooks *subscription.Service
}

type createWebhookRequest struct {
	URL         string   `json:"url" example:"https://crm.example.com/hooks/switchboard"`
	Description string   `json:"description" example:"CRM sync"`
	Events      []string `json:"events" example:"message.created,conversation.closed"`
} // @name CreateWebhookRequest

type updateWebhookRequest struct {
	URL         *string  `json:"url" example:"https://crm.example.com/hooks/switchboard"`
	Description *string  `json:"description" example:"CRM sync"`
	Events      []string `json:"events" example:"*"`
	// Enabled true re-enables a webhook that was disabled after failing.
	Enabled *bool `json:"enabled" example:"true"`
} // @name UpdateWebhookRequest

type webhookResponse struct {
	ID             string     `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	URL            string     `json:"url" example:"https://crm.example.com/hooks/switchboard"`
	Description    string     `json:"description" example:"CRM sync"`
	Events         []string   `json:"events" example:"message.created,conversation.closed"`
	Enabled        bool       `json:"enabled" example:"true"`
	FailingSince   *time.Time `json:"failing_since" extensions:"x-nullable" format:"date-time" example:"2026-11-29T08:00:00Z"`
	DisabledAt     *time.Time `json:"disabled_at" extensions:"x-nullable" format:"date-time" example:"2026-12-02T08:00:00Z"`
	DisabledReason *string    `json:"disabled_reason" extensions:"x-nullable" example:"every delivery failed since 2026-11-29T08:00:00Z"`
	CreatedAt      time.Time  `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt      time.Time  `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Webhook

type createdWebhookResponse struct {
	webhookResponse
	// Secret signs every delivery (Standard Webhooks); it is shown only in this answer.
	Secret string `json:"secret" example:"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"`
} // @name CreatedWebhook

type webhookList struct {
	Data       []webhookResponse `json:"data"`
	NextCursor *string           `json:"next_cursor" extensions:"x-nullable"`
} // @name WebhookList

type attemptResponse struct {
	Attempt    int       `json:"attempt" example:"1"`
	At         time.Time `json:"at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	StatusCode *int      `json:"status_code" extensions:"x-nullable" example:"500"`
	LatencyMS  int       `json:"latency_ms" example:"84"`
	Error      *string   `json:"error" extensions:"x-nullable" example:"HTTP 500: oops"`
} // @name WebhookAttempt

type deliveryResponse struct {
	ID             string            `json:"id" example:"311"`
	EventID        string            `json:"event_id" example:"1042"`
	EventType      string            `json:"event_type" example:"message.created"`
	Status         string            `json:"status" enums:"pending,delivered,failed" example:"delivered"`
	Attempts       int               `json:"attempts" example:"3"`
	NextAttemptAt  *time.Time        `json:"next_attempt_at" extensions:"x-nullable" format:"date-time" example:"2026-11-29T08:00:40Z"`
	LastStatusCode *int              `json:"last_status_code" extensions:"x-nullable" example:"200"`
	LastLatencyMS  *int              `json:"last_latency_ms" extensions:"x-nullable" example:"84"`
	LastError      *string           `json:"last_error" extensions:"x-nullable" example:"HTTP 500: oops"`
	AttemptLog     []attemptResponse `json:"attempt_log"`
	CreatedAt      time.Time         `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	DeliveredAt    *time.Time        `json:"delivered_at" extensions:"x-nullable" format:"date-time" example:"2026-11-29T08:00:41Z"`
} // @name WebhookDelivery

type deliveryList struct {
	Data       []deliveryResponse `json:"data"`
	NextCursor *string            `json:"next_cursor" extensions:"x-nullable"`
} // @name WebhookDeliveryList

func toWebhookResponse(w subscription.Webhook) webhookResponse {
	return webhookResponse{ID: w.ID.String(), URL: w.URL, Description: w.Description, Events: w.Events,
		Enabled: w.Enabled, FailingSince: w.FailingSince, DisabledAt: w.DisabledAt, DisabledReason: w.DisabledReason,
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

func toDeliveryResponse(d subscription.Delivery) deliveryResponse {
	r := deliveryResponse{ID: itoa(d.ID), EventID: itoa(d.EventID), EventType: d.EventType, Status: d.Status,
		Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt, LastStatusCode: d.LastStatusCode,
		LastLatencyMS: d.LastLatencyMS, LastError: d.LastError, CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt,
		AttemptLog: make([]attemptResponse, len(d.Log))}
	for i, a := range d.Log {
		r.AttemptLog[i] = attemptResponse(a)
	}
	return r
}

// create godoc
// @Summary     Subscribe a webhook
// @ID          createWebhook
// @Description Registers an endpoint for the workspace's events. `url` must be https (plain http only to loopback on a server run with WEBHOOK_ALLOW_LOOPBACK=true); credentials in the URL, a port outside 1-65535, and private, link-local, loopback, unspecified and other internal addresses (IPv6 addresses that embed an IPv4 one included) are refused (422 webhook_url_refused, naming url), by the literal address and by what the name resolves to, and again when each delivery connects. `events` lists event types, or is ["*"] for all. The signing secret is in this answer only. Each delivery is a POST of the Event JSON with Standard Webhooks headers: webhook-id (the event id, for dedupe), webhook-timestamp and webhook-signature ("v1," + base64 HMAC-SHA256 over id.timestamp.body with the secret's bytes).
// @Tags        webhooks
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body createWebhookRequest true "Webhook"
// @Success     201 {object} createdWebhookResponse
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     422 {object} Problem "validation_failed, webhook_url_refused, secrets_unavailable"
// @Router      /v1/webhooks [post]
func (h *webhookHandler) create(c echo.Context) error {
	var req createWebhookRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	w, secret, err := h.webhooks.Create(c.Request().Context(), principal(c).WorkspaceID,
		subscription.New{URL: req.URL, Description: req.Description, Events: req.Events})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, createdWebhookResponse{webhookResponse: toWebhookResponse(w), Secret: secret})
}

// list godoc
// @Summary     List webhooks
// @ID          listWebhooks
// @Tags        webhooks
// @Produce     json
// @Security    BearerAuth
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} webhookList
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/webhooks [get]
func (h *webhookHandler) list(c echo.Context) error {
	data, next, err := listPage(c, h.webhooks.List, toWebhookResponse)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webhookList{Data: data, NextCursor: next})
}

// update godoc
// @Summary     Change a webhook
// @ID          updateWebhook
// @Description Changes the URL (checked as on creation), description or events; {"enabled": true} re-enables a webhook that was disabled after failing continuously for WEBHOOK_DISABLE_AFTER (default 3 days), {"enabled": false} pauses it. Events that happen while a webhook is disabled are not delivered to it.
// @Tags        webhooks
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string               true "Webhook id"
// @Param       body body updateWebhookRequest true "Changes"
// @Success     200 {object} webhookResponse
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "webhook_not_found"
// @Failure     422 {object} Problem "validation_failed, webhook_url_refused"
// @Router      /v1/webhooks/{id} [patch]
func (h *webhookHandler) update(c echo.Context) error {
	var req updateWebhookRequest
	id, err := bindByID(c, subscription.ErrNotFound, &req)
	if err != nil {
		return err
	}
	w, err := h.webhooks.Update(c.Request().Context(), principal(c).WorkspaceID, id,
		subscription.Patch{URL: req.URL, Description: req.Description, Events: req.Events, Enabled: req.Enabled})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWebhookResponse(w))
}

// delete godoc
// @Summary     Delete a webhook
// @ID          deleteWebhook
// @Tags        webhooks
// @Security    BearerAuth
// @Param       id path string true "Webhook id"
// @Success     204
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "webhook_not_found"
// @Router      /v1/webhooks/{id} [delete]
func (h *webhookHandler) delete(c echo.Context) error {
	return deleteByID(c, subscription.ErrNotFound, h.webhooks.Delete)
}

// deliveries godoc
// @Summary     A webhook's delivery log
// @ID          listWebhookDeliveries
// @Description Newest first: each delivery of an event with its status (pending, delivered, or failed once retries ended after WEBHOOK_RETRY_FOR, default 24 h), the number of attempts, the next attempt, and the latest attempts with status code, latency and error.
// @Tags        webhooks
// @Produce     json
// @Security    BearerAuth
// @Param       id     path  string true  "Webhook id"
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} deliveryList
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "webhook_not_found"
// @Router      /v1/webhooks/{id}/deliveries [get]
func (h *webhookHandler) deliveries(c echo.Context) error {
	data, next, err := listPageByID(c, subscription.ErrNotFound, h.webhooks.Deliveries, toDeliveryResponse)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, deliveryList{Data: data, NextCursor: next})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
