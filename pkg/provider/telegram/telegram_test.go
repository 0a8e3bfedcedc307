package telegram_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/telegram"
)

const (
	botToken    = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	secretToken = "tg-webhook-secret_42"
)

func client(srv *pt.Server) *telegram.Client {
	return telegram.New(telegram.Config{BotToken: botToken, SecretToken: secretToken, APIBase: srv.URL}, nil)
}

const okReply = `{"ok":true,"result":{"message_id":4242,"from":{"id":7012345678,"is_bot":true,"first_name":"Switchboard"},"chat":{"id":123456789,"first_name":"Ann","type":"private"},"date":1762164000,"text":"hi"}}`

func TestSendRequest(t *testing.T) {
	tests := []struct {
		name   string
		msg    provider.Message
		method string
		want   string
	}{
		{"text to a private chat", provider.Message{To: "123456789", Text: "Your ticket is resolved."},
			"sendMessage", `{"chat_id":123456789,"text":"Your ticket is resolved."}`},
		{"text to a channel username", provider.Message{To: "@switchboard_news", Type: "text", Text: "News"},
			"sendMessage", `{"chat_id":"@switchboard_news","text":"News"}`},
		{"negative group id", provider.Message{To: "-1001234567890", Text: "hi all"},
			"sendMessage", `{"chat_id":-1001234567890,"text":"hi all"}`},
		{"pdf by URL through sendDocument", provider.Message{To: "123456789", Type: "attachment", Text: "Invoice",
			Attachments: []provider.Attachment{{URL: "https://cdn.example.com/inv.pdf", MIMEType: "application/pdf"}}},
			"sendDocument", `{"chat_id":123456789,"document":"https://cdn.example.com/inv.pdf","caption":"Invoice"}`},
		{"jpeg by URL through sendPhoto", provider.Message{To: "123456789", Type: "attachment",
			Attachments: []provider.Attachment{{URL: "https://cdn.example.com/a.jpg", MIMEType: "image/jpeg"}}},
			"sendPhoto", `{"chat_id":123456789,"photo":"https://cdn.example.com/a.jpg"}`},
		{"gif stays a document", provider.Message{To: "123456789", Type: "attachment",
			Attachments: []provider.Attachment{{URL: "https://cdn.example.com/a.gif", MIMEType: "image/gif"}}},
			"sendDocument", `{"chat_id":123456789,"document":"https://cdn.example.com/a.gif"}`},
		{"mp4 through sendVideo", provider.Message{To: "123456789", Type: "attachment", Text: "demo",
			Attachments: []provider.Attachment{{URL: "https://cdn.example.com/v.mp4", MIMEType: "video/mp4"}}},
			"sendVideo", `{"chat_id":123456789,"video":"https://cdn.example.com/v.mp4","caption":"demo"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, pt.Reply{Body: okReply})
			res, err := client(srv).Send(context.Background(), tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			pt.Equal(t, "ProviderMessageID", res.ProviderMessageID, "4242")
			r := srv.Only(t)
			pt.Equal(t, "method", r.Method, http.MethodPost)
			pt.Equal(t, "path", r.Path, "/bot"+botToken+"/"+tc.method)
			pt.Equal(t, "Content-Type", r.Header.Get("Content-Type"), "application/json")
			pt.Equal(t, "Authorization", r.Header.Get("Authorization"), "")
			pt.JSONEqual(t, r.Body, tc.want)
		})
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name       string
		reply      pt.Reply
		permanent  bool
		code       string
		retryAfter time.Duration
	}{
		{"blocked by the user", pt.Reply{Status: 403, Body: `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`}, true, "403", 0},
		{"chat not found", pt.Reply{Status: 400, Body: `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`}, true, "400", 0},
		{"flood control with retry_after", pt.Reply{Status: 429, Body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}}`}, false, "429", 35 * time.Second},
		{"bad gateway", pt.Reply{Status: 502, Header: map[string]string{"Content-Type": "text/html"}, Body: `<html>502 Bad Gateway</html>`}, false, "502", 0},
		{"500 from the bot api", pt.Reply{Status: 500, Body: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`}, false, "500", 0},
		{"wrong token", pt.Reply{Status: 401, Body: `{"ok":false,"error_code":401,"description":"Unauthorized"}`}, true, "401", 0},
		{"ok true without a message id", pt.Reply{Status: 200, Body: `{"ok":true,"result":true}`}, true, "unreadable_response", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, tc.reply)
			res, err := client(srv).Send(context.Background(), provider.Message{To: "123456789", Text: "hi"})
			var e *provider.Error
			if !errors.As(err, &e) {
				t.Fatalf("want *provider.Error, got %v", err)
			}
			pt.Equal(t, "Permanent", e.Permanent, tc.permanent)
			pt.Equal(t, "Code", e.Code, tc.code)
			pt.Equal(t, "RetryAfter", e.RetryAfter, tc.retryAfter)
			pt.NoSecret(t, err, res, botToken, secretToken)
		})
	}
}

func TestTransportErrorNeverShowsTheToken(t *testing.T) {
	// Nothing listens on port 1: the request fails before any answer, with the token in the URL.
	c := telegram.New(telegram.Config{BotToken: botToken, APIBase: "http://127.0.0.1:1"}, nil)
	res, err := c.Send(context.Background(), provider.Message{To: "1", Text: "hi"})
	if err == nil || provider.IsPermanent(err) {
		t.Fatalf("want a transient error, got %v", err)
	}
	pt.NoSecret(t, err, res, botToken)
}

func TestSendRejectsTemplates(t *testing.T) {
	srv := pt.NewServer(t)
	_, err := client(srv).Send(context.Background(), provider.Message{To: "1", Type: "template", Template: &provider.Template{Name: "x"}})
	if !provider.IsPermanent(err) || len(srv.Requests()) != 0 {
		t.Fatalf("want a permanent error and no request, got %v", err)
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name   string
		header string
		secret string
		ok     bool
	}{
		{"matching secret", secretToken, secretToken, true},
		{"wrong secret", "tg-webhook-secret_43", secretToken, false},
		{"missing header", "", secretToken, false},
		{"nothing configured", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.header != "" {
				h.Set("X-Telegram-Bot-Api-Secret-Token", tc.header)
			}
			err := telegram.Verify(h, []byte(textUpdate), tc.secret)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, provider.ErrSignature)) {
				t.Fatalf("Verify = %v", err)
			}
			pt.NoSecret(t, err, nil, secretToken)
		})
	}
}

// Shapes from the Bot API Update and Message objects.
const textUpdate = `{"update_id":10000,
 "message":{"message_id":1365,"date":1441645532,"text":"/start hello",
  "from":{"id":1111111,"is_bot":false,"first_name":"Ann","last_name":"Lee","username":"annlee","language_code":"en"},
  "chat":{"id":1111111,"first_name":"Ann","last_name":"Lee","username":"annlee","type":"private"}}}`

const photoUpdate = `{"update_id":10001,
 "message":{"message_id":1366,"date":1441645540,"caption":"the receipt",
  "from":{"id":1111111,"is_bot":false,"first_name":"Ann"},
  "chat":{"id":1111111,"type":"private"},
  "photo":[{"file_id":"AgACAgQAAxkBAAIBsmall","file_unique_id":"s","width":90,"height":67,"file_size":1200},
           {"file_id":"AgACAgQAAxkBAAIBlarge","file_unique_id":"l","width":1280,"height":960,"file_size":98000}]}}`

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []provider.Inbound
	}{
		{"text message", textUpdate, []provider.Inbound{{ExternalID: "1111111:1365", From: "1111111", ContactName: "Ann Lee",
			Text: "/start hello", ReceivedAt: time.Unix(1441645532, 0).UTC()}}},
		{"photo with caption keeps the largest size", photoUpdate, []provider.Inbound{{ExternalID: "1111111:1366", From: "1111111", ContactName: "Ann",
			Text: "the receipt", ReceivedAt: time.Unix(1441645540, 0).UTC(),
			Attachments: []provider.Attachment{{ID: "AgACAgQAAxkBAAIBlarge", MIMEType: "image/jpeg"}}}}},
		{"document with its name and type", `{"update_id":10004,"message":{"message_id":7,"date":1441645550,"chat":{"id":1111111},
			"document":{"file_id":"BQACAgIAAxkBAAIC","file_unique_id":"d","file_name":"invoice.pdf","mime_type":"application/pdf","file_size":4096}}}`,
			[]provider.Inbound{{ExternalID: "1111111:7", From: "1111111", ReceivedAt: time.Unix(1441645550, 0).UTC(),
				Attachments: []provider.Attachment{{ID: "BQACAgIAAxkBAAIC", MIMEType: "application/pdf", Filename: "invoice.pdf"}}}}},
		{"voice note", `{"update_id":10005,"message":{"message_id":8,"date":1441645560,"chat":{"id":1111111},
			"voice":{"file_id":"AwACAgIAAxkBAAID","file_unique_id":"v","duration":3,"mime_type":"audio/ogg","file_size":5120}}}`,
			[]provider.Inbound{{ExternalID: "1111111:8", From: "1111111", ReceivedAt: time.Unix(1441645560, 0).UTC(),
				Attachments: []provider.Attachment{{ID: "AwACAgIAAxkBAAID", MIMEType: "audio/ogg"}}}}},
		{"sticker", `{"update_id":10006,"message":{"message_id":9,"date":1441645570,"chat":{"id":1111111},
			"sticker":{"file_id":"CAACAgIAAxkBAAIE","file_unique_id":"k","type":"regular","width":512,"height":512,"is_animated":false,"is_video":false}}}`,
			[]provider.Inbound{{ExternalID: "1111111:9", From: "1111111", ReceivedAt: time.Unix(1441645570, 0).UTC(),
				Attachments: []provider.Attachment{{ID: "CAACAgIAAxkBAAIE"}}}}},
		{"edited message is not new", `{"update_id":10002,"edited_message":{"message_id":1,"chat":{"id":1},"date":1,"edit_date":2,"text":"x"}}`, nil},
		{"service message", `{"update_id":10003,"message":{"message_id":2,"chat":{"id":-100},"date":1,"new_chat_members":[{"id":5,"is_bot":false,"first_name":"Bo"}]}}`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := telegram.Parse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(ev.Inbound) != len(tc.want) || len(ev.Receipts) != 0 {
				t.Fatalf("got %+v", ev)
			}
			for i, want := range tc.want {
				pt.DeepEqual(t, "inbound", ev.Inbound[i], want)
			}
		})
	}
	for _, body := range []string{`{"message":{}}`, `not json`} {
		if _, err := telegram.Parse([]byte(body)); !errors.Is(err, provider.ErrMalformed) {
			t.Errorf("Parse(%s) = %v, want ErrMalformed", body, err)
		}
	}
}

// TestSendStoredMedia: stored files are uploaded as multipart/form-data to the method of their
// kind; two to ten go as one sendMediaGroup, stored ones attached by name, links by URL, the
// caption on the first. The media group's answer is an array: its first message is the id.
func TestSendStoredMedia(t *testing.T) {
	jpeg := []byte{0xff, 0xd8, 0xff, 0xe0, 'J', 'F', 'I', 'F'}
	t.Run("one photo", func(t *testing.T) {
		srv := pt.NewServer(t, pt.Reply{Body: okReply})
		res, err := client(srv).Send(context.Background(), provider.Message{To: "123456789", Type: "attachment", Text: "The red one",
			Attachments: []provider.Attachment{pt.Stored("image/jpeg", "red.jpg", jpeg, "")}})
		if err != nil {
			t.Fatal(err)
		}
		pt.Equal(t, "ProviderMessageID", res.ProviderMessageID, "4242")
		r := srv.Only(t)
		pt.Equal(t, "path", r.Path, "/bot"+botToken+"/sendPhoto")
		form := r.Form(t)
		pt.Equal(t, "chat_id", form["chat_id"].Data, "123456789")
		pt.Equal(t, "caption", form["caption"].Data, "The red one")
		pt.Equal(t, "photo", form["photo"], pt.FormPart{Filename: "red.jpg", ContentType: "image/jpeg", Data: string(jpeg)})
	})
	t.Run("a media group", func(t *testing.T) {
		srv := pt.NewServer(t, pt.Reply{Body: `{"ok":true,"result":[{"message_id":51,"date":1762164000},{"message_id":52,"date":1762164000},{"message_id":53,"date":1762164000}]}`})
		res, err := client(srv).Send(context.Background(), provider.Message{To: "@switchboard_news", Type: "attachment", Text: "Our new shop",
			Attachments: []provider.Attachment{
				pt.Stored("image/png", "front.png", []byte("\x89PNG front"), ""),
				{URL: "https://cdn.example.com/tour.mp4", MIMEType: "video/mp4"},
				pt.Stored("image/jpeg", "", jpeg, ""),
			}})
		if err != nil {
			t.Fatal(err)
		}
		pt.Equal(t, "ProviderMessageID", res.ProviderMessageID, "51")
		r := srv.Only(t)
		pt.Equal(t, "path", r.Path, "/bot"+botToken+"/sendMediaGroup")
		form := r.Form(t)
		pt.Equal(t, "chat_id", form["chat_id"].Data, "@switchboard_news")
		pt.JSONEqual(t, []byte(form["media"].Data), `[
			{"type":"photo","media":"attach://file0","caption":"Our new shop"},
			{"type":"video","media":"https://cdn.example.com/tour.mp4"},
			{"type":"photo","media":"attach://file2"}]`)
		pt.Equal(t, "file0", form["file0"], pt.FormPart{Filename: "front.png", ContentType: "image/png", Data: "\x89PNG front"})
		pt.Equal(t, "file2", form["file2"], pt.FormPart{Filename: "file.jpg", ContentType: "image/jpeg", Data: string(jpeg)})
		if len(form) != 4 {
			t.Errorf("parts %v", form)
		}
	})
	t.Run("a media group of links is JSON", func(t *testing.T) {
		srv := pt.NewServer(t, pt.Reply{Body: `{"ok":true,"result":[{"message_id":61},{"message_id":62}]}`})
		_, err := client(srv).Send(context.Background(), provider.Message{To: "123456789", Type: "attachment",
			Attachments: []provider.Attachment{{URL: "https://cdn.example.com/a.pdf", MIMEType: "application/pdf"},
				{URL: "https://cdn.example.com/b.zip", MIMEType: "application/zip"}}})
		if err != nil {
			t.Fatal(err)
		}
		pt.JSONEqual(t, srv.Only(t).Body, `{"chat_id":123456789,"media":[{"type":"document","media":"https://cdn.example.com/a.pdf"},
			{"type":"document","media":"https://cdn.example.com/b.zip"}]}`)
	})
}

// TestLimits: a photo too large for sendPhoto goes as a document; a link is a document only
// as GIF, PDF or ZIP; photos and videos may share a group, documents and audio only their own.
func TestLimits(t *testing.T) {
	if k, _ := telegram.Limits.Kind(provider.File{MIMEType: "image/jpeg", Size: 10_000_001, Stored: true}); k.Kind != provider.KindDocument {
		t.Errorf("a photo over 10 MB: %q", k.Kind)
	}
	if _, ok := telegram.Limits.Kind(provider.File{MIMEType: "application/msword"}); ok {
		t.Error("a Word link is taken")
	}
	photo, doc := provider.File{MIMEType: "image/png"}, provider.File{MIMEType: "application/pdf"}
	if r := telegram.Limits.Check([]provider.File{photo, {MIMEType: "video/mp4"}}, "a caption", false); r != nil {
		t.Errorf("a photo and a video: %+v", r)
	}
	if r := telegram.Limits.Check([]provider.File{photo, doc}, "", false); r == nil || r.Index != 1 {
		t.Errorf("a photo and a document: %+v", r)
	}
}
