package channel

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/pkg/provider/smtp"
	"github.com/switchboard/switchboard/pkg/provider/twilio"
	"github.com/switchboard/switchboard/pkg/provider/whatsapp"
	"github.com/switchboard/switchboard/pkg/rules"
)

// TestProviderFields pins each provider's settings as DESIGN §6 names them. Channels store
// their config under these names, so renaming a Config's tag must fail here, not in a send.
func TestProviderFields(t *testing.T) {
	want := map[string]string{
		ProviderSandbox:       "",
		ProviderWhatsAppCloud: "phone_number_id required; access_token secret required; app_secret secret required; verify_token secret; api_base url",
		ProviderMessenger:     "page_id required; page_access_token secret required; app_secret secret required; verify_token secret; api_base url",
		ProviderInstagram:     "page_id required; page_access_token secret required; app_secret secret required; verify_token secret; api_base url",
		ProviderTelegram:      "bot_token secret required; secret_token secret required; api_base url",
		ProviderTwilio:        "account_sid required; auth_token secret required; from; messaging_service_sid; api_base url",
		ProviderSMTP:          "host host required; port port; username; password secret; from required; tls enum=starttls,tls,none; inbound_secret secret",
		ProviderViber:         "auth_token secret required; sender_name required max=28; api_base url",
		ProviderLINE:          "channel_access_token secret required; channel_secret secret required; api_base url",
		ProviderWebhook:       "url url required; secret secret required",
	}
	kinds := map[fieldKind]string{kindURL: " url", kindHost: " host", kindPort: " port"}
	for _, name := range ProviderNames() {
		p, _ := lookupProvider(name)
		var got []string
		for _, f := range p.fields {
			s := f.name + kinds[f.kind]
			if f.kind == kindEnum {
				s += " enum=" + strings.Join(f.enum, ",")
			}
			if f.secret {
				s += " secret"
			}
			if f.required {
				s += " required"
			}
			if f.max > 0 {
				s += fmt.Sprintf(" max=%d", f.max)
			}
			got = append(got, s)
		}
		if g := strings.Join(got, "; "); g != want[name] {
			t.Errorf("%s fields:\n got %s\nwant %s", name, g, want[name])
		}
	}
}

// TestSettings: a channel's stored config and opened secrets come back as its adapter's Config.
func TestSettings(t *testing.T) {
	cases := []struct {
		name    string
		ch      Channel
		secrets map[string]string
		want    any
	}{
		{"sandbox takes none", Channel{Provider: ProviderSandbox}, nil, nil},
		{"unknown provider", Channel{Provider: "carrier_pigeon"}, nil, nil},
		{"secrets and public settings", Channel{Provider: ProviderWhatsAppCloud, Type: rules.WhatsApp,
			Config: map[string]any{"phone_number_id": "106540352242922", "api_base": "http://127.0.0.1:8081"}},
			map[string]string{"access_token": "EAAG", "app_secret": "s"},
			whatsapp.Config{PhoneNumberID: "106540352242922", AccessToken: "EAAG", AppSecret: "s", APIBase: "http://127.0.0.1:8081"}},
		{"port as stored by the database", Channel{Provider: ProviderSMTP, Config: map[string]any{"host": "mx.example.com", "port": float64(465), "tls": "tls", "from": "a@example.com"}},
			map[string]string{"password": "pw"},
			smtp.Config{Host: "mx.example.com", Port: 465, TLS: "tls", From: "a@example.com", Password: "pw"}},
		{"port as just parsed", Channel{Provider: ProviderSMTP, Config: map[string]any{"port": 2525}}, nil, smtp.Config{Port: 2525}},
		{"not stored: WhatsApp comes from the channel type", Channel{Provider: ProviderTwilio, Type: rules.WhatsApp,
			Config: map[string]any{"account_sid": "AC", "from": "+1"}}, map[string]string{"auth_token": "t"},
			twilio.Config{AccountSID: "AC", AuthToken: "t", From: "+1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Settings(tc.ch, tc.secrets); got != tc.want {
				t.Errorf("Settings = %#v, want %#v", got, tc.want)
			}
		})
	}
}

// TestProvidersDescribeParseConfig: the description the spec is written from (Providers)
// says what parseConfig takes: a config of every required setting, each a value of its kind,
// and one of each OneOf group, is accepted for each provider, and refused without any one of
// them or with a setting the description does not list; each provider delivers its Types and
// no other.
func TestProvidersDescribeParseConfig(t *testing.T) {
	sample := map[string]any{"string": "x", "url": "https://api.example.com/v1", "host": "smtp.example.com", "port": float64(587)}
	dest := Destinations{ProviderOverride: true}
	for _, p := range Providers() {
		spec, ok := lookupProvider(p.Name)
		if !ok {
			t.Fatalf("%s: not in the table", p.Name)
		}
		for _, ty := range rules.Types() {
			if delivers := slices.Contains(p.Types, ty); delivers != spec.delivers(ty) {
				t.Errorf("%s: Types says %s %t, the table %t", p.Name, ty, delivers, spec.delivers(ty))
			}
		}
		full := map[string]any{}
		inGroup := map[string]bool{}
		for _, g := range p.OneOf {
			full[g[0]] = "x"
			for _, name := range g {
				inGroup[name] = true
			}
		}
		for _, f := range p.Config {
			v := sample[f.Kind]
			if f.Kind == "enum" {
				v = f.Enum[0]
			}
			if v == nil {
				t.Fatalf("%s.%s: kind %q has no sample", p.Name, f.Name, f.Kind)
			}
			if f.Required {
				full[f.Name] = v
			}
			if f.Kind != "port" && f.Kind != "enum" && f.MaxLength < 1 {
				t.Errorf("%s.%s: MaxLength %d", p.Name, f.Name, f.MaxLength)
			}
		}
		if _, _, errs := parseConfig(spec, full, dest); len(errs) > 0 {
			t.Errorf("%s: the described config %v is refused: %v", p.Name, full, errs)
		}
		for name := range full {
			less := maps.Clone(full)
			delete(less, name)
			if _, _, errs := parseConfig(spec, less, dest); len(errs) == 0 {
				t.Errorf("%s: accepted without %s, which the description requires", p.Name, name)
			}
		}
		for _, f := range p.Config {
			if !f.Required && !inGroup[f.Name] {
				more := maps.Clone(full)
				more[f.Name] = sample[f.Kind]
				if f.Kind == "enum" {
					more[f.Name] = f.Enum[len(f.Enum)-1]
				}
				if _, _, errs := parseConfig(spec, more, dest); len(errs) > 0 {
					t.Errorf("%s: optional %s refused: %v", p.Name, f.Name, errs)
				}
			}
		}
		for _, g := range p.OneOf {
			both := maps.Clone(full)
			both[g[1]] = "x"
			if _, _, errs := parseConfig(spec, both, dest); len(errs) == 0 {
				t.Errorf("%s: accepted %s together", p.Name, strings.Join(g, " and "))
			}
		}
		full["not_a_setting"] = "x"
		if _, _, errs := parseConfig(spec, full, dest); len(errs) == 0 {
			t.Errorf("%s: accepted a setting it does not describe", p.Name)
		}
	}
}

// TestMediaLimits pins which table each provider's channels check attachments against: every
// provider has one, and Twilio's depends on the channel's type.
func TestMediaLimits(t *testing.T) {
	want := map[string]string{
		ProviderSandbox:       "The sandbox",
		ProviderWhatsAppCloud: "WhatsApp Cloud",
		ProviderMessenger:     "Messenger",
		ProviderInstagram:     "Instagram",
		ProviderTelegram:      "Telegram",
		ProviderTwilio:        "Twilio MMS",
		ProviderSMTP:          "Email",
		ProviderViber:         "Viber",
		ProviderLINE:          "LINE",
		ProviderWebhook:       "A custom channel",
	}
	for _, name := range ProviderNames() {
		l := MediaLimits(Channel{Provider: name, Type: rules.SMS})
		if l.Name != want[name] || (!l.Any && (l.MaxFiles < 1 || len(l.Kinds) == 0)) {
			t.Errorf("%s: limits %q with %d files and %d kinds, want %q", name, l.Name, l.MaxFiles, len(l.Kinds), want[name])
		}
	}
	if l := MediaLimits(Channel{Provider: ProviderTwilio, Type: rules.WhatsApp}); l.Name != twilio.WhatsAppLimits.Name {
		t.Errorf("twilio on a WhatsApp channel: %q", l.Name)
	}
	if l := MediaLimits(Channel{Provider: "carrier-pigeon"}); l.MaxFiles != 0 || l.Any {
		t.Errorf("an unknown provider carries %+v", l)
	}
}
