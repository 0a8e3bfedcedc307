// Package messenger sends messages through the Messenger Platform Send API, for Facebook
// Messenger and Instagram (providers "messenger" and "instagram"), and reads their webhooks.
//
// References followed:
//   - Send API: POST /{PAGE-ID}/messages with recipient.id, messaging_type (RESPONSE,
//     MESSAGE_TAG + tag), message.text or message.attachment {type, payload.url}; answer
//     {recipient_id, message_id}. https://developers.facebook.com/docs/messenger-platform/reference/send-api
//   - Sending a file from the local file system: the same call as multipart/form-data, the
//     recipient and message as JSON fields and the file as filedata (types and sizes: Limits).
//     https://developers.facebook.com/docs/messenger-platform/send-messages/saving-assets
//   - Error codes (551 person unavailable, 10/2018278 outside the allowed window, 1200 temporary
//     failure, 4/613 rate limits): https://developers.facebook.com/docs/messenger-platform/error-codes
//   - Webhook events: messages, message_deliveries (mids, watermark), message_reads (watermark):
//     https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events
//   - Instagram messaging webhooks (object "instagram", messaging_seen with read.mid):
//     https://developers.facebook.com/documentation/instagram-platform/webhooks/examples
//
// The page access token travels in the Authorization header (Bearer), which the Graph API
// accepts on every endpoint, rather than the access_token query parameter of Meta's curl
// examples: a token in a URL ends up in proxy logs and in Go's *url.Error texts.
package messenger

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

const name = "messenger"

// Config is the channel's provider configuration (DESIGN §6, messenger and instagram).
// Its config tags name each setting as a channel stores it, with its rules (pkg/channel
// validates and decodes by them).
type Config struct {
	PageID          string `config:"page_id,required"`
	PageAccessToken string `config:"page_access_token,secret,required"`
	AppSecret       string `config:"app_secret,secret,required"` // signs webhooks
	VerifyToken     string `config:"verify_token,secret"`        // answers the GET handshake
	APIBase         string `config:"api_base,url"`               // optional; default meta.DefaultAPIBase
}

// Client sends as one Facebook Page (or the Page linked to an Instagram professional account).
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

type recipient struct {
	ID string `json:"id"`
}

type attachment struct {
	Type    string `json:"type"`
	Payload struct {
		// URL is a link's; an uploaded file (filedata) has none.
		URL        string `json:"url,omitempty"`
		IsReusable bool   `json:"is_reusable"`
	} `json:"payload"`
}

type message struct {
	Text       string      `json:"text,omitempty"`
	Attachment *attachment `json:"attachment,omitempty"`
}

type request struct {
	Recipient     recipient `json:"recipient"`
	MessagingType string    `json:"messaging_type"`
	Tag           string    `json:"tag,omitempty"`
	Message       message   `json:"message"`
}

// Send posts the message to {base}/{page_id}/messages. A message with a Tag goes as
// MESSAGE_TAG, any other as RESPONSE. A link goes as the attachment's payload.url; stored media
// is uploaded with the send, as multipart/form-data whose filedata part is the file.
// Attachments carry no caption on Messenger: the send's check (Limits.NoCaption) refuses an
// attachment message with text, so none is dropped here.
func (c *Client) Send(ctx context.Context, m provider.Message) (provider.Result, error) {
	body, err := build(m)
	if err != nil {
		return provider.Result{}, err
	}
	endpoint := c.cfg.APIBase + "/" + url.PathEscape(c.cfg.PageID) + "/messages"
	var req *http.Request
	if len(m.Attachments) == 1 && m.Attachments[0].Open != nil {
		req, err = provider.MultipartRequest(ctx, name, endpoint, body.form(m.Attachments[0]))
	} else {
		req, err = provider.JSONRequest(ctx, name, endpoint, body)
	}
	if err != nil {
		return provider.Result{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.PageAccessToken)
	resp, err := provider.Do(c.http, name, req)
	if err != nil {
		return provider.Result{}, err
	}
	if !resp.OK() {
		return provider.Result{}, meta.ErrorFor(name, resp, permanent, transient).Redact(c.cfg.PageAccessToken, c.cfg.AppSecret)
	}
	var ok struct {
		MessageID string `json:"message_id"`
	}
	if err := json.Unmarshal(resp.Body, &ok); err != nil || ok.MessageID == "" {
		return provider.Result{}, provider.Unreadable(name, resp)
	}
	return provider.Result{ProviderMessageID: ok.MessageID}, nil
}

func build(m provider.Message) (request, error) {
	if m.To == "" {
		return request{}, provider.Invalid(name, "the message has no recipient PSID")
	}
	r := request{Recipient: recipient{ID: m.To}, MessagingType: "RESPONSE"}
	if m.Tag != "" {
		r.MessagingType = "MESSAGE_TAG"
		r.Tag = m.Tag
	}
	switch m.Type {
	case provider.TypeText, "":
		if m.Text == "" {
			return request{}, provider.Invalid(name, "a text message needs text")
		}
		r.Message.Text = m.Text
	case provider.TypeAttachment:
		if len(m.Attachments) != 1 {
			return request{}, provider.Invalid(name, "Messenger takes one attachment per message")
		}
		f := m.Attachments[0]
		k, err := Limits.KindOf(name, f)
		if err != nil {
			return request{}, err
		}
		a := &attachment{Type: k.Kind}
		if k.Kind == provider.KindDocument {
			a.Type = "file"
		}
		if f.Open == nil {
			a.Payload.URL = f.URL
		}
		a.Payload.IsReusable = true
		r.Message.Attachment = a
	default:
		return request{}, provider.Invalid(name, fmt.Sprintf("Messenger has no %q messages", m.Type))
	}
	return r, nil
}

// form is the request as multipart/form-data fields (recipient and message as JSON) with the
// file as filedata: the Send API's upload with the send.
func (r request) form(file provider.Attachment) []provider.Part {
	recipient, _ := json.Marshal(r.Recipient)
	message, _ := json.Marshal(r.Message)
	parts := []provider.Part{{Name: "recipient", Value: string(recipient)}, {Name: "messaging_type", Value: r.MessagingType}}
	if r.Tag != "" {
		parts = append(parts, provider.Part{Name: "tag", Value: r.Tag})
	}
	return append(parts, provider.Part{Name: "message", Value: string(message)}, provider.Part{Name: "filedata", File: &file})
}

// permanent lists the Send API codes no retry can fix.
func permanent(code, _ int) bool {
	switch {
	case code == 551: // this person isn't available right now
	case code == 10: // permission denied, including 2018278: sent outside the allowed window
	case code == 100: // invalid parameter, including 2018001: no matching user found
	case code == 190: // invalid or expired access token
	case code == 230, code >= 200 && code < 300: // permissions missing
	case code == 368: // temporarily blocked for policy violations
	default:
		return false
	}
	return true
}

// transient lists the codes worth retrying; Graph answers them with HTTP 400 or 500.
func transient(code, _ int) bool {
	switch code {
	case 1200, // temporary send message failure
		1, 2, // unknown / unexpected error, retry later
		4, 17, 32, 613: // rate limits
		return true
	}
	return false
}

// Limits are the Send API's attachments (Send API reference; "Saving assets"): one attachment
// per message, image (JPEG, PNG, GIF), video, audio or any other file, each up to 25 MB (an
// image by URL up to 8 MB, which a link's unknown size cannot be checked against). Instagram
// takes the same (pkg/channel names it). An attachment carries no text: a message with both is
// refused rather than sent without its text.
var Limits = provider.Limits{
	Name: "Messenger",
	Kinds: []provider.KindLimit{
		{Kind: provider.KindImage, Types: []string{"image/jpeg", "image/png", "image/gif"}, MaxBytes: 25 * provider.MB},
		{Kind: provider.KindVideo, Types: []string{"video/*"}, MaxBytes: 25 * provider.MB},
		{Kind: provider.KindAudio, Types: []string{"audio/*"}, MaxBytes: 25 * provider.MB},
		{Kind: provider.KindDocument, MaxBytes: 25 * provider.MB},
	},
	MaxFiles:  1,
	NoCaption: true,
}
