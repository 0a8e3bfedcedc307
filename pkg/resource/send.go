package resource

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/rules"
)

// Quota is a channel's allowance of messages and how much of it is used.
type Quota struct {
	Limit    int       `json:"limit" example:"10000"`
	Used     int       `json:"used" example:"9876"`
	ResetsAt time.Time `json:"resets_at" format:"date-time" example:"2026-12-01T00:00:00Z"`
} // @name Quota

// Decision is the rule table's answer for one channel.
type Decision struct {
	Decision string `json:"decision" enums:"allowed,template_required,tag_required,blocked" example:"template_required"`
	// ReasonCode is stable: within_window, no_window, window_closed_template_required, human_agent_tag_window, human_agent_tag_person_only, window_closed, tag_window_expired, quota_available, quota_exceeded, commercial_terms, wechat_reply_limit.
	ReasonCode string `json:"reason_code" example:"window_closed_template_required"`
	Reason     string `json:"reason" example:"The customer last wrote 30 hours ago; WhatsApp allows only approved templates after 24 hours."`
	// WindowExpiresAt is when the messaging window closes (or closed); null on channels without one or before the first inbound message.
	WindowExpiresAt *time.Time `json:"window_expires_at" extensions:"x-nullable" format:"date-time" example:"2026-11-29T08:00:00Z"`
	// TagExpiresAt is when the HUMAN_AGENT tag stops being allowed, where it applies.
	TagExpiresAt *time.Time `json:"tag_expires_at" extensions:"x-nullable" format:"date-time" example:"2026-12-05T08:00:00Z"`
	AllowedTags  []string   `json:"allowed_tags" example:"HUMAN_AGENT"`
	// Quota is the channel's allowance where one applies (Viber's monthly chatbot-initiated messages, WeChat's five replies).
	Quota *Quota `json:"quota" extensions:"x-nullable"`
	// Billable is set when the message is charged (Viber under commercial terms).
	Billable    bool   `json:"billable" example:"false"`
	RuleVersion string `json:"rule_version" example:"2026-11-01"`
} // @name Decision

// ChannelEligibility is the rule table's answer on one of a contact's channel identities.
type ChannelEligibility struct {
	ChannelID   string `json:"channel_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	ChannelType string `json:"channel_type" example:"whatsapp"`
	// Identifier is the contact's address on the channel; null for a caller without the
	// contacts:read scope.
	Identifier *string `json:"identifier" extensions:"x-nullable" example:"+14155550142"`
	// LastInboundAt is the customer's last message on this channel: the window's start.
	LastInboundAt *time.Time `json:"last_inbound_at" extensions:"x-nullable" format:"date-time" example:"2026-11-28T02:00:00Z"`
	Decision
} // @name ChannelEligibility

// SendEligibility answers whether, and how, a contact may be written to now on each channel.
type SendEligibility struct {
	ContactID string `json:"contact_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f53"`
	// DefaultChannelID is where a send without channel_id goes: the channel the contact last wrote on (else the newest identity); null without identities.
	DefaultChannelID *string              `json:"default_channel_id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	Channels         []ChannelEligibility `json:"channels"`
	// At is the instant the answer is for: the future at the request asked about, else now.
	At time.Time `json:"at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name SendEligibility

// SendResult is the answer of a send: the message, its conversation and the decision
// that allowed it.
type SendResult struct {
	Message      Message      `json:"message"`
	Conversation Conversation `json:"conversation"`
	Decision     Decision     `json:"decision"`
} // @name SendResult

// ToDecision is the rule table's answer d as the API writes it.
func ToDecision(d rules.Result) Decision {
	out := Decision{Decision: string(d.Decision), ReasonCode: d.ReasonCode, Reason: d.Reason,
		WindowExpiresAt: d.WindowExpiresAt, TagExpiresAt: d.TagExpiresAt, AllowedTags: orEmpty(d.AllowedTags),
		Billable: d.Billable, RuleVersion: d.RuleVersion}
	if q := d.Quota; q != nil {
		out.Quota = &Quota{Limit: q.Limit, Used: q.Used, ResetsAt: q.ResetsAt}
	}
	return out
}

// ToSendEligibility is el with every identity's identifier.
func ToSendEligibility(el conversation.Eligibility) SendEligibility {
	out := SendEligibility{ContactID: el.ContactID.String(), DefaultChannelID: optID(el.DefaultChannelID),
		Channels: make([]ChannelEligibility, len(el.Channels)), At: el.At}
	for i, ch := range el.Channels {
		out.Channels[i] = ChannelEligibility{ChannelID: ch.Identity.ChannelID.String(), ChannelType: string(ch.Identity.ChannelType),
			Identifier: &ch.Identity.Identifier, LastInboundAt: ch.Identity.LastInboundAt, Decision: ToDecision(ch.Decision)}
	}
	return out
}

// ToSendResult is what a send produced, contact reach included.
func ToSendResult(s conversation.Sent) SendResult {
	return SendResult{Message: ToMessage(s.Message), Conversation: ToConversation(s.Conversation), Decision: ToDecision(s.Decision)}
}

// SendAnswer is the answer to a send, 201 with its SendResult: the store keeps it, in the
// send's transaction, as what a retry with the same Idempotency-Key replays.
func SendAnswer(s conversation.Sent) (status int, body []byte, err error) {
	b, err := json.Marshal(ToSendResult(s))
	return http.StatusCreated, b, err
}
