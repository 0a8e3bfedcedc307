package whatsapp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
	"github.com/switchboard/switchboard/pkg/provider/meta"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/whatsapp"
)

const (
	accessToken = "EAAG-access-token-secret"
	appSecret   = "app-secret-0f9e"
	verifyToken = "verify-token-77"
)

const okReply = `{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"}]}`

func client(srv *pt.Server) *whatsapp.Client {
	return whatsapp.New(whatsapp.Config{
		PhoneNumberID: "106540352242922",
		AccessToken:   accessToken,
		AppSecret:     appSecret,
		VerifyToken:   verifyToken,
		APIBase:       srv.URL + "/v25.0",
	}, nil)
}

func TestSendRequest(t *testing.T) {
	tests := []struct {
		name string
		msg  provider.Message
		want string
	}{
		{
			name: "text",
			msg:  provider.Message{ID: "0192f0c1-0000-7000-8000-000000000001", To: "+1 650-555-1234", Type: "text", Text: "Your order shipped."},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"text","text":{"body":"Your order shipped.","preview_url":false}}`,
		},
		{
			name: "text with a link asks for a preview",
			msg:  provider.Message{To: "+16505551234", Text: "Track it at https://example.com/t/1"},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"text","text":{"body":"Track it at https://example.com/t/1","preview_url":true}}`,
		},
		{
			name: "template with body variables",
			msg: provider.Message{To: "+16505551234", Type: "template", Template: &provider.Template{
				Name: "order_update", Language: "en_US", Variables: []string{"Sheena", "#12345"}}},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"template",
				"template":{"name":"order_update","language":{"code":"en_US"},
				"components":[{"type":"body","parameters":[{"type":"text","text":"Sheena"},{"type":"text","text":"#12345"}]}]}}`,
		},
		{
			name: "template without variables has no components",
			msg:  provider.Message{To: "+16505551234", Type: "template", Template: &provider.Template{Name: "hello_world", Language: "en_US"}},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"template","template":{"name":"hello_world","language":{"code":"en_US"}}}`,
		},
		{
			name: "image by link with caption",
			msg: provider.Message{To: "+16505551234", Type: "attachment", Text: "The red one",
				Attachments: []provider.Attachment{{URL: "https://cdn.example.com/red.jpg", MIMEType: "image/jpeg"}}},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"image","image":{"link":"https://cdn.example.com/red.jpg","caption":"The red one"}}`,
		},
		{
			name: "pdf as document with filename",
			msg: provider.Message{To: "+16505551234", Type: "attachment",
				Attachments: []provider.Attachment{{URL: "https://cdn.example.com/inv.pdf", MIMEType: "application/pdf", Filename: "invoice.pdf"}}},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"document","document":{"link":"https://cdn.example.com/inv.pdf","filename":"invoice.pdf"}}`,
		},
		{
			name: "audio takes no caption",
			msg: provider.Message{To: "+16505551234", Type: "attachment", Text: "listen",
				Attachments: []provider.Attachment{{URL: "https://cdn.example.com/a.ogg", MIMEType: "audio/ogg"}}},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"audio","audio":{"link":"https://cdn.example.com/a.ogg"}}`,
		},
		{
			name: "video",
			msg: provider.Message{To: "+16505551234", Type: "attachment", Text: "demo",
				Attachments: []provider.Attachment{{URL: "https://cdn.example.com/v.mp4", MIMEType: "video/mp4"}}},
			want: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"video","video":{"link":"https://cdn.example.com/v.mp4","caption":"demo"}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, pt.Reply{Status: 200, Body: okReply})
			res, err := client(srv).Send(context.Background(), tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			pt.Equal(t, "ProviderMessageID", res.ProviderMessageID, "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA")
			r := srv.Only(t)
			pt.Equal(t, "method", r.Method, http.MethodPost)
			pt.Equal(t, "path", r.Path, "/v25.0/106540352242922/messages")
			pt.Equal(t, "query", r.RawQuery, "")
			pt.Equal(t, "Authorization", r.Header.Get("Authorization"), "Bearer "+accessToken)
			pt.Equal(t, "Content-Type", r.Header.Get("Content-Type"), "application/json")
			pt.JSONEqual(t, r.Body, tc.want)
		})
	}
}

func TestSendErrors(t *testing.T) {
	graph := func(code int, msg string) string {
		return `{"error":{"message":"(#` + strconv.Itoa(code) + `) ` + msg + `","type":"OAuthException","code":` + strconv.Itoa(code) +
			`,"error_data":{"messaging_product":"whatsapp","details":"` + msg + ` details"},"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}`
	}
	tests := []struct {
		name       string
		reply      pt.Reply
		permanent  bool
		code       string
		retryAfter time.Duration
	}{
		{"re-engagement 131047 is permanent", pt.Reply{Status: 400, Body: graph(131047, "Re-engagement message")}, true, "131047", 0},
		{"undeliverable 131026 is permanent", pt.Reply{Status: 400, Body: graph(131026, "Message Undeliverable")}, true, "131026", 0},
		{"template does not exist 132001 is permanent", pt.Reply{Status: 404, Body: graph(132001, "Template name does not exist in the translation")}, true, "132001", 0},
		{"template paused 132015 is permanent even on 5xx", pt.Reply{Status: 500, Body: graph(132015, "Template is Paused")}, true, "132015", 0},
		{"throughput 130429 is transient despite 400", pt.Reply{Status: 400, Body: graph(130429, "Rate limit hit")}, false, "130429", 0},
		{"pair rate limit 131056 is transient", pt.Reply{Status: 400, Body: graph(131056, "(Business Account, Consumer Account) pair rate limit hit")}, false, "131056", 0},
		{"429 with Retry-After", pt.Reply{Status: 429, Header: map[string]string{"Retry-After": "30"}, Body: graph(4, "Application request limit reached")}, false, "4", 30 * time.Second},
		{"500 without a Graph body", pt.Reply{Status: 500, Header: map[string]string{"Content-Type": "text/html"}, Body: "<html>oops</html>"}, false, "500", 0},
		{"expired token 190 is permanent", pt.Reply{Status: 401, Body: graph(190, "Access token has expired")}, true, "190", 0},
		{"200 without an id is unreadable", pt.Reply{Status: 200, Body: `{"messaging_product":"whatsapp"}`}, true, "unreadable_response", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, tc.reply)
			res, err := client(srv).Send(context.Background(), provider.Message{To: "+16505551234", Text: "hi"})
			var e *provider.Error
			if !errors.As(err, &e) {
				t.Fatalf("want *provider.Error, got %v", err)
			}
			pt.Equal(t, "Permanent", e.Permanent, tc.permanent)
			pt.Equal(t, "Code", e.Code, tc.code)
			pt.Equal(t, "RetryAfter", e.RetryAfter, tc.retryAfter)
			pt.Equal(t, "HTTPStatus", e.HTTPStatus, tc.reply.Status)
			pt.NoSecret(t, err, res, accessToken, appSecret, verifyToken)
		})
	}
}

func TestSendRejectsBadMessagesWithoutACall(t *testing.T) {
	tests := []struct {
		name string
		msg  provider.Message
	}{
		{"no digits", provider.Message{To: "alice", Text: "hi"}},
		{"empty text", provider.Message{To: "+16505551234"}},
		{"template without name", provider.Message{To: "+16505551234", Type: "template", Template: &provider.Template{Language: "en"}}},
		{"attachment without url", provider.Message{To: "+16505551234", Type: "attachment", Attachments: []provider.Attachment{{}}}},
		{"two attachments", provider.Message{To: "+16505551234", Type: "attachment", Attachments: []provider.Attachment{
			{URL: "https://cdn.example.com/a.jpg", MIMEType: "image/jpeg"}, {URL: "https://cdn.example.com/b.jpg", MIMEType: "image/jpeg"}}}},
		{"a type WhatsApp does not carry", provider.Message{To: "+16505551234", Type: "attachment", Attachments: []provider.Attachment{
			{URL: "https://cdn.example.com/a.zip", MIMEType: "application/zip"}}}},
		{"unknown type", provider.Message{To: "+16505551234", Type: "sticker"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t)
			_, err := client(srv).Send(context.Background(), tc.msg)
			if !provider.IsPermanent(err) {
				t.Fatalf("want a permanent error, got %v", err)
			}
			if n := len(srv.Requests()); n != 0 {
				t.Fatalf("made %d requests", n)
			}
		})
	}
}

func TestSendTimeoutIsTransientAndQuiet(t *testing.T) {
	srv := pt.NewServer(t, pt.Reply{Status: 200, Body: okReply})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := client(srv).Send(ctx, provider.Message{To: "+16505551234", Text: "hi"})
	if err == nil || provider.IsPermanent(err) {
		t.Fatalf("want a transient error, got %v", err)
	}
	pt.NoSecret(t, err, nil, accessToken)
}

func TestVerify(t *testing.T) {
	body := []byte(statusWebhook)
	tests := []struct {
		name   string
		header string
		body   []byte
		ok     bool
	}{
		{"signed", meta.Sign(body, appSecret), body, true},
		{"tampered body", meta.Sign(body, appSecret), []byte(strings.Replace(statusWebhook, `"failed"`, `"read"`, 1)), false},
		{"wrong secret", meta.Sign(body, "not-the-secret"), body, false},
		{"missing header", "", body, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("X-Hub-Signature-256", tc.header)
			}
			err := whatsapp.Verify(h, tc.body, appSecret)
			if tc.ok != (err == nil) {
				t.Fatalf("Verify = %v", err)
			}
			if err != nil && !errors.Is(err, provider.ErrSignature) {
				t.Fatalf("want ErrSignature, got %v", err)
			}
			pt.NoSecret(t, err, nil, appSecret)
		})
	}
}

func TestHandshake(t *testing.T) {
	q := url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"1158201444"}, "hub.verify_token": {verifyToken}}
	got, err := whatsapp.Handshake(q, verifyToken)
	if err != nil || got != "1158201444" {
		t.Fatalf("Handshake = %q, %v", got, err)
	}
	q.Set("hub.verify_token", "guess")
	if _, err := whatsapp.Handshake(q, verifyToken); !errors.Is(err, provider.ErrSignature) {
		t.Fatalf("wrong token: %v", err)
	}
}

// Shapes from Meta's messages and status webhook references.
const inboundWebhook = `{
  "object": "whatsapp_business_account",
  "entry": [{
    "id": "102290129340398",
    "changes": [{
      "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}],
        "messages": [
          {"from": "16505551234", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
           "timestamp": "1749416383", "type": "text", "text": {"body": "Does it come in another color?"}},
          {"from": "16505551234", "id": "wamid.IMG", "timestamp": "1749416390", "type": "image",
           "image": {"caption": "this one", "mime_type": "image/jpeg", "sha256": "abc", "id": "1003383421387256"}},
          {"from": "16505551234", "id": "wamid.DOC", "timestamp": "1749416395", "type": "document",
           "document": {"filename": "invoice.pdf", "mime_type": "application/pdf", "sha256": "def", "id": "1003383421387257"}},
          {"from": "16505551234", "id": "wamid.STK", "timestamp": "1749416396", "type": "sticker",
           "sticker": {"mime_type": "image/webp", "sha256": "ghi", "id": "1003383421387258", "animated": false}},
          {"from": "16505551234", "id": "wamid.LOC", "timestamp": "1749416391", "type": "location",
           "location": {"latitude": 37.48, "longitude": -122.14, "name": "Main St store"}},
          {"from": "16505551234", "id": "wamid.REACT", "timestamp": "1749416392", "type": "reaction",
           "reaction": {"message_id": "wamid.A", "emoji": "\uD83D\uDC4D"}}
        ]
      },
      "field": "messages"
    }]
  }]
}`

const statusWebhook = `{
  "object": "whatsapp_business_account",
  "entry": [{
    "id": "102290129340398",
    "changes": [{
      "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "statuses": [
          {"id": "wamid.A", "status": "sent", "timestamp": "1750263773", "recipient_id": "16505551234",
           "conversation": {"id": "6ceb9d929c0d9bba", "origin": {"type": "utility"}},
           "pricing": {"billable": true, "pricing_model": "PMP", "category": "utility"}},
          {"id": "wamid.A", "status": "delivered", "timestamp": "1750263774", "recipient_id": "16505551234"},
          {"id": "wamid.A", "status": "read", "timestamp": "1750263780", "recipient_id": "16505551234"},
          {"id": "wamid.B", "status": "failed", "timestamp": "1750263800", "recipient_id": "16505551234",
           "errors": [{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
             "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
             "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}]},
          {"id": "wamid.C", "status": "deleted", "timestamp": "1750263801", "recipient_id": "16505551234"}
        ]
      },
      "field": "messages"
    }]
  }]
}`

func TestParse(t *testing.T) {
	t.Run("inbound messages", func(t *testing.T) {
		ev, err := whatsapp.Parse([]byte(inboundWebhook))
		if err != nil {
			t.Fatal(err)
		}
		if len(ev.Inbound) != 5 || len(ev.Receipts) != 0 {
			t.Fatalf("got %+v", ev)
		}
		in := ev.Inbound[0]
		pt.Equal(t, "ExternalID", in.ExternalID, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=")
		pt.Equal(t, "From", in.From, "+16505551234")
		pt.Equal(t, "ContactName", in.ContactName, "Sheena Nelson")
		pt.Equal(t, "Text", in.Text, "Does it come in another color?")
		pt.Equal(t, "ReceivedAt", in.ReceivedAt, time.Unix(1749416383, 0).UTC())
		img := ev.Inbound[1]
		pt.Equal(t, "image caption", img.Text, "this one")
		pt.DeepEqual(t, "image by media id", img.Attachments, []provider.Attachment{{ID: "1003383421387256", MIMEType: "image/jpeg"}})
		pt.DeepEqual(t, "document with its file name", ev.Inbound[2].Attachments,
			[]provider.Attachment{{ID: "1003383421387257", MIMEType: "application/pdf", Filename: "invoice.pdf"}})
		pt.DeepEqual(t, "sticker", ev.Inbound[3].Attachments, []provider.Attachment{{ID: "1003383421387258", MIMEType: "image/webp"}})
		pt.Equal(t, "location shown by its type", ev.Inbound[4].Text, "[location]")
		pt.Equal(t, "location has no files", len(ev.Inbound[4].Attachments), 0)
	})
	t.Run("statuses", func(t *testing.T) {
		ev, err := whatsapp.Parse([]byte(statusWebhook))
		if err != nil {
			t.Fatal(err)
		}
		want := []provider.Receipt{
			{ProviderMessageID: "wamid.A", Recipient: "+16505551234", Status: "sent", At: time.Unix(1750263773, 0).UTC()},
			{ProviderMessageID: "wamid.A", Recipient: "+16505551234", Status: "delivered", At: time.Unix(1750263774, 0).UTC()},
			{ProviderMessageID: "wamid.A", Recipient: "+16505551234", Status: "read", At: time.Unix(1750263780, 0).UTC()},
			{ProviderMessageID: "wamid.B", Recipient: "+16505551234", Status: "failed", At: time.Unix(1750263800, 0).UTC(),
				ErrorCode: "131047", ErrorText: "Re-engagement message: Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
		}
		if len(ev.Receipts) != len(want) {
			t.Fatalf("got %d receipts: %+v", len(ev.Receipts), ev.Receipts)
		}
		for i := range want {
			pt.Equal(t, "receipt", ev.Receipts[i], want[i])
		}
	})
	t.Run("malformed", func(t *testing.T) {
		for _, body := range []string{`{`, `{"object":"page","entry":[]}`} {
			if _, err := whatsapp.Parse([]byte(body)); !errors.Is(err, provider.ErrMalformed) {
				t.Errorf("Parse(%s) = %v, want ErrMalformed", body, err)
			}
		}
	})
}

// TestLimits checks the table against the Cloud API's supported media: each type travels as
// its kind up to its size, and nothing else is taken.
func TestLimits(t *testing.T) {
	tests := []struct {
		mimeType string
		size     int64
		kind     string // "" refused
	}{
		{"image/jpeg", 5_000_000, "image"},
		{"image/png", 5_000_001, ""},
		{"image/webp", 500_000, "sticker"},
		{"video/mp4", 16_000_000, "video"},
		{"video/3gpp", 17_000_000, ""},
		{"audio/ogg", 1, "audio"},
		{"audio/x-m4a", 1, "audio"},
		{"audio/mp3", 1, "audio"},
		{"application/pdf", 100_000_000, "document"},
		{"text/plain; charset=utf-8", 1, "document"},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", 1, "document"},
		{"application/zip", 1, ""},
		{"image/gif", 1, ""},
	}
	for _, tc := range tests {
		k, ok := whatsapp.Limits.Kind(provider.File{MIMEType: tc.mimeType, Size: tc.size, Stored: true})
		if ok != (tc.kind != "") || k.Kind != tc.kind {
			t.Errorf("%s of %d bytes: kind %q, %v; want %q", tc.mimeType, tc.size, k.Kind, ok, tc.kind)
		}
	}
	r := whatsapp.Limits.Check([]provider.File{{MIMEType: "video/mp4", Size: 40_000_000, Stored: true}}, "a caption", true)
	if r == nil || r.Detail != "WhatsApp Cloud takes video up to 16 MB (video/mp4, video/3gpp); this file is 40 MB." {
		t.Errorf("a 40 MB video: %+v", r)
	}
}

// TestSendStoredMedia: stored media is uploaded to /{phone-number-id}/media (multipart: the
// exact bytes as file, its type, messaging_product) and then sent by the id the upload answers,
// as the kind the Limits table gives it.
func TestSendStoredMedia(t *testing.T) {
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0}, []byte("a photo")...)
	tests := []struct {
		name string
		a    provider.Attachment
		text string
		want string // the message, with the upload's id 4490709327384033
	}{
		{"image with caption", pt.Stored("image/jpeg", "red.jpg", jpeg, ""), "The red one",
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"image","image":{"id":"4490709327384033","caption":"The red one"}}`},
		{"document with its name", pt.Stored("application/pdf", "invoice.pdf", []byte("%PDF-1.7"), ""), "",
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"document","document":{"id":"4490709327384033","filename":"invoice.pdf"}}`},
		{"sticker without caption", pt.Stored("image/webp", "", []byte("RIFF....WEBPVP8 "), ""), "hi",
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"sticker","sticker":{"id":"4490709327384033"}}`},
		{"text with parameters as a document", pt.Stored("text/plain; charset=utf-8", "notes.txt", []byte("notes"), ""), "",
			`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"document","document":{"id":"4490709327384033","filename":"notes.txt"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, pt.Reply{Status: 200, Body: `{"id":"4490709327384033"}`}, pt.Reply{Status: 200, Body: okReply})
			_, err := client(srv).Send(context.Background(), provider.Message{To: "+16505551234", Type: "attachment", Text: tc.text,
				Attachments: []provider.Attachment{tc.a}})
			if err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests", len(reqs))
			}
			up := reqs[0]
			pt.Equal(t, "upload path", up.Path, "/v25.0/106540352242922/media")
			pt.Equal(t, "upload Authorization", up.Header.Get("Authorization"), "Bearer "+accessToken)
			form := up.Form(t)
			rc, _ := tc.a.Open(context.Background())
			data, _ := io.ReadAll(rc)
			pt.Equal(t, "file bytes", form["file"].Data, string(data))
			pt.Equal(t, "file type", form["file"].ContentType, tc.a.MIMEType)
			pt.Equal(t, "type", form["type"].Data, provider.BaseType(tc.a.MIMEType))
			pt.Equal(t, "messaging_product", form["messaging_product"].Data, "whatsapp")
			pt.Equal(t, "message path", reqs[1].Path, "/v25.0/106540352242922/messages")
			pt.JSONEqual(t, reqs[1].Body, tc.want)
		})
	}
}

// TestSendStoredMediaUploadFails: a refused upload is the send's error, and no message goes
// out; an upload answer without an id may be retried, since nothing reached the customer.
func TestSendStoredMediaUploadFails(t *testing.T) {
	msg := provider.Message{To: "+16505551234", Type: "attachment",
		Attachments: []provider.Attachment{pt.Stored("image/png", "a.png", []byte("\x89PNG"), "")}}
	srv := pt.NewServer(t, pt.Reply{Status: 400, Body: `{"error":{"message":"(#131053) Media upload error","type":"OAuthException","code":131053}}`})
	_, err := client(srv).Send(context.Background(), msg)
	var e *provider.Error
	if !errors.As(err, &e) || !e.Permanent || e.Code != "131053" || len(srv.Requests()) != 1 {
		t.Fatalf("refused upload: %v after %d requests", err, len(srv.Requests()))
	}
	srv = pt.NewServer(t, pt.Reply{Status: 200, Body: `{}`})
	_, err = client(srv).Send(context.Background(), msg)
	if err == nil || provider.IsPermanent(err) || len(srv.Requests()) != 1 {
		t.Fatalf("upload without an id: %v after %d requests", err, len(srv.Requests()))
	}
	pt.NoSecret(t, err, nil, accessToken, appSecret)
}
