package rules

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

// now is the fixed clock of every test: mid-month, so Viber resets on 2026-12-01.
var now = time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

var (
	user    = Sender{Kind: SenderUser}
	keyOBO  = Sender{Kind: SenderAPIKey, OnBehalfOf: true}
	key     = Sender{Kind: SenderAPIKey}
	system  = Sender{Kind: SenderSystem}
	human   = []string{HumanAgentTag}
	reset   = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	noTags  = []string{}
	viberQ  = func(used int) *Quota { return &Quota{Limit: 10000, Used: used, ResetsAt: reset} }
	wechatQ = func(used int, expires time.Duration) *Quota {
		return &Quota{Limit: 5, Used: used, ResetsAt: now.Add(expires)}
	}
)

// ago is a last-inbound instant d before now.
func ago(d time.Duration) *time.Time { t := now.Add(-d); return &t }

// in is an expiry instant d after now (negative: in the past).
func in(d time.Duration) *time.Time { t := now.Add(d); return &t }

func text() *Message                  { return &Message{Type: MessageText} }
func attachment() *Message            { return &Message{Type: MessageAttachment} }
func tagged(tag string) *Message      { return &Message{Type: MessageText, Tag: tag} }
func template(status string) *Message { return &Message{Type: MessageTemplate, TemplateStatus: status} }

type decideCase struct {
	name   string
	typ    ChannelType
	opts   map[string]any // raw rule_options, parsed with ParseOptions
	id     Identity
	sender Sender
	msg    *Message
	now    time.Time // zero: now
	want   Result    // every field but Reason and RuleVersion
	reason string    // the exact Reason, when set
}

func TestDecide(t *testing.T) {
	cases := []decideCase{
		// WhatsApp: 24 hours, then approved templates only.
		{
			name: "whatsapp inside at 23h59m", typ: WhatsApp, id: Identity{LastInboundAt: ago(23*time.Hour + 59*time.Minute)}, sender: user,
			want:   Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(time.Minute)},
			reason: "The customer last wrote 23 hours ago; WhatsApp allows any message until its 24-hour window closes in 1 minute.",
		},
		{
			name: "whatsapp exactly 24h is outside", typ: WhatsApp, id: Identity{LastInboundAt: ago(24 * time.Hour)}, sender: user,
			want:   Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(0)},
			reason: "The customer last wrote 24 hours ago; WhatsApp allows only approved templates after 24 hours.",
		},
		{
			name: "whatsapp outside at 24h0m1s", typ: WhatsApp, id: Identity{LastInboundAt: ago(24*time.Hour + time.Second)}, sender: user,
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(-time.Second)},
		},
		{
			name: "whatsapp outside at 30h", typ: WhatsApp, id: Identity{LastInboundAt: ago(30 * time.Hour)}, sender: user,
			want:   Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(-6 * time.Hour)},
			reason: "The customer last wrote 30 hours ago; WhatsApp allows only approved templates after 24 hours.",
		},
		{
			name: "whatsapp never wrote", typ: WhatsApp, sender: user,
			want:   Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired},
			reason: "The customer has not written on WhatsApp yet; WhatsApp allows only approved templates until they do.",
		},
		{
			name: "whatsapp inside text", typ: WhatsApp, id: Identity{LastInboundAt: ago(time.Hour)}, sender: user, msg: text(),
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), Permitted: true},
		},
		{
			name: "whatsapp inside attachment", typ: WhatsApp, id: Identity{LastInboundAt: ago(time.Hour)}, sender: system, msg: attachment(),
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), Permitted: true},
		},
		{
			name: "whatsapp inside approved template", typ: WhatsApp, id: Identity{LastInboundAt: ago(time.Hour)}, sender: user, msg: template("approved"),
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), Permitted: true},
		},
		{
			name: "whatsapp inside pending template", typ: WhatsApp, id: Identity{LastInboundAt: ago(time.Hour)}, sender: user, msg: template("pending"),
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), RefusalCode: RefusalTemplateNotApproved},
		},
		{
			name: "whatsapp inside tag", typ: WhatsApp, id: Identity{LastInboundAt: ago(time.Hour)}, sender: user, msg: tagged(HumanAgentTag),
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "whatsapp outside text", typ: WhatsApp, id: Identity{LastInboundAt: ago(30 * time.Hour)}, sender: user, msg: text(),
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(-6 * time.Hour), RefusalCode: RefusalTemplateRequired},
		},
		{
			name: "whatsapp outside attachment", typ: WhatsApp, id: Identity{LastInboundAt: ago(30 * time.Hour)}, sender: user, msg: attachment(),
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(-6 * time.Hour), RefusalCode: RefusalTemplateRequired},
		},
		{
			name: "whatsapp outside approved template", typ: WhatsApp, id: Identity{LastInboundAt: ago(30 * time.Hour)}, sender: key, msg: template("approved"),
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(-6 * time.Hour), Permitted: true},
		},
		{
			name: "whatsapp outside pending template", typ: WhatsApp, id: Identity{LastInboundAt: ago(30 * time.Hour)}, sender: user, msg: template("pending"),
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(-6 * time.Hour), RefusalCode: RefusalTemplateNotApproved},
		},
		{
			name: "whatsapp outside rejected template", typ: WhatsApp, id: Identity{LastInboundAt: ago(30 * time.Hour)}, sender: user, msg: template("rejected"),
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(-6 * time.Hour), RefusalCode: RefusalTemplateNotApproved},
		},
		{
			name: "whatsapp outside paused template", typ: WhatsApp, id: Identity{LastInboundAt: ago(30 * time.Hour)}, sender: user, msg: template("paused"),
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(-6 * time.Hour), RefusalCode: RefusalTemplateNotApproved},
		},
		{
			name: "whatsapp outside template without status", typ: WhatsApp, id: Identity{LastInboundAt: ago(30 * time.Hour)}, sender: user, msg: template(""),
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(-6 * time.Hour), RefusalCode: RefusalTemplateNotApproved},
		},
		{
			name: "whatsapp outside status is case sensitive", typ: WhatsApp, id: Identity{LastInboundAt: ago(30 * time.Hour)}, sender: user, msg: template("APPROVED"),
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(-6 * time.Hour), RefusalCode: RefusalTemplateNotApproved},
		},
		{
			name: "whatsapp never wrote approved template", typ: WhatsApp, sender: user, msg: template("approved"),
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, Permitted: true},
		},
		{
			name: "whatsapp never wrote text", typ: WhatsApp, sender: user, msg: text(),
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, RefusalCode: RefusalTemplateRequired},
		},
		{
			name: "whatsapp last inbound in another zone", typ: WhatsApp, sender: user,
			id:   Identity{LastInboundAt: func() *time.Time { t := now.Add(-time.Hour).In(time.FixedZone("X", 5*3600)); return &t }()},
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour)},
		},

		// Messenger: 24 hours, then HUMAN_AGENT from a person until 7 days.
		{
			name: "messenger inside user", typ: Messenger, id: Identity{LastInboundAt: ago(23*time.Hour + 59*time.Minute)}, sender: user,
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(time.Minute), TagExpiresAt: in(6*day + time.Minute), AllowedTags: human},
		},
		{
			name: "messenger inside api key without on_behalf_of", typ: Messenger, id: Identity{LastInboundAt: ago(time.Hour)}, sender: key,
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), TagExpiresAt: in(7*day - time.Hour), AllowedTags: noTags},
		},
		{
			name: "messenger inside untagged", typ: Messenger, id: Identity{LastInboundAt: ago(time.Hour)}, sender: key, msg: text(),
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), TagExpiresAt: in(7*day - time.Hour), Permitted: true},
		},
		{
			name: "messenger inside HUMAN_AGENT from user", typ: Messenger, id: Identity{LastInboundAt: ago(time.Hour)}, sender: user, msg: tagged(HumanAgentTag),
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), TagExpiresAt: in(7*day - time.Hour), AllowedTags: human, Permitted: true},
		},
		{
			name: "messenger inside HUMAN_AGENT from api key without on_behalf_of", typ: Messenger, id: Identity{LastInboundAt: ago(time.Hour)}, sender: key, msg: tagged(HumanAgentTag),
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), TagExpiresAt: in(7*day - time.Hour), RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "messenger inside other tag", typ: Messenger, id: Identity{LastInboundAt: ago(time.Hour)}, sender: user, msg: tagged("ACCOUNT_UPDATE"),
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), TagExpiresAt: in(7*day - time.Hour), AllowedTags: human, RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "messenger exactly 24h is the tag period", typ: Messenger, id: Identity{LastInboundAt: ago(24 * time.Hour)}, sender: user,
			want:   Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTag, WindowExpiresAt: in(0), TagExpiresAt: in(6 * day), AllowedTags: human},
			reason: "The customer last wrote 24 hours ago; after 24 hours Messenger allows only messages tagged HUMAN_AGENT, sent by a person, until 7 days after the customer's last message (in 6 days).",
		},
		{
			name: "messenger 24h0m1s untagged", typ: Messenger, id: Identity{LastInboundAt: ago(24*time.Hour + time.Second)}, sender: user, msg: text(),
			want: Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTag, WindowExpiresAt: in(-time.Second), TagExpiresAt: in(6*day - time.Second), AllowedTags: human, RefusalCode: RefusalTagRequired},
		},
		{
			name: "messenger 24h0m1s HUMAN_AGENT from user", typ: Messenger, id: Identity{LastInboundAt: ago(24*time.Hour + time.Second)}, sender: user, msg: tagged(HumanAgentTag),
			want: Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTag, WindowExpiresAt: in(-time.Second), TagExpiresAt: in(6*day - time.Second), AllowedTags: human, Permitted: true},
		},
		{
			name: "messenger tag period other tag", typ: Messenger, id: Identity{LastInboundAt: ago(3 * day)}, sender: user, msg: tagged("CONFIRMED_EVENT_UPDATE"),
			want: Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTag, WindowExpiresAt: in(-2 * day), TagExpiresAt: in(4 * day), AllowedTags: human, RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "messenger tag period lower-case tag", typ: Messenger, id: Identity{LastInboundAt: ago(3 * day)}, sender: user, msg: tagged("human_agent"),
			want: Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTag, WindowExpiresAt: in(-2 * day), TagExpiresAt: in(4 * day), AllowedTags: human, RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "messenger tag period template without tag", typ: Messenger, id: Identity{LastInboundAt: ago(3 * day)}, sender: user, msg: template("approved"),
			want: Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTag, WindowExpiresAt: in(-2 * day), TagExpiresAt: in(4 * day), AllowedTags: human, RefusalCode: RefusalTagRequired},
		},
		{
			name: "messenger 6d23h59m HUMAN_AGENT from user", typ: Messenger, id: Identity{LastInboundAt: ago(7*day - time.Minute)}, sender: user, msg: tagged(HumanAgentTag),
			want: Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTag, WindowExpiresAt: in(-6*day + time.Minute), TagExpiresAt: in(time.Minute), AllowedTags: human, Permitted: true},
		},
		{
			name: "messenger exactly 7d is expired", typ: Messenger, id: Identity{LastInboundAt: ago(7 * day)}, sender: user, msg: tagged(HumanAgentTag),
			want: Result{Decision: Blocked, ReasonCode: ReasonTagWindowExpired, WindowExpiresAt: in(-6 * day), TagExpiresAt: in(0), RefusalCode: RefusalWindowClosed},
		},
		{
			name: "messenger 7d+1s eligibility", typ: Messenger, id: Identity{LastInboundAt: ago(7*day + time.Second)}, sender: user,
			want:   Result{Decision: Blocked, ReasonCode: ReasonTagWindowExpired, WindowExpiresAt: in(-6*day - time.Second), TagExpiresAt: in(-time.Second)},
			reason: "The customer last wrote 7 days ago; Messenger allows no message, not even tagged HUMAN_AGENT, 7 days or more after the customer's last message, until they write again.",
		},
		{
			name: "messenger 7d+1s HUMAN_AGENT from user", typ: Messenger, id: Identity{LastInboundAt: ago(7*day + time.Second)}, sender: user, msg: tagged(HumanAgentTag),
			want: Result{Decision: Blocked, ReasonCode: ReasonTagWindowExpired, WindowExpiresAt: in(-6*day - time.Second), TagExpiresAt: in(-time.Second), RefusalCode: RefusalWindowClosed},
		},
		{
			name: "messenger 7d+1s untagged", typ: Messenger, id: Identity{LastInboundAt: ago(7*day + time.Second)}, sender: user, msg: text(),
			want: Result{Decision: Blocked, ReasonCode: ReasonTagWindowExpired, WindowExpiresAt: in(-6*day - time.Second), TagExpiresAt: in(-time.Second), RefusalCode: RefusalWindowClosed},
		},
		{
			name: "messenger tag period api key with on_behalf_of", typ: Messenger, id: Identity{LastInboundAt: ago(3 * day)}, sender: keyOBO, msg: tagged(HumanAgentTag),
			want: Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTag, WindowExpiresAt: in(-2 * day), TagExpiresAt: in(4 * day), AllowedTags: human, Permitted: true},
		},
		{
			name: "messenger tag period api key without on_behalf_of eligibility", typ: Messenger, id: Identity{LastInboundAt: ago(3 * day)}, sender: key,
			want:   Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTagPersonOnly, WindowExpiresAt: in(-2 * day), TagExpiresAt: in(4 * day)},
			reason: "The customer last wrote 3 days ago; after 24 hours Messenger allows only messages tagged HUMAN_AGENT, and only a person (a user, or an API key acting on behalf of one) may send them.",
		},
		{
			name: "messenger tag period api key without on_behalf_of HUMAN_AGENT", typ: Messenger, id: Identity{LastInboundAt: ago(3 * day)}, sender: key, msg: tagged(HumanAgentTag),
			want: Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTagPersonOnly, WindowExpiresAt: in(-2 * day), TagExpiresAt: in(4 * day), RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "messenger tag period api key without on_behalf_of untagged", typ: Messenger, id: Identity{LastInboundAt: ago(3 * day)}, sender: key, msg: text(),
			want: Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTagPersonOnly, WindowExpiresAt: in(-2 * day), TagExpiresAt: in(4 * day), RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "messenger tag period system sender", typ: Messenger, id: Identity{LastInboundAt: ago(3 * day)}, sender: system, msg: tagged(HumanAgentTag),
			want: Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTagPersonOnly, WindowExpiresAt: in(-2 * day), TagExpiresAt: in(4 * day), RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "messenger system sender with on_behalf_of is not a person", typ: Messenger, id: Identity{LastInboundAt: ago(3 * day)}, sender: Sender{Kind: SenderSystem, OnBehalfOf: true},
			want: Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTagPersonOnly, WindowExpiresAt: in(-2 * day), TagExpiresAt: in(4 * day)},
		},
		{
			name: "messenger never wrote", typ: Messenger, sender: user, msg: tagged(HumanAgentTag),
			want:   Result{Decision: Blocked, ReasonCode: ReasonWindowClosed, RefusalCode: RefusalWindowClosed},
			reason: "The customer has not written on Messenger yet; Messenger allows no message until they do.",
		},
		{
			name: "messenger human_agent_tag false inside", typ: Messenger, opts: map[string]any{"human_agent_tag": false}, id: Identity{LastInboundAt: ago(time.Hour)}, sender: user,
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour)},
		},
		{
			name: "messenger human_agent_tag false inside HUMAN_AGENT", typ: Messenger, opts: map[string]any{"human_agent_tag": false}, id: Identity{LastInboundAt: ago(time.Hour)}, sender: user, msg: tagged(HumanAgentTag),
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "messenger human_agent_tag false 24h0m1s", typ: Messenger, opts: map[string]any{"human_agent_tag": false}, id: Identity{LastInboundAt: ago(24*time.Hour + time.Second)}, sender: user,
			want:   Result{Decision: Blocked, ReasonCode: ReasonWindowClosed, WindowExpiresAt: in(-time.Second)},
			reason: "The customer last wrote 24 hours ago; Messenger allows no message after 24 hours until the customer writes again.",
		},
		{
			name: "messenger human_agent_tag false HUMAN_AGENT after 24h", typ: Messenger, opts: map[string]any{"human_agent_tag": false}, id: Identity{LastInboundAt: ago(2 * day)}, sender: user, msg: tagged(HumanAgentTag),
			want: Result{Decision: Blocked, ReasonCode: ReasonWindowClosed, WindowExpiresAt: in(-day), RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "messenger human_agent_tag false untagged after 24h", typ: Messenger, opts: map[string]any{"human_agent_tag": false}, id: Identity{LastInboundAt: ago(2 * day)}, sender: user, msg: text(),
			want: Result{Decision: Blocked, ReasonCode: ReasonWindowClosed, WindowExpiresAt: in(-day), RefusalCode: RefusalWindowClosed},
		},

		// Instagram: 24 hours, then blocked; human_agent_tag true makes it Messenger.
		{
			name: "instagram default inside", typ: Instagram, id: Identity{LastInboundAt: ago(23*time.Hour + 59*time.Minute)}, sender: user,
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(time.Minute)},
		},
		{
			name: "instagram default exactly 24h", typ: Instagram, id: Identity{LastInboundAt: ago(24 * time.Hour)}, sender: user,
			want:   Result{Decision: Blocked, ReasonCode: ReasonWindowClosed, WindowExpiresAt: in(0)},
			reason: "The customer last wrote 24 hours ago; Instagram allows no message after 24 hours until the customer writes again.",
		},
		{
			name: "instagram default after text", typ: Instagram, id: Identity{LastInboundAt: ago(2 * day)}, sender: user, msg: text(),
			want: Result{Decision: Blocked, ReasonCode: ReasonWindowClosed, WindowExpiresAt: in(-day), RefusalCode: RefusalWindowClosed},
		},
		{
			name: "instagram default after HUMAN_AGENT", typ: Instagram, id: Identity{LastInboundAt: ago(2 * day)}, sender: user, msg: tagged(HumanAgentTag),
			want: Result{Decision: Blocked, ReasonCode: ReasonWindowClosed, WindowExpiresAt: in(-day), RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "instagram default never wrote", typ: Instagram, sender: user, msg: text(),
			want: Result{Decision: Blocked, ReasonCode: ReasonWindowClosed, RefusalCode: RefusalWindowClosed},
		},
		{
			name: "instagram human_agent_tag true inside", typ: Instagram, opts: map[string]any{"human_agent_tag": true}, id: Identity{LastInboundAt: ago(time.Hour)}, sender: user,
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), TagExpiresAt: in(7*day - time.Hour), AllowedTags: human},
		},
		{
			name: "instagram human_agent_tag true tag period", typ: Instagram, opts: map[string]any{"human_agent_tag": true}, id: Identity{LastInboundAt: ago(24*time.Hour + time.Second)}, sender: user,
			want:   Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTag, WindowExpiresAt: in(-time.Second), TagExpiresAt: in(6*day - time.Second), AllowedTags: human},
			reason: "The customer last wrote 24 hours ago; after 24 hours Instagram allows only messages tagged HUMAN_AGENT, sent by a person, until 7 days after the customer's last message (in 5 days).",
		},
		{
			name: "instagram human_agent_tag true HUMAN_AGENT from api key with on_behalf_of", typ: Instagram, opts: map[string]any{"human_agent_tag": true}, id: Identity{LastInboundAt: ago(6*day + 23*time.Hour + 59*time.Minute)}, sender: keyOBO, msg: tagged(HumanAgentTag),
			want: Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTag, WindowExpiresAt: in(-5*day - 23*time.Hour - 59*time.Minute), TagExpiresAt: in(time.Minute), AllowedTags: human, Permitted: true},
		},
		{
			name: "instagram human_agent_tag true untagged from api key", typ: Instagram, opts: map[string]any{"human_agent_tag": true}, id: Identity{LastInboundAt: ago(3 * day)}, sender: key, msg: text(),
			want: Result{Decision: TagRequired, ReasonCode: ReasonHumanAgentTagPersonOnly, WindowExpiresAt: in(-2 * day), TagExpiresAt: in(4 * day), RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "instagram human_agent_tag true 7d+1s", typ: Instagram, opts: map[string]any{"human_agent_tag": true}, id: Identity{LastInboundAt: ago(7*day + time.Second)}, sender: user, msg: tagged(HumanAgentTag),
			want: Result{Decision: Blocked, ReasonCode: ReasonTagWindowExpired, WindowExpiresAt: in(-6*day - time.Second), TagExpiresAt: in(-time.Second), RefusalCode: RefusalWindowClosed},
		},

		// Viber: 24-hour session, then chatbot-initiated within the monthly quota.
		{
			name: "viber inside session", typ: Viber, id: Identity{LastInboundAt: ago(23*time.Hour + 59*time.Minute), MonthInitiated: 42}, sender: user,
			want:   Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(time.Minute), Quota: viberQ(42)},
			reason: "The customer last wrote 23 hours ago; Viber allows any message until its 24-hour session closes in 1 minute.",
		},
		{
			name: "viber inside session with quota used up", typ: Viber, id: Identity{LastInboundAt: ago(time.Hour), MonthInitiated: 10000}, sender: user, msg: text(),
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), Quota: viberQ(10000), Permitted: true},
		},
		{
			name: "viber exactly 24h is initiated", typ: Viber, id: Identity{LastInboundAt: ago(24 * time.Hour)}, sender: user, msg: text(),
			want: Result{Decision: Allowed, ReasonCode: ReasonQuotaAvailable, WindowExpiresAt: in(0), Quota: viberQ(0), Initiated: true, Permitted: true},
		},
		{
			name: "viber last unit of the quota", typ: Viber, id: Identity{LastInboundAt: ago(2 * day), MonthInitiated: 9999}, sender: user, msg: text(),
			want:   Result{Decision: Allowed, ReasonCode: ReasonQuotaAvailable, WindowExpiresAt: in(-day), Quota: viberQ(9999), Initiated: true, Permitted: true},
			reason: "The customer last wrote 2 days ago; outside Viber's 24-hour session a message is chatbot-initiated; this channel has used 9999 of its 10000 for this month.",
		},
		{
			name: "viber quota used up", typ: Viber, id: Identity{LastInboundAt: ago(2 * day), MonthInitiated: 10000}, sender: user, msg: text(),
			want:   Result{Decision: Blocked, ReasonCode: ReasonQuotaExceeded, WindowExpiresAt: in(-day), Quota: viberQ(10000), RefusalCode: RefusalQuotaExceeded},
			reason: "The customer last wrote 2 days ago; outside Viber's 24-hour session only chatbot-initiated messages may be sent, and this channel has used all 10000 for this month; the quota resets on 2026-12-01 00:00 UTC.",
		},
		{
			name: "viber custom limit last unit", typ: Viber, opts: map[string]any{"monthly_initiated_limit": float64(5)}, id: Identity{LastInboundAt: ago(2 * day), MonthInitiated: 4}, sender: key,
			want: Result{Decision: Allowed, ReasonCode: ReasonQuotaAvailable, WindowExpiresAt: in(-day), Quota: &Quota{Limit: 5, Used: 4, ResetsAt: reset}, Initiated: true},
		},
		{
			name: "viber custom limit used up", typ: Viber, opts: map[string]any{"monthly_initiated_limit": float64(5)}, id: Identity{LastInboundAt: ago(2 * day), MonthInitiated: 5}, sender: key,
			want: Result{Decision: Blocked, ReasonCode: ReasonQuotaExceeded, WindowExpiresAt: in(-day), Quota: &Quota{Limit: 5, Used: 5, ResetsAt: reset}},
		},
		{
			name: "viber limit zero", typ: Viber, opts: map[string]any{"monthly_initiated_limit": float64(0)}, sender: user, msg: text(),
			want: Result{Decision: Blocked, ReasonCode: ReasonQuotaExceeded, Quota: &Quota{Limit: 0, Used: 0, ResetsAt: reset}, RefusalCode: RefusalQuotaExceeded},
		},
		{
			name: "viber never wrote is initiated", typ: Viber, id: Identity{MonthInitiated: 3}, sender: user, msg: text(),
			want: Result{Decision: Allowed, ReasonCode: ReasonQuotaAvailable, Quota: viberQ(3), Initiated: true, Permitted: true},
		},
		{
			name: "viber commercial terms after quota", typ: Viber, opts: map[string]any{"commercial_terms_accepted": true}, id: Identity{LastInboundAt: ago(2 * day), MonthInitiated: 10000}, sender: user, msg: text(),
			want:   Result{Decision: Allowed, ReasonCode: ReasonCommercialTerms, WindowExpiresAt: in(-day), Billable: true, Initiated: true, Permitted: true},
			reason: "The customer last wrote 2 days ago; outside Viber's 24-hour session a message is chatbot-initiated, and with the commercial terms accepted it is billable and not limited.",
		},
		{
			name: "viber commercial terms inside session", typ: Viber, opts: map[string]any{"commercial_terms_accepted": true}, id: Identity{LastInboundAt: ago(time.Hour), MonthInitiated: 10000}, sender: user,
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour)},
		},
		{
			name: "viber tag", typ: Viber, id: Identity{LastInboundAt: ago(time.Hour)}, sender: user, msg: tagged(HumanAgentTag),
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(23 * time.Hour), Quota: viberQ(0), RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "viber resets across the year in UTC", typ: Viber, now: time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), sender: user,
			want: Result{Decision: Allowed, ReasonCode: ReasonQuotaAvailable, Quota: &Quota{Limit: 10000, ResetsAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, Initiated: true},
		},
		{
			name: "viber resets from UTC month when now is in another zone", typ: Viber, now: time.Date(2027, 1, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), sender: user,
			want: Result{Decision: Allowed, ReasonCode: ReasonQuotaAvailable, Quota: &Quota{Limit: 10000, ResetsAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, Initiated: true},
		},
		{
			name: "viber first instant of a month resets next month", typ: Viber, now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), sender: user,
			want: Result{Decision: Allowed, ReasonCode: ReasonQuotaAvailable, Quota: &Quota{Limit: 10000, ResetsAt: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)}, Initiated: true},
		},

		// WeChat: 48 hours and 5 messages per customer message, then templates.
		{
			name: "wechat inside at 47h", typ: WeChat, id: Identity{LastInboundAt: ago(47 * time.Hour)}, sender: user,
			want:   Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(time.Hour), Quota: wechatQ(0, time.Hour)},
			reason: "The customer last wrote 47 hours ago; WeChat allows 5 more of its 5 messages per customer message, within its 48-hour window (closes in 1 hour).",
		},
		{
			name: "wechat fifth message", typ: WeChat, id: Identity{LastInboundAt: ago(47 * time.Hour), SentSinceInbound: 4}, sender: user, msg: text(),
			want: Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(time.Hour), Quota: wechatQ(4, time.Hour), Permitted: true},
		},
		{
			name: "wechat sixth message", typ: WeChat, id: Identity{LastInboundAt: ago(time.Hour), SentSinceInbound: 5}, sender: user, msg: text(),
			want:   Result{Decision: Blocked, ReasonCode: ReasonWeChatReplyLimit, WindowExpiresAt: in(47 * time.Hour), Quota: wechatQ(5, 47*time.Hour), RefusalCode: RefusalQuotaExceeded},
			reason: "The customer last wrote 1 hour ago and 5 messages have been sent since; WeChat allows at most 5 messages per customer message, so nothing more until they write again.",
		},
		{
			name: "wechat sixth message approved template", typ: WeChat, id: Identity{LastInboundAt: ago(time.Hour), SentSinceInbound: 6}, sender: user, msg: template("approved"),
			want: Result{Decision: Blocked, ReasonCode: ReasonWeChatReplyLimit, WindowExpiresAt: in(47 * time.Hour), Quota: wechatQ(6, 47*time.Hour), RefusalCode: RefusalQuotaExceeded},
		},
		{
			name: "wechat exactly 48h is outside", typ: WeChat, id: Identity{LastInboundAt: ago(48 * time.Hour)}, sender: user,
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(0)},
		},
		{
			name: "wechat outside at 49h text", typ: WeChat, id: Identity{LastInboundAt: ago(49 * time.Hour), SentSinceInbound: 5}, sender: user, msg: text(),
			want:   Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(-time.Hour), RefusalCode: RefusalTemplateRequired},
			reason: "The customer last wrote 2 days ago; WeChat allows only approved templates after 48 hours.",
		},
		{
			name: "wechat outside at 49h approved template", typ: WeChat, id: Identity{LastInboundAt: ago(49 * time.Hour)}, sender: user, msg: template("approved"),
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(-time.Hour), Permitted: true},
		},
		{
			name: "wechat never wrote", typ: WeChat, sender: user, msg: template("pending"),
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, RefusalCode: RefusalTemplateNotApproved},
		},

		// Channels without a window.
		{
			name: "telegram with inbound has no window", typ: Telegram, id: Identity{LastInboundAt: ago(400 * day)}, sender: user, msg: text(),
			want:   Result{Decision: Allowed, ReasonCode: ReasonNoWindow, Permitted: true},
			reason: "Telegram has no messaging window; any message may be sent.",
		},
		{
			name: "line never wrote", typ: LINE, sender: system, msg: attachment(),
			want: Result{Decision: Allowed, ReasonCode: ReasonNoWindow, Permitted: true},
		},
		{
			name: "webchat", typ: Webchat, id: Identity{LastInboundAt: ago(30 * day)}, sender: key,
			want:   Result{Decision: Allowed, ReasonCode: ReasonNoWindow},
			reason: "Website chat has no messaging window; any message may be sent.",
		},
		{
			name: "sms approved template", typ: SMS, sender: user, msg: template("approved"),
			want: Result{Decision: Allowed, ReasonCode: ReasonNoWindow, Permitted: true},
		},
		{
			name: "email tag", typ: Email, sender: user, msg: tagged(HumanAgentTag),
			want: Result{Decision: Allowed, ReasonCode: ReasonNoWindow, RefusalCode: RefusalTagNotAllowed},
		},
		{
			name: "telegram rejected template", typ: Telegram, sender: user, msg: template("rejected"),
			want: Result{Decision: Allowed, ReasonCode: ReasonNoWindow, RefusalCode: RefusalTemplateNotApproved},
		},

		// Custom: configured window.
		{
			name: "custom default has no window", typ: Custom, sender: user, msg: text(),
			want:   Result{Decision: Allowed, ReasonCode: ReasonNoWindow, Permitted: true},
			reason: "The custom channel has no messaging window; any message may be sent.",
		},
		{
			name: "custom window 12h inside", typ: Custom, opts: map[string]any{"window_hours": float64(12), "after_window": "template_required"}, id: Identity{LastInboundAt: ago(11 * time.Hour)}, sender: user,
			want:   Result{Decision: Allowed, ReasonCode: ReasonWithinWindow, WindowExpiresAt: in(time.Hour)},
			reason: "The customer last wrote 11 hours ago; the custom channel allows any message until its 12-hour window closes in 1 hour.",
		},
		{
			name: "custom window 12h exactly at expiry template_required", typ: Custom, opts: map[string]any{"window_hours": float64(12), "after_window": "template_required"}, id: Identity{LastInboundAt: ago(12 * time.Hour)}, sender: user, msg: text(),
			want:   Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(0), RefusalCode: RefusalTemplateRequired},
			reason: "The customer last wrote 12 hours ago; the custom channel allows only approved templates after 12 hours.",
		},
		{
			name: "custom window 12h after approved template", typ: Custom, opts: map[string]any{"window_hours": float64(12), "after_window": "template_required"}, id: Identity{LastInboundAt: ago(13 * time.Hour)}, sender: user, msg: template("approved"),
			want: Result{Decision: TemplateRequired, ReasonCode: ReasonTemplateRequired, WindowExpiresAt: in(-time.Hour), Permitted: true},
		},
		{
			name: "custom window 1h default after_window blocks", typ: Custom, opts: map[string]any{"window_hours": float64(1)}, id: Identity{LastInboundAt: ago(2 * time.Hour)}, sender: user, msg: template("approved"),
			want:   Result{Decision: Blocked, ReasonCode: ReasonWindowClosed, WindowExpiresAt: in(-time.Hour), RefusalCode: RefusalWindowClosed},
			reason: "The customer last wrote 2 hours ago; the custom channel allows no message after 1 hour until the customer writes again.",
		},
		{
			name: "custom window never wrote blocked", typ: Custom, opts: map[string]any{"window_hours": float64(24), "after_window": "blocked"}, sender: user,
			want:   Result{Decision: Blocked, ReasonCode: ReasonWindowClosed},
			reason: "The customer has not written on the custom channel yet; the custom channel allows no message until they do.",
		},
		{
			name: "custom after_window without window is ignored", typ: Custom, opts: map[string]any{"after_window": "template_required"}, id: Identity{LastInboundAt: ago(100 * day)}, sender: user, msg: text(),
			want: Result{Decision: Allowed, ReasonCode: ReasonNoWindow, Permitted: true},
		},
		{
			name: "custom tag", typ: Custom, sender: user, msg: tagged(HumanAgentTag),
			want: Result{Decision: Allowed, ReasonCode: ReasonNoWindow, RefusalCode: RefusalTagNotAllowed},
		},
	}

	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			opts, errs := ParseOptions(tc.typ, tc.opts)
			if errs != nil {
				t.Fatalf("ParseOptions: %v", errs)
			}
			at := tc.now
			if at.IsZero() {
				at = now
			}
			got := Decide(Lookup(tc.typ), opts, tc.id, tc.sender, tc.msg, at)
			for _, d := range diffResult(got, tc.want) {
				t.Error(d)
			}
			if got.RuleVersion != Version {
				t.Errorf("RuleVersion = %q, want %q", got.RuleVersion, Version)
			}
			if got.Reason == "" {
				t.Error("Reason is empty")
			}
			if tc.reason != "" && got.Reason != tc.reason {
				t.Errorf("Reason = %q\nwant     %q", got.Reason, tc.reason)
			}
		})
	}
}

func diffResult(got, want Result) []string {
	var d []string
	add := func(field string, g, w any) { d = append(d, fmt.Sprintf("%s = %v, want %v", field, g, w)) }
	if got.Decision != want.Decision {
		add("Decision", got.Decision, want.Decision)
	}
	if got.ReasonCode != want.ReasonCode {
		add("ReasonCode", got.ReasonCode, want.ReasonCode)
	}
	if !sameTime(got.WindowExpiresAt, want.WindowExpiresAt) {
		add("WindowExpiresAt", fmtTime(got.WindowExpiresAt), fmtTime(want.WindowExpiresAt))
	}
	if !sameTime(got.TagExpiresAt, want.TagExpiresAt) {
		add("TagExpiresAt", fmtTime(got.TagExpiresAt), fmtTime(want.TagExpiresAt))
	}
	if got.AllowedTags == nil {
		d = append(d, "AllowedTags is nil, want a non-nil slice")
	}
	if !slices.Equal(got.AllowedTags, want.AllowedTags) {
		add("AllowedTags", got.AllowedTags, want.AllowedTags)
	}
	switch {
	case (got.Quota == nil) != (want.Quota == nil):
		add("Quota", fmtQuota(got.Quota), fmtQuota(want.Quota))
	case got.Quota != nil && (got.Quota.Limit != want.Quota.Limit || got.Quota.Used != want.Quota.Used || !got.Quota.ResetsAt.Equal(want.Quota.ResetsAt)):
		add("Quota", fmtQuota(got.Quota), fmtQuota(want.Quota))
	}
	if got.Billable != want.Billable {
		add("Billable", got.Billable, want.Billable)
	}
	if got.Initiated != want.Initiated {
		add("Initiated", got.Initiated, want.Initiated)
	}
	if got.Permitted != want.Permitted {
		add("Permitted", got.Permitted, want.Permitted)
	}
	if got.RefusalCode != want.RefusalCode {
		add("RefusalCode", got.RefusalCode, want.RefusalCode)
	}
	return d
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b) && a.Location() == time.UTC
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "nil"
	}
	return t.Format(time.RFC3339)
}

func fmtQuota(q *Quota) string {
	if q == nil {
		return "nil"
	}
	return fmt.Sprintf("{limit %d, used %d, resets %s}", q.Limit, q.Used, q.ResetsAt.Format(time.RFC3339))
}

func TestDecideUnknownType(t *testing.T) {
	got := Decide(Lookup("fax"), Options{}, Identity{LastInboundAt: ago(time.Hour)}, user, text(), now)
	want := Result{Decision: Blocked, ReasonCode: ReasonUnknownType, RefusalCode: RefusalWindowClosed}
	for _, d := range diffResult(got, want) {
		t.Error(d)
	}
	if got.Reason != `The channel type "fax" is not in the rule table; nothing may be sent.` {
		t.Errorf("Reason = %q", got.Reason)
	}
}

func TestDecideEligibilityLeavesMessageFieldsEmpty(t *testing.T) {
	for _, typ := range Types() {
		t.Run(string(typ), func(t *testing.T) {
			got := Decide(Lookup(typ), DefaultOptions(typ), Identity{}, user, nil, now)
			if got.Permitted || got.RefusalCode != "" {
				t.Errorf("Permitted = %v, RefusalCode = %q; want false, \"\" without a message", got.Permitted, got.RefusalCode)
			}
			if got.RuleVersion != Version || got.AllowedTags == nil || got.WindowExpiresAt != nil || got.TagExpiresAt != nil {
				t.Errorf("got %+v", got)
			}
		})
	}
}

func TestDecideZeroOptionsFailClosed(t *testing.T) {
	cases := []struct {
		name string
		typ  ChannelType
		id   Identity
		want Result
	}{
		{"messenger without human_agent_tag", Messenger, Identity{LastInboundAt: ago(2 * day)},
			Result{Decision: Blocked, ReasonCode: ReasonWindowClosed, WindowExpiresAt: in(-day)}},
		{"viber with a limit of 0", Viber, Identity{LastInboundAt: ago(2 * day)},
			Result{Decision: Blocked, ReasonCode: ReasonQuotaExceeded, WindowExpiresAt: in(-day), Quota: &Quota{ResetsAt: reset}}},
		{"custom with an empty after_window", Custom, Identity{LastInboundAt: ago(2 * day)},
			Result{Decision: Allowed, ReasonCode: ReasonNoWindow}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(Lookup(tc.typ), Options{}, tc.id, user, nil, now)
			for _, d := range diffResult(got, tc.want) {
				t.Error(d)
			}
		})
	}
	t.Run("human_agent_tag only counts on messenger and instagram", func(t *testing.T) {
		for _, typ := range []ChannelType{WhatsApp, Viber, Telegram, Custom} {
			got := Decide(Lookup(typ), Options{HumanAgentTag: true}, Identity{LastInboundAt: ago(time.Hour)}, user, tagged(HumanAgentTag), now)
			if got.RefusalCode != RefusalTagNotAllowed || got.TagExpiresAt != nil || len(got.AllowedTags) != 0 {
				t.Errorf("%s: RefusalCode = %q, TagExpiresAt = %v, AllowedTags = %v; want tag_not_allowed, nil, []",
					typ, got.RefusalCode, fmtTime(got.TagExpiresAt), got.AllowedTags)
			}
		}
	})
	t.Run("custom window with an empty after_window blocks", func(t *testing.T) {
		got := Decide(Lookup(Custom), Options{WindowHours: 1}, Identity{LastInboundAt: ago(2 * time.Hour)}, user, nil, now)
		for _, d := range diffResult(got, Result{Decision: Blocked, ReasonCode: ReasonWindowClosed, WindowExpiresAt: in(-time.Hour)}) {
			t.Error(d)
		}
	})
}

func TestSenderPerson(t *testing.T) {
	cases := []struct {
		name   string
		sender Sender
		want   bool
	}{
		{"user", user, true},
		{"user with on_behalf_of", Sender{Kind: SenderUser, OnBehalfOf: true}, true},
		{"api key", key, false},
		{"api key with on_behalf_of", keyOBO, true},
		{"system", system, false},
		{"system with on_behalf_of", Sender{Kind: SenderSystem, OnBehalfOf: true}, false},
		{"empty", Sender{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.sender.Person(); got != tc.want {
				t.Errorf("Person() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTypes(t *testing.T) {
	want := []ChannelType{"whatsapp", "messenger", "instagram", "viber", "wechat", "telegram", "line", "webchat", "sms", "email", "custom"}
	if got := Types(); !slices.Equal(got, want) {
		t.Errorf("Types() = %v, want %v", got, want)
	}
	Types()[0] = "mutated"
	if Types()[0] != WhatsApp {
		t.Error("Types() shares its slice between calls")
	}
}

func TestParseType(t *testing.T) {
	cases := []struct {
		in     string
		want   ChannelType
		wantOK bool
	}{
		{"whatsapp", WhatsApp, true},
		{"messenger", Messenger, true},
		{"instagram", Instagram, true},
		{"viber", Viber, true},
		{"wechat", WeChat, true},
		{"telegram", Telegram, true},
		{"line", LINE, true},
		{"webchat", Webchat, true},
		{"sms", SMS, true},
		{"email", Email, true},
		{"custom", Custom, true},
		{"WhatsApp", "", false},
		{" sms", "", false},
		{"fax", "", false},
		{"", "", false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			got, ok := ParseType(tc.in)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("ParseType(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestTable(t *testing.T) {
	wantWindow := map[ChannelType]int{
		WhatsApp: 24, Messenger: 24, Instagram: 24, Viber: 24, WeChat: 48,
		Telegram: 0, LINE: 0, Webchat: 0, SMS: 0, Email: 0, Custom: 0,
	}
	wantOptions := map[ChannelType][]string{
		Messenger: {"human_agent_tag"},
		Instagram: {"human_agent_tag"},
		Viber:     {"monthly_initiated_limit", "commercial_terms_accepted"},
		Custom:    {"window_hours", "after_window"},
	}
	table := Table()
	if len(table) != len(Types()) {
		t.Fatalf("Table() has %d rows, want %d", len(table), len(Types()))
	}
	for i, typ := range Types() {
		r := table[i]
		t.Run(string(typ), func(t *testing.T) {
			if r.Type != typ {
				t.Fatalf("row %d Type = %q, want %q", i, r.Type, typ)
			}
			if r.WindowHours != wantWindow[typ] {
				t.Errorf("WindowHours = %d, want %d", r.WindowHours, wantWindow[typ])
			}
			if r.Verified != "2026-11-01" {
				t.Errorf("Verified = %q", r.Verified)
			}
			if len(r.Sources) == 0 || r.InsideWindow == "" || r.AfterWindow == "" {
				t.Errorf("row lacks sources or texts: %+v", r)
			}
			if r.Options == nil {
				t.Error("Options is nil, want a non-nil slice")
			}
			var names []string
			for _, o := range r.Options {
				names = append(names, o.Name)
				if o.Description == "" {
					t.Errorf("option %s has no description", o.Name)
				}
			}
			if !slices.Equal(names, wantOptions[typ]) {
				t.Errorf("options = %v, want %v", names, wantOptions[typ])
			}
			// The advertised defaults are the defaults ParseOptions applies.
			defaults := map[string]any{}
			for _, o := range r.Options {
				defaults[o.Name] = o.Default
			}
			if got := DefaultOptions(typ).Map(typ); !reflect.DeepEqual(got, defaults) {
				t.Errorf("DefaultOptions(%s).Map = %v, table defaults %v", typ, got, defaults)
			}
			if got := Lookup(typ); !reflect.DeepEqual(got, r) {
				t.Errorf("Lookup(%s) = %+v, want %+v", typ, got, r)
			}
		})
	}
	t.Run("option specs", func(t *testing.T) {
		specs := map[string]OptionSpec{}
		for _, r := range table {
			for _, o := range r.Options {
				specs[string(r.Type)+"."+o.Name] = o
			}
		}
		want := map[string]struct {
			kind string
			def  any
			enum []string
		}{
			"messenger.human_agent_tag":       {"bool", true, nil},
			"instagram.human_agent_tag":       {"bool", false, nil},
			"viber.monthly_initiated_limit":   {"int", 10000, nil},
			"viber.commercial_terms_accepted": {"bool", false, nil},
			"custom.window_hours":             {"int", 0, nil},
			"custom.after_window":             {"enum", "blocked", []string{"template_required", "blocked"}},
		}
		if len(specs) != len(want) {
			t.Errorf("%d option specs, want %d", len(specs), len(want))
		}
		for k, w := range want {
			s := specs[k]
			if s.Kind != w.kind || s.Default != w.def || !slices.Equal(s.Enum, w.enum) {
				t.Errorf("%s = %+v, want kind %s default %v enum %v", k, s, w.kind, w.def, w.enum)
			}
		}
	})
	t.Run("each call returns a copy", func(t *testing.T) {
		a := Table()
		a[1].Options[0].Default = false
		a[0].Sources[0] = "mutated"
		b := Table()
		if b[1].Options[0].Default != true || b[0].Sources[0] == "mutated" {
			t.Error("Table() shares state between calls")
		}
	})
	t.Run("unknown type", func(t *testing.T) {
		if got := Lookup("fax"); !reflect.DeepEqual(got, Rule{Type: "fax"}) {
			t.Errorf("Lookup(fax) = %+v, want only Type", got)
		}
	})
}

func TestParseOptions(t *testing.T) {
	def := func(typ ChannelType) Options { return DefaultOptions(typ) }
	cases := []struct {
		name     string
		typ      ChannelType
		raw      map[string]any
		want     Options
		wantErrs []FieldError
	}{
		{name: "messenger nil gives defaults", typ: Messenger, raw: nil,
			want: Options{HumanAgentTag: true, MonthlyInitiatedLimit: 10000, AfterWindow: Blocked}},
		{name: "instagram empty gives defaults", typ: Instagram, raw: map[string]any{},
			want: Options{HumanAgentTag: false, MonthlyInitiatedLimit: 10000, AfterWindow: Blocked}},
		{name: "whatsapp nil", typ: WhatsApp, raw: nil, want: def(WhatsApp)},
		{name: "messenger human_agent_tag false", typ: Messenger, raw: map[string]any{"human_agent_tag": false},
			want: Options{HumanAgentTag: false, MonthlyInitiatedLimit: 10000, AfterWindow: Blocked}},
		{name: "instagram human_agent_tag true", typ: Instagram, raw: map[string]any{"human_agent_tag": true},
			want: Options{HumanAgentTag: true, MonthlyInitiatedLimit: 10000, AfterWindow: Blocked}},
		{name: "viber both options", typ: Viber, raw: map[string]any{"monthly_initiated_limit": float64(500), "commercial_terms_accepted": true},
			want: Options{MonthlyInitiatedLimit: 500, CommercialTermsAccepted: true, AfterWindow: Blocked}},
		{name: "viber limit as int", typ: Viber, raw: map[string]any{"monthly_initiated_limit": 7},
			want: Options{MonthlyInitiatedLimit: 7, AfterWindow: Blocked}},
		{name: "viber limit as json.Number", typ: Viber, raw: map[string]any{"monthly_initiated_limit": json.Number("250")},
			want: Options{MonthlyInitiatedLimit: 250, AfterWindow: Blocked}},
		{name: "viber limit zero", typ: Viber, raw: map[string]any{"monthly_initiated_limit": float64(0)},
			want: Options{MonthlyInitiatedLimit: 0, AfterWindow: Blocked}},
		{name: "viber limit at maximum", typ: Viber, raw: map[string]any{"monthly_initiated_limit": float64(1000000)},
			want: Options{MonthlyInitiatedLimit: 1000000, AfterWindow: Blocked}},
		{name: "viber limit written as 10.0", typ: Viber, raw: map[string]any{"monthly_initiated_limit": 10.0},
			want: Options{MonthlyInitiatedLimit: 10, AfterWindow: Blocked}},
		{name: "custom window and template_required", typ: Custom, raw: map[string]any{"window_hours": float64(72), "after_window": "template_required"},
			want: Options{MonthlyInitiatedLimit: 10000, WindowHours: 72, AfterWindow: TemplateRequired}},
		{name: "custom window at maximum", typ: Custom, raw: map[string]any{"window_hours": float64(8760)},
			want: Options{MonthlyInitiatedLimit: 10000, WindowHours: 8760, AfterWindow: Blocked}},

		{name: "unknown key", typ: Messenger, raw: map[string]any{"foo": true},
			wantErrs: []FieldError{{"rule_options.foo", "unknown option"}}},
		{name: "option of another type on whatsapp", typ: WhatsApp, raw: map[string]any{"human_agent_tag": true},
			wantErrs: []FieldError{{"rule_options.human_agent_tag", "human_agent_tag is not an option of whatsapp channels (only of messenger, instagram)"}}},
		{name: "viber option on messenger", typ: Messenger, raw: map[string]any{"commercial_terms_accepted": true},
			wantErrs: []FieldError{{"rule_options.commercial_terms_accepted", "commercial_terms_accepted is not an option of messenger channels (only of viber)"}}},
		{name: "custom option on telegram", typ: Telegram, raw: map[string]any{"window_hours": float64(24)},
			wantErrs: []FieldError{{"rule_options.window_hours", "window_hours is not an option of telegram channels (only of custom)"}}},
		{name: "bool as string", typ: Messenger, raw: map[string]any{"human_agent_tag": "true"},
			wantErrs: []FieldError{{"rule_options.human_agent_tag", "must be a boolean, not a string"}}},
		{name: "bool as number", typ: Instagram, raw: map[string]any{"human_agent_tag": float64(1)},
			wantErrs: []FieldError{{"rule_options.human_agent_tag", "must be a boolean, not a number"}}},
		{name: "bool as null", typ: Messenger, raw: map[string]any{"human_agent_tag": nil},
			wantErrs: []FieldError{{"rule_options.human_agent_tag", "must be a boolean, not null"}}},
		{name: "int as string", typ: Viber, raw: map[string]any{"monthly_initiated_limit": "100"},
			wantErrs: []FieldError{{"rule_options.monthly_initiated_limit", "must be an integer, not a string"}}},
		{name: "int as bool", typ: Viber, raw: map[string]any{"monthly_initiated_limit": true},
			wantErrs: []FieldError{{"rule_options.monthly_initiated_limit", "must be an integer, not a boolean"}}},
		{name: "int as array", typ: Custom, raw: map[string]any{"window_hours": []any{float64(1)}},
			wantErrs: []FieldError{{"rule_options.window_hours", "must be an integer, not an array"}}},
		{name: "negative limit", typ: Viber, raw: map[string]any{"monthly_initiated_limit": float64(-1)},
			wantErrs: []FieldError{{"rule_options.monthly_initiated_limit", "must not be negative"}}},
		{name: "non-integer limit", typ: Viber, raw: map[string]any{"monthly_initiated_limit": 10.5},
			wantErrs: []FieldError{{"rule_options.monthly_initiated_limit", "must be a whole number"}}},
		{name: "non-integer json.Number", typ: Viber, raw: map[string]any{"monthly_initiated_limit": json.Number("1e-3")},
			wantErrs: []FieldError{{"rule_options.monthly_initiated_limit", "must be a whole number"}}},
		{name: "limit above maximum", typ: Viber, raw: map[string]any{"monthly_initiated_limit": float64(1000001)},
			wantErrs: []FieldError{{"rule_options.monthly_initiated_limit", "must be at most 1000000"}}},
		{name: "huge limit", typ: Viber, raw: map[string]any{"monthly_initiated_limit": 1e300},
			wantErrs: []FieldError{{"rule_options.monthly_initiated_limit", "must be at most 1000000"}}},
		{name: "negative window", typ: Custom, raw: map[string]any{"window_hours": float64(-24)},
			wantErrs: []FieldError{{"rule_options.window_hours", "must not be negative"}}},
		{name: "window above a year", typ: Custom, raw: map[string]any{"window_hours": float64(8761)},
			wantErrs: []FieldError{{"rule_options.window_hours", "must be at most 8760"}}},
		{name: "bad enum", typ: Custom, raw: map[string]any{"after_window": "allowed"},
			wantErrs: []FieldError{{"rule_options.after_window", `must be one of "template_required", "blocked"`}}},
		{name: "enum is case sensitive", typ: Custom, raw: map[string]any{"after_window": "Blocked"},
			wantErrs: []FieldError{{"rule_options.after_window", `must be one of "template_required", "blocked"`}}},
		{name: "enum as number", typ: Custom, raw: map[string]any{"after_window": float64(1)},
			wantErrs: []FieldError{{"rule_options.after_window", "must be a string, not a number"}}},
		{name: "several errors sorted by field", typ: Viber, raw: map[string]any{
			"zeta": 1, "monthly_initiated_limit": -5.5, "commercial_terms_accepted": "yes", "human_agent_tag": true, "after_window": map[string]any{}}, wantErrs: []FieldError{
			{"rule_options.after_window", "after_window is not an option of viber channels (only of custom)"},
			{"rule_options.commercial_terms_accepted", "must be a boolean, not a string"},
			{"rule_options.human_agent_tag", "human_agent_tag is not an option of viber channels (only of messenger, instagram)"},
			{"rule_options.monthly_initiated_limit", "must be a whole number"},
			{"rule_options.zeta", "unknown option"},
		}},
		{name: "valid key next to an invalid one", typ: Viber, raw: map[string]any{"monthly_initiated_limit": float64(5), "commercial_terms_accepted": nil},
			wantErrs: []FieldError{{"rule_options.commercial_terms_accepted", "must be a boolean, not null"}}},
		{name: "unknown type", typ: "fax", raw: nil,
			wantErrs: []FieldError{{"type", `unknown channel type "fax"`}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, errs := ParseOptions(tc.typ, tc.raw)
			if !reflect.DeepEqual(errs, tc.wantErrs) {
				t.Errorf("errors = %v\nwant     %v", errs, tc.wantErrs)
			}
			if got != tc.want {
				t.Errorf("options = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestOptionsMap(t *testing.T) {
	cases := []struct {
		name string
		typ  ChannelType
		opts Options
		want map[string]any
	}{
		{"whatsapp has no options", WhatsApp, DefaultOptions(WhatsApp), map[string]any{}},
		{"email drops other types' values", Email, Options{HumanAgentTag: true, WindowHours: 5}, map[string]any{}},
		{"messenger default", Messenger, DefaultOptions(Messenger), map[string]any{"human_agent_tag": true}},
		{"instagram default", Instagram, DefaultOptions(Instagram), map[string]any{"human_agent_tag": false}},
		{"viber", Viber, Options{MonthlyInitiatedLimit: 42, CommercialTermsAccepted: true, HumanAgentTag: true},
			map[string]any{"monthly_initiated_limit": 42, "commercial_terms_accepted": true}},
		{"custom default", Custom, DefaultOptions(Custom), map[string]any{"window_hours": 0, "after_window": "blocked"}},
		{"custom configured", Custom, Options{WindowHours: 12, AfterWindow: TemplateRequired},
			map[string]any{"window_hours": 12, "after_window": "template_required"}},
		{"custom empty after_window shows blocked", Custom, Options{WindowHours: 12},
			map[string]any{"window_hours": 12, "after_window": "blocked"}},
		{"unknown type", "fax", DefaultOptions("fax"), map[string]any{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.opts.Map(tc.typ)
			if got == nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Map(%s) = %#v, want %#v", tc.typ, got, tc.want)
			}
		})
	}
}

// TestOptionsRoundTrip stores options the way the API does (JSON) and parses them back.
func TestOptionsRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		typ  ChannelType
		raw  map[string]any
	}{
		{"messenger off", Messenger, map[string]any{"human_agent_tag": false}},
		{"instagram on", Instagram, map[string]any{"human_agent_tag": true}},
		{"viber", Viber, map[string]any{"monthly_initiated_limit": float64(123), "commercial_terms_accepted": true}},
		{"custom", Custom, map[string]any{"window_hours": float64(36), "after_window": "template_required"}},
		{"sms", SMS, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts, errs := ParseOptions(tc.typ, tc.raw)
			if errs != nil {
				t.Fatalf("ParseOptions: %v", errs)
			}
			m := opts.Map(tc.typ)
			if again, errs := ParseOptions(tc.typ, m); errs != nil || again != opts {
				t.Errorf("ParseOptions(Map) = %+v, %v; want %+v", again, errs, opts)
			}
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			var decoded map[string]any
			if err := json.Unmarshal(b, &decoded); err != nil {
				t.Fatal(err)
			}
			if again, errs := ParseOptions(tc.typ, decoded); errs != nil || again != opts {
				t.Errorf("ParseOptions(json(Map)) = %+v, %v; want %+v", again, errs, opts)
			}
		})
	}
}

func TestFieldErrorError(t *testing.T) {
	e := FieldError{Field: "rule_options.foo", Message: "unknown option"}
	if got := e.Error(); got != "rule_options.foo: unknown option" {
		t.Errorf("Error() = %q", got)
	}
}

func TestReasonDurations(t *testing.T) {
	cases := []struct {
		name string
		last time.Duration
		want string
	}{
		{"just now", 30 * time.Second, "The customer last wrote just now; WhatsApp allows any message until its 24-hour window closes in 23 hours."},
		{"one minute", time.Minute, "The customer last wrote 1 minute ago; WhatsApp allows any message until its 24-hour window closes in 23 hours."},
		{"minutes", 45 * time.Minute, "The customer last wrote 45 minutes ago; WhatsApp allows any message until its 24-hour window closes in 23 hours."},
		{"one hour", time.Hour + 59*time.Minute, "The customer last wrote 1 hour ago; WhatsApp allows any message until its 24-hour window closes in 22 hours."},
		{"last second", 24*time.Hour - time.Second, "The customer last wrote 23 hours ago; WhatsApp allows any message until its 24-hour window closes in less than a minute."},
		{"future inbound (clock skew)", -time.Hour, "The customer last wrote just now; WhatsApp allows any message until its 24-hour window closes in 25 hours."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(Lookup(WhatsApp), DefaultOptions(WhatsApp), Identity{LastInboundAt: ago(tc.last)}, user, nil, now)
			if got.Decision != Allowed || got.Reason != tc.want {
				t.Errorf("Decision = %s, Reason = %q\nwant allowed, %q", got.Decision, got.Reason, tc.want)
			}
		})
	}
}
