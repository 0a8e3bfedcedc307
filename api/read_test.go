package api_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

// readBody is a conversation's read state as the API answers it.
type readBody struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	LastReadAt  *time.Time `json:"last_read_at"`
	UnreadCount *int64     `json:"unread_count"`
}

type countsBody struct {
	Open struct {
		Mine       *int64 `json:"mine"`
		Unassigned int64  `json:"unassigned"`
		All        int64  `json:"all"`
	} `json:"open"`
	Snoozed struct {
		Mine *int64 `json:"mine"`
		All  int64  `json:"all"`
	} `json:"snoozed"`
	MentionsUnread *int64 `json:"mentions_unread"`
}

func unread(t *testing.T, e *apitest.Env, token, conv string) readBody {
	t.Helper()
	var r readBody
	e.Get(t, "/v1/conversations/"+conv, token).Expect(t, http.StatusOK).JSON(t, &r)
	return r
}

func row(t *testing.T, e *apitest.Env, token, conv string) readBody {
	t.Helper()
	var p struct{ Data []readBody }
	e.Get(t, "/v1/conversations?status=all&limit=100", token).Expect(t, http.StatusOK).JSON(t, &p)
	for _, r := range p.Data {
		if r.ID == conv {
			return r
		}
	}
	t.Fatalf("conversation %s is not in the inbox", conv)
	return readBody{}
}

func wantUnread(t *testing.T, what string, r readBody, n int64) {
	t.Helper()
	if r.UnreadCount == nil || *r.UnreadCount != n {
		t.Fatalf("%s: unread_count %v, want %d (%+v)", what, r.UnreadCount, n, r)
	}
}

// TestReadState: per user, unread_count counts incoming messages after the user's last read,
// on inbox rows and the thread; read and unread move it; an API key has none.
func TestReadState(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ana, ben := e.NewUser(t, w, "agent"), e.NewUser(t, w, "agent")
	tg := newChannel(t, e, w.OwnerToken, "telegram")
	first := ingest(t, e, w.APIKey, tg, map[string]any{"identifier": "4242", "text": "hello"})
	conv := first.Conversation.ID
	ingest(t, e, w.APIKey, tg, map[string]any{"identifier": "4242", "text": "anyone?"})

	r := unread(t, e, ana.Token, conv)
	wantUnread(t, "never read (thread)", r, 2)
	if r.LastReadAt != nil {
		t.Fatalf("never read: last_read_at %v", r.LastReadAt)
	}
	wantUnread(t, "never read (row)", row(t, e, ana.Token, conv), 2)

	// Read up to the first message: the second stays unread, for Ana only.
	e.Post(t, "/v1/conversations/"+conv+"/read", ana.Token, map[string]any{"message_id": first.Message.ID}).
		Expect(t, http.StatusOK).JSON(t, &r)
	wantUnread(t, "read up to the first", r, 1)
	if r.LastReadAt == nil || !r.LastReadAt.Equal(first.Message.CreatedAt) {
		t.Fatalf("read up to the first: last_read_at %v, want %v", r.LastReadAt, first.Message.CreatedAt)
	}
	wantUnread(t, "Ben has read nothing", row(t, e, ben.Token, conv), 2)

	// Read everything (no body), then a reply from us changes nothing, a new message counts.
	e.Post(t, "/v1/conversations/"+conv+"/read", ana.Token, nil).Expect(t, http.StatusOK).JSON(t, &r)
	wantUnread(t, "read all", r, 0)
	e.Post(t, "/v1/contacts/"+first.Contact.ID+"/messages", ana.Token, map[string]any{"type": "text", "text": "here"}).Expect(t, http.StatusCreated)
	wantUnread(t, "after our reply", row(t, e, ana.Token, conv), 0)
	ingest(t, e, w.APIKey, tg, map[string]any{"identifier": "4242", "text": "thanks"})
	wantUnread(t, "a new message", row(t, e, ana.Token, conv), 1)

	// Unread: the latest incoming message is unread again, whatever was read.
	e.Post(t, "/v1/conversations/"+conv+"/read", ana.Token, nil).Expect(t, http.StatusOK)
	e.Post(t, "/v1/conversations/"+conv+"/unread", ana.Token, nil).Expect(t, http.StatusOK).JSON(t, &r)
	wantUnread(t, "marked unread", r, 1)
	wantUnread(t, "marked unread (thread)", unread(t, e, ana.Token, conv), 1)

	// An API key has no read state: null on reads, 403 on marks.
	if k := row(t, e, w.APIKey, conv); k.UnreadCount != nil || k.LastReadAt != nil {
		t.Fatalf("API key row: %+v", k)
	}
	if k := unread(t, e, w.APIKey, conv); k.UnreadCount != nil {
		t.Fatalf("API key thread: %+v", k)
	}
	e.Post(t, "/v1/conversations/"+conv+"/read", w.APIKey, nil).ExpectProblem(t, http.StatusForbidden, "user_required")
	e.Post(t, "/v1/conversations/"+conv+"/unread", w.APIKey, nil).ExpectProblem(t, http.StatusForbidden, "user_required")

	// Bad input and tenancy: a message of another conversation, a malformed id, another
	// workspace's conversation.
	other := ingest(t, e, w.APIKey, tg, map[string]any{"identifier": "777", "text": "me too"})
	p := e.Post(t, "/v1/conversations/"+conv+"/read", ana.Token, map[string]any{"message_id": other.Message.ID}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	if m := p.Map(t); fmt.Sprint(m["errors"]) != "[map[field:message_id message:must be a message of this conversation]]" {
		t.Fatalf("errors: %v", m["errors"])
	}
	e.Post(t, "/v1/conversations/"+conv+"/read", ana.Token, map[string]any{"message_id": "nope"}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	wantUnread(t, "refused reads change nothing", unread(t, e, ana.Token, conv), 1)
	w2 := e.NewWorkspace(t, "Other")
	e.Post(t, "/v1/conversations/"+conv+"/read", w2.OwnerToken, nil).ExpectProblem(t, http.StatusNotFound, "conversation_not_found")
	e.Post(t, "/v1/conversations/"+conv+"/unread", w2.OwnerToken, nil).ExpectProblem(t, http.StatusNotFound, "conversation_not_found")
}

// directCounts counts the tabs with count(*), as the counters must answer.
func directCounts(t *testing.T, e *apitest.Env, ws, user string) countsBody {
	t.Helper()
	var c countsBody
	c.Open.All = int64(count(t, e, `SELECT count(*) FROM conversations WHERE workspace_id = $1 AND status = 'open'`, ws))
	c.Open.Unassigned = int64(count(t, e, `SELECT count(*) FROM conversations WHERE workspace_id = $1 AND status = 'open' AND assignee_id IS NULL`, ws))
	c.Snoozed.All = int64(count(t, e, `SELECT count(*) FROM conversations WHERE workspace_id = $1 AND status = 'snoozed'`, ws))
	mine := int64(count(t, e, `SELECT count(*) FROM conversations WHERE workspace_id = $1 AND status = 'open' AND assignee_id = $2`, ws, user))
	snoozed := int64(count(t, e, `SELECT count(*) FROM conversations WHERE workspace_id = $1 AND status = 'snoozed' AND assignee_id = $2`, ws, user))
	mentions := int64(count(t, e, `SELECT count(*) FROM conversation_mentions cm
LEFT JOIN conversation_reads r ON r.workspace_id = cm.workspace_id AND r.user_id = cm.user_id AND r.conversation_id = cm.conversation_id
WHERE cm.workspace_id = $1 AND cm.user_id = $2 AND (r.last_read_at IS NULL OR cm.last_mention_at > r.last_read_at)`, ws, user))
	c.Open.Mine, c.Snoozed.Mine, c.MentionsUnread = &mine, &snoozed, &mentions
	return c
}

func sameCounts(t *testing.T, what string, got, want countsBody) {
	t.Helper()
	if got.Open.All != want.Open.All || got.Open.Unassigned != want.Open.Unassigned || got.Snoozed.All != want.Snoozed.All ||
		*got.Open.Mine != *want.Open.Mine || *got.Snoozed.Mine != *want.Snoozed.Mine || *got.MentionsUnread != *want.MentionsUnread {
		t.Fatalf("%s: counts %+v (mine %d/%d, mentions %d), direct count %+v (mine %d/%d, mentions %d)", what, got, *got.Open.Mine,
			*got.Snoozed.Mine, *got.MentionsUnread, want, *want.Open.Mine, *want.Snoozed.Mine, *want.MentionsUnread)
	}
}

// TestCounts: the tab counts follow every change, for a user and for an API key.
func TestCounts(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ana := e.NewUser(t, w, "agent")
	tg := newChannel(t, e, w.OwnerToken, "telegram")
	get := func(token string) countsBody {
		var c countsBody
		e.Get(t, "/v1/conversations/counts", token).Expect(t, http.StatusOK).JSON(t, &c)
		return c
	}
	c := get(ana.Token)
	if c.Open.All != 0 || *c.Open.Mine != 0 || *c.MentionsUnread != 0 {
		t.Fatalf("empty workspace: %+v", c)
	}
	a := ingest(t, e, w.APIKey, tg, map[string]any{"identifier": "1", "text": "a"}).Conversation.ID
	ingest(t, e, w.APIKey, tg, map[string]any{"identifier": "2", "text": "b"})
	e.NewContact(t, w.APIKey, map[string]any{"first_name": "C"})
	sameCounts(t, "three new", get(ana.Token), directCounts(t, e, w.ID, ana.ID))
	if c := get(ana.Token); c.Open.All != 3 || c.Open.Unassigned != 3 {
		t.Fatalf("three new: %+v", c)
	}
	e.Put(t, "/v1/conversations/"+a+"/assignee", ana.Token, map[string]any{"user_id": ana.ID}).Expect(t, http.StatusOK)
	if c := get(ana.Token); *c.Open.Mine != 1 || c.Open.Unassigned != 2 {
		t.Fatalf("assigned to Ana: %+v", c)
	}
	e.Post(t, "/v1/conversations/"+a+"/close", ana.Token, nil).Expect(t, http.StatusOK)
	sameCounts(t, "closed", get(ana.Token), directCounts(t, e, w.ID, ana.ID))
	if c := get(ana.Token); c.Open.All != 2 {
		t.Fatalf("closed: %+v", c)
	}
	// A reply reopens and assigns.
	ingest(t, e, w.APIKey, tg, map[string]any{"identifier": "1", "text": "again"})
	sameCounts(t, "reopened by the customer", get(ana.Token), directCounts(t, e, w.ID, ana.ID))
	// An API key: the workspace's counts, its own null.
	k := get(w.APIKey)
	if k.Open.Mine != nil || k.Snoozed.Mine != nil || k.MentionsUnread != nil || k.Open.All != 3 {
		t.Fatalf("API key: %+v", k)
	}
	// Deleting a contact (its conversation cascades) counts too; another workspace sees none.
	e.Delete(t, "/v1/contacts/"+ingest(t, e, w.APIKey, tg, map[string]any{"identifier": "3", "text": "c"}).Contact.ID, w.OwnerToken).Expect(t, http.StatusNoContent)
	sameCounts(t, "a contact deleted", get(ana.Token), directCounts(t, e, w.ID, ana.ID))
	if c := get(e.NewWorkspace(t, "Other").OwnerToken); c.Open.All != 0 {
		t.Fatalf("another workspace: %+v", c)
	}
}

// TestCountsUnderConcurrency: a concurrent mix of inbound messages, sends, assignments,
// closes, reopens, snoozes, notes with mentions and reads, then the counters must equal a
// direct count.
func TestCountsUnderConcurrency(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agents := []*apitest.User{e.NewUser(t, w, "agent"), e.NewUser(t, w, "agent"), e.NewUser(t, w, "manager")}
	tg := newChannel(t, e, w.OwnerToken, "telegram")
	type convRef struct{ conv, contact string }
	var convs []convRef
	for i := range 12 {
		in := ingest(t, e, w.APIKey, tg, map[string]any{"identifier": fmt.Sprint(1000 + i), "text": "hi"})
		convs = append(convs, convRef{in.Conversation.ID, in.Contact.ID})
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for range 25 {
				c := convs[r.IntN(len(convs))]
				u := agents[r.IntN(len(agents))]
				var req apitest.Request
				switch r.IntN(9) {
				case 0:
					req = apitest.Request{Method: http.MethodPost, Path: "/v1/channels/" + tg + "/inbound", Token: w.APIKey,
						Body: map[string]any{"identifier": fmt.Sprint(1000 + r.IntN(16)), "text": "more"}}
				case 1:
					req = apitest.Request{Method: http.MethodPost, Path: "/v1/contacts/" + c.contact + "/messages", Token: u.Token,
						Body: map[string]any{"type": "text", "text": "reply"}}
				case 2:
					req = apitest.Request{Method: http.MethodPut, Path: "/v1/conversations/" + c.conv + "/assignee", Token: w.OwnerToken,
						Body: map[string]any{"user_id": u.ID}}
				case 3:
					req = apitest.Request{Method: http.MethodPut, Path: "/v1/conversations/" + c.conv + "/assignee", Token: w.OwnerToken,
						Body: map[string]any{"user_id": nil}}
				case 4:
					req = apitest.Request{Method: http.MethodPost, Path: "/v1/conversations/" + c.conv + "/close", Token: u.Token}
				case 5:
					req = apitest.Request{Method: http.MethodPost, Path: "/v1/conversations/" + c.conv + "/reopen", Token: u.Token}
				case 6:
					req = apitest.Request{Method: http.MethodPost, Path: "/v1/conversations/" + c.conv + "/snooze", Token: u.Token,
						Body: map[string]any{"until": nil}}
				case 7:
					req = apitest.Request{Method: http.MethodPost, Path: "/v1/conversations/" + c.conv + "/notes", Token: u.Token,
						Body: map[string]any{"text": "look", "mentions": []string{agents[r.IntN(len(agents))].ID}}}
				default:
					req = apitest.Request{Method: http.MethodPost, Path: "/v1/conversations/" + c.conv + "/read", Token: u.Token}
				}
				resp := e.Do(t, req)
				if resp.Status >= 500 {
					t.Errorf("%s %s: %d %s", req.Method, req.Path, resp.Status, resp.Body)
				}
			}
		}()
	}
	wg.Wait()
	for _, u := range agents {
		var c countsBody
		e.Get(t, "/v1/conversations/counts", u.Token).Expect(t, http.StatusOK).JSON(t, &c)
		sameCounts(t, "after the mix ("+u.Email+")", c, directCounts(t, e, w.ID, u.ID))
	}
	for _, what := range []string{`SELECT count(*) FROM conversation_events WHERE workspace_id = $1 AND type = 'closed'`,
		`SELECT count(*) FROM conversation_events WHERE workspace_id = $1 AND type = 'snoozed'`,
		`SELECT count(*) FROM conversation_mentions WHERE workspace_id = $1`} {
		if count(t, e, what, w.ID) == 0 {
			t.Fatalf("the mix did not exercise the counters: %s is 0", what)
		}
	}
}
