package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/resource"
)

type scheduledHandler struct {
	scheduled *conversation.ScheduledService
}

// schedule answers a send with send_at: 202 with the scheduled message, or the replay of an
// earlier answer with the same Idempotency-Key.
func (h *sendHandler) schedule(c echo.Context, contactID uuid.UUID, by conversation.Caller, draft conversation.Draft,
	opts conversation.ScheduleOptions, idem *conversation.Idempotency) error {
	sc, body, replay, err := h.scheduled.Schedule(c.Request().Context(), principal(c).WorkspaceID, contactID, by, draft, opts, idem)
	if err != nil {
		return refusalProblem(err)
	}
	status := http.StatusAccepted
	if replay != nil {
		c.Response().Header().Set("Idempotent-Replayed", "true")
		status, body = replay.Status, replay.Body
	} else if body == nil {
		if _, body, err = resource.ScheduledAnswer(sc); err != nil {
			return err
		}
	}
	return c.Blob(status, echo.MIMEApplicationJSON, body)
}

// list godoc
// @Summary     List scheduled messages
// @ID          listScheduledMessages
// @Description The workspace's scheduled sends (POST /v1/contacts/{id}/messages with send_at), whatever became of them, in the order they were scheduled (by id), keyset-paginated. contact_id and status filter.
// @Tags        messages
// @Produce     json
// @Security    BearerAuth
// @Param       contact_id query string false "Only this contact's"
// @Param       status     query string false "Only those with this status" Enums(scheduled, sent, blocked, cancelled, failed)
// @Param       limit      query int    false "Page size (1-100)" default(25)
// @Param       cursor     query string false "Cursor from the previous page"
// @Success     200 {object} resource.ScheduledMessageList
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/scheduled-messages [get]
func (h *scheduledHandler) list(c echo.Context) error {
	var f conversation.ScheduledFilter
	var err error
	if f.ContactID, err = uuidParam(c, "contact_id"); err != nil {
		return err
	}
	status, err := enumParam(c, "status", "", "scheduled", "sent", "blocked", "cancelled", "failed")
	if err != nil {
		return err
	}
	if status != "" {
		st := conversation.ScheduledStatus(status)
		f.Status = &st
	}
	data, next, err := listPage(c, func(ctx context.Context, ws uuid.UUID, p page.Request) ([]conversation.Scheduled, string, error) {
		return h.scheduled.List(ctx, ws, f, p)
	}, resource.ToScheduledMessage)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ScheduledMessageList{Data: data, NextCursor: next})
}

// get godoc
// @Summary     Get a scheduled message
// @ID          getScheduledMessage
// @Description One scheduled send: its status, preview_decision, and once it fired the decision and the message_id it sent.
// @Tags        messages
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Scheduled message id"
// @Success     200 {object} resource.ScheduledMessage
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "scheduled_message_not_found"
// @Router      /v1/scheduled-messages/{id} [get]
func (h *scheduledHandler) get(c echo.Context) error {
	return getByID(c, conversation.ErrScheduledNotFound, h.scheduled.Get, resource.ToScheduledMessage)
}

// cancel godoc
// @Summary     Cancel a scheduled message
// @ID          cancelScheduledMessage
// @Description Cancels a scheduled send that has not fired: 200 with it, status cancelled and reason cancelled (event scheduled_message.cancelled). One that already fired, was blocked or was cancelled answers 409 scheduled_message_not_cancellable. Needs messages:send.
// @Tags        messages
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Scheduled message id"
// @Success     200 {object} resource.ScheduledMessage
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "scheduled_message_not_found"
// @Failure     409 {object} Problem "scheduled_message_not_cancellable"
// @Router      /v1/scheduled-messages/{id} [delete]
func (h *scheduledHandler) cancel(c echo.Context) error {
	return getByID(c, conversation.ErrScheduledNotFound, h.scheduled.Cancel, resource.ToScheduledMessage)
}
