package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/resource"
)

type contactHandler struct {
	contacts *contact.Service
}

// contactRequest creates or patches a contact. In a patch an absent field stays as it is and
// an empty email or phone clears it.
type contactRequest struct {
	FirstName *string `json:"first_name" maxLength:"200" example:"Maria"`
	LastName  *string `json:"last_name" maxLength:"200" example:"Gonzalez"`
	// Email is trimmed and lower-cased.
	Email *string `json:"email" maxLength:"254" extensions:"x-pattern=^\\s*([A-Za-z0-9!#$%&'*+/=?^_\\x60{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_\\x60{|}~-]+)*@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z0-9-]+)?\\s*$" example:"Maria@Example.com"`
	// Phone is international, or national to the workspace's default_phone_region; stored as
	// E.164. Its format, phone, is a number libphonenumber finds possible for its country.
	Phone *string `json:"phone" maxLength:"64" format:"phone" extensions:"x-pattern=phone" example:"(202) 555-0123"`
	// Language is a BCP 47 tag (or empty).
	Language *string `json:"language" maxLength:"35" extensions:"x-pattern=^\\s*([A-Za-z]{2,3}([_-][A-Za-z0-9]{1,8})*)?\\s*$" example:"es"`
	// Country is an ISO 3166-1 alpha-2 code (or empty).
	Country *string `json:"country" extensions:"x-pattern=^\\s*([A-Za-z]{2})?\\s*$" example:"MX"`
	// Tags are at most 50 distinct tags of 1 to 64 characters.
	Tags *[]string `json:"tags" validate:"max=50" minLength:"1" maxLength:"64" extensions:"x-pattern=notBlank" example:"vip"`
	// CustomFields is free-form JSON, at most 8 levels of objects and arrays deep and 16 KiB
	// encoded.
	CustomFields *map[string]any `json:"custom_fields"`
} // @name ContactRequest

func (r contactRequest) fields() contact.Fields {
	return contact.Fields{FirstName: r.FirstName, LastName: r.LastName, Email: r.Email, Phone: r.Phone,
		Language: r.Language, Country: r.Country, Tags: r.Tags, CustomFields: r.CustomFields}
}

// list godoc
// @Summary     List and search contacts
// @ID          listContacts
// @Description Newest first. `q` matches a fragment of the first name, last name, "first last", email, or the phone's digits (so `5550 123` and `+1 (202)` both match by digits), case-insensitive.
// @Tags        contacts
// @Produce     json
// @Security    BearerAuth
// @Param       q      query string false "Search fragment" maxlength(200)
// @Param       tag    query string false "Only contacts with this tag"
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} resource.ContactList
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
	return c.JSON(http.StatusOK, resource.ContactList{Data: each(cs, resource.ToContact), NextCursor: nextCursor(next)})
}

// create godoc
// @Summary     Create a contact
// @ID          createContact
// @Description Creates a contact with its (open) conversation. Email and phone are unique in the workspace: a duplicate answers 409 contact_exists with existing_id.
// @Tags        contacts
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body contactRequest true "Contact"
// @Success     201 {object} resource.Contact
// @Header      201 {string} Location "The contact's address: /v1/contacts/{id}"
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
	return created(c, "/v1/contacts/"+ct.ID.String(), resource.ToContact(ct))
}

// get godoc
// @Summary     Get a contact
// @ID          getContact
// @Tags        contacts
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Contact id"
// @Success     200 {object} resource.Contact
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem
// @Router      /v1/contacts/{id} [get]
func (h *contactHandler) get(c echo.Context) error {
	return getByID(c, contact.ErrNotFound, h.contacts.Get, resource.ToContact)
}

// update godoc
// @Summary     Update a contact
// @ID          updateContact
// @Description Absent fields stay as they are; an empty email or phone clears it.
// @Tags        contacts
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string         true "Contact id"
// @Param       body body contactRequest true "Changes"
// @Success     200 {object} resource.Contact
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem
// @Failure     409 {object} Problem "contact_exists"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem
// @Router      /v1/contacts/{id} [patch]
func (h *contactHandler) update(c echo.Context) error {
	return updateByID[contactRequest](c, contact.ErrNotFound, h.contacts.Update, resource.ToContact)
}

// delete godoc
// @Summary     Delete a contact
// @ID          deleteContact
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
