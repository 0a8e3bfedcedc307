package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/resource"
)

type inboundHandler struct {
	conversations *conversation.Service
}

// attachmentRequest is one file of a message: stored media (media_id, from POST /v1/media) or
// a link (url with its mime_type), never both.
type attachmentRequest struct {
	// MediaID is a file uploaded with POST /v1/media; its type and size are the stored ones.
	MediaID *string `json:"media_id" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f80"`
	// URL is an absolute http(s) URL.
	URL      string `json:"url" minLength:"1" maxLength:"2000" extensions:"x-pattern=url" example:"https://example.com/photo.jpg"`
	MimeType string `json:"mime_type" minLength:"3" maxLength:"255" extensions:"x-pattern=^\\s*[!#$%&'*+.^_\\x60|~0-9A-Za-z-]+/[!#$%&'*+.^_\\x60|~0-9A-Za-z-]+\\s*$" example:"image/jpeg"`
	// Filename is shown to the customer where the channel shows one; a stored file's own name by default.
	Filename string `json:"filename" maxLength:"255" example:"photo.jpg"`
} // @name AttachmentRequest

// attachments turns a request's attachments into the domain's.
func attachments(in []attachmentRequest) ([]conversation.Attachment, error) {
	if in == nil {
		return nil, nil
	}
	out := make([]conversation.Attachment, len(in))
	for i, a := range in {
		out[i] = conversation.Attachment{URL: a.URL, MimeType: a.MimeType, Filename: a.Filename}
		if a.MediaID != nil {
			id, err := uuidField(fmt.Sprintf("attachments[%d].media_id", i), *a.MediaID)
			if err != nil {
				return nil, err
			}
			out[i].MediaID = &id
		}
	}
	return out, nil
}

// inboundContactRequest fills a contact created for a new identity; it is ignored when the
// contact already exists.
type inboundContactRequest struct {
	FirstName *string `json:"first_name" maxLength:"200" example:"Maria"`
	LastName  *string `json:"last_name" maxLength:"200" example:"Gonzalez"`
	Email     *string `json:"email" maxLength:"254" extensions:"x-pattern=^\\s*([A-Za-z0-9!#$%&'*+/=?^_\\x60{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_\\x60{|}~-]+)*@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z0-9-]+)?\\s*$" example:"maria@example.com"`
	// Phone is international, or national to the workspace's default_phone_region; stored as E.164.
	Phone *string `json:"phone" maxLength:"64" format:"phone" extensions:"x-pattern=phone" example:"+12025550123"`
} // @name InboundContactRequest

type inboundRequest struct {
	// Identifier is the customer's address on the channel, normalised like identities.
	Identifier string `json:"identifier" validate:"required" minLength:"1" maxLength:"256" extensions:"x-pattern=^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\t\\n\\x0b\\f\\r \\x85\\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\\x00-\\x1f\\x7f-\\x9f]*$" example:"+1 202 555 0123"`
	// Text is required unless attachments are given (then it is their caption).
	Text string `json:"text" maxLength:"20000" example:"Hi, my order hasn't arrived yet"`
	// Attachments are 1 to 10 files: links, or media uploaded with POST /v1/media.
	Attachments []attachmentRequest `json:"attachments" validate:"min=1,max=10"`
	// ReceivedAt defaults to now and must not be in the future (RFC 3339).
	ReceivedAt *string                `json:"received_at" format:"date-time" extensions:"x-from-now=notLate" example:"2026-11-29T08:00:00Z"`
	Contact    *inboundContactRequest `json:"contact"`
	// ExternalID is the sender's message id: the same id on the same channel is ingested once.
	ExternalID *string `json:"external_id" maxLength:"256" example:"wamid.HBgLMTIwMjU1NTAxMjM"`
} // @name InboundMessageRequest

// ingest godoc
// @Summary     Ingest a customer's message
// @ID          ingestInboundMessage
// @Description For custom channels, bridges and tests. Finds the contact by the identity (or, for a new identity, by its phone or email, or by contact.phone / contact.email), creates contact and identity when new, stores the message, moves the identity's last_inbound_at forward (never backward: a late delivery of an older message does not restart the window), and reopens a closed conversation (event reopened, actor contact). The same external_id on the same channel again answers 200 with the stored message and the contact and conversation, writing nothing. An archived channel answers 409 channel_archived; a future received_at 422.
// @Tags        channels
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string         true "Channel id"
// @Param       body body inboundRequest true "Message"
// @Success     201 {object} resource.InboundResult
// @Success     200 {object} resource.InboundResult "external_id already ingested: nothing written"
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "channel_not_found"
// @Failure     409 {object} Problem "channel_archived"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/channels/{id}/inbound [post]
func (h *inboundHandler) ingest(c echo.Context) error {
	id, err := pathID(c, channel.ErrNotFound)
	if err != nil {
		return err
	}
	var req inboundRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	in := conversation.InboundMessage{Identifier: req.Identifier, Text: req.Text, ExternalID: req.ExternalID}
	if in.Attachments, err = attachments(req.Attachments); err != nil {
		return err
	}
	if req.ReceivedAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *req.ReceivedAt)
		if err != nil {
			return errkind.Invalid(errkind.Field{Field: "received_at", Message: "must be an RFC 3339 time such as 2026-11-29T08:00:00Z"})
		}
		in.ReceivedAt = &t
	}
	if ct := req.Contact; ct != nil {
		in.Contact = contact.Fields{FirstName: ct.FirstName, LastName: ct.LastName, Email: ct.Email, Phone: ct.Phone}
	}
	out, replayed, err := h.conversations.Ingest(c.Request().Context(), principal(c).WorkspaceID, id, in)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
	}
	p := principal(c)
	res := resource.ToInboundResult(out)
	res.Conversation = conversationFor(p, res.Conversation)
	if !seesContacts(p) {
		// The bridge that posts messages needs no contact's details beyond its id.
		hideReach(&res.Contact)
	}
	return c.JSON(status, res)
}
