// Package line sends messages through the LINE Messaging API (push messages) and reads its
// webhooks.
//
// References followed:
//   - Send push message: POST https://api.line.me/v2/bot/message/push, Authorization: Bearer
//     {channel access token}, JSON {to, messages[]} (at most 5); answer {sentMessages:[{id,
//     quoteToken}]}. https://developers.line.biz/en/reference/messaging-api/#send-push-message
//   - Retrying a failed API request: X-Line-Retry-Key is a UUID; a request with an accepted
//     key answers 409 with the x-line-accepted-request-id header; retry 5xx and timeouts, not
//     4xx. https://developers.line.biz/en/docs/messaging-api/retrying-api-request/
//   - Verify webhook signature: X-Line-Signature = base64 HMAC-SHA256(channel secret, body).
//     https://developers.line.biz/en/docs/messaging-api/verify-webhook-signature/
//   - Webhook event objects (message event: message.id, message.text, source.userId,
//     timestamp in milliseconds): https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects
package line

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchboard/switchboard/pkg/provider"
)

const name = "line"

// DefaultAPIBase is the Messaging API host.
const DefaultAPIBase = "https://api.line.me"

// Config is the channel's provider configuration (DESIGN §6, line).
// Its config tags name each setting as a channel stores it, with its rules (pkg/channel
// validates and decodes by them).
type Config struct {
	ChannelAccessToken string `config:"channel_access_token,secret,required"`
	ChannelSecret      string `config:"channel_secret,secret,required"` // signs webhooks
	APIBase            string `config:"api_base,url"`                   // optional; default DefaultAPIBase
}

// Client sends as one LINE Official Account.
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

type message struct {
	Type               string `json:"type"`
	Text               string `json:"text,omitempty"`
	OriginalContentURL string `json:"originalContentUrl,omitempty"`
	PreviewImageURL    string `json:"previewImageUrl,omitempty"`
	Duration           int64  `json:"duration,omitempty"` // audio, in milliseconds
}

type request struct {
	To       string    `json:"to"`
	Messages []message `json:"messages"`
}

type sentMessages struct {
	Message      string `json:"message"`
	SentMessages []struct {
		ID string `json:"id"`
	} `json:"sentMessages"`
	Details []struct {
		Message  string `json:"message"`
		Property string `json:"property"`
	} `json:"details"`
}

// Send pushes the message with X-Line-Retry-Key derived from the message id, so a retried
// push after a timeout or 5xx is executed at most once; the 409 LINE answers to a key it has
// already accepted counts as success, identified by the sent message id when LINE repeats it
// and by x-line-accepted-request-id otherwise. An attachment message is one push: the text
// first, then each file as the message of its kind in Limits: an image message, an audio
// message (stored M4A, whose length LINE requires), or else a text with the file's link. LINE
// fetches files by URL, stored media by its signed link. LINE has no templates.
func (c *Client) Send(ctx context.Context, m provider.Message) (provider.Result, error) {
	body, err := build(ctx, m)
	if err != nil {
		return provider.Result{}, err
	}
	req, err := provider.JSONRequest(ctx, name, c.cfg.APIBase+"/v2/bot/message/push", body)
	if err != nil {
		return provider.Result{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.ChannelAccessToken)
	if m.ID != "" {
		req.Header.Set("X-Line-Retry-Key", RetryKey(m.ID))
	}
	resp, err := provider.Do(c.http, name, req)
	if err != nil {
		return provider.Result{}, err
	}
	var answer sentMessages
	decodeErr := json.Unmarshal(resp.Body, &answer)
	switch {
	case resp.OK():
		if decodeErr != nil || len(answer.SentMessages) == 0 || answer.SentMessages[0].ID == "" {
			return provider.Result{}, provider.Unreadable(name, resp)
		}
		return provider.Result{ProviderMessageID: answer.SentMessages[0].ID}, nil
	case resp.StatusCode == http.StatusConflict && m.ID != "":
		// Already accepted under this retry key: the first attempt went through.
		if len(answer.SentMessages) > 0 && answer.SentMessages[0].ID != "" {
			return provider.Result{ProviderMessageID: answer.SentMessages[0].ID}, nil
		}
		return provider.Result{ProviderMessageID: resp.Header.Get("X-Line-Accepted-Request-Id")}, nil
	}
	text := answer.Message
	if len(answer.Details) > 0 {
		text += ": " + answer.Details[0].Property + " " + answer.Details[0].Message
	}
	return provider.Result{}, provider.FromResponse(name, resp, "", text).Redact(c.cfg.ChannelAccessToken, c.cfg.ChannelSecret)
}

func build(ctx context.Context, m provider.Message) (request, error) {
	if m.To == "" {
		return request{}, provider.Invalid(name, "the message has no recipient")
	}
	r := request{To: m.To}
	switch m.Type {
	case provider.TypeText, "":
		if m.Text == "" {
			return request{}, provider.Invalid(name, "a text message needs text")
		}
		r.Messages = []message{{Type: "text", Text: m.Text}}
	case provider.TypeAttachment:
		if len(m.Attachments) == 0 || len(m.Attachments) > Limits.MaxFiles {
			return request{}, provider.Invalid(name, "LINE pushes 1 to 5 messages at once")
		}
		if m.Text != "" {
			r.Messages = append(r.Messages, message{Type: "text", Text: m.Text})
		}
		for _, a := range m.Attachments {
			if a.URL == "" {
				return request{}, provider.Invalid(name, "an attachment has no URL LINE could fetch (stored media needs PUBLIC_BASE_URL)")
			}
			r.Messages = append(r.Messages, fileMessage(ctx, a))
		}
		if len(r.Messages) > Limits.MaxFiles {
			return request{}, provider.Invalid(name, "LINE pushes at most 5 messages at once, the text among them")
		}
	default:
		return request{}, provider.Invalid(name, fmt.Sprintf("LINE has no %q messages", m.Type))
	}
	return r, nil
}

// fileMessage is the message that carries a file: its kind's in Limits, or its link in a text
// when LINE has no message for it (or, for audio, its length cannot be read).
func fileMessage(ctx context.Context, a provider.Attachment) message {
	k, _ := Limits.Kind(a.File())
	switch k.Kind {
	case provider.KindImage:
		return message{Type: "image", OriginalContentURL: a.URL, PreviewImageURL: a.URL}
	case provider.KindAudio:
		if ms, ok := audioDuration(ctx, a); ok {
			return message{Type: "audio", OriginalContentURL: a.URL, Duration: ms}
		}
	}
	text := a.URL
	if a.Filename != "" {
		text = a.Filename + "\n" + a.URL
	}
	return message{Type: "text", Text: text}
}

// RetryKey returns the X-Line-Retry-Key for a message id: the id itself when it is a UUID (our
// ids are UUIDv7), otherwise a UUID derived from the id's SHA-256, so every attempt at the same
// message carries the same key.
func RetryKey(messageID string) string {
	if isUUID(messageID) {
		return strings.ToLower(messageID)
	}
	sum := sha256.Sum256([]byte(messageID))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x80 // version 8: custom
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// Limits are the Messaging API's (message objects; "Send push message"): a push carries up to
// five messages, the text being one of them; an image message takes JPEG or PNG up to 10 MB and
// an audio message M4A up to 200 MB, both by HTTPS URL that LINE fetches when the customer
// opens them. Every other file (and audio whose length is unknown, which LINE requires) goes as
// its link in a text: a video message needs a preview image this server cannot make, and
// LINE has no file message for bots.
var Limits = provider.Limits{
	Name: "LINE",
	Kinds: []provider.KindLimit{
		{Kind: provider.KindImage, Types: []string{"image/jpeg", "image/png"}, MaxBytes: 10 * provider.MB},
		{Kind: provider.KindAudio, Types: []string{"audio/mp4", "audio/x-m4a"}, MaxBytes: 200 * provider.MB},
		{Kind: provider.KindLink},
	},
	MaxFiles:     5,
	TextTakesOne: true,
	NeedsURL:     true,
}
