package api_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/api/apitest"
)

type teamBody struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	MemberIDs []string `json:"member_ids"`
}

// routedConversation is the part of a conversation routing changes.
type routedConversation struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Assignee *struct {
		ID string `json:"id"`
	} `json:"assignee"`
	Team *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"team"`
}

// routedTeam makes a team of n online agents and a custom channel that routes to it with the
// mode and cap.
func routedTeam(t *testing.T, e *apitest.Env, w *apitest.Workspace, n int, mode string, max any) (team teamBody, agents []*apitest.User, ch string) {
	t.Helper()
	e.Post(t, "/v1/teams", w.OwnerToken, map[string]any{"name": "Support " + mode}).Expect(t, http.StatusCreated).JSON(t, &team)
	ids := []string{}
	for range n {
		a := e.NewUser(t, w, "agent")
		e.Put(t, "/v1/me/availability", a.Token, map[string]any{"availability": "online"}).Expect(t, http.StatusOK)
		agents = append(agents, a)
		ids = append(ids, a.ID)
	}
	e.Put(t, "/v1/teams/"+team.ID+"/members", w.OwnerToken, map[string]any{"user_ids": ids}).Expect(t, http.StatusOK).JSON(t, &team)
	ch = newChannel(t, e, w.OwnerToken, "custom")
	e.Patch(t, "/v1/channels/"+ch, w.OwnerToken, map[string]any{"type": "custom",
		"routing": map[string]any{"team_id": team.ID, "mode": mode, "max_open_per_agent": max}}).Expect(t, http.StatusOK)
	return team, agents, ch
}

// inbound ingests a message from a new customer and answers its conversation.
func inbound(t *testing.T, e *apitest.Env, token, ch, who string) routedConversation {
	t.Helper()
	var out struct {
		Conversation routedConversation `json:"conversation"`
	}
	e.Post(t, "/v1/channels/"+ch+"/inbound", token, map[string]any{"identifier": who, "text": "hello"}).
		Expect(t, http.StatusCreated).JSON(t, &out)
	return out.Conversation
}

func listIDs(t *testing.T, e *apitest.Env, token, query string) []routedConversation {
	t.Helper()
	var p struct {
		Data []routedConversation `json:"data"`
	}
	e.Get(t, "/v1/conversations?limit=100&"+query, token).Expect(t, http.StatusOK).JSON(t, &p)
	return p.Data
}

// TestRoundRobinAcrossProcesses is issue 17's first acceptance: 3 online agents with a cap of
// 5, 30 concurrent inbound messages from 30 new customers over two API processes → 15
// assigned, 5 each, 15 in the team's unassigned queue; an agent closing one makes room.
func TestRoundRobinAcrossProcesses(t *testing.T) {
	e := apitest.New(t)
	twin := e.Twin(t)
	w := e.NewWorkspace(t, "Routing")
	team, agents, ch := routedTeam(t, e, w, 3, "round_robin", 5)

	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			proc := e
			if i%2 == 1 {
				proc = twin
			}
			r, err := proc.Check(t, apitest.Request{Method: http.MethodPost, Path: "/v1/channels/" + ch + "/inbound", Token: w.APIKey,
				Body: map[string]any{"identifier": fmt.Sprintf("customer-%02d", i), "text": "hello"}})
			if err == nil && r.Status != http.StatusCreated {
				err = fmt.Errorf("inbound %d: %d %s", i, r.Status, r.Body)
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	for _, a := range agents {
		if got := listIDs(t, e, w.OwnerToken, "assignee_id="+a.ID); len(got) != 5 {
			t.Errorf("agent %s has %d conversations, want 5", a.ID, len(got))
		}
	}
	queue := listIDs(t, e, w.OwnerToken, "team_id="+team.ID+"&inbox=unassigned")
	if len(queue) != 15 {
		t.Errorf("the team's queue holds %d, want 15", len(queue))
	}
	all := listIDs(t, e, w.OwnerToken, "team_id="+team.ID)
	if len(all) != 30 {
		t.Errorf("the team has %d conversations, want 30", len(all))
	}
	for _, c := range all {
		if c.Team == nil || c.Team.ID != team.ID || c.Team.Name != team.Name {
			t.Errorf("conversation %s carries team %+v", c.ID, c.Team)
		}
	}

	// Routing's assignment is the system's.
	mine := listIDs(t, e, agents[0].Token, "inbox=mine")
	es := events(t, e, w.OwnerToken, mine[0].ID)
	if last := es[len(es)-1]; last.Type != "assigned" || last.Actor.Kind != "system" || last.Actor.ID != nil || *last.AssigneeID != agents[0].ID {
		t.Errorf("routing's event %+v", last)
	}

	// A full team leaves the next one in the queue; the agent who closes one takes the next.
	if c := inbound(t, e, w.APIKey, ch, "customer-30"); c.Assignee != nil || c.Team == nil {
		t.Errorf("over the cap: %+v", c)
	}
	e.Post(t, "/v1/conversations/"+mine[0].ID+"/close", agents[0].Token, map[string]any{}).Expect(t, http.StatusOK)
	if c := inbound(t, twin, w.APIKey, ch, "customer-31"); c.Assignee == nil || c.Assignee.ID != agents[0].ID {
		t.Errorf("after agent 0 closed one, the next went to %+v", c.Assignee)
	}
}

// least_open gives each new conversation to the online member with the fewest open ones
// (all of theirs, assigned by hand too); away and offline members get none.
func TestLeastOpenSkipsOfflineAgents(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Least open")
	_, agents, ch := routedTeam(t, e, w, 3, "least_open", nil)
	busy, idle, gone := agents[0], agents[1], agents[2]
	e.Put(t, "/v1/me/availability", gone.Token, map[string]any{"availability": "offline"}).Expect(t, http.StatusOK)

	// busy already has two open conversations, one of another channel's.
	other := newChannel(t, e, w.OwnerToken, "custom")
	for i, chID := range []string{ch, other} {
		c := inbound(t, e, w.APIKey, chID, fmt.Sprintf("before-%d", i))
		e.Put(t, "/v1/conversations/"+c.ID+"/assignee", w.OwnerToken, map[string]any{"user_id": busy.ID}).Expect(t, http.StatusOK)
	}
	// The first conversation went to someone by routing already; count from here.
	got := map[string]int{}
	for i := range 4 {
		c := inbound(t, e, w.APIKey, ch, fmt.Sprintf("customer-%d", i))
		if c.Assignee == nil {
			t.Fatalf("conversation %d unassigned", i)
		}
		got[c.Assignee.ID]++
	}
	if got[gone.ID] != 0 {
		t.Errorf("the offline agent was routed %d", got[gone.ID])
	}
	open := func(u *apitest.User) int { return len(listIDs(t, e, w.OwnerToken, "assignee_id="+u.ID)) }
	if b, i := open(busy), open(idle); b != 3 || i != 3 {
		t.Errorf("open conversations: busy %d, idle %d; want 3 and 3 (least open evens them out)", b, i)
	}
	// Going offline keeps what one has.
	e.Put(t, "/v1/me/availability", idle.Token, map[string]any{"availability": "away"}).Expect(t, http.StatusOK)
	if n := open(idle); n != 3 {
		t.Errorf("away, idle kept %d conversations", n)
	}
	if c := inbound(t, e, w.APIKey, ch, "customer-after"); c.Assignee == nil || c.Assignee.ID != busy.ID {
		t.Errorf("with idle away, the next went to %+v", c.Assignee)
	}
}

// Bad input: a member or routing team of another workspace, a cap under 1, a taken name, an
// API key's availability.
func TestTeamRefusals(t *testing.T) {
	e := apitest.New(t)
	a := e.NewWorkspace(t, "A")
	b := e.NewWorkspace(t, "B")
	var team, bTeam teamBody
	e.Post(t, "/v1/teams", a.OwnerToken, map[string]any{"name": "Billing"}).Expect(t, http.StatusCreated).JSON(t, &team)
	e.Post(t, "/v1/teams", b.OwnerToken, map[string]any{"name": "Billing"}).Expect(t, http.StatusCreated).JSON(t, &bTeam)
	ch := newChannel(t, e, a.OwnerToken, "custom")
	agent := e.NewUser(t, a, "agent")
	routing := func(r map[string]any) apitest.Request {
		return apitest.Request{Method: http.MethodPatch, Path: "/v1/channels/" + ch, Token: a.OwnerToken,
			Body: map[string]any{"type": "custom", "routing": r}}
	}
	cases := []struct {
		name   string
		req    apitest.Request
		status int
		code   string
		field  string
	}{
		{"member of another workspace", apitest.Request{Method: http.MethodPut, Path: "/v1/teams/" + team.ID + "/members", Token: a.OwnerToken,
			Body: map[string]any{"user_ids": []string{agent.ID, b.OwnerID}}}, 422, "validation_failed", "user_ids[1]"},
		{"unknown member", apitest.Request{Method: http.MethodPut, Path: "/v1/teams/" + team.ID + "/members", Token: a.OwnerToken,
			Body: map[string]any{"user_ids": []string{"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"}}}, 422, "validation_failed", "user_ids[0]"},
		{"cap under 1", routing(map[string]any{"team_id": team.ID, "mode": "round_robin", "max_open_per_agent": 0}), 422, "validation_failed", "routing.max_open_per_agent"},
		{"routing team of another workspace", routing(map[string]any{"team_id": bTeam.ID, "mode": "round_robin"}), 422, "validation_failed", "routing.team_id"},
		{"conversation team of another workspace", apitest.Request{Method: http.MethodPut, Path: "/v1/conversations/" +
			inbound(t, e, a.APIKey, ch, "someone").ID + "/team", Token: a.OwnerToken, Body: map[string]any{"team_id": bTeam.ID}}, 422, "validation_failed", "team_id"},
		{"name taken", apitest.Request{Method: http.MethodPost, Path: "/v1/teams", Token: a.OwnerToken, Body: map[string]any{"name": "billing"}}, 409, "team_exists", ""},
		{"agents do not form teams", apitest.Request{Method: http.MethodPost, Path: "/v1/teams", Token: agent.Token, Body: map[string]any{"name": "Mine"}}, 403, "forbidden", ""},
		{"a key has no availability", apitest.Request{Method: http.MethodPut, Path: "/v1/me/availability", Token: a.APIKey,
			Body: map[string]any{"availability": "online"}}, 403, "user_required", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := e.Do(t, tc.req).ExpectProblem(t, tc.status, tc.code).Map(t)
			if tc.field == "" {
				return
			}
			errs, _ := p["errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["field"] != tc.field {
				t.Errorf("errors %v, want one on %s", p["errors"], tc.field)
			}
		})
	}
	// Another workspace's team is not there; deleting one's own clears its conversations and
	// the channels that route to it.
	e.Get(t, "/v1/teams/"+bTeam.ID, a.OwnerToken).ExpectProblem(t, http.StatusNotFound, "team_not_found")
	e.Patch(t, "/v1/teams/"+bTeam.ID, a.APIKey, map[string]any{"name": "X"}).ExpectProblem(t, http.StatusNotFound, "team_not_found")
	e.Delete(t, "/v1/teams/"+bTeam.ID, a.APIKey).ExpectProblem(t, http.StatusNotFound, "team_not_found")
	e.Put(t, "/v1/teams/"+bTeam.ID+"/members", a.APIKey, map[string]any{"user_ids": []string{}}).ExpectProblem(t, http.StatusNotFound, "team_not_found")
	if got := listIDs(t, e, a.OwnerToken, "team_id="+bTeam.ID); len(got) != 0 {
		t.Errorf("A's inbox lists B's team's conversations: %v", got)
	}
	e.Patch(t, "/v1/channels/"+ch, a.OwnerToken, map[string]any{"type": "custom", "routing": map[string]any{"team_id": team.ID, "mode": "manual"}}).Expect(t, http.StatusOK)
	c := inbound(t, e, a.APIKey, ch, "queued")
	if c.Team == nil || c.Team.ID != team.ID || c.Assignee != nil {
		t.Fatalf("manual routing: %+v", c)
	}
	e.Delete(t, "/v1/teams/"+team.ID, a.OwnerToken).Expect(t, http.StatusNoContent)
	var after routedConversation
	e.Get(t, "/v1/conversations/"+c.ID, a.OwnerToken).Expect(t, http.StatusOK).JSON(t, &after)
	if after.Team != nil {
		t.Errorf("a deleted team stays on its conversation: %+v", after.Team)
	}
	var chAfter struct {
		Routing struct {
			TeamID *string `json:"team_id"`
		} `json:"routing"`
	}
	e.Get(t, "/v1/channels/"+ch, a.OwnerToken).Expect(t, http.StatusOK).JSON(t, &chAfter)
	if chAfter.Routing.TeamID != nil {
		t.Errorf("a deleted team stays the channel's routing team")
	}
}
