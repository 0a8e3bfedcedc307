package viber

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
)

type callback struct {
	Event        string      `json:"event"`
	Timestamp    int64       `json:"timestamp"`
	MessageToken provider.ID `json:"message_token"`
	UserID       string      `json:"user_id"`
	Desc         string      `json:"desc"`
	Sender       struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"sender"`
	Message struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		Media    string `json:"media"`
		FileName string `json:"file_name"`
		Size     int64  `json:"size"`
	} `json:"message"`
}

// receiptEvents maps Viber's callback events to delivery statuses.
var receiptEvents = map[string]string{
	"delivered": provider.StatusDelivered,
	"seen":      provider.StatusRead,
	"failed":    provider.StatusFailed,
}

// Parse reads one callback: "message" becomes an Inbound, "delivered", "seen" and "failed"
// become Receipts. Other events (subscribed, conversation_started, webhook, ...) carry nothing
// to store.
func Parse(body []byte) (provider.Event, error) {
	var cb callback
	if err := json.Unmarshal(body, &cb); err != nil {
		return provider.Event{}, fmt.Errorf("viber callback: %w: %w", provider.ErrMalformed, err)
	}
	if cb.Event == "" {
		return provider.Event{}, fmt.Errorf("viber callback: %w: no event", provider.ErrMalformed)
	}
	at := time.Time{}
	if cb.Timestamp > 0 {
		at = time.UnixMilli(cb.Timestamp).UTC()
	}
	if status, ok := receiptEvents[cb.Event]; ok {
		r := provider.Receipt{ProviderMessageID: string(cb.MessageToken), Recipient: cb.UserID, Status: status, At: at}
		if status == provider.StatusFailed {
			r.ErrorText = cb.Desc
		}
		return provider.Event{Receipts: []provider.Receipt{r}}, nil
	}
	if cb.Event != "message" {
		return provider.Event{}, nil
	}
	in := provider.Inbound{
		ExternalID:  string(cb.MessageToken),
		From:        cb.Sender.ID,
		ContactName: cb.Sender.Name,
		Text:        cb.Message.Text,
		ReceivedAt:  at,
	}
	if cb.Message.Media != "" && cb.Message.Type != "url" {
		// A picture, video, file or sticker: media is a URL on Viber's servers, fetched into
		// the media store.
		in.Attachments = []provider.Attachment{{URL: cb.Message.Media, Filename: cb.Message.FileName, Size: max(cb.Message.Size, 0)}}
	} else if cb.Message.Type == "url" && in.Text == "" {
		in.Text = cb.Message.Media
	}
	return provider.Event{Inbound: []provider.Inbound{in}}, nil
}
