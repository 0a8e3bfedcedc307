package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/contact"
)

type contactHandler struct {
	contacts *contact.Service
}

type conversationRef struct {
	ID     string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52"`
	Status string `json:"status" enums:"open,closed" example:"open"`
} // @name ConversationRef

type contactResponse struct {
	ID        string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f53"`
	FirstName string `json:"first_name" example:"Maria"`
	LastName  string `json:"last_name" example:"Gonzalez"`
	// Email, Phone, Language, Country, Tags and CustomFields are null where the contact is
	// embedded in an answer to a caller without the contacts:read scope (an inbound answer).
	Email        *string         `json:"email" extensions:"x-nullable" example:"maria@example.com"`
	Phone        *string         `json:"phone" extensions:"x-nullable" example:"+12025550123"`
	Language     *string         `json:"language" extensions:"x-nullable" example:"es"`
	Country      *string         `json:"country" extensions:"x-nullable" example:"MX"`
	Tags         []string        `json:"tags" extensions:"x-nullable" example:"vip,newsletter"`
	CustomFields map[string]any  `json:"custom_fields" extensions:"x-nullable"`
	Conversation conversationRef `json:"conversation"`
	CreatedAt    time.Time       `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt    time.Time       `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Contact

type contactList struct {
	Data       []contactResponse `json:"data"`
	NextCursor *string           `json:"next_cursor" extensions:"x-nullable" example:"eyJpZCI6IjAxOTNhNWIwIn0"`
} // @name ContactList

// contactRequest creates or patches a contact. In a patch an absent field stays as it is and
// an empty email or phone clears it.
type contactRequest struct {
	FirstName *string `json:"first_name" example:"Maria"`
	LastName  *string `json:"last_name" example:"Gonzalez"`
	// Email is trimmed and lower-cased.
	Email *string `json:"email" example:"Maria@Example.com"`
	// Phone is international, or national to the workspace's default_phone_region; stored as E.164.
	Phone    *string   `json:"phone" example:"(202) 555-0123"`
	Language *string   `json:"language" example:"es"`
	Country  *string   `json:"country" example:"MX"`
	Tags     *[]string `json:"tags" example:"vip"`
	// CustomFields is free-form JSON, at most 8 levels of objects and arrays deep and 16 KiB
	// encoded.
	CustomFields *map[string]any `json:"custom_fields"`
} // @name ContactRequest

func (r contactRequest) fields() contact.Fields {
	return contact.Fields{FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, Phone: r.Phone,
		Language: r.Language, Country: r.Country, Tags: r.Tags, CustomFields: r.CustomFields}
}

func toContactResponse(c contact.Contact) contactResponse {
	tags := c.Tags
	if tags == nil {
		tags = []string{}
	}
	cf := c.CustomFields
	if cf == nil {
		cf = map[string]any{}
	}
	return contactResponse{ID: c.ID.String(), FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone,
		Language: &c.Language, Country: &c.Country, Tags: tags, CustomFields: cf, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Conversation: conversationRef{ID: c.Conversation.ID.String(), Status: c.Conversation.Status}}
}

// list godoc
// @Summary     List and search contacts
// @Description Newest first. `q` matches a fragment of the first name, last name, "first last", email, or the phone's digits (so `5550 123` and `+1 (202)` both match by digits), case-insensitive.
// @Tags        contacts
// @Produce     json
// @Security    BearerAuth
// @Param       q      query string false "Search fragment"
// @Param       tag    query string false "Only contacts with this tag"
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} contactList
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     422 {object} Problem
// @Router      /v1/contacts [get]
func (h *contactHandler) list(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	f := contact.Filter{Q: c.QueryParam("q"), Tag: c.QueryParam("tag")}
	cs, next, err := h.contacts.List(c.Request().Context(), principal(c).WorkspaceID, f, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, contactList{Data: each(cs, toContactResponse), NextCursor: nextCursor(next)})
}

// create godoc
// @Summary     Create a contact
// @Description Creates a contact with its (open) conversation. Email and phone are unique in the workspace: a duplicate answers 409 contact_exists with existing_id.
// @Tags        contacts
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body contactRequest true "Contact"
// @Success     201 {object} contactResponse
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     409 {object} Problem "contact_exists"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem
// @Router      /v1/contacts [post]
func (h *contactHandler) create(c echo.Context) error {
	var req contactRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ct, err := h.contacts.Create(c.Request().Context(), principal(c).WorkspaceID, req.fields())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toContactResponse(ct))
}

// get godoc
// @Summary     Get a contact
// @Tags        contacts
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Contact id"
// @Success     200 {object} contactResponse
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem
// @Router      /v1/contacts/{id} [get]
func (h *contactHandler) get(c echo.Context) error {
	return getByID(c, contact.ErrNotFound, h.contacts.Get, toContactResponse)
}

// update godoc
// @Summary     Update a contact
// @Description Absent fields stay as they are; an empty email or phone clears it.
// @Tags        contacts
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string         true "Contact id"
// @Param       body body contactRequest true "Changes"
// @Success     200 {object} contactResponse
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem
// @Failure     409 {object} Problem "contact_exists"
// @Failure     422 {object} Problem
// @Router      /v1/contacts/{id} [patch]
func (h *contactHandler) update(c echo.Context) error {
	return updateByID[contactRequest](c, contact.ErrNotFound, h.contacts.Update, toContactResponse)
}

// delete godoc
// @Summary     Delete a contact
// @Description Deletes the contact with its conversation and messages.
// @Tags        contacts
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Contact id"
// @Success     204
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem
// @Router      /v1/contacts/{id} [delete]
func (h *contactHandler) delete(c echo.Context) error {
	return deleteByID(c, contact.ErrNotFound, h.contacts.Delete)
}
