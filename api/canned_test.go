package api_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/switchboard/switchboard/api/apitest"
)

type cannedBody struct {
	ID       string `json:"id"`
	Shortcut string `json:"shortcut"`
	Title    string `json:"title"`
	Text     string `json:"text"`
}

// Canned responses: a taken shortcut, the prefix search with its pages, and rendering for a
// conversation by a user and by a key (issue 17, acceptance 3).
func TestCannedResponses(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Canned")
	agent := e.NewUser(t, w, "agent")
	create := func(shortcut, title, text string) cannedBody {
		var c cannedBody
		e.Post(t, "/v1/canned-responses", w.OwnerToken, map[string]any{"shortcut": shortcut, "title": title, "text": text}).
			Expect(t, http.StatusCreated).JSON(t, &c)
		return c
	}
	refund := create("refund", "Refund on its way", "Hi {{contact.first_name}} {{ contact.last_name }}, your refund is on its way. {{agent.name}}")
	create("hours", "Opening hours", "We are open 9 to 5.")
	create("ship", "Refund shipping costs", "We refund the shipping too.")
	create("thanks", "Thank you", "Thanks!")

	e.Post(t, "/v1/canned-responses", w.OwnerToken, map[string]any{"shortcut": "REFUND", "title": "x", "text": "y"}).
		ExpectProblem(t, http.StatusConflict, "canned_shortcut_taken")
	e.Post(t, "/v1/canned-responses", agent.Token, map[string]any{"shortcut": "mine", "title": "x", "text": "y"}).
		ExpectProblem(t, http.StatusForbidden, "forbidden")
	e.Patch(t, "/v1/canned-responses/"+refund.ID, w.OwnerToken, map[string]any{"shortcut": "Hours"}).
		ExpectProblem(t, http.StatusConflict, "canned_shortcut_taken")

	// q is a prefix of the shortcut or of the title, without regard to case; the pages follow
	// the shortcut.
	list := func(q string) []string {
		var got []string
		cursor := ""
		for {
			v := url.Values{"limit": {"1"}, "q": {q}}
			if cursor != "" {
				v.Set("cursor", cursor)
			}
			var p struct {
				Data       []cannedBody `json:"data"`
				NextCursor *string      `json:"next_cursor"`
			}
			e.Get(t, "/v1/canned-responses?"+v.Encode(), agent.Token).Expect(t, http.StatusOK).JSON(t, &p)
			for _, c := range p.Data {
				got = append(got, c.Shortcut)
			}
			if p.NextCursor == nil {
				return got
			}
			cursor = *p.NextCursor
		}
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"", []string{"hours", "refund", "ship", "thanks"}},
		{"REF", []string{"refund", "ship"}},
		{"th", []string{"thanks"}},
		{"%", nil},
		{"und", nil},
	} {
		if got := list(tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("q=%q lists %v, want %v", tc.q, got, tc.want)
		}
	}

	ch := newChannel(t, e, w.OwnerToken, "custom")
	in := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "maria", "text": "where is my refund?",
		"contact": map[string]any{"first_name": "Maria", "last_name": "Gonzalez"}})
	render := func(token string) string {
		var out struct {
			Text string `json:"text"`
		}
		e.Post(t, "/v1/canned-responses/"+refund.ID+"/render", token, map[string]any{"conversation_id": in.Conversation.ID}).
			Expect(t, http.StatusOK).JSON(t, &out)
		return out.Text
	}
	if got, want := render(agent.Token), "Hi Maria Gonzalez, your refund is on its way. "+agent.Name; got != want {
		t.Errorf("an agent renders %q, want %q", got, want)
	}
	if got, want := render(w.APIKey), "Hi Maria Gonzalez, your refund is on its way. "; got != want {
		t.Errorf("a key renders %q, want %q", got, want)
	}

	// Another workspace sees none of it, and cannot render for its conversations.
	b := e.NewWorkspace(t, "B")
	for _, tok := range []string{b.OwnerToken, b.APIKey} {
		e.Get(t, "/v1/canned-responses/"+refund.ID, tok).ExpectProblem(t, http.StatusNotFound, "canned_response_not_found")
		e.Patch(t, "/v1/canned-responses/"+refund.ID, tok, map[string]any{"title": "x"}).ExpectProblem(t, http.StatusNotFound, "canned_response_not_found")
		e.Delete(t, "/v1/canned-responses/"+refund.ID, tok).ExpectProblem(t, http.StatusNotFound, "canned_response_not_found")
		e.Post(t, "/v1/canned-responses/"+refund.ID+"/render", tok, map[string]any{"conversation_id": in.Conversation.ID}).
			ExpectProblem(t, http.StatusNotFound, "canned_response_not_found")
		if p := e.Get(t, "/v1/canned-responses", tok).Expect(t, http.StatusOK).Map(t); len(p["data"].([]any)) != 0 {
			t.Errorf("B lists A's canned responses: %v", p["data"])
		}
	}
	var bc cannedBody
	e.Post(t, "/v1/canned-responses", b.OwnerToken, map[string]any{"shortcut": "refund", "title": "B's", "text": "B's"}).
		Expect(t, http.StatusCreated).JSON(t, &bc)
	e.Post(t, "/v1/canned-responses/"+bc.ID+"/render", b.OwnerToken, map[string]any{"conversation_id": in.Conversation.ID}).
		ExpectProblem(t, http.StatusNotFound, "conversation_not_found")
	e.Delete(t, "/v1/canned-responses/"+refund.ID, w.OwnerToken).Expect(t, http.StatusNoContent)
}
