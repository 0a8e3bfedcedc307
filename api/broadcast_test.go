package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
	pt "github.com/switchboard/switchboard/pkg/provider/providertest"
)

// broadcastBody is a Broadcast as the tests read it.
type broadcastBody struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Counts struct {
		Sent, Refused, Failed, Pending int
	} `json:"counts"`
	SendAt    *time.Time `json:"send_at"`
	CreatedBy actorBody  `json:"created_by"`
}

type recipientBody struct {
	ContactID string        `json:"contact_id"`
	Status    string        `json:"status"`
	Decision  *decisionBody `json:"decision"`
	MessageID *string       `json:"message_id"`
	Error     *string       `json:"error"`
}

type dryRunBody struct {
	Recipients int            `json:"recipients"`
	ByDecision map[string]int `json:"by_decision"`
	Permitted  int            `json:"permitted"`
	Billable   int            `json:"billable"`
}

func createBroadcast(t *testing.T, e *apitest.Env, token string, body map[string]any) broadcastBody {
	t.Helper()
	var b broadcastBody
	e.Post(t, "/v1/broadcasts", token, body).Expect(t, http.StatusCreated).JSON(t, &b)
	return b
}

// waitBroadcast polls the broadcast until its status is want.
func waitBroadcast(t *testing.T, e *apitest.Env, token, id, want string) broadcastBody {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var b broadcastBody
		e.Get(t, "/v1/broadcasts/"+id, token).Expect(t, http.StatusOK).JSON(t, &b)
		if b.Status == want {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("broadcast %s is %s, want %s: %+v", id, b.Status, want, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recipients reads every recipient of a broadcast (with the query), page by page of limit.
func recipients(t *testing.T, e *apitest.Env, token, id, query string, limit int) ([]recipientBody, int) {
	t.Helper()
	var all []recipientBody
	pages := 0
	cursor := ""
	for {
		var p struct {
			Data       []recipientBody `json:"data"`
			NextCursor *string         `json:"next_cursor"`
		}
		path := fmt.Sprintf("/v1/broadcasts/%s/recipients?limit=%d%s", id, limit, query)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		e.Get(t, path, token).Expect(t, http.StatusOK).JSON(t, &p)
		all, pages = append(all, p.Data...), pages+1
		if p.NextCursor == nil {
			return all, pages
		}
		cursor = *p.NextCursor
	}
}

// broadcastAudience is a WhatsApp Cloud channel on a fake Graph API (scheduledSetup) and three
// contacts tagged "december": Maria, who wrote an hour ago (in the window), João, who wrote two
// days ago (after it), and Ana, who has no identity on the channel; and Rui, in the window
// without the tag.
func broadcastAudience(t *testing.T, e *apitest.Env, w *apitest.Workspace) (graph *pt.Server, channel, maria, joao, ana string) {
	t.Helper()
	now := e.Clock.Now()
	graph, channel, maria, _ = scheduledSetup(t, e, w, now.Add(-time.Hour))
	e.Patch(t, "/v1/contacts/"+maria, w.OwnerToken, map[string]any{"first_name": "Maria", "tags": []string{"december"},
		"custom_fields": map[string]any{"city": "Lisbon"}}).Expect(t, http.StatusOK)
	joao = ingest(t, e, w.APIKey, channel, map[string]any{"identifier": "+16505550002", "text": "Olá",
		"received_at": now.Add(-48 * time.Hour).Format(time.RFC3339)}).Contact.ID
	e.Patch(t, "/v1/contacts/"+joao, w.OwnerToken, map[string]any{"first_name": "João", "tags": []string{"december"}}).Expect(t, http.StatusOK)
	ana = e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Ana", "tags": []string{"december"}})
	ingest(t, e, w.APIKey, channel, map[string]any{"identifier": "+16505550003", "text": "Hi"})
	return graph, channel, maria, joao, ana
}

// tableCount counts a table's rows.
func tableCount(t *testing.T, e *apitest.Env, table string) int {
	t.Helper()
	var n int
	if err := e.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBroadcastDryRunThenSend: a dry run counts the audience by decision and billable sends
// and writes nothing; the broadcast then sends to the tag's contacts through the rule-checked
// send, with the variables filled, records the refusals with their decisions, ends done with
// broadcast.completed, and an Idempotency-Key replays its creation.
func TestBroadcastDryRunThenSend(t *testing.T) {
	e := providerEnv(t)
	w := e.NewWorkspace(t, "Acme")
	graph, channel, maria, joao, ana := broadcastAudience(t, e, w)
	text := map[string]any{"type": "text", "text": "Hi {{contact.first_name}} from {{ contact.custom_fields.city }}{{contact.last_name}}!"}
	tmpl := map[string]any{"type": "template", "template": map[string]any{"name": "order_update", "language": "en_US",
		"variables": []string{"{{contact.first_name}}"}}}
	body := func(msg map[string]any, dry bool) map[string]any {
		return map[string]any{"name": "December", "channel_id": channel, "audience": map[string]any{"tag": "december"},
			"message": msg, "dry_run": dry}
	}
	messagesBefore := tableCount(t, e, "messages")

	for _, tc := range []struct {
		name                string
		msg                 map[string]any
		permitted, billable int
	}{
		// Only Maria may get free text; João needs a template.
		{"text", text, 1, 0},
		// A utility template is free inside the window (Maria) and billable after it (João).
		{"template", tmpl, 2, 1},
	} {
		t.Run("dry run "+tc.name, func(t *testing.T) {
			var d dryRunBody
			e.Post(t, "/v1/broadcasts", w.OwnerToken, body(tc.msg, true)).Expect(t, http.StatusOK).JSON(t, &d)
			want := map[string]int{"allowed": 1, "template_required": 1, "tag_required": 0, "blocked": 0, "no_channel_identity": 1}
			pt.Equal(t, "recipients", d.Recipients, 3)
			pt.Equal(t, "by decision", fmt.Sprint(d.ByDecision), fmt.Sprint(want))
			pt.Equal(t, "permitted", d.Permitted, tc.permitted)
			pt.Equal(t, "billable", d.Billable, tc.billable)
		})
	}
	pt.Equal(t, "broadcasts after dry runs", tableCount(t, e, "broadcasts"), 0)
	pt.Equal(t, "recipients after dry runs", tableCount(t, e, "broadcast_recipients"), 0)
	pt.Equal(t, "messages after dry runs", tableCount(t, e, "messages"), messagesBefore)

	first := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/broadcasts", Token: w.OwnerToken, Body: body(text, false),
		Header: map[string]string{"Idempotency-Key": "december-1"}}).Expect(t, http.StatusCreated)
	var b broadcastBody
	first.JSON(t, &b)
	if b.Status != "scheduled" && b.Status != "running" || b.Counts.Pending+b.Counts.Sent+b.Counts.Refused != 3 || *b.CreatedBy.ID != w.OwnerID {
		t.Fatalf("created: %+v", b)
	}
	again := e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/broadcasts", Token: w.OwnerToken, Body: body(text, false),
		Header: map[string]string{"Idempotency-Key": "december-1"}}).Expect(t, http.StatusCreated)
	pt.Equal(t, "replayed", again.Header.Get("Idempotent-Replayed"), "true")
	pt.Equal(t, "replayed body", string(again.Body), string(first.Body))
	pt.Equal(t, "broadcasts after a replay", tableCount(t, e, "broadcasts"), 1)

	done := waitBroadcast(t, e, w.OwnerToken, b.ID, "done")
	if done.Counts.Sent != 1 || done.Counts.Refused != 2 || done.Counts.Failed != 0 || done.Counts.Pending != 0 {
		t.Fatalf("done: %+v", done.Counts)
	}
	all, pages := recipients(t, e, w.OwnerToken, b.ID, "", 1)
	pt.Equal(t, "pages of one", pages, 3)
	got := map[string]recipientBody{}
	for i, r := range all {
		if i > 0 && all[i-1].ContactID >= r.ContactID {
			t.Fatalf("recipients out of contact id order: %+v", all)
		}
		got[r.ContactID] = r
	}
	if r := got[maria]; r.Status != "sent" || r.MessageID == nil {
		t.Fatalf("Maria: %+v", r)
	}
	if r := got[joao]; r.Status != "refused" || r.Decision == nil || r.Decision.Decision != "template_required" || *r.Error != "template_required" {
		t.Fatalf("João: %+v", r)
	}
	if r := got[ana]; r.Status != "refused" || r.Decision != nil || *r.Error != "no_channel_identity" {
		t.Fatalf("Ana: %+v", r)
	}
	refused, _ := recipients(t, e, w.OwnerToken, b.ID, "&status=refused", 25)
	pt.Equal(t, "refused", len(refused), 2)

	waitMessage(t, e, w.OwnerToken, *got[maria].MessageID, "sent")
	var m struct {
		Text string `json:"text"`
	}
	e.Get(t, "/v1/messages/"+*got[maria].MessageID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &m)
	pt.Equal(t, "filled text", m.Text, "Hi Maria from Lisbon!")
	var reached bool
	for _, r := range graph.Requests() {
		reached = reached || bytes.Contains(r.Body, []byte("Hi Maria from Lisbon!"))
	}
	if !reached {
		t.Fatalf("the fake Graph API got no broadcast message: %d requests", len(graph.Requests()))
	}
	var perContact int
	if err := e.Store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE contact_id = $1 AND direction = 'outgoing'`,
		maria).Scan(&perContact); err != nil {
		t.Fatal(err)
	}
	pt.Equal(t, "messages to Maria", perContact, 1)

	var evs struct {
		Data []struct {
			Type string        `json:"type"`
			Data broadcastBody `json:"data"`
		} `json:"data"`
	}
	e.Get(t, "/v1/events?types=broadcast.completed", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &evs)
	if len(evs.Data) != 1 || evs.Data[0].Data.ID != b.ID || evs.Data[0].Data.Status != "done" || evs.Data[0].Data.Counts.Sent != 1 {
		t.Fatalf("broadcast.completed: %+v", evs.Data)
	}
	e.Post(t, "/v1/broadcasts/"+b.ID+"/cancel", w.OwnerToken, nil).ExpectProblem(t, http.StatusConflict, "broadcast_not_cancellable")

	var list struct {
		Data       []broadcastBody `json:"data"`
		NextCursor *string         `json:"next_cursor"`
	}
	e.Get(t, "/v1/broadcasts", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &list)
	if len(list.Data) != 1 || list.Data[0].ID != b.ID || list.NextCursor != nil {
		t.Fatalf("list: %+v", list)
	}
}

// TestBroadcastCancelAndRefusals: a broadcast due later is cancelled with every recipient
// pending, and cannot be cancelled twice; bad input is a 422 with its code; the list is newest
// first, page by page.
func TestBroadcastCancelAndRefusals(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	channel := newChannel(t, e, w.OwnerToken, "webchat")
	var ids []string
	for i := range 3 {
		ids = append(ids, ingest(t, e, w.APIKey, channel, map[string]any{"identifier": fmt.Sprint("visitor-", i), "text": "hi"}).Contact.ID)
	}
	now := e.Clock.Now()
	later := func(name string) map[string]any {
		return map[string]any{"name": name, "channel_id": channel, "audience": map[string]any{"contact_ids": ids},
			"message": map[string]any{"type": "text", "text": "We open at 10"}, "send_at": now.Add(time.Hour).Format(time.RFC3339)}
	}
	b := createBroadcast(t, e, w.OwnerToken, later("first"))
	pt.Equal(t, "status", b.Status, "scheduled")
	var c broadcastBody
	e.Post(t, "/v1/broadcasts/"+b.ID+"/cancel", w.OwnerToken, nil).Expect(t, http.StatusOK).JSON(t, &c)
	if c.Status != "cancelled" || c.Counts.Pending != 3 {
		t.Fatalf("cancelled: %+v", c)
	}
	e.Post(t, "/v1/broadcasts/"+b.ID+"/cancel", w.OwnerToken, nil).ExpectProblem(t, http.StatusConflict, "broadcast_not_cancellable")
	pending, _ := recipients(t, e, w.OwnerToken, b.ID, "&status=pending", 2)
	pt.Equal(t, "pending recipients", len(pending), 3)

	second := createBroadcast(t, e, w.OwnerToken, later("second"))
	var p1, p2 struct {
		Data       []broadcastBody `json:"data"`
		NextCursor *string         `json:"next_cursor"`
	}
	e.Get(t, "/v1/broadcasts?limit=1", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &p1)
	if len(p1.Data) != 1 || p1.Data[0].ID != second.ID || p1.NextCursor == nil {
		t.Fatalf("first page: %+v", p1)
	}
	e.Get(t, "/v1/broadcasts?limit=1&cursor="+*p1.NextCursor, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &p2)
	if len(p2.Data) != 1 || p2.Data[0].ID != b.ID || p2.NextCursor != nil {
		t.Fatalf("second page: %+v", p2)
	}

	other := e.NewWorkspace(t, "Other")
	stranger := e.NewContact(t, other.OwnerToken, map[string]any{"first_name": "Eve"})
	msg := map[string]any{"type": "text", "text": "hi"}
	for _, tc := range []struct {
		name       string
		body       map[string]any
		code, want string
	}{
		{"another workspace's contacts", map[string]any{"name": "x", "channel_id": channel, "audience": map[string]any{"contact_ids": []string{stranger}}, "message": msg},
			"audience_empty", ""},
		{"a tag nobody has", map[string]any{"name": "x", "channel_id": channel, "audience": map[string]any{"tag": "nobody"}, "message": msg},
			"audience_empty", ""},
		{"a dry run of a tag nobody has", map[string]any{"name": "x", "channel_id": channel, "audience": map[string]any{"tag": "nobody"}, "message": msg, "dry_run": true},
			"audience_empty", ""},
		{"send_at past", map[string]any{"name": "x", "channel_id": channel, "audience": map[string]any{"contact_ids": ids}, "message": msg,
			"send_at": now.Add(-time.Minute).Format(time.RFC3339)}, "validation_failed", "send_at"},
		{"send_at beyond 30 days", map[string]any{"name": "x", "channel_id": channel, "audience": map[string]any{"contact_ids": ids}, "message": msg,
			"send_at": now.Add(31 * 24 * time.Hour).Format(time.RFC3339)}, "validation_failed", "send_at"},
		{"no such channel", map[string]any{"name": "x", "channel_id": stranger, "audience": map[string]any{"contact_ids": ids}, "message": msg},
			"validation_failed", "channel_id"},
		{"unknown variable", map[string]any{"name": "x", "channel_id": channel, "audience": map[string]any{"contact_ids": ids},
			"message": map[string]any{"type": "text", "text": "Hi {{contact.email}}"}}, "validation_failed", "message.text"},
		{"unknown template", map[string]any{"name": "x", "channel_id": channel, "audience": map[string]any{"contact_ids": ids},
			"message": map[string]any{"type": "template", "template": map[string]any{"name": "nope", "language": "en_US", "variables": []string{}}}},
			"validation_failed", "message.template.name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post(t, "/v1/broadcasts", w.OwnerToken, tc.body).ExpectProblem(t, http.StatusUnprocessableEntity, tc.code)
			if tc.want != "" && !bytes.Contains(r.Body, []byte(`"field":"`+tc.want+`"`)) {
				t.Errorf("the problem names no %s: %s", tc.want, r.Body)
			}
		})
	}
	pt.Equal(t, "broadcasts", tableCount(t, e, "broadcasts"), 2)
}
