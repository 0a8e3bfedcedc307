package conversation

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/rules"
)

// Reply windows: what the rule table allows a person to send to the conversation's contact
// on its default channel, and the alerts before and when that channel's window closes. The
// decisions are here, pure: the answer at an instant (DecideReplyWindow), how a customer's
// message moves the window (moveWindow), which alerts are due (DueAlerts) and what a change of
// the channel does (RefreshWindow). The store reads the default channel with the conversation
// (Window), keeps OpenUntil and the next alert on the row, and publishes what these return.

// Inbox window filters and the window sort.
const (
	WindowOpen    = "open"    // the default channel's window is open
	WindowClosing = "closing" // open, and closes within the workspace's window_closing_minutes
	WindowClosed  = "closed"  // no open window: closed, never opened, or a channel without one
	// SortWindowClosing lists open conversations with an open window first, soonest-closing
	// first, then the rest newest first.
	SortWindowClosing = "window_closing"
)

// Window is the conversation's default channel as the rule table needs it: the identity the
// contact last wrote on (else their newest one) on a live channel, read with the conversation.
// Nil when the contact has no identity on a live channel.
type Window struct {
	IdentityID       uuid.UUID
	ChannelID        uuid.UUID
	Type             rules.ChannelType
	Options          rules.Options
	LastInboundAt    *time.Time
	SentSinceInbound int
	// UsageMonth and UsageInitiated are the channel's latest month of chatbot-initiated
	// messages (Viber); they count only while that month is the current one.
	UsageMonth     *time.Time
	UsageInitiated int
}

// ReplyWindow is the rule table's answer for a person sending on the default channel.
type ReplyWindow struct {
	ChannelID       uuid.UUID
	Decision        rules.Decision
	ReasonCode      string
	WindowExpiresAt *time.Time
}

// AlertKind names one alert of a default channel's windows, as the row keeps the next one.
type AlertKind string

// The alerts, in the order they come: the messaging window's, then on Messenger and Instagram
// with the HUMAN_AGENT tag the tag period's.
const (
	AlertExpiring    AlertKind = "expiring"
	AlertClosed      AlertKind = "closed"
	AlertTagExpiring AlertKind = "tag_expiring"
	AlertTagClosed   AlertKind = "tag_closed"
)

// The windows an alert is about (WindowAlert.Window).
const (
	WindowMessaging     = "messaging"
	WindowHumanAgentTag = "human_agent_tag"
)

// NextAlert is the next alert of a conversation's window and when it is due.
type NextAlert struct {
	Kind AlertKind
	At   time.Time
}

// WindowAlert is an alert to publish: window.expiring or window.closed of one window.
type WindowAlert struct {
	// Type is the event type: event.WindowExpiring or event.WindowClosed.
	Type           string
	WorkspaceID    uuid.UUID
	ConversationID uuid.UUID
	ContactID      uuid.UUID
	Status         Status
	AssigneeID     *uuid.UUID
	ChannelID      uuid.UUID
	ChannelType    rules.ChannelType
	// Window is WindowMessaging or WindowHumanAgentTag.
	Window string
	// ExpiresAt is when the window closes (closed, for window.closed).
	ExpiresAt time.Time
	// Reply is the rule table's answer for a person when the alert went out.
	Reply ReplyWindow
}

// person is who the inbox answers for: an agent about to write.
var person = rules.Sender{Kind: rules.SenderUser}

// monthOf is the first instant of t's calendar month in UTC.
func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Decide is the rule table's answer for the sender on this channel at the instant, assuming
// nothing else happens until then: the channel's monthly count starts again in a later month.
func (w Window) Decide(sender rules.Sender, at time.Time) rules.Result {
	id := rules.Identity{LastInboundAt: w.LastInboundAt, SentSinceInbound: w.SentSinceInbound}
	if w.UsageMonth != nil && monthOf(*w.UsageMonth).Equal(monthOf(at)) {
		id.MonthInitiated = w.UsageInitiated
	}
	return rules.Decide(rules.Lookup(w.Type), w.Options, id, sender, nil, at)
}

func (w Window) reply(at time.Time) ReplyWindow {
	d := w.Decide(person, at)
	return ReplyWindow{ChannelID: w.ChannelID, Decision: d.Decision, ReasonCode: d.ReasonCode, WindowExpiresAt: d.WindowExpiresAt}
}

// DecideReplyWindow sets ReplyWindow to the answer for a person at now (nil without a default
// channel).
func (c *Conversation) DecideReplyWindow(now time.Time) {
	c.ReplyWindow = nil
	if c.Window != nil {
		r := c.Window.reply(now)
		c.ReplyWindow = &r
	}
}

// closes are the instants the window and the HUMAN_AGENT tag period close, as rules.Decide
// computes them; nil where there is none (no window, no tag, the customer never wrote).
func (w Window) closes() (window, tag *time.Time) {
	if w.LastInboundAt == nil {
		return nil, nil
	}
	d := rules.Decide(rules.Lookup(w.Type), w.Options, rules.Identity{LastInboundAt: w.LastInboundAt}, person, nil, *w.LastInboundAt)
	return d.WindowExpiresAt, d.TagExpiresAt
}

// scheduled is one alert of a window's schedule.
type scheduled struct {
	kind   AlertKind
	window string
	at     time.Time
	closes time.Time // of its window
}

// schedule lists the window's alerts in the order they come: expiring lead before the close
// and closed at it, for the messaging window and then the tag period.
func (w *Window) schedule(lead time.Duration) []scheduled {
	if w == nil {
		return nil
	}
	win, tag := w.closes()
	var out []scheduled
	if win != nil {
		out = append(out, scheduled{AlertExpiring, WindowMessaging, win.Add(-lead), *win},
			scheduled{AlertClosed, WindowMessaging, *win, *win})
	}
	if tag != nil {
		out = append(out, scheduled{AlertTagExpiring, WindowHumanAgentTag, tag.Add(-lead), *tag},
			scheduled{AlertTagClosed, WindowHumanAgentTag, *tag, *tag})
	}
	return out
}

// openUntil is the instant the messaging window closes while it is open at now.
func (w *Window) openUntil(now time.Time) *time.Time {
	if w == nil {
		return nil
	}
	if win, _ := w.closes(); win != nil && win.After(now) {
		return win
	}
	return nil
}

// startAlerts is the first alert of a window that starts at now: the expiring alert of the
// first window (messaging, then tag) still open. A window that had already closed when it
// started (a late delivery) starts none; an expiring alert whose instant has passed while its
// window is open is due at once.
func startAlerts(s []scheduled, now time.Time) *NextAlert {
	for _, a := range s {
		if a.closes.After(now) {
			return &NextAlert{Kind: a.kind, At: a.at}
		}
	}
	return nil
}

// restartWindow makes w the default channel with its alerts starting afresh at now.
func (c *Conversation) restartWindow(w *Window, lead time.Duration, now time.Time) {
	c.Window = w
	c.WindowOpenUntil = w.openUntil(now)
	c.Alert = startAlerts(w.schedule(lead), now)
}

// moveWindow records a customer's message at `at` on an identity of the channel: it becomes
// the default channel when the message is later than the default's last inbound message (or
// the contact never wrote), and its window (re)starts with fresh alerts, so nothing is due for
// the window it extended. An older message (a late delivery) changes nothing.
func (c *Conversation) moveWindow(identityID uuid.UUID, ch WindowChannel, at time.Time, lead time.Duration, now time.Time) {
	if c.Window != nil && c.Window.LastInboundAt != nil && !at.After(*c.Window.LastInboundAt) {
		return
	}
	w := &Window{IdentityID: identityID, ChannelID: ch.ID, Type: ch.Type, Options: ch.Options, LastInboundAt: &at}
	if c.Window != nil && c.Window.ChannelID == ch.ID {
		w.UsageMonth, w.UsageInitiated = c.Window.UsageMonth, c.Window.UsageInitiated
	}
	c.restartWindow(w, lead, now)
}

// WindowChannel is a channel as a window needs it.
type WindowChannel struct {
	ID      uuid.UUID
	Type    rules.ChannelType
	Options rules.Options
}

// LiveIdentity is one of a contact's identities on a live channel, with what a window needs.
type LiveIdentity struct {
	IdentityID       uuid.UUID
	ChannelID        uuid.UUID
	Type             rules.ChannelType
	Options          rules.Options
	LastInboundAt    *time.Time
	SentSinceInbound int
	CreatedAt        time.Time
}

// defaultWindow is the default channel among a contact's identities on live channels: the one
// they last wrote on, else the newest (DefaultIdentity's choice); nil without one.
func defaultWindow(ids []LiveIdentity) *Window {
	var best *LiveIdentity
	for i := range ids {
		a := &ids[i]
		if best == nil || newer(channel.Identity{LastInboundAt: a.LastInboundAt, CreatedAt: a.CreatedAt},
			channel.Identity{LastInboundAt: best.LastInboundAt, CreatedAt: best.CreatedAt}) {
			best = a
		}
	}
	if best == nil {
		return nil
	}
	return &Window{IdentityID: best.IdentityID, ChannelID: best.ChannelID, Type: best.Type, Options: best.Options,
		LastInboundAt: best.LastInboundAt, SentSinceInbound: best.SentSinceInbound}
}

// RefreshWindow brings the default channel and its window up to the contact's identities on
// live channels (live), after a channel changed (its rule options, or it was archived): the
// same default with the same open window and its next alert where it was keeps it; anything
// else starts the alerts afresh at now. It reports whether the stored state changed.
func (c *Conversation) RefreshWindow(live []LiveIdentity, lead time.Duration, now time.Time) bool {
	before := c.windowState()
	w := defaultWindow(live)
	same := (w == nil) == (c.Window == nil) &&
		(w == nil || (w.IdentityID == c.Window.IdentityID && sameInstant(w.LastInboundAt, c.Window.LastInboundAt)))
	c.Window = w
	if !same || !sameInstant(w.openUntil(now), c.WindowOpenUntil) || position(w.schedule(lead), c.Alert) < 0 {
		c.restartWindow(w, lead, now)
	}
	return c.windowState() != before
}

// windowState is what the row keeps of the window, comparable.
type windowState struct {
	identity, channel uuid.UUID
	inbound, open     time.Time
	sent              int
	alert             AlertKind
	alertAt           time.Time
}

func (c *Conversation) windowState() windowState {
	var s windowState
	if w := c.Window; w != nil {
		s.identity, s.channel, s.sent = w.IdentityID, w.ChannelID, w.SentSinceInbound
		if w.LastInboundAt != nil {
			s.inbound = w.LastInboundAt.UTC()
		}
	}
	if c.WindowOpenUntil != nil {
		s.open = c.WindowOpenUntil.UTC()
	}
	if c.Alert != nil {
		s.alert, s.alertAt = c.Alert.Kind, c.Alert.At.UTC()
	}
	return s
}

// position is the index in s of the stored next alert, when s has it at the same instant for
// the same close as when it was stored; -1 otherwise.
func position(s []scheduled, a *NextAlert) int {
	if a == nil {
		return -1
	}
	for i, x := range s {
		if x.kind == a.Kind && x.at.Equal(a.At) {
			return i
		}
	}
	return -1
}

// DueAlerts returns the alerts due at now and moves the conversation to its next one. It goes
// by the default channel as it is now: from the stored next alert, each alert whose instant
// has come is due, except an expiring alert whose window has closed meanwhile (a late run);
// the first alert still to come is the next. A stored alert the channel no longer has (its
// options changed) restarts the schedule at now. OpenUntil is cleared once the window closed.
func (c *Conversation) DueAlerts(lead time.Duration, now time.Time) []WindowAlert {
	s := c.Window.schedule(lead)
	c.WindowOpenUntil = c.Window.openUntil(now)
	start := -1
	if c.Alert != nil {
		for i, x := range s {
			if x.kind == c.Alert.Kind {
				start = i
				break
			}
		}
	}
	if start < 0 {
		c.Alert = startAlerts(s, now)
		return nil
	}
	var due []WindowAlert
	c.Alert = nil
	for _, x := range s[start:] {
		if x.at.After(now) {
			c.Alert = &NextAlert{Kind: x.kind, At: x.at}
			break
		}
		if (x.kind == AlertExpiring || x.kind == AlertTagExpiring) && !x.closes.After(now) {
			continue
		}
		due = append(due, c.alert(x, now))
	}
	return due
}

func (c *Conversation) alert(x scheduled, now time.Time) WindowAlert {
	typ := event.WindowExpiring
	if x.kind == AlertClosed || x.kind == AlertTagClosed {
		typ = event.WindowClosed
	}
	return WindowAlert{Type: typ, WorkspaceID: c.WorkspaceID, ConversationID: c.ID, ContactID: c.Contact.ID, Status: c.Status,
		AssigneeID: c.AssigneeID, ChannelID: c.Window.ChannelID, ChannelType: c.Window.Type, Window: x.window,
		ExpiresAt: x.closes, Reply: c.Window.reply(now)}
}

func sameAlert(a, b *NextAlert) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Kind == b.Kind && a.At.Equal(b.At)
}

// AlertDue publishes the window alerts due now of at most limit conversations, each once
// however many processes run it at once, and answers how many conversations it handled.
func (s *Service) AlertDue(ctx context.Context, limit int) (int, error) {
	now := s.clock()
	n, err := s.store.WindowAlerts(ctx, now, limit, func(c *Conversation, lead time.Duration) []WindowAlert {
		return c.DueAlerts(lead, now)
	})
	if err != nil {
		return n, fmt.Errorf("window alerts: %w", err)
	}
	return n, nil
}

// RefreshChannelWindows brings the default channels and windows of the conversations whose
// contacts have an identity on the channel up to its state (its rule options changed, or it
// was archived), batch contacts at a time, and answers how many conversations changed.
func (s *Service) RefreshChannelWindows(ctx context.Context, ws, channelID uuid.UUID, batch int) (int, error) {
	changed, after := 0, ""
	for {
		now := s.clock()
		next, err := s.store.RefreshWindows(ctx, ws, channelID, after, batch, func(c *Conversation, live []LiveIdentity, lead time.Duration) bool {
			if c.RefreshWindow(live, lead, now) {
				changed++
				return true
			}
			return false
		})
		if err != nil {
			return changed, fmt.Errorf("refresh windows of channel %s: %w", channelID, err)
		}
		if next == "" {
			return changed, nil
		}
		after = next
	}
}
