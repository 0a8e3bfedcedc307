package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/resource"
	"github.com/switchboard/switchboard/pkg/template"
)

type templateHandler struct {
	templates *template.Service
}

type templateButtonRequest struct {
	Type string `json:"type" validate:"required" enums:"quick_reply,url,phone_number" example:"url"`
	// Text is 1 to 25 characters.
	Text string `json:"text" validate:"required" minLength:"1" maxLength:"25" extensions:"x-pattern=notBlank" example:"Track order"`
	// Value is an http(s) URL for url, a phone number for phone_number, absent for quick_reply.
	Value string `json:"value" example:"https://example.com/track"`
} // @name TemplateButtonRequest

// templateRequest patches a template: an absent field stays as it is; an empty header or
// footer clears it, and buttons replaces the whole list.
type templateRequest struct {
	// Name is 1 to 512 characters of a-z, 0-9 and _.
	Name *string `json:"name" extensions:"x-pattern=^(\\s*[a-z0-9_]{1,512}\\s*)$" example:"order_update"`
	// Language is a language code: en, en_US, pt-BR.
	Language *string `json:"language" extensions:"x-pattern=^(\\s*[a-z]{2,3}([_-][A-Za-z0-9]{2,8})*\\s*)$" example:"en_US"`
	Category *string `json:"category" enums:"marketing,utility,authentication" example:"utility"`
	// Status mirrors the platform's review of the template; only approved ones can be sent.
	Status *string `json:"status" enums:"approved,pending,rejected,paused" example:"approved"`
	// Body is 1 to 1024 characters with placeholders numbered {{1}} to {{n}} without gaps.
	Body *string `json:"body" minLength:"1" maxLength:"1024" extensions:"x-pattern=notBlank" example:"Hi {{1}}, your order {{2}} has shipped."`
	// Header is at most 60 characters.
	Header *string `json:"header" maxLength:"60" example:"Order update"`
	// Footer is at most 60 characters.
	Footer *string `json:"footer" maxLength:"60" example:"Reply STOP to opt out"`
	// Buttons are at most 10.
	Buttons *[]templateButtonRequest `json:"buttons" validate:"max=10"`
} // @name TemplateRequest

// createTemplateRequest is templateRequest with what a new template must have required: the
// same fields (it converts to templateRequest), other tags.
type createTemplateRequest struct {
	// Name is 1 to 512 characters of a-z, 0-9 and _.
	Name *string `json:"name" validate:"required" extensions:"x-pattern=^(\\s*[a-z0-9_]{1,512}\\s*)$" example:"order_update"`
	// Language is a language code: en, en_US, pt-BR.
	Language *string `json:"language" validate:"required" extensions:"x-pattern=^(\\s*[a-z]{2,3}([_-][A-Za-z0-9]{2,8})*\\s*)$" example:"en_US"`
	Category *string `json:"category" validate:"required" enums:"marketing,utility,authentication" example:"utility"`
	// Status mirrors the platform's review of the template; only approved ones can be sent.
	Status *string `json:"status" validate:"required" enums:"approved,pending,rejected,paused" example:"approved"`
	// Body is 1 to 1024 characters with placeholders numbered {{1}} to {{n}} without gaps.
	Body *string `json:"body" validate:"required" minLength:"1" maxLength:"1024" extensions:"x-pattern=notBlank" example:"Hi {{1}}, your order {{2}} has shipped."`
	// Header is at most 60 characters.
	Header *string `json:"header" maxLength:"60" example:"Order update"`
	// Footer is at most 60 characters.
	Footer *string `json:"footer" maxLength:"60" example:"Reply STOP to opt out"`
	// Buttons are at most 10.
	Buttons *[]templateButtonRequest `json:"buttons" validate:"max=10"`
} // @name CreateTemplateRequest

func (r templateRequest) fields() template.Fields {
	f := template.Fields{Name: r.Name, Language: r.Language, Category: r.Category, Status: r.Status,
		Body: r.Body, Header: r.Header, Footer: r.Footer}
	if r.Buttons != nil {
		bs := make([]template.Button, len(*r.Buttons))
		for i, b := range *r.Buttons {
			bs[i] = template.Button{Type: b.Type, Text: b.Text, Value: b.Value}
		}
		f.Buttons = &bs
	}
	return f
}

// list godoc
// @Summary     List a channel's templates
// @ID          listTemplates
// @Description The channel's templates by name, then language. Archived channels keep theirs readable. Agents read templates to pick one for a send.
// @Tags        templates
// @Produce     json
// @Security    BearerAuth
// @Param       id     path  string true  "Channel id"
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} resource.TemplateList
// @Failure     400 {object} Problem "invalid_parameter, invalid_cursor"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "channel_not_found"
// @Router      /v1/channels/{id}/templates [get]
func (h *templateHandler) list(c echo.Context) error {
	data, next, err := listPageByID(c, channel.ErrNotFound, h.templates.List, resource.ToTemplate)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.TemplateList{Data: data, NextCursor: next})
}

// create godoc
// @Summary     Add a template to a channel
// @ID          createTemplate
// @Description Registers a channel's pre-approved message. name, language, category, status and body are required; the body's placeholders must be numbered {{1}} to {{n}} without gaps. Any channel may hold templates; the rule table decides where one is required. A name and language the channel already has answers 409 template_exists with existing_id; an archived channel 409 channel_archived. Owners, managers and admin keys.
// @Tags        templates
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string          true "Channel id"
// @Param       body body createTemplateRequest true "Template"
// @Success     201 {object} resource.Template
// @Header      201 {string} Location "The template's address: /v1/templates/{id}"
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "channel_not_found"
// @Failure     409 {object} Problem "template_exists, channel_archived"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/channels/{id}/templates [post]
func (h *templateHandler) create(c echo.Context) error {
	var req createTemplateRequest
	id, err := bindByID(c, channel.ErrNotFound, &req)
	if err != nil {
		return err
	}
	t, err := h.templates.Create(c.Request().Context(), principal(c).WorkspaceID, id, templateRequest(req).fields())
	if err != nil {
		return err
	}
	return created(c, "/v1/templates/"+t.ID.String(), resource.ToTemplate(t))
}

// get godoc
// @Summary     Get a template
// @ID          getTemplate
// @Description One template, with the number of variables a send must supply.
// @Tags        templates
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Template id"
// @Success     200 {object} resource.Template
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "template_not_found"
// @Router      /v1/templates/{id} [get]
func (h *templateHandler) get(c echo.Context) error {
	return getByID(c, template.ErrNotFound, h.templates.Get, resource.ToTemplate)
}

// update godoc
// @Summary     Update a template
// @ID          updateTemplate
// @Description Changes any field, e.g. status as the platform reviews the template (approved → paused). Absent fields stay; an empty header or footer clears it; buttons replaces the list. A name and language another template of the channel has answers 409 template_exists with existing_id. Owners, managers and admin keys.
// @Tags        templates
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string          true "Template id"
// @Param       body body templateRequest true "Changes"
// @Success     200 {object} resource.Template
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "template_not_found"
// @Failure     409 {object} Problem "template_exists"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/templates/{id} [patch]
func (h *templateHandler) update(c echo.Context) error {
	return updateByID[templateRequest](c, template.ErrNotFound, h.templates.Update, resource.ToTemplate)
}

// delete godoc
// @Summary     Delete a template
// @ID          deleteTemplate
// @Description Removes the template. Messages already sent with it keep their rendered text. Owners, managers and admin keys.
// @Tags        templates
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Template id"
// @Success     204
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "template_not_found"
// @Router      /v1/templates/{id} [delete]
func (h *templateHandler) delete(c echo.Context) error {
	return deleteByID(c, template.ErrNotFound, h.templates.Delete)
}
