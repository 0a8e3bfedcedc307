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
