package channel

import (
	"fmt"
	"maps"
	"math"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/switchboard/switchboard/pkg/egress"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/rules"
)

// Providers, as named in a channel's provider.
const (
	ProviderSandbox       = "sandbox"
	ProviderWhatsAppCloud = "whatsapp_cloud"
	ProviderMessenger     = "messenger"
	ProviderInstagram     = "instagram"
	ProviderTelegram      = "telegram"
	ProviderTwilio        = "twilio"
	ProviderSMTP          = "smtp"
	ProviderViber         = "viber"
	ProviderLINE          = "line"
	ProviderWebhook       = "webhook"
)

// APIBaseField replaces a provider's public base URL; accepted only when the server allows it.
const APIBaseField = "api_base"

type fieldKind int

const (
	kindString fieldKind = iota
	kindURL
	kindHost // a host name or IP address to connect to, without a port
	kindPort
	kindEnum
)

// field is one setting of a provider's config, named as the adapter's Config in
// pkg/provider/<name> takes it.
type field struct {
	name     string
	kind     fieldKind
	secret   bool // write-only, sealed at rest, never returned
	required bool
	enum     []string // kindEnum
	max      int      // characters; 0 means maxConfigValue
}

// providerSpec is one row of DESIGN §6: which channel types a provider delivers and its config.
type providerSpec struct {
	name   string
	types  []rules.ChannelType // nil: every type
	fields []field
	// oneOf lists groups of fields of which exactly one must be set (Twilio's sender).
	oneOf [][]string
	// apiBase says whether the adapter has a base URL that api_base may replace.
	apiBase bool
}

var metaFields = []field{
	{name: "page_id", required: true},
	{name: "page_access_token", secret: true, required: true},
	{name: "app_secret", secret: true, required: true},
	{name: "verify_token", secret: true},
}

// providers is the provider table. Fields needed to send or to check a webhook's signature
// are required; the rest are optional.
var providers = []providerSpec{
	{name: ProviderSandbox},
	{name: ProviderWhatsAppCloud, types: []rules.ChannelType{rules.WhatsApp}, apiBase: true, fields: []field{
		{name: "phone_number_id", required: true},
		{name: "access_token", secret: true, required: true},
		{name: "app_secret", secret: true, required: true},
		{name: "verify_token", secret: true},
	}},
	{name: ProviderMessenger, types: []rules.ChannelType{rules.Messenger}, apiBase: true, fields: metaFields},
	{name: ProviderInstagram, types: []rules.ChannelType{rules.Instagram}, apiBase: true, fields: metaFields},
	{name: ProviderTelegram, types: []rules.ChannelType{rules.Telegram}, apiBase: true, fields: []field{
		{name: "bot_token", secret: true, required: true},
		{name: "secret_token", secret: true, required: true},
	}},
	{name: ProviderTwilio, types: []rules.ChannelType{rules.SMS, rules.WhatsApp}, apiBase: true, fields: []field{
		{name: "account_sid", required: true},
		{name: "auth_token", secret: true, required: true},
		{name: "from"},
		{name: "messaging_service_sid"},
	}, oneOf: [][]string{{"from", "messaging_service_sid"}}},
	{name: ProviderSMTP, types: []rules.ChannelType{rules.Email}, fields: []field{
		{name: "host", kind: kindHost, required: true},
		{name: "port", kind: kindPort},
		{name: "username"},
		{name: "password", secret: true},
		{name: "from", required: true},
		{name: "tls", kind: kindEnum, enum: []string{"starttls", "tls", "none"}},
		// The bearer secret the mail gateway presents when it posts inbound mail.
		{name: "inbound_secret", secret: true},
	}},
	{name: ProviderViber, types: []rules.ChannelType{rules.Viber}, apiBase: true, fields: []field{
		{name: "auth_token", secret: true, required: true},
		{name: "sender_name", required: true, max: 28},
	}},
	{name: ProviderLINE, types: []rules.ChannelType{rules.LINE}, apiBase: true, fields: []field{
		{name: "channel_access_token", secret: true, required: true},
		{name: "channel_secret", secret: true, required: true},
	}},
	{name: ProviderWebhook, types: []rules.ChannelType{rules.Custom, rules.Webchat}, fields: []field{
		{name: "url", kind: kindURL, required: true},
		{name: "secret", secret: true, required: true},
	}},
}

// ProviderNames lists every provider, in the table's order.
func ProviderNames() []string {
	out := make([]string, len(providers))
	for i, p := range providers {
		out[i] = p.name
	}
	return out
}

func lookupProvider(name string) (providerSpec, bool) {
	i := slices.IndexFunc(providers, func(p providerSpec) bool { return p.name == name })
	if i < 0 {
		return providerSpec{}, false
	}
	return providers[i], true
}

func (p providerSpec) delivers(t rules.ChannelType) bool {
	return p.types == nil || slices.Contains(p.types, t)
}

func (p providerSpec) typeNames() string {
	s := make([]string, len(p.types))
	for i, t := range p.types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func (p providerSpec) field(name string) (field, bool) {
	if name == APIBaseField && p.apiBase {
		return field{name: APIBaseField, kind: kindURL}, true
	}
	i := slices.IndexFunc(p.fields, func(f field) bool { return f.name == name })
	if i < 0 {
		return field{}, false
	}
	return p.fields[i], true
}

const maxConfigValue = 2000

// parseConfig validates a provider's complete config: every key known, every value of its
// kind, required fields present, api_base only when allowed, destinations not internal. It
// splits the result into the public settings and the secrets. Errors name fields as
// "config.<name>".
func parseConfig(p providerSpec, raw map[string]any, dest Destinations) (public map[string]any, secrets map[string]string, errs errkind.Fields) {
	public, secrets = map[string]any{}, map[string]string{}
	// Which switch lets this provider's destinations be loopback: the webhook URL is a
	// subscriber-like endpoint; api_base and SMTP hosts are provider endpoints.
	loopback := dest.ProviderOverride
	if p.name == ProviderWebhook {
		loopback = dest.WebhookLoopback
	}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		v := raw[name]
		path := "config." + name
		f, ok := p.field(name)
		if !ok {
			if p.name == ProviderSandbox {
				errs.Add(path, "the sandbox provider takes no config")
			} else {
				errs.Add(path, fmt.Sprintf("is not a setting of the %s provider", p.name))
			}
			continue
		}
		if v == nil {
			continue // null clears an optional setting; required ones are caught below
		}
		if name == APIBaseField && !dest.ProviderOverride {
			errs.Add(path, "is not accepted by this server (PROVIDER_API_BASE_OVERRIDE is off)")
			continue
		}
		val, msg := f.parse(v, loopback)
		if msg != "" {
			errs.Add(path, msg)
			continue
		}
		if f.secret {
			secrets[name] = val.(string)
		} else {
			public[name] = val
		}
	}
	for _, f := range p.fields {
		_, inPublic := public[f.name]
		_, inSecrets := secrets[f.name]
		if f.required && !inPublic && !inSecrets && !hasField(errs, "config."+f.name) {
			errs.Add("config."+f.name, fmt.Sprintf("is required by the %s provider", p.name))
		}
	}
	for _, group := range p.oneOf {
		n := 0
		for _, name := range group {
			if _, ok := public[name]; ok {
				n++
			}
		}
		if n != 1 {
			errs.Add("config."+group[0], fmt.Sprintf("set exactly one of %s", strings.Join(group, ", ")))
		}
	}
	return public, secrets, errs
}

func hasField(errs errkind.Fields, name string) bool {
	return slices.ContainsFunc(errs, func(f errkind.Field) bool { return f.Field == name })
}

// notAllowed is the message for a destination egress would refuse; like the delivery's, it
// does not say which range the address is in.
const notAllowed = "points at an address this server may not connect to"

// parse checks one value and returns it in its stored form, or why it is wrong. loopback says
// whether a destination (URL host, SMTP host) may be a loopback address.
func (f field) parse(v any, loopback bool) (any, string) {
	switch f.kind {
	case kindEnum:
		s, ok := v.(string)
		if !ok || !slices.Contains(f.enum, s) {
			return nil, "must be one of " + strings.Join(f.enum, ", ")
		}
		return s, ""
	case kindPort:
		n, ok := v.(float64)
		if !ok || n != math.Trunc(n) || n < 1 || n > 65535 {
			return nil, "must be a port number from 1 to 65535"
		}
		return int(n), ""
	}
	s, ok := v.(string)
	if !ok {
		return nil, "must be a string"
	}
	s = strings.TrimSpace(s)
	limit := maxConfigValue
	if f.max > 0 {
		limit = f.max
	}
	if s == "" || utf8.RuneCountInString(s) > limit || !utf8.ValidString(s) {
		return nil, fmt.Sprintf("must be 1 to %d characters", limit)
	}
	switch f.kind {
	case kindURL:
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return nil, "must be an absolute http or https URL without credentials"
		}
		if !egress.ValidPort(u.Port()) {
			return nil, "must have a port from 1 to 65535"
		}
		if egress.Literal(u.Hostname(), loopback) != nil {
			return nil, notAllowed
		}
		if _, err := netip.ParseAddr(u.Hostname()); err != nil && !egress.HostName(u.Hostname()) {
			return nil, "must have a host name or an IP address as its host"
		}
	case kindHost:
		if egress.Literal(s, loopback) != nil {
			return nil, notAllowed
		}
		if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
			return a.String(), "" // stored bare: the provider adds the port, and brackets, itself
		}
		if !egress.HostName(s) {
			return nil, "must be a host name or an IP address, without a port"
		}
	}
	return s, ""
}
