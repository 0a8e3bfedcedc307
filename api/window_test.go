package api_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/job"
)

// replyWindowBody is a row's reply_window.
type replyWindowBody struct {
	ChannelID       string     `json:"channel_id"`
	Decision        string     `json:"decision"`
	ReasonCode      string     `json:"reason_code"`
	WindowExpiresAt *time.Time `json:"window_expires_at"`
}

// windowRow is an inbox row with its reply window.
type windowRow struct {
	ID          string           `json:"id"`
	Status      string           `json:"status"`
	ReplyWindow *replyWindowBody `json:"reply_window"`
}

type windowPage struct {
	Data       []windowRow `json:"data"`
	NextCursor *string     `json:"next_cursor"`
}

// windowAlertBody is the data of window.expiring and window.closed.
type windowAlertBody struct {
	ConversationID string          `json:"conversation_id"`
	ContactID      string          `json:"contact_id"`
	Status         string          `json:"status"`
	AssigneeID     *string         `json:"assignee_id"`
	ChannelID      string          `json:"channel_id"`
	ChannelType    string          `json:"channel_type"`
	Window         string          `json:"window"`
	ExpiresAt      time.Time       `json:"expires_at"`
	ReplyWindow    replyWindowBody `json:"reply_window"`
}

type windowEvent struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	OccurredAt     time.Time       `json:"occurred_at"`
	ConversationID *string         `json:"conversation_id"`
	Data           windowAlertBody `json:"data"`
}

// windowEvents lists the workspace's window events, oldest first.
func windowEvents(t *testing.T, e *apitest.Env, token string) []windowEvent {
	t.Helper()
	var p struct {
		Data []windowEvent `json:"data"`
	}
	e.Get(t, "/v1/events?limit=100&types=window.expiring,window.closed", token).Expect(t, http.StatusOK).JSON(t, &p)
	return p.Data
}

func windowInbox(t *testing.T, e *apitest.Env, token string, qs url.Values) windowPage {
	t.Helper()
	var p windowPage
	e.Get(t, "/v1/conversations?"+qs.Encode(), token).Expect(t, http.StatusOK).JSON(t, &p)
	return p
}

// windowIDs pages through the whole list (limit per page) and answers its ids.
func windowIDs(t *testing.T, e *apitest.Env, token string, qs url.Values) []string {
	t.Helper()
	ids := []string{}
	for range 50 {
		p := windowInbox(t, e, token, qs)
		for _, c := range p.Data {
			ids = append(ids, c.ID)
		}
		if p.NextCursor == nil {
			return ids
		}
		qs.Set("cursor", *p.NextCursor)
	}
	t.Fatal("more than 50 pages")
	return nil
}

// wrote ingests a customer's message received d ago and answers the conversation id.
func wrote(t *testing.T, e *apitest.Env, w *apitest.Workspace, channel, identifier string, ago time.Duration) string {
	t.Helper()
	body := map[string]any{"identifier": identifier, "text": "hello"}
	if ago > 0 {
		body["received_at"] = e.Clock.Now().Add(-ago).Format(time.RFC3339Nano)
	}
	return ingest(t, e, w.APIKey, channel, body).Conversation.ID
}

// Every row, and GET /v1/conversations/{id}, carries the rule table's answer for a person on
// the default channel: the channel the contact last wrote on, else the newest identity.
func TestReplyWindowOnRows(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	ms := newChannel(t, e, w.OwnerToken, "messenger")
	tg := newChannel(t, e, w.OwnerToken, "telegram")
	now := e.Clock.Now()

	// 23 h 59 m after the customer wrote on WhatsApp: allowed, for another minute.
	ana := wrote(t, e, w, wa, "+14155550101", 23*time.Hour+59*time.Minute)
	// Messenger 30 h ago: only HUMAN_AGENT, from a person, until 7 days.
	ben := wrote(t, e, w, ms, "PSID-ben", 30*time.Hour)
	// Telegram: no window.
	cy := wrote(t, e, w, tg, "42", 0)
	// Wrote on WhatsApp yesterday and on Telegram an hour ago: Telegram is the default.
	dee := wrote(t, e, w, wa, "+14155550102", 30*time.Hour)
	e.Post(t, "/v1/contacts/"+contactOf(t, e, w, dee)+"/channels", w.OwnerToken, map[string]any{"channel_id": tg, "identifier": "43"}).
		Expect(t, http.StatusCreated)
	wrote(t, e, w, tg, "43", time.Hour)
	// A contact made through the API with no identity: no reply window.
	bare := conversationOf(t, e, w.OwnerToken, e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Bare"}))
	// One with a WhatsApp identity who never wrote: a template.
	lone := e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Lone"})
	e.Post(t, "/v1/contacts/"+lone+"/channels", w.OwnerToken, map[string]any{"channel_id": wa, "identifier": "+14155550103"}).
		Expect(t, http.StatusCreated)
	loneConv := conversationOf(t, e, w.OwnerToken, lone)

	exp := func(ago time.Duration) *time.Time { v := now.Add(-ago + 24*time.Hour); return &v }
	want := map[string]*replyWindowBody{
		ana:      {ChannelID: wa, Decision: "allowed", ReasonCode: "within_window", WindowExpiresAt: exp(23*time.Hour + 59*time.Minute)},
		ben:      {ChannelID: ms, Decision: "tag_required", ReasonCode: "human_agent_tag_window", WindowExpiresAt: exp(30 * time.Hour)},
		cy:       {ChannelID: tg, Decision: "allowed", ReasonCode: "no_window"},
		dee:      {ChannelID: tg, Decision: "allowed", ReasonCode: "no_window"},
		bare:     nil,
		loneConv: {ChannelID: wa, Decision: "template_required", ReasonCode: "window_closed_template_required"},
	}
	check := func(where string, id string, got *replyWindowBody) {
		t.Helper()
		w := want[id]
		if (got == nil) != (w == nil) || (got != nil && (got.ChannelID != w.ChannelID || got.Decision != w.Decision ||
			got.ReasonCode != w.ReasonCode || !sameTime(got.WindowExpiresAt, w.WindowExpiresAt))) {
			t.Errorf("%s %s: reply_window %+v, want %+v", where, id, got, w)
		}
	}
	p := windowInbox(t, e, w.OwnerToken, q("status", "all", "limit", "100"))
	if len(p.Data) != len(want) {
		t.Fatalf("%d rows, want %d", len(p.Data), len(want))
	}
	for _, r := range p.Data {
		check("row", r.ID, r.ReplyWindow)
		var one windowRow
		e.Get(t, "/v1/conversations/"+r.ID, w.APIKey).Expect(t, http.StatusOK).JSON(t, &one)
		check("GET", r.ID, one.ReplyWindow)
	}

	// An ingestion's answer and its events carry the window as of then.
	var in struct {
		Conversation windowRow `json:"conversation"`
	}
	e.Post(t, "/v1/channels/"+wa+"/inbound", w.APIKey, map[string]any{"identifier": "+14155550101", "text": "still there?"}).
		Expect(t, http.StatusCreated).JSON(t, &in)
	if r := in.Conversation.ReplyWindow; r == nil || r.Decision != "allowed" || !sameTime(r.WindowExpiresAt, exp(0)) {
		t.Fatalf("the inbound answer's reply_window: %+v", r)
	}
	var evs struct {
		Data []struct {
			Data windowRow `json:"data"`
		} `json:"data"`
	}
	e.Get(t, "/v1/events?types=message.created,conversation.opened&conversation_id="+ben, w.APIKey).Expect(t, http.StatusOK).JSON(t, &evs)
	if len(evs.Data) == 0 {
		t.Fatal("no events of ben's conversation")
	}
	for _, ev := range evs.Data {
		if ev.Data.ID == ben && ev.Data.ReplyWindow == nil {
			t.Errorf("a conversation event without reply_window: %+v", ev.Data)
		}
	}

	// The window closes: a minute later Ana's row says template_required.
	e.Clock.Advance(24*time.Hour + time.Minute)
	var later windowRow
	e.Get(t, "/v1/conversations/"+ana, w.APIKey).Expect(t, http.StatusOK).JSON(t, &later)
	if r := later.ReplyWindow; r == nil || r.Decision != "template_required" {
		t.Fatalf("after the window: %+v", r)
	}

	// An archived channel is no default: once the refresh job ran, Ana's next identity is.
	e.Post(t, "/v1/contacts/"+contactOf(t, e, w, ana)+"/channels", w.APIKey, map[string]any{"channel_id": tg, "identifier": "44"}).
		Expect(t, http.StatusCreated)
	e.Delete(t, "/v1/channels/"+wa, w.APIKey).Expect(t, http.StatusNoContent)
	deadline := time.Now().Add(20 * time.Second)
	for {
		e.Get(t, "/v1/conversations/"+ana, w.APIKey).Expect(t, http.StatusOK).JSON(t, &later)
		if r := later.ReplyWindow; r != nil && r.ChannelID == tg && r.ReasonCode == "no_window" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20 s after the archive: %+v", later.ReplyWindow)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Deleting a channel without messages moves its contacts' default to their next identity
	// at once.
	sms := newChannel(t, e, w.APIKey, "sms")
	e.Post(t, "/v1/contacts/"+lone+"/channels", w.APIKey, map[string]any{"channel_id": sms, "identifier": "+14155550104"}).
		Expect(t, http.StatusCreated)
	e.Get(t, "/v1/conversations/"+loneConv, w.APIKey).Expect(t, http.StatusOK).JSON(t, &later)
	if r := later.ReplyWindow; r == nil || r.ChannelID != sms {
		t.Fatalf("lone's newest identity: %+v", r)
	}
	e.Delete(t, "/v1/channels/"+sms, w.APIKey).Expect(t, http.StatusNoContent)
	e.Get(t, "/v1/conversations/"+loneConv, w.APIKey).Expect(t, http.StatusOK).JSON(t, &later)
	if r := later.ReplyWindow; r != nil {
		t.Fatalf("lone's default after the delete: %+v (the WhatsApp channel is archived)", r)
	}
}

// contactOf is the contact of a conversation.
func contactOf(t *testing.T, e *apitest.Env, w *apitest.Workspace, conv string) string {
	t.Helper()
	var c conversationBody
	e.Get(t, "/v1/conversations/"+conv, w.APIKey).Expect(t, http.StatusOK).JSON(t, &c)
	return c.Contact.ID
}

// conversationOf is a contact's conversation.
func conversationOf(t *testing.T, e *apitest.Env, token, contact string) string {
	t.Helper()
	var c contactBody
	e.Get(t, "/v1/contacts/"+contact, token).Expect(t, http.StatusOK).JSON(t, &c)
	return c.Conversation.ID
}

// sort=window_closing: open conversations with an open window, soonest-closing first, then the
// rest newest first; window=open|closing|closed filter; every combination pages with its
// cursor, in every status, and sees only the caller's workspace.
func TestWindowSortAndFilters(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	other := e.NewWorkspace(t, "Other")
	ana := e.NewUser(t, w, "agent")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	wc := newChannel(t, e, w.OwnerToken, "wechat")
	tg := newChannel(t, e, w.OwnerToken, "telegram")
	owa := newChannel(t, e, other.OwnerToken, "whatsapp")
	h := time.Hour
	// A minute apart; each one's last message is when its customer wrote (received_at).
	mk := func(ch, id string, ago time.Duration) string {
		e.Clock.Advance(time.Minute)
		return wrote(t, e, w, ch, id, ago)
	}
	closedWA := mk(wa, "+14155550110", 30*h)             // window closed 6 h ago
	in5h := mk(wa, "+14155550111", 19*h)                 // closes in 5 h
	telegram := mk(tg, "1", 0)                           // no window
	in10m := mk(wa, "+14155550112", 23*h+50*time.Minute) // closing
	wechat := mk(wc, "wx1", 8*h)                         // closes in 40 h
	in30m := mk(wa, "+14155550113", 23*h+30*time.Minute) // closing
	shut := mk(wa, "+14155550114", 23*h+45*time.Minute)  // closing, but closed by an agent
	nap := mk(wa, "+14155550115", 2*h)                   // open window, snoozed
	e.Post(t, "/v1/conversations/"+shut+"/close", w.APIKey, nil).Expect(t, http.StatusOK)
	e.Post(t, "/v1/conversations/"+nap+"/snooze", w.APIKey, map[string]any{"until": nil}).Expect(t, http.StatusOK)
	for _, c := range []string{in30m, closedWA, telegram} {
		e.Put(t, "/v1/conversations/"+c+"/assignee", w.APIKey, map[string]any{"user_id": ana.ID}).Expect(t, http.StatusOK)
	}
	foreign := wrote(t, e, other, owa, "+14155550110", time.Hour)

	// Closes, from now: in10m 6 m, shut 14 m, in30m 28 m, in5h 4 h 54 m, nap 22 h, wechat 40 h.
	// Last messages, newest first: telegram, nap, wechat, in5h, in30m, shut, in10m, closedWA.
	cases := []struct {
		query string
		want  []string
	}{
		{"sort=window_closing", []string{in10m, in30m, in5h, wechat, telegram, closedWA}},
		{"sort=window_closing&status=all", []string{in10m, in30m, in5h, wechat, telegram, nap, shut, closedWA}},
		{"sort=window_closing&status=closed", []string{shut}},
		{"sort=window_closing&status=snoozed", []string{nap}},
		{"sort=window_closing&inbox=mine", []string{in30m, telegram, closedWA}},
		{"sort=window_closing&inbox=unassigned", []string{in10m, in5h, wechat}},
		{"sort=window_closing&window=closing", []string{in10m, in30m}},
		{"sort=window_closing&window=open", []string{in10m, in30m, in5h, wechat}},
		{"sort=window_closing&window=closed", []string{telegram, closedWA}},
		{"sort=window_closing&window=open&status=all", []string{in10m, in30m, in5h, wechat, nap, shut}},
		{"sort=window_closing&window=closing&status=all", []string{in10m, in30m, shut}},
		{"sort=window_closing&channel_id=" + wa, []string{in10m, in30m, in5h, closedWA}},
		{"window=closing", []string{in10m, in30m}}, // the closing tab defaults to soonest-closing first
		{"window=closing&sort=newest", []string{in30m, in10m}},
		{"window=open", []string{wechat, in5h, in30m, in10m}},
		{"window=open&sort=oldest", []string{in10m, in30m, in5h, wechat}},
		{"window=closed", []string{telegram, closedWA}},
		{"window=closed&sort=oldest", []string{closedWA, telegram}},
		{"window=closed&status=all", []string{telegram, closedWA}},
		{"window=open&status=all", []string{nap, wechat, in5h, in30m, shut, in10m}},
		{"window=closing&status=closed", []string{shut}},
		{"window=open&q=nobody", []string{}},
		{"window=closed&inbox=mine", []string{telegram, closedWA}},
		{"sort=window_closing&q=555011", []string{in10m, in30m, in5h, closedWA}},
		{"sort=window_closing&q=555011&status=all", []string{in10m, in30m, in5h, nap, shut, closedWA}},
		{"sort=window_closing&q=5550113", []string{in30m}},
		{"window=closing&q=555011", []string{in30m, in10m}},
		{"inbox=mentions&window=open&status=all", []string{shut, in5h, nap}},
		{"inbox=mentions&window=closed", []string{telegram}},
	}
	// Ana is mentioned in four conversations, latest first: shut, telegram, in5h, then nap.
	for _, c := range []string{nap, in5h, telegram, shut} {
		e.Clock.Advance(time.Second)
		e.Post(t, "/v1/conversations/"+c+"/notes", w.OwnerToken, map[string]any{"text": "look", "mentions": []string{ana.ID}}).
			Expect(t, http.StatusCreated)
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			if got := windowIDs(t, e, ana.Token, mustQuery(tc.query)); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for _, limit := range []string{"1", "3"} { // every cursor, across the two parts
				qs := mustQuery(tc.query)
				qs.Set("limit", limit)
				if got := windowIDs(t, e, ana.Token, qs); !slices.Equal(got, tc.want) {
					t.Fatalf("%s a page: got %v, want %v", limit, got, tc.want)
				}
			}
		})
	}
	if got := windowIDs(t, e, other.OwnerToken, q("sort", "window_closing", "status", "all")); !slices.Equal(got, []string{foreign}) {
		t.Fatalf("the other workspace sees %v", got)
	}
	// A search's other steps: the matching contacts' conversations (no first walk), and the
	// walk without bound (more matches than the lookup takes).
	for _, step := range []struct {
		name        string
		walk, first int
	}{{"from the matching contacts", 0, 1000}, {"the whole walk", 0, 1}} {
		t.Run(step.name, func(t *testing.T) {
			e.Store.SearchWalkBound, e.Store.SearchFirstLimit = step.walk, step.first
			defer func() { e.Store.SearchWalkBound, e.Store.SearchFirstLimit = 5000, 1000 }()
			for _, limit := range []string{"1", "25"} {
				got := windowIDs(t, e, ana.Token, q("sort", "window_closing", "q", "555011", "status", "all", "limit", limit))
				if want := []string{in10m, in30m, in5h, nap, shut, closedWA}; !slices.Equal(got, want) {
					t.Fatalf("%s a page: got %v, want %v", limit, got, want)
				}
			}
		})
	}

	// The workspace's window_closing_minutes is what closing means.
	e.Patch(t, "/v1/workspace", w.APIKey, map[string]any{"settings": map[string]any{"window_closing_minutes": 20}}).Expect(t, http.StatusOK)
	if got := windowIDs(t, e, ana.Token, q("window", "closing")); !slices.Equal(got, []string{in10m}) {
		t.Fatalf("closing within 20 minutes: %v", got)
	}

	// Time passes without the alert job: a window that closed moves to the second part at
	// once, and out of window=open, into window=closed.
	e.Clock.Advance(10 * time.Minute)
	after := []string{in30m, in5h, wechat, telegram, in10m, closedWA}
	if got := windowIDs(t, e, w.APIKey, q("sort", "window_closing")); !slices.Equal(got, after) {
		t.Fatalf("10 minutes on: %v", got)
	}
	if got := windowIDs(t, e, w.APIKey, q("window", "closed", "limit", "1")); !slices.Equal(got, []string{telegram, in10m, closedWA}) {
		t.Fatalf("10 minutes on, window=closed: %v", got)
	}
	if got := windowIDs(t, e, w.APIKey, q("window", "open")); slices.Contains(got, in10m) {
		t.Fatalf("10 minutes on, window=open: %v", got)
	}
	// The job clears it; the lists stay the same.
	runJob(t, e, job.AlertWindows{})
	if n := count(t, e, `SELECT count(*) FROM conversations WHERE id = $1 AND window_open_until IS NULL`, in10m); n != 1 {
		t.Fatal("the alert job did not clear a closed window")
	}
	if got := windowIDs(t, e, w.APIKey, q("sort", "window_closing", "limit", "2")); !slices.Equal(got, after) {
		t.Fatalf("after the job: %v", got)
	}

	// A cursor belongs to its sort; a part other than 1 or 2 is no cursor.
	p := windowInbox(t, e, w.APIKey, q("sort", "window_closing", "limit", "1"))
	e.Get(t, "/v1/conversations?cursor="+*p.NextCursor, w.APIKey).ExpectProblem(t, http.StatusBadRequest, "invalid_cursor")
	newest := windowInbox(t, e, w.APIKey, q("limit", "1"))
	e.Get(t, "/v1/conversations?sort=window_closing&cursor="+*newest.NextCursor, w.APIKey).ExpectProblem(t, http.StatusBadRequest, "invalid_cursor")
	forged := pageCursor(t, `{"s":"window_closing","g":3,"t":"2026-01-01T00:00:00Z","id":"`+uuid.NewString()+`"}`)
	e.Get(t, "/v1/conversations?sort=window_closing&cursor="+forged, w.APIKey).ExpectProblem(t, http.StatusBadRequest, "invalid_cursor")

	fresh, _ := e.Login(t, ana.Email, apitest.Password) // (Ana's first session expired as the clock moved)
	for _, bad := range []struct{ query, field string }{
		{"window=soon", "window"},
		{"sort=closing", "sort"},
		{"inbox=mentions&sort=window_closing", "sort"},
	} {
		r := e.Get(t, "/v1/conversations?"+bad.query, fresh).ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
		if !strings.Contains(r.Map(t)["detail"].(string), bad.field) {
			t.Errorf("%s: %s", bad.query, r.Map(t)["detail"])
		}
	}
}

// The workspace's window_closing_minutes: 60 by default, 1 to 1440, for those who manage it.
func TestWindowClosingMinutesSetting(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agent := e.NewUser(t, w, "agent")
	var ws struct {
		Settings struct {
			WindowClosingMinutes int `json:"window_closing_minutes"`
		} `json:"settings"`
	}
	e.Get(t, "/v1/workspace", agent.Token).Expect(t, http.StatusOK).JSON(t, &ws)
	if ws.Settings.WindowClosingMinutes != 60 {
		t.Fatalf("default %d, want 60", ws.Settings.WindowClosingMinutes)
	}
	cases := []struct {
		name   string
		token  string
		value  any
		status int
		code   string
	}{
		{"the least", w.OwnerToken, 1, 200, ""},
		{"a day", w.APIKey, 1440, 200, ""},
		{"zero", w.OwnerToken, 0, 422, "validation_failed"},
		{"negative", w.OwnerToken, -5, 422, "validation_failed"},
		{"over a day", w.OwnerToken, 1441, 422, "validation_failed"},
		{"a fraction", w.OwnerToken, 1.5, 400, "invalid_type"},
		{"a string", w.OwnerToken, "60", 400, "invalid_type"},
		{"null", w.OwnerToken, nil, 422, "validation_failed"},
		{"an agent", agent.Token, 30, 403, "forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Patch(t, "/v1/workspace", tc.token, map[string]any{"settings": map[string]any{"window_closing_minutes": tc.value}})
			if tc.status != 200 {
				r.ExpectProblem(t, tc.status, tc.code)
				return
			}
			r.Expect(t, http.StatusOK).JSON(t, &ws)
			if ws.Settings.WindowClosingMinutes != tc.value {
				t.Fatalf("answered %d, want %v", ws.Settings.WindowClosingMinutes, tc.value)
			}
		})
	}
	e.Get(t, "/v1/workspace", w.APIKey).Expect(t, http.StatusOK).JSON(t, &ws)
	if ws.Settings.WindowClosingMinutes != 1440 {
		t.Fatalf("kept %d, want 1440", ws.Settings.WindowClosingMinutes)
	}
}

// send-eligibility?at= answers for a future instant assuming nothing else happens; an instant
// that is not RFC 3339 is 400, one in the past 422.
func TestSendEligibilityAt(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	other := e.NewWorkspace(t, "Other")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	var vb channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "viber", "name": "Viber", "rule_options": map[string]any{"monthly_initiated_limit": 1}}).
		Expect(t, http.StatusCreated).JSON(t, &vb)
	conv := wrote(t, e, w, wa, "+14155550120", 23*time.Hour)
	person := contactOf(t, e, w, conv)
	now := e.Clock.Now()
	type answer struct {
		At       time.Time `json:"at"`
		Channels []struct {
			ChannelID       string     `json:"channel_id"`
			Decision        string     `json:"decision"`
			ReasonCode      string     `json:"reason_code"`
			WindowExpiresAt *time.Time `json:"window_expires_at"`
			Reason          string     `json:"reason"`
			Quota           *struct {
				Used int `json:"used"`
			} `json:"quota"`
		} `json:"channels"`
	}
	ask := func(at string) *apitest.Response {
		path := "/v1/contacts/" + person + "/send-eligibility"
		if at != "" {
			path += "?at=" + at
		}
		return e.Get(t, path, w.OwnerToken)
	}
	cases := []struct {
		name     string
		at       string
		decision string
		reason   string
	}{
		{"now", "", "allowed", "within_window"},
		{"in half an hour", url.QueryEscape(now.Add(30 * time.Minute).Format(time.RFC3339)), "allowed", "within_window"},
		{"at the close", url.QueryEscape(now.Add(time.Hour).Format(time.RFC3339Nano)), "template_required", "window_closed_template_required"},
		{"in two hours, another zone", url.QueryEscape(now.Add(2 * time.Hour).In(time.FixedZone("X", 2*3600)).Format(time.RFC3339)), "template_required", "window_closed_template_required"},
		{"exactly now", url.QueryEscape(now.Format(time.RFC3339Nano)), "allowed", "within_window"},
		{"a day ago: as of now", url.QueryEscape(now.Add(-24 * time.Hour).Format(time.RFC3339)), "allowed", "within_window"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var a answer
			ask(tc.at).Expect(t, http.StatusOK).JSON(t, &a)
			if len(a.Channels) != 1 || a.Channels[0].Decision != tc.decision || a.Channels[0].ReasonCode != tc.reason {
				t.Fatalf("answer %+v, want %s (%s)", a, tc.decision, tc.reason)
			}
			if want := now.Add(time.Hour); (strings.HasPrefix(tc.name, "at the close") && !a.At.Equal(want)) ||
				((tc.at == "" || strings.HasPrefix(tc.name, "a day ago") || tc.name == "exactly now") && !a.At.Equal(now)) {
				t.Fatalf("answered for %s", a.At)
			}
		})
	}
	for _, bad := range []struct{ name, at, code string }{
		{"not an instant", "tomorrow", "invalid_parameter"},
		{"a date", "2026-12-24", "invalid_parameter"},
		{"no zone", "2026-12-24T10:00:00", "invalid_parameter"},
		{"an offset's + unencoded", strings.ReplaceAll(now.Add(2*time.Hour).In(time.FixedZone("X", 2*3600)).Format(time.RFC3339), "+", "%20"), "invalid_parameter"},
	} {
		t.Run(bad.name, func(t *testing.T) { ask(bad.at).ExpectProblem(t, http.StatusBadRequest, bad.code) })
	}
	e.Get(t, "/v1/contacts/"+person+"/send-eligibility?at="+url.QueryEscape(now.Add(time.Hour).Format(time.RFC3339)), other.OwnerToken).
		ExpectProblem(t, http.StatusNotFound, "contact_not_found")

	// Viber outside its session: the month's quota is spent now, and starts again next month.
	e.Post(t, "/v1/contacts/"+person+"/channels", w.OwnerToken, map[string]any{"channel_id": vb.ID, "identifier": "vb-1"}).Expect(t, http.StatusCreated)
	e.Post(t, "/v1/contacts/"+person+"/messages", w.OwnerToken, map[string]any{"channel_id": vb.ID, "type": "text", "text": "hi"}).Expect(t, http.StatusCreated)
	viber := func(at time.Time) string {
		var a answer
		ask(url.QueryEscape(at.Format(time.RFC3339))).Expect(t, http.StatusOK).JSON(t, &a)
		for _, c := range a.Channels {
			if c.ChannelID == vb.ID {
				return c.ReasonCode
			}
		}
		t.Fatal("no viber answer")
		return ""
	}
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if r := viber(now.Add(time.Minute)); r != "quota_exceeded" {
		t.Fatalf("this month: %s", r)
	}
	if r := viber(month.AddDate(0, 1, 0)); r != "quota_available" {
		t.Fatalf("next month: %s", r)
	}
}

// pageCursor encodes a cursor position as the store does.
func pageCursor(t *testing.T, json string) string {
	t.Helper()
	return base64.RawURLEncoding.EncodeToString([]byte(json))
}
