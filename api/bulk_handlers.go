package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/bulk"
	"github.com/switchboard/switchboard/pkg/errkind"
)

type bulkHandler struct {
	bulk *bulk.Service
	log  *slog.Logger
}

// bulkRequest is one action on many conversations.
type bulkRequest struct {
	// ConversationIDs are 1 to 100 conversations of this workspace; a repeated id is applied
	// and answered once.
	ConversationIDs []string `json:"conversation_ids" validate:"required,min=1,max=100" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52"`
	Action          string   `json:"action" validate:"required" enums:"assign,unassign,close,label,snooze" example:"assign"`
	// AssigneeID is the user to assign (assign: required).
	AssigneeID *string `json:"assignee_id" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	// LabelIDs replace each conversation's labels, as PUT /v1/conversations/{id}/labels (label:
	// required; [] takes them all off).
	LabelIDs []string `json:"label_ids" validate:"max=20" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f90"`
	// Until is when snoozed conversations wake (snooze: absent or null, when the customer
	// writes; else a future instant at most 365 days ahead).
	Until *string `json:"until" format:"date-time" extensions:"x-nullable" example:"2026-12-01T09:00:00Z"`
	// Category and Summary are the closing note (close), as POST /v1/conversations/{id}/close.
	Category *string `json:"category" maxLength:"100" example:"spam"`
	Summary  *string `json:"summary" maxLength:"2000" example:"Bulk-closed spam"`
} // @name BulkConversationsRequest

// bulkResult is one conversation's outcome.
type bulkResult struct {
	ID string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52"`
	// Status is the HTTP status the single-conversation request would have answered: 200
	// applied (or nothing to change), else the error's.
	Status int `json:"status" example:"200"`
	// Error is the problem of a conversation the action did not apply to; null when it did.
	Error *Problem `json:"error" extensions:"x-nullable"`
} // @name BulkConversationResult

// bulkResponse answers each conversation of a bulk request, in the request's order.
type bulkResponse struct {
	Results []bulkResult `json:"results"`
} // @name BulkConversationResults

// apply godoc
// @Summary     Act on many conversations
// @ID          bulkConversations
// @Description Applies one action (assign, unassign, close, label, snooze) to 1 to 100 conversations, each in its own transaction through the single-conversation request's rules (PUT .../assignee, POST .../close, PUT .../labels, POST .../snooze): an agent may assign only themselves, a closing note follows the workspace's settings, and so on. Answers 200 with one result per distinct id, in order: status is what that single request would have answered and error its problem. A conversation of another workspace (or none) answers 422 validation_failed on conversation_id in its result, and the others are applied. A request no conversation could take (no ids, more than 100, an unknown action, a closing note too long) is a 422 of its own; assign without assignee_id and label without label_ids answer 422 in each result. Each conversation the action changed gets a conversation.bulk entry in the audit log, written in its transaction; one it did not change or refused gets none. Handy when an agent goes offline: their conversations stay theirs until a manager moves them.
// @Tags        conversations
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body bulkRequest true "Action"
// @Success     200 {object} bulkResponse
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/conversations/bulk [post]
func (h *bulkHandler) apply(c echo.Context) error {
	var req bulkRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	r := bulk.Request{Action: req.Action, Category: req.Category, Summary: req.Summary}
	var errs errkind.Fields
	ids := func(field string, in []string) []uuid.UUID {
		if in == nil {
			return nil
		}
		out := make([]uuid.UUID, 0, len(in))
		for i, s := range in {
			id, err := uuid.Parse(s)
			if err != nil && len(errs) < 20 {
				errs.Add(field+"["+strconv.Itoa(i)+"]", "must be an id")
			}
			out = append(out, id)
		}
		return out
	}
	if len(req.ConversationIDs) <= bulk.MaxIDs {
		r.ConversationIDs = ids("conversation_ids", req.ConversationIDs)
	} else {
		r.ConversationIDs = make([]uuid.UUID, len(req.ConversationIDs)) // the service refuses the count
	}
	r.LabelIDs = ids("label_ids", req.LabelIDs)
	if req.AssigneeID != nil {
		id, err := uuid.Parse(*req.AssigneeID)
		if err != nil {
			errs.Add("assignee_id", "must be a user id")
		}
		r.AssigneeID = &id
	}
	if req.Until != nil {
		u, err := time.Parse(time.RFC3339Nano, *req.Until)
		if err != nil {
			errs.Add("until", "must be an RFC 3339 instant such as 2026-12-01T09:00:00Z, or null")
		}
		u = u.UTC()
		r.Until = &u
	}
	if err := errs.Err(); err != nil {
		return err
	}
	results, err := h.bulk.Apply(c.Request().Context(), principal(c).WorkspaceID, caller(c), r)
	if err != nil {
		return err
	}
	out := bulkResponse{Results: make([]bulkResult, len(results))}
	for i, res := range results {
		out.Results[i] = bulkResult{ID: res.ID.String(), Status: http.StatusOK}
		if res.Err == nil {
			continue
		}
		status, body := problemOf(res.Err, c, h.log)
		delete(body, "request_id") // the answer's own, not the item's
		var p Problem
		b, _ := json.Marshal(body)
		_ = json.Unmarshal(b, &p)
		out.Results[i].Status, out.Results[i].Error = status, &p
	}
	return c.JSON(http.StatusOK, out)
}
