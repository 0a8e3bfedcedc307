package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
)

// TestMessageReadsAgree: after a delivery that failed once and was retried, the message in
// its conversation's thread is the same JSON object, byte for byte, as GET /v1/messages/{id}
// (both read attempts and last_attempt_at).
func TestMessageReadsAgree(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	tg := pt.NewServer(t,
		pt.Reply{Status: 500, Body: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`},
		pt.Reply{Body: `{"ok":true,"result":{"message_id":78,"chat":{"id":2222222,"type":"private"},"date":1,"text":"x"}}`})
	var ch channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "telegram", "name": "TG", "provider": "telegram",
		"config": map[string]any{"bot_token": "7012345678:AAE-secret", "secret_token": "tg-hook-secret", "api_base": tg.URL}}).
		Expect(t, http.StatusCreated).JSON(t, &ch)
	in := ingest(t, e, w.APIKey, ch.ID, map[string]any{"identifier": "2222222", "text": "hi"})
	var s sendBody
	e.Post(t, "/v1/contacts/"+in.Contact.ID+"/messages", w.OwnerToken, map[string]any{"type": "text", "text": "hello"}).
		Expect(t, http.StatusCreated).JSON(t, &s)
	m := waitMessage(t, e, w.OwnerToken, s.Message.ID, "sent")
	pt.Equal(t, "attempts", m.Attempts, 2)

	one := e.Get(t, "/v1/messages/"+s.Message.ID, w.OwnerToken).Expect(t, http.StatusOK).Body
	var thread struct {
		Data []json.RawMessage `json:"data"`
	}
	e.Get(t, "/v1/conversations/"+in.Conversation.ID+"/messages", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &thread)
	var inThread []byte
	for _, raw := range thread.Data {
		var id struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(raw, &id); err != nil {
			t.Fatal(err)
		}
		if id.ID == s.Message.ID {
			inThread = raw
		}
	}
	if inThread == nil {
		t.Fatalf("message %s is not in its conversation's thread", s.Message.ID)
	}
	if !bytes.Equal(inThread, bytes.TrimSpace(one)) {
		t.Errorf("the thread's message differs from GET /v1/messages/{id}:\nthread: %s\nmessage: %s", inThread, one)
	}
}
