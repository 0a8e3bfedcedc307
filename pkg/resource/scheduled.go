package resource

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/pkg/conversation"
)

// ScheduledMessage is a send waiting for its instant, or what became of it.
type ScheduledMessage struct {
	ID string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f90"`
	// Status leaves scheduled once: sent (message_id names the message), blocked (the rules refused the message and the fallback template, or there was none: decision says why), cancelled (DELETE, or the customer replied: reason) or failed (the send could not be attempted, e.g. the identity or channel is gone: reason).
	Status    string    `json:"status" enums:"scheduled,sent,blocked,cancelled,failed" example:"scheduled"`
	SendAt    time.Time `json:"send_at" format:"date-time" example:"2026-12-06T09:00:00Z"`
	ContactID string    `json:"contact_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f53"`
	// ChannelID is the channel chosen at scheduling (the request's, else the contact's default channel then).
	ChannelID string `json:"channel_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	// PreviewDecision is the rule table's answer for the message at send_at, assuming nothing else happens before then.
	PreviewDecision Decision `json:"preview_decision"`
	// Decision is the answer at send_at, on the state of that moment (for the fallback template when it was sent); null until it fired.
	Decision    *Decision        `json:"decision" extensions:"x-nullable"`
	Type        string           `json:"type" enums:"text,template,attachment" example:"text"`
	Text        string           `json:"text" example:"Your parcel arrives tomorrow."`
	Template    *MessageTemplate `json:"template" extensions:"x-nullable"`
	Attachments []Attachment     `json:"attachments"`
	Tag         *string          `json:"tag" extensions:"x-nullable" example:"HUMAN_AGENT"`
	// FallbackTemplate is sent instead when the rules refuse the message at send_at.
	FallbackTemplate        *MessageTemplate `json:"fallback_template" extensions:"x-nullable"`
	CancelIfCustomerReplied bool             `json:"cancel_if_customer_replied" example:"true"`
	CreatedBy               Actor            `json:"created_by"`
	// MessageID is the message it sent; null until sent.
	MessageID *string `json:"message_id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f70"`
	// Reason says why it was not sent: customer_replied, cancelled, a refusal code (blocked) or a failure code (failed).
	Reason    *string   `json:"reason" extensions:"x-nullable" example:"customer_replied"`
	CreatedAt time.Time `json:"created_at" format:"date-time" example:"2026-12-05T09:00:00Z"`
	UpdatedAt time.Time `json:"updated_at" format:"date-time" example:"2026-12-05T09:00:00Z"`
} // @name ScheduledMessage

// ScheduledMessageList is a page of scheduled messages.
type ScheduledMessageList struct {
	Data       []ScheduledMessage `json:"data"`
	NextCursor *string            `json:"next_cursor" extensions:"x-nullable"`
} // @name ScheduledMessageList

// ToScheduledMessage is sc as the API returns it.
func ToScheduledMessage(sc conversation.Scheduled) ScheduledMessage {
	out := ScheduledMessage{ID: sc.ID.String(), Status: string(sc.Status), SendAt: sc.SendAt.UTC(), ContactID: sc.ContactID.String(),
		ChannelID: sc.ChannelID.String(), PreviewDecision: ToDecision(sc.PreviewDecision), Type: string(sc.Draft.Type),
		Text: sc.Draft.Text, CancelIfCustomerReplied: sc.CancelIfCustomerReplied, CreatedBy: ToActor(sc.CreatedBy),
		MessageID: optID(sc.MessageID), Reason: sc.Reason, CreatedAt: sc.CreatedAt, UpdatedAt: sc.UpdatedAt}
	if sc.Decision != nil {
		d := ToDecision(*sc.Decision)
		out.Decision = &d
	}
	if t := sc.Draft.Template; t != nil {
		out.Template = &MessageTemplate{Name: t.Name, Language: t.Language, Variables: orEmpty(t.Variables)}
	}
	if t := sc.Fallback; t != nil {
		out.FallbackTemplate = &MessageTemplate{Name: t.Name, Language: t.Language, Variables: orEmpty(t.Variables)}
	}
	if sc.Draft.Tag != "" {
		tag := sc.Draft.Tag
		out.Tag = &tag
	}
	out.Attachments = make([]Attachment, len(sc.Draft.Attachments))
	for i, a := range sc.Draft.Attachments {
		out.Attachments[i] = Attachment{MediaID: optID(a.MediaID), URL: optString(a.URL), MimeType: optString(a.MimeType),
			Filename: optString(a.Filename), Status: string(a.Status), FailureReason: optString(a.Reason)}
		if a.MediaID != nil {
			size := a.Size
			out.Attachments[i].Size = &size
		}
	}
	return out
}

// ScheduledAnswer is the answer to a scheduled send, 202 with its ScheduledMessage: the store
// keeps it, in the scheduling transaction, as what a retry with the same Idempotency-Key replays.
func ScheduledAnswer(sc conversation.Scheduled) (status int, body []byte, err error) {
	b, err := json.Marshal(ToScheduledMessage(sc))
	return http.StatusAccepted, b, err
}
