package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/rules"
)

type ruleOption struct {
	Name string `json:"name" example:"human_agent_tag"`
	Kind string `json:"kind" enums:"bool,int,enum" example:"bool"`
	// Default is a boolean, an integer or a string, by kind.
	Default     any      `json:"default" swaggertype:"string" extensions:"x-any" example:"true"`
	Enum        []string `json:"enum" example:"template_required,blocked"`
	Description string   `json:"description" example:"Allow the HUMAN_AGENT message tag..."`
} // @name ChannelRuleOption

type channelRule struct {
	Type string `json:"type" enums:"whatsapp,messenger,instagram,viber,wechat,telegram,line,webchat,sms,email,custom" example:"whatsapp"`
	// WindowHours is the messaging window after the customer's last message; null when the channel has none (custom: set by its window_hours option).
	WindowHours  *int         `json:"window_hours" extensions:"x-nullable" example:"24"`
	InsideWindow string       `json:"inside_window" example:"Any message: text, attachments and approved templates."`
	AfterWindow  string       `json:"after_window" example:"Only an approved template of this channel (template_required), until the customer writes again."`
	Options      []ruleOption `json:"options"`
	Verified     string       `json:"verified" format:"date" example:"2026-11-01"`
	Sources      []string     `json:"sources" example:"Meta WhatsApp Business Platform policy: 24-hour customer service window"`
} // @name ChannelRule

type channelRuleTable struct {
	RuleVersion string        `json:"rule_version" example:"2026-11-01"`
	Data        []channelRule `json:"data"`
} // @name ChannelRuleTable

// channelRules godoc
// @Summary     The channel rule table
// @Description Every channel type's messaging window, what may be sent inside and after it, its per-channel options with defaults, and the sources, as the send path applies them. Every eligibility answer and send carries the same rule_version.
// @Tags        channel-rules
// @Produce     json
// @Security    BearerAuth
// @Success     200 {object} channelRuleTable
// @Failure     401 {object} Problem
// @Router      /v1/channel-rules [get]
func channelRules(c echo.Context) error {
	table := rules.Table()
	out := channelRuleTable{RuleVersion: rules.Version, Data: make([]channelRule, len(table))}
	for i, r := range table {
		cr := channelRule{Type: string(r.Type), InsideWindow: r.InsideWindow, AfterWindow: r.AfterWindow,
			Verified: r.Verified, Sources: r.Sources, Options: make([]ruleOption, len(r.Options))}
		if r.WindowHours > 0 {
			h := r.WindowHours
			cr.WindowHours = &h
		}
		for j, o := range r.Options {
			enum := o.Enum
			if enum == nil {
				enum = []string{}
			}
			cr.Options[j] = ruleOption{Name: o.Name, Kind: o.Kind, Default: o.Default, Enum: enum, Description: o.Description}
		}
		out.Data[i] = cr
	}
	return c.JSON(http.StatusOK, out)
}
