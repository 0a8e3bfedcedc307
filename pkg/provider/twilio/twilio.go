// Package twilio sends SMS, and WhatsApp through Twilio, with Twilio's Programmable Messaging
// REST API, and reads its inbound-message and status-callback webhooks.
//
// References followed:
//   - Message resource, create: POST /2010-04-01/Accounts/{AccountSid}/Messages.json,
//     form-encoded To, From or MessagingServiceSid, Body, MediaUrl (repeated, up to 10; Twilio
//     fetches each), StatusCallback, ContentSid,
//     ContentVariables; basic auth AccountSid:AuthToken; answer 201 with sid.
//     https://www.twilio.com/docs/messaging/api/message-resource
//   - REST API errors: {"code","message","more_info","status"}; 21211 invalid To, 20429 too
//     many requests. https://www.twilio.com/docs/api/errors
//   - Webhook security: X-Twilio-Signature = base64 HMAC-SHA1(auth token, full URL + each POST
//     parameter name and value, sorted by name); bodySHA256 for JSON bodies.
//     https://www.twilio.com/docs/usage/webhooks/webhooks-security
//   - Inbound message and status callback parameters (MessageSid, From, Body, NumMedia,
//     MediaUrl0, MessageStatus, ErrorCode):
//     https://www.twilio.com/docs/messaging/guides/webhook-request
//     https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
package twilio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/pkg/provider"
)

const name = "twilio"

// DefaultAPIBase is Twilio's REST API host.
const DefaultAPIBase = "https://api.twilio.com"

// whatsappPrefix marks WhatsApp addresses in Twilio's To and From.
const whatsappPrefix = "whatsapp:"

// Config is the channel's provider configuration (DESIGN §6, twilio).
// Its config tags name each setting as a channel stores it, with its rules (pkg/channel
// validates and decodes by them).
type Config struct {
	AccountSID          string `config:"account_sid,required"`
	AuthToken           string `config:"auth_token,secret,required"` // also signs webhooks
	From                string `config:"from"`                       // sender number; used when MessagingServiceSID is empty
	MessagingServiceSID string `config:"messaging_service_sid"`
	// WhatsApp is set for a channel of type whatsapp: To and From then take the "whatsapp:"
	// prefix. It comes from the channel's type, not from the stored configuration.
	WhatsApp bool   `config:"-"`
	APIBase  string `config:"api_base,url"` // optional; default DefaultAPIBase
}

// Client sends from one Twilio account.
type Client struct {
	cfg  Config
	http *http.Client
}

var _ provider.Sender = (*Client)(nil)

// New returns a client; a nil http.Client means http.DefaultClient.
func New(cfg Config, client *http.Client) *Client {
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	cfg.APIBase = strings.TrimRight(cfg.APIBase, "/")
	return &Client{cfg: cfg, http: client}
}

// Send creates a Message resource. A template is a Twilio Content template: its Name is the
// Content SID (HX...) and its variables go to ContentVariables as {"1": ..., "2": ...}.
func (c *Client) Send(ctx context.Context, m provider.Message) (provider.Result, error) {
	form, err := c.form(m)
	if err != nil {
		return provider.Result{}, err
	}
	endpoint := c.cfg.APIBase + "/2010-04-01/Accounts/" + url.PathEscape(c.cfg.AccountSID) + "/Messages.json"
	req, err := provider.Request(ctx, name, endpoint, "application/x-www-form-urlencoded", []byte(form.Encode()))
	if err != nil {
		return provider.Result{}, err
	}
	req.SetBasicAuth(c.cfg.AccountSID, c.cfg.AuthToken)
	req.Header.Set("Accept", "application/json")
	resp, err := provider.Do(c.http, name, req)
	if err != nil {
		return provider.Result{}, err
	}
	if !resp.OK() {
		var apiErr struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		code := ""
		if json.Unmarshal(resp.Body, &apiErr) == nil && apiErr.Code != 0 {
			code = strconv.Itoa(apiErr.Code)
		}
		return provider.Result{}, provider.FromResponse(name, resp, code, apiErr.Message).Redact(c.cfg.AuthToken)
	}
	var ok struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(resp.Body, &ok); err != nil || ok.SID == "" {
		return provider.Result{}, provider.Unreadable(name, resp)
	}
	return provider.Result{ProviderMessageID: ok.SID}, nil
}

func (c *Client) form(m provider.Message) (url.Values, error) {
	if m.To == "" {
		return nil, provider.Invalid(name, "the message has no recipient")
	}
	f := url.Values{"To": {c.address(m.To)}}
	switch {
	case c.cfg.MessagingServiceSID != "":
		f.Set("MessagingServiceSid", c.cfg.MessagingServiceSID)
	case c.cfg.From != "":
		f.Set("From", c.address(c.cfg.From))
	default:
		return nil, &provider.Error{Provider: name, Permanent: true, Code: "invalid_config", Text: "neither from nor messaging_service_sid is configured"}
	}
	switch m.Type {
	case provider.TypeText, "":
		if m.Text == "" {
			return nil, provider.Invalid(name, "a text message needs text")
		}
		f.Set("Body", m.Text)
	case provider.TypeAttachment:
		// Twilio fetches every file itself: stored media by its signed link. Up to 10; the
		// send was checked against the channel's Limits (one on WhatsApp).
		if len(m.Attachments) == 0 || len(m.Attachments) > MMSLimits.MaxFiles {
			return nil, provider.Invalid(name, "Twilio takes 1 to 10 media URLs per message")
		}
		for _, a := range m.Attachments {
			if a.URL == "" {
				return nil, provider.Invalid(name, "an attachment has no URL Twilio could fetch (stored media needs PUBLIC_BASE_URL)")
			}
			f.Add("MediaUrl", a.URL)
		}
		if m.Text != "" {
			f.Set("Body", m.Text)
		}
	case provider.TypeTemplate:
		if m.Template == nil || m.Template.Name == "" {
			return nil, provider.Invalid(name, "a template message needs the template's Content SID")
		}
		f.Set("ContentSid", m.Template.Name)
		if len(m.Template.Variables) > 0 {
			vars := make(map[string]string, len(m.Template.Variables))
			for i, v := range m.Template.Variables {
				vars[strconv.Itoa(i+1)] = v
			}
			b, _ := json.Marshal(vars)
			f.Set("ContentVariables", string(b))
		}
	default:
		return nil, provider.Invalid(name, fmt.Sprintf("unsupported message type %q", m.Type))
	}
	if m.StatusCallbackURL != "" {
		f.Set("StatusCallback", m.StatusCallbackURL)
	}
	return f, nil
}

// address adds the "whatsapp:" prefix on WhatsApp channels, once.
func (c *Client) address(a string) string {
	if c.cfg.WhatsApp && !strings.HasPrefix(a, whatsappPrefix) {
		return whatsappPrefix + a
	}
	return a
}

// MMSLimits are Twilio's for SMS channels ("Accepted Content Types for Media"): up to 10
// MediaUrl, 5 MB together, of the types Twilio accepts. Twilio fetches every file by URL.
var MMSLimits = provider.Limits{
	Name: "Twilio MMS",
	Kinds: []provider.KindLimit{
		{Kind: provider.KindImage, Types: []string{"image/jpeg", "image/gif", "image/png", "image/bmp"}, MaxBytes: 5 * provider.MB},
		{Kind: provider.KindAudio, Types: []string{"audio/basic", "audio/L24", "audio/mp4", "audio/x-m4a", "audio/mpeg", "audio/ogg",
			"audio/vorbis", "audio/vnd.rn-realaudio", "audio/wav", "audio/ac3", "audio/amr"},
			MaxBytes: 5 * provider.MB},
		// 3GPP and WebM audio sniff as video/3gpp, video/3gpp2 and video/webm.
		{Kind: provider.KindVideo, Types: []string{"video/mpeg", "video/mp4", "video/quicktime", "video/webm", "video/3gpp", "video/3gpp2",
			"video/3gpp-tt", "video/H261", "video/H263", "video/H263-1998", "video/H263-2000", "video/H264"}, MaxBytes: 5 * provider.MB},
		{Kind: provider.KindDocument, Types: []string{"text/vcard", "text/csv", "text/rtf", "text/richtext", "text/calendar",
			"text/directory", "application/pdf"}, MaxBytes: 5 * provider.MB},
	},
	MaxFiles:      10,
	MaxTotalBytes: 5 * provider.MB,
	NeedsURL:      true,
}

// WhatsAppLimits are Twilio's for WhatsApp channels ("Guidance on WhatsApp Media Messages"):
// one file per message, 16 MB, images (JPEG, PNG) 5 MB; audio OGG, AMR, 3GP, AAC or MP3;
// documents PDF, DOC, DOCX, PPTX, XLSX; video MP4. Twilio fetches it by URL.
var WhatsAppLimits = provider.Limits{
	Name: "Twilio WhatsApp",
	Kinds: []provider.KindLimit{
		{Kind: provider.KindImage, Types: []string{"image/jpeg", "image/png"}, MaxBytes: 5 * provider.MB},
		// A 3GP file sniffs as video/3gpp whatever it holds.
		{Kind: provider.KindAudio, Types: []string{"audio/ogg", "audio/amr", "video/3gpp", "audio/aac", "audio/mpeg"}, MaxBytes: 16 * provider.MB},
		{Kind: provider.KindDocument, Types: []string{"application/pdf", "application/msword",
			"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			"application/vnd.openxmlformats-officedocument.presentationml.presentation",
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, MaxBytes: 16 * provider.MB},
		{Kind: provider.KindVideo, Types: []string{"video/mp4"}, MaxBytes: 16 * provider.MB},
	},
	MaxFiles: 1,
	NeedsURL: true,
}
