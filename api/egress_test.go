package api_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
)

// countingListener is a TCP listener on 127.0.0.1 that counts the connections it accepts and
// closes each at once (so a client that does get through fails fast instead of waiting).
type countingListener struct {
	ln       net.Listener
	accepted atomic.Int64
}

func listenLoopback(t *testing.T) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &countingListener{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.accepted.Add(1)
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return l
}

func (l *countingListener) port() int { return l.ln.Addr().(*net.TCPAddr).Port }

// TestSMTPChannelCannotReachLoopback: an smtp channel whose host resolves to loopback (the
// name "localhost", which no save-time check can see through) never connects while loopback
// is not allowed: the listener hears nothing, and the message fails with one fixed text that
// says nothing about the port (refused, closed or timed out), in its error and on the event
// feed.
func TestSMTPChannelCannotReachLoopback(t *testing.T) {
	e := apitest.New(t, apitest.WithWorkers(1)) // PROVIDER_API_BASE_OVERRIDE off
	w := e.NewWorkspace(t, "Acme")
	l := listenLoopback(t)
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "email", "name": "Mail", "provider": "smtp",
		"config": map[string]any{"host": "localhost", "port": l.port(), "tls": "none", "from": "support@acme.example"}}).
		Expect(t, http.StatusCreated).JSON(t, &ch)
	in := ingest(t, e, w.APIKey, ch.ID, map[string]any{"identifier": "ann@example.com", "text": "hello"})
	var s sendBody
	e.Post(t, "/v1/contacts/"+in.Contact.ID+"/messages", w.OwnerToken, map[string]any{"type": "text", "text": "hi Ann"}).
		Expect(t, http.StatusCreated).JSON(t, &s)

	m := waitMessage(t, e, w.OwnerToken, s.Message.ID, "failed")
	if m.Error == nil {
		t.Fatalf("failed message without an error: %+v", m)
	}
	pt.Equal(t, "error code", m.Error.Code, "forbidden_destination")
	pt.Equal(t, "error message", m.Error.Message, "destination address is not allowed")
	pt.Equal(t, "attempts", m.Attempts, 1)
	pt.Equal(t, "connections accepted", l.accepted.Load(), int64(0))

	feed := string(e.Get(t, "/v1/events?types=message.status_changed", w.APIKey).Expect(t, http.StatusOK).Body)
	if !strings.Contains(feed, "destination address is not allowed") {
		t.Errorf("event feed lacks the fixed text: %s", feed)
	}
	for _, leak := range []string{"refused", "EOF", "timeout", "127.0.0.1", strconv.Itoa(l.port())} {
		if strings.Contains(feed, leak) {
			t.Errorf("event feed shows %q: %s", leak, feed)
		}
	}
	// Give a straggling retry the time to show itself.
	time.Sleep(300 * time.Millisecond)
	pt.Equal(t, "connections accepted", l.accepted.Load(), int64(0))
}

// TestChannelDestinationsRefusedAtSave: an IP literal no delivery could reach is refused when
// the channel is saved, naming the field; nothing is dialled to find out. Ports outside 1-65535
// in a URL are refused the same way.
func TestChannelDestinationsRefusedAtSave(t *testing.T) {
	smtpCfg := func(host string) map[string]any {
		return map[string]any{"type": "email", "name": "Mail", "provider": "smtp",
			"config": map[string]any{"host": host, "tls": "none", "from": "support@acme.example"}}
	}
	hookCfg := func(u string) map[string]any {
		return map[string]any{"type": "custom", "name": "Hook", "provider": "webhook",
			"config": map[string]any{"url": u, "secret": "s3cr3t"}}
	}
	lineCfg := func(base string) map[string]any {
		return map[string]any{"type": "line", "name": "LINE", "provider": "line",
			"config": map[string]any{"channel_access_token": "t", "channel_secret": "s", "api_base": base}}
	}
	expectField := func(t *testing.T, e *apitest.Env, token string, body map[string]any, field string) {
		t.Helper()
		r := e.Post(t, "/v1/channels", token, body).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
		if !problemFields(t, r)[field] {
			t.Errorf("%v: problem does not name %s: %s", body["config"], field, r.Body)
		}
	}

	off := apitest.New(t) // neither PROVIDER_API_BASE_OVERRIDE nor WEBHOOK_ALLOW_LOOPBACK
	w := off.NewWorkspace(t, "Acme")
	for _, host := range []string{"10.0.0.5", "127.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.0",
		"::1", "[::1]", "::127.0.0.1", "[::ffff:10.0.0.1]", "fd00::1", "100.64.0.1", "smtp.example.com:25", "a b",
		// Addresses in disguise, which C resolvers read as 127.0.0.1.
		"127.1", "2130706433", "0177.0.0.1", "0x7f000001", "0x7f.1"} {
		expectField(t, off, w.OwnerToken, smtpCfg(host), "config.host")
	}
	for _, u := range []string{"https://10.0.0.1/x", "http://127.0.0.1:8080/x", "https://[::127.0.0.1]/x",
		"https://93.184.215.14:99999/x", "https://example.com:99999/x", "https://example.com:0/x",
		"http://127.1:8089/", "http://2130706433:8089/", "http://0x7f.1:8089/", "http://0177.0.0.1:8089/", "http://0x7f000001/"} {
		expectField(t, off, w.OwnerToken, hookCfg(u), "config.url")
	}
	// Names and public addresses are saved; whether they may be reached is decided at each dial.
	off.Post(t, "/v1/channels", w.OwnerToken, smtpCfg("smtp.example.com")).Expect(t, http.StatusCreated)
	off.Post(t, "/v1/channels", w.OwnerToken, smtpCfg("93.184.215.14")).Expect(t, http.StatusCreated)
	off.Post(t, "/v1/channels", w.OwnerToken, hookCfg("https://93.184.215.14:8443/x")).Expect(t, http.StatusCreated)

	// The development switches let loopback in, never private ranges or bad ports.
	on := apitest.New(t, func(c *config.Config) { c.ProviderAPIBaseOverride, c.WebhookAllowLoopback = true, true })
	w = on.NewWorkspace(t, "Acme")
	on.Post(t, "/v1/channels", w.OwnerToken, smtpCfg("127.0.0.1")).Expect(t, http.StatusCreated)
	on.Post(t, "/v1/channels", w.OwnerToken, hookCfg("http://127.0.0.1:9/x")).Expect(t, http.StatusCreated)
	on.Post(t, "/v1/channels", w.OwnerToken, lineCfg("http://127.0.0.1:9/line")).Expect(t, http.StatusCreated)
	expectField(t, on, w.OwnerToken, smtpCfg("10.0.0.5"), "config.host")
	expectField(t, on, w.OwnerToken, hookCfg("https://192.168.0.1/x"), "config.url")
	expectField(t, on, w.OwnerToken, lineCfg("http://10.0.0.1/line"), "config.api_base")
	expectField(t, on, w.OwnerToken, lineCfg("https://[::10.0.0.1]/line"), "config.api_base")
	expectField(t, on, w.OwnerToken, lineCfg("http://127.0.0.1:65536/line"), "config.api_base")
}

// TestSubscriberURLEmbeddingsAndPorts: an IPv4-compatible IPv6 literal (::/96) or a port
// outside 1-65535 is refused when a webhook subscription is created or changed.
func TestSubscriberURLEmbeddingsAndPorts(t *testing.T) {
	e := apitest.New(t) // WEBHOOK_ALLOW_LOOPBACK off
	w := e.NewWorkspace(t, "A")
	for _, u := range []string{
		"https://[::127.0.0.1]/x", "https://[::10.0.0.1]/x", "https://[::a00:1]/x", "https://[2002:a00:1::1]/x",
		"https://[2001::1]/x", "https://[::ffff:0:a00:1]/x", "https://example.com:99999/x", "https://93.184.215.14:99999/x",
		"https://93.184.215.14:0/x", "https://127.1/x", "https://2130706433/x", "https://0x7f000001/x", "https://0x7f.1/x",
	} {
		r := e.Post(t, "/v1/webhooks", w.OwnerToken, map[string]any{"url": u, "events": []string{"*"}}).
			ExpectProblem(t, http.StatusUnprocessableEntity, "webhook_url_refused")
		if !problemFields(t, r)["url"] {
			t.Errorf("%s: problem does not name url: %s", u, r.Body)
		}
	}
	// A name that resolves inside gets the answer a name that does not resolve would get: the
	// problem must not map the server's hosts file or DNS for the workspace (localhost comes
	// from /etc/hosts, so this test sends no DNS query).
	r := e.Post(t, "/v1/webhooks", w.OwnerToken, map[string]any{"url": "https://localhost/x", "events": []string{"*"}}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "webhook_url_refused")
	if want := `host "localhost" does not resolve to an address this server may connect to`; problemFieldMessage(t, r, "url") != want {
		t.Errorf("a name resolving to loopback: %s, want the message %q", r.Body, want)
	}

	// With loopback allowed (development), an embedded loopback address is still not loopback.
	dev := apitest.New(t, liveOpts)
	dw := dev.NewWorkspace(t, "dev")
	sub := newSubscriber(t, nil)
	hook := createWebhook(t, dev, dw.OwnerToken, sub.URL, "*")
	dev.Post(t, "/v1/webhooks", dw.OwnerToken, map[string]any{"url": "http://[::127.0.0.1]:" + sub.URL[strings.LastIndex(sub.URL, ":")+1:] + "/x", "events": []string{"*"}}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "webhook_url_refused")
	dev.Patch(t, "/v1/webhooks/"+hook.ID, dw.OwnerToken, map[string]any{"url": "https://[::127.0.0.1]/x"}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "webhook_url_refused")
	dev.Patch(t, "/v1/webhooks/"+hook.ID, dw.OwnerToken, map[string]any{"url": "http://127.0.0.1:65536/x"}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "webhook_url_refused")
	dev.Patch(t, "/v1/webhooks/"+hook.ID, dw.OwnerToken, map[string]any{"url": "http://127.0.0.1:99999/x"}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "webhook_url_refused")
}

// problemFieldMessage is the message a problem gives for field.
func problemFieldMessage(t *testing.T, r *apitest.Response, field string) string {
	t.Helper()
	var p struct {
		Errors []struct{ Field, Message string } `json:"errors"`
	}
	r.JSON(t, &p)
	for _, f := range p.Errors {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

// TestSubscriberDeliveryToARefusedAddressSaysOneThing: a subscriber URL that passed the save
// check but points inside when delivered (DNS rebinding, simulated by changing the stored URL
// to a loopback name) is refused at the dial, never reaches the listener, and the delivery log
// shows the fixed text only, not the address the name resolved to.
func TestSubscriberDeliveryToARefusedAddressSaysOneThing(t *testing.T) {
	e := apitest.New(t, func(c *config.Config) { c.WebhookPoll = 50 * time.Millisecond }) // loopback not allowed
	w := e.NewWorkspace(t, "A")
	sub := newSubscriber(t, nil)
	hook := createWebhook(t, e, w.OwnerToken, "https://93.184.215.14/hooks", "contact.created")
	port := sub.URL[strings.LastIndex(sub.URL, ":")+1:]
	if _, err := e.Store.Pool.Exec(context.Background(), `UPDATE webhooks SET url = $1 WHERE id = $2`,
		"http://localhost:"+port+"/hooks", hook.ID); err != nil {
		t.Fatal(err)
	}
	e.NewContact(t, w.APIKey, map[string]any{"first_name": "Maria"})

	var log []deliveryRow
	waitFor(t, func() bool {
		log = webhookDeliveries(t, e, w.APIKey, hook.ID)
		return len(log) == 1 && len(log[0].AttemptLog) > 0
	})
	if msg := log[0].AttemptLog[0].Error; msg == nil || *msg != "destination address is not allowed" {
		t.Fatalf("attempt error %q, want exactly the fixed refusal text", derefString(msg))
	}
	if n := sub.calls(); n != 0 {
		t.Fatalf("the loopback listener heard %d deliveries", n)
	}
}

func derefString(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
