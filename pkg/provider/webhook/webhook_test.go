package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/provider"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/webhook"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestSignKnownAnswer(t *testing.T) {
	// The Standard Webhooks test vector.
	got := webhook.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	pt.Equal(t, "signature", got, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
}

func TestSendRequest(t *testing.T) {
	tests := []struct {
		name string
		msg  provider.Message
		data string
	}{
		{"text", provider.Message{ID: "0192f0c1-7a2b-7000-8000-000000000001", To: "visitor-42", Text: "Hi there"},
			`{"id":"0192f0c1-7a2b-7000-8000-000000000001","to":"visitor-42","type":"text","text":"Hi there"}`},
		{"template", provider.Message{ID: "0192f0c1-7a2b-7000-8000-000000000002", To: "visitor-42", Type: "template",
			Template: &provider.Template{Name: "reminder", Language: "en", Variables: []string{"Ann"}}},
			`{"id":"0192f0c1-7a2b-7000-8000-000000000002","to":"visitor-42","type":"template","template":{"name":"reminder","language":"en","variables":["Ann"]}}`},
		{"attachment", provider.Message{ID: "0192f0c1-7a2b-7000-8000-000000000003", To: "visitor-42", Type: "attachment", Text: "here",
			Attachments: []provider.Attachment{{URL: "https://cdn.example.com/f.pdf", MIMEType: "application/pdf", Filename: "f.pdf"}}},
			`{"id":"0192f0c1-7a2b-7000-8000-000000000003","to":"visitor-42","type":"attachment","text":"here","attachments":[{"url":"https://cdn.example.com/f.pdf","mime_type":"application/pdf","filename":"f.pdf"}]}`},
		{"stored media by its signed link and media id", provider.Message{ID: "0192f0c1-7a2b-7000-8000-000000000004", To: "visitor-42", Type: "attachment",
			Attachments: []provider.Attachment{{URL: "https://cdn.example.com/a.png", MIMEType: "image/png"},
				{URL: "https://sb.example.com/v1/media/0193/content?signature=x", MIMEType: "application/pdf", Filename: "menu.pdf", Size: 2048,
					MediaID: "0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4fa0", Open: func(context.Context) (io.ReadCloser, error) { panic("a custom channel fetches by URL") }}}},
			`{"id":"0192f0c1-7a2b-7000-8000-000000000004","to":"visitor-42","type":"attachment","attachments":[
				{"url":"https://cdn.example.com/a.png","mime_type":"image/png"},
				{"url":"https://sb.example.com/v1/media/0193/content?signature=x","mime_type":"application/pdf","filename":"menu.pdf","size":2048,"media_id":"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4fa0"}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, pt.Reply{Status: 202, Body: ``})
			start := time.Now()
			res, err := webhook.New(webhook.Config{URL: srv.URL + "/hooks/switchboard", Secret: secret}, nil).Send(context.Background(), tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			pt.Equal(t, "ProviderMessageID defaults to our id", res.ProviderMessageID, tc.msg.ID)
			r := srv.Only(t)
			pt.Equal(t, "method", r.Method, http.MethodPost)
			pt.Equal(t, "path", r.Path, "/hooks/switchboard")
			pt.Equal(t, "Content-Type", r.Header.Get("Content-Type"), "application/json")
			pt.Equal(t, "webhook-id", r.Header.Get("webhook-id"), tc.msg.ID)
			ts, err := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
			if err != nil || ts < start.Unix() || ts > time.Now().Unix() {
				t.Errorf("webhook-timestamp = %q", r.Header.Get("webhook-timestamp"))
			}
			pt.Equal(t, "webhook-signature", r.Header.Get("webhook-signature"), webhook.Sign(secret, tc.msg.ID, time.Unix(ts, 0), r.Body))
			if err := webhook.Verify(r.Header, r.Body, secret, 0, time.Now()); err != nil {
				t.Errorf("the receiver cannot verify it: %v", err)
			}
			body := r.JSON(t)
			pt.Equal(t, "type", body["type"], any("message.outbound"))
			if when, err := time.Parse(time.RFC3339, body["timestamp"].(string)); err != nil || when.Unix() != ts {
				t.Errorf("timestamp = %v", body["timestamp"])
			}
			pt.JSONEqual(t, mustJSON(t, body["data"]), tc.data)
			if len(body) != 3 {
				t.Errorf("event has extra fields: %v", body)
			}
		})
	}
}

func TestSendUsesTheReceiversID(t *testing.T) {
	srv := pt.NewServer(t, pt.Reply{Status: 200, Body: `{"id":"ext-991"}`})
	res, err := webhook.New(webhook.Config{URL: srv.URL, Secret: "plain secret"}, nil).Send(context.Background(), provider.Message{ID: "m1", To: "x", Text: "y"})
	if err != nil || res.ProviderMessageID != "ext-991" {
		t.Fatalf("Send = %+v, %v", res, err)
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name       string
		reply      pt.Reply
		permanent  bool
		retryAfter time.Duration
	}{
		{"400 is permanent", pt.Reply{Status: 400, Body: `{"error":"unknown recipient"}`}, true, 0},
		{"404 is permanent", pt.Reply{Status: 404}, true, 0},
		{"408 is transient", pt.Reply{Status: 408}, false, 0},
		{"429 with Retry-After", pt.Reply{Status: 429, Header: map[string]string{"Retry-After": "20"}}, false, 20 * time.Second},
		{"500 is transient", pt.Reply{Status: 500, Body: "boom"}, false, 0},
		{"503 is transient", pt.Reply{Status: 503}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, tc.reply)
			res, err := webhook.New(webhook.Config{URL: srv.URL, Secret: secret}, nil).Send(context.Background(), provider.Message{ID: "m1", To: "x", Text: "y"})
			var e *provider.Error
			if !errors.As(err, &e) {
				t.Fatalf("want *provider.Error, got %v", err)
			}
			pt.Equal(t, "Permanent", e.Permanent, tc.permanent)
			pt.Equal(t, "HTTPStatus", e.HTTPStatus, tc.reply.Status)
			pt.Equal(t, "RetryAfter", e.RetryAfter, tc.retryAfter)
			pt.NoSecret(t, err, res, secret)
		})
	}
}

func TestSendWithoutSecret(t *testing.T) {
	srv := pt.NewServer(t)
	_, err := webhook.New(webhook.Config{URL: srv.URL}, nil).Send(context.Background(), provider.Message{ID: "m1", To: "x", Text: "y"})
	if !provider.IsPermanent(err) || len(srv.Requests()) != 0 {
		t.Fatalf("an unsigned webhook must never be sent: %v", err)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1614265330, 0)
	body := []byte(`{"test": 2432232314}`)
	good := webhook.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", now, body)
	headers := func(id, ts, sig string) http.Header {
		h := http.Header{}
		for k, v := range map[string]string{"webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig} {
			if v != "" {
				h.Set(k, v)
			}
		}
		return h
	}
	tests := []struct {
		name   string
		h      http.Header
		body   []byte
		secret string
		now    time.Time
		ok     bool
	}{
		{"signed", headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", good), body, secret, now, true},
		{"one of several signatures", headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "+good), body, secret, now, true},
		{"within tolerance", headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", good), body, secret, now.Add(4 * time.Minute), true},
		{"tampered body", headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", good), []byte(`{"test": 2432232315}`), secret, now, false},
		{"wrong secret", headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", good), body, "whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", now, false},
		{"other id", headers("msg_other", "1614265330", good), body, secret, now, false},
		{"too old", headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", good), body, secret, now.Add(6 * time.Minute), false},
		{"too new", headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", good), body, secret, now.Add(-6 * time.Minute), false},
		{"missing signature", headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", ""), body, secret, now, false},
		{"missing timestamp", headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "", good), body, secret, now, false},
		{"unknown version", headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v2,"+good[3:]), body, secret, now, false},
		{"no secret configured", headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", good), body, "", now, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := webhook.Verify(tc.h, tc.body, tc.secret, 0, tc.now)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, provider.ErrSignature)) {
				t.Fatalf("Verify = %v", err)
			}
			pt.NoSecret(t, err, nil, secret)
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSendStoredMediaWithoutALink: stored media without its signed link (no PUBLIC_BASE_URL)
// fails for good, without a call.
func TestSendStoredMediaWithoutALink(t *testing.T) {
	srv := pt.NewServer(t)
	_, err := webhook.New(webhook.Config{URL: srv.URL, Secret: secret}, nil).Send(context.Background(), provider.Message{To: "visitor-42",
		Type: "attachment", Attachments: []provider.Attachment{pt.Stored("image/png", "a.png", []byte("x"), "")}})
	if !provider.IsPermanent(err) || len(srv.Requests()) != 0 {
		t.Fatalf("err %v after %d requests", err, len(srv.Requests()))
	}
}
