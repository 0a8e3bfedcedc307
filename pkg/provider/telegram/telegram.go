// Package telegram sends messages through the Telegram Bot API and reads its webhook updates.
//
// References followed (Telegram Bot API, https://core.telegram.org/bots/api):
//   - Making requests: POST https://api.telegram.org/bot<token>/METHOD with a JSON body; the
//     answer is {"ok":true,"result":...} or {"ok":false,"error_code","description",
//     "parameters":{"retry_after"}} (#making-requests, #responseparameters).
//   - sendMessage (chat_id, text), sendPhoto, sendVideo, sendAudio and sendDocument by HTTP URL;
//     "sending by URL will currently only work for GIF, PDF and ZIP files" in sendDocument, so
//     images, MP4 videos and MP3 audio go through their own methods (#sending-files).
//   - setWebhook secret_token: sent back in X-Telegram-Bot-Api-Secret-Token (#setwebhook).
//   - Update and Message objects (#update, #message).
//
// The bot token is part of every request URL, so no error of this package ever prints a URL.
package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard/pkg/provider"
)

const name = "telegram"

// DefaultAPIBase is the public Bot API server.
const DefaultAPIBase = "https://api.telegram.org"

// Config is the channel's provider configuration (DESIGN §6, telegram).
// Its config tags name each setting as a channel stores it, with its rules (pkg/channel
// validates and decodes by them).
type Config struct {
	BotToken    string `config:"bot_token,secret,required"`
	SecretToken string `config:"secret_token,secret,required"` // the setWebhook secret_token
	APIBase     string `config:"api_base,url"`                 // optional; default DefaultAPIBase
}

// Client sends as one bot.
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

// Send calls sendMessage for text and sendPhoto, sendVideo, sendAudio or sendDocument (by URL,
// with the text as caption) for an attachment. Telegram has no templates.
func (c *Client) Send(ctx context.Context, m provider.Message) (provider.Result, error) {
	method, body, err := build(m)
	if err != nil {
		return provider.Result{}, err
	}
	req, err := provider.JSONRequest(ctx, name, c.cfg.APIBase+"/bot"+c.cfg.BotToken+"/"+method, body)
	if err != nil {
		return provider.Result{}, err
	}
	resp, err := provider.Do(c.http, name, req)
	if err != nil {
		return provider.Result{}, err
	}
	var answer struct {
		OK     bool `json:"ok"`
		Result struct {
			MessageID provider.ID `json:"message_id"`
		} `json:"result"`
		ErrorCode   int    `json:"error_code"`
		Description string `json:"description"`
		Parameters  struct {
			RetryAfter int64 `json:"retry_after"`
		} `json:"parameters"`
	}
	decodeErr := json.Unmarshal(resp.Body, &answer)
	if !resp.OK() || (decodeErr == nil && !answer.OK) {
		code := ""
		if answer.ErrorCode != 0 {
			code = strconv.Itoa(answer.ErrorCode)
		}
		e := provider.FromResponse(name, resp, code, answer.Description)
		if resp.OK() { // ok:false on a 2xx: trust error_code
			e.Permanent = !provider.Transient(answer.ErrorCode)
		}
		if answer.Parameters.RetryAfter > 0 {
			e.RetryAfter = provider.RetryAfterSeconds(answer.Parameters.RetryAfter)
		}
		return provider.Result{}, e.Redact(c.cfg.BotToken, c.cfg.SecretToken)
	}
	if decodeErr != nil || answer.Result.MessageID == "" {
		return provider.Result{}, provider.Unreadable(name, resp)
	}
	return provider.Result{ProviderMessageID: string(answer.Result.MessageID)}, nil
}

func build(m provider.Message) (string, map[string]any, error) {
	if m.To == "" {
		return "", nil, provider.Invalid(name, "the message has no chat id")
	}
	body := map[string]any{"chat_id": chatID(m.To)}
	switch m.Type {
	case provider.TypeText, "":
		if m.Text == "" {
			return "", nil, provider.Invalid(name, "a text message needs text")
		}
		body["text"] = m.Text
		return "sendMessage", body, nil
	case provider.TypeAttachment:
		if len(m.Attachments) == 0 || m.Attachments[0].URL == "" {
			return "", nil, provider.Invalid(name, "an attachment message needs a URL")
		}
		method, field := fileMethod(m.Attachments[0].MIMEType)
		body[field] = m.Attachments[0].URL
		if m.Text != "" {
			body["caption"] = m.Text
		}
		return method, body, nil
	default:
		return "", nil, provider.Invalid(name, fmt.Sprintf("Telegram has no %q messages", m.Type))
	}
}

// fileMethod picks the Bot API method that accepts the file type by URL.
func fileMethod(mimeType string) (method, field string) {
	mt := strings.ToLower(mimeType)
	switch {
	case strings.HasPrefix(mt, "image/") && mt != "image/gif":
		return "sendPhoto", "photo"
	case mt == "video/mp4":
		return "sendVideo", "video"
	case mt == "audio/mpeg" || mt == "audio/mp3":
		return "sendAudio", "audio"
	default:
		return "sendDocument", "document"
	}
}

// chatID sends numeric chat ids as JSON numbers and channel usernames ("@name") as strings,
// the two forms chat_id takes.
func chatID(to string) any {
	if n, err := strconv.ParseInt(to, 10, 64); err == nil {
		return n
	}
	return to
}

// Limits are the Bot API's (#sending-files, #sendmediagroup): a stored file is uploaded, up to
// 10 MB as a photo (JPEG or PNG) and 50 MB otherwise (an MP4 video, MP3 or M4A audio, any
// other file as a document); by URL Telegram fetches documents only as GIF, PDF or ZIP (and
// photos up to 5 MB, other files up to 20 MB, which a link's unknown size cannot be checked
// against). Two to ten files go as one media group, whose photos and videos may mix but whose
// documents and audio go only with their own kind.
var Limits = provider.Limits{
	Name: "Telegram",
	Kinds: []provider.KindLimit{
		{Kind: provider.KindImage, Types: []string{"image/jpeg", "image/png"}, MaxBytes: 10 * provider.MB},
		{Kind: provider.KindVideo, Types: []string{"video/mp4"}, MaxBytes: 50 * provider.MB},
		{Kind: provider.KindAudio, Types: []string{"audio/mpeg", "audio/mp4", "audio/x-m4a"}, MaxBytes: 50 * provider.MB},
		{Kind: provider.KindDocument, MaxBytes: 50 * provider.MB, LinkTypes: []string{"image/gif", "application/pdf", "application/zip"}},
	},
	MaxFiles: 10,
	Groups:   [][]string{{provider.KindImage, provider.KindVideo}, {provider.KindDocument}, {provider.KindAudio}},
}
