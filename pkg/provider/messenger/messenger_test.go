package messenger_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
	"github.com/switchboard/switchboard/pkg/provider/messenger"
	"github.com/switchboard/switchboard/pkg/provider/meta"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
)

const (
	pageToken   = "EAAB-page-access-token"
	appSecret   = "messenger-app-secret"
	verifyToken = "messenger-verify"
)

func client(srv *pt.Server) *messenger.Client {
	return messenger.New(messenger.Config{
		PageID: "1234567890", PageAccessToken: pageToken, AppSecret: appSecret, VerifyToken: verifyToken,
		APIBase: srv.URL + "/v25.0",
	}, nil)
}

func TestSendRequest(t *testing.T) {
	tests := []struct {
		name string
		msg  provider.Message
		want string
	}{
		{"response inside the window",
			provider.Message{To: "6543210987654321", Text: "hello, world"},
			`{"recipient":{"id":"6543210987654321"},"messaging_type":"RESPONSE","message":{"text":"hello, world"}}`},
		{"human agent tag after 24 hours",
			provider.Message{To: "6543210987654321", Type: "text", Text: "Following up", Tag: "HUMAN_AGENT"},
			`{"recipient":{"id":"6543210987654321"},"messaging_type":"MESSAGE_TAG","tag":"HUMAN_AGENT","message":{"text":"Following up"}}`},
		{"image attachment",
			provider.Message{To: "6543210987654321", Type: "attachment", Attachments: []provider.Attachment{{URL: "https://cdn.example.com/a.png", MIMEType: "image/png"}}},
			`{"recipient":{"id":"6543210987654321"},"messaging_type":"RESPONSE","message":{"attachment":{"type":"image","payload":{"url":"https://cdn.example.com/a.png","is_reusable":true}}}}`},
		{"pdf goes as file",
			provider.Message{To: "6543210987654321", Type: "attachment", Attachments: []provider.Attachment{{URL: "https://cdn.example.com/a.pdf", MIMEType: "application/pdf"}}},
			`{"recipient":{"id":"6543210987654321"},"messaging_type":"RESPONSE","message":{"attachment":{"type":"file","payload":{"url":"https://cdn.example.com/a.pdf","is_reusable":true}}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, pt.Reply{Body: `{"recipient_id":"6543210987654321","message_id":"m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"}`})
			res, err := client(srv).Send(context.Background(), tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			pt.Equal(t, "ProviderMessageID", res.ProviderMessageID, "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P")
			r := srv.Only(t)
			pt.Equal(t, "method", r.Method, http.MethodPost)
			pt.Equal(t, "path", r.Path, "/v25.0/1234567890/messages")
			pt.Equal(t, "query (the token stays out of the URL)", r.RawQuery, "")
			pt.Equal(t, "Authorization", r.Header.Get("Authorization"), "Bearer "+pageToken)
			pt.Equal(t, "Content-Type", r.Header.Get("Content-Type"), "application/json")
			pt.JSONEqual(t, r.Body, tc.want)
		})
	}
}

func TestSendErrors(t *testing.T) {
	graph := func(code, sub int, msg string) string {
		return `{"error":{"message":"` + msg + `","type":"OAuthException","code":` + strconv.Itoa(code) + `,"error_subcode":` + strconv.Itoa(sub) + `,"fbtrace_id":"BLBz/WZt8dN"}}`
	}
	tests := []struct {
		name       string
		reply      pt.Reply
		permanent  bool
		code       string
		retryAfter time.Duration
	}{
		{"outside the allowed window", pt.Reply{Status: 400, Body: graph(10, 2018278, "(#10) This message is sent outside of allowed window.")}, true, "10", 0},
		{"person unavailable", pt.Reply{Status: 400, Body: graph(551, 1545041, "This person isn't available right now.")}, true, "551", 0},
		{"no matching user", pt.Reply{Status: 400, Body: graph(100, 2018001, "No matching user found")}, true, "100", 0},
		{"temporary send failure is transient despite 400", pt.Reply{Status: 400, Body: graph(1200, 0, "Temporary send message failure. Please try again later.")}, false, "1200", 0},
		{"rate limit 613", pt.Reply{Status: 400, Body: graph(613, 0, "Calls to this API have exceeded the rate limit.")}, false, "613", 0},
		{"429 with Retry-After", pt.Reply{Status: 429, Header: map[string]string{"Retry-After": "12"}, Body: graph(4, 0, "Application request limit reached")}, false, "4", 12 * time.Second},
		{"bare 500", pt.Reply{Status: 500, Body: ``}, false, "500", 0},
		{"invalid token", pt.Reply{Status: 400, Body: graph(190, 0, "Invalid OAuth access token - Cannot parse access token")}, true, "190", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, tc.reply)
			res, err := client(srv).Send(context.Background(), provider.Message{To: "6543210987654321", Text: "hi"})
			var e *provider.Error
			if !errors.As(err, &e) {
				t.Fatalf("want *provider.Error, got %v", err)
			}
			pt.Equal(t, "Permanent", e.Permanent, tc.permanent)
			pt.Equal(t, "Code", e.Code, tc.code)
			pt.Equal(t, "RetryAfter", e.RetryAfter, tc.retryAfter)
			pt.NoSecret(t, err, res, pageToken, appSecret, verifyToken)
		})
	}
}

func TestSendRejectsTemplates(t *testing.T) {
	srv := pt.NewServer(t)
	_, err := client(srv).Send(context.Background(), provider.Message{To: "1", Type: "template", Template: &provider.Template{Name: "x", Language: "en"}})
	if !provider.IsPermanent(err) || len(srv.Requests()) != 0 {
		t.Fatalf("want a permanent error and no request, got %v", err)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(pageWebhook)
	tests := []struct {
		name   string
		header string
		body   []byte
		ok     bool
	}{
		{"signed", meta.Sign(body, appSecret), body, true},
		{"tampered body", meta.Sign(body, appSecret), []byte(strings.Replace(pageWebhook, "hello", "HELLO", 1)), false},
		{"wrong secret", meta.Sign(body, "x"), body, false},
		{"missing header", "", body, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("X-Hub-Signature-256", tc.header)
			}
			err := messenger.Verify(h, tc.body, appSecret)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, provider.ErrSignature)) {
				t.Fatalf("Verify = %v", err)
			}
		})
	}
	if _, err := messenger.Handshake(url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {verifyToken}, "hub.challenge": {"42"}}, verifyToken); err != nil {
		t.Fatal(err)
	}
}

// Shapes from the Messenger webhook event references.
const pageWebhook = `{
  "object": "page",
  "entry": [{
    "id": "1234567890", "time": 1458692752478,
    "messaging": [
      {"sender": {"id": "6543210987654321"}, "recipient": {"id": "1234567890"}, "timestamp": 1458692752478,
       "message": {"mid": "m_1457764197618:41d102a3e1ae206a38", "text": "hello, world!"}},
      {"sender": {"id": "1234567890"}, "recipient": {"id": "6543210987654321"}, "timestamp": 1458692752500,
       "message": {"mid": "m_echo", "is_echo": true, "app_id": 1517776481860111, "text": "our own reply"}},
      {"sender": {"id": "6543210987654321"}, "recipient": {"id": "1234567890"}, "timestamp": 1458692752600,
       "message": {"mid": "m_img", "attachments": [{"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/photo.jpg"}},
                   {"type": "file", "payload": {"url": "https://cdn.fbsbx.com/v/t59/invoice.pdf"}},
                   {"type": "location", "payload": {"coordinates": {"lat": 1, "long": 2}}}]}},
      {"sender": {"id": "6543210987654321"}, "recipient": {"id": "1234567890"}, "timestamp": 1458692752700,
       "message": {"mid": "m_link", "attachments": [{"type": "fallback", "title": "A page", "payload": {"url": "https://example.com/page"}}]}},
      {"sender": {"id": "6543210987654321"}, "recipient": {"id": "1234567890"},
       "delivery": {"mids": ["mid.1458668856218:ed81099e15d3f4f233"], "watermark": 1458668856253}},
      {"sender": {"id": "6543210987654321"}, "recipient": {"id": "1234567890"},
       "delivery": {"watermark": 1458668856300}},
      {"sender": {"id": "6543210987654321"}, "recipient": {"id": "1234567890"}, "timestamp": 1458668856463,
       "read": {"watermark": 1458668856253}}
    ]
  }]
}`

const instagramWebhook = `{
  "object": "instagram",
  "entry": [{
    "id": "17841400000000000", "time": 1569262486134,
    "messaging": [
      {"sender": {"id": "IGSID-1"}, "recipient": {"id": "17841400000000000"}, "timestamp": 1569262485349,
       "message": {"mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx", "text": "is this still available?"}},
      {"sender": {"id": "IGSID-1"}, "recipient": {"id": "17841400000000000"}, "timestamp": 1569262486000,
       "read": {"mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQy"}}
    ]
  }]
}`

func TestParse(t *testing.T) {
	t.Run("messenger", func(t *testing.T) {
		ev, err := messenger.Parse([]byte(pageWebhook))
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Inbound) != 3 {
			t.Fatalf("want 3 inbound (echo skipped), got %+v", ev.Inbound)
		}
		pt.DeepEqual(t, "inbound", ev.Inbound[0], provider.Inbound{ExternalID: "m_1457764197618:41d102a3e1ae206a38", From: "6543210987654321",
			Text: "hello, world!", ReceivedAt: time.UnixMilli(1458692752478).UTC()})
		pt.DeepEqual(t, "both files of one message, the location left out", ev.Inbound[1].Attachments, []provider.Attachment{
			{URL: "https://scontent.xx.fbcdn.net/v/photo.jpg"}, {URL: "https://cdn.fbsbx.com/v/t59/invoice.pdf"}})
		pt.DeepEqual(t, "a shared link is text, not a file", ev.Inbound[2], provider.Inbound{ExternalID: "m_link",
			From: "6543210987654321", Text: "https://example.com/page", ReceivedAt: time.UnixMilli(1458692752700).UTC()})
		want := []provider.Receipt{
			{ProviderMessageID: "mid.1458668856218:ed81099e15d3f4f233", Recipient: "6543210987654321", Status: "delivered", At: time.UnixMilli(1458668856253).UTC()},
			{Recipient: "6543210987654321", Status: "delivered", At: time.UnixMilli(1458668856300).UTC()},
			{Recipient: "6543210987654321", Status: "read", At: time.UnixMilli(1458668856253).UTC()},
		}
		if len(ev.Receipts) != len(want) {
			t.Fatalf("receipts = %+v", ev.Receipts)
		}
		for i := range want {
			pt.Equal(t, "receipt", ev.Receipts[i], want[i])
		}
	})
	t.Run("instagram", func(t *testing.T) {
		ev, err := messenger.Parse([]byte(instagramWebhook))
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Inbound) != 1 || ev.Inbound[0].Text != "is this still available?" || ev.Inbound[0].From != "IGSID-1" {
			t.Fatalf("inbound = %+v", ev.Inbound)
		}
		pt.Equal(t, "seen receipt", ev.Receipts[0], provider.Receipt{ProviderMessageID: "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQy",
			Recipient: "IGSID-1", Status: "read", At: time.UnixMilli(1569262486000).UTC()})
	})
	t.Run("malformed", func(t *testing.T) {
		for _, body := range []string{`[]`, `{"object":"whatsapp_business_account"}`} {
			if _, err := messenger.Parse([]byte(body)); !errors.Is(err, provider.ErrMalformed) {
				t.Errorf("Parse(%s) = %v", body, err)
			}
		}
	})
}

// TestSendStoredMedia: stored media goes with the send as multipart/form-data: recipient and
// message as JSON fields (the attachment's type, no URL) and the file's exact bytes as filedata.
func TestSendStoredMedia(t *testing.T) {
	srv := pt.NewServer(t, pt.Reply{Body: `{"recipient_id":"6543210987654321","message_id":"m_up"}`})
	res, err := client(srv).Send(context.Background(), provider.Message{To: "6543210987654321", Type: "attachment", Tag: "HUMAN_AGENT",
		Text:        "not sent: Messenger attachments have no caption",
		Attachments: []provider.Attachment{pt.Stored("application/pdf", "invoice.pdf", []byte("%PDF-1.7 invoice"), "")}})
	if err != nil {
		t.Fatal(err)
	}
	pt.Equal(t, "ProviderMessageID", res.ProviderMessageID, "m_up")
	r := srv.Only(t)
	pt.Equal(t, "path", r.Path, "/v25.0/1234567890/messages")
	pt.Equal(t, "Authorization", r.Header.Get("Authorization"), "Bearer "+pageToken)
	form := r.Form(t)
	pt.JSONEqual(t, []byte(form["recipient"].Data), `{"id":"6543210987654321"}`)
	pt.Equal(t, "messaging_type", form["messaging_type"].Data, "MESSAGE_TAG")
	pt.Equal(t, "tag", form["tag"].Data, "HUMAN_AGENT")
	pt.JSONEqual(t, []byte(form["message"].Data), `{"attachment":{"type":"file","payload":{"is_reusable":true}}}`)
	pt.Equal(t, "filedata", form["filedata"], pt.FormPart{Filename: "invoice.pdf", ContentType: "application/pdf", Data: "%PDF-1.7 invoice"})
}
