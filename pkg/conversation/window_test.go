package conversation

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/rules"
)

var t0 = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)

func windowOn(typ rules.ChannelType, opts rules.Options, inbound *time.Time) *Window {
	return &Window{IdentityID: uuid.New(), ChannelID: uuid.New(), Type: typ, Options: opts, LastInboundAt: inbound}
}

func at(d time.Duration) *time.Time { v := t0.Add(d); return &v }

// The alerts of every timed row of the rule table: expiring lead before the close, closed at
// it; the HUMAN_AGENT tag's 7 days after the window where it applies; nothing without a window
// or before the customer wrote.
func TestSchedule(t *testing.T) {
	lead := time.Hour
	custom := rules.DefaultOptions(rules.Custom)
	custom.WindowHours = 72
	instagramTag := rules.DefaultOptions(rules.Instagram)
	instagramTag.HumanAgentTag = true
	messengerNoTag := rules.DefaultOptions(rules.Messenger)
	messengerNoTag.HumanAgentTag = false
	h := func(n int) time.Duration { return time.Duration(n) * time.Hour }
	cases := []struct {
		name string
		typ  rules.ChannelType
		opts rules.Options
		want []time.Duration // the alerts' instants after the inbound message, in order
	}{
		{"whatsapp 24 h", rules.WhatsApp, rules.DefaultOptions(rules.WhatsApp), []time.Duration{h(23), h(24)}},
		{"messenger 24 h and the 7-day tag", rules.Messenger, rules.DefaultOptions(rules.Messenger), []time.Duration{h(23), h(24), h(167), h(168)}},
		{"messenger without the tag", rules.Messenger, messengerNoTag, []time.Duration{h(23), h(24)}},
		{"instagram 24 h", rules.Instagram, rules.DefaultOptions(rules.Instagram), []time.Duration{h(23), h(24)}},
		{"instagram with the tag", rules.Instagram, instagramTag, []time.Duration{h(23), h(24), h(167), h(168)}},
		{"viber 24 h session", rules.Viber, rules.DefaultOptions(rules.Viber), []time.Duration{h(23), h(24)}},
		{"wechat 48 h", rules.WeChat, rules.DefaultOptions(rules.WeChat), []time.Duration{h(47), h(48)}},
		{"custom window_hours", rules.Custom, custom, []time.Duration{h(71), h(72)}},
		{"custom without a window", rules.Custom, rules.DefaultOptions(rules.Custom), nil},
		{"line", rules.LINE, rules.DefaultOptions(rules.LINE), nil},
		{"telegram", rules.Telegram, rules.DefaultOptions(rules.Telegram), nil},
		{"sms", rules.SMS, rules.DefaultOptions(rules.SMS), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []time.Duration
			for _, a := range windowOn(tc.typ, tc.opts, at(0)).schedule(lead) {
				got = append(got, a.at.Sub(t0))
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("alerts at %v, want %v", got, tc.want)
			}
			if s := windowOn(tc.typ, tc.opts, nil).schedule(lead); len(s) != 0 {
				t.Fatalf("before the customer wrote: %d alerts", len(s))
			}
		})
	}
}

// An inbound message moves the window: a later one (re)starts it with fresh alerts, a late
// delivery of an older one changes nothing, and a window that had closed when its message was
// ingested starts no alerts.
func TestMoveWindow(t *testing.T) {
	lead := time.Hour
	wa := WindowChannel{ID: uuid.New(), Type: rules.WhatsApp, Options: rules.DefaultOptions(rules.WhatsApp)}
	ms := WindowChannel{ID: uuid.New(), Type: rules.Messenger, Options: rules.DefaultOptions(rules.Messenger)}
	id := uuid.New()
	cases := []struct {
		name      string
		before    *Window
		ch        WindowChannel
		at, now   time.Time
		channel   uuid.UUID
		openUntil *time.Time
		alert     *NextAlert
	}{
		{"the first message", nil, wa, t0, t0, wa.ID, at(24 * time.Hour), &NextAlert{AlertExpiring, *at(23 * time.Hour)}},
		{"23 h 59 m ago: expiring is due at once", nil, wa, t0.Add(-23*time.Hour - 59*time.Minute), t0, wa.ID,
			at(time.Minute), &NextAlert{AlertExpiring, *at(-59 * time.Minute)}},
		{"received after its window closed: no alerts", nil, wa, t0.Add(-25 * time.Hour), t0, wa.ID, nil, nil},
		{"closed but the tag period open: its alerts", nil, ms, t0.Add(-25 * time.Hour), t0, ms.ID,
			nil, &NextAlert{AlertTagExpiring, *at(-25*time.Hour + 167*time.Hour)}},
		{"a newer message extends it", windowOn(rules.WhatsApp, wa.Options, at(-time.Hour)), wa, t0, t0, wa.ID,
			at(24 * time.Hour), &NextAlert{AlertExpiring, *at(23 * time.Hour)}},
		{"a late delivery changes nothing", &Window{IdentityID: id, ChannelID: ms.ID, Type: rules.Messenger, Options: ms.Options, LastInboundAt: at(0)},
			wa, t0.Add(-time.Minute), t0, ms.ID, at(5 * time.Hour), &NextAlert{AlertExpiring, *at(4 * time.Hour)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Conversation{Window: tc.before, WindowOpenUntil: at(5 * time.Hour), Alert: &NextAlert{AlertExpiring, *at(4 * time.Hour)}}
			if tc.before == nil {
				c.WindowOpenUntil, c.Alert = nil, nil
			}
			c.moveWindow(uuid.New(), tc.ch, tc.at, lead, tc.now)
			if c.Window == nil || c.Window.ChannelID != tc.channel {
				t.Fatalf("default channel %+v, want %s", c.Window, tc.channel)
			}
			if !sameInstant(c.WindowOpenUntil, tc.openUntil) || !sameAlert(c.Alert, tc.alert) {
				t.Fatalf("open until %v, next alert %+v; want %v, %+v", c.WindowOpenUntil, c.Alert, tc.openUntil, tc.alert)
			}
		})
	}
}

// DueAlerts goes through a window's schedule: nothing before an instant, each alert at it,
// once; a late run skips an expiring alert whose window has closed; the tag period follows.
func TestDueAlerts(t *testing.T) {
	lead := 10 * time.Minute
	c := Conversation{ID: uuid.New(), Status: StatusOpen, Contact: ContactSummary{ID: uuid.New()}}
	c.moveWindow(uuid.New(), WindowChannel{ID: uuid.New(), Type: rules.Messenger, Options: rules.DefaultOptions(rules.Messenger)}, t0, lead, t0)
	type step struct {
		at     time.Duration // after the inbound message
		want   []string      // event type and window of each alert due
		next   AlertKind
		isOpen bool
	}
	steps := []step{
		{23 * time.Hour, nil, AlertExpiring, true},
		{24*time.Hour - lead - time.Microsecond, nil, AlertExpiring, true},
		{24*time.Hour - lead, []string{event.WindowExpiring + " " + WindowMessaging}, AlertClosed, true},
		{24*time.Hour - lead, nil, AlertClosed, true}, // a second run: nothing twice
		{24 * time.Hour, []string{event.WindowClosed + " " + WindowMessaging}, AlertTagExpiring, false},
		// A run late past the tag period's close: its closed alert only.
		{169 * time.Hour, []string{event.WindowClosed + " " + WindowHumanAgentTag}, "", false},
	}
	for _, s := range steps {
		got := c.DueAlerts(lead, t0.Add(s.at))
		var names []string
		for _, a := range got {
			names = append(names, a.Type+" "+a.Window)
			if a.ConversationID != c.ID || a.ContactID != c.Contact.ID || a.Reply.ChannelID != c.Window.ChannelID {
				t.Fatalf("alert %+v of another conversation", a)
			}
		}
		next := AlertKind("")
		if c.Alert != nil {
			next = c.Alert.Kind
		}
		if !slices.Equal(names, s.want) || next != s.next || (c.WindowOpenUntil != nil) != s.isOpen {
			t.Fatalf("at +%s: alerts %v, next %q, open until %v; want %v, %q, open %v", s.at, names, next, c.WindowOpenUntil, s.want, s.next, s.isOpen)
		}
	}

	// The reply window each alert carries is the answer at its instant.
	c.moveWindow(c.Window.IdentityID, WindowChannel{ID: c.Window.ChannelID, Type: rules.WhatsApp, Options: rules.DefaultOptions(rules.WhatsApp)},
		t0.Add(200*time.Hour), lead, t0.Add(200*time.Hour))
	exp := c.DueAlerts(lead, t0.Add(224*time.Hour-lead))
	closed := c.DueAlerts(lead, t0.Add(224*time.Hour))
	if len(exp) != 1 || exp[0].Reply.Decision != rules.Allowed || len(closed) != 1 || closed[0].Reply.Decision != rules.TemplateRequired ||
		!closed[0].ExpiresAt.Equal(t0.Add(224*time.Hour)) || c.Alert != nil {
		t.Fatalf("expiring %+v, closed %+v, next %+v", exp, closed, c.Alert)
	}

	// A late run past the close sends closed alone.
	c.moveWindow(c.Window.IdentityID, WindowChannel{ID: c.Window.ChannelID, Type: rules.WhatsApp, Options: rules.DefaultOptions(rules.WhatsApp)},
		t0.Add(300*time.Hour), lead, t0.Add(300*time.Hour))
	late := c.DueAlerts(lead, t0.Add(330*time.Hour))
	if len(late) != 1 || late[0].Type != event.WindowClosed {
		t.Fatalf("late run: %+v", late)
	}
}

// A channel change keeps the alerts of a window it does not move, restarts those of one it
// does, and an archived default channel gives way to the next identity.
func TestRefreshWindow(t *testing.T) {
	lead := time.Hour
	custom := rules.DefaultOptions(rules.Custom)
	custom.WindowHours = 24
	bridge := LiveIdentity{IdentityID: uuid.New(), ChannelID: uuid.New(), Type: rules.Custom, Options: custom, LastInboundAt: at(0),
		CreatedAt: t0.Add(-48 * time.Hour)}
	c := Conversation{}
	c.moveWindow(bridge.IdentityID, WindowChannel{ID: bridge.ChannelID, Type: rules.Custom, Options: custom}, t0, lead, t0)
	c.DueAlerts(lead, t0.Add(23*time.Hour)) // expiring went out
	if c.RefreshWindow([]LiveIdentity{bridge}, lead, t0.Add(23*time.Hour+time.Minute)) || c.Alert.Kind != AlertClosed {
		t.Fatalf("an unchanged channel changed the state: %+v", c.Alert)
	}
	bridge.Options.WindowHours = 48
	if !c.RefreshWindow([]LiveIdentity{bridge}, lead, t0.Add(23*time.Hour+time.Minute)) || !sameInstant(c.WindowOpenUntil, at(48*time.Hour)) ||
		!sameAlert(c.Alert, &NextAlert{AlertExpiring, *at(47 * time.Hour)}) {
		t.Fatalf("a longer window: open until %v, next %+v", c.WindowOpenUntil, c.Alert)
	}
	bridge.Options.WindowHours = 0
	if !c.RefreshWindow([]LiveIdentity{bridge}, lead, t0.Add(24*time.Hour)) || c.WindowOpenUntil != nil || c.Alert != nil {
		t.Fatalf("no window: open until %v, next %+v", c.WindowOpenUntil, c.Alert)
	}
	// The bridge is archived: WhatsApp, written on an hour before, is the default, with its
	// own window and alerts.
	wa := LiveIdentity{IdentityID: uuid.New(), ChannelID: uuid.New(), Type: rules.WhatsApp, Options: rules.DefaultOptions(rules.WhatsApp),
		LastInboundAt: at(-time.Hour), SentSinceInbound: 2, CreatedAt: t0.Add(-72 * time.Hour)}
	if !c.RefreshWindow([]LiveIdentity{wa}, lead, t0.Add(time.Hour)) || c.Window.IdentityID != wa.IdentityID || c.Window.SentSinceInbound != 2 ||
		!sameInstant(c.WindowOpenUntil, at(23*time.Hour)) || !sameAlert(c.Alert, &NextAlert{AlertExpiring, *at(22 * time.Hour)}) {
		t.Fatalf("after the archive: %+v, open until %v, next %+v", c.Window, c.WindowOpenUntil, c.Alert)
	}
	if !c.RefreshWindow(nil, lead, t0.Add(time.Hour)) || c.Window != nil || c.WindowOpenUntil != nil || c.Alert != nil {
		t.Fatalf("no live identity: %+v", c)
	}
	if c.RefreshWindow(nil, lead, t0.Add(time.Hour)) {
		t.Fatal("nothing to change: a change")
	}
}

// The reply window is Decide's answer for a person at the instant; a Viber quota counts only in
// its month.
func TestDecideReplyWindow(t *testing.T) {
	c := Conversation{}
	c.DecideReplyWindow(t0)
	if c.ReplyWindow != nil {
		t.Fatalf("without a default channel: %+v", c.ReplyWindow)
	}
	opts := rules.DefaultOptions(rules.Viber)
	opts.MonthlyInitiatedLimit = 3
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c.Window = windowOn(rules.Viber, opts, at(-48*time.Hour))
	c.Window.UsageMonth, c.Window.UsageInitiated = &month, 3
	c.DecideReplyWindow(t0)
	if r := c.ReplyWindow; r.Decision != rules.Blocked || r.ReasonCode != rules.ReasonQuotaExceeded || r.ChannelID != c.Window.ChannelID {
		t.Fatalf("quota spent this month: %+v", r)
	}
	c.DecideReplyWindow(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if r := c.ReplyWindow; r.Decision != rules.Allowed || r.ReasonCode != rules.ReasonQuotaAvailable {
		t.Fatalf("next month: %+v", r)
	}
	c.Window = windowOn(rules.WhatsApp, rules.Options{}, at(-23*time.Hour-59*time.Minute))
	c.DecideReplyWindow(t0)
	if r := c.ReplyWindow; r.Decision != rules.Allowed || r.WindowExpiresAt == nil || !r.WindowExpiresAt.Equal(*at(time.Minute)) {
		t.Fatalf("23 h 59 m after the customer wrote: %+v", r)
	}
}
