package channel

import (
	"fmt"
	"maps"
	"math"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/switchboard/switchboard/pkg/egress"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/provider"
	"github.com/switchboard/switchboard/pkg/provider/line"
	"github.com/switchboard/switchboard/pkg/provider/messenger"
	"github.com/switchboard/switchboard/pkg/provider/sandbox"
	"github.com/switchboard/switchboard/pkg/provider/smtp"
	"github.com/switchboard/switchboard/pkg/provider/telegram"
	"github.com/switchboard/switchboard/pkg/provider/twilio"
	"github.com/switchboard/switchboard/pkg/provider/viber"
	"github.com/switchboard/switchboard/pkg/provider/webhook"
	"github.com/switchboard/switchboard/pkg/provider/whatsapp"
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

// field is one setting of a provider's config: a field of the adapter's Config in
// pkg/provider/<name>, read from its config tag.
type field struct {
	name     string
	kind     fieldKind
	secret   bool // write-only, sealed at rest, never returned
	required bool
	enum     []string // kindEnum
	max      int      // characters; 0 means maxConfigValue
	index    int      // of the Config's struct field
}

// providerSpec is one row of DESIGN §6: which channel types a provider delivers and its config.
type providerSpec struct {
	name  string
	types []rules.ChannelType // nil: every type
	// config is the adapter's Config (nil: the provider takes none); its config tags are the
	// provider's fields, in order, so the adapter and the table cannot name a setting apart.
	config reflect.Type
	fields []field
	// oneOf lists groups of fields of which exactly one must be set (Twilio's sender).
	oneOf [][]string
	// media is what the provider carries in one message on a channel of the type (the
	// provider package's own table).
	media func(rules.ChannelType) provider.Limits
}

// adapterSpec makes a row of the table from the adapter's Config and media limits.
func adapterSpec(name string, config any, media provider.Limits, types ...rules.ChannelType) providerSpec {
	p := providerSpec{name: name, types: types, config: reflect.TypeOf(config), media: fixed(media)}
	p.fields = configFields(p.config)
	return p
}

// configFields reads a Config's tags: `config:"name[,secret][,required][,url|host][,enum=a b]
// [,max=N]"`, an int field being a port. A field tagged "-" is not stored; api_base may stand
// only where the adapter takes a base URL. A malformed tag is a bug in the table: it panics when
// the package loads.
func configFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("config")
		if tag == "-" {
			continue
		}
		parts := strings.Split(tag, ",")
		f := field{name: parts[0], index: i}
		if t.Field(i).Type.Kind() == reflect.Int {
			f.kind = kindPort
		} else if t.Field(i).Type.Kind() != reflect.String {
			panic(fmt.Sprintf("channel: %s.%s is neither a string nor a port", t, t.Field(i).Name))
		}
		for _, opt := range parts[1:] {
			switch k, v, _ := strings.Cut(opt, "="); k {
			case "secret":
				f.secret = true
			case "required":
				f.required = true
			case "url":
				f.kind = kindURL
			case "host":
				f.kind = kindHost
			case "enum":
				f.kind, f.enum = kindEnum, strings.Fields(v)
			case "max":
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 {
					panic(fmt.Sprintf("channel: %s.%s: bad max %q", t, t.Field(i).Name, v))
				}
				f.max = n
			default:
				panic(fmt.Sprintf("channel: %s.%s: unknown config option %q", t, t.Field(i).Name, opt))
			}
		}
		if f.name == "" || f.name == APIBaseField && (f.kind != kindURL || f.required || f.secret) {
			panic(fmt.Sprintf("channel: %s.%s: bad config tag %q", t, t.Field(i).Name, tag))
		}
		out = append(out, f)
	}
	return out
}

// providers is the provider table. Fields needed to send or to check a webhook's signature
// are required; the rest are optional.
var providers = []providerSpec{
	{name: ProviderSandbox, media: fixed(sandbox.Limits)},
	adapterSpec(ProviderWhatsAppCloud, whatsapp.Config{}, whatsapp.Limits, rules.WhatsApp),
	adapterSpec(ProviderMessenger, messenger.Config{}, messenger.Limits, rules.Messenger),
	adapterSpec(ProviderInstagram, messenger.Config{}, instagramLimits(), rules.Instagram),
	adapterSpec(ProviderTelegram, telegram.Config{}, telegram.Limits, rules.Telegram),
	twilioSpec(),
	adapterSpec(ProviderSMTP, smtp.Config{}, smtp.Limits, rules.Email),
	adapterSpec(ProviderViber, viber.Config{}, viber.Limits, rules.Viber),
	adapterSpec(ProviderLINE, line.Config{}, line.Limits, rules.LINE),
	adapterSpec(ProviderWebhook, webhook.Config{}, webhook.Limits, rules.Custom, rules.Webchat),
}

func fixed(l provider.Limits) func(rules.ChannelType) provider.Limits {
	return func(rules.ChannelType) provider.Limits { return l }
}

// instagramLimits are Messenger's, as Instagram sends through the same Send API.
func instagramLimits() provider.Limits {
	l := messenger.Limits
	l.Name = "Instagram"
	return l
}

// MediaLimits are what the channel's provider carries in one message; a provider this build
// does not know carries nothing.
func MediaLimits(ch Channel) provider.Limits {
	p, ok := lookupProvider(ch.Provider)
	if !ok {
		return provider.Limits{Name: ch.Provider}
	}
	return p.media(ch.Type)
}

func twilioSpec() providerSpec {
	p := adapterSpec(ProviderTwilio, twilio.Config{}, twilio.MMSLimits, rules.SMS, rules.WhatsApp)
	p.media = func(t rules.ChannelType) provider.Limits {
		if t == rules.WhatsApp {
			return twilio.WhatsAppLimits
		}
		return twilio.MMSLimits
	}
	p.oneOf = [][]string{{"from", "messaging_service_sid"}}
	for _, name := range p.oneOf[0] {
		if f, ok := p.field(name); !ok || f.required {
			panic("channel: twilio's sender is not two optional fields of twilio.Config")
		}
	}
	return p
}

// Settings is a channel's provider config with its secrets opened, as a value of the provider
// adapter's Config (whatsapp.Config, smtp.Config, ...); nil for a provider that takes none or
// that this build does not know.
func Settings(ch Channel, secrets map[string]string) any {
	p, ok := lookupProvider(ch.Provider)
	if !ok || p.config == nil {
		return nil
	}
	v := reflect.New(p.config).Elem()
	for _, f := range p.fields {
		if f.kind == kindPort {
			v.Field(f.index).SetInt(int64(storedPort(ch.Config[f.name])))
			continue
		}
		s, ok := secrets[f.name]
		if !ok {
			s, _ = ch.Config[f.name].(string)
		}
		v.Field(f.index).SetString(s)
	}
	return v.Interface()
}

// storedPort reads a port as parseConfig stores it: an int, or a JSON number once it has been
// through the database.
func storedPort(v any) int {
	switch v := v.(type) {
	case float64:
		if v == math.Trunc(v) && v > 0 && v < 65536 {
			return int(v)
		}
	case int:
		return v
	}
	return 0
}

// ProviderNames lists every provider, in the table's order.
func ProviderNames() []string {
	out := make([]string, len(providers))
	for i, p := range providers {
		out[i] = p.name
	}
	return out
}

// Provider describes one row of the provider table for the API's spec (cmd/specgen writes a
// request shape per channel type and provider from it), so the spec states what parseConfig
// checks.
type Provider struct {
	Name  string
	Types []rules.ChannelType // the channel types it delivers, in the rule table's order
	// Config lists the settings in the table's order; none for the sandbox, which takes none.
	Config []ConfigField
	// OneOf lists groups of settings of which exactly one must be set (Twilio's sender).
	OneOf [][]string
}

// ConfigField is one setting of a provider's config, as parseConfig checks it: a string of 1 to
// MaxLength characters once trimmed, of its Kind.
type ConfigField struct {
	Name string
	// Kind is "string"; "url", an absolute http(s) URL without credentials; "host", a host name
	// or IP address without a port; "port", an integer from 1 to 65535 (MaxLength 0); or
	// "enum", one of Enum exactly.
	Kind      string
	Enum      []string
	MaxLength int
	Secret    bool // write-only: sealed at rest, never returned
	Required  bool
}

// Providers describes every provider, in the table's order.
func Providers() []Provider {
	kinds := map[fieldKind]string{kindString: "string", kindURL: "url", kindHost: "host", kindPort: "port", kindEnum: "enum"}
	out := make([]Provider, len(providers))
	for i, p := range providers {
		d := Provider{Name: p.name, Config: []ConfigField{}}
		for _, t := range rules.Types() {
			if p.delivers(t) {
				d.Types = append(d.Types, t)
			}
		}
		for _, f := range p.fields {
			c := ConfigField{Name: f.name, Kind: kinds[f.kind], Enum: slices.Clone(f.enum), Secret: f.secret, Required: f.required}
			if f.kind != kindPort && f.kind != kindEnum {
				c.MaxLength = maxConfigValue
				if f.max > 0 {
					c.MaxLength = f.max
				}
			}
			d.Config = append(d.Config, c)
		}
		for _, g := range p.oneOf {
			d.OneOf = append(d.OneOf, slices.Clone(g))
		}
		out[i] = d
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
