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
// @Param       q      query string false "Fragment of the name or email; or, when it is only digits and phone punctuation (spaces, + - ( ) . /), of the phone digits, at least 4 of them (fewer: 422 search_too_short)" maxlength(200)
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

// mergeContactRequest names the contact merged into {id}.
type mergeContactRequest struct {
	// FromContactID is another contact of this workspace; it is deleted once merged. Required.
	FromContactID string `json:"from_contact_id" validate:"required" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f54"`
} // @name MergeContactRequest

// merge godoc
// @Summary     Merge a contact into this one
// @ID          mergeContact
// @Description Merges from_contact_id into {id}, which survives, in one transaction: the other contact's identities, messages, notes, conversation lifecycle, labels (united), read state (per user the later last_read_at, and what they had read in either conversation stays read), mentions, scheduled messages and media move to the survivor, and the two conversations become the survivor's one: every message in time order; open if either was open, else snoozed if either was (the earlier wake-up), else closed; the assignee is the most recently assigned of an open one; the survivor's team, else the other's; last message, unread counts and the reply window recomputed over the united thread and identities. Tags are united; the survivor's names, email, phone, language, country and custom fields win, the other's are kept where the survivor has none. Broadcast recipients stay as recorded. The other contact is deleted: it answers 404 afterwards, in contact search and the inbox too, and contact.merged {survivor_id, merged_id} is published. Repeating a merge answers the same (200 with the survivor). Lock order, so that merges, inbound messages and sends cannot deadlock: both contacts' rows in id order, then both conversations' rows in id order, then identities, then the workspace's event lock; an inbound message to the other contact during the merge lands in the survivor's conversation. from_contact_id equal to {id}, of another workspace or unknown is 422 on from_contact_id. Needs contacts:write.
// @Tags        contacts
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string              true "Contact id (the survivor)"
// @Param       body body mergeContactRequest true "Contact to merge"
// @Success     200 {object} resource.Contact
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "contact_not_found"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/contacts/{id}/merge [post]
func (h *contactHandler) merge(c echo.Context) error {
	var req mergeContactRequest
	id, err := bindByID(c, contact.ErrNotFound, &req)
	if err != nil {
		return err
	}
	from, err := uuidField("from_contact_id", req.FromContactID)
	if err != nil {
		return err
	}
	ct, err := h.contacts.Merge(c.Request().Context(), principal(c).WorkspaceID, id, from)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToContact(ct))
}
