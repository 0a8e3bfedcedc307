package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/canned"
	"github.com/switchboard/switchboard/pkg/resource"
)

type cannedHandler struct {
	canned *canned.Service
}

// createCannedRequest creates a canned response.
type createCannedRequest struct {
	// Shortcut is 1 to 50 characters without spaces, unique in the workspace without regard
	// to case.
	Shortcut string `json:"shortcut" validate:"required" minLength:"1" maxLength:"50" extensions:"x-pattern=^\\s*\\S+\\s*$" example:"refund"`
	// Title is 1 to 200 characters once surrounding spaces are trimmed.
	Title string `json:"title" validate:"required" minLength:"1" maxLength:"200" extensions:"x-pattern=notBlank" example:"Refund on its way"`
	// Text is 1 to 5000 characters; {{contact.first_name}}, {{contact.last_name}} and
	// {{agent.name}} are filled when it is rendered.
	Text string `json:"text" validate:"required" minLength:"1" maxLength:"5000" extensions:"x-pattern=notBlank" example:"Hi {{contact.first_name}}, your refund is on its way. {{agent.name}}"`
} // @name CreateCannedResponseRequest

func (r createCannedRequest) fields() canned.Fields {
	return canned.Fields{Shortcut: &r.Shortcut, Title: &r.Title, Text: &r.Text}
}

// updateCannedRequest changes a canned response; absent fields stay.
type updateCannedRequest struct {
	Shortcut *string `json:"shortcut" minLength:"1" maxLength:"50" extensions:"x-pattern=^\\s*\\S+\\s*$" example:"refund"`
	Title    *string `json:"title" minLength:"1" maxLength:"200" extensions:"x-pattern=notBlank" example:"Refund on its way"`
	Text     *string `json:"text" minLength:"1" maxLength:"5000" extensions:"x-pattern=notBlank" example:"Hi {{contact.first_name}}, your refund is on its way."`
} // @name UpdateCannedResponseRequest

func (r updateCannedRequest) fields() canned.Fields {
	return canned.Fields{Shortcut: r.Shortcut, Title: r.Title, Text: r.Text}
}

// renderCannedRequest names the conversation a canned response is rendered for.
type renderCannedRequest struct {
	// ConversationID is a conversation of this workspace. Required.
	ConversationID string `json:"conversation_id" validate:"required" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52"`
} // @name RenderCannedResponseRequest

// list godoc
// @Summary     List canned responses
// @ID          listCannedResponses
// @Description The workspace's canned responses by shortcut, without regard to case. q keeps those whose shortcut or title starts with it, without regard to case (what an agent typed after "/").
// @Tags        canned-responses
// @Produce     json
// @Security    BearerAuth
// @Param       q      query string false "Prefix of the shortcut or the title" maxlength(50)
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} resource.CannedResponseList
// @Failure     400 {object} Problem "invalid_parameter, invalid_cursor"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     422 {object} Problem "validation_failed (q too long)"
// @Router      /v1/canned-responses [get]
func (h *cannedHandler) list(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	rs, next, err := h.canned.List(c.Request().Context(), principal(c).WorkspaceID, c.QueryParam("q"), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.CannedResponseList{Data: each(rs, resource.ToCannedResponse), NextCursor: nextCursor(next)})
}

// create godoc
// @Summary     Create a canned response
// @ID          createCannedResponse
// @Description Adds a canned response. A shortcut the workspace already has, in any case, answers 409 canned_shortcut_taken with existing_id. Owners, managers and admin keys.
// @Tags        canned-responses
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body createCannedRequest true "Canned response"
// @Success     201 {object} resource.CannedResponse
// @Header      201 {string} Location "The canned response's URL"
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     409 {object} Problem "canned_shortcut_taken"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/canned-responses [post]
func (h *cannedHandler) create(c echo.Context) error {
	var req createCannedRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	r, err := h.canned.Create(c.Request().Context(), principal(c).WorkspaceID, req.fields())
	if err != nil {
		return err
	}
	return created(c, "/v1/canned-responses/"+r.ID.String(), resource.ToCannedResponse(r))
}

// get godoc
// @Summary     Get a canned response
// @ID          getCannedResponse
// @Description One canned response, its text as written.
// @Tags        canned-responses
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Canned response id"
// @Success     200 {object} resource.CannedResponse
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "canned_response_not_found"
// @Router      /v1/canned-responses/{id} [get]
func (h *cannedHandler) get(c echo.Context) error {
	return getByID(c, canned.ErrNotFound, h.canned.Get, resource.ToCannedResponse)
}

// update godoc
// @Summary     Update a canned response
// @ID          updateCannedResponse
// @Description Changes a canned response; absent fields stay. A shortcut another has, in any case, answers 409 canned_shortcut_taken with existing_id. Owners, managers and admin keys.
// @Tags        canned-responses
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string              true "Canned response id"
// @Param       body body updateCannedRequest true "Changes"
// @Success     200 {object} resource.CannedResponse
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "canned_response_not_found"
// @Failure     409 {object} Problem "canned_shortcut_taken"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/canned-responses/{id} [patch]
func (h *cannedHandler) update(c echo.Context) error {
	return updateByID[updateCannedRequest](c, canned.ErrNotFound, h.canned.Update, resource.ToCannedResponse)
}

// delete godoc
// @Summary     Delete a canned response
// @ID          deleteCannedResponse
// @Description Deletes a canned response. Owners, managers and admin keys.
// @Tags        canned-responses
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Canned response id"
// @Success     204
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "canned_response_not_found"
// @Router      /v1/canned-responses/{id} [delete]
func (h *cannedHandler) delete(c echo.Context) error {
	return deleteByID(c, canned.ErrNotFound, h.canned.Delete)
}

// render godoc
// @Summary     Render a canned response
// @ID          renderCannedResponse
// @Description The canned response's text for a conversation of this workspace, with {{contact.first_name}} and {{contact.last_name}} (the conversation's contact) and {{agent.name}} (the calling user's name; empty for an API key, which is no person) filled in. Spaces inside the braces are allowed; any other {{...}} stays as written. Nothing is sent: the agent edits the text and sends it.
// @Tags        canned-responses
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string              true "Canned response id"
// @Param       body body renderCannedRequest true "Conversation"
// @Success     200 {object} resource.RenderedCannedResponse
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "canned_response_not_found, conversation_not_found"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/canned-responses/{id}/render [post]
func (h *cannedHandler) render(c echo.Context) error {
	var req renderCannedRequest
	id, err := bindByID(c, canned.ErrNotFound, &req)
	if err != nil {
		return err
	}
	conv, err := uuidField("conversation_id", req.ConversationID)
	if err != nil {
		return err
	}
	text, err := h.canned.Render(c.Request().Context(), principal(c).WorkspaceID, id, conv, reader(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.RenderedCannedResponse{Text: text})
}
