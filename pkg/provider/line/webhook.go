package line

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
)

// SignatureHeader carries base64 HMAC-SHA256(channel secret, raw body).
const SignatureHeader = "X-Line-Signature"

// Verify checks X-Line-Signature against the raw body, in constant time.
func Verify(h http.Header, body []byte, channelSecret string) error {
	if channelSecret == "" {
		return fmt.Errorf("%w: no channel secret is configured", provider.ErrSignature)
	}
	got := h.Get(SignatureHeader)
	if got == "" {
		return fmt.Errorf("%w: missing %s", provider.ErrSignature, SignatureHeader)
	}
	sig, err := base64.StdEncoding.DecodeString(got)
	if err != nil {
		return fmt.Errorf("%w: %s is not base64", provider.ErrSignature, SignatureHeader)
	}
	if !hmac.Equal(sig, mac(body, channelSecret)) {
		return fmt.Errorf("%w: %s does not match the body", provider.ErrSignature, SignatureHeader)
	}
	return nil
}

// Sign returns the X-Line-Signature LINE would send for body.
func Sign(body []byte, channelSecret string) string {
	return base64.StdEncoding.EncodeToString(mac(body, channelSecret))
}

func mac(body []byte, key string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return m.Sum(nil)
}

type webhook struct {
	Destination string `json:"destination"`
	Events      []struct {
		Type      string `json:"type"`
		Timestamp int64  `json:"timestamp"`
		Source    struct {
			Type    string `json:"type"`
			UserID  string `json:"userId"`
			GroupID string `json:"groupId"`
			RoomID  string `json:"roomId"`
		} `json:"source"`
		Message struct {
			ID              string `json:"id"`
			Type            string `json:"type"`
			Text            string `json:"text"`
			FileName        string `json:"fileName"`
			ContentProvider struct {
				Type               string `json:"type"`
				OriginalContentURL string `json:"originalContentUrl"`
			} `json:"contentProvider"`
		} `json:"message"`
	} `json:"events"`
}

// Parse reads a webhook: message events become Inbound, from the user (or the group or room
// the message was posted in, which is what a push goes to). Media arrives by message id unless
// the sender's app gave an external URL. LINE sends no receipts for push messages; the empty
// events list of the console's verification request parses to an empty Event.
func Parse(body []byte) (provider.Event, error) {
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return provider.Event{}, fmt.Errorf("line webhook: %w: %w", provider.ErrMalformed, err)
	}
	if w.Events == nil {
		return provider.Event{}, fmt.Errorf("line webhook: %w: no events", provider.ErrMalformed)
	}
	var ev provider.Event
	for _, e := range w.Events {
		if e.Type != "message" || e.Message.ID == "" {
			continue
		}
		from := e.Source.UserID
		switch e.Source.Type {
		case "group":
			from = e.Source.GroupID
		case "room":
			from = e.Source.RoomID
		}
		in := provider.Inbound{ExternalID: e.Message.ID, From: from}
		if e.Timestamp > 0 {
			in.ReceivedAt = time.UnixMilli(e.Timestamp).UTC()
		}
		switch e.Message.Type {
		case "text":
			in.Text = e.Message.Text
		case "image", "video", "audio", "file":
			// The content is fetched by message id (Client.Content), unless the sender's app
			// keeps it elsewhere (contentProvider external): then by its URL.
			a := provider.Attachment{ID: e.Message.ID, Filename: e.Message.FileName}
			if cp := e.Message.ContentProvider; cp.Type == "external" && cp.OriginalContentURL != "" {
				a.ID, a.URL = "", cp.OriginalContentURL
			}
			in.Attachments = []provider.Attachment{a}
		default:
			continue // stickers, locations: nothing to show as text
		}
		ev.Inbound = append(ev.Inbound, in)
	}
	return ev, nil
}
