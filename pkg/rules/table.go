package rules

// Version is the rule_version of the table; bump it whenever a row or the logic of Decide changes.
const Version = "2026-11-01"

// verified is the date the platform facts of every row were last checked.
const verified = "2026-11-01"

// ChannelType is the rule-table row a channel follows.
type ChannelType string

// The channel types, in the order of Types and Table.
const (
	WhatsApp  ChannelType = "whatsapp"
	Messenger ChannelType = "messenger"
	Instagram ChannelType = "instagram"
	Viber     ChannelType = "viber"
	WeChat    ChannelType = "wechat"
	Telegram  ChannelType = "telegram"
	LINE      ChannelType = "line"
	Webchat   ChannelType = "webchat"
	SMS       ChannelType = "sms"
	Email     ChannelType = "email"
	Custom    ChannelType = "custom"
)

// Types returns every channel type in the table's order.
func Types() []ChannelType {
	return []ChannelType{WhatsApp, Messenger, Instagram, Viber, WeChat, Telegram, LINE, Webchat, SMS, Email, Custom}
}

// ParseType returns the channel type named s. Names are matched exactly (lower case).
func ParseType(s string) (ChannelType, bool) {
	for _, t := range Types() {
		if string(t) == s {
			return t, true
		}
	}
	return "", false
}

// Rule is one row of the channel rule table.
type Rule struct {
	Type         ChannelType
	WindowHours  int          // 0 = no window (custom: the window comes from its options)
	InsideWindow string       // what may be sent inside the window, for people
	AfterWindow  string       // what may be sent after the window, for people
	Options      []OptionSpec // the per-channel options this type accepts, with their defaults
	Verified     string       // date the platform facts were checked, YYYY-MM-DD
	Sources      []string     // where the facts come from
}

// OptionSpec describes one per-channel rule option.
type OptionSpec struct {
	Name        string
	Kind        string // "bool", "int" or "enum"
	Default     any    // bool, int or string, by Kind
	Enum        []string
	Description string
}

// Option names, as they appear in a channel's rule_options.
const (
	OptionHumanAgentTag           = "human_agent_tag"
	OptionMonthlyInitiatedLimit   = "monthly_initiated_limit"
	OptionCommercialTermsAccepted = "commercial_terms_accepted"
	OptionWindowHours             = "window_hours"
	OptionAfterWindow             = "after_window"
)

// Platform facts the table and Decide share.
const (
	// HumanAgentTag is the one message tag Switchboard supports (Messenger, and Instagram when enabled).
	HumanAgentTag = "HUMAN_AGENT"
	// HumanAgentTagHours is how long after the customer's last message HUMAN_AGENT may be used.
	HumanAgentTagHours = 7 * 24
	// WeChatReplyLimit is how many messages may be sent per customer message on WeChat.
	WeChatReplyLimit = 5
	// DefaultMonthlyInitiatedLimit is the default Viber chatbot-initiated allowance per month.
	DefaultMonthlyInitiatedLimit = 10000
	// MaxMonthlyInitiatedLimit is the largest monthly_initiated_limit accepted.
	MaxMonthlyInitiatedLimit = 1000000
	// MaxWindowHours is the largest custom window_hours accepted (one year).
	MaxWindowHours = 8760
)

const (
	srcWhatsApp  = "Meta WhatsApp Business Platform policy: 24-hour customer service window; only approved message templates outside it"
	srcMessenger = "Meta Messenger Platform policy: 24-hour standard messaging window; message tags, HUMAN_AGENT up to 7 days after the user's last message"
	srcRespondIO = "respond.io: messaging windows per channel (Instagram blocked after 24 hours; Viber chatbot-message limit and commercial terms; Telegram, LINE, website chat, SMS and email without a window)"
	srcViber     = "Viber chatbot commercial model: 24-hour session, free monthly allowance of chatbot-initiated messages, billable messages under commercial terms"
	srcWeChat    = "WeChat Official Accounts customer service messages: 48 hours after the user's message, at most 5 messages per user message (since June 2023)"
	srcTelegram  = "Telegram Bot API: a bot cannot start a conversation with a user who has not written to it"
)

func humanAgentTagOption(def bool) OptionSpec {
	return OptionSpec{
		Name:    OptionHumanAgentTag,
		Kind:    "bool",
		Default: def,
		Description: "Allow the HUMAN_AGENT message tag: after the 24-hour window and until 7 days after the " +
			"customer's last message, a person (a user, or an API key acting on behalf of a user) may send " +
			"messages tagged HUMAN_AGENT. Without it nothing may be sent after 24 hours.",
	}
}

// Table returns every row of the rule table in the order of Types. Each call returns a fresh copy.
func Table() []Rule {
	noOptions := func() []OptionSpec { return []OptionSpec{} }
	noWindow := "Not applicable: the channel has no messaging window."
	return []Rule{
		{
			Type:         WhatsApp,
			WindowHours:  24,
			InsideWindow: "Any message: text, attachments and approved templates.",
			AfterWindow:  "Only an approved template of this channel (template_required), until the customer writes again.",
			Options:      noOptions(),
			Verified:     verified,
			Sources:      []string{srcWhatsApp},
		},
		{
			Type:         Messenger,
			WindowHours:  24,
			InsideWindow: "Any message.",
			AfterWindow: "Until 7 days after the customer's last message, only messages tagged HUMAN_AGENT sent by a person " +
				"(tag_required); after 7 days nothing (blocked). With human_agent_tag false, nothing right after 24 hours (blocked).",
			Options:  []OptionSpec{humanAgentTagOption(true)},
			Verified: verified,
			Sources:  []string{srcMessenger},
		},
		{
			Type:         Instagram,
			WindowHours:  24,
			InsideWindow: "Any message.",
			AfterWindow: "Nothing until the customer writes again (blocked). With human_agent_tag true, as Messenger: " +
				"messages tagged HUMAN_AGENT sent by a person until 7 days after the customer's last message.",
			Options:  []OptionSpec{humanAgentTagOption(false)},
			Verified: verified,
			Sources:  []string{srcMessenger, srcRespondIO},
		},
		{
			Type:         Viber,
			WindowHours:  24,
			InsideWindow: "Any message, free, within the 24-hour session.",
			AfterWindow: "Chatbot-initiated messages (allowed) while the channel's monthly quota lasts, counted per calendar " +
				"month in UTC; then nothing (blocked, quota_exceeded) unless the commercial terms are accepted, which " +
				"makes them billable and unlimited.",
			Options: []OptionSpec{
				{
					Name:    OptionMonthlyInitiatedLimit,
					Kind:    "int",
					Default: DefaultMonthlyInitiatedLimit,
					Description: "Chatbot-initiated messages (outside the 24-hour session) this channel may send per " +
						"calendar month in UTC; 0 to 1000000.",
				},
				{
					Name:        OptionCommercialTermsAccepted,
					Kind:        "bool",
					Default:     false,
					Description: "The Viber commercial terms are accepted: no monthly limit, chatbot-initiated messages are billable.",
				},
			},
			Verified: verified,
			Sources:  []string{srcViber, srcRespondIO},
		},
		{
			Type:         WeChat,
			WindowHours:  48,
			InsideWindow: "At most 5 messages since the customer's last message; then nothing (blocked, quota_exceeded) until they write again.",
			AfterWindow:  "Only approved template messages (template_required).",
			Options:      noOptions(),
			Verified:     verified,
			Sources:      []string{srcWeChat},
		},
		{
			Type:        Telegram,
			WindowHours: 0,
			InsideWindow: "Any message. There is no window; a bot can only write to someone who wrote first, so an " +
				"identity exists only after an inbound message.",
			AfterWindow: noWindow,
			Options:     noOptions(),
			Verified:    verified,
			Sources:     []string{srcTelegram, srcRespondIO},
		},
		{Type: LINE, InsideWindow: "Any message; there is no window.", AfterWindow: noWindow, Options: noOptions(), Verified: verified, Sources: []string{srcRespondIO}},
		{Type: Webchat, InsideWindow: "Any message; there is no window.", AfterWindow: noWindow, Options: noOptions(), Verified: verified, Sources: []string{srcRespondIO}},
		{Type: SMS, InsideWindow: "Any message; there is no window.", AfterWindow: noWindow, Options: noOptions(), Verified: verified, Sources: []string{srcRespondIO}},
		{Type: Email, InsideWindow: "Any message; there is no window.", AfterWindow: noWindow, Options: noOptions(), Verified: verified, Sources: []string{srcRespondIO}},
		{
			Type:         Custom,
			WindowHours:  0,
			InsideWindow: "Any message; with window_hours 0 (the default) there is no window and anything may always be sent.",
			AfterWindow:  "As configured by after_window: only approved templates (template_required) or nothing (blocked, the default).",
			Options: []OptionSpec{
				{
					Name:        OptionWindowHours,
					Kind:        "int",
					Default:     0,
					Description: "Length of the messaging window in hours after the customer's last message; 0 (the default) means no window; 0 to 8760.",
				},
				{
					Name:        OptionAfterWindow,
					Kind:        "enum",
					Default:     string(Blocked),
					Enum:        []string{string(TemplateRequired), string(Blocked)},
					Description: "What may be sent after the window: only approved templates (template_required) or nothing (blocked).",
				},
			},
			Verified: verified,
			Sources:  []string{"Switchboard: configured per channel"},
		},
	}
}

// Lookup returns the row of type t. An unknown type gives a Rule with only Type set, which Decide blocks.
// The row's slices are shared with every other caller: read them, never change them (Table
// gives copies to change).
func Lookup(t ChannelType) Rule {
	r, _ := lookup(t)
	return r
}

// rows is the table indexed by type, built once. It is never written after: Lookup runs for
// every identity in every eligibility answer and send (twice, with ParseOptions), and
// building the table for each call cost 4 µs and 17 allocations, about 8 % of an
// eligibility answer's CPU.
var rows = func() map[ChannelType]Rule {
	m := make(map[ChannelType]Rule)
	for _, r := range Table() {
		m[r.Type] = r
	}
	return m
}()

func lookup(t ChannelType) (Rule, bool) {
	if r, ok := rows[t]; ok {
		return r, true
	}
	return Rule{Type: t}, false
}

// displayName is the channel's name as used inside a sentence.
func displayName(t ChannelType) string {
	switch t {
	case WhatsApp:
		return "WhatsApp"
	case Messenger:
		return "Messenger"
	case Instagram:
		return "Instagram"
	case Viber:
		return "Viber"
	case WeChat:
		return "WeChat"
	case Telegram:
		return "Telegram"
	case LINE:
		return "LINE"
	case Webchat:
		return "website chat"
	case SMS:
		return "SMS"
	case Email:
		return "email"
	case Custom:
		return "the custom channel"
	}
	return string(t)
}
