package api

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/label"
	"github.com/switchboard/switchboard/pkg/resource"
)

type labelHandler struct {
	labels *label.Service
}

// createLabelRequest creates a label.
type createLabelRequest struct {
	// Name is 1 to 50 characters once surrounding spaces are trimmed, unique in the workspace
	// without regard to case.
	Name string `json:"name" validate:"required" minLength:"1" extensions:"x-pattern=notBlank" example:"Refund"`
	// Color is #rrggbb (either case; answered lower-case).
	Color string `json:"color" validate:"required" extensions:"x-pattern=^#[0-9A-Fa-f]{6}$" example:"#1f93ff"`
} // @name CreateLabelRequest

func (r createLabelRequest) fields() label.Fields {
	return label.Fields{Name: &r.Name, Color: &r.Color}
}

// updateLabelRequest renames or recolours a label; an absent field stays as it is.
type updateLabelRequest struct {
	// Name is 1 to 50 characters once surrounding spaces are trimmed, unique in the workspace
	// without regard to case.
	Name *string `json:"name" minLength:"1" extensions:"x-pattern=notBlank" example:"Refunds"`
	// Color is #rrggbb (either case; answered lower-case).
	Color *string `json:"color" extensions:"x-pattern=^#[0-9A-Fa-f]{6}$" example:"#e5484d"`
} // @name UpdateLabelRequest

func (r updateLabelRequest) fields() label.Fields {
	return label.Fields{Name: r.Name, Color: r.Color}
}

// setConversationLabelsRequest replaces a conversation's labels.
type setConversationLabelsRequest struct {
	// LabelIDs are labels of this workspace: at most 20 distinct ids (a repeated id counts
	// once); [] takes every label off. Required.
	LabelIDs []string `json:"label_ids" validate:"required" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f90"`
} // @name SetConversationLabelsRequest

// list godoc
// @Summary     List labels
// @ID          listLabels
// @Description The workspace's conversation labels by name, without regard to case (the order rows carry them in). Agents read them to label conversations and filter the inbox.
// @Tags        labels
// @Produce     json
// @Security    BearerAuth
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} resource.LabelList
// @Failure     400 {object} Problem "invalid_parameter, invalid_cursor"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/labels [get]
func (h *labelHandler) list(c echo.Context) error {
	data, next, err := listPage(c, h.labels.List, resource.ToLabel)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.LabelList{Data: data, NextCursor: next})
}

// create godoc
// @Summary     Create a label
// @ID          createLabel
// @Description Adds a label conversations can carry. name (trimmed, 1 to 50 characters) and color (#rrggbb) are required. A name the workspace already has, in any case ("refund" and "Refund" are one label), answers 409 label_exists with existing_id. Owners, managers and admin keys.
// @Tags        labels
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body createLabelRequest true "Label"
// @Success     201 {object} resource.Label
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     409 {object} Problem "label_exists"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/labels [post]
func (h *labelHandler) create(c echo.Context) error {
	var req createLabelRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	l, err := h.labels.Create(c.Request().Context(), principal(c).WorkspaceID, req.fields())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, resource.ToLabel(l))
}

// update godoc
// @Summary     Update a label
// @ID          updateLabel
// @Description Renames or recolours a label; absent fields stay. Every conversation that carries it shows the change at once (no event is published per conversation). A name another label has, in any case, answers 409 label_exists with existing_id. Owners, managers and admin keys.
// @Tags        labels
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string             true "Label id"
// @Param       body body updateLabelRequest true "Changes"
// @Success     200 {object} resource.Label
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "label_not_found"
// @Failure     409 {object} Problem "label_exists"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/labels/{id} [patch]
func (h *labelHandler) update(c echo.Context) error {
	return updateByID[updateLabelRequest](c, label.ErrNotFound, h.labels.Update, resource.ToLabel)
}

// delete godoc
// @Summary     Delete a label
// @ID          deleteLabel
// @Description Deletes the label and takes it off every conversation that carries it, in one step. No conversation.labels_changed event is published for those conversations (a label may be on thousands): clients that show labels reload them, as after a rename. Owners, managers and admin keys.
// @Tags        labels
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Label id"
// @Success     204
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "label_not_found"
// @Router      /v1/labels/{id} [delete]
func (h *labelHandler) delete(c echo.Context) error {
	return deleteByID(c, label.ErrNotFound, h.labels.Delete)
}

// setConversation godoc
// @Summary     Set a conversation's labels
// @ID          setConversationLabels
// @Description Replaces the conversation's labels with label_ids: at most 20 distinct labels of this workspace (a repeated id counts once); [] takes them all off. An id that is no label of this workspace (another workspace's included) answers 422 naming it (label_ids[i]), and nothing changes. When the set changed, the conversation's updated_at moves and conversation.labels_changed is published with the conversation; the same set again changes nothing and publishes nothing. Answers the conversation, its labels by name. Agents may label any conversation they can see.
// @Tags        conversations
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string                       true "Conversation id"
// @Param       body body setConversationLabelsRequest true "Labels"
// @Success     200 {object} resource.Conversation
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "conversation_not_found"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/conversations/{id}/labels [put]
func (h *labelHandler) setConversation(c echo.Context) error {
	var req setConversationLabelsRequest
	id, err := bindByID(c, conversation.ErrNotFound, &req)
	if err != nil {
		return err
	}
	if req.LabelIDs == nil {
		return errkind.Invalid(errkind.Field{Field: "label_ids", Message: "is required: the labels' ids, or [] to take them all off"})
	}
	ids := make([]uuid.UUID, len(req.LabelIDs))
	var errs errkind.Fields
	for i, s := range req.LabelIDs {
		if ids[i], err = uuid.Parse(s); err != nil && len(errs) < label.MaxPerConversation {
			errs.Add("label_ids["+strconv.Itoa(i)+"]", "must be an id")
		}
	}
	if err := errs.Err(); err != nil {
		return err
	}
	v, err := h.labels.SetConversationLabels(c.Request().Context(), principal(c).WorkspaceID, id, ids)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conversationFor(principal(c), resource.ToConversation(v)))
}
