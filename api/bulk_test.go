package api_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
)

type bulkBody struct {
	Results []struct {
		ID     string `json:"id"`
		Status int    `json:"status"`
		Error  *struct {
			Code string `json:"code"`
		} `json:"error"`
	} `json:"results"`
}

// Bulk actions answer per id: another workspace's conversation is its own 422 and the others
// are applied; the single-conversation rules hold per id; over 100 ids is refused whole
// (issue 17, acceptance 3).
func TestBulkConversations(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Bulk")
	b := e.NewWorkspace(t, "Other")
	agent := e.NewUser(t, w, "agent")
	ch := newChannel(t, e, w.OwnerToken, "custom")
	var ids []string
	for _, who := range []string{"a", "b", "c"} {
		ids = append(ids, ingest(t, e, w.APIKey, ch, map[string]any{"identifier": who, "text": "hi"}).Conversation.ID)
	}
	bCh := newChannel(t, e, b.OwnerToken, "custom")
	foreign := ingest(t, e, b.APIKey, bCh, map[string]any{"identifier": "x", "text": "hi"}).Conversation.ID

	do := func(token string, body map[string]any) bulkBody {
		var out bulkBody
		e.Post(t, "/v1/conversations/bulk", token, body).Expect(t, http.StatusOK).JSON(t, &out)
		return out
	}
	status := func(r bulkBody) (got []int) {
		for _, x := range r.Results {
			got = append(got, x.Status)
		}
		return got
	}
	r := do(w.OwnerToken, map[string]any{"action": "assign", "assignee_id": agent.ID,
		"conversation_ids": []string{ids[0], foreign, ids[1], ids[0]}})
	if got := status(r); len(got) != 3 || got[0] != 200 || got[1] != 422 || got[2] != 200 || r.Results[1].Error.Code != "validation_failed" {
		t.Fatalf("assign answers %+v", r)
	}
	if got := listIDs(t, e, w.OwnerToken, "assignee_id="+agent.ID); len(got) != 2 {
		t.Errorf("the agent has %d conversations, want 2", len(got))
	}
	var other routedConversation
	e.Get(t, "/v1/conversations/"+foreign, b.OwnerToken).Expect(t, http.StatusOK).JSON(t, &other)
	if other.Assignee != nil {
		t.Errorf("another workspace's conversation was assigned")
	}

	// An agent may not assign others: each id says so.
	r = do(agent.Token, map[string]any{"action": "assign", "assignee_id": w.OwnerID, "conversation_ids": ids})
	for _, x := range r.Results {
		if x.Status != 403 || x.Error.Code != "assignment_forbidden" {
			t.Errorf("an agent's assign of another: %+v", x)
		}
	}
	// Close them all; the one already closed answers 409, the rest are applied.
	e.Post(t, "/v1/conversations/"+ids[2]+"/close", w.OwnerToken, map[string]any{}).Expect(t, http.StatusOK)
	r = do(w.APIKey, map[string]any{"action": "close", "summary": "done", "conversation_ids": ids})
	if got := status(r); got[0] != 200 || got[1] != 200 || got[2] != 409 {
		t.Errorf("close answers %v", got)
	}
	if got := listIDs(t, e, w.OwnerToken, "status=open"); len(got) != 0 {
		t.Errorf("%d still open", len(got))
	}

	many := make([]string, 101)
	for i := range many {
		many[i] = uuid.NewString()
	}
	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"over 100 ids", map[string]any{"action": "close", "conversation_ids": many}},
		{"no ids", map[string]any{"action": "close", "conversation_ids": []string{}}},
		{"unknown action", map[string]any{"action": "merge", "conversation_ids": ids}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Post(t, "/v1/conversations/bulk", w.OwnerToken, tc.body).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
		})
	}
}
