package rules

import (
	"fmt"
	"strings"
	"time"
)

// Decision is the general answer for a channel identity now.
type Decision string

// The decisions, from most to least permissive.
const (
	Allowed          Decision = "allowed"
	TemplateRequired Decision = "template_required"
	TagRequired      Decision = "tag_required"
	Blocked          Decision = "blocked"
)

// Reason codes: the stable Result.ReasonCode values.
const (
	// ReasonNoWindow: the channel (or a custom channel with window_hours 0) has no window; allowed.
	ReasonNoWindow = "no_window"
	// ReasonWithinWindow: the customer wrote within the window (Viber: the 24-hour session); allowed.
	ReasonWithinWindow = "within_window"
	// ReasonTemplateRequired: after the window (or never wrote) on WhatsApp, WeChat or a custom
	// channel with after_window template_required; only approved templates.
	ReasonTemplateRequired = "window_closed_template_required"
	// ReasonHumanAgentTag: after 24 hours, before 7 days, HUMAN_AGENT enabled, the sender is a
	// person; only messages tagged HUMAN_AGENT.
	ReasonHumanAgentTag = "human_agent_tag_window"
	// ReasonHumanAgentTagPersonOnly: as ReasonHumanAgentTag, but the sender is not a person, so
	// it may send nothing; the decision stays tag_required with no allowed tags.
	ReasonHumanAgentTagPersonOnly = "human_agent_tag_person_only"
	// ReasonWindowClosed: after the window (or never wrote) where nothing may be sent until the
	// customer writes: Instagram, Messenger without HUMAN_AGENT, custom with after_window blocked.
	ReasonWindowClosed = "window_closed"
	// ReasonTagWindowExpired: 7 days or more after the customer's last message with HUMAN_AGENT
	// enabled; blocked.
	ReasonTagWindowExpired = "tag_window_expired"
	// ReasonQuotaAvailable: Viber outside the session; allowed as a chatbot-initiated message.
	ReasonQuotaAvailable = "quota_available"
	// ReasonQuotaExceeded: Viber outside the session and the monthly quota is used up; blocked.
	ReasonQuotaExceeded = "quota_exceeded"
	// ReasonCommercialTerms: Viber outside the session with commercial terms; allowed, billable.
	ReasonCommercialTerms = "commercial_terms"
	// ReasonWeChatReplyLimit: WeChat inside the window, 5 messages already sent since the
	// customer's last message; blocked.
	ReasonWeChatReplyLimit = "wechat_reply_limit"
	// ReasonUnknownType: the rule's type is not in the table; blocked.
	ReasonUnknownType = "unknown_channel_type"
)

// Refusal codes: the Result.RefusalCode values, which the send path answers as the problem code.
const (
	RefusalWindowClosed        = "messaging_window_closed"
	RefusalTemplateRequired    = "template_required"
	RefusalTagRequired         = "tag_required"
	RefusalTagNotAllowed       = "tag_not_allowed"
	RefusalTemplateNotApproved = "template_not_approved"
	RefusalQuotaExceeded       = "quota_exceeded"
)

// Identity is the state of one contact identity on one channel.
type Identity struct {
	LastInboundAt    *time.Time // the customer's last message on this channel; nil = never wrote
	SentSinceInbound int        // outbound messages on this identity since LastInboundAt (WeChat cap)
	MonthInitiated   int        // the channel's chatbot-initiated messages in the current UTC calendar month (Viber quota)
}

// SenderKind is who sends a message.
type SenderKind string

// The sender kinds.
const (
	SenderUser   SenderKind = "user"
	SenderAPIKey SenderKind = "api_key"
	SenderSystem SenderKind = "system"
)

// Sender is who sends: a person is a user, or an API key acting on behalf of a user.
type Sender struct {
	Kind       SenderKind
	OnBehalfOf bool
}

// Person reports whether the sender is a person, who alone may use the HUMAN_AGENT tag.
func (s Sender) Person() bool {
	return s.Kind == SenderUser || (s.Kind == SenderAPIKey && s.OnBehalfOf)
}

// MessageType is the form of a message.
type MessageType string

// The message types.
const (
	MessageText       MessageType = "text"
	MessageTemplate   MessageType = "template"
	MessageAttachment MessageType = "attachment"
)

// TemplateApproved is the only template status that may be sent.
const TemplateApproved = "approved"

// Message is what an agent wants to send.
type Message struct {
	Type           MessageType
	Tag            string // e.g. "HUMAN_AGENT"; "" none
	TemplateStatus string // for Type template: "approved", "pending", "rejected", "paused"
}

// Quota is a limit on messages and when it resets.
type Quota struct {
	Limit    int
	Used     int
	ResetsAt time.Time
}

// Result is the answer of Decide.
type Result struct {
	Decision        Decision
	ReasonCode      string     // one of the Reason* constants
	Reason          string     // a sentence for people
	WindowExpiresAt *time.Time // nil on channels without a window and when the customer never wrote
	TagExpiresAt    *time.Time // where HUMAN_AGENT applies and the customer wrote: last inbound + 7 days
	AllowedTags     []string   // ["HUMAN_AGENT"] while the sender may use it now; never nil
	Quota           *Quota     // Viber without commercial terms; WeChat inside the window
	Billable        bool       // Viber outside the session with commercial terms accepted
	Initiated       bool       // a message sent now counts as chatbot-initiated (Viber outside the session)
	RuleVersion     string     // Version

	// Only when a Message was given:
	Permitted   bool   // the message may be sent now
	RefusalCode string // when !Permitted: one of the Refusal* constants
}

// gate is what a state lets through, beyond the checks every message passes.
type gate int

const (
	gateOpen       gate = iota // anything
	gateTemplate               // approved templates only
	gateTag                    // HUMAN_AGENT-tagged only
	gatePersonOnly             // tag period, but the sender may not use the tag
	gateClosed                 // nothing until the customer writes
	gateQuota                  // nothing, a quota is used up
)

// Decide applies a rule to a channel identity at now. With msg nil it answers what may be sent
// (eligibility); with msg it also says whether that message is Permitted. Decision is the general
// state either way.
//
// A message is checked in this order: a tag where HUMAN_AGENT is not enabled, a tag other than
// HUMAN_AGENT, or HUMAN_AGENT from a sender who is not a person → tag_not_allowed; a template that
// is not approved → template_not_approved (inside a window too); then the state: after the window
// a non-template → template_required, in the HUMAN_AGENT period an untagged message →
// tag_required (tag_not_allowed for a sender who is not a person), closed →
// messaging_window_closed, quota used up → quota_exceeded.
//
// opts must come from ParseOptions or DefaultOptions for rule.Type; the zero Options disable
// HUMAN_AGENT and, for Viber, mean a quota of 0.
func Decide(rule Rule, opts Options, id Identity, sender Sender, msg *Message, now time.Time) Result {
	now = now.UTC()
	r, g := assess(rule, opts, id, sender, now)
	r.RuleVersion = Version
	if r.AllowedTags == nil {
		r.AllowedTags = []string{}
	}
	if msg != nil {
		r.RefusalCode = check(tagsEnabled(rule.Type, opts), sender.Person(), g, *msg)
		r.Permitted = r.RefusalCode == ""
	}
	return r
}

func tagsEnabled(t ChannelType, opts Options) bool {
	return (t == Messenger || t == Instagram) && opts.HumanAgentTag
}

func check(tags, person bool, g gate, m Message) string {
	if m.Tag != "" && (!tags || m.Tag != HumanAgentTag || !person) {
		return RefusalTagNotAllowed
	}
	if m.Type == MessageTemplate && m.TemplateStatus != TemplateApproved {
		return RefusalTemplateNotApproved
	}
	switch g {
	case gateOpen:
		return ""
	case gateTemplate:
		if m.Type == MessageTemplate {
			return ""
		}
		return RefusalTemplateRequired
	case gateTag:
		if m.Tag == HumanAgentTag {
			return ""
		}
		return RefusalTagRequired
	case gatePersonOnly:
		return RefusalTagNotAllowed
	case gateQuota:
		return RefusalQuotaExceeded
	}
	return RefusalWindowClosed
}

func assess(rule Rule, opts Options, id Identity, sender Sender, now time.Time) (Result, gate) {
	t := rule.Type
	name := displayName(t)
	hours := rule.WindowHours
	switch t {
	case WhatsApp, Messenger, Instagram, Viber, WeChat:
	case Telegram, LINE, Webchat, SMS, Email:
		hours = 0
	case Custom:
		hours = opts.WindowHours
	default:
		return Result{
			Decision:   Blocked,
			ReasonCode: ReasonUnknownType,
			Reason:     fmt.Sprintf("The channel type %q is not in the rule table; nothing may be sent.", string(t)),
		}, gateClosed
	}
	if hours <= 0 {
		return Result{
			Decision:   Allowed,
			ReasonCode: ReasonNoWindow,
			Reason:     capitalize(name) + " has no messaging window; any message may be sent.",
		}, gateOpen
	}

	var r Result
	inside := false
	if id.LastInboundAt != nil {
		exp := id.LastInboundAt.UTC().Add(time.Duration(hours) * time.Hour)
		r.WindowExpiresAt = &exp
		inside = now.Before(exp)
	}
	wrote := lastWrote(id, name, now)
	window := fmt.Sprintf("%d-hour window", hours)
	if t == Viber {
		window = fmt.Sprintf("%d-hour session", hours)
	}
	within := func() (Result, gate) {
		r.Decision, r.ReasonCode = Allowed, ReasonWithinWindow
		r.Reason = fmt.Sprintf("%s; %s allows any message until its %s closes in %s.", wrote, name, window, span(r.WindowExpiresAt.Sub(now)))
		return r, gateOpen
	}
	templateOnly := func() (Result, gate) {
		r.Decision, r.ReasonCode = TemplateRequired, ReasonTemplateRequired
		if id.LastInboundAt == nil {
			r.Reason = fmt.Sprintf("%s; %s allows only approved templates until they do.", wrote, name)
		} else {
			r.Reason = fmt.Sprintf("%s; %s allows only approved templates after %s.", wrote, name, plural(hours, "hour"))
		}
		return r, gateTemplate
	}
	closed := func() (Result, gate) {
		r.Decision, r.ReasonCode = Blocked, ReasonWindowClosed
		if id.LastInboundAt == nil {
			r.Reason = fmt.Sprintf("%s; %s allows no message until they do.", wrote, name)
		} else {
			r.Reason = fmt.Sprintf("%s; %s allows no message after %s until the customer writes again.", wrote, name, plural(hours, "hour"))
		}
		return r, gateClosed
	}

	switch t {
	case WhatsApp:
		if inside {
			return within()
		}
		return templateOnly()

	case WeChat:
		if !inside {
			return templateOnly()
		}
		r.Quota = &Quota{Limit: WeChatReplyLimit, Used: id.SentSinceInbound, ResetsAt: *r.WindowExpiresAt}
		if id.SentSinceInbound >= WeChatReplyLimit {
			r.Decision, r.ReasonCode = Blocked, ReasonWeChatReplyLimit
			r.Reason = fmt.Sprintf("%s and %s been sent since; WeChat allows at most %d messages per customer message, so nothing more until they write again.",
				wrote, plural(id.SentSinceInbound, "message")+pick(id.SentSinceInbound == 1, " has", " have"), WeChatReplyLimit)
			return r, gateQuota
		}
		r.Decision, r.ReasonCode = Allowed, ReasonWithinWindow
		r.Reason = fmt.Sprintf("%s; WeChat allows %d more of its %d messages per customer message, within its %s (closes in %s).",
			wrote, WeChatReplyLimit-id.SentSinceInbound, WeChatReplyLimit, window, span(r.WindowExpiresAt.Sub(now)))
		return r, gateOpen

	case Messenger, Instagram:
		tags := tagsEnabled(t, opts)
		var tagExp time.Time
		if tags && id.LastInboundAt != nil {
			tagExp = id.LastInboundAt.UTC().Add(HumanAgentTagHours * time.Hour)
			r.TagExpiresAt = &tagExp
			if sender.Person() && now.Before(tagExp) {
				r.AllowedTags = []string{HumanAgentTag}
			}
		}
		switch {
		case inside:
			return within()
		case r.TagExpiresAt == nil:
			return closed()
		case !now.Before(tagExp):
			r.Decision, r.ReasonCode = Blocked, ReasonTagWindowExpired
			r.Reason = fmt.Sprintf("%s; %s allows no message, not even tagged %s, %d days or more after the customer's last message, until they write again.",
				wrote, name, HumanAgentTag, HumanAgentTagHours/24)
			return r, gateClosed
		case sender.Person():
			r.Decision, r.ReasonCode = TagRequired, ReasonHumanAgentTag
			r.Reason = fmt.Sprintf("%s; after %s %s allows only messages tagged %s, sent by a person, until %d days after the customer's last message (in %s).",
				wrote, plural(hours, "hour"), name, HumanAgentTag, HumanAgentTagHours/24, span(tagExp.Sub(now)))
			return r, gateTag
		default:
			r.Decision, r.ReasonCode = TagRequired, ReasonHumanAgentTagPersonOnly
			r.Reason = fmt.Sprintf("%s; after %s %s allows only messages tagged %s, and only a person (a user, or an API key acting on behalf of one) may send them.",
				wrote, plural(hours, "hour"), name, HumanAgentTag)
			return r, gatePersonOnly
		}

	case Viber:
		resets := nextMonthUTC(now)
		if !opts.CommercialTermsAccepted {
			r.Quota = &Quota{Limit: opts.MonthlyInitiatedLimit, Used: id.MonthInitiated, ResetsAt: resets}
		}
		if inside {
			return within()
		}
		outside := fmt.Sprintf("%s; outside Viber's %s", wrote, window)
		switch {
		case opts.CommercialTermsAccepted:
			r.Decision, r.ReasonCode = Allowed, ReasonCommercialTerms
			r.Billable, r.Initiated = true, true
			r.Reason = outside + " a message is chatbot-initiated, and with the commercial terms accepted it is billable and not limited."
			return r, gateOpen
		case id.MonthInitiated < opts.MonthlyInitiatedLimit:
			r.Decision, r.ReasonCode = Allowed, ReasonQuotaAvailable
			r.Initiated = true
			r.Reason = fmt.Sprintf("%s a message is chatbot-initiated; this channel has used %d of its %d for this month.",
				outside, id.MonthInitiated, opts.MonthlyInitiatedLimit)
			return r, gateOpen
		default:
			r.Decision, r.ReasonCode = Blocked, ReasonQuotaExceeded
			r.Reason = fmt.Sprintf("%s only chatbot-initiated messages may be sent, and this channel has used all %d for this month; the quota resets on %s.",
				outside, opts.MonthlyInitiatedLimit, resets.Format("2006-01-02 15:04 MST"))
			return r, gateQuota
		}

	default: // Custom with a window
		if inside {
			return within()
		}
		if opts.afterWindow() == TemplateRequired {
			return templateOnly()
		}
		return closed()
	}
}

// nextMonthUTC is the first instant of the calendar month after now's, in UTC.
func nextMonthUTC(now time.Time) time.Time {
	y, m, _ := now.UTC().Date()
	return time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)
}

func lastWrote(id Identity, name string, now time.Time) string {
	if id.LastInboundAt == nil {
		return fmt.Sprintf("The customer has not written on %s yet", name)
	}
	d := now.Sub(*id.LastInboundAt)
	if d < time.Minute {
		return "The customer last wrote just now"
	}
	return fmt.Sprintf("The customer last wrote %s ago", span(d))
}

// span renders a duration for people, rounded down: minutes below an hour, hours below two
// days, days beyond.
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/(24*time.Hour)), "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
