// Package webhook delivers messages of custom and website-chat channels by POSTing them as
// signed JSON to a URL the workspace configures, so any system can act as a channel. Its
// Sign and Verify implement the Standard Webhooks scheme, and serve subscriber webhooks too.
//
// Reference followed: Standard Webhooks specification (webhook-id, webhook-timestamp in Unix
// seconds, webhook-signature "v1,"+base64 HMAC-SHA256(secret, id.timestamp.body), space-separated
// signatures, "whsec_"+base64 secrets, a tolerance against replays):
// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
//
// The URL is tenant-controlled: the caller passes an http.Client whose dialer refuses private
// and loopback addresses (DESIGN §6, WEBHOOK_ALLOW_LOOPBACK) and which does not follow redirects
// to them.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
)

const name = "webhook"

// Header names of the Standard Webhooks scheme.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a webhook-timestamp may be from the receiver's clock.
const DefaultTolerance = 5 * time.Minute

// EventType is the type of the event that carries an outbound message.
const EventType = "message.outbound"

// Config is the channel's provider configuration (DESIGN §6, webhook).
// Its config tags name each setting as a channel stores it, with its rules (pkg/channel
// validates and decodes by them).
type Config struct {
	URL    string `config:"url,url,required"`
	Secret string `config:"secret,secret,required"` // "whsec_"+base64, or any other string used as raw key bytes
}

// Client posts a channel's messages to its URL.
type Client struct {
	cfg  Config
	http *http.Client
	now  func() time.Time
}

var _ provider.Sender = (*Client)(nil)

// New returns a client; a nil http.Client means http.DefaultClient.
func New(cfg Config, client *http.Client) *Client {
	return &Client{cfg: cfg, http: client, now: time.Now}
}

// Event is the JSON body posted for each message.
type Event struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      Data      `json:"data"`
}

// Data is the message of an Event.
type Data struct {
	ID          string       `json:"id"`
	To          string       `json:"to"`
	Type        string       `json:"type"`
	Text        string       `json:"text,omitempty"`
	Tag         string       `json:"tag,omitempty"`
	Template    *Template    `json:"template,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// Template is a template message's template.
type Template struct {
	Name      string   `json:"name"`
	Language  string   `json:"language"`
	Variables []string `json:"variables"`
}

// Attachment is one file of an attachment message: its URL (for stored media a signed link,
// valid for MEDIA_PROVIDER_URL_TTL, that the receiver fetches) and, for stored media, its
// media id and size.
type Attachment struct {
	URL      string `json:"url"`
	MIMEType string `json:"mime_type,omitempty"`
	Filename string `json:"filename,omitempty"`
	Size     int64  `json:"size,omitempty"`
	MediaID  string `json:"media_id,omitempty"`
}

// Send posts the message as an Event signed with the channel's secret. webhook-id is the
// message id, so the receiver can drop the duplicates retries produce. A 2xx answer accepts
// the message (its JSON "id", when present, becomes the provider message id); 4xx other than
// 408 and 429 is permanent; anything else is retried.
func (c *Client) Send(ctx context.Context, m provider.Message) (provider.Result, error) {
	if c.cfg.Secret == "" {
		return provider.Result{}, &provider.Error{Provider: name, Permanent: true, Code: "invalid_config", Text: "no signing secret is configured"}
	}
	for _, a := range m.Attachments {
		if a.URL == "" {
			return provider.Result{}, provider.Invalid(name, "an attachment has no URL the receiver could fetch (stored media needs PUBLIC_BASE_URL)")
		}
	}
	id := m.ID
	if id == "" {
		id = randomID()
	}
	now := c.now().UTC()
	body, err := json.Marshal(Event{Type: EventType, Timestamp: now.Truncate(time.Second), Data: data(id, m)})
	if err != nil {
		return provider.Result{}, provider.Invalid(name, fmt.Sprintf("encode message: %v", err))
	}
	req, err := provider.Request(ctx, name, c.cfg.URL, "application/json", body)
	if err != nil {
		return provider.Result{}, err
	}
	req.Header.Set("User-Agent", "Switchboard-Webhooks/1")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(c.cfg.Secret, id, now, body))
	resp, err := provider.Do(c.http, name, req)
	if err != nil {
		return provider.Result{}, err
	}
	if !resp.OK() {
		e := provider.FromResponse(name, resp, "", snippet(resp.Body))
		e.Permanent = resp.StatusCode >= 400 && resp.StatusCode < 500 &&
			resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests
		return provider.Result{}, e.Redact(c.cfg.Secret)
	}
	var answer struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(resp.Body, &answer) == nil && answer.ID != "" {
		return provider.Result{ProviderMessageID: answer.ID}, nil
	}
	return provider.Result{ProviderMessageID: id}, nil
}

func data(id string, m provider.Message) Data {
	d := Data{ID: id, To: m.To, Type: m.Type, Text: m.Text, Tag: m.Tag}
	if d.Type == "" {
		d.Type = provider.TypeText
	}
	if t := m.Template; t != nil {
		d.Template = &Template{Name: t.Name, Language: t.Language, Variables: t.Variables}
		if d.Template.Variables == nil {
			d.Template.Variables = []string{}
		}
	}
	for _, a := range m.Attachments {
		d.Attachments = append(d.Attachments, Attachment{URL: a.URL, MIMEType: a.MIMEType, Filename: a.Filename, Size: a.Size, MediaID: a.MediaID})
	}
	return d
}

// snippet keeps the start of a receiver's error answer, for the operator.
func snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "msg_" + hex.EncodeToString(b)
}

// Sign returns the webhook-signature value for a body: "v1," + base64 HMAC-SHA256 of
// id + "." + unix seconds + "." + body.
func Sign(secret, id string, ts time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(secret, id, strconv.FormatInt(ts.Unix(), 10), body))
}

// Verify checks the Standard Webhooks headers of a received body: all three headers present,
// the timestamp within tolerance of now (DefaultTolerance when tolerance is 0), and one of the
// space-separated v1 signatures matching, compared in constant time.
func Verify(h http.Header, body []byte, secret string, tolerance time.Duration, now time.Time) error {
	if secret == "" {
		return fmt.Errorf("%w: no secret is configured", provider.ErrSignature)
	}
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return fmt.Errorf("%w: missing %s, %s or %s", provider.ErrSignature, HeaderID, HeaderTimestamp, HeaderSignature)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not Unix seconds", provider.ErrSignature, HeaderTimestamp)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %s is outside the tolerance", provider.ErrSignature, HeaderTimestamp)
	}
	want := mac(secret, id, tsText, body)
	for _, s := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: no %s matches the body", provider.ErrSignature, HeaderSignature)
}

func mac(secret, id, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key(secret))
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return m.Sum(nil)
}

// key decodes a "whsec_" secret; any other secret is used as raw bytes.
func key(secret string) []byte {
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		if b, err := base64.StdEncoding.DecodeString(rest); err == nil {
			return b
		}
	}
	return []byte(secret)
}

// Limits are a custom channel's: up to 10 files of any type, each posted as its URL (a signed
// link to stored media, which the receiver fetches) and media id.
var Limits = provider.Limits{
	Name:     "A custom channel",
	Kinds:    []provider.KindLimit{{Kind: provider.KindDocument}},
	MaxFiles: 10,
	NeedsURL: true,
}
