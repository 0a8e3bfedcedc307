package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/resource"
)

type channelHandler struct {
	channels *channel.Service
}

// createChannelRequest connects a channel.
type createChannelRequest struct {
	// Type is the channel's row in the rule table.
	Type string `json:"type" validate:"required" enums:"whatsapp,messenger,instagram,viber,wechat,telegram,line,webchat,sms,email,custom" example:"whatsapp"`
	Name string `json:"name" validate:"required" minLength:"1" maxLength:"100" extensions:"x-pattern=notBlank" example:"WhatsApp Support"`
	// Provider defaults to sandbox. Each provider delivers some channel types (DESIGN §6).
	Provider *string `json:"provider" enums:"sandbox,whatsapp_cloud,messenger,instagram,telegram,twilio,smtp,viber,line,webhook" example:"whatsapp_cloud"`
	// Config is the provider's settings, secrets included (they are sealed and never returned).
	// api_base is accepted only when the server runs with PROVIDER_API_BASE_OVERRIDE=true.
	// A destination (webhook url, api_base, smtp host) that is an IP address the server may not
	// connect to (private, loopback, link-local and other internal ranges), or a URL port
	// outside 1-65535, is refused (422 naming config.<field>); each delivery checks the address
	// it connects to again, and a refused one fails the message with forbidden_destination.
	// Like rule_options, at most 8 levels deep and 16 KiB encoded.
	Config map[string]any `json:"config"`
	// RuleOptions are validated per type: human_agent_tag (messenger, instagram),
	// monthly_initiated_limit and commercial_terms_accepted (viber), window_hours and
	// after_window (custom).
	RuleOptions map[string]any `json:"rule_options"`
} // @name CreateChannelRequest

// updateChannelRequest changes a channel's name, rule options or provider config. It names
// the channel's type, and with config its provider, so that each of its shapes in the spec
// holds exactly what that type and provider take (cmd/specgen's updateChannelUnion).
type updateChannelRequest struct {
	// Type is the channel's type, which never changes: another answers 409 channel_type_mismatch.
	Type string  `json:"type" validate:"required" enums:"whatsapp,messenger,instagram,viber,wechat,telegram,line,webchat,sms,email,custom" example:"whatsapp"`
	Name *string `json:"name" minLength:"1" maxLength:"100" extensions:"x-pattern=notBlank" example:"WhatsApp EU"`
	// Provider is the channel's provider, named with config: another answers 409
	// provider_mismatch (PUT /v1/channels/{id}/provider changes it).
	Provider *string `json:"provider" enums:"sandbox,whatsapp_cloud,messenger,instagram,telegram,twilio,smtp,viber,line,webhook" example:"whatsapp_cloud"`
	// Config is merged over the provider's current settings: null clears one, absent keeps it.
	Config map[string]any `json:"config"`
	// RuleOptions is merged over the current options: null restores one's default.
	RuleOptions map[string]any `json:"rule_options"`
	// Routing replaces the channel's routing as a whole (absent: unchanged).
	Routing *channelRoutingRequest `json:"routing"`
} // @name UpdateChannelRequest

// channelRoutingRequest is a channel's routing: where its new and customer-reopened
// unassigned conversations go, in the ingestion transaction.
type channelRoutingRequest struct {
	// TeamID is a team of this workspace (another workspace's answers 422), or null: no
	// routing.
	TeamID *string `json:"team_id" format:"uuid" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f80"`
	// Mode: manual puts them in the team's unassigned queue; round_robin assigns the online
	// member under the cap routed least recently; least_open the online member under the cap
	// with the fewest open conversations (ties: routed least recently). Default manual.
	Mode string `json:"mode" enums:"manual,round_robin,least_open" example:"round_robin"`
	// MaxOpenPerAgent caps the open conversations (all of theirs) a member may have for routing
	// to give them one more; null or absent: no cap. Less than 1 answers 422.
	MaxOpenPerAgent *int `json:"max_open_per_agent" minimum:"1" maximum:"10000" extensions:"x-nullable" example:"5"`
} // @name ChannelRoutingRequest

// patch is the routing as the channel service takes it.
func (r *channelRoutingRequest) patch() (*channel.RoutingPatch, error) {
	if r == nil {
		return nil, nil
	}
	p := &channel.RoutingPatch{Mode: r.Mode, MaxOpenPerAgent: r.MaxOpenPerAgent}
	if r.TeamID != nil {
		id, err := uuidField("routing.team_id", *r.TeamID)
		if err != nil {
			return nil, err
		}
		p.TeamID = &id
	}
	return p, nil
}

// setChannelProviderRequest switches a channel's provider: the provider and its whole config,
// as at creation (cmd/specgen's providerUnion).
type setChannelProviderRequest struct {
	// Type is the channel's type, which never changes: another answers 409 channel_type_mismatch.
	Type     string `json:"type" validate:"required" enums:"whatsapp,messenger,instagram,viber,wechat,telegram,line,webchat,sms,email,custom" example:"whatsapp"`
	Provider string `json:"provider" validate:"required" enums:"sandbox,whatsapp_cloud,messenger,instagram,telegram,twilio,smtp,viber,line,webhook" example:"whatsapp_cloud"`
	// Config is the provider's settings, secrets included (sealed anew, never returned); they
	// replace the current ones. api_base is accepted only when the server runs with
	// PROVIDER_API_BASE_OVERRIDE=true. A destination (webhook url, api_base, smtp host) that is
	// an IP address the server may not connect to (private, loopback, link-local and other
	// internal ranges), or a URL port outside 1-65535, is refused (422 naming config.<field>).
	// At most 8 levels deep and 16 KiB encoded.
	Config map[string]any `json:"config"`
} // @name SetChannelProviderRequest

// list godoc
// @Summary     List channels
// @ID          listChannels
// @Description The workspace's channels, oldest first; archived ones only with include_archived=true.
// @Tags        channels
// @Produce     json
// @Security    BearerAuth
// @Param       include_archived query bool   false "Include archived channels" default(false)
// @Param       limit            query int    false "Page size (1-100)" default(25)
// @Param       cursor           query string false "Cursor from the previous page"
// @Success     200 {object} resource.ChannelList
// @Failure     400 {object} Problem "invalid_parameter, invalid_cursor"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/channels [get]
func (h *channelHandler) list(c echo.Context) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	var f channel.Filter
	if v := c.QueryParam("include_archived"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return invalidParam("include_archived", "must be true or false")
		}
		f.IncludeArchived = b
	}
	chs, next, err := h.channels.List(c.Request().Context(), principal(c).WorkspaceID, f, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ChannelList{Data: each(chs, resource.ToChannel), NextCursor: nextCursor(next)})
}

// create godoc
// @Summary     Connect a channel
// @ID          createChannel
// @Description Creates a channel of a rule-table type. Without provider it uses the sandbox, which delivers nothing outside the server. Provider secrets are sealed with AES-256-GCM and never returned; a server without SECRETS_KEY answers 422 secrets_unavailable for a provider with secrets. An unknown type answers 422 listing the valid types; bad rule_options answer 422 naming each option. Owners, managers and admin keys.
// @Tags        channels
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body createChannelRequest true "Channel"
// @Success     201 {object} resource.Channel
// @Header      201 {string} Location "The channel's address: /v1/channels/{id}"
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed, secrets_unavailable"
// @Router      /v1/channels [post]
func (h *channelHandler) create(c echo.Context) error {
	var req createChannelRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	ch, err := h.channels.Create(c.Request().Context(), principal(c).WorkspaceID, channel.New{Type: req.Type, Name: req.Name,
		Provider: req.Provider, Config: req.Config, RuleOptions: req.RuleOptions})
	if err != nil {
		return err
	}
	return created(c, "/v1/channels/"+ch.ID.String(), resource.ToChannel(ch))
}

// get godoc
// @Summary     Get a channel
// @ID          getChannel
// @Description One channel, archived or not. Secrets are never returned; secrets_set names those that are set.
// @Tags        channels
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Channel id"
// @Success     200 {object} resource.Channel
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "channel_not_found"
// @Router      /v1/channels/{id} [get]
func (h *channelHandler) get(c echo.Context) error {
	return getByID(c, channel.ErrNotFound, h.channels.Get, resource.ToChannel)
}

// update godoc
// @Summary     Update a channel
// @ID          updateChannel
// @Description Changes a channel's name, rule_options or provider config. The body names the channel's type (required; a channel's type never changes: another answers 409 channel_type_mismatch), and with config its provider (another than the channel's answers 409 provider_mismatch; PUT /v1/channels/{id}/provider switches providers), so that its schema holds exactly what that type and provider take. config is merged over the current settings: a setting left out keeps its value (secrets too), null clears an optional one; a required one can be changed, not cleared. Of Twilio's from and messaging_service_sid, setting one replaces the other. rule_options is merged over the current options: null restores one's default. An archived channel can be changed too. Owners, managers and admin keys.
// @Tags        channels
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string               true "Channel id"
// @Param       body body updateChannelRequest true "Changes"
// @Success     200 {object} resource.Channel
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "channel_not_found"
// @Failure     409 {object} Problem "channel_type_mismatch, provider_mismatch"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed, secrets_unavailable"
// @Router      /v1/channels/{id} [patch]
func (h *channelHandler) update(c echo.Context) error {
	var req updateChannelRequest
	id, err := bindByID(c, channel.ErrNotFound, &req)
	if err != nil {
		return err
	}
	routing, err := req.Routing.patch()
	if err != nil {
		return err
	}
	ch, err := h.channels.Update(c.Request().Context(), principal(c).WorkspaceID, id,
		channel.Patch{Type: req.Type, Name: req.Name, Provider: req.Provider, Config: req.Config, RuleOptions: req.RuleOptions, Routing: routing})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToChannel(ch))
}

// setProvider godoc
// @Summary     Switch a channel's provider
// @ID          setChannelProvider
// @Description Replaces a channel's provider and its whole config, checked as at creation: the provider's required settings are required, and its secrets are sealed anew (the old provider's settings and secrets are gone). The sandbox takes no config (an empty object, or leave it out). The body names the channel's type, which never changes: another answers 409 channel_type_mismatch. A server without SECRETS_KEY answers 422 secrets_unavailable for a provider with secrets. An archived channel can be switched too. Owners, managers and admin keys.
// @Tags        channels
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string                    true "Channel id"
// @Param       body body setChannelProviderRequest true "The provider and its config"
// @Success     200 {object} resource.Channel
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "channel_not_found"
// @Failure     409 {object} Problem "channel_type_mismatch"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed, secrets_unavailable"
// @Router      /v1/channels/{id}/provider [put]
func (h *channelHandler) setProvider(c echo.Context) error {
	var req setChannelProviderRequest
	id, err := bindByID(c, channel.ErrNotFound, &req)
	if err != nil {
		return err
	}
	ch, err := h.channels.SetProvider(c.Request().Context(), principal(c).WorkspaceID, id,
		channel.ProviderSwitch{Type: req.Type, Provider: req.Provider, Config: req.Config})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToChannel(ch))
}

// delete godoc
// @Summary     Delete or archive a channel
// @ID          deleteChannel
// @Description A channel without messages is deleted with its identities. A channel with messages is archived instead: it stays readable with archived_at set (GET, and lists with include_archived=true), keeps its messages, identities and templates, and refuses inbound messages, new identities and new templates with 409 channel_archived. Deleting an archived channel changes nothing. Owners, managers and admin keys.
// @Tags        channels
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Channel id"
// @Success     204
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "channel_not_found"
// @Router      /v1/channels/{id} [delete]
func (h *channelHandler) delete(c echo.Context) error {
	id, err := pathID(c, channel.ErrNotFound)
	if err != nil {
		return err
	}
	if _, err := h.channels.Delete(c.Request().Context(), principal(c).WorkspaceID, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type createIdentityRequest struct {
	ChannelID string `json:"channel_id" validate:"required" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	// Identifier is normalised for the channel's type: phones to E.164 (national numbers in
	// the workspace's default_phone_region) for WhatsApp and SMS, emails lower-cased, other
	// platforms' user ids kept as given.
	Identifier string `json:"identifier" validate:"required" minLength:"1" maxLength:"256" extensions:"x-pattern=^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\t\\n\\x0b\\f\\r \\x85\\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\\x00-\\x1f\\x7f-\\x9f]*$" example:"(202) 555-0123"`
} // @name CreateChannelIdentityRequest

// identities godoc
// @Summary     List a contact's channel identities
// @ID          listContactIdentities
// @Description The contact's addresses on channels, in the order they were added, each with last_inbound_at (the start of its messaging window).
// @Tags        contacts
// @Produce     json
// @Security    BearerAuth
// @Param       id     path  string true  "Contact id"
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} resource.ChannelIdentityList
// @Failure     400 {object} Problem "invalid_parameter, invalid_cursor"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "contact_not_found"
// @Router      /v1/contacts/{id}/channels [get]
func (h *channelHandler) identities(c echo.Context) error {
	data, next, err := listPageByID(c, contact.ErrNotFound, h.channels.Identities, resource.ToChannelIdentity)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ChannelIdentityList{Data: data, NextCursor: next})
}

// addIdentity godoc
// @Summary     Add a channel identity to a contact
// @ID          createContactIdentity
// @Description Gives the contact an address on a channel. Identifiers are unique per channel: one held by another contact answers 409 identity_exists with existing_id (the contact holding it). A channel_id that is not a channel of this workspace answers 422; an archived channel 409 channel_archived.
// @Tags        contacts
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string                true "Contact id"
// @Param       body body createIdentityRequest true "Identity"
// @Success     201 {object} resource.ChannelIdentity
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "contact_not_found"
// @Failure     409 {object} Problem "identity_exists, channel_archived"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/contacts/{id}/channels [post]
func (h *channelHandler) addIdentity(c echo.Context) error {
	var req createIdentityRequest
	id, err := bindByID(c, contact.ErrNotFound, &req)
	if err != nil {
		return err
	}
	chID, err := uuidField("channel_id", req.ChannelID)
	if err != nil {
		return err
	}
	x, err := h.channels.AddIdentity(c.Request().Context(), principal(c).WorkspaceID, id, chID, req.Identifier)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, resource.ToChannelIdentity(x))
}
