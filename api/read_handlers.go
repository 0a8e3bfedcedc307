package api

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/resource"
)

// Read state and counts: per user, so the caller must be a user.

type readConversationRequest struct {
	// MessageID marks the conversation read up to this message of it (default: everything now).
	MessageID *string `json:"message_id" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f70"`
} // @name ReadConversationRequest

// errUserRequired answers an API key asking for what only a user has: read state, an inbox
// of their own.
var errUserRequired = errkind.New(errkind.KindForbidden, "user_required",
	"Read state is a user's own: mark conversations read or unread as a user, not with an API key.")

// reader is the calling user whose read state answers carry, nil for an API key.
func reader(c echo.Context) *uuid.UUID {
	if p := principal(c); p.Kind == auth.KindUser {
		id := p.UserID
		return &id
	}
	return nil
}

// read godoc
// @Summary     Mark a conversation read
// @ID          markConversationRead
// @Description Records that the calling user read the conversation up to message_id (a message of it), or everything now when the body is left out; the answer carries the new last_read_at and unread_count (incoming messages after it). Read state is per user: an API key answers 403 user_required.
// @Tags        conversations
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string                  true  "Conversation id"
// @Param       body body readConversationRequest false "Up to which message"
// @Success     200 {object} resource.Conversation
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem "forbidden, user_required"
// @Failure     404 {object} Problem "conversation_not_found"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed (message_id not of this conversation)"
// @Router      /v1/conversations/{id}/read [post]
func (h *conversationHandler) read(c echo.Context) error {
	id, err := pathID(c, conversation.ErrNotFound)
	if err != nil {
		return err
	}
	var req readConversationRequest
	if err := bindOptional(c, &req); err != nil {
		return err
	}
	var message *uuid.UUID
	if req.MessageID != nil {
		m, err := uuidField("message_id", *req.MessageID)
		if err != nil {
			return err
		}
		message = &m
	}
	user := reader(c)
	if user == nil {
		return errUserRequired
	}
	v, err := h.conversations.MarkRead(c.Request().Context(), principal(c).WorkspaceID, id, *user, message)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conversationFor(principal(c), resource.ToConversation(v)))
}

// unread godoc
// @Summary     Mark a conversation unread
// @ID          markConversationUnread
// @Description Moves the calling user's last read back to just before the latest incoming message, so unread_count is 1 (0 when the customer never wrote). An API key answers 403 user_required.
// @Tags        conversations
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Conversation id"
// @Success     200 {object} resource.Conversation
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem "forbidden, user_required"
// @Failure     404 {object} Problem "conversation_not_found"
// @Router      /v1/conversations/{id}/unread [post]
func (h *conversationHandler) unread(c echo.Context) error {
	id, err := pathID(c, conversation.ErrNotFound)
	if err != nil {
		return err
	}
	user := reader(c)
	if user == nil {
		return errUserRequired
	}
	v, err := h.conversations.MarkUnread(c.Request().Context(), principal(c).WorkspaceID, id, *user)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conversationFor(principal(c), resource.ToConversation(v)))
}

// counts godoc
// @Summary     Count the inbox's tabs
// @ID          getConversationCounts
// @Description The inbox's tab counts, exact and kept as counters in the transactions that change them: open conversations (the caller's, unassigned, all), snoozed ones (the caller's, all), and mentions_unread, conversations with a mention of the caller after the caller's last read. For an API key the caller's own counts are null.
// @Tags        conversations
// @Produce     json
// @Security    BearerAuth
// @Success     200 {object} resource.Counts
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/conversations/counts [get]
func (h *conversationHandler) counts(c echo.Context) error {
	n, err := h.conversations.Counts(c.Request().Context(), principal(c).WorkspaceID, reader(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToCounts(n))
}
