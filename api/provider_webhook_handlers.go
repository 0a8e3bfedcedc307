package api

import (
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/dispatch"
	"github.com/switchboard/switchboard/pkg/resource"
)

type providerWebhookHandler struct {
	receiver      *dispatch.Receiver
	publicBaseURL string
}

// fullURL is the URL the provider called, as it signed it: PUBLIC_BASE_URL (or the request's
// scheme and host) with the request's path and query.
func (h *providerWebhookHandler) fullURL(c echo.Context) string {
	return publicBase(c, h.publicBaseURL) + c.Request().URL.RequestURI()
}

// receive godoc
// @Summary     Receive a provider webhook
// @ID          receiveProviderWebhook
// @Description Where a channel's provider posts inbound messages and delivery receipts: configure `{PUBLIC_BASE_URL}/webhooks/{channel_id}/{provider}` at the provider. There is no bearer token: the body is checked with the provider's own signature before anything is read from it — Meta's `X-Hub-Signature-256` (whatsapp_cloud, messenger, instagram), Telegram's `X-Telegram-Bot-Api-Secret-Token`, Twilio's `X-Twilio-Signature` (over the full public URL), Viber's `X-Viber-Content-Signature`, LINE's `X-Line-Signature`, and for smtp the inbound mail gateway's `Authorization: Bearer <inbound_secret>` with a raw RFC 5322 message. A missing or wrong signature answers 401 and stores nothing. Inbound messages are ingested as by POST /v1/channels/{id}/inbound, deduplicated by the provider's message id (a retried webhook stores nothing twice); receipts move the channel's messages (found by the provider's message id) forward only: queued, sent, delivered, read, or failed. Messages that cannot be ingested are skipped and logged, so the provider does not retry them forever. A message's files become its attachments: pending while a job copies each from the provider into the media store (ready with a media_id, or failed with a failure_reason; event message.updated either way), or, for smtp, whose mail carries them, stored at once.
// @Tags        webhooks
// @Accept      json,x-www-form-urlencoded,message/rfc822
// @Produce     json
// @Param       id       path string true "Channel id"
// @Param       provider path string true "The channel's provider" Enums(whatsapp_cloud, messenger, instagram, telegram, twilio, smtp, viber, line)
// @Param       body     body object true "The provider's webhook payload, as the provider sends it (JSON, form or message/rfc822)"
// @Success     200 {object} resource.ProviderWebhookAck
// @Failure     400 {object} Problem "malformed_webhook: signed but unreadable"
// @Failure     401 {object} Problem "invalid_signature"
// @Failure     404 {object} Problem "channel_not_found, webhook_not_found (the channel uses another provider, or one without webhooks)"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "secrets_unavailable: the server cannot open the channel's secrets"
// @Router      /webhooks/{id}/{provider} [post]
func (h *providerWebhookHandler) receive(c echo.Context) error {
	id, err := pathID(c, channel.ErrNotFound)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err // the body limit's 413
	}
	got, err := h.receiver.Receive(c.Request().Context(), id, c.Param("provider"),
		dispatch.Webhook{Header: c.Request().Header, Body: body, URL: h.fullURL(c)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ProviderWebhookAck{Received: got.Inbound, Duplicates: got.Duplicates, Receipts: got.Receipts})
}

// handshake godoc
// @Summary     Verify a provider webhook (Meta)
// @ID          verifyProviderWebhook
// @Description Meta's subscription check for whatsapp_cloud, messenger and instagram channels: with `hub.mode=subscribe` and the channel's `verify_token` as `hub.verify_token`, answers `hub.challenge` as plain text. A wrong token answers 403.
// @Tags        webhooks
// @Produce     plain
// @Param       id                path  string true "Channel id"
// @Param       provider          path  string true "The channel's provider" Enums(whatsapp_cloud, messenger, instagram)
// @Param       hub.mode          query string true "subscribe"
// @Param       hub.verify_token  query string true "The channel's verify_token"
// @Param       hub.challenge     query string true "Echoed back"
// @Success     200 {string} string "the challenge"
// @Failure     400 {object} Problem "invalid_query, invalid_character"
// @Failure     403 {object} Problem "handshake_refused"
// @Failure     404 {object} Problem "channel_not_found, webhook_not_found"
// @Failure     422 {object} Problem "secrets_unavailable"
// @Router      /webhooks/{id}/{provider} [get]
func (h *providerWebhookHandler) handshake(c echo.Context) error {
	id, err := pathID(c, channel.ErrNotFound)
	if err != nil {
		return err
	}
	challenge, err := h.receiver.Handshake(c.Request().Context(), id, c.Param("provider"), c.QueryParams())
	if err != nil {
		return err
	}
	return c.String(http.StatusOK, challenge)
}
