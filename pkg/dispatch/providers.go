package dispatch

import (
	"context"
	"fmt"
	"io"
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

// settings is a channel with its provider configuration, secrets opened: config is the
// provider adapter's Config (channel.Settings), nil for the sandbox.
type settings struct {
	ch      channel.Channel
	config  any
	secrets map[string]string
}

// apiBase is the provider base URL override, honoured only as stored: the channel service
// accepted it only while PROVIDER_API_BASE_OVERRIDE was on.
func (s settings) apiBase() string {
	base, _ := s.ch.Config[channel.APIBaseField].(string)
	return base
}

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
// override, a custom channel's webhook URL, an SMTP host; and, for fetches, the links a
// provider's webhook names (media), which refuse internal addresses too.
type clients struct {
	api     *http.Client
	apiBase *http.Client
	tenant  *http.Client
	smtp    *net.Dialer
	media   *http.Client
}

// Webhook is one provider webhook call as it arrived.
type Webhook struct {
	Header http.Header
	Body   []byte
	// URL is the full public URL the provider called (Twilio signs it).
	URL string
}

// adapter is one row of the provider table: how to build a provider's Sender from a channel,
// how to check and read its webhooks, and how to download a customer's file its webhook named
// (by the provider's id or by a link; a file the provider declares over maxBytes is refused,
// before its download where the provider declares sizes first). A nil verify means the
// provider has no webhooks; a nil fetch that its files, if any, arrive in the webhook itself
// (SMTP).
type adapter struct {
	sender    func(s settings, c clients) provider.Sender
	verify    func(s settings, w Webhook) error
	parse     func(body []byte) (provider.Event, error)
	handshake func(s settings, query url.Values) (string, error)
	fetch     fetcher
}

// fetcher downloads a customer's file a provider's webhook named, as a body to stream.
type fetcher func(ctx context.Context, s settings, c clients, a provider.Attachment, maxBytes int64) (io.ReadCloser, provider.MediaInfo, error)

var adapters = map[string]adapter{
	channel.ProviderSandbox: {
		sender: func(settings, clients) provider.Sender { return sandbox.New() },
	},
	channel.ProviderWhatsAppCloud: {
		sender: func(s settings, c clients) provider.Sender { return whatsapp.New(s.config.(whatsapp.Config), s.api(c)) },
		verify: func(s settings, w Webhook) error {
			return whatsapp.Verify(w.Header, w.Body, s.config.(whatsapp.Config).AppSecret)
		},
		parse: whatsapp.Parse,
		handshake: func(s settings, q url.Values) (string, error) {
			return whatsapp.Handshake(q, s.config.(whatsapp.Config).VerifyToken)
		},
		fetch: func(ctx context.Context, s settings, c clients, a provider.Attachment, maxBytes int64) (io.ReadCloser, provider.MediaInfo, error) {
			return whatsapp.New(s.config.(whatsapp.Config), s.api(c)).Media(ctx, a.ID, maxBytes, c.media)
		},
	},
	channel.ProviderMessenger: metaAdapter,
	channel.ProviderInstagram: metaAdapter,
	channel.ProviderTelegram: {
		sender: func(s settings, c clients) provider.Sender { return telegram.New(s.config.(telegram.Config), s.api(c)) },
		verify: func(s settings, w Webhook) error {
			return telegram.Verify(w.Header, w.Body, s.config.(telegram.Config).SecretToken)
		},
		parse: telegram.Parse,
		fetch: func(ctx context.Context, s settings, c clients, a provider.Attachment, maxBytes int64) (io.ReadCloser, provider.MediaInfo, error) {
			return telegram.New(s.config.(telegram.Config), s.api(c)).File(ctx, a.ID, maxBytes)
		},
	},
	channel.ProviderTwilio: {
		sender: func(s settings, c clients) provider.Sender {
			cfg := s.config.(twilio.Config)
			cfg.WhatsApp = s.ch.Type == rules.WhatsApp
			return twilio.New(cfg, s.api(c))
		},
		verify: func(s settings, w Webhook) error {
			return twilio.Verify(w.Header, w.Body, s.config.(twilio.Config).AuthToken, w.URL)
		},
		parse: twilio.Parse,
		fetch: func(ctx context.Context, s settings, c clients, a provider.Attachment, maxBytes int64) (io.ReadCloser, provider.MediaInfo, error) {
			return twilio.New(s.config.(twilio.Config), s.api(c)).Media(ctx, a.URL, c.media)
		},
	},
	channel.ProviderSMTP: {
		sender: func(s settings, c clients) provider.Sender { return smtp.New(s.config.(smtp.Config), nil, c.smtp) },
		verify: func(s settings, w Webhook) error {
			return smtp.Verify(w.Header, w.Body, s.config.(smtp.Config).InboundSecret)
		},
		parse: smtp.Parse,
	},
	channel.ProviderViber: {
		sender: func(s settings, c clients) provider.Sender { return viber.New(s.config.(viber.Config), s.api(c)) },
		verify: func(s settings, w Webhook) error {
			return viber.Verify(w.Header, w.Body, s.config.(viber.Config).AuthToken)
		},
		parse: viber.Parse,
		fetch: fetchLink("viber"),
	},
	channel.ProviderLINE: {
		sender: func(s settings, c clients) provider.Sender { return line.New(s.config.(line.Config), s.api(c)) },
		verify: func(s settings, w Webhook) error {
			return line.Verify(w.Header, w.Body, s.config.(line.Config).ChannelSecret)
		},
		parse: line.Parse,
		fetch: func(ctx context.Context, s settings, c clients, a provider.Attachment, maxBytes int64) (io.ReadCloser, provider.MediaInfo, error) {
			if a.ID == "" { // contentProvider external: the sender's app keeps the file
				return provider.Fetch(ctx, c.media, "line", a.URL)
			}
			return line.New(s.config.(line.Config), s.api(c)).Content(ctx, a.ID)
		},
	},
	// Custom and website-chat channels post their inbound messages to /v1/channels/{id}/inbound.
	channel.ProviderWebhook: {
		sender: func(s settings, c clients) provider.Sender { return webhook.New(s.config.(webhook.Config), c.tenant) },
	},
}

var metaAdapter = adapter{
	sender: func(s settings, c clients) provider.Sender {
		return messenger.New(s.config.(messenger.Config), s.api(c))
	},
	verify: func(s settings, w Webhook) error {
		return messenger.Verify(w.Header, w.Body, s.config.(messenger.Config).AppSecret)
	},
	parse: messenger.Parse,
	handshake: func(s settings, q url.Values) (string, error) {
		return messenger.Handshake(q, s.config.(messenger.Config).VerifyToken)
	},
	fetch: fetchLink("messenger"),
}

// fetchLink downloads a file by the link a provider's webhook gave, without credentials
// (Messenger's and Instagram's CDN URLs expire; Viber's media).
func fetchLink(name string) fetcher {
	return func(ctx context.Context, _ settings, c clients, a provider.Attachment, maxBytes int64) (io.ReadCloser, provider.MediaInfo, error) {
		return provider.Fetch(ctx, c.media, name, a.URL)
	}
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
	return a, settings{ch: ch, config: channel.Settings(ch, secrets), secrets: secrets}, nil
}

// secretValues lists a channel's secret values, to scrub them from anything logged.
func (s settings) secretValues() []string {
	out := make([]string, 0, len(s.secrets))
	for _, v := range s.secrets {
		out = append(out, v)
	}
	return out
}
