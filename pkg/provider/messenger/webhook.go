package messenger

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
	"github.com/switchboard/switchboard/pkg/provider/meta"
)

// Verify checks the X-Hub-Signature-256 of a webhook body with the app secret.
func Verify(h http.Header, body []byte, appSecret string) error {
	return meta.VerifySignature(h, body, appSecret)
}

// Handshake answers the GET verification request; see meta.Handshake.
func Handshake(query url.Values, verifyToken string) (string, error) {
	return meta.Handshake(query, verifyToken)
}

type webhook struct {
	Object string `json:"object"`
	Entry  []struct {
		ID        string `json:"id"`
		Messaging []struct {
			Sender    recipient `json:"sender"`
			Recipient recipient `json:"recipient"`
			Timestamp int64     `json:"timestamp"`
			Message   *struct {
				MID         string `json:"mid"`
				Text        string `json:"text"`
				IsEcho      bool   `json:"is_echo"`
				Attachments []struct {
					Type    string `json:"type"`
					Payload struct {
						URL string `json:"url"`
					} `json:"payload"`
				} `json:"attachments"`
			} `json:"message"`
			Delivery *struct {
				MIDs      []string `json:"mids"`
				Watermark int64    `json:"watermark"`
			} `json:"delivery"`
			Read *struct {
				MID       string `json:"mid"`
				Watermark int64  `json:"watermark"`
			} `json:"read"`
		} `json:"messaging"`
	} `json:"entry"`
}

// mediaTypes are the attachment types whose payload.url is a file (Messenger's image, video,
// audio and file, stickers included; Instagram's story mentions and reels). Those URLs are on
// Meta's CDN and expire, so the receiver copies them into the media store.
var mediaTypes = map[string]bool{"image": true, "video": true, "audio": true, "file": true,
	"story_mention": true, "ig_reel": true, "reel": true}

// Parse reads a Messenger (object "page") or Instagram (object "instagram") webhook: messages
// from people become Inbound with their media attachments, several per message (echoes of our
// own sends are skipped), deliveries and reads
// become Receipts. A delivery without mids, or a Messenger read (watermark only), becomes a
// receipt without ProviderMessageID covering every message to that person up to the watermark.
func Parse(body []byte) (provider.Event, error) {
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return provider.Event{}, fmt.Errorf("messenger webhook: %w: %w", provider.ErrMalformed, err)
	}
	if w.Object != "page" && w.Object != "instagram" {
		return provider.Event{}, fmt.Errorf("messenger webhook: %w: object %q", provider.ErrMalformed, w.Object)
	}
	var ev provider.Event
	for _, e := range w.Entry {
		for _, m := range e.Messaging {
			switch {
			case m.Message != nil:
				if m.Message.IsEcho {
					continue
				}
				in := provider.Inbound{
					ExternalID: m.Message.MID,
					From:       m.Sender.ID,
					Text:       m.Message.Text,
					ReceivedAt: millis(m.Timestamp),
				}
				var links []string
				for _, a := range m.Message.Attachments {
					switch {
					case a.Payload.URL == "":
						// a location or a template: nothing to fetch or show
					case mediaTypes[a.Type]:
						if len(in.Attachments) < provider.MaxAttachments {
							in.Attachments = append(in.Attachments, provider.Attachment{URL: a.Payload.URL})
						}
					default:
						// A shared link (fallback, share) is a web page, not a file: shown as a link.
						links = append(links, a.Payload.URL)
					}
				}
				if in.Text == "" && len(in.Attachments) == 0 {
					in.Text = strings.Join(links, "\n")
				}
				if in.Text == "" && len(in.Attachments) == 0 {
					continue // deleted, unsupported or reaction-only messages carry nothing to show
				}
				ev.Inbound = append(ev.Inbound, in)
			case m.Delivery != nil:
				at := millis(m.Delivery.Watermark)
				if len(m.Delivery.MIDs) == 0 {
					ev.Receipts = append(ev.Receipts, provider.Receipt{Recipient: m.Sender.ID, Status: provider.StatusDelivered, At: at})
				}
				for _, mid := range m.Delivery.MIDs {
					ev.Receipts = append(ev.Receipts, provider.Receipt{ProviderMessageID: mid, Recipient: m.Sender.ID, Status: provider.StatusDelivered, At: at})
				}
			case m.Read != nil:
				at := millis(m.Read.Watermark)
				if at.IsZero() {
					at = millis(m.Timestamp)
				}
				ev.Receipts = append(ev.Receipts, provider.Receipt{ProviderMessageID: m.Read.MID, Recipient: m.Sender.ID, Status: provider.StatusRead, At: at})
			}
		}
	}
	return ev, nil
}

func millis(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
