// Package whatsapp sends messages through Meta's WhatsApp Cloud API and reads its webhooks
// (provider "whatsapp_cloud").
//
// References followed:
//   - Cloud API messages: POST /{phone-number-id}/messages with text, template (name,
//     language.code, components[].parameters[]) and media (image, video, audio, document,
//     sticker) by link or by an uploaded media's id; answer messages[0].id.
//     https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
//   - Media upload: POST /{phone-number-id}/media, multipart file, type and
//     messaging_product=whatsapp; answer {id}. Supported types and sizes: Limits.
//     https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media
//   - Error codes (131047 re-engagement, 131026 undeliverable, 132xxx templates, 130429 and
//     131056 rate limits): https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
//   - messages webhook (incoming messages, contacts[].profile.name) and status webhook
//     (statuses[]: id, status, timestamp, recipient_id, errors[]):
//     https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
//     https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status
//   - Signature and GET verification: see package meta.
package whatsapp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/switchboard/switchboard/pkg/provider"
	"github.com/switchboard/switchboard/pkg/provider/meta"
)

const name = "whatsapp"

// Config is the channel's provider configuration (DESIGN §6, whatsapp_cloud).
// Its config tags name each setting as a channel stores it, with its rules (pkg/channel
// validates and decodes by them).
type Config struct {
	PhoneNumberID string `config:"phone_number_id,required"`
	AccessToken   string `config:"access_token,secret,required"`
	AppSecret     string `config:"app_secret,secret,required"` // signs webhooks
	VerifyToken   string `config:"verify_token,secret"`        // answers the GET handshake
	APIBase       string `config:"api_base,url"`               // optional; default meta.DefaultAPIBase
}

// Client sends through one WhatsApp business phone number.
type Client struct {
	cfg  Config
	http *http.Client
}

var _ provider.Sender = (*Client)(nil)

// New returns a client; a nil http.Client means http.DefaultClient.
func New(cfg Config, client *http.Client) *Client {
	if cfg.APIBase == "" {
		cfg.APIBase = meta.DefaultAPIBase
	}
	cfg.APIBase = strings.TrimRight(cfg.APIBase, "/")
	return &Client{cfg: cfg, http: client}
}

type textBody struct {
	Body       string `json:"body"`
	PreviewURL bool   `json:"preview_url"`
}

// media is a media message's object: an uploaded file by id, or a link.
type media struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type parameter struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type component struct {
	Type       string      `json:"type"`
	Parameters []parameter `json:"parameters"`
}

type template struct {
	Name     string `json:"name"`
	Language struct {
		Code string `json:"code"`
	} `json:"language"`
	Components []component `json:"components,omitempty"`
}

type request struct {
	MessagingProduct string    `json:"messaging_product"`
	RecipientType    string    `json:"recipient_type"`
	To               string    `json:"to"`
	Type             string    `json:"type"`
	Text             *textBody `json:"text,omitempty"`
	Template         *template `json:"template,omitempty"`
	Image            *media    `json:"image,omitempty"`
	Video            *media    `json:"video,omitempty"`
	Audio            *media    `json:"audio,omitempty"`
	Document         *media    `json:"document,omitempty"`
	Sticker          *media    `json:"sticker,omitempty"`
}

// Send posts the message to {base}/{phone_number_id}/messages. Stored media is uploaded
// first (POST {base}/{phone_number_id}/media) and sent by the media id the upload answers; a
// link is sent as the link, which WhatsApp fetches.
func (c *Client) Send(ctx context.Context, m provider.Message) (provider.Result, error) {
	body, err := build(m)
	if err != nil {
		return provider.Result{}, err
	}
	if len(m.Attachments) == 1 && m.Attachments[0].Open != nil {
		id, err := c.upload(ctx, m.Attachments[0])
		if err != nil {
			return provider.Result{}, err
		}
		body.media().ID = id
	}
	endpoint := c.cfg.APIBase + "/" + url.PathEscape(c.cfg.PhoneNumberID) + "/messages"
	req, err := provider.JSONRequest(ctx, name, endpoint, body)
	if err != nil {
		return provider.Result{}, err
	}
	resp, err := c.do(req)
	if err != nil {
		return provider.Result{}, err
	}
	var ok struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(resp.Body, &ok); err != nil || len(ok.Messages) == 0 || ok.Messages[0].ID == "" {
		return provider.Result{}, provider.Unreadable(name, resp)
	}
	return provider.Result{ProviderMessageID: ok.Messages[0].ID}, nil
}

// upload sends a stored file to the Cloud API's media endpoint (multipart: messaging_product,
// type, file) and answers its media id.
func (c *Client) upload(ctx context.Context, a provider.Attachment) (string, error) {
	endpoint := c.cfg.APIBase + "/" + url.PathEscape(c.cfg.PhoneNumberID) + "/media"
	req, err := provider.MultipartRequest(ctx, name, endpoint, []provider.Part{
		{Name: "messaging_product", Value: "whatsapp"},
		{Name: "type", Value: provider.BaseType(a.MIMEType)},
		{Name: "file", File: &a},
	})
	if err != nil {
		return "", err
	}
	resp, err := c.do(req)
	if err != nil {
		return "", err
	}
	var ok struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp.Body, &ok); err != nil || ok.ID == "" {
		// Nothing was sent to the customer yet: a retry may upload again.
		return "", &provider.Error{Provider: name, Code: "unreadable_response", HTTPStatus: resp.StatusCode,
			Text: "the media upload's answer has no media id"}
	}
	return ok.ID, nil
}

// do sends an authorised request to the Graph API; an answer other than 2xx is its error.
func (c *Client) do(req *http.Request) (*provider.Response, error) {
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken)
	resp, err := provider.Do(c.http, name, req)
	if err != nil {
		return nil, err
	}
	if !resp.OK() {
		return nil, meta.ErrorFor(name, resp, permanent, transient).Redact(c.cfg.AccessToken, c.cfg.AppSecret)
	}
	return resp, nil
}

// media is the request's media object, whichever kind it is.
func (r *request) media() *media {
	for _, md := range []*media{r.Image, r.Video, r.Audio, r.Document, r.Sticker} {
		if md != nil {
			return md
		}
	}
	return &media{}
}

func build(m provider.Message) (request, error) {
	to := digits(m.To)
	if to == "" {
		return request{}, provider.Invalid(name, "the recipient has no phone digits")
	}
	r := request{MessagingProduct: "whatsapp", RecipientType: "individual", To: to}
	switch m.Type {
	case provider.TypeText, "":
		if m.Text == "" {
			return request{}, provider.Invalid(name, "a text message needs text")
		}
		r.Type = "text"
		r.Text = &textBody{Body: m.Text, PreviewURL: strings.Contains(m.Text, "https://") || strings.Contains(m.Text, "http://")}
	case provider.TypeTemplate:
		if m.Template == nil || m.Template.Name == "" || m.Template.Language == "" {
			return request{}, provider.Invalid(name, "a template message needs a template name and language")
		}
		t := &template{Name: m.Template.Name}
		t.Language.Code = m.Template.Language
		if len(m.Template.Variables) > 0 {
			params := make([]parameter, len(m.Template.Variables))
			for i, v := range m.Template.Variables {
				params[i] = parameter{Type: "text", Text: v}
			}
			t.Components = []component{{Type: "body", Parameters: params}}
		}
		r.Type = "template"
		r.Template = t
	case provider.TypeAttachment:
		if len(m.Attachments) != 1 {
			return request{}, provider.Invalid(name, "WhatsApp takes one attachment per message")
		}
		a := m.Attachments[0]
		k, err := Limits.KindOf(name, a)
		if err != nil {
			return request{}, err
		}
		md := &media{Caption: m.Text}
		if a.Open == nil {
			md.Link = a.URL // else the upload's media id
		}
		r.Type = k.Kind
		switch k.Kind {
		case provider.KindImage:
			r.Image = md
		case provider.KindVideo:
			r.Video = md
		case provider.KindAudio:
			md.Caption = "" // audio takes no caption
			r.Audio = md
		case provider.KindSticker:
			md.Caption = "" // nor does a sticker
			r.Sticker = md
		default:
			md.Filename = a.Filename
			r.Document = md
		}
	default:
		return request{}, provider.Invalid(name, fmt.Sprintf("unsupported message type %q", m.Type))
	}
	return r, nil
}

// digits keeps only the digits of an E.164 number: the Cloud API takes "to" without "+".
func digits(phone string) string {
	var b strings.Builder
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// permanent lists the Cloud API codes a retry cannot fix even when the HTTP status would
// suggest otherwise.
func permanent(code, _ int) bool {
	switch {
	case code == 131047: // re-engagement: more than 24 hours since the customer wrote
	case code == 131026: // message undeliverable (not on WhatsApp, old client, terms not accepted)
	case code >= 132000 && code < 133000: // template missing, paused, disabled or parameters wrong
	case code == 131051: // unsupported message type
	case code == 131052, code == 131053: // media download or upload failed
	case code == 131030: // recipient not in the allowed list (test numbers)
	case code == 131031: // business account locked
	case code == 190: // access token expired or invalid
	default:
		return false
	}
	return true
}

// transient lists the codes that are worth retrying even though Graph answers them with 400.
func transient(code, _ int) bool {
	switch code {
	case 130429, // Cloud API throughput reached
		131056, // too many messages to the same recipient in a short time
		131048, // spam rate limit
		80007,  // WhatsApp Business Account rate limit
		4,      // application request limit
		1, 2,   // unknown / service temporarily unavailable
		131000, // something went wrong
		131016, // service unavailable
		133004: // server temporarily unavailable
		return true
	}
	return false
}

// Limits are the Cloud API's supported media (Media reference, "Supported media types"): one
// file per message; images JPEG or PNG up to 5 MB, stickers WebP up to 500 KB (animated; static
// ones are 100 KB, which the bytes alone do not tell apart), video MP4 or 3GPP up to 16 MB,
// audio AAC, AMR, MP3, MP4 audio or OGG up to 16 MB, documents (text, PDF, Word, Excel,
// PowerPoint) up to 100 MB. The upload endpoint refuses other types. A caption is at most 1024
// characters (Messages reference, media object).
// https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#supported-media-types
var Limits = provider.Limits{
	Name: "WhatsApp Cloud",
	Kinds: []provider.KindLimit{
		{Kind: provider.KindImage, Types: []string{"image/jpeg", "image/png"}, MaxBytes: 5 * provider.MB},
		{Kind: provider.KindSticker, Types: []string{"image/webp"}, MaxBytes: 500 * provider.KB},
		{Kind: provider.KindVideo, Types: []string{"video/mp4", "video/3gpp"}, MaxBytes: 16 * provider.MB},
		{Kind: provider.KindAudio, Types: []string{"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/x-m4a", "audio/ogg"},
			MaxBytes: 16 * provider.MB},
		{Kind: provider.KindDocument, Types: []string{"text/plain", "application/pdf",
			"application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			"application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			"application/vnd.ms-powerpoint", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
			MaxBytes: 100 * provider.MB},
	},
	MaxFiles:   1,
	MaxCaption: 1024,
}
