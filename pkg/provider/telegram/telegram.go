// Package telegram sends messages through the Telegram Bot API and reads its webhook updates.
//
// References followed (Telegram Bot API, https://core.telegram.org/bots/api):
//   - Making requests: POST https://api.telegram.org/bot<token>/METHOD with a JSON body; the
//     answer is {"ok":true,"result":...} or {"ok":false,"error_code","description",
//     "parameters":{"retry_after"}} (#making-requests, #responseparameters).
//   - sendMessage (chat_id, text), sendPhoto, sendVideo, sendAudio and sendDocument by HTTP URL
//     or uploaded as multipart/form-data; "sending by URL will currently only work for GIF, PDF
//     and ZIP files" in sendDocument, so images, MP4 videos and MP3 audio go through their own
//     methods (#sending-files); sendMediaGroup with InputMedia* objects, files attached as
//     "attach://<name>" (#sendmediagroup, #inputfile). Sizes and types: Limits.
//   - setWebhook secret_token: sent back in X-Telegram-Bot-Api-Secret-Token (#setwebhook).
//   - Update and Message objects (#update, #message).
//
// The bot token is part of every request URL, so no error of this package ever prints a URL.
package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
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

// Send calls sendMessage for text; sendPhoto, sendVideo, sendAudio or sendDocument (with the
// text as caption) for one file, by URL for a link and uploaded (multipart) for stored media;
// and sendMediaGroup for two to ten files, the caption on the first. A file's method is its
// kind in Limits, the table the send was checked against. Telegram has no templates.
func (c *Client) Send(ctx context.Context, m provider.Message) (provider.Result, error) {
	call, err := build(m)
	if err != nil {
		return provider.Result{}, err
	}
	endpoint := c.cfg.APIBase + "/bot" + c.cfg.BotToken + "/" + call.method
	var req *http.Request
	if call.parts != nil {
		req, err = provider.MultipartRequest(ctx, name, endpoint, call.form())
	} else {
		req, err = provider.JSONRequest(ctx, name, endpoint, call.body)
	}
	if err != nil {
		return provider.Result{}, err
	}
	resp, err := provider.Do(c.http, name, req)
	if err != nil {
		return provider.Result{}, err
	}
	// Result is a Message, or an array of them (sendMediaGroup).
	result, err := c.read(resp)
	if _, failed := err.(*provider.Error); failed {
		return provider.Result{}, err
	}
	id := firstMessageID(result)
	if err != nil || id == "" {
		return provider.Result{}, provider.Unreadable(name, resp)
	}
	return provider.Result{ProviderMessageID: id}, nil
}

// read reads a Bot API answer's envelope: the result of an answer with ok true; the
// *provider.Error an answer stands for when its status failed, or when ok is false on a 2xx
// (then error_code says whether it is worth a retry), with the tokens redacted; or the
// decoding error of a 2xx answer that is not the envelope.
func (c *Client) read(resp *provider.Response) (json.RawMessage, error) {
	var answer struct {
		OK          bool            `json:"ok"`
		Result      json.RawMessage `json:"result"`
		ErrorCode   int             `json:"error_code"`
		Description string          `json:"description"`
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
		return nil, e.Redact(c.cfg.BotToken, c.cfg.SecretToken)
	}
	return answer.Result, decodeErr
}

// firstMessageID is the id of the Message a method answered, or of the first of a media
// group's.
func firstMessageID(result json.RawMessage) string {
	type message struct {
		MessageID provider.ID `json:"message_id"`
	}
	var one message
	if json.Unmarshal(result, &one) == nil {
		return string(one.MessageID)
	}
	var group []message
	if json.Unmarshal(result, &group) == nil && len(group) > 0 {
		return string(group[0].MessageID)
	}
	return ""
}

// call is one Bot API call: its method, and its parameters as a JSON body, or as a multipart
// form when it uploads files (parts set).
type call struct {
	method string
	body   map[string]any
	parts  []provider.Part
}

// form is the call's parameters as form fields (objects and arrays as JSON), then its files.
func (c call) form() []provider.Part {
	keys := slices.Sorted(maps.Keys(c.body))
	fields := make([]provider.Part, 0, len(keys)+len(c.parts))
	for _, k := range keys {
		v, ok := c.body[k].(string)
		if !ok {
			b, _ := json.Marshal(c.body[k])
			v = string(b)
		}
		fields = append(fields, provider.Part{Name: k, Value: v})
	}
	return append(fields, c.parts...)
}

func build(m provider.Message) (call, error) {
	if m.To == "" {
		return call{}, provider.Invalid(name, "the message has no chat id")
	}
	c := call{body: map[string]any{"chat_id": chatID(m.To)}}
	switch m.Type {
	case provider.TypeText, "":
		if m.Text == "" {
			return call{}, provider.Invalid(name, "a text message needs text")
		}
		c.method, c.body["text"] = "sendMessage", m.Text
		return c, nil
	case provider.TypeAttachment:
		switch n := len(m.Attachments); {
		case n == 1:
			return c, c.file(m.Attachments[0], m.Text)
		case n >= 2 && n <= Limits.MaxFiles:
			return c, c.group(m.Attachments, m.Text)
		}
		return call{}, provider.Invalid(name, fmt.Sprintf("Telegram sends 1 to %d files in a message", Limits.MaxFiles))
	default:
		return call{}, provider.Invalid(name, fmt.Sprintf("Telegram has no %q messages", m.Type))
	}
}

// inputType is the Bot API's name of a kind: its method is "send" + the name, capitalised,
// and its InputMedia type and file parameter are the name.
var inputType = map[string]string{
	provider.KindImage: "photo", provider.KindVideo: "video", provider.KindAudio: "audio", provider.KindDocument: "document",
}

// kind is the Bot API's name of a's kind.
func kind(a provider.Attachment) (string, error) {
	k, err := Limits.KindOf(name, a)
	return inputType[k.Kind], err
}

// file makes c the call that sends one file: by its URL, or uploaded under the method's file
// parameter.
func (c *call) file(a provider.Attachment, caption string) error {
	t, err := kind(a)
	if err != nil {
		return err
	}
	c.method = "send" + strings.ToUpper(t[:1]) + t[1:]
	if caption != "" {
		c.body["caption"] = caption
	}
	if a.Open == nil {
		c.body[t] = a.URL
		return nil
	}
	c.parts = []provider.Part{{Name: t, File: &a}}
	return nil
}

// group makes c a sendMediaGroup of the files, each an InputMedia by URL or attached as
// "attach://file<i>"; the caption goes on the first.
func (c *call) group(atts []provider.Attachment, caption string) error {
	type inputMedia struct {
		Type    string `json:"type"`
		Media   string `json:"media"`
		Caption string `json:"caption,omitempty"`
	}
	media := make([]inputMedia, len(atts))
	for i, a := range atts {
		t, err := kind(a)
		if err != nil {
			return err
		}
		media[i] = inputMedia{Type: t, Media: a.URL}
		if a.Open != nil {
			part := "file" + strconv.Itoa(i)
			media[i].Media = "attach://" + part
			c.parts = append(c.parts, provider.Part{Name: part, File: &atts[i]})
		}
	}
	media[0].Caption = caption
	c.method, c.body["media"] = "sendMediaGroup", media
	return nil
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
// documents and audio go only with their own kind. A caption is 0-1024 characters (sendPhoto).
var Limits = provider.Limits{
	Name: "Telegram",
	Kinds: []provider.KindLimit{
		{Kind: provider.KindImage, Types: []string{"image/jpeg", "image/png"}, MaxBytes: 10 * provider.MB},
		{Kind: provider.KindVideo, Types: []string{"video/mp4"}, MaxBytes: 50 * provider.MB},
		{Kind: provider.KindAudio, Types: []string{"audio/mpeg", "audio/mp4", "audio/x-m4a"}, MaxBytes: 50 * provider.MB},
		{Kind: provider.KindDocument, MaxBytes: 50 * provider.MB, LinkTypes: []string{"image/gif", "application/pdf", "application/zip"}},
	},
	MaxFiles:   10,
	MaxCaption: 1024,
	Groups:     [][]string{{provider.KindImage, provider.KindVideo}, {provider.KindDocument}, {provider.KindAudio}},
}
