package channel

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/rules"
)

func TestNormalizeIdentifier(t *testing.T) {
	cases := []struct {
		name   string
		typ    rules.ChannelType
		raw    string
		region string
		want   string
		fails  bool
	}{
		{"whatsapp international", rules.WhatsApp, "+1 (202) 555-0123", "DE", "+12025550123", false},
		{"whatsapp national in region", rules.WhatsApp, "030 901820", "DE", "+4930901820", false},
		{"sms national in US", rules.SMS, "202-555-0123", "US", "+12025550123", false},
		{"sms not a number", rules.SMS, "hello", "US", "", true},
		{"email lower-cased", rules.Email, " Ana@Example.COM ", "US", "ana@example.com", false},
		{"email invalid", rules.Email, "ana@", "US", "", true},
		{"messenger id as given", rules.Messenger, " 2400000000000001 ", "US", "2400000000000001", false},
		{"line id keeps case", rules.LINE, "Uabc123DEF", "US", "Uabc123DEF", false},
		{"empty opaque id", rules.Telegram, "   ", "US", "", true},
		{"control characters", rules.Custom, "a\x00b", "US", "", true},
		{"longest opaque id", rules.WeChat, strings.Repeat("o", MaxIdentifier), "US", strings.Repeat("o", MaxIdentifier), false},
		{"too long opaque id", rules.WeChat, strings.Repeat("o", MaxIdentifier+1), "US", "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeIdentifier(tc.typ, tc.raw, tc.region)
			if tc.fails {
				e, ok := errkind.As(err)
				if !ok || e.Code != "validation_failed" || e.Fields[0].Field != "identifier" {
					t.Fatalf("err = %v, want a validation error on identifier", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	spec := func(name string) providerSpec {
		p, ok := lookupProvider(name)
		if !ok {
			t.Fatalf("no provider %s", name)
		}
		return p
	}
	cases := []struct {
		name         string
		provider     string
		raw          map[string]any
		allowBase    bool
		wantPublic   map[string]any
		wantSecrets  []string
		wantErrField []string
	}{
		{"sandbox, nothing", ProviderSandbox, nil, false, map[string]any{}, nil, nil},
		{"sandbox refuses settings", ProviderSandbox, map[string]any{"api_base": "https://x.example"}, true, nil, nil, []string{"config.api_base"}},
		{"whatsapp cloud complete", ProviderWhatsAppCloud, map[string]any{"phone_number_id": "1", "access_token": "a", "app_secret": "s"}, false,
			map[string]any{"phone_number_id": "1"}, []string{"access_token", "app_secret"}, nil},
		{"whatsapp cloud missing secrets", ProviderWhatsAppCloud, map[string]any{"phone_number_id": "1"}, false, nil, nil,
			[]string{"config.access_token", "config.app_secret"}},
		{"secret of the wrong kind", ProviderTelegram, map[string]any{"bot_token": 5, "secret_token": "s"}, false, nil, nil, []string{"config.bot_token"}},
		{"twilio with both senders", ProviderTwilio, map[string]any{"account_sid": "AC", "auth_token": "t", "from": "+1", "messaging_service_sid": "MG"}, false, nil, nil, []string{"config.from"}},
		{"twilio with a messaging service", ProviderTwilio, map[string]any{"account_sid": "AC", "auth_token": "t", "messaging_service_sid": "MG"}, false,
			map[string]any{"account_sid": "AC", "messaging_service_sid": "MG"}, []string{"auth_token"}, nil},
		{"smtp port and tls", ProviderSMTP, map[string]any{"host": "smtp.example.com", "from": "a@example.com", "port": float64(465), "tls": "tls", "inbound_secret": "gw"}, false,
			map[string]any{"host": "smtp.example.com", "from": "a@example.com", "port": 465, "tls": "tls"}, []string{"inbound_secret"}, nil},
		{"smtp tls mode unknown", ProviderSMTP, map[string]any{"host": "h", "from": "f", "tls": true}, false, nil, nil, []string{"config.tls"}},
		{"smtp has no api_base", ProviderSMTP, map[string]any{"host": "h", "from": "f", "api_base": "https://x.example"}, true, nil, nil, []string{"config.api_base"}},
		{"webhook has no api_base", ProviderWebhook, map[string]any{"url": "https://x.example/hook", "secret": "s", "api_base": "https://x.example"}, true, nil, nil, []string{"config.api_base"}},
		{"viber sender name too long", ProviderViber, map[string]any{"auth_token": "t", "sender_name": "An exceptionally long sender name"}, false, nil, nil, []string{"config.sender_name"}},
		{"smtp port out of range", ProviderSMTP, map[string]any{"host": "h", "from": "f", "port": float64(70000)}, false, nil, nil, []string{"config.port"}},
		{"api_base when allowed", ProviderLINE, map[string]any{"channel_access_token": "t", "channel_secret": "s", "api_base": "http://127.0.0.1:8081"}, true,
			map[string]any{"api_base": "http://127.0.0.1:8081"}, []string{"channel_access_token", "channel_secret"}, nil},
		{"api_base when not allowed", ProviderLINE, map[string]any{"channel_access_token": "t", "channel_secret": "s", "api_base": "http://127.0.0.1:8081"}, false, nil, nil, []string{"config.api_base"}},
		{"webhook url with credentials", ProviderWebhook, map[string]any{"url": "https://user:pw@example.com/hook", "secret": "s"}, false, nil, nil, []string{"config.url"}},
		{"smtp host on a private address", ProviderSMTP, map[string]any{"host": "10.0.0.5", "from": "f"}, true, nil, nil, []string{"config.host"}},
		{"smtp host on loopback without the switch", ProviderSMTP, map[string]any{"host": "127.0.0.1", "from": "f"}, false, nil, nil, []string{"config.host"}},
		{"smtp host v4-compatible", ProviderSMTP, map[string]any{"host": "[::127.0.0.1]", "from": "f"}, true, nil, nil, []string{"config.host"}},
		{"smtp host with a port", ProviderSMTP, map[string]any{"host": "smtp.example.com:25", "from": "f"}, false, nil, nil, []string{"config.host"}},
		{"smtp host numeric name", ProviderSMTP, map[string]any{"host": "127.1", "from": "f"}, false, nil, nil, []string{"config.host"}},
		{"smtp host decimal address", ProviderSMTP, map[string]any{"host": "2130706433", "from": "f"}, false, nil, nil, []string{"config.host"}},
		{"smtp host with a space", ProviderSMTP, map[string]any{"host": "smtp example.com", "from": "f"}, false, nil, nil, []string{"config.host"}},
		{"smtp host on loopback with the switch, stored bare", ProviderSMTP, map[string]any{"host": "[::1]", "from": "f"}, true,
			map[string]any{"host": "::1", "from": "f"}, nil, nil},
		{"smtp host public address", ProviderSMTP, map[string]any{"host": "93.184.216.34", "from": "f"}, false,
			map[string]any{"host": "93.184.216.34", "from": "f"}, nil, nil},
		{"smtp host name with a final dot", ProviderSMTP, map[string]any{"host": "mail-1.example.com.", "from": "f"}, false,
			map[string]any{"host": "mail-1.example.com.", "from": "f"}, nil, nil},
		{"webhook url on a private address", ProviderWebhook, map[string]any{"url": "https://192.168.1.1/hook", "secret": "s"}, true, nil, nil, []string{"config.url"}},
		{"webhook url on loopback without the switch", ProviderWebhook, map[string]any{"url": "http://[::1]:8080/hook", "secret": "s"}, false, nil, nil, []string{"config.url"}},
		{"webhook url port out of range", ProviderWebhook, map[string]any{"url": "https://example.com:99999/hook", "secret": "s"}, true, nil, nil, []string{"config.url"}},
		{"webhook url port zero", ProviderWebhook, map[string]any{"url": "https://example.com:0/hook", "secret": "s"}, true, nil, nil, []string{"config.url"}},
		{"webhook url port not a number", ProviderWebhook, map[string]any{"url": "https://example.com:https/hook", "secret": "s"}, true, nil, nil, []string{"config.url"}},
		{"api_base on a private address", ProviderLINE, map[string]any{"channel_access_token": "t", "channel_secret": "s", "api_base": "http://10.0.0.1"}, true, nil, nil, []string{"config.api_base"}},
		{"api_base v4-compatible", ProviderLINE, map[string]any{"channel_access_token": "t", "channel_secret": "s", "api_base": "http://[::10.0.0.1]"}, true, nil, nil, []string{"config.api_base"}},
		{"api_base port out of range", ProviderLINE, map[string]any{"channel_access_token": "t", "channel_secret": "s", "api_base": "http://127.0.0.1:65536"}, true, nil, nil, []string{"config.api_base"}},
		{"null clears an optional field", ProviderMessenger, map[string]any{"page_id": "p", "page_access_token": "t", "app_secret": "s", "verify_token": nil}, false,
			map[string]any{"page_id": "p"}, []string{"app_secret", "page_access_token"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			public, secrets, errs := parseConfig(spec(tc.provider), tc.raw, Destinations{ProviderOverride: tc.allowBase, WebhookLoopback: tc.allowBase})
			if tc.wantErrField != nil {
				for _, f := range tc.wantErrField {
					if !hasField(errs, f) {
						t.Errorf("errors %v do not name %s", errs, f)
					}
				}
				return
			}
			if len(errs) > 0 {
				t.Fatalf("unexpected errors %v", errs)
			}
			if len(public) != len(tc.wantPublic) {
				t.Fatalf("public %v, want %v", public, tc.wantPublic)
			}
			for k, v := range tc.wantPublic {
				if public[k] != v {
					t.Errorf("public[%s] = %v, want %v", k, public[k], v)
				}
			}
			if len(secrets) != len(tc.wantSecrets) {
				t.Fatalf("secrets %v, want names %v", secrets, tc.wantSecrets)
			}
			for _, k := range tc.wantSecrets {
				if _, ok := secrets[k]; !ok {
					t.Errorf("secret %s missing", k)
				}
				if _, leaked := public[k]; leaked {
					t.Errorf("secret %s is public", k)
				}
			}
		})
	}
}

// TestProvidersCoverDesign checks the provider table against DESIGN §6: which types each
// provider may deliver.
func TestProvidersCoverDesign(t *testing.T) {
	want := map[string][]rules.ChannelType{
		ProviderWhatsAppCloud: {rules.WhatsApp},
		ProviderMessenger:     {rules.Messenger},
		ProviderInstagram:     {rules.Instagram},
		ProviderTelegram:      {rules.Telegram},
		ProviderTwilio:        {rules.SMS, rules.WhatsApp},
		ProviderSMTP:          {rules.Email},
		ProviderViber:         {rules.Viber},
		ProviderLINE:          {rules.LINE},
		ProviderWebhook:       {rules.Custom, rules.Webchat},
	}
	for _, name := range ProviderNames() {
		p, _ := lookupProvider(name)
		for _, typ := range rules.Types() {
			allowed := name == ProviderSandbox
			for _, w := range want[name] {
				allowed = allowed || w == typ
			}
			if p.delivers(typ) != allowed {
				t.Errorf("%s delivers %s: %v, want %v", name, typ, p.delivers(typ), allowed)
			}
		}
	}
}
