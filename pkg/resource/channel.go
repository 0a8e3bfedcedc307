package resource

import (
	"time"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/rules"
)

// Channel is a connected channel with its provider's non-secret settings and its rule
// options.
type Channel struct {
	ID   string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	Type string `json:"type" enums:"whatsapp,messenger,instagram,viber,wechat,telegram,line,webchat,sms,email,custom" example:"whatsapp"`
	Name string `json:"name" example:"WhatsApp Support"`
	// Provider delivers the channel's messages; sandbox delivers nothing outside the server.
	Provider string `json:"provider" enums:"sandbox,whatsapp_cloud,messenger,instagram,telegram,twilio,smtp,viber,line,webhook" example:"whatsapp_cloud"`
	// Config holds the provider's non-secret settings.
	Config map[string]any `json:"config"`
	// SecretsSet names the provider secrets that are set. Their values are write-only.
	SecretsSet []string `json:"secrets_set" example:"access_token,app_secret"`
	// RuleOptions are the channel's rule options, every option of its type with defaults applied.
	RuleOptions map[string]any `json:"rule_options"`
	// Routing is where the channel's new and customer-reopened unassigned conversations go.
	Routing ChannelRouting `json:"routing"`
	// ArchivedAt is set when the channel was deleted while it had messages: it keeps its
	// history but takes no new messages or identities.
	ArchivedAt *time.Time `json:"archived_at" extensions:"x-nullable" format:"date-time" example:"2026-11-29T08:00:00Z"`
	CreatedAt  time.Time  `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt  time.Time  `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Channel

// ChannelList is a page of channels.
type ChannelList struct {
	Data       []Channel `json:"data"`
	NextCursor *string   `json:"next_cursor" extensions:"x-nullable"`
} // @name ChannelList

// ChannelIdentity is a contact's address on a channel.
type ChannelIdentity struct {
	ID          string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f61"`
	ChannelID   string `json:"channel_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	ChannelType string `json:"channel_type" enums:"whatsapp,messenger,instagram,viber,wechat,telegram,line,webchat,sms,email,custom" example:"whatsapp"`
	// Identifier is the contact's address on the channel: E.164 for WhatsApp and SMS, a
	// lower-cased address for email, the platform's user id elsewhere.
	Identifier string `json:"identifier" example:"+12025550123"`
	// LastInboundAt is the contact's latest message on this identity: the start of the
	// channel's messaging window. Null until they write.
	LastInboundAt *time.Time `json:"last_inbound_at" extensions:"x-nullable" format:"date-time" example:"2026-11-29T08:00:00Z"`
	CreatedAt     time.Time  `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name ChannelIdentity

// ChannelIdentityList is a page of a contact's channel identities.
type ChannelIdentityList struct {
	Data       []ChannelIdentity `json:"data"`
	NextCursor *string           `json:"next_cursor" extensions:"x-nullable"`
} // @name ChannelIdentityList

// ChannelRuleOption is one per-channel option of a channel type's rules.
type ChannelRuleOption struct {
	Name string `json:"name" example:"human_agent_tag"`
	Kind string `json:"kind" enums:"bool,int,enum" example:"bool"`
	// Default is a boolean, an integer or a string, by kind.
	Default     any      `json:"default" swaggertype:"string" extensions:"x-any" example:"true"`
	Enum        []string `json:"enum" example:"template_required,blocked"`
	Description string   `json:"description" example:"Allow the HUMAN_AGENT message tag..."`
} // @name ChannelRuleOption

// ChannelRule is one channel type's row of the rule table.
type ChannelRule struct {
	Type string `json:"type" enums:"whatsapp,messenger,instagram,viber,wechat,telegram,line,webchat,sms,email,custom" example:"whatsapp"`
	// WindowHours is the messaging window after the customer's last message; null when the channel has none (custom: set by its window_hours option).
	WindowHours  *int                `json:"window_hours" extensions:"x-nullable" example:"24"`
	InsideWindow string              `json:"inside_window" example:"Any message: text, attachments and approved templates."`
	AfterWindow  string              `json:"after_window" example:"Only an approved template of this channel (template_required), until the customer writes again."`
	Options      []ChannelRuleOption `json:"options"`
	Verified     string              `json:"verified" format:"date" example:"2026-11-01"`
	Sources      []string            `json:"sources" example:"Meta WhatsApp Business Platform policy: 24-hour customer service window"`
} // @name ChannelRule

// ChannelRuleTable is the rule table the send path applies.
type ChannelRuleTable struct {
	RuleVersion string        `json:"rule_version" example:"2026-11-01"`
	Data        []ChannelRule `json:"data"`
} // @name ChannelRuleTable

// ToChannel is ch without its secrets, its rule options with their defaults.
func ToChannel(ch channel.Channel) Channel {
	cfg := ch.Config
	if cfg == nil {
		cfg = map[string]any{}
	}
	return Channel{ID: ch.ID.String(), Type: string(ch.Type), Name: ch.Name, Provider: ch.Provider, Config: cfg,
		SecretsSet: orEmpty(ch.SecretNames), RuleOptions: ch.RuleOptions.Map(ch.Type), Routing: ToChannelRouting(ch.Routing), ArchivedAt: ch.ArchivedAt,
		CreatedAt: ch.CreatedAt, UpdatedAt: ch.UpdatedAt}
}

// ToChannelIdentity is i as the API writes it.
func ToChannelIdentity(i channel.Identity) ChannelIdentity {
	return ChannelIdentity{ID: i.ID.String(), ChannelID: i.ChannelID.String(), ChannelType: string(i.ChannelType),
		Identifier: i.Identifier, LastInboundAt: i.LastInboundAt, CreatedAt: i.CreatedAt}
}

// ToChannelRuleTable is the rule table of the given version as the API writes it.
func ToChannelRuleTable(version string, table []rules.Rule) ChannelRuleTable {
	out := ChannelRuleTable{RuleVersion: version, Data: make([]ChannelRule, len(table))}
	for i, r := range table {
		cr := ChannelRule{Type: string(r.Type), InsideWindow: r.InsideWindow, AfterWindow: r.AfterWindow,
			Verified: r.Verified, Sources: r.Sources, Options: make([]ChannelRuleOption, len(r.Options))}
		if r.WindowHours > 0 {
			h := r.WindowHours
			cr.WindowHours = &h
		}
		for j, o := range r.Options {
			cr.Options[j] = ChannelRuleOption{Name: o.Name, Kind: o.Kind, Default: o.Default, Enum: orEmpty(o.Enum), Description: o.Description}
		}
		out.Data[i] = cr
	}
	return out
}
