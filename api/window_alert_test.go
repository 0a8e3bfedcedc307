package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/job"
)

// alertsOf are the window events of one conversation, oldest first, as "type window".
func alertsOf(evs []windowEvent, conv string) []windowEvent {
	var out []windowEvent
	for _, ev := range evs {
		if ev.Data.ConversationID == conv {
			out = append(out, ev)
		}
	}
	return out
}

func names(evs []windowEvent) []string {
	out := []string{}
	for _, ev := range evs {
		out = append(out, ev.Type+" "+ev.Data.Window)
	}
	return out
}

func setLead(t *testing.T, e *apitest.Env, w *apitest.Workspace, minutes int) {
	t.Helper()
	e.Patch(t, "/v1/workspace", w.APIKey, map[string]any{"settings": map[string]any{"window_closing_minutes": minutes}}).Expect(t, http.StatusOK)
}

// The alerts of one window: expiring at its instant (the lead before the close) and closed at
// the close, each once however often the job runs, carrying the rule table's answer of that
// moment; none for a window a newer message extended, none for a message whose window had
// closed when it was ingested; the HUMAN_AGENT tag period's after the window's.
func TestWindowAlerts(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	setLead(t, e, w, 1)
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	ms := newChannel(t, e, w.OwnerToken, "messenger")
	start := e.Clock.Now()
	run := func() { t.Helper(); runJob(t, e, job.AlertWindows{}) }
	at := func(d time.Duration) time.Time { return start.Add(d) }

	// Ana wrote 23 h 59 m ago: her window closes in a minute, so it is closing now.
	ana := wrote(t, e, w, wa, "+14155550130", 23*time.Hour+59*time.Minute)
	// Ben wrote 23 h 58 m ago, and writes again in 30 s: nothing for the window he extended.
	ben := wrote(t, e, w, wa, "+14155550131", 23*time.Hour+58*time.Minute)
	// Cy's message arrives 25 h late: its window closed before it was ingested.
	cy := wrote(t, e, w, wa, "+14155550132", 25*time.Hour)
	// Dee wrote on Messenger 167 h 59 m ago: the HUMAN_AGENT tag's 7 days end in a minute.
	dee := wrote(t, e, w, ms, "PSID-dee", 167*time.Hour+59*time.Minute)

	run()
	run() // a second run sends nothing twice
	evs := windowEvents(t, e, w.APIKey)
	if got := names(alertsOf(evs, ana)); len(got) != 1 || got[0] != "window.expiring messaging" {
		t.Fatalf("ana at the instant: %v", got)
	}
	a := alertsOf(evs, ana)[0]
	if !a.OccurredAt.Equal(start) || !a.Data.ExpiresAt.Equal(at(time.Minute)) || a.Data.ReplyWindow.Decision != "allowed" ||
		a.Data.ChannelID != wa || a.Data.ChannelType != "whatsapp" || a.Data.Status != "open" || a.ConversationID == nil || *a.ConversationID != ana {
		t.Fatalf("ana's window.expiring: %+v", a)
	}
	if got := names(alertsOf(evs, dee)); len(got) != 1 || got[0] != "window.expiring human_agent_tag" {
		t.Fatalf("dee at the instant: %v", got)
	}
	if d := alertsOf(evs, dee)[0].Data; d.ReplyWindow.Decision != "tag_required" || !d.ExpiresAt.Equal(at(time.Minute)) {
		t.Fatalf("dee's window.expiring: %+v", d)
	}
	if got := names(alertsOf(evs, ben)); len(got) != 0 {
		t.Fatalf("ben before the instant: %v", got)
	}

	e.Clock.Advance(30 * time.Second)
	wrote(t, e, w, wa, "+14155550131", 0) // Ben writes again
	e.Clock.Advance(29 * time.Second)
	run()
	if n := len(windowEvents(t, e, w.APIKey)); n != 2 {
		t.Fatalf("%d window events a second before the closes, want 2", n)
	}
	e.Clock.Advance(time.Second)
	run()
	run()
	evs = windowEvents(t, e, w.APIKey)
	if got := names(alertsOf(evs, ana)); len(got) != 2 || got[1] != "window.closed messaging" {
		t.Fatalf("ana at the close: %v", got)
	}
	c := alertsOf(evs, ana)[1]
	if !c.OccurredAt.Equal(at(time.Minute)) || c.Data.ReplyWindow.Decision != "template_required" || !c.Data.ExpiresAt.Equal(at(time.Minute)) {
		t.Fatalf("ana's window.closed: %+v", c)
	}
	if got := names(alertsOf(evs, dee)); len(got) != 2 || got[1] != "window.closed human_agent_tag" || alertsOf(evs, dee)[1].Data.ReplyWindow.Decision != "blocked" {
		t.Fatalf("dee at the tag's close: %v", got)
	}
	// Ben's old window would have closed at +2 m: nothing.
	e.Clock.Advance(2 * time.Minute)
	run()
	evs = windowEvents(t, e, w.APIKey)
	if got := names(alertsOf(evs, ben)); len(got) != 0 {
		t.Fatalf("ben's extended window: %v", got)
	}
	if got := names(alertsOf(evs, cy)); len(got) != 0 {
		t.Fatalf("cy's late message: %v", got)
	}
	// Ben's new window: expiring a minute before it closes, a day after he wrote.
	e.Clock.Advance(23*time.Hour + 56*time.Minute + 30*time.Second)
	run()
	evs = windowEvents(t, e, w.APIKey)
	if got := alertsOf(evs, ben); len(got) != 1 || got[0].Type != "window.expiring" || !got[0].Data.ExpiresAt.Equal(at(30*time.Second+24*time.Hour)) {
		t.Fatalf("ben's new window: %+v", got)
	}
	if n := count(t, e, `SELECT count(*) FROM events WHERE type LIKE 'window.%' AND workspace_id = $1`, w.ID); n != len(evs) {
		t.Fatalf("%d window events in the outbox, %d listed", n, len(evs))
	}
}

// A new window_closing_minutes moves the pending expiring alerts; the closed ones stay at the
// close.
func TestWindowAlertLeadChange(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	wa := newChannel(t, e, w.OwnerToken, "whatsapp")
	start := e.Clock.Now()
	conv := wrote(t, e, w, wa, "+14155550140", 0)
	alertAt := func() time.Time {
		t.Helper()
		var at time.Time
		if err := e.Store.Pool.QueryRow(t.Context(), `SELECT window_alert_at FROM conversations WHERE id = $1`, conv).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	if got := alertAt(); !got.Equal(start.Add(23 * time.Hour)) {
		t.Fatalf("expiring at %s, want an hour before the close", got)
	}
	setLead(t, e, w, 90)
	if got := alertAt(); !got.Equal(start.Add(22*time.Hour + 30*time.Minute)) {
		t.Fatalf("after the change to 90 minutes: %s", got)
	}
	e.Clock.Advance(22*time.Hour + 30*time.Minute)
	runJob(t, e, job.AlertWindows{})
	setLead(t, e, w, 5) // the expiring alert went out: the closed one stays at the close
	if got := alertAt(); !got.Equal(start.Add(24 * time.Hour)) {
		t.Fatalf("closed at %s, want the close", got)
	}
	if got := names(alertsOf(windowEvents(t, e, w.APIKey), conv)); len(got) != 1 {
		t.Fatalf("alerts %v", got)
	}
}

// A channel's change of rule options, and its archiving, refresh the windows of its contacts
// (job RefreshWindows): a custom channel's longer window moves the close and its alerts.
func TestWindowRefreshOnChannelChange(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	var custom channelBody
	e.Post(t, "/v1/channels", w.OwnerToken, map[string]any{"type": "custom", "name": "Bridge",
		"rule_options": map[string]any{"window_hours": 24, "after_window": "template_required"}}).Expect(t, http.StatusCreated).JSON(t, &custom)
	wc := newChannel(t, e, w.OwnerToken, "wechat")
	start := e.Clock.Now()
	conv := wrote(t, e, w, custom.ID, "user-1", 10*time.Hour)
	state := func() (openUntil *time.Time, alert *string) {
		t.Helper()
		if err := e.Store.Pool.QueryRow(t.Context(), `SELECT window_open_until, window_alert FROM conversations WHERE id = $1`, conv).
			Scan(&openUntil, &alert); err != nil {
			t.Fatal(err)
		}
		return openUntil, alert
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 20 s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if u, _ := state(); u == nil || !u.Equal(start.Add(14*time.Hour)) {
		t.Fatalf("open until %v, want +14 h", u)
	}
	e.Patch(t, "/v1/channels/"+custom.ID, w.OwnerToken, map[string]any{"type": "custom", "rule_options": map[string]any{"window_hours": 48}}).
		Expect(t, http.StatusOK)
	waitFor("the longer window", func() bool { u, _ := state(); return u != nil && u.Equal(start.Add(38*time.Hour)) })
	if p := windowIDs(t, e, w.APIKey, q("window", "open")); len(p) != 1 {
		t.Fatalf("window=open after the change: %v", p)
	}

	// The contact also wrote on WeChat (48 h), before: archiving the custom channel makes WeChat
	// the default, with its own window.
	e.Post(t, "/v1/contacts/"+contactOf(t, e, w, conv)+"/channels", w.OwnerToken, map[string]any{"channel_id": wc, "identifier": "wx-1"}).
		Expect(t, http.StatusCreated)
	wrote(t, e, w, wc, "wx-1", 20*time.Hour)
	e.Delete(t, "/v1/channels/"+custom.ID, w.OwnerToken).Expect(t, http.StatusNoContent)
	waitFor("WeChat's window", func() bool { u, _ := state(); return u != nil && u.Equal(start.Add(28*time.Hour)) })
	var row windowRow
	e.Get(t, "/v1/conversations/"+conv, w.APIKey).Expect(t, http.StatusOK).JSON(t, &row)
	if r := row.ReplyWindow; r == nil || r.ChannelID != wc || r.Decision != "allowed" {
		t.Fatalf("after the archive: %+v", r)
	}
}

// Two processes run the alert job at once over many due windows in two workspaces: each alert
// goes out exactly once, and reaches webhooks like any event.
func TestWindowAlertsAcrossProcesses(t *testing.T) {
	e := apitest.New(t, liveOpts)
	twin := e.Twin(t)
	w := e.NewWorkspace(t, "Acme")
	other := e.NewWorkspace(t, "Other")
	sub := newSubscriber(t, nil)
	createWebhook(t, e, w.OwnerToken, sub.URL, "window.expiring")
	chans := map[string]string{w.ID: newChannel(t, e, w.OwnerToken, "whatsapp"), other.ID: newChannel(t, e, other.OwnerToken, "whatsapp")}
	for i := range 30 {
		ws := w
		if i%3 == 0 {
			ws = other
		}
		wrote(t, e, ws, chans[ws.ID], fmt.Sprintf("+1415555%04d", i), 23*time.Hour+30*time.Minute)
	}
	var wg sync.WaitGroup
	for _, p := range []*apitest.Env{e, twin, e, twin, e, twin} {
		wg.Go(func() { runJob(t, p, job.AlertWindows{}) })
	}
	wg.Wait()
	perConv := count(t, e, `SELECT count(*) FROM (SELECT conversation_id FROM events WHERE type = 'window.expiring'
GROUP BY conversation_id HAVING count(*) <> 1) x`)
	if n := count(t, e, `SELECT count(*) FROM events WHERE type = 'window.expiring'`); n != 30 || perConv != 0 {
		t.Fatalf("%d window.expiring events (%d conversations other than once), want 30, once each", n, perConv)
	}
	// Acme's 20 reach its subscriber, as any event does.
	seen := map[string]bool{}
	for len(seen) < 20 {
		select {
		case d := <-sub.got:
			var ev windowEvent
			if err := json.Unmarshal(d.Body, &ev); err != nil || ev.Type != "window.expiring" || ev.Data.Window != "messaging" {
				t.Fatalf("delivery %s: %v", d.Body, err)
			}
			seen[ev.Data.ConversationID] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("%d window.expiring deliveries within 10 s, want 20", len(seen))
		}
	}
	if got := windowEvents(t, twin, other.APIKey); len(got) != 10 {
		t.Fatalf("the other workspace lists %d window events, want 10", len(got))
	}
}
