package dispatch

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"

	"github.com/switchboard/switchboard/pkg/channel"
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

// settings is a channel's provider configuration with its secrets opened: the field names of
// pkg/channel's provider table.
type settings struct {
	ch      channel.Channel
	public  map[string]any
	secrets map[string]string
}

func (s settings) str(name string) string {
	if v, ok := s.secrets[name]; ok {
		return v
	}
	v, _ := s.public[name].(string)
	return v
}

// port reads a port stored as a JSON number.
func (s settings) port(name string) int {
	switch v := s.public[name].(type) {
	case float64:
		if v == math.Trunc(v) && v > 0 && v < 65536 {
			return int(v)
		}
	case int:
		return v
	}
	return 0
}

// apiBase is the provider base URL override, honoured only as stored: the channel service
// accepted it only while PROVIDER_API_BASE_OVERRIDE was on.
func (s settings) apiBase() string { return s.str(channel.APIBaseField) }

// api is the client for an HTTP provider: its public API's own, or, when the channel names an
// api_base, one that refuses internal addresses, since the tenant chose that host.
func (s settings) api(c clients) *http.Client {
	if s.apiBase() != "" {
		return c.apiBase
	}
	return c.api
}

// clients are what adapters send with: providers' public APIs (fixed hosts), and the
// destinations a tenant chooses, whose clients refuse internal addresses: an api_base
// override, a custom channel's webhook URL, an SMTP host.
type clients struct {
	api     *http.Client
	apiBase *http.Client
	tenant  *http.Client
	smtp    *net.Dialer
}

// Webhook is one provider webhook call as it arrived.
type Webhook struct {
	Header http.Header
	Body   []byte
	// URL is the full public URL the provider called (Twilio signs it).
	URL string
}

// adapter is one row of the provider table: how to build a provider's Sender from a channel,
// and how to check and read its webhooks. A nil verify means the provider has no webhooks.
type adapter struct {
	sender    func(s settings, c clients) provider.Sender
	verify    func(s settings, w Webhook) error
	parse     func(body []byte) (provider.Event, error)
	handshake func(s settings, query url.Values) (string, error)
}

var adapters = map[string]adapter{
	channel.ProviderSandbox: {
		sender: func(settings, clients) provider.Sender { return sandbox.New() },
	},
	channel.ProviderWhatsAppCloud: {
		sender: func(s settings, c clients) provider.Sender {
			return whatsapp.New(whatsapp.Config{PhoneNumberID: s.str("phone_number_id"), AccessToken: s.str("access_token"),
				AppSecret: s.str("app_secret"), VerifyToken: s.str("verify_token"), APIBase: s.apiBase()}, s.api(c))
		},
		verify:    func(s settings, w Webhook) error { return whatsapp.Verify(w.Header, w.Body, s.str("app_secret")) },
		parse:     whatsapp.Parse,
		handshake: func(s settings, q url.Values) (string, error) { return whatsapp.Handshake(q, s.str("verify_token")) },
	},
	channel.ProviderMessenger: metaAdapter,
	channel.ProviderInstagram: metaAdapter,
	channel.ProviderTelegram: {
		sender: func(s settings, c clients) provider.Sender {
			return telegram.New(telegram.Config{BotToken: s.str("bot_token"), SecretToken: s.str("secret_token"), APIBase: s.apiBase()}, s.api(c))
		},
		verify: func(s settings, w Webhook) error { return telegram.Verify(w.Header, w.Body, s.str("secret_token")) },
		parse:  telegram.Parse,
	},
	channel.ProviderTwilio: {
		sender: func(s settings, c clients) provider.Sender {
			return twilio.New(twilio.Config{AccountSID: s.str("account_sid"), AuthToken: s.str("auth_token"), From: s.str("from"),
				MessagingServiceSID: s.str("messaging_service_sid"), WhatsApp: s.ch.Type == rules.WhatsApp, APIBase: s.apiBase()}, s.api(c))
		},
		verify: func(s settings, w Webhook) error { return twilio.Verify(w.Header, w.Body, s.str("auth_token"), w.URL) },
		parse:  twilio.Parse,
	},
	channel.ProviderSMTP: {
		sender: func(s settings, c clients) provider.Sender {
			return smtp.New(smtp.Config{Host: s.str("host"), Port: s.port("port"), Username: s.str("username"),
				Password: s.str("password"), From: s.str("from"), TLS: s.str("tls"), InboundSecret: s.str("inbound_secret")}, nil, c.smtp)
		},
		verify: func(s settings, w Webhook) error { return smtp.Verify(w.Header, w.Body, s.str("inbound_secret")) },
		parse:  smtp.Parse,
	},
	channel.ProviderViber: {
		sender: func(s settings, c clients) provider.Sender {
			return viber.New(viber.Config{AuthToken: s.str("auth_token"), SenderName: s.str("sender_name"), APIBase: s.apiBase()}, s.api(c))
		},
		verify: func(s settings, w Webhook) error { return viber.Verify(w.Header, w.Body, s.str("auth_token")) },
		parse:  viber.Parse,
	},
	channel.ProviderLINE: {
		sender: func(s settings, c clients) provider.Sender {
			return line.New(line.Config{ChannelAccessToken: s.str("channel_access_token"), ChannelSecret: s.str("channel_secret"),
				APIBase: s.apiBase()}, s.api(c))
		},
		verify: func(s settings, w Webhook) error { return line.Verify(w.Header, w.Body, s.str("channel_secret")) },
		parse:  line.Parse,
	},
	// Custom and website-chat channels post their inbound messages to /v1/channels/{id}/inbound.
	channel.ProviderWebhook: {
		sender: func(s settings, c clients) provider.Sender {
			return webhook.New(webhook.Config{URL: s.str("url"), Secret: s.str("secret")}, c.tenant)
		},
	},
}

var metaAdapter = adapter{
	sender: func(s settings, c clients) provider.Sender {
		return messenger.New(messenger.Config{PageID: s.str("page_id"), PageAccessToken: s.str("page_access_token"),
			AppSecret: s.str("app_secret"), VerifyToken: s.str("verify_token"), APIBase: s.apiBase()}, s.api(c))
	},
	verify:    func(s settings, w Webhook) error { return messenger.Verify(w.Header, w.Body, s.str("app_secret")) },
	parse:     messenger.Parse,
	handshake: func(s settings, q url.Values) (string, error) { return messenger.Handshake(q, s.str("verify_token")) },
}

// Secrets opens a channel's provider secrets (channel.Service).
type Secrets interface {
	Secrets(ch channel.Channel) (map[string]string, error)
}

// ErrUnknownProvider means a stored channel names a provider this build does not know.
var ErrUnknownProvider = errkind.New(errkind.KindInvalid, "unknown_provider", "The channel's provider is not known to this server.")

func open(ch channel.Channel, sec Secrets) (adapter, settings, error) {
	a, ok := adapters[ch.Provider]
	if !ok {
		return adapter{}, settings{}, ErrUnknownProvider.Detailf("The channel's provider %q is not known to this server.", ch.Provider)
	}
	secrets, err := sec.Secrets(ch)
	if err != nil {
		return adapter{}, settings{}, fmt.Errorf("open provider secrets: %w", err)
	}
	return a, settings{ch: ch, public: ch.Config, secrets: secrets}, nil
}

// secretValues lists a channel's secret values, to scrub them from anything logged.
func (s settings) secretValues() []string {
	out := make([]string, 0, len(s.secrets))
	for _, v := range s.secrets {
		out = append(out, v)
	}
	return out
}
