package dispatch_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/dispatch"
	"github.com/switchboard/switchboard/pkg/job"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/webhook"
)

const waitLong = 20 * time.Second

// TestSendReachesProvider: a queued message on each provider's channel reaches a fake of that
// provider as exactly the documented request, and moves to sent with the provider's id.
func TestSendReachesProvider(t *testing.T) {
	e := newEnv(t)
	e.dispatcher(t, dispatch.Config{}, job.Config{})
	type check func(t *testing.T, r pt.Request, msgID string)
	jsonBody := func(want string) check {
		return func(t *testing.T, r pt.Request, _ string) { pt.JSONEqual(t, r.Body, want) }
	}
	tests := []struct {
		name, typ, prov string
		config          map[string]any
		to              string
		msg             outgoing
		reply           pt.Reply
		path            string
		header          map[string]string
		body            check
		providerID      string
	}{
		{name: "whatsapp cloud text", typ: "whatsapp", prov: "whatsapp_cloud",
			config: map[string]any{"phone_number_id": "106540352242922", "access_token": "EAAG-token", "app_secret": "app-secret"},
			to:     "+16505551234", msg: outgoing{Text: "Your order shipped."},
			reply: pt.Reply{Body: `{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.ABC"}]}`},
			path:  "/106540352242922/messages", header: map[string]string{"Authorization": "Bearer EAAG-token"},
			body:       jsonBody(`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"text","text":{"body":"Your order shipped.","preview_url":false}}`),
			providerID: "wamid.ABC"},
		{name: "whatsapp cloud template with rendered variables", typ: "whatsapp", prov: "whatsapp_cloud",
			config: map[string]any{"phone_number_id": "106540352242922", "access_token": "EAAG-token", "app_secret": "app-secret"},
			to:     "+16505551235", msg: outgoing{Type: "template", Text: "Hi Sheena, order #12345 shipped",
				Template: &conversation.TemplateRef{Name: "order_update", Language: "en_US", Variables: []string{"Sheena", "#12345"}}},
			reply: pt.Reply{Body: `{"messages":[{"id":"wamid.TPL"}]}`},
			path:  "/106540352242922/messages", header: map[string]string{"Authorization": "Bearer EAAG-token"},
			body: jsonBody(`{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551235","type":"template",
				"template":{"name":"order_update","language":{"code":"en_US"},
				"components":[{"type":"body","parameters":[{"type":"text","text":"Sheena"},{"type":"text","text":"#12345"}]}]}}`),
			providerID: "wamid.TPL"},
		{name: "messenger with the human agent tag", typ: "messenger", prov: "messenger",
			config: map[string]any{"page_id": "1234567890", "page_access_token": "page-token", "app_secret": "app-secret"},
			to:     "6543210987654321", msg: outgoing{Text: "Following up", Tag: "HUMAN_AGENT"},
			reply: pt.Reply{Body: `{"recipient_id":"6543210987654321","message_id":"m_AG5"}`},
			path:  "/1234567890/messages", header: map[string]string{"Authorization": "Bearer page-token"},
			body:       jsonBody(`{"recipient":{"id":"6543210987654321"},"messaging_type":"MESSAGE_TAG","tag":"HUMAN_AGENT","message":{"text":"Following up"}}`),
			providerID: "m_AG5"},
		{name: "telegram", typ: "telegram", prov: "telegram",
			config: map[string]any{"bot_token": "7012345678:AAE-bot-token", "secret_token": "tg-secret"},
			to:     "123456789", msg: outgoing{Text: "Your ticket is resolved."},
			reply: pt.Reply{Body: `{"ok":true,"result":{"message_id":4242,"chat":{"id":123456789,"type":"private"},"date":1762164000,"text":"hi"}}`},
			path:  "/bot7012345678:AAE-bot-token/sendMessage",
			body:  jsonBody(`{"chat_id":123456789,"text":"Your ticket is resolved."}`), providerID: "4242"},
		{name: "twilio sms", typ: "sms", prov: "twilio",
			config: map[string]any{"account_sid": "AC0123", "auth_token": "twilio-token", "from": "+15017122661"},
			to:     "+15558675310", msg: outgoing{Text: "Your table is ready."},
			reply: pt.Reply{Status: 201, Body: `{"sid":"SM0123","status":"queued"}`},
			path:  "/2010-04-01/Accounts/AC0123/Messages.json",
			header: map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("AC0123:twilio-token")),
				"Content-Type": "application/x-www-form-urlencoded"},
			body: func(t *testing.T, r pt.Request, _ string) {
				got, _ := url.ParseQuery(string(r.Body))
				want := url.Values{"To": {"+15558675310"}, "From": {"+15017122661"}, "Body": {"Your table is ready."}}
				if got.Encode() != want.Encode() {
					t.Errorf("form = %s, want %s", got.Encode(), want.Encode())
				}
			}, providerID: "SM0123"},
		{name: "viber", typ: "viber", prov: "viber",
			config: map[string]any{"auth_token": "viber-token", "sender_name": "Switchboard"},
			to:     "01234567890A=", msg: outgoing{Text: "Hello world!"},
			reply: pt.Reply{Body: `{"status":0,"status_message":"ok","message_token":5741311803571721087}`},
			path:  "/send_message", header: map[string]string{"X-Viber-Auth-Token": "viber-token"},
			body:       jsonBody(`{"receiver":"01234567890A=","min_api_version":1,"sender":{"name":"Switchboard"},"type":"text","text":"Hello world!"}`),
			providerID: "5741311803571721087"},
		{name: "line carries the message id as retry key", typ: "line", prov: "line",
			config: map[string]any{"channel_access_token": "line-token", "channel_secret": "line-secret"},
			to:     "U4af4980629e4c0b3f2e3f3e3f3e3f3e3", msg: outgoing{Text: "Hello, world"},
			reply: pt.Reply{Body: `{"sentMessages":[{"id":"461230966842064897","quoteToken":"q"}]}`},
			path:  "/v2/bot/message/push", header: map[string]string{"Authorization": "Bearer line-token"},
			body: func(t *testing.T, r pt.Request, msgID string) {
				pt.Equal(t, "X-Line-Retry-Key", r.Header.Get("X-Line-Retry-Key"), msgID)
				pt.JSONEqual(t, r.Body, `{"to":"U4af4980629e4c0b3f2e3f3e3f3e3f3e3","messages":[{"type":"text","text":"Hello, world"}]}`)
			}, providerID: "461230966842064897"},
		{name: "webhook signs the message with its id", typ: "custom", prov: "webhook",
			config: map[string]any{"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
			to:     "visitor-42", msg: outgoing{Text: "Hi there"},
			reply: pt.Reply{Status: 202}, path: "/hooks/switchboard",
			body: func(t *testing.T, r pt.Request, msgID string) {
				pt.Equal(t, "webhook-id", r.Header.Get("webhook-id"), msgID)
				ts, _ := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
				pt.Equal(t, "webhook-signature", r.Header.Get("webhook-signature"),
					webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", msgID, time.Unix(ts, 0), r.Body))
				var ev struct {
					Type string          `json:"type"`
					Data json.RawMessage `json:"data"`
				}
				if err := json.Unmarshal(r.Body, &ev); err != nil {
					t.Fatal(err)
				}
				pt.Equal(t, "type", ev.Type, "message.outbound")
				pt.JSONEqual(t, ev.Data, `{"id":"`+msgID+`","to":"visitor-42","type":"text","text":"Hi there"}`)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, tc.reply)
			cfg := map[string]any{}
			for k, v := range tc.config {
				cfg[k] = v
			}
			if tc.prov == "webhook" {
				cfg["url"] = srv.URL + tc.path
			} else {
				cfg["api_base"] = srv.URL
			}
			ch := e.channel(t, tc.typ, tc.prov, cfg)
			id := e.queue(t, e.customer(t, ch, tc.to), tc.msg)
			m := e.waitStatus(t, id, conversation.StatusSent, waitLong)
			r := srv.Only(t)
			pt.Equal(t, "method", r.Method, http.MethodPost)
			pt.Equal(t, "path", r.Path, tc.path)
			for k, v := range tc.header {
				pt.Equal(t, k, r.Header.Get(k), v)
			}
			tc.body(t, r, id.String())
			want := tc.providerID
			if want == "" {
				want = id.String()
			}
			pt.Equal(t, "provider_message_id", deref(m.ProviderMessageID), want)
			pt.Equal(t, "attempts", m.Attempts, 1)
			if m.LastAttemptAt == nil {
				t.Error("last_attempt_at is not set")
			}
		})
	}
}

// TestSandboxDelivers: the built-in provider reports sent, then delivered, at once.
func TestSandboxDelivers(t *testing.T) {
	e := newEnv(t)
	e.dispatcher(t, dispatch.Config{}, job.Config{})
	ch := e.channel(t, "whatsapp", "sandbox", nil)
	id := e.queue(t, e.customer(t, ch, "+16505550100"), outgoing{Text: "hi"})
	m := e.waitStatus(t, id, conversation.StatusDelivered, waitLong)
	pt.Equal(t, "provider_message_id", deref(m.ProviderMessageID), "sandbox-"+id.String())
	// Each change was published in its own transaction: sent, then delivered.
	var events int
	if _, err := e.st.SequenceEvents(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.st.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM events WHERE workspace_id = $1 AND type = 'message.status_changed'`, e.ws).Scan(&events); err != nil {
		t.Fatal(err)
	}
	pt.Equal(t, "message.status_changed events", events, 2)
}

// TestRetries: 500, 500, 200 is one delivery after three attempts, all recorded.
func TestRetries(t *testing.T) {
	e := newEnv(t)
	e.dispatcher(t, dispatch.Config{}, job.Config{})
	srv := pt.NewServer(t,
		pt.Reply{Status: 500, Body: `{"message":"An error occurred in the server"}`},
		pt.Reply{Status: 500, Body: `{"message":"An error occurred in the server"}`},
		pt.Reply{Body: `{"sentMessages":[{"id":"461230966842064897"}]}`})
	ch := e.channel(t, "line", "line", map[string]any{"channel_access_token": "line-token", "channel_secret": "s", "api_base": srv.URL})
	id := e.queue(t, e.customer(t, ch, "Uaaa"), outgoing{Text: "hi"})
	m := e.waitStatus(t, id, conversation.StatusSent, waitLong)
	reqs := srv.Requests()
	pt.Equal(t, "requests", len(reqs), 3)
	pt.Equal(t, "attempts", m.Attempts, 3)
	for _, r := range reqs {
		pt.Equal(t, "retry key on every attempt", r.Header.Get("X-Line-Retry-Key"), id.String())
	}
	if m.ErrorCode != nil {
		t.Errorf("a delivered message keeps error %q", *m.ErrorCode)
	}
}

// TestPermanentError: the provider's refusal fails the message at once with its code.
func TestPermanentError(t *testing.T) {
	e := newEnv(t)
	e.dispatcher(t, dispatch.Config{}, job.Config{})
	srv := pt.NewServer(t, pt.Reply{Status: 400, Body: `{"code": 21211, "message": "The 'To' number +15558675310 is not a valid phone number.", "status": 400}`})
	ch := e.channel(t, "sms", "twilio", map[string]any{"account_sid": "AC1", "auth_token": "tok", "from": "+15017122661", "api_base": srv.URL})
	id := e.queue(t, e.customer(t, ch, "+15558675310"), outgoing{Text: "hi"})
	m := e.waitStatus(t, id, conversation.StatusFailed, waitLong)
	pt.Equal(t, "error_code", deref(m.ErrorCode), "21211")
	pt.Equal(t, "error_message", deref(m.ErrorMessage), "The 'To' number +15558675310 is not a valid phone number.")
	pt.Equal(t, "attempts", m.Attempts, 1)
	time.Sleep(300 * time.Millisecond)
	pt.Equal(t, "requests", len(srv.Requests()), 1)
}

// TestMaxAttempts: a provider that keeps failing fails the message after the last attempt.
func TestMaxAttempts(t *testing.T) {
	e := newEnv(t)
	e.dispatcher(t, dispatch.Config{MaxAttempts: 3}, job.Config{})
	srv := pt.NewServer(t, pt.Reply{Status: 503, Body: `{"ok":false,"error_code":503,"description":"Service Unavailable"}`})
	ch := e.channel(t, "telegram", "telegram", map[string]any{"bot_token": "1:tok", "secret_token": "s", "api_base": srv.URL})
	id := e.queue(t, e.customer(t, ch, "42"), outgoing{Text: "hi"})
	m := e.waitStatus(t, id, conversation.StatusFailed, waitLong)
	pt.Equal(t, "attempts", m.Attempts, 3)
	pt.Equal(t, "error_code", deref(m.ErrorCode), "503")
	pt.Equal(t, "requests", len(srv.Requests()), 3)
}

// TestRetryAfter: a 429's Retry-After holds the next attempt back at least that long (the
// job is snoozed), though the backoff alone would retry within milliseconds.
func TestRetryAfter(t *testing.T) {
	e := newEnv(t)
	e.dispatcher(t, dispatch.Config{}, job.Config{})
	var mu sync.Mutex
	var at []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		n := len(at)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if n == 1 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"code": 20429, "message": "Too Many Requests", "status": 429}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"sid":"SM1"}`)
	}))
	t.Cleanup(srv.Close)
	ch := e.channel(t, "sms", "twilio", map[string]any{"account_sid": "AC1", "auth_token": "tok", "from": "+15017122661", "api_base": srv.URL})
	id := e.queue(t, e.customer(t, ch, "+15558675311"), outgoing{Text: "hi"})
	m := e.waitStatus(t, id, conversation.StatusSent, waitLong)
	pt.Equal(t, "attempts", m.Attempts, 2)
	mu.Lock()
	defer mu.Unlock()
	if len(at) != 2 {
		t.Fatalf("requests = %d, want 2", len(at))
	}
	if gap := at[1].Sub(at[0]); gap < 2*time.Second || gap > 6*time.Second {
		t.Errorf("second attempt %s after the 429, want about 2s (Retry-After)", gap)
	}
}

// TestForbiddenWebhookDestination: a custom channel's URL, or a provider's api_base, on
// loopback is refused unless WEBHOOK_ALLOW_LOOPBACK (PROVIDER_API_BASE_OVERRIDE for api_base),
// and the refusal is permanent, with one fixed text, before any request.
func TestForbiddenWebhookDestination(t *testing.T) {
	e := newEnv(t)
	// Not e.dispatcher: its test configuration allows loopback destinations.
	h := job.NewHome(e.st.Pool, job.Config{FetchPollInterval: 100 * time.Millisecond, TestOnly: true}, e.log)
	if err := dispatch.New(dispatch.Config{Workers: 2}, e.st, e.channels, dispatch.Media{}, e.log, time.Now).Register(h); err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Stop(context.Background()) })
	for _, tc := range []struct{ name, typ, prov, key string }{
		{"webhook url", "custom", "webhook", "url"},
		{"line api_base", "line", "line", "api_base"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := pt.NewServer(t, pt.Reply{Status: 200})
			cfg := map[string]any{"url": srv.URL + "/hook", "secret": "s3cr3t"}
			if tc.prov == "line" {
				cfg = map[string]any{"channel_access_token": "line-token", "channel_secret": "line-channel-secret", "api_base": srv.URL}
			}
			ch := e.channel(t, tc.typ, tc.prov, cfg)
			id := e.queue(t, e.customer(t, ch, "U4af4980629e4c0b3f2e3f3e3f3e3f3e3"), outgoing{Text: "hi"})
			m := e.waitStatus(t, id, conversation.StatusFailed, waitLong)
			pt.Equal(t, "error_code", deref(m.ErrorCode), "forbidden_destination")
			pt.Equal(t, "error_message", deref(m.ErrorMessage), "destination address is not allowed")
			pt.Equal(t, "attempts", m.Attempts, 1)
			pt.Equal(t, "requests", len(srv.Requests()), 0)
		})
	}
}
