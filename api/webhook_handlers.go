package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/resource"
	"github.com/switchboard/switchboard/pkg/subscription"
)

type webhookHandler struct {
	webhooks *subscription.Service
}

type createWebhookRequest struct {
	URL         string   `json:"url" validate:"required" minLength:"1" maxLength:"2000" extensions:"x-pattern=url" example:"https://crm.example.com/hooks/switchboard"`
	Description string   `json:"description" maxLength:"500" example:"CRM sync"`
	Events      []string `json:"events" validate:"required,min=1" example:"message.created,conversation.closed"`
} // @name CreateWebhookRequest

type updateWebhookRequest struct {
	URL         *string  `json:"url" minLength:"1" maxLength:"2000" extensions:"x-pattern=url" example:"https://crm.example.com/hooks/switchboard"`
	Description *string  `json:"description" maxLength:"500" example:"CRM sync"`
	Events      []string `json:"events" validate:"min=1" example:"*"`
	// Enabled true re-enables a webhook that was disabled after failing.
	Enabled *bool `json:"enabled" example:"true"`
} // @name UpdateWebhookRequest

// create godoc
// @Summary     Subscribe a webhook
// @ID          createWebhook
// @Description Registers an endpoint for the workspace's events. `url` must be https (plain http only to loopback on a server run with WEBHOOK_ALLOW_LOOPBACK=true); credentials in the URL, a port outside 1-65535, and private, link-local, loopback, unspecified and other internal addresses (IPv6 addresses that embed an IPv4 one included) are refused (422 webhook_url_refused, naming url), by the literal address and by what the name resolves to, and again when each delivery connects. `events` lists event types, or is ["*"] for all. The signing secret is in this answer only. Each delivery is a POST of the Event JSON with Standard Webhooks headers: webhook-id (the event id, for dedupe), webhook-timestamp and webhook-signature ("v1," + base64 HMAC-SHA256 over id.timestamp.body with the secret's bytes).
// @Tags        webhooks
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body createWebhookRequest true "Webhook"
// @Success     201 {object} resource.CreatedWebhook
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     413 {object} Problem
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
	return c.JSON(http.StatusCreated, resource.CreatedWebhook{Webhook: resource.ToWebhook(w), Secret: secret})
}

// list godoc
// @Summary     List webhooks
// @ID          listWebhooks
// @Tags        webhooks
// @Produce     json
// @Security    BearerAuth
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} resource.WebhookList
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/webhooks [get]
func (h *webhookHandler) list(c echo.Context) error {
	data, next, err := listPage(c, h.webhooks.List, resource.ToWebhook)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.WebhookList{Data: data, NextCursor: next})
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
// @Success     200 {object} resource.Webhook
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "webhook_not_found"
// @Failure     413 {object} Problem
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
	return c.JSON(http.StatusOK, resource.ToWebhook(w))
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
// @Success     200 {object} resource.WebhookDeliveryList
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "webhook_not_found"
// @Router      /v1/webhooks/{id}/deliveries [get]
func (h *webhookHandler) deliveries(c echo.Context) error {
	data, next, err := listPageByID(c, subscription.ErrNotFound, h.webhooks.Deliveries, resource.ToWebhookDelivery)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.WebhookDeliveryList{Data: data, NextCursor: next})
}
