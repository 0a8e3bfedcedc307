package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/switchboard/switchboard/pkg/provider/meta"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
)

// TestProviderInputWithNUL: a signed WhatsApp webhook and an inbound mail carrying NUL
// characters (and a mail that is not UTF-8) answer 200 and are stored with U+FFFD in their
// place; they used to answer 500, and the provider redelivered them forever.
func TestProviderInputWithNUL(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	const appSecret = "app-secret-nul"
	var wa channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "WA", "provider": "whatsapp_cloud",
		"config": map[string]any{"phone_number_id": "106540352242922", "access_token": "tok", "app_secret": appSecret}}).
		Expect(t, http.StatusCreated).JSON(t, &wa)
	var mail channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "email", "name": "Mail", "provider": "smtp",
		"config": map[string]any{"host": "smtp.example.com", "from": "support@example.com", "password": "p", "inbound_secret": "gateway-secret"}}).
		Expect(t, http.StatusCreated).JSON(t, &mail)

	body := fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
  "messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},
  "contacts":[{"profile":{"name":"Nul\u0000la Nelson"},"wa_id":"16505551234"}],
  "messages":[{"from":"16505551234","id":"wamid.NUL\u00001","timestamp":"%d","type":"text","text":{"body":"red\u0000 or blue?"}}]}}]}]}`,
		e.Clock.Now().Unix()-60)
	var ack struct{ Received, Duplicates int }
	hook(t, e, wa.ID, "whatsapp_cloud", "application/json", body, map[string]string{meta.SignatureHeader: meta.Sign([]byte(body), appSecret)}).
		Expect(t, http.StatusOK).JSON(t, &ack)
	pt.Equal(t, "whatsapp received", ack.Received, 1)
	hook(t, e, wa.ID, "whatsapp_cloud", "application/json", body, map[string]string{meta.SignatureHeader: meta.Sign([]byte(body), appSecret)}).
		Expect(t, http.StatusOK).JSON(t, &ack)
	pt.Equal(t, "whatsapp redelivery is a duplicate", ack.Duplicates, 1)

	mails := []struct{ name, raw, text, from string }{
		{"NUL bytes", "From: Ann Lee <ann@example.org>\r\nTo: support@example.com\r\nSubject: Or\x00der\r\nMessage-ID: <nul\x00@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWhere\x00 is it?\r\n",
			"Where\uFFFD is it?", "ann@example.org"},
		{"not UTF-8", "From: Bob <bob@example.org>\r\nTo: support@example.com\r\nSubject: Caf\xe9\r\nMessage-ID: <latin@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCaf\xe9 au lait\r\n",
			"Caf\uFFFD au lait", "bob@example.org"},
	}
	for _, m := range mails {
		hook(t, e, mail.ID, "smtp", "message/rfc822", m.raw, map[string]string{"Authorization": "Bearer gateway-secret"}).
			Expect(t, http.StatusOK).JSON(t, &ack)
		pt.Equal(t, m.name+": received", ack.Received, 1)
	}

	// Each message is visible through the API with U+FFFD for what could not be stored.
	texts := map[string]bool{}
	var convs conversationPage
	e.Get(t, "/v1/conversations", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &convs)
	for _, c := range convs.Data {
		var msgs struct{ Data []messageBody }
		e.Get(t, "/v1/conversations/"+c.ID+"/messages", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &msgs)
		for _, m := range msgs.Data {
			texts[m.Text] = true
		}
	}
	for _, want := range []string{"red\uFFFD or blue?", mails[0].text, mails[1].text} {
		if !texts[want] {
			t.Errorf("no message %q among %v", want, texts)
		}
	}
	var contacts contactPage
	e.Get(t, "/v1/contacts?q=nelson", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &contacts)
	if len(contacts.Data) != 1 || contacts.Data[0].FirstName != "Nul\uFFFDla" {
		t.Fatalf("contact from the webhook: %+v", contacts.Data)
	}
	pt.Equal(t, "messages stored", count(t, e, `SELECT count(*) FROM messages`), 3)
}
