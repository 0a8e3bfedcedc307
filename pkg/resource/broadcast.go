package resource

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/pkg/conversation"
)

// Broadcast is one message sent to an audience of contacts on a channel, and its progress.
type Broadcast struct {
	ID        string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4fa0"`
	Name      string `json:"name" example:"December opening hours"`
	ChannelID string `json:"channel_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	// Status moves scheduled → running → done; cancelled from scheduled or running (the recipients not reached stay pending).
	Status string          `json:"status" enums:"scheduled,running,done,cancelled" example:"running"`
	Counts BroadcastCounts `json:"counts"`
	// Message is the message as given, its {{contact.*}} variables unfilled.
	Message BroadcastMessage `json:"message"`
	// Audience is how the recipients were chosen: tag, or contact_ids (how many ids were given).
	Audience BroadcastAudienceSummary `json:"audience"`
	// SendAt is when it starts; null: at once.
	SendAt    *time.Time `json:"send_at" format:"date-time" extensions:"x-nullable" example:"2026-12-06T09:00:00Z"`
	CreatedBy Actor      `json:"created_by"`
	CreatedAt time.Time  `json:"created_at" format:"date-time" example:"2026-12-05T09:00:00Z"`
	UpdatedAt time.Time  `json:"updated_at" format:"date-time" example:"2026-12-05T09:00:00Z"`
} // @name Broadcast

// BroadcastCounts are a broadcast's recipients by status. sent, refused and failed are kept by the worker after each batch of recipients (exact once the broadcast is done or cancelled); pending is the rest.
type BroadcastCounts struct {
	Sent    int `json:"sent" minimum:"0" example:"9120"`
	Refused int `json:"refused" minimum:"0" example:"850"`
	Failed  int `json:"failed" minimum:"0" example:"3"`
	Pending int `json:"pending" minimum:"0" example:"27"`
} // @name BroadcastCounts

// BroadcastMessage is a broadcast's message.
type BroadcastMessage struct {
	Type     string           `json:"type" enums:"text,template" example:"text"`
	Text     string           `json:"text" example:"Hi {{contact.first_name}}, we open at 10 on Sunday."`
	Template *MessageTemplate `json:"template" extensions:"x-nullable"`
} // @name BroadcastMessage

// BroadcastAudienceSummary says how a broadcast's audience was chosen.
type BroadcastAudienceSummary struct {
	Tag        *string `json:"tag" extensions:"x-nullable" example:"vip"`
	ContactIDs *int    `json:"contact_ids" extensions:"x-nullable" example:"120"`
} // @name BroadcastAudienceSummary

// BroadcastList is a page of broadcasts.
type BroadcastList struct {
	Data       []Broadcast `json:"data"`
	NextCursor *string     `json:"next_cursor" extensions:"x-nullable"`
} // @name BroadcastList

// BroadcastRecipient is one contact of a broadcast's audience and what became of them.
type BroadcastRecipient struct {
	ContactID string `json:"contact_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f53"`
	// Status: pending until the worker reaches them; sent (message_id), refused (the rule table refused the message: decision and error say why; error no_channel_identity without a decision) or failed (the send could not be made: error).
	Status    string    `json:"status" enums:"pending,sent,refused,failed" example:"sent"`
	Decision  *Decision `json:"decision" extensions:"x-nullable"`
	MessageID *string   `json:"message_id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f70"`
	Error     *string   `json:"error" extensions:"x-nullable" example:"messaging_window_closed"`
	UpdatedAt time.Time `json:"updated_at" format:"date-time" example:"2026-12-05T09:00:00Z"`
} // @name BroadcastRecipient

// BroadcastRecipientList is a page of a broadcast's recipients.
type BroadcastRecipientList struct {
	Data       []BroadcastRecipient `json:"data"`
	NextCursor *string              `json:"next_cursor" extensions:"x-nullable"`
} // @name BroadcastRecipientList

// BroadcastDryRun is what a broadcast would do now; nothing is written.
type BroadcastDryRun struct {
	// Recipients is the number of contacts in the audience.
	Recipients int `json:"recipients" minimum:"0" example:"100000"`
	// ByDecision counts the recipients by the rule table's decision on the channel now, and those without an identity on it.
	ByDecision BroadcastDecisionCounts `json:"by_decision"`
	// Permitted is how many the rules would let this message through to now.
	Permitted int `json:"permitted" minimum:"0" example:"98000"`
	// Billable is how many of the permitted sends the provider charges for: on WhatsApp a template outside the customer-service window, or a marketing or authentication template at any time (Meta's per-message pricing; utility templates inside the window and free-form messages are free); on Viber a chatbot-initiated message under commercial terms.
	Billable int `json:"billable" minimum:"0" example:"41000"`
} // @name BroadcastDryRun

// BroadcastDecisionCounts are a dry run's recipients by decision.
type BroadcastDecisionCounts struct {
	Allowed           int `json:"allowed" minimum:"0" example:"57000"`
	TemplateRequired  int `json:"template_required" minimum:"0" example:"41000"`
	TagRequired       int `json:"tag_required" minimum:"0" example:"0"`
	Blocked           int `json:"blocked" minimum:"0" example:"0"`
	NoChannelIdentity int `json:"no_channel_identity" minimum:"0" example:"2000"`
} // @name BroadcastDecisionCounts

// ToBroadcast is b as the API returns it.
func ToBroadcast(b conversation.Broadcast) Broadcast {
	out := Broadcast{ID: b.ID.String(), Name: b.Name, ChannelID: b.ChannelID.String(), Status: string(b.Status),
		Counts:  BroadcastCounts{Sent: b.Counts.Sent, Refused: b.Counts.Refused, Failed: b.Counts.Failed, Pending: max(0, b.Counts.Pending())},
		Message: BroadcastMessage{Type: string(b.Message.Type), Text: b.Message.Text}, CreatedBy: ToActor(b.CreatedBy),
		CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}
	if t := b.Message.Template; t != nil {
		out.Message.Template = &MessageTemplate{Name: t.Name, Language: t.Language, Variables: orEmpty(t.Variables)}
	}
	if b.Audience.Tag != "" {
		tag := b.Audience.Tag
		out.Audience.Tag = &tag
	} else if n := max(len(b.Audience.ContactIDs), b.Audience.GivenIDs); n > 0 {
		out.Audience.ContactIDs = &n
	}
	if b.SendAt != nil {
		at := b.SendAt.UTC()
		out.SendAt = &at
	}
	return out
}

// ToBroadcastRecipient is r as the API returns it.
func ToBroadcastRecipient(r conversation.Recipient) BroadcastRecipient {
	out := BroadcastRecipient{ContactID: r.ContactID.String(), Status: string(r.Status), MessageID: optID(r.MessageID),
		Error: r.Error, UpdatedAt: r.UpdatedAt}
	if r.Decision != nil {
		d := ToDecision(*r.Decision)
		out.Decision = &d
	}
	return out
}

// ToBroadcastDryRun is d as the API returns it.
func ToBroadcastDryRun(d conversation.DryRun) BroadcastDryRun {
	return BroadcastDryRun{Recipients: d.Recipients, Permitted: d.Permitted, Billable: d.Billable,
		ByDecision: BroadcastDecisionCounts{Allowed: d.ByDecision["allowed"], TemplateRequired: d.ByDecision["template_required"],
			TagRequired: d.ByDecision["tag_required"], Blocked: d.ByDecision["blocked"],
			NoChannelIdentity: d.ByDecision[conversation.DecisionNoChannelIdentity]}}
}

// BroadcastAnswer is the answer to a created broadcast, 201 with it: the store keeps it, in
// the creating transaction, as what a retry with the same Idempotency-Key replays.
func BroadcastAnswer(b conversation.Broadcast) (status int, body []byte, err error) {
	body, err = json.Marshal(ToBroadcast(b))
	return http.StatusCreated, body, err
}
