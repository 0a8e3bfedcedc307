package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/resource"
)

type broadcastHandler struct {
	broadcasts *conversation.BroadcastService
}

type broadcastAudienceRequest struct {
	// ContactIDs are 1 to 10 000 contacts of the workspace (a larger audience goes by tag); ids of another workspace, or of no contact, are not in the audience.
	ContactIDs []string `json:"contact_ids" validate:"min=1,max=10000" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f53"`
	// Tag takes every contact with this tag.
	Tag string `json:"tag" minLength:"1" maxLength:"100" extensions:"x-pattern=notBlank" example:"vip"`
} // @name BroadcastAudience

type broadcastMessageRequest struct {
	Type string `json:"type" validate:"required" enums:"text,template" example:"text"`
	// Text may hold {{contact.first_name}}, {{contact.last_name}} and {{contact.custom_fields.KEY}}, filled per recipient (a missing field is the empty string).
	Text     string               `json:"text" maxLength:"20000" example:"Hi {{contact.first_name}}, we open at 10 on Sunday."`
	Template *templateSendRequest `json:"template"`
} // @name BroadcastMessageRequest

type createBroadcastRequest struct {
	Name      string                   `json:"name" validate:"required" minLength:"1" maxLength:"200" extensions:"x-pattern=notBlank" example:"December opening hours"`
	ChannelID string                   `json:"channel_id" validate:"required" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	Audience  broadcastAudienceRequest `json:"audience" validate:"required"`
	Message   broadcastMessageRequest  `json:"message" validate:"required"`
	// SendAt starts the broadcast later (RFC 3339, in the future, at most 30 days ahead); without it, it starts at once.
	SendAt *string `json:"send_at" format:"date-time" extensions:"x-nullable,x-from-now=sendAt" example:"2026-12-06T09:00:00Z"`
	// DryRun answers 200 with what the broadcast would do now, and writes nothing.
	DryRun bool `json:"dry_run" example:"false"`
} // @name CreateBroadcastRequest

func (r createBroadcastRequest) broadcast() (conversation.Broadcast, conversation.BroadcastOptions, error) {
	var opts conversation.BroadcastOptions
	var errs errkind.Fields
	b := conversation.Broadcast{Name: r.Name, Audience: conversation.Audience{Tag: r.Audience.Tag},
		Message: conversation.Draft{Type: conversation.MessageType(r.Message.Type), Text: r.Message.Text}}
	if t := r.Message.Template; t != nil {
		b.Message.Template = &conversation.TemplateRef{Name: t.Name, Language: t.Language, Variables: t.Variables}
	}
	if id, err := uuid.Parse(r.ChannelID); err != nil {
		errs.Add("channel_id", "must be an id")
	} else {
		b.ChannelID = id
	}
	seen := make(map[uuid.UUID]bool, len(r.Audience.ContactIDs))
	for _, s := range r.Audience.ContactIDs {
		id, err := uuid.Parse(s)
		if err != nil {
			errs.Add("audience.contact_ids", "must be ids")
			break
		}
		if !seen[id] {
			seen[id] = true
			b.Audience.ContactIDs = append(b.Audience.ContactIDs, id)
		}
	}
	if r.SendAt != nil {
		at, err := time.Parse(time.RFC3339Nano, *r.SendAt)
		if err != nil {
			errs.Add("send_at", "must be an RFC 3339 instant such as 2026-12-06T09:00:00Z")
		}
		opts.SendAt = &at
	}
	return b, opts, errs.Err()
}

// create godoc
// @Summary     Create a broadcast, or dry-run one
// @ID          createBroadcast
// @Description Sends one message to an audience on one channel: the workspace's contacts among audience.contact_ids (1 to 10 000; ids of another workspace, or of no contact, are simply not in the audience), or every contact with audience.tag (at most 1 000 000). The message is text or a template of the channel, with {{contact.first_name}}, {{contact.last_name}} and {{contact.custom_fields.KEY}} filled per recipient in the text and in the template's variables (a missing field is the empty string; a template variable that fills to nothing makes that recipient refused, template_variables_invalid). With dry_run the answer is 200 with what the broadcast would do now — recipients, their count by the rule table's decision on the channel (no_channel_identity: no identity there), how many the rules would let the message through to (permitted) and how many of those the provider charges for (billable) — and nothing is written. Otherwise the broadcast and its recipients (all pending) are stored, 201, and a job sends to each recipient (at send_at when given: in the future, at most 30 days ahead) through the same rule-checked send as POST /v1/contacts/{id}/messages — the rules and quotas of that moment, the message, reopening and assignment to the person who created the broadcast (a key on its own assigns no one), delivery — once per recipient, whatever crashes or restarts: a recipient is marked sent (message_id), refused (the rules refused, with the decision; no_channel_identity too) or failed in the transaction that sends to them. The status moves scheduled → running → done (event broadcast.completed). An empty audience is 422 audience_empty, one over 1 000 000 422 audience_too_large; a channel of another workspace is 422 validation_failed on channel_id, an archived one 409 channel_archived; a template the channel lacks is 422 on message.template.name. An Idempotency-Key replays the first answer, as for sends. Needs messages:send.
// @Tags        broadcasts
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       Idempotency-Key header string                 false "Unique key for this broadcast (1-255 printable ASCII characters without spaces), kept 24 hours" minlength(1) maxlength(255) extensions(x-pattern=^[!-~]+$)
// @Param       body            body   createBroadcastRequest true  "Broadcast"
// @Success     200 {object} resource.BroadcastDryRun "With dry_run: what it would do, nothing written"
// @Success     201 {object} resource.Broadcast
// @Header      201 {string} Idempotent-Replayed "true when this answer replays the first one sent with the same Idempotency-Key"
// @Header      201 {string} Location "The broadcast's URL"
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     409 {object} Problem "channel_archived"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "audience_empty, audience_too_large, validation_failed or idempotency_key_reused"
// @Router      /v1/broadcasts [post]
func (h *broadcastHandler) create(c echo.Context) error {
	key := c.Request().Header.Get("Idempotency-Key")
	if err := checkIdempotencyKey(key); err != nil {
		return err
	}
	var req createBroadcastRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	b, opts, err := req.broadcast()
	if err != nil {
		return err
	}
	ctx, ws, by := c.Request().Context(), principal(c).WorkspaceID, caller(c)
	if req.DryRun {
		d, err := h.broadcasts.DryRun(ctx, ws, by, b)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, resource.ToBroadcastDryRun(d))
	}
	out, body, replay, err := h.broadcasts.Create(ctx, ws, by, b, opts, idempotency(c, key, req))
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if replay != nil {
		c.Response().Header().Set("Idempotent-Replayed", "true")
		status, body = replay.Status, replay.Body
	} else if body == nil {
		if _, body, err = resource.BroadcastAnswer(out); err != nil {
			return err
		}
	}
	if status == http.StatusCreated && replay == nil {
		c.Response().Header().Set(echo.HeaderLocation, "/v1/broadcasts/"+out.ID.String())
	}
	return c.Blob(status, echo.MIMEApplicationJSON, body)
}

// list godoc
// @Summary     List broadcasts
// @ID          listBroadcasts
// @Description The workspace's broadcasts, newest first, keyset-paginated, each with its counts.
// @Tags        broadcasts
// @Produce     json
// @Security    BearerAuth
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} resource.BroadcastList
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/broadcasts [get]
func (h *broadcastHandler) list(c echo.Context) error {
	data, next, err := listPage(c, h.broadcasts.List, resource.ToBroadcast)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.BroadcastList{Data: data, NextCursor: next})
}

// get godoc
// @Summary     Get a broadcast
// @ID          getBroadcast
// @Description One broadcast: its status and counts (sent, refused, failed, pending).
// @Tags        broadcasts
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Broadcast id"
// @Success     200 {object} resource.Broadcast
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "broadcast_not_found"
// @Router      /v1/broadcasts/{id} [get]
func (h *broadcastHandler) get(c echo.Context) error {
	return getByID(c, conversation.ErrBroadcastNotFound, h.broadcasts.Get, resource.ToBroadcast)
}

// recipients godoc
// @Summary     List a broadcast's recipients
// @ID          listBroadcastRecipients
// @Description The broadcast's recipients by contact id, keyset-paginated, each with its status, and the decision, message_id or error that say what became of it. status filters.
// @Tags        broadcasts
// @Produce     json
// @Security    BearerAuth
// @Param       id     path  string true  "Broadcast id"
// @Param       status query string false "Only those with this status" Enums(pending, sent, refused, failed)
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} resource.BroadcastRecipientList
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "broadcast_not_found"
// @Router      /v1/broadcasts/{id}/recipients [get]
func (h *broadcastHandler) recipients(c echo.Context) error {
	id, err := pathID(c, conversation.ErrBroadcastNotFound)
	if err != nil {
		return err
	}
	status, err := enumParam(c, "status", "", "pending", "sent", "refused", "failed")
	if err != nil {
		return err
	}
	var f conversation.RecipientFilter
	if status != "" {
		st := conversation.RecipientStatus(status)
		f.Status = &st
	}
	data, next, err := listPage(c, func(ctx context.Context, ws uuid.UUID, p page.Request) ([]conversation.Recipient, string, error) {
		return h.broadcasts.Recipients(ctx, ws, id, f, p)
	}, resource.ToBroadcastRecipient)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.BroadcastRecipientList{Data: data, NextCursor: next})
}

// cancel godoc
// @Summary     Cancel a broadcast
// @ID          cancelBroadcast
// @Description Cancels a scheduled or running broadcast: 200 with it, status cancelled. A running one stops after the batch of recipients under way; those not reached stay pending (and counted so). One done or cancelled already is 409 broadcast_not_cancellable. Needs messages:send.
// @Tags        broadcasts
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Broadcast id"
// @Success     200 {object} resource.Broadcast
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "broadcast_not_found"
// @Failure     409 {object} Problem "broadcast_not_cancellable"
// @Router      /v1/broadcasts/{id}/cancel [post]
func (h *broadcastHandler) cancel(c echo.Context) error {
	return getByID(c, conversation.ErrBroadcastNotFound, h.broadcasts.Cancel, resource.ToBroadcast)
}
