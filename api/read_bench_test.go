package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/switchboard/switchboard/api/apitest"
)

// BenchmarkReads measures the two hottest reads through the real HTTP stack and PostgreSQL:
// an agent's inbox page (25 open conversations) and a contact's send-eligibility. Besides
// req/s it reports cpu-µs/req (see runParallel). Run with `make bench-go`.
func BenchmarkReads(b *testing.B) {
	e := apitest.New(b)
	w, contacts := seedBenchInbox(b, e, "Bench")
	c := newBenchClient(e, w.OwnerToken)
	runParallel(b, "inbox", func(int64) { c.do(b, http.MethodGet, "/v1/conversations?status=open&inbox=mine", nil) })
	runParallel(b, "eligibility", func(i int64) {
		c.do(b, http.MethodGet, "/v1/contacts/"+contacts[i%int64(len(contacts))]+"/send-eligibility", nil)
	})
}

// seedBenchInbox makes a workspace named name whose owner has 40 open conversations, each
// from a new WhatsApp contact, assigned to them: the owner's inbox page the read benchmarks
// request. It answers the workspace and the contacts' ids.
func seedBenchInbox(b *testing.B, e *apitest.Env, name string) (*apitest.Workspace, []string) {
	w := e.NewWorkspace(b, name)
	var ch channelBody
	e.Post(b, "/v1/channels", w.OwnerToken, map[string]any{"type": "whatsapp", "name": "wa"}).Expect(b, http.StatusCreated).JSON(b, &ch)
	contacts := make([]string, 40)
	for i := range contacts {
		var in inboundBody
		e.Post(b, "/v1/channels/"+ch.ID+"/inbound", w.APIKey, map[string]any{"identifier": fmt.Sprintf("+1415555%04d", i),
			"text": "Hi, my order #1234 never arrived", "contact": map[string]any{"first_name": "Maria", "last_name": fmt.Sprintf("Gonzalez %d", i),
				"email": fmt.Sprintf("maria.%d@example.com", i)}}).Expect(b, http.StatusCreated).JSON(b, &in)
		e.Put(b, "/v1/conversations/"+in.Conversation.ID+"/assignee", w.OwnerToken, map[string]any{"user_id": w.OwnerID}).Expect(b, http.StatusOK)
		contacts[i] = in.Contact.ID
	}
	return w, contacts
}
