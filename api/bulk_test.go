package api_test

import (
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

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

// TestBulkActionsAudited is issue 18's "bulk actions" in the audit log: each conversation a
// bulk action changed has a conversation.bulk entry, written in that conversation's
// transaction, with who, from where and what changed; a conversation it did not change (already
// closed, the same labels) or refused (another workspace's) has none, nor has a single close.
func TestBulkActionsAudited(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Bulk")
	b := e.NewWorkspace(t, "Other")
	agent := e.NewUser(t, w, "agent")
	ch := newChannel(t, e, w.OwnerToken, "custom")
	var a, s, c string // labelled, assigned and closed; snoozed then closed; closed singly
	for _, id := range []*string{&a, &s, &c} {
		*id = ingest(t, e, w.APIKey, ch, map[string]any{"identifier": uuid.NewString(), "text": "hi"}).Conversation.ID
	}
	foreign := ingest(t, e, b.APIKey, newChannel(t, e, b.OwnerToken, "custom"), map[string]any{"identifier": "x", "text": "hi"}).Conversation.ID
	urgent, billing := newLabel(t, e, w.OwnerToken, "urgent", "#ff0000"), newLabel(t, e, w.OwnerToken, "billing", "#00ff00")
	until := e.Clock.Now().Add(time.Hour)

	bulkAs := func(body map[string]any, want ...int) {
		t.Helper()
		var out bulkBody
		as(t, e, http.MethodPost, "/v1/conversations/bulk", w.OwnerToken, body).Expect(t, http.StatusOK).JSON(t, &out)
		for i, r := range out.Results {
			if i >= len(want) || r.Status != want[i] {
				t.Fatalf("%v answers %+v, want statuses %v", body["action"], out.Results, want)
			}
		}
	}
	bulkAs(map[string]any{"action": "label", "label_ids": []string{urgent.ID, billing.ID}, "conversation_ids": []string{a}}, 200)
	bulkAs(map[string]any{"action": "label", "label_ids": []string{billing.ID, urgent.ID}, "conversation_ids": []string{a}}, 200) // the same set
	bulkAs(map[string]any{"action": "snooze", "until": until.Format(time.RFC3339), "conversation_ids": []string{s}}, 200)
	bulkAs(map[string]any{"action": "assign", "assignee_id": agent.ID, "conversation_ids": []string{a}}, 200)
	bulkAs(map[string]any{"action": "unassign", "conversation_ids": []string{a}}, 200)
	bulkAs(map[string]any{"action": "assign", "assignee_id": agent.ID, "conversation_ids": []string{a}}, 200)
	// Single changes are the conversation's events, not the log's.
	as(t, e, http.MethodPost, "/v1/conversations/"+c+"/close", w.OwnerToken, map[string]any{}).Expect(t, http.StatusOK)
	bulkAs(map[string]any{"action": "close", "category": "spam", "conversation_ids": []string{a, c, foreign, s}}, 200, 409, 422, 200)

	log := auditLog(t, e, w.OwnerToken, "action=conversation.bulk")
	type change = struct{ Before, After any }
	want := []struct {
		conv    string
		changes map[string]change
	}{ // newest first
		{s, map[string]change{"action": {nil, "close"}, "status": {"snoozed", "closed"},
			"snoozed_until": {until.UTC().Format(time.RFC3339Nano), nil}, "closing_category": {nil, "spam"}}},
		{a, map[string]change{"action": {nil, "close"}, "status": {"open", "closed"}, "closing_category": {nil, "spam"}}},
		{a, map[string]change{"action": {nil, "assign"}, "assignee_id": {nil, agent.ID}}},
		{a, map[string]change{"action": {nil, "unassign"}, "assignee_id": {agent.ID, nil}}},
		{a, map[string]change{"action": {nil, "assign"}, "assignee_id": {nil, agent.ID}}},
		{s, map[string]change{"action": {nil, "snooze"}, "status": {"open", "snoozed"}, "snoozed_until": {nil, until.UTC().Format(time.RFC3339Nano)}}},
		// Label ids in the labels' name order, as the conversation shows them.
		{a, map[string]change{"action": {nil, "label"}, "label_ids": {[]any{}, []any{billing.ID, urgent.ID}}}},
	}
	if len(log) != len(want) {
		t.Fatalf("%d conversation.bulk entries, want %d: %+v", len(log), len(want), log)
	}
	for i, tc := range want {
		en := log[i]
		t.Run(fmt.Sprintf("%d %v", i, tc.changes["action"].After), func(t *testing.T) {
			if en.Resource.Type != "conversation" || en.Resource.ID == nil || *en.Resource.ID != tc.conv {
				t.Errorf("resource %s %v, want conversation %s", en.Resource.Type, en.Resource.ID, tc.conv)
			}
			if en.Actor.Kind != "user" || en.Actor.ID == nil || *en.Actor.ID != w.OwnerID {
				t.Errorf("actor %s %v, want the owner", en.Actor.Kind, en.Actor.ID)
			}
			if en.ClientIP == nil || *en.ClientIP != "127.0.0.1" || en.UserAgent != auditUA {
				t.Errorf("client %v, user agent %q", en.ClientIP, en.UserAgent)
			}
			got := map[string]change{}
			for k, v := range en.Changes {
				got[k] = change{v.Before, v.After}
			}
			if !reflect.DeepEqual(got, tc.changes) {
				t.Errorf("changes %+v, want %+v", got, tc.changes)
			}
		})
	}
	// The other workspace's log has nothing of it.
	if other := auditLog(t, e, b.OwnerToken, "action=conversation.bulk"); len(other) != 0 {
		t.Errorf("the other workspace has %d conversation.bulk entries", len(other))
	}
}
