package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/page"
)

// snoozedConversation is a conversation with its snooze.
type snoozedConversation struct {
	conversationBody
	SnoozedUntil *time.Time `json:"snoozed_until"`
}

// lifecycleStep is a lifecycle event with a snooze's fields.
type lifecycleStep struct {
	Type         string     `json:"type"`
	Actor        actorBody  `json:"actor"`
	AssigneeID   *string    `json:"assignee_id"`
	SnoozedUntil *time.Time `json:"snoozed_until"`
	Reason       *string    `json:"reason"`
	At           time.Time  `json:"at"`
}

// outboxEvent is an event of GET /v1/events whose data is a conversation.
type outboxEvent struct {
	ID             string              `json:"id"`
	Type           string              `json:"type"`
	OccurredAt     time.Time           `json:"occurred_at"`
	ConversationID *string             `json:"conversation_id"`
	Data           snoozedConversation `json:"data"`
}

// postSnooze asks to snooze conv with the body.
func postSnooze(t *testing.T, e *apitest.Env, token, conv string, body any) *apitest.Response {
	t.Helper()
	return e.Post(t, "/v1/conversations/"+conv+"/snooze", token, body)
}

// snoozeUntil snoozes conv until the instant (nil: until the customer writes) and expects 200.
func snoozeUntil(t *testing.T, e *apitest.Env, token, conv string, until *time.Time) snoozedConversation {
	t.Helper()
	var body any
	if until != nil {
		body = until.Format(time.RFC3339Nano)
	}
	var v snoozedConversation
	postSnooze(t, e, token, conv, map[string]any{"until": body}).Expect(t, http.StatusOK).JSON(t, &v)
	return v
}

func getSnoozed(t *testing.T, e *apitest.Env, token, conv string) snoozedConversation {
	t.Helper()
	var v snoozedConversation
	e.Get(t, "/v1/conversations/"+conv, token).Expect(t, http.StatusOK).JSON(t, &v)
	return v
}

func lifecycle(t *testing.T, e *apitest.Env, token, conv string) []lifecycleStep {
	t.Helper()
	var p struct {
		Data []lifecycleStep `json:"data"`
	}
	e.Get(t, "/v1/conversations/"+conv+"/events?limit=100", token).Expect(t, http.StatusOK).JSON(t, &p)
	return p.Data
}

func stepTypes(steps []lifecycleStep) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Type
	}
	return out
}

// outbox lists the workspace's events of a type about conv (GET /v1/events).
func outbox(t *testing.T, e *apitest.Env, token, conv, typ string) []outboxEvent {
	t.Helper()
	var p struct {
		Data []outboxEvent `json:"data"`
	}
	e.Get(t, "/v1/events?limit=100&types="+typ+"&conversation_id="+conv, token).Expect(t, http.StatusOK).JSON(t, &p)
	return p.Data
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func TestSnoozeRefusals(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	other := e.NewWorkspace(t, "Other")
	ch := newChannel(t, e, w.OwnerToken, "line")
	conv := openConversation(t, e, w, ch, "U1")
	closed := openConversation(t, e, w, ch, "U2")
	e.Post(t, "/v1/conversations/"+closed+"/close", w.OwnerToken, nil).Expect(t, http.StatusOK)
	foreign := openConversation(t, e, other, newChannel(t, e, other.OwnerToken, "line"), "U1")
	readOnly := e.NewKey(t, w, "conversations:read")
	now := e.Clock.Now()
	at := func(d time.Duration) string { return now.Add(d).Format(time.RFC3339Nano) }

	cases := []struct {
		name   string
		token  string
		conv   string
		body   any
		status int
		code   string
		field  string
	}{
		{"until in the past", w.OwnerToken, conv, map[string]any{"until": at(-time.Minute)}, 422, "validation_failed", "until"},
		{"until now", w.OwnerToken, conv, map[string]any{"until": at(0)}, 422, "validation_failed", "until"},
		{"more than a year ahead", w.OwnerToken, conv, map[string]any{"until": at(366 * 24 * time.Hour)}, 422, "validation_failed", "until"},
		{"not an instant", w.OwnerToken, conv, map[string]any{"until": "tomorrow"}, 422, "validation_failed", "until"},
		{"a date without a time", w.OwnerToken, conv, map[string]any{"until": now.AddDate(0, 0, 2).Format("2006-01-02")}, 422, "validation_failed", "until"},
		{"a number", w.OwnerToken, conv, map[string]any{"until": now.Add(time.Hour).Unix()}, 422, "validation_failed", "until"},
		{"until left out", w.OwnerToken, conv, map[string]any{}, 422, "validation_failed", "until"},
		{"an unknown field", w.OwnerToken, conv, map[string]any{"until": nil, "for": "1h"}, 400, "unknown_field", "for"},
		{"a closed conversation", w.OwnerToken, closed, map[string]any{"until": at(time.Hour)}, 409, "conversation_closed", ""},
		{"another workspace's conversation", w.OwnerToken, foreign, map[string]any{"until": at(time.Hour)}, 404, "conversation_not_found", ""},
		{"an unknown conversation", w.OwnerToken, uuid.NewString(), map[string]any{"until": nil}, 404, "conversation_not_found", ""},
		{"a malformed id", w.OwnerToken, "nope", map[string]any{"until": nil}, 404, "conversation_not_found", ""},
		{"a key without conversations:write", readOnly, conv, map[string]any{"until": nil}, 403, "forbidden", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := postSnooze(t, e, tc.token, tc.conv, tc.body).ExpectProblem(t, tc.status, tc.code)
			if tc.field == "" {
				return
			}
			var p struct {
				Errors []struct {
					Field string `json:"field"`
				} `json:"errors"`
			}
			r.JSON(t, &p)
			if len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
				t.Fatalf("errors %+v, want one naming %s", p.Errors, tc.field)
			}
		})
	}
	// Nothing was written by any refusal.
	for _, c := range []struct {
		token, conv, status string
	}{{w.OwnerToken, conv, "open"}, {w.OwnerToken, closed, "closed"}, {other.OwnerToken, foreign, "open"}} {
		if v := getSnoozed(t, e, c.token, c.conv); v.Status != c.status || v.SnoozedUntil != nil {
			t.Errorf("%s after refusals: status %s, snoozed_until %v; want %s, null", c.conv, v.Status, v.SnoozedUntil, c.status)
		}
		if steps := stepTypes(lifecycle(t, e, c.token, c.conv)); slices.Contains(steps, "snoozed") {
			t.Errorf("%s after refusals: lifecycle %v", c.conv, steps)
		}
	}
	if n := count(t, e, `SELECT count(*) FROM events WHERE type = 'conversation.snoozed'`); n != 0 {
		t.Errorf("%d conversation.snoozed events after refusals", n)
	}
}

// Agents snooze as they close; snoozing again moves the instant, the same instant records
// nothing, and null snoozes until the customer writes.
func TestSnoozeAndSnoozeAgain(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ana := e.NewUser(t, w, "agent")
	ch := newChannel(t, e, w.OwnerToken, "line")
	conv := openConversation(t, e, w, ch, "U1")
	// Ben's conversation: an agent snoozes what is not hers, as she may close it.
	ben := e.NewUser(t, w, "agent")
	e.Put(t, "/v1/conversations/"+conv+"/assignee", ben.Token, map[string]any{"user_id": ben.ID}).Expect(t, http.StatusOK)

	hour := e.Clock.Now().Add(time.Hour).Truncate(time.Millisecond)
	v := snoozeUntil(t, e, ana.Token, conv, &hour)
	if v.Status != "snoozed" || !sameTime(v.SnoozedUntil, &hour) || v.Assignee == nil || v.Assignee.ID != ben.ID {
		t.Fatalf("snoozed: status %s until %v assignee %+v", v.Status, v.SnoozedUntil, v.Assignee)
	}
	// A time zone other than UTC, and fractions, name the same instant.
	two := e.Clock.Now().Add(2*time.Hour + 123456*time.Microsecond)
	var body snoozedConversation
	postSnooze(t, e, w.APIKey, conv, map[string]any{"until": two.In(time.FixedZone("X", -5*3600)).Format(time.RFC3339Nano)}).
		Expect(t, http.StatusOK).JSON(t, &body)
	if !sameTime(body.SnoozedUntil, &two) {
		t.Fatalf("snoozed again until %v, want %v", body.SnoozedUntil, two)
	}
	snoozeUntil(t, e, w.OwnerToken, conv, &two) // the same instant: nothing recorded
	if v := snoozeUntil(t, e, ana.Token, conv, nil); v.Status != "snoozed" || v.SnoozedUntil != nil {
		t.Fatalf("until the customer writes: status %s until %v", v.Status, v.SnoozedUntil)
	}
	if v := getSnoozed(t, e, w.OwnerToken, conv); v.Status != "snoozed" || v.SnoozedUntil != nil {
		t.Fatalf("read back: status %s until %v", v.Status, v.SnoozedUntil)
	}

	steps := lifecycle(t, e, w.OwnerToken, conv)
	if got, want := stepTypes(steps), []string{"opened", "assigned", "snoozed", "snoozed", "snoozed"}; !slices.Equal(got, want) {
		t.Fatalf("lifecycle %v, want %v", got, want)
	}
	for i, want := range []struct {
		actor string
		until *time.Time
	}{{"user", &hour}, {"api_key", &two}, {"user", nil}} {
		s := steps[2+i]
		if s.Actor.Kind != want.actor || !sameTime(s.SnoozedUntil, want.until) || s.Reason != nil {
			t.Errorf("snoozed step %d: %+v, want actor %s until %v", i, s, want.actor, want.until)
		}
	}
	evs := outbox(t, e, w.APIKey, conv, "conversation.snoozed")
	if len(evs) != 3 {
		t.Fatalf("%d conversation.snoozed events, want 3", len(evs))
	}
	if d := evs[0].Data; d.Status != "snoozed" || !sameTime(d.SnoozedUntil, &hour) || d.ID != conv {
		t.Fatalf("first conversation.snoozed: %+v", d)
	}
}

// The inbox: status=snoozed lists the snoozed, status=open leaves them out, status=all has
// them, combined with the other filters, q and sort; rows carry snoozed_until.
func TestSnoozedInbox(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ana := e.NewUser(t, w, "agent")
	line := newChannel(t, e, w.OwnerToken, "line")
	tg := newChannel(t, e, w.OwnerToken, "telegram")
	newConv := func(ch, id, first, last string) string {
		e.Clock.Advance(time.Minute) // last message order: the order made
		return ingest(t, e, w.APIKey, ch, map[string]any{"identifier": id, "text": "hi",
			"contact": map[string]any{"first_name": first, "last_name": last}}).Conversation.ID
	}
	open := newConv(line, "U1", "Olga", "Open")
	mine := newConv(line, "U2", "Mia", "Mine")
	quist := newConv(line, "U3", "Zelda", "Quist")
	closed := newConv(line, "U4", "Carl", "Closed")
	telegram := newConv(tg, "42", "Tom", "Telegram")
	for _, c := range []string{open, mine} {
		e.Put(t, "/v1/conversations/"+c+"/assignee", ana.Token, map[string]any{"user_id": ana.ID}).Expect(t, http.StatusOK)
	}
	until := e.Clock.Now().Add(3 * time.Hour)
	snoozeUntil(t, e, ana.Token, mine, &until)
	snoozeUntil(t, e, ana.Token, quist, nil)
	snoozeUntil(t, e, w.APIKey, telegram, &until)
	e.Post(t, "/v1/conversations/"+closed+"/close", w.OwnerToken, nil).Expect(t, http.StatusOK)

	cases := []struct {
		query string
		want  []string
	}{
		{"status=snoozed", []string{telegram, quist, mine}},
		{"status=snoozed&sort=oldest", []string{mine, quist, telegram}},
		{"", []string{open}},
		{"status=open", []string{open}},
		{"status=closed", []string{closed}},
		{"status=all", []string{telegram, closed, quist, mine, open}},
		{"status=snoozed&inbox=mine", []string{mine}},
		{"status=open&inbox=mine", []string{open}},
		{"status=snoozed&inbox=unassigned", []string{telegram, quist}},
		{"status=snoozed&assignee_id=" + ana.ID, []string{mine}},
		{"status=snoozed&channel_id=" + tg, []string{telegram}},
		{"status=snoozed&channel_id=" + line, []string{quist, mine}},
		{"status=snoozed&q=quist", []string{quist}},
		{"status=snoozed&q=el", []string{telegram, quist}},
		{"status=open&q=quist", []string{}},
		{"status=all&q=quist", []string{quist}},
		{"status=snoozed&inbox=unassigned&q=tom&sort=oldest", []string{telegram}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			got := inboxIDs(t, e, ana.Token, mustQuery(tc.query))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("pages of status=snoozed", func(t *testing.T) {
		var got []string
		qs := q("status", "snoozed", "limit", "1")
		for range 10 {
			p := inbox(t, e, ana.Token, qs)
			for _, c := range p.Data {
				got = append(got, c.ID)
			}
			if p.NextCursor == nil {
				break
			}
			qs.Set("cursor", *p.NextCursor)
		}
		if want := []string{telegram, quist, mine}; !slices.Equal(got, want) {
			t.Fatalf("paged %v, want %v", got, want)
		}
	})
	t.Run("rows carry snoozed_until", func(t *testing.T) {
		var p struct {
			Data []snoozedConversation `json:"data"`
		}
		e.Get(t, "/v1/conversations?status=all", ana.Token).Expect(t, http.StatusOK).JSON(t, &p)
		want := map[string]*time.Time{open: nil, mine: &until, quist: nil, closed: nil, telegram: &until}
		for _, c := range p.Data {
			if !sameTime(c.SnoozedUntil, want[c.ID]) {
				t.Errorf("%s (%s): snoozed_until %v, want %v", c.ID, c.Status, c.SnoozedUntil, want[c.ID])
			}
		}
	})
	e.Get(t, "/v1/conversations?status=sleeping", ana.Token).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
}

// An inbound message wakes a snoozed conversation in its own transaction: open, a woke step
// with reason customer_replied, event conversation.woke. It goes by when the message is
// ingested, so a late delivery received before the snooze wakes it too; a replayed external
// id does not.
func TestInboundWakesSnoozed(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ch := newChannel(t, e, w.APIKey, "line")
	first := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "U1", "text": "hello", "external_id": "m1"})
	conv, customer := first.Conversation.ID, first.Contact.ID
	e.Clock.Advance(time.Hour) // (the key, not the owner's access token, outlives this)
	snoozeUntil(t, e, w.APIKey, conv, nil)

	late := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "U1", "text": "sent an hour ago",
		"received_at": e.Clock.Now().Add(-30 * time.Minute).Format(time.RFC3339)})
	if late.Conversation.Status != "open" {
		t.Fatalf("after an inbound message the conversation is %s", late.Conversation.Status)
	}
	if v := getSnoozed(t, e, w.APIKey, conv); v.Status != "open" || v.SnoozedUntil != nil {
		t.Fatalf("woken: status %s, snoozed_until %v", v.Status, v.SnoozedUntil)
	}
	steps := lifecycle(t, e, w.APIKey, conv)
	if got, want := stepTypes(steps), []string{"opened", "snoozed", "woke"}; !slices.Equal(got, want) {
		t.Fatalf("lifecycle %v, want %v", got, want)
	}
	woke := steps[2]
	if woke.Reason == nil || *woke.Reason != "customer_replied" || woke.Actor.Kind != "contact" || woke.Actor.ID == nil ||
		*woke.Actor.ID != customer || !woke.At.Equal(e.Clock.Now()) {
		t.Fatalf("woke step %+v", woke)
	}
	evs := outbox(t, e, w.APIKey, conv, "conversation.woke")
	if len(evs) != 1 || evs[0].Data.Status != "open" || evs[0].Data.SnoozedUntil != nil {
		t.Fatalf("conversation.woke events: %+v", evs)
	}

	// Snoozed again until an instant: a replay of an ingested message changes nothing.
	until := e.Clock.Now().Add(time.Hour)
	snoozeUntil(t, e, w.APIKey, conv, &until)
	e.Post(t, "/v1/channels/"+ch+"/inbound", w.APIKey, map[string]any{"identifier": "U1", "text": "hello", "external_id": "m1"}).
		Expect(t, http.StatusOK)
	if v := getSnoozed(t, e, w.APIKey, conv); v.Status != "snoozed" || !sameTime(v.SnoozedUntil, &until) {
		t.Fatalf("after a replay: status %s, snoozed_until %v", v.Status, v.SnoozedUntil)
	}
	// A new message before the instant wakes it, for the customer.
	e.Clock.Advance(time.Minute)
	ingest(t, e, w.APIKey, ch, map[string]any{"identifier": "U1", "text": "any news?"})
	steps = lifecycle(t, e, w.APIKey, conv)
	if got, want := stepTypes(steps), []string{"opened", "snoozed", "woke", "snoozed", "woke"}; !slices.Equal(got, want) {
		t.Fatalf("lifecycle %v, want %v", got, want)
	}
	if r := steps[4].Reason; r == nil || *r != "customer_replied" {
		t.Fatalf("second woke step %+v", steps[4])
	}
	if evs := outbox(t, e, w.APIKey, conv, "conversation.woke"); len(evs) != 2 {
		t.Fatalf("%d conversation.woke events, want 2", len(evs))
	}
	// The time that has now passed wakes nothing: it is open.
	e.Clock.Advance(2 * time.Hour)
	runJob(t, e, job.WakeSnoozed{})
	if n := len(outbox(t, e, w.APIKey, conv, "conversation.woke")); n != 2 {
		t.Fatalf("%d conversation.woke events after the wake-up ran, want 2", n)
	}
}

// A send leaves a snoozed conversation snoozed; reopen wakes it (and assigns as reopen does);
// close closes it.
func TestSnoozedSendReopenClose(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ana := e.NewUser(t, w, "agent")
	ben := e.NewUser(t, w, "agent")
	s := newSendEnv(t, e, w, "sms", nil, "+14155550199", time.Minute)
	var ct contactBody
	e.Get(t, "/v1/contacts/"+s.contact, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &ct)
	conv := ct.Conversation.ID

	until := e.Clock.Now().Add(time.Hour)
	snoozeUntil(t, e, ana.Token, conv, &until)
	s.send(t, ana.Token, map[string]any{"type": "text", "text": "We are on it"}).Expect(t, http.StatusCreated)
	v := getSnoozed(t, e, w.OwnerToken, conv)
	if v.Status != "snoozed" || !sameTime(v.SnoozedUntil, &until) || v.LastMessage == nil || v.LastMessage.Direction != "outgoing" {
		t.Fatalf("after a send: status %s until %v last %+v", v.Status, v.SnoozedUntil, v.LastMessage)
	}
	e.Get(t, "/v1/contacts/"+s.contact, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &ct)
	if ct.Conversation.Status != "snoozed" {
		t.Fatalf("the contact's conversation is %s", ct.Conversation.Status)
	}

	// Ben reopens it: awake, and his, as a reopen makes it.
	var r snoozedConversation
	e.Post(t, "/v1/conversations/"+conv+"/reopen", ben.Token, nil).Expect(t, http.StatusOK).JSON(t, &r)
	if r.Status != "open" || r.SnoozedUntil != nil || r.Assignee == nil || r.Assignee.ID != ben.ID {
		t.Fatalf("reopened: status %s until %v assignee %+v", r.Status, r.SnoozedUntil, r.Assignee)
	}
	e.Post(t, "/v1/conversations/"+conv+"/reopen", ben.Token, nil).ExpectProblem(t, http.StatusConflict, "conversation_open")
	if evs := outbox(t, e, w.APIKey, conv, "conversation.reopened"); len(evs) != 1 || evs[0].Data.Status != "open" {
		t.Fatalf("conversation.reopened events: %+v", evs)
	}

	// Snoozed again, then closed.
	snoozeUntil(t, e, ben.Token, conv, &until)
	var c snoozedConversation
	e.Post(t, "/v1/conversations/"+conv+"/close", ben.Token, map[string]any{"summary": "done"}).Expect(t, http.StatusOK).JSON(t, &c)
	if c.Status != "closed" || c.SnoozedUntil != nil || c.ClosedAt == nil {
		t.Fatalf("closed: status %s until %v closed_at %v", c.Status, c.SnoozedUntil, c.ClosedAt)
	}
	postSnooze(t, e, ben.Token, conv, map[string]any{"until": nil}).ExpectProblem(t, http.StatusConflict, "conversation_closed")
	e.Clock.Advance(2 * time.Hour) // (access tokens expire: the key reads from here)
	runJob(t, e, job.WakeSnoozed{})
	if v := getSnoozed(t, e, w.APIKey, conv); v.Status != "closed" {
		t.Fatalf("the wake-up opened a closed conversation: %s", v.Status)
	}

	got := stepTypes(lifecycle(t, e, w.APIKey, conv))
	want := []string{"opened", "snoozed", "assigned", "reopened", "assigned", "snoozed", "closed"}
	if !slices.Equal(got, want) {
		t.Fatalf("lifecycle %v, want %v", got, want)
	}
	if n := len(outbox(t, e, w.APIKey, conv, "conversation.woke")); n != 0 {
		t.Fatalf("%d conversation.woke events, want none", n)
	}
}

// wakeEverySecond runs the periodic wake-up every second.
func wakeEverySecond(c *config.Config) { c.SnoozeWakeInterval = time.Second }

// The wake-up job: two server processes on one database, a snooze until now+5s; it wakes once,
// by the periodic job, not before its instant. Then many snoozes due at once, with both
// processes running the job at the same time: each wakes exactly once.
func TestSnoozeWakeJobAcrossProcesses(t *testing.T) {
	e := apitest.New(t, wakeEverySecond)
	twin := e.Twin(t)
	w := e.NewWorkspace(t, "Acme")
	ch := newChannel(t, e, w.OwnerToken, "line")
	conv := openConversation(t, e, w, ch, "U1")
	until := e.Clock.Now().Add(5 * time.Second)
	snoozeUntil(t, twin, w.OwnerToken, conv, &until)

	// A second before the instant, with the job running on both processes: still snoozed.
	e.Clock.Advance(4 * time.Second)
	runJob(t, e, job.WakeSnoozed{})
	runJob(t, twin, job.WakeSnoozed{})
	time.Sleep(2500 * time.Millisecond) // two runs of the periodic job
	if v := getSnoozed(t, e, w.OwnerToken, conv); v.Status != "snoozed" {
		t.Fatalf("woken a second before its instant: %s", v.Status)
	}

	// At the instant the periodic job wakes it, on whichever process River's leader chose.
	e.Clock.Advance(time.Second)
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for getSnoozed(t, twin, w.OwnerToken, conv).Status != "open" {
		if time.Now().After(deadline) {
			t.Fatal("not woken within 30s of its instant by the periodic job")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("woken by the periodic job %s after its instant", time.Since(start).Round(100*time.Millisecond))
	// More runs, on both processes at once, wake nothing more.
	var wg sync.WaitGroup
	for _, p := range []*apitest.Env{e, twin, e, twin} {
		wg.Go(func() { runJob(t, p, job.WakeSnoozed{}) })
	}
	wg.Wait()
	evs := outbox(t, e, w.APIKey, conv, "conversation.woke")
	if len(evs) != 1 || evs[0].Data.Status != "open" || evs[0].Data.SnoozedUntil != nil {
		t.Fatalf("conversation.woke events: %+v, want exactly one", evs)
	}
	steps := lifecycle(t, twin, w.OwnerToken, conv)
	if got, want := stepTypes(steps), []string{"opened", "snoozed", "woke"}; !slices.Equal(got, want) {
		t.Fatalf("lifecycle %v, want %v", got, want)
	}
	if s := steps[2]; s.Reason == nil || *s.Reason != "time" || s.Actor.Kind != "system" || s.Actor.ID != nil || s.At.Before(until) {
		t.Fatalf("woke step %+v (until %s)", s, until)
	}

	// Many snoozes due at once, in two workspaces; both processes wake them concurrently.
	other := e.NewWorkspace(t, "Other")
	och := newChannel(t, e, other.OwnerToken, "line")
	soon := e.Clock.Now().Add(time.Minute)
	var convs []string
	for i := range 30 {
		ws, chID := w, ch
		if i%3 == 0 {
			ws, chID = other, och
		}
		c := openConversation(t, e, ws, chID, fmt.Sprint("M", i))
		snoozeUntil(t, e, ws.OwnerToken, c, &soon)
		convs = append(convs, c)
	}
	e.Clock.Advance(time.Minute)
	for _, p := range []*apitest.Env{e, twin, e, twin, e, twin} {
		wg.Go(func() { runJob(t, p, job.WakeSnoozed{}) })
	}
	wg.Wait()
	// The periodic job may still hold a few it took (the runs above skipped them).
	deadline = time.Now().Add(30 * time.Second)
	for count(t, e, `SELECT count(*) FROM conversations WHERE status = 'snoozed'`) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("conversations still snoozed 30s after their instant")
		}
		time.Sleep(100 * time.Millisecond)
	}
	perConv := count(t, e, `SELECT count(*) FROM (SELECT conversation_id FROM conversation_events WHERE type = 'woke'
GROUP BY conversation_id HAVING count(*) <> 1) x`)
	woken := count(t, e, `SELECT count(*) FROM events WHERE type = 'conversation.woke'`)
	if perConv != 0 || woken != 31 {
		t.Fatalf("%d conversations woken other than once; %d conversation.woke events, want 31", perConv, woken)
	}
	for _, c := range []struct {
		token, conv string
	}{{other.OwnerToken, convs[0]}, {w.OwnerToken, convs[1]}} {
		if v := getSnoozed(t, twin, c.token, c.conv); v.Status != "open" || v.SnoozedUntil != nil {
			t.Fatalf("%s: status %s until %v", c.conv, v.Status, v.SnoozedUntil)
		}
		if evs := outbox(t, e, c.token, c.conv, "conversation.woke"); len(evs) != 1 {
			t.Fatalf("%s: %d conversation.woke events", c.conv, len(evs))
		}
	}
}

// status=snoozed lists walk their partial index (inbox=mine the assignee index), and the
// wake-up finds due snoozes by conversations_snooze_due: no sequential scan of conversations.
func TestSnoozePlans(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	seedContacts(t, e, w.ID, 10000)
	ctx := context.Background()
	// Every 10th conversation snoozed (half of those until an instant, spread over a day),
	// every 5th of those the owner's; the rest split between open and closed.
	if _, err := e.Store.Pool.Exec(ctx, `
WITH n AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM conversations WHERE workspace_id = $1)
UPDATE conversations v SET
    last_message_at = now() - n.i * interval '1 minute',
    status = CASE WHEN n.i % 10 = 0 THEN 'snoozed' WHEN n.i % 2 = 0 THEN 'closed' ELSE 'open' END,
    snoozed_until = CASE WHEN n.i % 20 = 0 THEN now() + (n.i % 1440) * interval '1 minute' END,
    assignee_id = CASE WHEN n.i % 50 = 0 OR n.i % 7 = 0 THEN $2::uuid END
FROM n WHERE v.workspace_id = $1 AND v.id = n.id`, w.ID, w.OwnerID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Pool.Exec(ctx, "VACUUM (ANALYZE) conversations"); err != nil {
		t.Fatal(err)
	}
	ws, owner := uuid.MustParse(w.ID), uuid.MustParse(w.OwnerID)
	cases := []struct {
		name  string
		f     conversation.Filter
		index string
	}{
		{"status=snoozed", conversation.Filter{Status: "snoozed", Inbox: "all", Sort: "newest"}, "conversations_snoozed"},
		{"status=snoozed&sort=oldest", conversation.Filter{Status: "snoozed", Inbox: "all", Sort: "oldest"}, "conversations_snoozed"},
		{"status=snoozed&q=smith", conversation.Filter{Status: "snoozed", Inbox: "all", Sort: "newest", Q: "smith"}, "conversations_snoozed"},
		{"status=snoozed&inbox=mine", conversation.Filter{Status: "snoozed", Inbox: "mine", Me: owner, Sort: "newest"}, "conversations_assignee"},
		{"status=snoozed&inbox=unassigned", conversation.Filter{Status: "snoozed", Inbox: "unassigned", Sort: "newest"}, "conversations_"},
		{"status=open", conversation.Filter{Status: "open", Inbox: "all", Sort: "newest"}, "conversations_open"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plans, err := e.Store.ExplainConversations(ctx, ws, tc.f, page.Request{Limit: 25})
			if err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(plans, "\n\n")
			if !strings.Contains(plans[0], "using "+tc.index) || strings.Contains(plan, "Seq Scan on conversations") {
				t.Fatalf("plan does not walk %s:\n%s", tc.index, plan)
			}
			t.Logf("EXPLAIN ANALYZE, %s, 10 000 conversations (1 000 snoozed):\n%s", tc.name, plan)
		})
	}
	t.Run("wake-up", func(t *testing.T) {
		plan, err := e.Store.ExplainWake(ctx, time.Now().Add(6*time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "conversations_snooze_due") || strings.Contains(plan, "Seq Scan on conversations") {
			t.Fatalf("the wake-up does not use conversations_snooze_due:\n%s", plan)
		}
		t.Logf("EXPLAIN ANALYZE, wake-up due in 6 hours:\n%s", plan)
	})
}
