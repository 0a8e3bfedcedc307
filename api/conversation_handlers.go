package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/workspace"
)

type conversationHandler struct {
	conversations *conversation.Service
}

type actorResponse struct {
	Kind string `json:"kind" enums:"user,api_key,contact,system" example:"user"`
	// ID is the user's, API key's or contact's id; null for the system.
	ID *string `json:"id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
} // @name Actor

// conversationContact is the contact embedded in a conversation.
type conversationContact struct {
	ID        string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f53"`
	FirstName string `json:"first_name" example:"Maria"`
	LastName  string `json:"last_name" example:"Gonzalez"`
	// Email and Phone are null when the contact has none, and always for a caller without
	// the contacts:read scope.
	Email *string `json:"email" extensions:"x-nullable" example:"maria@example.com"`
	Phone *string `json:"phone" extensions:"x-nullable" example:"+12025550123"`
} // @name ConversationContact

type assigneeResponse struct {
	ID    string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	Name  string `json:"name" example:"Ana Silva"`
	Email string `json:"email" example:"ana@example.com"`
} // @name Assignee

type messagePreview struct {
	ID        string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f70"`
	ChannelID string `json:"channel_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	Direction string `json:"direction" enums:"incoming,outgoing" example:"incoming"`
	Type      string `json:"type" enums:"text,template,attachment" example:"text"`
	// Text is the first 200 characters of the message.
	Text      string    `json:"text" example:"Hi, my order hasn't arrived yet"`
	CreatedAt time.Time `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name MessagePreview

type closingNote struct {
	Category *string       `json:"category" extensions:"x-nullable" example:"resolved"`
	Summary  *string       `json:"summary" extensions:"x-nullable" example:"Refund issued"`
	ClosedAt time.Time     `json:"closed_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	ClosedBy actorResponse `json:"closed_by"`
} // @name ClosingNote

type conversationResponse struct {
	ID      string              `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52"`
	Status  string              `json:"status" enums:"open,closed" example:"open"`
	Contact conversationContact `json:"contact"`
	// Assignee is the user working the conversation, or null.
	Assignee *assigneeResponse `json:"assignee" extensions:"x-nullable"`
	// LastMessage previews the latest message, or null before the first one.
	LastMessage *messagePreview `json:"last_message" extensions:"x-nullable"`
	// ClosingNote is the latest closing note; it stays after a reopen. Null if never closed.
	ClosingNote *closingNote `json:"closing_note" extensions:"x-nullable"`
	CreatedAt   time.Time    `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt   time.Time    `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	// ClosedAt is set while the conversation is closed.
	ClosedAt *time.Time `json:"closed_at" extensions:"x-nullable" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Conversation

type conversationList struct {
	Data       []conversationResponse `json:"data"`
	NextCursor *string                `json:"next_cursor" extensions:"x-nullable"`
} // @name ConversationList

type attachmentResponse struct {
	URL      string `json:"url" example:"https://example.com/photo.jpg"`
	MimeType string `json:"mime_type" example:"image/jpeg"`
	Filename string `json:"filename" example:"photo.jpg"`
} // @name Attachment

type templateRefResponse struct {
	Name      string   `json:"name" example:"order_update"`
	Language  string   `json:"language" example:"en_US"`
	Variables []string `json:"variables" example:"Maria,#1234"`
} // @name MessageTemplate

type messageError struct {
	Code    string `json:"code" example:"provider_rejected"`
	Message string `json:"message" example:"Recipient phone number not on WhatsApp"`
} // @name MessageError

type messageResponse struct {
	ID             string  `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f70"`
	ConversationID string  `json:"conversation_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52"`
	ContactID      string  `json:"contact_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f53"`
	ChannelID      string  `json:"channel_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	IdentityID     *string `json:"identity_id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f61"`
	Direction      string  `json:"direction" enums:"incoming,outgoing" example:"incoming"`
	Type           string  `json:"type" enums:"text,template,attachment" example:"text"`
	Text           string  `json:"text" example:"Hi, my order hasn't arrived yet"`
	// Attachment is the file of an attachment message (text is then its caption).
	Attachment *attachmentResponse `json:"attachment" extensions:"x-nullable"`
	// Template names the template an outgoing template message was rendered from.
	Template *templateRefResponse `json:"template" extensions:"x-nullable"`
	// Tag is the message tag an outgoing message was sent with (e.g. HUMAN_AGENT).
	Tag    *string       `json:"tag" extensions:"x-nullable" example:"HUMAN_AGENT"`
	Sender actorResponse `json:"sender"`
	// Status is received for incoming messages; outgoing ones move queued, sent, delivered, read, or failed.
	Status            string  `json:"status" enums:"received,queued,sent,delivered,read,failed" example:"received"`
	Billable          bool    `json:"billable" example:"false"`
	ProviderMessageID *string `json:"provider_message_id" extensions:"x-nullable" example:"wamid.HBgLMTIwMjU1NTAxMjM"`
	// ExternalID is the sender's id of an ingested message (dedupe key per channel).
	ExternalID *string       `json:"external_id" extensions:"x-nullable" example:"wamid.HBgLMTIwMjU1NTAxMjM"`
	Error      *messageError `json:"error" extensions:"x-nullable"`
	// Attempts counts the dispatcher's calls to the provider (0 for incoming messages and
	// outgoing ones not tried yet); LastAttemptAt is when the latest began.
	Attempts      int        `json:"attempts" example:"1"`
	LastAttemptAt *time.Time `json:"last_attempt_at" format:"date-time" extensions:"x-nullable" example:"2026-11-29T08:00:01Z"`
	// CreatedAt is when the message happened: received (incoming) or created (outgoing).
	CreatedAt time.Time `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt time.Time `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Message

type messageList struct {
	Data       []messageResponse `json:"data"`
	NextCursor *string           `json:"next_cursor" extensions:"x-nullable"`
} // @name MessageList

type eventResponse struct {
	ID    string        `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f80"`
	Type  string        `json:"type" enums:"opened,closed,reopened,assigned,unassigned" example:"closed"`
	Actor actorResponse `json:"actor"`
	// AssigneeID is the user assigned (assigned) or unassigned (unassigned).
	AssigneeID *string `json:"assignee_id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	// Category and Summary are the closing note of a closed event.
	Category *string   `json:"category" extensions:"x-nullable" example:"resolved"`
	Summary  *string   `json:"summary" extensions:"x-nullable" example:"Refund issued"`
	At       time.Time `json:"at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name ConversationEvent

type eventList struct {
	Data       []eventResponse `json:"data"`
	NextCursor *string         `json:"next_cursor" extensions:"x-nullable"`
} // @name ConversationEventList

type closeConversationRequest struct {
	// Category must be one of the workspace's closing_note_categories when any are set, and is
	// required when closing_note_required.
	Category *string `json:"category" example:"resolved"`
	Summary  *string `json:"summary" example:"Refund issued; customer happy"`
} // @name CloseConversationRequest

type reopenConversationRequest struct {
	// OnBehalfOf (API keys only) names the user the key acts for: the conversation is assigned
	// to them and the events name them.
	OnBehalfOf *string `json:"on_behalf_of" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
} // @name ReopenConversationRequest

type assignConversationRequest struct {
	// UserID is a user of this workspace, or null to unassign. Required.
	UserID json.RawMessage `json:"user_id" swaggertype:"string" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
} // @name AssignConversationRequest

func idString(id uuid.UUID) *string {
	if id == uuid.Nil {
		return nil
	}
	s := id.String()
	return &s
}

func optID(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	return idString(*id)
}

func toActor(a conversation.Actor) actorResponse {
	return actorResponse{Kind: string(a.Kind), ID: idString(a.ID)}
}

func toConversationResponse(v conversation.Conversation) conversationResponse {
	out := conversationResponse{ID: v.ID.String(), Status: string(v.Status),
		Contact: conversationContact{ID: v.Contact.ID.String(), FirstName: v.Contact.FirstName, LastName: v.Contact.LastName,
			Email: v.Contact.Email, Phone: v.Contact.Phone},
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, ClosedAt: v.ClosedAt}
	if a := v.Assignee; a != nil {
		out.Assignee = &assigneeResponse{ID: a.ID.String(), Name: a.Name, Email: a.Email}
	}
	if m := v.LastMessage; m != nil {
		out.LastMessage = &messagePreview{ID: m.ID.String(), ChannelID: m.ChannelID.String(), Direction: string(m.Direction),
			Type: string(m.Type), Text: m.Text, CreatedAt: m.At}
	}
	if n := v.ClosingNote; n != nil {
		out.ClosingNote = &closingNote{Category: n.Category, Summary: n.Summary, ClosedAt: n.ClosedAt, ClosedBy: toActor(n.ClosedBy)}
	}
	return out
}

func toMessageResponse(m conversation.Message) messageResponse {
	out := messageResponse{ID: m.ID.String(), ConversationID: m.ConversationID.String(), ContactID: m.ContactID.String(),
		ChannelID: m.ChannelID.String(), IdentityID: optID(m.IdentityID), Direction: string(m.Direction), Type: string(m.Type),
		Text: m.Text, Tag: m.Tag, Sender: toActor(m.Sender), Status: string(m.Status), Billable: m.Billable,
		ProviderMessageID: m.ProviderMessageID, ExternalID: m.ExternalID, Attempts: m.Attempts, LastAttemptAt: m.LastAttemptAt,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
	if a := m.Attachment; a != nil {
		out.Attachment = &attachmentResponse{URL: a.URL, MimeType: a.MimeType, Filename: a.Filename}
	}
	if t := m.Template; t != nil {
		vars := t.Variables
		if vars == nil {
			vars = []string{}
		}
		out.Template = &templateRefResponse{Name: t.Name, Language: t.Language, Variables: vars}
	}
	if m.ErrorCode != nil {
		msg := ""
		if m.ErrorMessage != nil {
			msg = *m.ErrorMessage
		}
		out.Error = &messageError{Code: *m.ErrorCode, Message: msg}
	}
	return out
}

func toEventResponse(e conversation.Event) eventResponse {
	return eventResponse{ID: e.ID.String(), Type: string(e.Type), Actor: toActor(e.Actor), AssigneeID: optID(e.AssigneeID),
		Category: e.Category, Summary: e.Summary, At: e.At}
}

// caller is who the request acts as, for conversation changes.
func caller(c echo.Context) conversation.Caller {
	p := principal(c)
	if p.IsUser() {
		id := p.UserID
		return conversation.Caller{Actor: conversation.Actor{Kind: conversation.ActorUser, ID: id}, User: &id,
			Agent: p.Role == workspace.RoleAgent}
	}
	return conversation.Caller{Actor: conversation.Actor{Kind: conversation.ActorAPIKey, ID: p.KeyID}}
}

// list godoc
// @Summary     The inbox
// @ID          listConversations
// @Description Conversations with their contact summary, assignee, last message preview and latest closing note. status defaults to open; inbox=mine is the caller's own (users only; API keys use assignee_id), unassigned those without an assignee; channel_id keeps contacts with an identity on that channel (another workspace's channel matches nothing); q matches a fragment of the contact's first name, last name, "first last", email or phone digits, as contact search does. Sorted by last message time (newest default), keyset-paginated: the cursor carries the sort and is refused (400 invalid_cursor) with another.
// @Tags        conversations
// @Produce     json
// @Security    BearerAuth
// @Param       status      query string false "Status"  Enums(open, closed, all) default(open)
// @Param       inbox       query string false "Inbox"   Enums(all, mine, unassigned) default(all)
// @Param       assignee_id query string false "Only conversations assigned to this user"
// @Param       channel_id  query string false "Only contacts with an identity on this channel"
// @Param       q           query string false "Fragment of the contact's name, email or phone digits (needs the contacts:read scope)"
// @Param       sort        query string false "Order by last message time" Enums(newest, oldest) default(newest)
// @Param       limit       query int    false "Page size (1-100)" default(25)
// @Param       cursor      query string false "Cursor from the previous page"
// @Success     200 {object} conversationList
// @Failure     400 {object} Problem "invalid_parameter, invalid_cursor"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     422 {object} Problem "validation_failed (q too long)"
// @Router      /v1/conversations [get]
func (h *conversationHandler) list(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	var f conversation.Filter
	if f.Status, err = enumParam(c, "status", "open", "open", "closed", "all"); err != nil {
		return err
	}
	if f.Inbox, err = enumParam(c, "inbox", "all", "all", "mine", "unassigned"); err != nil {
		return err
	}
	if f.Sort, err = enumParam(c, "sort", "newest", "newest", "oldest"); err != nil {
		return err
	}
	if f.AssigneeID, err = uuidParam(c, "assignee_id"); err != nil {
		return err
	}
	if f.ChannelID, err = uuidParam(c, "channel_id"); err != nil {
		return err
	}
	pr := principal(c)
	if f.Inbox == conversation.InboxMine {
		if pr.Kind != auth.KindUser {
			return invalidParam("inbox", "mine needs a user; an API key has no inbox of its own (use assignee_id)")
		}
		f.Me = pr.UserID
	}
	f.Q = c.QueryParam("q")
	if f.Q != "" && !seesContacts(pr) {
		// q matches emails and phone digits: answering it would let a caller who may not read
		// contacts confirm an address one guess at a time.
		return errkind.ErrForbidden.Detailf("q searches contacts' names, emails and phones; it needs the %q scope.", auth.ScopeContactsRead)
	}
	vs, next, err := h.conversations.List(c.Request().Context(), pr.WorkspaceID, f, p)
	if err != nil {
		return err
	}
	data := each(vs, func(v conversation.Conversation) conversationResponse {
		return conversationFor(pr, toConversationResponse(v))
	})
	return c.JSON(http.StatusOK, conversationList{Data: data, NextCursor: nextCursor(next)})
}

// get godoc
// @Summary     Get a conversation
// @ID          getConversation
// @Tags        conversations
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Conversation id"
// @Success     200 {object} conversationResponse
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "conversation_not_found"
// @Router      /v1/conversations/{id} [get]
func (h *conversationHandler) get(c echo.Context) error {
	id, err := pathID(c, conversation.ErrNotFound)
	if err != nil {
		return err
	}
	v, err := h.conversations.Get(c.Request().Context(), principal(c).WorkspaceID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conversationFor(principal(c), toConversationResponse(v)))
}

// messages godoc
// @Summary     A conversation's messages
// @ID          listConversationMessages
// @Description Newest first (by the time each message happened), keyset-paginated.
// @Tags        conversations
// @Produce     json
// @Security    BearerAuth
// @Param       id     path  string true  "Conversation id"
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} messageList
// @Failure     400 {object} Problem "invalid_parameter, invalid_cursor"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "conversation_not_found"
// @Router      /v1/conversations/{id}/messages [get]
func (h *conversationHandler) messages(c echo.Context) error {
	data, next, err := listPageByID(c, conversation.ErrNotFound, h.conversations.Messages, toMessageResponse)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, messageList{Data: data, NextCursor: next})
}

// events godoc
// @Summary     A conversation's lifecycle
// @ID          listConversationEvents
// @Description Every open, close, reopen, assign and unassign, oldest first, with its actor and (on close) the closing note.
// @Tags        conversations
// @Produce     json
// @Security    BearerAuth
// @Param       id     path  string true  "Conversation id"
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} eventList
// @Failure     400 {object} Problem "invalid_parameter, invalid_cursor"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "conversation_not_found"
// @Router      /v1/conversations/{id}/events [get]
func (h *conversationHandler) events(c echo.Context) error {
	data, next, err := listPageByID(c, conversation.ErrNotFound, h.conversations.Events, toEventResponse)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, eventList{Data: data, NextCursor: next})
}

// close godoc
// @Summary     Close a conversation
// @ID          closeConversation
// @Description Closes an open conversation with an optional closing note (the body may be left out). category must be one of the workspace's closing_note_categories when any are set, and is required when closing_note_required (else 422). With unassign_on_close the assignee is removed. A closed conversation answers 409 conversation_closed.
// @Tags        conversations
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string                   true  "Conversation id"
// @Param       body body closeConversationRequest false "Closing note"
// @Success     200 {object} conversationResponse
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "conversation_not_found"
// @Failure     409 {object} Problem "conversation_closed"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/conversations/{id}/close [post]
func (h *conversationHandler) close(c echo.Context) error {
	id, err := pathID(c, conversation.ErrNotFound)
	if err != nil {
		return err
	}
	var req closeConversationRequest
	if err := bindOptional(c, &req); err != nil {
		return err
	}
	v, err := h.conversations.Close(c.Request().Context(), principal(c).WorkspaceID, id, caller(c), req.Category, req.Summary)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conversationFor(principal(c), toConversationResponse(v)))
}

// reopen godoc
// @Summary     Reopen a conversation
// @ID          reopenConversation
// @Description Opens a closed conversation under the same id and assigns it to the acting user. An API key leaves the assignee as it is unless it names on_behalf_of (a user of the workspace, else 422), who is then assigned. An open conversation answers 409 conversation_open. The body may be left out.
// @Tags        conversations
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string                    true  "Conversation id"
// @Param       body body reopenConversationRequest false "Options"
// @Success     200 {object} conversationResponse
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "conversation_not_found"
// @Failure     409 {object} Problem "conversation_open"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/conversations/{id}/reopen [post]
func (h *conversationHandler) reopen(c echo.Context) error {
	id, err := pathID(c, conversation.ErrNotFound)
	if err != nil {
		return err
	}
	var req reopenConversationRequest
	if err := bindOptional(c, &req); err != nil {
		return err
	}
	by := caller(c)
	if req.OnBehalfOf != nil {
		u, err := uuidField("on_behalf_of", *req.OnBehalfOf)
		if err != nil {
			return err
		}
		by.OnBehalfOf = &u
	}
	v, err := h.conversations.Reopen(c.Request().Context(), principal(c).WorkspaceID, id, by)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conversationFor(principal(c), toConversationResponse(v)))
}

// assign godoc
// @Summary     Assign or unassign a conversation
// @ID          assignConversation
// @Description Sets the assignee to a user of this workspace, or clears it with {"user_id": null}. A user_id that is not a member of this workspace (another workspace's user included) answers 422. Agents may assign only to themselves and unassign only themselves (else 403 assignment_forbidden); owners, managers and API keys assign anyone. Assigning the current assignee changes nothing.
// @Tags        conversations
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string                    true "Conversation id"
// @Param       body body assignConversationRequest true "Assignee"
// @Success     200 {object} conversationResponse
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem "forbidden, assignment_forbidden"
// @Failure     404 {object} Problem "conversation_not_found"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/conversations/{id}/assignee [put]
func (h *conversationHandler) assign(c echo.Context) error {
	var req assignConversationRequest
	id, err := bindByID(c, conversation.ErrNotFound, &req)
	if err != nil {
		return err
	}
	var to *uuid.UUID
	switch raw := bytes.TrimSpace(req.UserID); {
	case len(raw) == 0:
		return errkind.Invalid(errkind.Field{Field: "user_id", Message: "is required: a user id, or null to unassign"})
	case string(raw) == "null":
	default:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return errkind.Invalid(errkind.Field{Field: "user_id", Message: "must be a user id or null"})
		}
		u, err := uuidField("user_id", s)
		if err != nil {
			return err
		}
		to = &u
	}
	v, err := h.conversations.Assign(c.Request().Context(), principal(c).WorkspaceID, id, caller(c), to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conversationFor(principal(c), toConversationResponse(v)))
}
