package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/switchboard/switchboard/api/apitest"
)

// BenchmarkSend measures rule-checked sends and eligibility answers through the real HTTP
// stack and PostgreSQL. Run with `make bench-go`.
func BenchmarkSend(b *testing.B) {
	e := apitest.New(b)
	w := e.NewWorkspace(b, "Bench")
	var ch channelBody
	e.Post(b, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "wa"}).Expect(b, http.StatusCreated).JSON(b, &ch)
	contacts := make([]string, 500)
	for i := range contacts {
		var in inboundBody
		e.Post(b, "/v1/channels/"+ch.ID+"/inbound", w.APIKey, map[string]any{"identifier": fmt.Sprintf("+1415555%04d", i), "text": "hi"}).
			Expect(b, http.StatusCreated).JSON(b, &in)
		contacts[i] = in.Contact.ID
	}
	c := newBenchClient(e, w.OwnerToken)
	msg, _ := json.Marshal(map[string]any{"type": "text", "text": "Your order has shipped", "channel_id": ch.ID})
	runParallel(b, "one conversation", func(int64) { c.do(b, http.MethodPost, "/v1/contacts/"+contacts[0]+"/messages", msg) })
	runParallel(b, "many contacts", func(i int64) {
		c.do(b, http.MethodPost, "/v1/contacts/"+contacts[i%int64(len(contacts))]+"/messages", msg)
	})
	runParallel(b, "eligibility", func(i int64) {
		c.do(b, http.MethodGet, "/v1/contacts/"+contacts[i%int64(len(contacts))]+"/send-eligibility", nil)
	})
}
