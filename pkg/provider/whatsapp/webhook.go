package whatsapp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
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

type mediaPayload struct {
	ID       string `json:"id"`
	MIMEType string `json:"mime_type"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
}

type webhook struct {
	Object string `json:"object"`
	Entry  []struct {
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				Contacts []struct {
					WaID    string `json:"wa_id"`
					Profile struct {
						Name string `json:"name"`
					} `json:"profile"`
				} `json:"contacts"`
				Messages []struct {
					From      string `json:"from"`
					ID        string `json:"id"`
					Timestamp string `json:"timestamp"`
					Type      string `json:"type"`
					Text      struct {
						Body string `json:"body"`
					} `json:"text"`
					Image    *mediaPayload `json:"image"`
					Video    *mediaPayload `json:"video"`
					Audio    *mediaPayload `json:"audio"`
					Document *mediaPayload `json:"document"`
					Sticker  *mediaPayload `json:"sticker"`
					Button   struct {
						Text string `json:"text"`
					} `json:"button"`
					Interactive struct {
						ButtonReply struct {
							Title string `json:"title"`
						} `json:"button_reply"`
						ListReply struct {
							Title string `json:"title"`
						} `json:"list_reply"`
					} `json:"interactive"`
				} `json:"messages"`
				Statuses []struct {
					ID          string `json:"id"`
					Status      string `json:"status"`
					Timestamp   string `json:"timestamp"`
					RecipientID string `json:"recipient_id"`
					Errors      []struct {
						Code      int    `json:"code"`
						Title     string `json:"title"`
						Message   string `json:"message"`
						ErrorData struct {
							Details string `json:"details"`
						} `json:"error_data"`
					} `json:"errors"`
				} `json:"statuses"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// Parse reads a messages webhook: customers' messages become Inbound (text, captions, button
// and list replies, an image, video, audio, document or sticker by media id with its type and
// file name; other kinds such as a location as "[location]", since they
// restart the 24-hour window too), statuses become Receipts. Reactions, system messages, other
// fields and unknown statuses are ignored.
func Parse(body []byte) (provider.Event, error) {
	var w webhook
	if err := json.Unmarshal(body, &w); err != nil {
		return provider.Event{}, fmt.Errorf("whatsapp webhook: %w: %w", provider.ErrMalformed, err)
	}
	if w.Object != "whatsapp_business_account" {
		return provider.Event{}, fmt.Errorf("whatsapp webhook: %w: object %q", provider.ErrMalformed, w.Object)
	}
	var ev provider.Event
	for _, e := range w.Entry {
		for _, ch := range e.Changes {
			v := ch.Value
			names := make(map[string]string, len(v.Contacts))
			for _, c := range v.Contacts {
				names[c.WaID] = c.Profile.Name
			}
			for _, msg := range v.Messages {
				in := provider.Inbound{
					ExternalID:  msg.ID,
					From:        e164(msg.From),
					ContactName: names[msg.From],
					ReceivedAt:  unix(msg.Timestamp),
				}
				switch msg.Type {
				case "text":
					in.Text = msg.Text.Body
				case "button":
					in.Text = msg.Button.Text
				case "interactive":
					in.Text = msg.Interactive.ButtonReply.Title + msg.Interactive.ListReply.Title
				case "reaction", "system":
					continue // a reaction or a number change is not a message to answer
				default:
					if md := firstMedia(msg.Image, msg.Video, msg.Audio, msg.Document, msg.Sticker); md != nil && md.ID != "" {
						// The media id is fetched through the Graph API (Client.Media); the caption
						// is the message's text.
						in.Text = md.Caption
						in.Attachments = []provider.Attachment{{ID: md.ID, MIMEType: md.MIMEType, Filename: md.Filename}}
					} else {
						// location, contacts, order, unsupported: still a customer message that
						// restarts the 24-hour window, shown by its type.
						in.Text = "[" + msg.Type + "]"
					}
				}
				ev.Inbound = append(ev.Inbound, in)
			}
			for _, st := range v.Statuses {
				status, ok := statuses[st.Status]
				if !ok {
					continue
				}
				r := provider.Receipt{
					ProviderMessageID: st.ID,
					Recipient:         e164(st.RecipientID),
					Status:            status,
					At:                unix(st.Timestamp),
				}
				if len(st.Errors) > 0 {
					e := st.Errors[0]
					r.ErrorCode = strconv.Itoa(e.Code)
					r.ErrorText = strings.TrimSpace(firstNonEmpty(e.Message, e.Title) + detailSuffix(e.ErrorData.Details))
				}
				ev.Receipts = append(ev.Receipts, r)
			}
		}
	}
	return ev, nil
}

// statuses maps the Cloud API statuses to ours; "played" (voice messages) implies read.
var statuses = map[string]string{
	"sent":      provider.StatusSent,
	"delivered": provider.StatusDelivered,
	"read":      provider.StatusRead,
	"played":    provider.StatusRead,
	"failed":    provider.StatusFailed,
}

// e164 turns a wa_id (the number's digits) back into the E.164 form channel identities use.
func e164(waID string) string {
	if waID == "" {
		return ""
	}
	return "+" + waID
}

func firstMedia(ms ...*mediaPayload) *mediaPayload {
	for _, m := range ms {
		if m != nil {
			return m
		}
	}
	return nil
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func detailSuffix(details string) string {
	if details == "" {
		return ""
	}
	return ": " + details
}

func unix(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}
