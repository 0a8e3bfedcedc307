package api_test

import (
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/switchboard/switchboard/api/apitest"
)

// openConversation ingests a first message from a new customer and returns the conversation id.
func openConversation(t *testing.T, e *apitest.Env, w *apitest.Workspace, channel, identifier string) string {
	t.Helper()
	return ingest(t, e, w.APIKey, channel, map[string]any{"identifier": identifier, "text": "hello"}).Conversation.ID
}

func TestCloseFollowsWorkspaceSettings(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agent := e.NewUser(t, w, "agent")
	ch := newChannel(t, e, w.OwnerToken, "webchat")
	settings := func(s map[string]any) {
		e.Patch(t, "/v1/workspace", w.OwnerToken, map[string]any{"settings": s}).Expect(t, http.StatusOK)
	}
	cases := []struct {
		name       string
		settings   map[string]any
		body       any
		status     int
		code       string
		wantCat    *string
		unassigned bool
	}{
		{"no note at all", map[string]any{"closing_note_categories": []string{}, "closing_note_required": false, "unassign_on_close": false}, nil, 200, "", nil, false},
		{"free category without a list", nil, map[string]any{"category": " anything ", "summary": "ok"}, 200, "", ptr2("anything"), false},
		{"category outside the list", map[string]any{"closing_note_categories": []string{"resolved", "spam"}}, map[string]any{"category": "other"}, 422, "validation_failed", nil, false},
		{"category from the list", nil, map[string]any{"category": "spam"}, 200, "", ptr2("spam"), false},
		{"required category missing", map[string]any{"closing_note_required": true}, map[string]any{"summary": "done"}, 422, "validation_failed", nil, false},
		{"required category blank", nil, map[string]any{"category": "  "}, 422, "validation_failed", nil, false},
		{"required category given, unassign on close", map[string]any{"unassign_on_close": true}, map[string]any{"category": "resolved"}, 200, "", ptr2("resolved"), true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.settings != nil {
				settings(tc.settings)
			}
			conv := openConversation(t, e, w, ch, "visitor-"+string(rune('a'+i)))
			e.Put(t, "/v1/conversations/"+conv+"/assignee", agent.Token, map[string]any{"user_id": agent.ID}).Expect(t, http.StatusOK)
			r := e.Post(t, "/v1/conversations/"+conv+"/close", agent.Token, tc.body)
			if tc.status != 200 {
				r.ExpectProblem(t, tc.status, tc.code)
				if !problemFields(t, r)["category"] {
					t.Fatalf("problem does not name category: %s", r.Body)
				}
				var v conversationBody
				e.Get(t, "/v1/conversations/"+conv, agent.Token).JSON(t, &v)
				if v.Status != "open" {
					t.Fatalf("a refused close changed the conversation: %+v", v)
				}
				return
			}
			var v conversationBody
			r.Expect(t, http.StatusOK).JSON(t, &v)
			if v.Status != "closed" || v.ClosingNote == nil || (tc.wantCat == nil) != (v.ClosingNote.Category == nil) ||
				(tc.wantCat != nil && *v.ClosingNote.Category != *tc.wantCat) {
				t.Fatalf("closed: %+v", v.ClosingNote)
			}
			if (v.Assignee == nil) != tc.unassigned {
				t.Fatalf("assignee after close: %+v, want unassigned=%v", v.Assignee, tc.unassigned)
			}
			want := []string{"opened", "assigned", "closed"}
			if tc.unassigned {
				want = append(want, "unassigned")
			}
			if got := eventTypes(events(t, e, agent.Token, conv)); !slices.Equal(got, want) {
				t.Fatalf("events %v, want %v", got, want)
			}
			e.Post(t, "/v1/conversations/"+conv+"/close", agent.Token, tc.body).ExpectProblem(t, http.StatusConflict, "conversation_closed")
		})
	}
}

func ptr2(s string) *string { return &s }

func TestReopenAndAssign(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	manager := e.NewUser(t, w, "manager")
	ana := e.NewUser(t, w, "agent")
	ben := e.NewUser(t, w, "agent")
	other := e.NewWorkspace(t, "Other")
	stranger := e.NewUser(t, other, "agent")
	ch := newChannel(t, e, w.OwnerToken, "line")
	conv := openConversation(t, e, w, ch, "U1")
	path := "/v1/conversations/" + conv

	assignee := func(r *apitest.Response) string {
		var v conversationBody
		r.JSON(t, &v)
		if v.Assignee == nil {
			return ""
		}
		return v.Assignee.ID
	}
	steps := []struct {
		name   string
		token  string
		method string
		path   string
		body   any
		status int
		code   string
		want   string // assignee afterwards
	}{
		{"agent assigns herself", ana.Token, "PUT", "/assignee", map[string]any{"user_id": ana.ID}, 200, "", ana.ID},
		{"another agent takes it for himself", ben.Token, "PUT", "/assignee", map[string]any{"user_id": ben.ID}, 200, "", ben.ID},
		{"agent cannot unassign someone else", ana.Token, "PUT", "/assignee", map[string]any{"user_id": nil}, 403, "assignment_forbidden", ben.ID},
		{"agent cannot give it to a colleague", ben.Token, "PUT", "/assignee", map[string]any{"user_id": ana.ID}, 403, "assignment_forbidden", ben.ID},
		{"agent unassigns himself", ben.Token, "PUT", "/assignee", map[string]any{"user_id": nil}, 200, "", ""},
		{"manager assigns anyone", manager.Token, "PUT", "/assignee", map[string]any{"user_id": ana.ID}, 200, "", ana.ID},
		{"api key assigns anyone", w.APIKey, "PUT", "/assignee", map[string]any{"user_id": ben.ID}, 200, "", ben.ID},
		{"same assignee again changes nothing", w.APIKey, "PUT", "/assignee", map[string]any{"user_id": ben.ID}, 200, "", ben.ID},
		{"user of another workspace", manager.Token, "PUT", "/assignee", map[string]any{"user_id": stranger.ID}, 422, "validation_failed", ben.ID},
		{"reopening an open conversation", ana.Token, "POST", "/reopen", nil, 409, "conversation_open", ben.ID},
		{"close", ana.Token, "POST", "/close", nil, 200, "", ben.ID},
		{"api key reopens, assignee stays", w.APIKey, "POST", "/reopen", map[string]any{}, 200, "", ben.ID},
		{"close again", ana.Token, "POST", "/close", nil, 200, "", ben.ID},
		{"api key reopens on behalf of an agent", w.APIKey, "POST", "/reopen", map[string]any{"on_behalf_of": ana.ID}, 200, "", ana.ID},
		{"close once more", ben.Token, "POST", "/close", nil, 200, "", ana.ID},
		{"a user on behalf of another", ben.Token, "POST", "/reopen", map[string]any{"on_behalf_of": ana.ID}, 403, "forbidden", ana.ID},
		{"on_behalf_of another workspace's user", w.APIKey, "POST", "/reopen", map[string]any{"on_behalf_of": stranger.ID}, 422, "validation_failed", ana.ID},
		{"agent reopens naming himself: assigned to him", ben.Token, "POST", "/reopen", map[string]any{"on_behalf_of": ben.ID}, 200, "", ben.ID},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := e.Do(t, apitest.Request{Method: s.method, Path: path + s.path, Token: s.token, Body: s.body})
			if s.status != 200 {
				r.ExpectProblem(t, s.status, s.code)
				r = e.Get(t, path, w.APIKey)
			}
			if got := assignee(r.Expect(t, http.StatusOK)); got != s.want {
				t.Fatalf("assignee %q, want %q", got, s.want)
			}
		})
	}
	es := events(t, e, w.APIKey, conv)
	want := []string{"opened", "assigned", "assigned", "unassigned", "assigned", "assigned", "closed", "reopened", "closed",
		"reopened", "assigned", "closed", "reopened", "assigned"}
	if !slices.Equal(eventTypes(es), want) {
		t.Fatalf("events\n%v\nwant\n%v", eventTypes(es), want)
	}
	// The API key's reopen on behalf of Ana is recorded as Ana's.
	if es[9].Actor.Kind != "user" || *es[9].Actor.ID != ana.ID || *es[10].AssigneeID != ana.ID {
		t.Fatalf("on_behalf_of events: %+v %+v", es[9], es[10])
	}
	if es[7].Actor.Kind != "api_key" || es[7].Actor.ID == nil {
		t.Fatalf("api key reopen actor: %+v", es[7].Actor)
	}
}

// TestConcurrentReopen: twenty agents reopen one closed conversation at once; exactly one
// wins, the others see it open, and there is one reopened event.
func TestConcurrentReopen(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agents := make([]*apitest.User, 4)
	for i := range agents {
		agents[i] = e.NewUser(t, w, "agent")
	}
	ch := newChannel(t, e, w.OwnerToken, "viber")
	conv := openConversation(t, e, w, ch, "viber-user-1")
	e.Post(t, "/v1/conversations/"+conv+"/close", w.OwnerToken, map[string]any{"category": "resolved"}).Expect(t, http.StatusOK)

	statuses := make([]int, 20)
	codes := make([]string, 20)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := e.Post(t, "/v1/conversations/"+conv+"/reopen", agents[i%len(agents)].Token, nil)
			statuses[i], codes[i] = r.Status, r.Code()
		}()
	}
	close(start)
	wg.Wait()
	ok, conflict := 0, 0
	for i, s := range statuses {
		switch {
		case s == http.StatusOK:
			ok++
		case s == http.StatusConflict && codes[i] == "conversation_open":
			conflict++
		}
	}
	if ok != 1 || conflict != 19 {
		t.Fatalf("statuses %v", statuses)
	}
	reopened := 0
	for _, ev := range events(t, e, w.OwnerToken, conv) {
		if ev.Type == "reopened" {
			reopened++
		}
	}
	if reopened != 1 {
		t.Fatalf("%d reopened events", reopened)
	}
	if n := count(t, e, `SELECT count(*) FROM conversation_events WHERE type = 'assigned'`); n != 1 {
		t.Fatalf("%d assigned events", n)
	}
}
