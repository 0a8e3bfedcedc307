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
	"github.com/switchboard/switchboard/pkg/resource"
	"github.com/switchboard/switchboard/pkg/workspace"
)

type conversationHandler struct {
	conversations *conversation.Service
}

type closeConversationRequest struct {
	// Category must be one of the workspace's closing_note_categories when any are set, and is
	// required when closing_note_required.
	Category *string `json:"category" maxLength:"100" example:"resolved"`
	Summary  *string `json:"summary" maxLength:"2000" example:"Refund issued; customer happy"`
} // @name CloseConversationRequest

type reopenConversationRequest struct {
	// OnBehalfOf (API keys; a user may name only themselves, another is 403 forbidden) names the user the key acts for: the conversation is assigned
	// to them and the events name them.
	OnBehalfOf *string `json:"on_behalf_of" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
} // @name ReopenConversationRequest

type assignConversationRequest struct {
	// UserID is a user of this workspace, or null to unassign. Required.
	UserID json.RawMessage `json:"user_id" validate:"required" format:"uuid" swaggertype:"string" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
} // @name AssignConversationRequest

type snoozeConversationRequest struct {
	// Until is when the conversation wakes: an RFC 3339 instant in the future, at most 365
	// days ahead, or null to snooze it until the customer writes. Required.
	Until json.RawMessage `json:"until" validate:"required" format:"date-time" swaggertype:"string" extensions:"x-nullable,x-from-now=snooze" example:"2026-12-01T09:00:00Z"`
} // @name SnoozeConversationRequest

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

// callerFor is the caller, acting for the user on_behalf_of names when it is given (the
// service checks that only an API key may, and that the user is of the workspace).
func callerFor(c echo.Context, onBehalfOf *string) (conversation.Caller, error) {
	by := caller(c)
	if onBehalfOf != nil {
		u, err := uuidField("on_behalf_of", *onBehalfOf)
		if err != nil {
			return conversation.Caller{}, err
		}
		by.OnBehalfOf = &u
	}
	return by, nil
}

// list godoc
// @Summary     The inbox
// @ID          listConversations
// @Description Conversations with their contact summary, assignee, last message preview and latest closing note, and for a user caller their read state (last_read_at, unread_count). status defaults to open (snoozed conversations are listed under status=snoozed and status=all, not open); inbox=mine is the caller's own (users only: an API key gets 403 user_required and uses assignee_id), unassigned those without an assignee; channel_id keeps contacts with an identity on that channel (another workspace's channel matches nothing); label_id keeps conversations that carry the label (an unknown label, or another workspace's, matches nothing); each row carries its labels; team_id keeps the team's conversations, and with inbox=unassigned it is the team's queue (another workspace's team matches nothing); q matches a fragment of the contact's first name, last name, "first last", email or phone digits, as contact search does. Sorted by last message time (newest default; window=closing without q defaults to sort=window_closing, the closing tab read by urgency), keyset-paginated: the cursor carries the sort and is refused (400 invalid_cursor) with another. Each row carries reply_window: what the rule table allows a person to send on the conversation's default channel now. window keeps rows by that channel's window: open, closing (open, and closing within the workspace's window_closing_minutes) or closed (closed, never opened, or a channel without one). sort=window_closing lists open conversations whose window is open first, soonest-closing first, then the rest newest first; it does not combine with q or inbox=mentions, nor window with inbox=mentions (400 invalid_parameter).
// @Tags        conversations
// @Produce     json
// @Security    BearerAuth
// @Param       status      query string false "Status"  Enums(open, snoozed, closed, all) default(open)
// @Param       inbox       query string false "Inbox"   Enums(all, mine, unassigned, mentions) default(all)
// @Param       assignee_id query string false "Only conversations assigned to this user"
// @Param       channel_id  query string false "Only contacts with an identity on this channel"
// @Param       label_id    query string false "Only conversations that carry this label"
// @Param       team_id     query string false "Only the team's conversations (with inbox=unassigned: the team's queue)"
// @Param       q           query string false "Fragment of the contact's name or email; or, when it is only digits and phone punctuation (spaces, + - ( ) . /), of the phone digits, at least 4 of them (fewer: 422 search_too_short). Needs the contacts:read scope" maxlength(200)
// @Param       sort        query string false "Order by last message time, or window_closing: open windows soonest-closing first, then the rest newest first. The default is newest, except with window=closing and no q: window_closing" Enums(newest, oldest, window_closing)
// @Param       window      query string false "Only conversations whose default channel's window is open, closing (within window_closing_minutes) or closed" Enums(open, closing, closed)
// @Param       limit       query int    false "Page size (1-100)" default(25)
// @Param       cursor      query string false "Cursor from the previous page"
// @Success     200 {object} resource.ConversationList
// @Failure     400 {object} Problem "invalid_parameter, invalid_cursor"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem "forbidden, user_required (inbox=mine with an API key)"
// @Failure     422 {object} Problem "validation_failed (q too long)"
// @Router      /v1/conversations [get]
func (h *conversationHandler) list(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	var f conversation.Filter
	if f.Status, err = enumParam(c, "status", "open", "open", "snoozed", "closed", "all"); err != nil {
		return err
	}
	if f.Inbox, err = enumParam(c, "inbox", "all", "all", "mine", "unassigned", conversation.InboxMentions); err != nil {
		return err
	}
	if f.Sort, err = enumParam(c, "sort", "newest", "newest", "oldest", conversation.SortWindowClosing); err != nil {
		return err
	}
	if f.Window, err = enumParam(c, "window", "", conversation.WindowOpen, conversation.WindowClosing, conversation.WindowClosed); err != nil {
		return err
	}
	if f.AssigneeID, err = uuidParam(c, "assignee_id"); err != nil {
		return err
	}
	if f.ChannelID, err = uuidParam(c, "channel_id"); err != nil {
		return err
	}
	if f.LabelID, err = uuidParam(c, "label_id"); err != nil {
		return err
	}
	if f.TeamID, err = uuidParam(c, "team_id"); err != nil {
		return err
	}
	pr := principal(c)
	f.Reader = reader(c)
	if f.Inbox == conversation.InboxMine || f.Inbox == conversation.InboxMentions {
		if f.Reader == nil {
			// A well-formed request the caller cannot make: 403, as for read state.
			return errUserRequired.Detailf("inbox=%s is a user's own; an API key has none (it lists by assignee_id).", f.Inbox)
		}
		f.Me = *f.Reader
	}
	f.Q = c.QueryParam("q")
	if f.Q != "" && !seesContacts(pr) {
		// q matches emails and phone digits: answering it would let a caller who may not read
		// contacts confirm an address one guess at a time.
		return errkind.ErrForbidden.Detailf("q searches contacts' names, emails and phones; it needs the %q scope.", auth.ScopeContactsRead)
	}
	if c.QueryParam("sort") == "" && f.Window == conversation.WindowClosing && f.Q == "" {
		// The closing tab is read by urgency: soonest-closing first unless sort says otherwise.
		// It is also the index's order (conversations_window_open), where newest first walks
		// past every window opened since.
		f.Sort = conversation.SortWindowClosing
	}
	vs, next, err := h.conversations.List(c.Request().Context(), pr.WorkspaceID, f, p)
	if err != nil {
		return err
	}
	data := each(vs, func(v conversation.Conversation) resource.Conversation {
		return conversationFor(pr, resource.ToConversation(v))
	})
	return c.JSON(http.StatusOK, resource.ConversationList{Data: data, NextCursor: nextCursor(next)})
}

// get godoc
// @Summary     Get a conversation
// @ID          getConversation
// @Tags        conversations
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Conversation id"
// @Success     200 {object} resource.Conversation
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "conversation_not_found"
// @Router      /v1/conversations/{id} [get]
func (h *conversationHandler) get(c echo.Context) error {
	id, err := pathID(c, conversation.ErrNotFound)
	if err != nil {
		return err
	}
	v, err := h.conversations.GetFor(c.Request().Context(), principal(c).WorkspaceID, id, reader(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conversationFor(principal(c), resource.ToConversation(v)))
}

// messages godoc
// @Summary     A conversation's messages
// @ID          listConversationMessages
// @Description Newest first (by the time each message happened), keyset-paginated. The team's internal notes (type note, direction internal) are among them in the same order.
// @Tags        conversations
// @Produce     json
// @Security    BearerAuth
// @Param       id     path  string true  "Conversation id"
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} resource.MessageList
// @Failure     400 {object} Problem "invalid_parameter, invalid_cursor"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "conversation_not_found"
// @Router      /v1/conversations/{id}/messages [get]
func (h *conversationHandler) messages(c echo.Context) error {
	data, next, err := listPageByID(c, conversation.ErrNotFound, h.conversations.Messages, resource.ToMessage)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.MessageList{Data: data, NextCursor: next})
}

// events godoc
// @Summary     A conversation's lifecycle
// @ID          listConversationEvents
// @Description Every open, close, reopen, assign, unassign, snooze and wake, oldest first, with its actor, the closing note (closed), the instant snoozed until (snoozed) and why it woke (woke: customer_replied or time).
// @Tags        conversations
// @Produce     json
// @Security    BearerAuth
// @Param       id     path  string true  "Conversation id"
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} resource.ConversationEventList
// @Failure     400 {object} Problem "invalid_parameter, invalid_cursor"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "conversation_not_found"
// @Router      /v1/conversations/{id}/events [get]
func (h *conversationHandler) events(c echo.Context) error {
	data, next, err := listPageByID(c, conversation.ErrNotFound, h.conversations.Events, resource.ToConversationEvent)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ConversationEventList{Data: data, NextCursor: next})
}

// close godoc
// @Summary     Close a conversation
// @ID          closeConversation
// @Description Closes an open or snoozed conversation with an optional closing note (the body may be left out). category must be one of the workspace's closing_note_categories when any are set, and is required when closing_note_required (else 422). With unassign_on_close the assignee is removed. A closed conversation answers 409 conversation_closed.
// @Tags        conversations
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string                   true  "Conversation id"
// @Param       body body closeConversationRequest false "Closing note"
// @Success     200 {object} resource.Conversation
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
	return c.JSON(http.StatusOK, conversationFor(principal(c), resource.ToConversation(v)))
}

// reopen godoc
// @Summary     Reopen a conversation
// @ID          reopenConversation
// @Description Opens a closed conversation under the same id, or wakes a snoozed one, and assigns it to the acting user. An API key leaves the assignee as it is unless it names on_behalf_of (a user of the workspace, else 422), who is then assigned. An open conversation answers 409 conversation_open. The body may be left out.
// @Tags        conversations
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string                    true  "Conversation id"
// @Param       body body reopenConversationRequest false "Options"
// @Success     200 {object} resource.Conversation
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
	by, err := callerFor(c, req.OnBehalfOf)
	if err != nil {
		return err
	}
	v, err := h.conversations.Reopen(c.Request().Context(), principal(c).WorkspaceID, id, by)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conversationFor(principal(c), resource.ToConversation(v)))
}

// snooze godoc
// @Summary     Snooze a conversation
// @ID          snoozeConversation
// @Description Puts an open or snoozed conversation aside until an instant (until: RFC 3339, in the future, at most 365 days ahead; else 422 naming until) or, with {"until": null}, until the customer writes: status becomes snoozed and snoozed_until the instant. Snoozing a snoozed conversation again changes the instant. It wakes (status open, event conversation.woke, a woke lifecycle step with reason customer_replied or time) when the customer writes, or when the instant has passed (no earlier, within a minute), once however many servers run; reopen wakes it too, close closes it, and a send leaves it snoozed. Whoever may close it may snooze it; the assignee stays. A closed conversation answers 409 conversation_closed. Event conversation.snoozed.
// @Tags        conversations
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string                    true "Conversation id"
// @Param       body body snoozeConversationRequest true "Until when"
// @Success     200 {object} resource.Conversation
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "conversation_not_found"
// @Failure     409 {object} Problem "conversation_closed"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/conversations/{id}/snooze [post]
func (h *conversationHandler) snooze(c echo.Context) error {
	var req snoozeConversationRequest
	id, err := bindByID(c, conversation.ErrNotFound, &req)
	if err != nil {
		return err
	}
	var until *time.Time
	switch raw := bytes.TrimSpace(req.Until); {
	case len(raw) == 0:
		return errkind.Invalid(errkind.Field{Field: "until", Message: "is required: an RFC 3339 instant, or null until the customer writes"})
	case string(raw) == "null":
	default:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return errkind.Invalid(errkind.Field{Field: "until", Message: "must be an RFC 3339 instant or null"})
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return errkind.Invalid(errkind.Field{Field: "until", Message: "must be an RFC 3339 instant such as 2026-12-01T09:00:00Z"})
		}
		until = &t
	}
	v, err := h.conversations.Snooze(c.Request().Context(), principal(c).WorkspaceID, id, caller(c), until)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conversationFor(principal(c), resource.ToConversation(v)))
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
// @Success     200 {object} resource.Conversation
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
	return c.JSON(http.StatusOK, conversationFor(principal(c), resource.ToConversation(v)))
}
