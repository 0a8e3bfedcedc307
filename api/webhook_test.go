package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/provider/line"
	"github.com/switchboard/switchboard/pkg/provider/meta"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
	"github.com/switchboard/switchboard/pkg/provider/twilio"
	"github.com/switchboard/switchboard/pkg/provider/viber"
)

// providerEnv is the API with delivery workers, accepting api_base so channels can point at
// fake providers.
func providerEnv(t *testing.T, opts ...apitest.Option) *apitest.Env {
	t.Helper()
	opts = append([]apitest.Option{apitest.WithWorkers(2), func(c *config.Config) { c.ProviderAPIBaseOverride = true }}, opts...)
	return apitest.New(t, opts...)
}

type deliveryBody struct {
	ID                string  `json:"id"`
	Status            string  `json:"status"`
	ProviderMessageID *string `json:"provider_message_id"`
	Attempts          int     `json:"attempts"`
	Error             *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// waitMessage polls GET /v1/messages/{id} until the status is want.
func waitMessage(t *testing.T, e *apitest.Env, token, id, want string) deliveryBody {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var m deliveryBody
		e.Get(t, "/v1/messages/"+id, token).Expect(t, http.StatusOK).JSON(t, &m)
		if m.Status == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s is %s, want %s", id, m.Status, want)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// hook posts a provider webhook with headers; the spec validates the answer.
func hook(t *testing.T, e *apitest.Env, channel, provider, contentType, body string, header map[string]string) *apitest.Response {
	t.Helper()
	h := map[string]string{"Content-Type": contentType}
	for k, v := range header {
		h[k] = v
	}
	return e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/webhooks/" + channel + "/" + provider, Body: body, Header: h})
}

func statusWebhook(id, status string, ts int64) string {
	return fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
  "messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},
  "statuses":[{"id":%q,"status":%q,"timestamp":"%d","recipient_id":"16505551234"}]}}]}]}`, id, status, ts)
}

// TestDeliveryThroughWebhooks is the acceptance story on WhatsApp Cloud: the customer writes
// through Meta's signed webhook, the agent answers through the API, the fake Graph API gets
// exactly the documented request, the message goes queued → sent, and receipt webhooks move
// it to delivered, then read; a late delivered changes nothing.
func TestDeliveryThroughWebhooks(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	graph := pt.NewServer(t, pt.Reply{Body: `{"messaging_product":"whatsapp","contacts":[{"input":"16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.OUT1"}]}`})
	const appSecret, verifyToken, token = "app-secret-0f9e", "verify-token-77", "EAAG-access-token"
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "WA", "provider": "whatsapp_cloud",
		"config": map[string]any{"phone_number_id": "106540352242922", "access_token": token, "app_secret": appSecret,
			"verify_token": verifyToken, "api_base": graph.URL + "/v25.0"}}).Expect(t, http.StatusCreated).JSON(t, &ch)

	// Meta's subscription handshake.
	r := e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/webhooks/" + ch.ID + "/whatsapp_cloud?hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=1158201444"})
	r.Expect(t, http.StatusOK)
	pt.Equal(t, "challenge", string(r.Body), "1158201444")
	e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/webhooks/" + ch.ID + "/whatsapp_cloud?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"}).
		ExpectProblem(t, http.StatusForbidden, "handshake_refused")

	// The customer writes; Meta delivers the webhook twice.
	now := e.Clock.Now().Unix()
	inbound := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
  "messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},
  "contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],
  "messages":[{"from":"16505551234","id":"wamid.IN1","timestamp":"%d","type":"text","text":{"body":"Does it come in red?"}}]}}]}]}`, now-60)
	sig := map[string]string{meta.SignatureHeader: meta.Sign([]byte(inbound), appSecret)}
	var ack struct{ Received, Duplicates, Receipts int }
	hook(t, e, ch.ID, "whatsapp_cloud", "application/json", inbound, sig).Expect(t, http.StatusOK).JSON(t, &ack)
	pt.Equal(t, "received", ack.Received, 1)
	hook(t, e, ch.ID, "whatsapp_cloud", "application/json", inbound, sig).Expect(t, http.StatusOK).JSON(t, &ack)
	pt.Equal(t, "duplicates on redelivery", ack.Duplicates, 1)
	var contacts struct {
		Data []contactBody `json:"data"`
	}
	e.Get(t, "/v1/contacts?q=sheena", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &contacts)
	if len(contacts.Data) != 1 {
		t.Fatalf("contacts named Sheena: %d, want 1", len(contacts.Data))
	}

	// The agent answers: queued at once, sent when the fake provider accepts it.
	var sent sendBody
	e.Post(t, "/v1/contacts/"+contacts.Data[0].ID+"/messages", w.OwnerToken, map[string]any{"type": "text", "text": "Yes, in red and blue."}).
		Expect(t, http.StatusCreated).JSON(t, &sent)
	pt.Equal(t, "status on 201", sent.Message.Status, "queued")
	m := waitMessage(t, e, w.OwnerToken, sent.Message.ID, "sent")
	pt.Equal(t, "provider_message_id", *m.ProviderMessageID, "wamid.OUT1")
	pt.Equal(t, "attempts", m.Attempts, 1)
	req := graph.Only(t)
	pt.Equal(t, "path", req.Path, "/v25.0/106540352242922/messages")
	pt.Equal(t, "Authorization", req.Header.Get("Authorization"), "Bearer "+token)
	pt.JSONEqual(t, req.Body, `{"messaging_product":"whatsapp","recipient_type":"individual","to":"16505551234","type":"text","text":{"body":"Yes, in red and blue.","preview_url":false}}`)

	// Receipts move it forward; a late one does not move it back.
	for _, step := range []struct{ status, want string }{{"delivered", "delivered"}, {"read", "read"}, {"delivered", "read"}, {"sent", "read"}} {
		body := statusWebhook("wamid.OUT1", step.status, now)
		hook(t, e, ch.ID, "whatsapp_cloud", "application/json", body, map[string]string{meta.SignatureHeader: meta.Sign([]byte(body), appSecret)}).
			Expect(t, http.StatusOK)
		var got deliveryBody
		e.Get(t, "/v1/messages/"+sent.Message.ID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &got)
		pt.Equal(t, "status after a "+step.status+" receipt", got.Status, step.want)
	}

	// Subscribers heard of each change that happened, and of nothing else: sent, delivered, read.
	pt.Equal(t, "message.status_changed events", count(t, e, `SELECT count(*) FROM events WHERE type = 'message.status_changed'`), 3)

	// A tampered body with the old signature, and no signature: 401, nothing stored.
	before := count(t, e, `SELECT count(*) FROM messages`)
	tampered := strings.Replace(inbound, "wamid.IN1", "wamid.IN2", 1)
	hook(t, e, ch.ID, "whatsapp_cloud", "application/json", tampered, sig).ExpectProblem(t, http.StatusUnauthorized, "invalid_signature")
	hook(t, e, ch.ID, "whatsapp_cloud", "application/json", tampered, nil).ExpectProblem(t, http.StatusUnauthorized, "invalid_signature")
	pt.Equal(t, "messages after refused webhooks", count(t, e, `SELECT count(*) FROM messages`), before)

	// The provider in the path must be the channel's; unknown channels are 404.
	hook(t, e, ch.ID, "telegram", "application/json", inbound, sig).ExpectProblem(t, http.StatusNotFound, "webhook_not_found")
	hook(t, e, "0192f0c1-aaaa-7000-8000-000000000001", "whatsapp_cloud", "application/json", inbound, sig).
		ExpectProblem(t, http.StatusNotFound, "channel_not_found")
	hook(t, e, "not-a-uuid", "whatsapp_cloud", "application/json", inbound, sig).ExpectProblem(t, http.StatusNotFound, "channel_not_found")
}

// TestProviderFailureThroughTheAPI: 500, 500, 200 is one delivery with three attempts shown
// by GET /v1/messages/{id}; a permanent refusal shows failed with the provider's code.
func TestProviderFailureThroughTheAPI(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	tg := pt.NewServer(t,
		pt.Reply{Status: 500, Body: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`},
		pt.Reply{Status: 500, Body: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`},
		pt.Reply{Body: `{"ok":true,"result":{"message_id":77,"chat":{"id":1111111,"type":"private"},"date":1,"text":"x"}}`},
		pt.Reply{Status: 403, Body: `{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`})
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "telegram", "name": "TG", "provider": "telegram",
		"config": map[string]any{"bot_token": "7012345678:AAE-secret", "secret_token": "tg-hook-secret", "api_base": tg.URL}}).
		Expect(t, http.StatusCreated).JSON(t, &ch)
	in := ingest(t, e, w.APIKey, ch.ID, map[string]any{"identifier": "1111111", "text": "hi"})
	send := func() string {
		var s sendBody
		e.Post(t, "/v1/contacts/"+in.Contact.ID+"/messages", w.OwnerToken, map[string]any{"type": "text", "text": "hello"}).
			Expect(t, http.StatusCreated).JSON(t, &s)
		return s.Message.ID
	}
	m := waitMessage(t, e, w.OwnerToken, send(), "sent")
	pt.Equal(t, "attempts", m.Attempts, 3)
	pt.Equal(t, "provider_message_id", *m.ProviderMessageID, "77")
	m = waitMessage(t, e, w.OwnerToken, send(), "failed")
	pt.Equal(t, "error code", m.Error.Code, "403")
	pt.Equal(t, "error message", m.Error.Message, "Forbidden: bot was blocked by the user")

	// The dispatcher counts an attempt once the status it records has committed, which is
	// what waitMessage saw, so the counters may trail it by a moment.
	wants := []string{
		`switchboard_delivery_attempts_total{provider="telegram",result="retry"} 2`,
		`switchboard_delivery_attempts_total{provider="telegram",result="sent"} 1`,
		`switchboard_delivery_attempts_total{provider="telegram",result="failed"} 1`,
		`switchboard_delivery_outcomes_total{provider="telegram",status="failed"} 1`,
		`switchboard_delivery_latency_seconds_count{provider="telegram"} 1`,
		`switchboard_delivery_queue_depth{state="available"} 0`,
	}
	var missing []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(25 * time.Millisecond) {
		metrics := string(e.Unvalidated(t, "/metrics").Body)
		missing = slices.DeleteFunc(slices.Clone(wants), func(w string) bool { return strings.Contains(metrics, w) })
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, m := range missing {
		t.Errorf("/metrics lacks %s", m)
	}
}

// TestSignedWebhooksPerProvider: each provider's own signature is accepted, a tampered body
// or a missing signature is 401 and stores nothing.
func TestSignedWebhooksPerProvider(t *testing.T) {
	e := providerEnv(t, func(c *config.Config) { c.PublicBaseURL = "https://sb.example.com" })
	w := e.NewWorkspace(t, "Acme")
	create := func(typ, prov string, cfg map[string]any) string {
		var ch channelBody
		e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": typ, "name": typ, "provider": prov, "config": cfg}).
			Expect(t, http.StatusCreated).JSON(t, &ch)
		return ch.ID
	}
	type signed struct {
		contentType string
		body        string
		header      map[string]string
	}
	tests := []struct {
		name, typ, prov string
		config          map[string]any
		// sign returns the signed webhook for a channel, with the given body marker.
		sign func(channel, marker string) signed
	}{
		{"messenger", "messenger", "messenger", map[string]any{"page_id": "1234567890", "page_access_token": "pat", "app_secret": "m-app-secret"},
			func(_, marker string) signed {
				b := `{"object":"page","entry":[{"id":"1234567890","time":1458692752478,"messaging":[{"sender":{"id":"6543210987654321"},"recipient":{"id":"1234567890"},"timestamp":1458692752478,"message":{"mid":"m_` + marker + `","text":"hello, world!"}}]}]}`
				return signed{"application/json", b, map[string]string{meta.SignatureHeader: meta.Sign([]byte(b), "m-app-secret")}}
			}},
		{"telegram", "telegram", "telegram", map[string]any{"bot_token": "1:tok", "secret_token": "tg-secret-token"},
			func(_, marker string) signed {
				b := `{"update_id":10000,"message":{"message_id":` + marker + `,"date":1441645532,"text":"hello","from":{"id":1111111,"is_bot":false,"first_name":"Ann"},"chat":{"id":1111111,"type":"private"}}}`
				return signed{"application/json", b, map[string]string{"X-Telegram-Bot-Api-Secret-Token": "tg-secret-token"}}
			}},
		{"twilio", "sms", "twilio", map[string]any{"account_sid": "AC1", "auth_token": "twilio-auth-token", "from": "+15017122661"},
			func(channel, marker string) signed {
				form := url.Values{"MessageSid": {"SM" + marker}, "AccountSid": {"AC1"}, "From": {"+15558675310"}, "To": {"+15017122661"},
					"Body": {"hello"}, "NumMedia": {"0"}}
				sig := twilio.Sign("twilio-auth-token", "https://sb.example.com/webhooks/"+channel+"/twilio", form)
				return signed{"application/x-www-form-urlencoded", form.Encode(), map[string]string{twilio.SignatureHeader: sig}}
			}},
		{"viber", "viber", "viber", map[string]any{"auth_token": "viber-auth-token", "sender_name": "Acme"},
			func(_, marker string) signed {
				b := `{"event":"message","timestamp":1457764197627,"message_token":491266184665523` + marker + `,"sender":{"id":"01234567890A=","name":"John McClane"},"message":{"type":"text","text":"hello"}}`
				return signed{"application/json", b, map[string]string{viber.SignatureHeader: viber.Sign([]byte(b), "viber-auth-token")}}
			}},
		{"line", "line", "line", map[string]any{"channel_access_token": "cat", "channel_secret": "line-channel-secret"},
			func(_, marker string) signed {
				b := `{"destination":"x","events":[{"type":"message","message":{"type":"text","id":"1435379892111` + marker + `","text":"hello"},"timestamp":1625665242211,"source":{"type":"user","userId":"U80696558e1aa831"},"mode":"active","webhookEventId":"01FZ` + marker + `"}]}`
				return signed{"application/json", b, map[string]string{line.SignatureHeader: line.Sign([]byte(b), "line-channel-secret")}}
			}},
		{"smtp", "email", "smtp", map[string]any{"host": "smtp.example.com", "from": "support@example.com", "password": "smtp-pass", "inbound_secret": "mail-gateway-secret"},
			func(_, marker string) signed {
				b := "From: Ann Lee <ann@example.org>\r\nTo: support@example.com\r\nSubject: Order\r\nMessage-ID: <" + marker + "@example.org>\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWhere is my order?\r\n"
				return signed{"message/rfc822", b, map[string]string{"Authorization": "Bearer mail-gateway-secret"}}
			}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch := create(tc.typ, tc.prov, tc.config)
			marker := fmt.Sprint(100 + i)
			good := tc.sign(ch, marker)
			var ack struct{ Received int }
			hook(t, e, ch, tc.prov, good.contentType, good.body, good.header).Expect(t, http.StatusOK).JSON(t, &ack)
			pt.Equal(t, "received", ack.Received, 1)
			stored := count(t, e, `SELECT count(*) FROM messages WHERE channel_id = $1`, ch)
			pt.Equal(t, "stored", stored, 1)

			other := tc.sign(ch, fmt.Sprint(200+i))
			if tc.prov == "telegram" || tc.prov == "smtp" {
				// Their check is a shared secret in a header, not a signature over the body:
				// a wrong secret is the forgery to refuse.
				wrong := map[string]string{}
				for k, v := range good.header {
					wrong[k] = v + "x"
				}
				hook(t, e, ch, tc.prov, good.contentType, other.body, wrong).ExpectProblem(t, http.StatusUnauthorized, "invalid_signature")
			} else {
				hook(t, e, ch, tc.prov, good.contentType, other.body, good.header).ExpectProblem(t, http.StatusUnauthorized, "invalid_signature")
			}
			hook(t, e, ch, tc.prov, good.contentType, other.body, nil).ExpectProblem(t, http.StatusUnauthorized, "invalid_signature")
			pt.Equal(t, "stored after refused webhooks", count(t, e, `SELECT count(*) FROM messages WHERE channel_id = $1`, ch), 1)
		})
	}
}

// TestProviderSecretsNeverShown: secrets given to channels appear in no API answer and no
// log line, through creation, listing, sends (with a failing provider that echoes them) and
// webhooks.
func TestProviderSecretsNeverShown(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	secrets := []string{"EAAG-leaky-access-token-1", "leaky-app-secret-2", "leaky-verify-token-3", "leaky-bot-token-4:AAE", "leaky-secret-token-5"}
	// A provider that echoes what it got, as a careless error page might.
	echo := pt.NewServer(t, pt.Reply{Status: 400, Body: `{"error":{"message":"bad token EAAG-leaky-access-token-1","type":"OAuthException","code":190}}`})
	var bodies []string
	keep := func(r *apitest.Response) *apitest.Response { bodies = append(bodies, string(r.Body)); return r }
	var wa, tg channelBody
	keep(e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "WA", "provider": "whatsapp_cloud",
		"config": map[string]any{"phone_number_id": "1065", "access_token": secrets[0], "app_secret": secrets[1], "verify_token": secrets[2],
			"api_base": echo.URL}})).Expect(t, http.StatusCreated).JSON(t, &wa)
	keep(e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "telegram", "name": "TG", "provider": "telegram",
		"config": map[string]any{"bot_token": secrets[3], "secret_token": secrets[4], "api_base": echo.URL}})).Expect(t, http.StatusCreated).JSON(t, &tg)
	keep(e.Get(t, "/v1/channels", w.OwnerToken))
	keep(e.Get(t, "/v1/channels/"+wa.ID, w.OwnerToken))
	keep(e.Patch(t, "/v1/channels/"+tg.ID, w.OwnerToken, map[string]any{"type": "telegram", "name": "Telegram"}))
	keep(e.Patch(t, "/v1/channels/"+tg.ID, w.OwnerToken, map[string]any{"type": "telegram", "provider": "telegram", "config": map[string]any{"secret_token": secrets[4]}}))

	for _, ch := range []channelBody{wa, tg} {
		identifier := "+16505550199"
		if ch.ID == tg.ID {
			identifier = "4242"
		}
		in := ingest(t, e, w.APIKey, ch.ID, map[string]any{"identifier": identifier, "text": "hi"})
		var s sendBody
		keep(e.Post(t, "/v1/contacts/"+in.Contact.ID+"/messages", w.OwnerToken, map[string]any{"type": "text", "text": "hello"})).
			Expect(t, http.StatusCreated).JSON(t, &s)
		waitMessage(t, e, w.OwnerToken, s.Message.ID, "failed")
		keep(e.Get(t, "/v1/messages/"+s.Message.ID, w.OwnerToken))
		keep(e.Get(t, "/v1/conversations/"+in.Conversation.ID+"/messages", w.OwnerToken))
	}
	// Webhooks with wrong and right secrets, and the handshake.
	keep(hook(t, e, tg.ID, "telegram", "application/json", `{"update_id":1}`, map[string]string{"X-Telegram-Bot-Api-Secret-Token": "nope"}))
	keep(hook(t, e, tg.ID, "telegram", "application/json", `{"update_id":1}`, map[string]string{"X-Telegram-Bot-Api-Secret-Token": secrets[4]}))
	keep(e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/webhooks/" + wa.ID + "/whatsapp_cloud?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1"}))
	keep(e.Unvalidated(t, "/metrics"))

	logs := e.LogText()
	for _, s := range secrets {
		for _, b := range bodies {
			if strings.Contains(b, s) {
				t.Errorf("secret %q in an API answer: %s", s, b)
			}
		}
		if strings.Contains(logs, s) {
			t.Errorf("secret %q in the server log", s)
		}
	}
	// The echoed token was redacted from the stored error.
	var list struct {
		Data []deliveryBody `json:"data"`
	}
	in := ingest(t, e, w.APIKey, wa.ID, map[string]any{"identifier": "+16505550199", "text": "again"})
	e.Get(t, "/v1/conversations/"+in.Conversation.ID+"/messages", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &list)
	for _, msg := range list.Data {
		if msg.Error != nil && !strings.Contains(msg.Error.Message, "[redacted]") {
			t.Errorf("provider error kept without redaction: %q", msg.Error.Message)
		}
	}
}

// TestTwilioSignatureWithoutPublicBaseURL: without PUBLIC_BASE_URL the signed URL is the
// request's own scheme, host, path and query.
func TestTwilioSignatureWithoutPublicBaseURL(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "sms", "name": "SMS", "provider": "twilio",
		"config": map[string]any{"account_sid": "AC1", "auth_token": "twilio-auth-token", "from": "+15017122661"}}).
		Expect(t, http.StatusCreated).JSON(t, &ch)
	form := url.Values{"MessageSid": {"SM1"}, "AccountSid": {"AC1"}, "From": {"+15558675310"}, "To": {"+15017122661"}, "Body": {"hi"}}
	sig := twilio.Sign("twilio-auth-token", e.URL+"/webhooks/"+ch.ID+"/twilio", form)
	hook(t, e, ch.ID, "twilio", "application/x-www-form-urlencoded", form.Encode(), map[string]string{twilio.SignatureHeader: sig}).
		Expect(t, http.StatusOK)
	wrongHost := twilio.Sign("twilio-auth-token", "https://elsewhere.example.com/webhooks/"+ch.ID+"/twilio", form)
	hook(t, e, ch.ID, "twilio", "application/x-www-form-urlencoded", form.Encode(), map[string]string{twilio.SignatureHeader: wrongHost}).
		ExpectProblem(t, http.StatusUnauthorized, "invalid_signature")
}
