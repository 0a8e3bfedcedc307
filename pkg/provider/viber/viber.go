// Package viber sends messages through the Viber REST Bot API and reads its callbacks.
//
// References followed:
//   - Viber REST Bot API (send_message, callbacks, X-Viber-Content-Signature, error codes):
//     https://developers.viber.com/docs/api/rest-bot-api/
//   - Send a Message (POST https://chatapi.viber.com/pa/send_message, X-Viber-Auth-Token;
//     answer {status, status_message, message_token}; status 12 "Too many requests" after 100
//     messages in an hour without a reply): https://creators.viber.com/docs/bots-api/resources/messaging/send-message
//   - Common errors: https://creators.viber.com/docs/bots-api/errors
//
// Viber answers HTTP 200 for refused sends too; the JSON status says what happened.
package viber

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/pkg/provider"
)

const name = "viber"

// DefaultAPIBase is the public bot API.
const DefaultAPIBase = "https://chatapi.viber.com/pa"

// Config is the channel's provider configuration (DESIGN §6, viber).
// Its config tags name each setting as a channel stores it, with its rules (pkg/channel
// validates and decodes by them).
type Config struct {
	AuthToken  string `config:"auth_token,secret,required"`  // also signs callbacks
	SenderName string `config:"sender_name,required,max=28"` // shown as the sender, at most 28 characters
	APIBase    string `config:"api_base,url"`                // optional; default DefaultAPIBase
}

// Client sends as one Viber bot.
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

type sender struct {
	Name string `json:"name"`
}

type request struct {
	Receiver      string `json:"receiver"`
	MinAPIVersion int    `json:"min_api_version"`
	Sender        sender `json:"sender"`
	Type          string `json:"type"`
	Text          string `json:"text,omitempty"`
	Media         string `json:"media,omitempty"`
	// Size and FileName are a video's or a file's (Viber requires the size of both).
	Size     int64  `json:"size,omitempty"`
	FileName string `json:"file_name,omitempty"`
}

// Send posts to {base}/send_message. Viber fetches every file by URL, stored media by its
// signed link. Images go as picture messages (the text as description); stored video as a video
// message and other stored files as file messages, with the size Viber requires; a link of
// another kind, whose size is unknown, as a url message. Viber has no templates.
func (c *Client) Send(ctx context.Context, m provider.Message) (provider.Result, error) {
	body, err := c.build(m)
	if err != nil {
		return provider.Result{}, err
	}
	req, err := provider.JSONRequest(ctx, name, c.cfg.APIBase+"/send_message", body)
	if err != nil {
		return provider.Result{}, err
	}
	req.Header.Set("X-Viber-Auth-Token", c.cfg.AuthToken)
	resp, err := provider.Do(c.http, name, req)
	if err != nil {
		return provider.Result{}, err
	}
	if !resp.OK() {
		return provider.Result{}, provider.FromResponse(name, resp, "", "").Redact(c.cfg.AuthToken)
	}
	var answer struct {
		Status        *int        `json:"status"`
		StatusMessage string      `json:"status_message"`
		MessageToken  provider.ID `json:"message_token"`
	}
	if err := json.Unmarshal(resp.Body, &answer); err != nil || answer.Status == nil {
		return provider.Result{}, provider.Unreadable(name, resp)
	}
	if *answer.Status != 0 {
		e := &provider.Error{
			Provider:   name,
			Permanent:  permanent(*answer.Status),
			Code:       strconv.Itoa(*answer.Status),
			Text:       answer.StatusMessage,
			HTTPStatus: resp.StatusCode,
		}
		return provider.Result{}, e.Redact(c.cfg.AuthToken)
	}
	if answer.MessageToken == "" {
		return provider.Result{}, provider.Unreadable(name, resp)
	}
	return provider.Result{ProviderMessageID: string(answer.MessageToken)}, nil
}

func (c *Client) build(m provider.Message) (request, error) {
	if m.To == "" {
		return request{}, provider.Invalid(name, "the message has no receiver")
	}
	r := request{Receiver: m.To, MinAPIVersion: 1, Sender: sender{Name: c.cfg.SenderName}}
	switch m.Type {
	case provider.TypeText, "":
		if m.Text == "" {
			return request{}, provider.Invalid(name, "a text message needs text")
		}
		r.Type, r.Text = "text", m.Text
	case provider.TypeAttachment:
		if len(m.Attachments) != 1 {
			return request{}, provider.Invalid(name, "Viber takes one attachment per message")
		}
		a := m.Attachments[0]
		if a.URL == "" {
			return request{}, provider.Invalid(name, "the attachment has no URL Viber could fetch (stored media needs PUBLIC_BASE_URL)")
		}
		r.Media = a.URL
		k, _ := Limits.Kind(a.File())
		switch {
		case k.Kind == provider.KindImage:
			r.Type, r.Text = "picture", m.Text
		case a.Size > 0 && k.Kind == provider.KindVideo:
			r.Type, r.Size = "video", a.Size
		case a.Size > 0 && k.Kind == provider.KindDocument:
			r.Type, r.Size, r.FileName = "file", a.Size, provider.FilenameOf(a)
		default:
			r.Type = "url"
		}
	default:
		return request{}, provider.Invalid(name, fmt.Sprintf("Viber has no %q messages", m.Type))
	}
	return r, nil
}

// permanent reports whether a non-zero send status is final. 12 (too many requests) and the
// general error (any code outside the documented 1–24) are worth retrying; the documented
// others are about the receiver, the account or the request, which a retry does not change:
// 5 receiver not registered, 6 receiver not subscribed, 2 invalid auth token, 3 bad data, ...
func permanent(status int) bool {
	if status == 12 {
		return false
	}
	return status >= 1 && status <= 24
}

// SignatureHeader carries hex HMAC-SHA256(auth token, raw body).
const SignatureHeader = "X-Viber-Content-Signature"

// Verify checks X-Viber-Content-Signature against the raw body, in constant time.
func Verify(h http.Header, body []byte, authToken string) error {
	if authToken == "" {
		return fmt.Errorf("%w: no auth token is configured", provider.ErrSignature)
	}
	got := h.Get(SignatureHeader)
	if got == "" {
		return fmt.Errorf("%w: missing %s", provider.ErrSignature, SignatureHeader)
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return fmt.Errorf("%w: %s is not hex", provider.ErrSignature, SignatureHeader)
	}
	if !hmac.Equal(sig, mac(body, authToken)) {
		return fmt.Errorf("%w: %s does not match the body", provider.ErrSignature, SignatureHeader)
	}
	return nil
}

// Sign returns the X-Viber-Content-Signature Viber would send for body.
func Sign(body []byte, authToken string) string { return hex.EncodeToString(mac(body, authToken)) }

func mac(body []byte, key string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return m.Sum(nil)
}

// Limits are the REST Bot API's (send_message: picture, video and file messages): one file per
// message by URL; pictures JPEG, PNG or GIF up to 1 MB, video MP4 up to 26 MB, any other file up
// to 50 MB (a file message needs its size, so a link of another type goes as a URL message).
// Only a picture carries text, its description of at most 120 characters.
var Limits = provider.Limits{
	Name: "Viber",
	Kinds: []provider.KindLimit{
		{Kind: provider.KindImage, Types: []string{"image/jpeg", "image/png", "image/gif"}, MaxBytes: 1 * provider.MB},
		{Kind: provider.KindVideo, Types: []string{"video/mp4"}, MaxBytes: 26 * provider.MB, NoCaption: true},
		{Kind: provider.KindDocument, MaxBytes: 50 * provider.MB, NoCaption: true},
	},
	MaxFiles:   1,
	MaxCaption: 120,
	NeedsURL:   true,
}
