package api

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/resource"
)

type sendHandler struct {
	sends         *conversation.SendService
	conversations *conversation.Service
	scheduled     *conversation.ScheduledService
}

type templateSendRequest struct {
	Name     string `json:"name" validate:"required" minLength:"1" extensions:"x-pattern=notBlank" example:"order_update"`
	Language string `json:"language" validate:"required" minLength:"1" extensions:"x-pattern=notBlank" example:"en_US"`
	// Variables fill the template's placeholders in order: each 1 to 1024 characters.
	Variables []string `json:"variables" minLength:"1" maxLength:"1024" extensions:"x-pattern=notBlank" example:"Maria,#1234"`
} // @name TemplateSendRequest

type sendMessageRequest struct {
	// ChannelID defaults to the channel the contact last wrote on.
	ChannelID *string              `json:"channel_id" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	Type      string               `json:"type" validate:"required" enums:"text,template,attachment" example:"text"`
	Text      string               `json:"text" maxLength:"20000" example:"Your parcel is on its way."`
	Template  *templateSendRequest `json:"template"`
	// Attachments are 1 to 10 files: media uploaded with POST /v1/media, or links. Each provider's own limits (count, size, type) are checked before the send is accepted: 422 attachment_not_supported.
	Attachments []attachmentRequest `json:"attachments" validate:"min=1,max=10"`
	// Tag is a message tag, e.g. HUMAN_AGENT on Messenger after the 24-hour window.
	Tag string `json:"tag" maxLength:"64" example:"HUMAN_AGENT"`
	// OnBehalfOf (API keys; a user may name only themselves, another is 403 forbidden) names the user the key sends as: the message counts as a person's, and the conversation is assigned to them.
	OnBehalfOf *string `json:"on_behalf_of" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	// SendAt schedules the send (RFC 3339, in the future, at most 30 days ahead): the answer is 202 with a ScheduledMessage, and at send_at the rules decide again on the state of that moment.
	SendAt *string `json:"send_at" format:"date-time" extensions:"x-nullable,x-from-now=sendAt" example:"2026-12-06T09:00:00Z"`
	// (fallback_template is described in the operation: a description here would make swag wrap
	// the $ref in an allOf, a free-form object to the spec's readers.)

	FallbackTemplate *templateSendRequest `json:"fallback_template"`
	// CancelIfCustomerReplied (with send_at) cancels the scheduled send when the customer writes before send_at; an immediate send ignores it.
	CancelIfCustomerReplied *bool `json:"cancel_if_customer_replied" extensions:"x-nullable" example:"true"`
} // @name SendMessageRequest

// schedule reads the scheduling fields: nil for an immediate send (which takes
// fallback_template too, and for which cancel_if_customer_replied means nothing).
func (r sendMessageRequest) schedule() (*conversation.ScheduleOptions, error) {
	if r.SendAt == nil {
		return nil, nil
	}
	at, err := time.Parse(time.RFC3339Nano, *r.SendAt)
	if err != nil {
		return nil, errkind.Invalid(errkind.Field{Field: "send_at", Message: "must be an RFC 3339 instant such as 2026-12-06T09:00:00Z"})
	}
	o := &conversation.ScheduleOptions{SendAt: at, CancelIfCustomerReplied: r.CancelIfCustomerReplied != nil && *r.CancelIfCustomerReplied}
	if t := r.FallbackTemplate; t != nil {
		o.Fallback = &conversation.TemplateRef{Name: t.Name, Language: t.Language, Variables: t.Variables}
	}
	return o, nil
}

func (r sendMessageRequest) draft() (conversation.Draft, error) {
	d := conversation.Draft{Type: conversation.MessageType(r.Type), Text: r.Text, Tag: r.Tag}
	if r.ChannelID != nil {
		id, err := uuidField("channel_id", *r.ChannelID)
		if err != nil {
			return d, err
		}
		d.ChannelID = &id
	}
	if t := r.Template; t != nil {
		d.Template = &conversation.TemplateRef{Name: t.Name, Language: t.Language, Variables: t.Variables}
	}
	var err error
	d.Attachments, err = attachments(r.Attachments)
	return d, err
}

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

// send godoc
// @Summary     Send a message
// @ID          sendMessage
// @Description Checks the message against the channel's rules (see GET /v1/channel-rules) and, when they allow it, stores it (status queued), counts it against any quota, reopens a closed conversation and assigns it to the sending user (an open, unassigned one too; an assigned one keeps its assignee), and queues its delivery — all in one transaction: a 201 means committed. A refusal is a 422 problem whose code is messaging_window_closed, template_required, tag_required, tag_not_allowed, template_not_approved, template_variables_invalid, no_channel_identity or quota_exceeded, with the decision. Attachments the channel's provider cannot carry (a type it does not take, a file over its size for that kind, more files than one message takes, or stored media for a provider that fetches files by URL while the server has no PUBLIC_BASE_URL) are a 422 attachment_not_supported whose detail names the limit and whose errors name the attachment (attachments[i]); a media_id that is not the workspace's is validation_failed on attachments[i].media_id. An Idempotency-Key makes retries safe: the same key with the same request replays the first answer byte for byte (header Idempotent-Replayed: true); with another request it is 422 idempotency_key_reused; a concurrent duplicate waits for the first and replays it. With fallback_template, a message the rules refuse is replaced by that template on the same channel (the answer is the template's send; refused too, the template's refusal). With send_at the send is scheduled instead: the message is checked as it would be now (fields, template known, attachments resolved and within the provider's limits), fallback_template must be an approved template of the send's channel (else 422 on fallback_template.name), send_at must be in the future and at most 30 days ahead (else 422 on send_at), and the answer is 202 with the scheduled message and its preview_decision (the rules' answer at send_at if nothing else happens). At send_at (never before, normally within seconds; once however many servers run) the message goes through this same send — rules, quota, reopen, assignment to the person who scheduled it, delivery — on the state of that moment; refused, the fallback template is tried; refused too (or none), the scheduled message is blocked with the decision (event scheduled_message.blocked). cancel_if_customer_replied cancels it when the customer writes before send_at (reason customer_replied). See /v1/scheduled-messages.
// @Tags        messages
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id              path   string             true  "Contact id"
// @Param       Idempotency-Key header string             false "Unique key for this send (1-255 printable ASCII characters without spaces), kept 24 hours" minlength(1) maxlength(255) extensions(x-pattern=^[!-~]+$)
// @Param       body            body   sendMessageRequest true  "Message"
// @Success     201 {object} resource.SendResult
// @Success     202 {object} resource.ScheduledMessage "With send_at: the scheduled message"
// @Header      201 {string} Idempotent-Replayed "true when this answer replays the first one sent with the same Idempotency-Key"
// @Header      202 {string} Idempotent-Replayed "true when this answer replays the first one sent with the same Idempotency-Key"
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "contact_not_found"
// @Failure     409 {object} Problem "channel_archived"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "A refusal (with decision), attachment_not_supported, validation_failed or idempotency_key_reused"
// @Router      /v1/contacts/{id}/messages [post]
func (h *sendHandler) send(c echo.Context) error {
	id, err := pathID(c, contact.ErrNotFound)
	if err != nil {
		return err
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if err := checkIdempotencyKey(key); err != nil {
		return err
	}
	var req sendMessageRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	draft, err := req.draft()
	if err != nil {
		return err
	}
	opts, err := req.schedule()
	if err != nil {
		return err
	}
	by, err := callerFor(c, req.OnBehalfOf)
	if err != nil {
		return err
	}
	if opts != nil {
		return h.schedule(c, id, by, draft, *opts, idempotency(c, key, req))
	}
	var fallback *conversation.TemplateRef
	if t := req.FallbackTemplate; t != nil {
		fallback = &conversation.TemplateRef{Name: t.Name, Language: t.Language, Variables: t.Variables}
	}
	sent, replay, err := h.sends.SendOrFallback(c.Request().Context(), principal(c).WorkspaceID, id, by, draft, fallback, idempotency(c, key, req))
	if err != nil {
		return refusalProblem(err)
	}
	status, body := http.StatusCreated, sent.Body
	if replay != nil {
		c.Response().Header().Set("Idempotent-Replayed", "true")
		status, body = replay.Status, replay.Body
	} else if body == nil {
		if _, body, err = resource.SendAnswer(sent); err != nil {
			return err
		}
	}
	// The stored answer (for replays) is the full one, whoever sent first; each caller gets
	// what their scopes show.
	if !seesContacts(principal(c)) {
		if body, err = hideReachIn(body, "conversation", "contact"); err != nil {
			return err
		}
	}
	return c.Blob(status, echo.MIMEApplicationJSON, body)
}

// refusalProblem adds the decision to a rule refusal.
func refusalProblem(err error) error {
	var r *conversation.Refusal
	if !errors.As(err, &r) {
		return err
	}
	e := errkind.New(errkind.KindRefused, r.Code, r.Detail)
	if r.Decision.RuleVersion != "" {
		e = e.With("decision", resource.ToDecision(r.Decision))
	}
	return e
}

// idempotency is a request's Idempotency-Key (nil without one) with the hash of what the
// request asks: its method, path and body req, decoded, so whitespace or key order in the JSON
// does not make a retry a different request.
func idempotency(c echo.Context, key string, req any) *conversation.Idempotency {
	if key == "" {
		return nil
	}
	canon, _ := json.Marshal(req)
	h := sha256.New()
	h.Write([]byte(c.Request().Method + " " + c.Request().URL.Path + "\n"))
	h.Write(canon)
	return &conversation.Idempotency{Key: key, Hash: h.Sum(nil)}
}

func checkIdempotencyKey(key string) error {
	if key == "" {
		return nil
	}
	ok := len(key) <= maxIdempotencyKey
	for i := 0; ok && i < len(key); i++ {
		ok = key[i] >= 0x21 && key[i] <= 0x7e
	}
	if !ok {
		e := errkind.New(errkind.KindBadRequest, "invalid_parameter", "Idempotency-Key: must be 1 to 255 printable ASCII characters without spaces")
		e.Fields = []errkind.Field{{Field: "Idempotency-Key", Message: "must be 1 to 255 printable ASCII characters without spaces"}}
		return e
	}
	return nil
}

// eligibility godoc
// @Summary     May I write to this contact now?
// @ID          getSendEligibility
// @Description For each of the contact's channel identities (on live channels), the rule table's answer right now, or at the future instant at: decision (allowed, template_required, tag_required, blocked), a stable reason_code and a reason, when the window closes, the HUMAN_AGENT tag's expiry and whether the sender may use it, any quota, and the rule_version. default_channel_id is where a send without channel_id goes. The answer depends on who sends (HUMAN_AGENT is for people): as_user answers for another user (owners, managers and API keys; an agent only for themselves). at answers for that instant assuming nothing else happens until then (no message either way: windows close, a new calendar month restarts Viber's quota); an instant that is not RFC 3339 is 400 invalid_parameter, and one that has passed is answered as of now (what the rules said then depends on what happened since), so the answer's at is the instant it is for. One database round trip.
// @Tags        messages
// @Produce     json
// @Security    BearerAuth
// @Param       id      path  string true  "Contact id"
// @Param       as_user query string false "Answer for this user of the workspace"
// @Param       at      query string false "Answer for this future instant (RFC 3339) instead of now; a past one is answered as of now" format(date-time)
// @Success     200 {object} resource.SendEligibility
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "contact_not_found"
// @Router      /v1/contacts/{id}/send-eligibility [get]
func (h *sendHandler) eligibility(c echo.Context) error {
	id, err := pathID(c, contact.ErrNotFound)
	if err != nil {
		return err
	}
	asUser, err := uuidParam(c, "as_user")
	if err != nil {
		return err
	}
	at, err := timeParam(c, "at")
	if err != nil {
		return err
	}
	el, err := h.sends.Eligibility(c.Request().Context(), principal(c).WorkspaceID, id, caller(c), asUser, at)
	if err != nil {
		return err
	}
	out := resource.ToSendEligibility(el)
	if !seesContacts(principal(c)) {
		for i := range out.Channels {
			out.Channels[i].Identifier = nil
		}
	}
	return c.JSON(http.StatusOK, out)
}

// message godoc
// @Summary     Get a message
// @ID          getMessage
// @Description One message with its delivery status (queued, sent, delivered, read or failed with the provider's error) or received for incoming ones; an internal note (type note) too, with its mentions.
// @Tags        messages
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Message id"
// @Success     200 {object} resource.Message
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "message_not_found"
// @Router      /v1/messages/{id} [get]
func (h *sendHandler) message(c echo.Context) error {
	id, err := pathID(c, conversation.ErrMessageNotFound)
	if err != nil {
		return err
	}
	m, err := h.conversations.Message(c.Request().Context(), principal(c).WorkspaceID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToMessage(m))
}
