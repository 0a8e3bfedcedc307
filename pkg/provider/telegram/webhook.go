package telegram

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
)

// SecretHeader carries the secret_token given to setWebhook.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// Verify checks that X-Telegram-Bot-Api-Secret-Token equals the secret token, in constant
// time. Telegram does not sign bodies, so body is not used; it is there so every provider's
// Verify reads alike.
func Verify(h http.Header, _ []byte, secretToken string) error {
	if secretToken == "" {
		return fmt.Errorf("%w: no secret token is configured", provider.ErrSignature)
	}
	got := h.Get(SecretHeader)
	if got == "" {
		return fmt.Errorf("%w: missing %s", provider.ErrSignature, SecretHeader)
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(secretToken)) != 1 {
		return fmt.Errorf("%w: %s does not match", provider.ErrSignature, SecretHeader)
	}
	return nil
}

type file struct {
	FileID   string `json:"file_id"`
	FileName string `json:"file_name"`
	MIMEType string `json:"mime_type"`
}

type update struct {
	UpdateID provider.ID `json:"update_id"`
	Message  *struct {
		MessageID provider.ID `json:"message_id"`
		From      *struct {
			ID        provider.ID `json:"id"`
			FirstName string      `json:"first_name"`
			LastName  string      `json:"last_name"`
		} `json:"from"`
		Chat struct {
			ID provider.ID `json:"id"`
		} `json:"chat"`
		Date     int64  `json:"date"`
		Text     string `json:"text"`
		Caption  string `json:"caption"`
		Photo    []file `json:"photo"`
		Document *file  `json:"document"`
		Video    *file  `json:"video"`
		Audio    *file  `json:"audio"`
		Voice    *file  `json:"voice"`
		Sticker  *file  `json:"sticker"`
	} `json:"message"`
}

// Parse reads one Update. A new message becomes an Inbound whose From is the chat id (what Send
// takes) and whose ExternalID is "<chat id>:<message id>", because message ids are only unique
// within a chat. Other updates (edits, channel posts, callbacks) carry nothing to ingest.
// Telegram reports no delivery receipts.
// Service messages without text or media are skipped.
func Parse(body []byte) (provider.Event, error) {
	var u update
	if err := json.Unmarshal(body, &u); err != nil {
		return provider.Event{}, fmt.Errorf("telegram webhook: %w: %w", provider.ErrMalformed, err)
	}
	if u.UpdateID == "" {
		return provider.Event{}, fmt.Errorf("telegram webhook: %w: no update_id", provider.ErrMalformed)
	}
	msg := u.Message
	if msg == nil {
		return provider.Event{}, nil
	}
	in := provider.Inbound{
		ExternalID: string(msg.Chat.ID) + ":" + string(msg.MessageID),
		From:       string(msg.Chat.ID),
		Text:       msg.Text,
	}
	if msg.Date > 0 {
		in.ReceivedAt = time.Unix(msg.Date, 0).UTC()
	}
	if msg.From != nil {
		in.ContactName = strings.TrimSpace(msg.From.FirstName + " " + msg.From.LastName)
	}
	var f *file
	switch {
	case len(msg.Photo) > 0:
		largest := msg.Photo[len(msg.Photo)-1] // sizes come smallest first
		largest.MIMEType = "image/jpeg"
		f = &largest
	case msg.Document != nil:
		f = msg.Document
	case msg.Video != nil:
		f = msg.Video
	case msg.Audio != nil:
		f = msg.Audio
	case msg.Voice != nil:
		f = msg.Voice
	case msg.Sticker != nil:
		// A sticker is a WebP image, or an animated (TGS) or video (WebM) one; the type is
		// sniffed from the bytes once fetched.
		f = msg.Sticker
	}
	if f != nil && f.FileID != "" {
		// The file id is fetched with getFile (Client.File); the caption is the text.
		in.Text = msg.Caption
		in.Attachments = []provider.Attachment{{ID: f.FileID, MIMEType: f.MIMEType, Filename: f.FileName}}
	}
	if in.Text == "" && len(in.Attachments) == 0 {
		return provider.Event{}, nil // service messages (members joined, pinned, ...) carry nothing to show
	}
	return provider.Event{Inbound: []provider.Inbound{in}}, nil
}
