package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

// TestInboxFilters builds five conversations that differ in status, assignee, channel and
// last message time, and checks each filter and sort returns exactly the right ones in order.
func TestInboxFilters(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ana := e.NewUser(t, w, "agent")
	ben := e.NewUser(t, w, "agent")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	tg := newChannel(t, e, w.OwnerToken, "telegram")
	mail := newChannel(t, e, w.OwnerToken, "email")
	base := e.Clock.Now().Add(-time.Hour)

	type spec struct {
		channel, identifier, last string
		assignee                  *apitest.User
		closed                    bool
	}
	specs := []spec{
		{wa, "+12025550101", "Abbott", ana, false},      // c1
		{tg, "tg-2", "Baker", nil, false},               // c2
		{wa, "+12025550103", "Castillo", ana, true},     // c3
		{mail, "dana@example.org", "Dvořák", ben, true}, // c4
		{tg, "tg-5", "Eriksen", ben, false},             // c5
	}
	c := make([]string, len(specs))
	for i, s := range specs {
		in := ingest(t, e, w.APIKey, s.channel, map[string]any{"identifier": s.identifier, "text": "message " + s.last,
			"received_at": base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
			"contact":     map[string]any{"first_name": "Customer", "last_name": s.last}})
		c[i] = in.Conversation.ID
		if s.assignee != nil {
			e.Put(t, "/v1/conversations/"+c[i]+"/assignee", w.OwnerToken, map[string]any{"user_id": s.assignee.ID}).Expect(t, http.StatusOK)
		}
		if s.closed {
			e.Post(t, "/v1/conversations/"+c[i]+"/close", w.OwnerToken, map[string]any{"summary": "done"}).Expect(t, http.StatusOK)
		}
	}
	// An identity on a second channel makes c1 appear under email too.
	c1Contact := e.Get(t, "/v1/conversations/"+c[0], w.OwnerToken).Map(t)["contact"].(map[string]any)["id"].(string)
	e.Post(t, "/v1/contacts/"+c1Contact+"/channels", w.OwnerToken, map[string]any{"channel_id": mail, "identifier": "abbott@example.org"}).Expect(t, http.StatusCreated)

	cases := []struct {
		name  string
		token string
		query url.Values
		want  []string
	}{
		{"default: open, all, newest", ana.Token, q(), []string{c[4], c[1], c[0]}},
		{"closed", ana.Token, q("status", "closed"), []string{c[3], c[2]}},
		{"all statuses", ana.Token, q("status", "all"), []string{c[4], c[3], c[2], c[1], c[0]}},
		{"all statuses, oldest first", ana.Token, q("status", "all", "sort", "oldest"), []string{c[0], c[1], c[2], c[3], c[4]}},
		{"mine (ana), open", ana.Token, q("inbox", "mine"), []string{c[0]}},
		{"mine (ana), all statuses", ana.Token, q("inbox", "mine", "status", "all"), []string{c[2], c[0]}},
		{"mine (ben), closed", ben.Token, q("inbox", "mine", "status", "closed"), []string{c[3]}},
		{"mine (owner) is empty", w.OwnerToken, q("inbox", "mine", "status", "all"), []string{}},
		{"unassigned", ana.Token, q("inbox", "unassigned", "status", "all"), []string{c[1]}},
		{"assignee_id", w.APIKey, q("assignee_id", ben.ID, "status", "all"), []string{c[4], c[3]}},
		{"assignee_id with status", w.APIKey, q("assignee_id", ana.ID, "status", "closed"), []string{c[2]}},
		{"mine and another assignee_id", ana.Token, q("inbox", "mine", "assignee_id", ben.ID), []string{}},
		{"channel: telegram", ana.Token, q("channel_id", tg, "status", "all"), []string{c[4], c[1]}},
		{"channel: email, oldest", ana.Token, q("channel_id", mail, "status", "all", "sort", "oldest"), []string{c[0], c[3]}},
		{"channel and status", ana.Token, q("channel_id", wa, "status", "closed"), []string{c[2]}},
		{"q: last name", ana.Token, q("q", "castillo", "status", "all"), []string{c[2]}},
		{"q: with diacritics", ana.Token, q("q", "DVOŘ", "status", "all"), []string{c[3]}},
		{"q: email fragment", ana.Token, q("q", "dana@exam", "status", "closed"), []string{c[3]}},
		{"q: phone digits", ana.Token, q("q", "555 0101"), []string{c[0]}},
		{"q: full name", ana.Token, q("q", "customer baker"), []string{c[1]}},
		{"q: shared fragment, mine", ana.Token, q("q", "customer", "inbox", "mine", "status", "all"), []string{c[2], c[0]}},
		{"q: closed only excludes open matches", ana.Token, q("q", "Eriksen", "status", "closed"), []string{}},
	}
	run := func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got := inboxIDs(t, e, tc.token, tc.query)
				if !slices.Equal(got, tc.want) {
					t.Fatalf("got %v\nwant %v", got, tc.want)
				}
			})
		}
	}
	// The same answers from each of the search's steps (store.searchSteps).
	searchStrategies(t, e, run)

	// Each row embeds the contact, assignee, last message and closing note.
	p := inbox(t, e, ana.Token, q("status", "closed", "assignee_id", ben.ID))
	row := p.Data[0]
	if row.Contact.LastName != "Dvořák" || row.Contact.Email == nil || *row.Contact.Email != "dana@example.org" ||
		row.Assignee == nil || row.Assignee.Name != ben.Name || row.LastMessage == nil || row.LastMessage.Text != "message Dvořák" ||
		row.LastMessage.Direction != "incoming" || row.LastMessage.ChannelID != mail || row.ClosingNote == nil ||
		*row.ClosingNote.Summary != "done" || row.ClosingNote.Category != nil || row.ClosedAt == nil {
		t.Fatalf("row: %+v", row)
	}
	// The inbox searches what the contact is called now (conversations copy the contact's
	// search text, migration 0008).
	c4Contact := e.Get(t, "/v1/conversations/"+c[3], w.OwnerToken).Map(t)["contact"].(map[string]any)["id"].(string)
	e.Patch(t, "/v1/contacts/"+c4Contact, w.OwnerToken, map[string]any{"last_name": "Novák", "phone": "+1 202 555 0199"}).Expect(t, http.StatusOK)
	searchStrategies(t, e, func(t *testing.T) {
		for q, want := range map[string][]string{"nová": {c[3]}, "dvoř": {}, "0199": {c[3]}} {
			if got := inboxIDs(t, e, ana.Token, url.Values{"q": {q}, "status": {"all"}}); !slices.Equal(got, want) {
				t.Errorf("q=%s after the rename: got %v, want %v", q, got, want)
			}
		}
	})

	// An API key has no inbox of its own.
	e.Get(t, "/v1/conversations?inbox=mine", w.APIKey).ExpectProblem(t, http.StatusForbidden, "user_required")
}

// TestInboxPagination pages through 45 conversations, some with equal last-message times,
// in both orders and with a search, and checks there are no duplicates and no gaps.
func TestInboxPagination(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ch := newChannel(t, e, w.OwnerToken, "custom")
	base := e.Clock.Now().Add(-24 * time.Hour)
	all := map[string]bool{}
	for i := range 45 {
		// Groups of three share a time, so the id breaks ties.
		in := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": fmt.Sprintf("cust-%02d", i), "text": "hi",
			"received_at": base.Add(time.Duration(i/3) * time.Minute).Format(time.RFC3339),
			"contact":     map[string]any{"last_name": fmt.Sprintf("Pager%02d", i)}})
		all[in.Conversation.ID] = true
		if i%4 == 0 {
			e.Post(t, "/v1/conversations/"+in.Conversation.ID+"/close", w.APIKey, nil).Expect(t, http.StatusOK)
		}
	}
	cases := []struct {
		name  string
		query url.Values
		want  int
	}{
		{"newest, all", q("status", "all", "limit", "7"), 45},
		{"oldest, all", q("status", "all", "sort", "oldest", "limit", "7"), 45},
		{"newest, closed", q("status", "closed", "limit", "4"), 12},
		{"oldest, open, searched", q("q", "pager", "sort", "oldest", "limit", "10"), 33},
		{"newest, closed, searched", q("q", "pager", "status", "closed", "limit", "5"), 12},
		{"exactly one page", q("status", "all", "limit", "45"), 45},
	}
	searchStrategies(t, e, func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				seen := map[string]bool{}
				var last *conversationBody
				query := tc.query
				pages := 0
				for {
					p := inbox(t, e, w.APIKey, query)
					pages++
					for _, c := range p.Data {
						if seen[c.ID] || !all[c.ID] {
							t.Fatalf("page %d repeats or invents %s", pages, c.ID)
						}
						seen[c.ID] = true
						if last != nil {
							prev, cur := last.LastMessage.CreatedAt, c.LastMessage.CreatedAt
							newest := query.Get("sort") != "oldest"
							if (newest && (cur.After(prev) || cur.Equal(prev) && c.ID > last.ID)) ||
								(!newest && (cur.Before(prev) || cur.Equal(prev) && c.ID < last.ID)) {
								t.Fatalf("out of order: %s@%v after %s@%v", c.ID, cur, last.ID, prev)
							}
						}
						last = &c
					}
					if p.NextCursor == nil {
						break
					}
					query = url.Values{}
					for k, v := range tc.query {
						query[k] = v
					}
					query.Set("cursor", *p.NextCursor)
				}
				if len(seen) != tc.want {
					t.Fatalf("saw %d conversations in %d pages, want %d", len(seen), pages, tc.want)
				}
			})
		}
	})
	// A cursor belongs to its sort.
	p := inbox(t, e, w.APIKey, q("status", "all", "limit", "5"))
	e.Get(t, "/v1/conversations?status=all&sort=oldest&cursor="+*p.NextCursor, w.APIKey).ExpectProblem(t, http.StatusBadRequest, "invalid_cursor")
}

// TestMessagesAndEventsPagination pages through a thread newest first and its lifecycle.
func TestMessagesAndEventsPagination(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ch := newChannel(t, e, w.OwnerToken, "wechat")
	base := e.Clock.Now().Add(-time.Hour)
	var conv string
	for i := range 23 {
		in := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "oX1", "text": fmt.Sprintf("m%02d", i),
			"received_at": base.Add(time.Duration(i/2) * time.Second).Format(time.RFC3339)})
		conv = in.Conversation.ID
	}
	var texts []string
	cursor := ""
	for {
		var p struct {
			Data       []messageBody `json:"data"`
			NextCursor *string       `json:"next_cursor"`
		}
		e.Get(t, "/v1/conversations/"+conv+"/messages?limit=5&cursor="+url.QueryEscape(cursor), w.APIKey).Expect(t, http.StatusOK).JSON(t, &p)
		for _, m := range p.Data {
			texts = append(texts, m.Text)
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	// Newest first; messages of the same second by id, i.e. the later-ingested first.
	var want []string
	for i := 22; i >= 0; i-- {
		want = append(want, fmt.Sprintf("m%02d", i))
	}
	if !slices.Equal(texts, want) {
		t.Fatalf("messages %v\nwant %v", texts, want)
	}
	for i := 0; i < 3; i++ {
		e.Post(t, "/v1/conversations/"+conv+"/close", w.APIKey, nil).Expect(t, http.StatusOK)
		e.Post(t, "/v1/conversations/"+conv+"/reopen", w.OwnerToken, nil).Expect(t, http.StatusOK)
	}
	var types []string
	cursor = ""
	for {
		var p struct {
			Data       []eventBody `json:"data"`
			NextCursor *string     `json:"next_cursor"`
		}
		e.Get(t, "/v1/conversations/"+conv+"/events?limit=2&cursor="+url.QueryEscape(cursor), w.APIKey).Expect(t, http.StatusOK).JSON(t, &p)
		types = append(types, eventTypes(p.Data)...)
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	want = []string{"opened", "closed", "reopened", "assigned", "closed", "reopened", "closed", "reopened"}
	if !slices.Equal(types, want) {
		t.Fatalf("events %v, want %v", types, want)
	}
}

// searchStrategies runs the subtests once for each way the inbox's search can be answered
// (see store.searchSteps): a bounded walk and then a lookup of the matches (the default; the
// walk fills a page of a common fragment), the lookup alone, and the unbounded walk (the
// lookup finding too many).
func searchStrategies(t *testing.T, e *apitest.Env, run func(t *testing.T)) {
	t.Helper()
	bound, first := e.Store.SearchWalkBound, e.Store.SearchFirstLimit
	defer func() { e.Store.SearchWalkBound, e.Store.SearchFirstLimit = bound, first }()
	t.Run("bounded walk", run)
	e.Store.SearchWalkBound = 0
	t.Run("lookup", run)
	e.Store.SearchFirstLimit = 1
	t.Run("walk", run)
	e.Store.SearchWalkBound = 2
	t.Run("short walk then walk", run)
}
