package api

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/resource"
)

type noteHandler struct {
	conversations *conversation.Service
}

type createNoteRequest struct {
	// Text is trimmed; it must not be empty.
	Text string `json:"text" validate:"required" minLength:"1" maxLength:"20000" extensions:"x-pattern=notBlank" example:"Customer asked for a refund; @Ben can you check the order?"`
	// Mentions are users of this workspace, each once (another workspace's or an unknown id is 422).
	Mentions []string `json:"mentions" validate:"max=20,unique" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f51"`
	// OnBehalfOf (required for API keys; a user may name only themselves, another is 403 forbidden) names the user the key writes the note for: its author.
	OnBehalfOf *string `json:"on_behalf_of" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
} // @name CreateNoteRequest

type updateNoteRequest struct {
	// Text replaces the note's text when given; trimmed, it must not be empty.
	Text *string `json:"text" minLength:"1" maxLength:"20000" extensions:"x-pattern=notBlank" example:"Refund done."`
	// Mentions replaces the set of mentioned users when given ([] removes them all). Users added get a mention.created event; users removed lose the mention.
	Mentions *[]string `json:"mentions" validate:"max=20,unique" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f51"`
} // @name UpdateNoteRequest

// mentionIDs reads the mentioned users' ids; nil stays nil (absent).
func mentionIDs(ids []string) ([]uuid.UUID, error) {
	if ids == nil {
		return nil, nil
	}
	out := make([]uuid.UUID, len(ids))
	for i, s := range ids {
		id, err := uuidField("mentions", s)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}

// create godoc
// @Summary     Leave a note on a conversation
// @ID          createNote
// @Description Writes an internal note into the conversation's thread: a message with type note, direction and status internal and no channel, authored by the calling user (an API key must name the author in on_behalf_of, else 422). It is never delivered to the customer and changes nothing else: no reopen, no assignment, no reply window, and the conversation's last_message stays the customer-facing one; it shows among the thread's messages in time order. mentions names users of this workspace (at most 20, each once; an unknown or another workspace's user is 422 on mentions): each gets a mention.created event and the conversation in their inbox=mentions. Events: note.created, then one mention.created per mentioned user. An Idempotency-Key makes retries safe as for sends: the same key with the same request replays the first answer (Idempotent-Replayed: true), with another request it is 422 idempotency_key_reused.
// @Tags        notes
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id              path   string            true  "Conversation id"
// @Param       Idempotency-Key header string            false "Unique key for this note (1-255 printable characters), kept 24 hours"
// @Param       body            body   createNoteRequest true  "Note"
// @Success     201 {object} resource.Message
// @Header      201 {string} Location "The note's address as a message: /v1/messages/{id}"
// @Header      201 {string} Idempotent-Replayed "true when this answer replays the first one sent with the same Idempotency-Key"
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "conversation_not_found"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed (text, mentions, on_behalf_of) or idempotency_key_reused"
// @Router      /v1/conversations/{id}/notes [post]
func (h *noteHandler) create(c echo.Context) error {
	id, err := pathID(c, conversation.ErrNotFound)
	if err != nil {
		return err
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if err := checkIdempotencyKey(key); err != nil {
		return err
	}
	var req createNoteRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	mentions, err := mentionIDs(req.Mentions)
	if err != nil {
		return err
	}
	by, err := callerFor(c, req.OnBehalfOf)
	if err != nil {
		return err
	}
	out, replay, err := h.conversations.CreateNote(c.Request().Context(), principal(c).WorkspaceID, id, by,
		conversation.NoteDraft{Text: &req.Text, Mentions: mentions}, idempotency(c, key, req))
	if err != nil {
		return err
	}
	if replay != nil {
		c.Response().Header().Set("Idempotent-Replayed", "true")
		return c.Blob(replay.Status, echo.MIMEApplicationJSON, replay.Body)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/messages/"+out.Note.ID.String())
	if out.Body != nil {
		return c.Blob(http.StatusCreated, echo.MIMEApplicationJSON, out.Body)
	}
	return c.JSON(http.StatusCreated, resource.ToMessage(out.Note))
}

// update godoc
// @Summary     Edit a note
// @ID          updateNote
// @Description Changes a note's text and/or its mentions (a field left out stays). Its author, owners, managers and API keys may; another agent gets 403 note_forbidden. Users newly mentioned get a mention.created event and the conversation in their inbox=mentions as of now; users no longer mentioned lose it (the conversation leaves their inbox=mentions unless another note mentions them there). Event note.updated, unless nothing changed. A message that is not a note is 404 note_not_found.
// @Tags        notes
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string            true "Note id (its message id)"
// @Param       body body updateNoteRequest true "Changes"
// @Success     200 {object} resource.Message
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem "forbidden, note_forbidden"
// @Failure     404 {object} Problem "note_not_found"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed (text, mentions)"
// @Router      /v1/notes/{id} [patch]
func (h *noteHandler) update(c echo.Context) error {
	var req updateNoteRequest
	id, err := bindByID(c, conversation.ErrNoteNotFound, &req)
	if err != nil {
		return err
	}
	d := conversation.NoteDraft{Text: req.Text}
	if req.Mentions != nil {
		if d.Mentions, err = mentionIDs(*req.Mentions); err != nil {
			return err
		}
	}
	n, err := h.conversations.EditNote(c.Request().Context(), principal(c).WorkspaceID, id, caller(c), d)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToMessage(n))
}

// delete godoc
// @Summary     Delete a note
// @ID          deleteNote
// @Description Removes a note from the thread, with its mentions: users it mentioned lose the conversation from their inbox=mentions unless another note there mentions them. Its author, owners, managers and API keys may; another agent gets 403 note_forbidden. Event note.deleted, whose data is the note as it was. A message that is not a note is 404 note_not_found.
// @Tags        notes
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Note id (its message id)"
// @Success     204
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem "forbidden, note_forbidden"
// @Failure     404 {object} Problem "note_not_found"
// @Router      /v1/notes/{id} [delete]
func (h *noteHandler) delete(c echo.Context) error {
	return deleteByID(c, conversation.ErrNoteNotFound, func(ctx context.Context, ws, id uuid.UUID) error {
		return h.conversations.DeleteNote(ctx, ws, id, caller(c))
	})
}

// mentions godoc
// @Summary     A note's mentions
// @ID          listNoteMentions
// @Description Who the note mentions, in the note's order, each with when the mention was made (the note's creation, or the edit that added the user): the Mention of the mention.created event. A user deleted since is left out. A message that is not a note is 404 note_not_found.
// @Tags        notes
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Note id (its message id)"
// @Success     200 {object} resource.MentionList
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "note_not_found"
// @Router      /v1/notes/{id}/mentions [get]
func (h *noteHandler) mentions(c echo.Context) error {
	return getByID(c, conversation.ErrNoteNotFound, h.conversations.NoteMentions, func(ms []conversation.Mention) resource.MentionList {
		return resource.MentionList{Data: each(ms, resource.ToMention)}
	})
}
