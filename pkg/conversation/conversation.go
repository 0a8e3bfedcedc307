// Package conversation provides the thread between a workspace and one contact: its messages,
// its open/snoozed/closed lifecycle with closing notes, its assignee, every change as an event, the
// inbox that lists conversations, and the ingestion of customers' inbound messages.
package conversation

import (
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/errkind"
)

// Status is whether a conversation is being worked on.
type Status string

// The statuses.
const (
	StatusOpen   Status = "open"
	StatusClosed Status = "closed"
	// StatusSnoozed is put aside until SnoozedUntil, or until the customer writes.
	StatusSnoozed Status = "snoozed"
)

// ActorKind is who caused a change.
type ActorKind string

// The actor kinds.
const (
	ActorUser    ActorKind = "user"
	ActorAPIKey  ActorKind = "api_key"
	ActorContact ActorKind = "contact"
	ActorSystem  ActorKind = "system"
)

// Actor is who caused a change: a user, an API key, the contact (an inbound message) or the
// system. ID is uuid.Nil for the system.
type Actor struct {
	Kind ActorKind
	ID   uuid.UUID
}

// EventType is a kind of lifecycle change.
type EventType string

// The event types.
const (
	EventOpened     EventType = "opened"
	EventClosed     EventType = "closed"
	EventReopened   EventType = "reopened"
	EventAssigned   EventType = "assigned"
	EventUnassigned EventType = "unassigned"
	EventSnoozed    EventType = "snoozed"
	EventWoke       EventType = "woke"
)

// WakeReason is why a snoozed conversation woke.
type WakeReason string

// The wake reasons. (Reopen wakes one too; it records reopened.)
const (
	WokeCustomerReplied WakeReason = "customer_replied"
	WokeTime            WakeReason = "time"
)

// Event is one change in a conversation's life.
type Event struct {
	WorkspaceID    uuid.UUID
	ID             uuid.UUID
	ConversationID uuid.UUID
	Type           EventType
	Actor          Actor
	// AssigneeID is the user assigned (assigned) or the one who was unassigned (unassigned).
	AssigneeID *uuid.UUID
	// Category and Summary are the closing note (closed).
	Category *string
	Summary  *string
	// SnoozedUntil is the instant a snoozed event put it aside until (nil: until the customer
	// writes).
	SnoozedUntil *time.Time
	// Reason is why a woke event woke it.
	Reason *WakeReason
	At     time.Time
}

// ContactSummary is the part of a contact the inbox shows.
type ContactSummary struct {
	ID        uuid.UUID
	FirstName string
	LastName  string
	Email     *string
	Phone     *string
}

// Assignee is the user a conversation is assigned to.
type Assignee struct {
	ID    uuid.UUID
	Name  string
	Email string
}

// TeamRef is a conversation's team as its rows show it (pkg/team manages teams).
type TeamRef struct {
	ID   uuid.UUID
	Name string
}

// Preview is the last message of a conversation, as the inbox shows it.
type Preview struct {
	ID        uuid.UUID
	ChannelID uuid.UUID
	Direction Direction
	Type      MessageType
	Text      string // at most PreviewLength characters
	At        time.Time
}

// PreviewLength is how many characters of the last message the inbox shows.
const PreviewLength = 200

// ClosingNote is what was recorded when the conversation was last closed.
type ClosingNote struct {
	Category *string
	Summary  *string
	ClosedAt time.Time
	ClosedBy Actor
}

// Label is a label on a conversation, as its rows show it (pkg/label manages labels).
type Label struct {
	ID    uuid.UUID
	Name  string
	Color string // #rrggbb
}

// Conversation is the thread with one contact, reopened under the same id.
type Conversation struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	Status      Status
	Contact     ContactSummary
	AssigneeID  *uuid.UUID
	// Assignee is filled on reads; changes go through AssigneeID.
	Assignee *Assignee
	// TeamID is the team the conversation belongs to (its queue while unassigned); Team is
	// filled on reads.
	TeamID        *uuid.UUID
	Team          *TeamRef
	LastMessage   *Preview
	LastMessageAt time.Time
	// ClosingNote is the latest closing note; it stays after a reopen.
	ClosingNote *ClosingNote
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// ClosedAt is set while the conversation is closed.
	ClosedAt *time.Time
	// SnoozedUntil is when a snoozed conversation wakes; nil while not snoozed, and for a
	// snooze until the customer writes.
	SnoozedUntil *time.Time
	// IncomingCount is how many incoming messages the conversation has had.
	IncomingCount int64
	// Read is the reading user's read state, on reads made for a user; nil otherwise.
	Read *ReadState
	// Labels are the conversation's labels in name order (without regard to case), filled on
	// reads; pkg/label changes them.
	Labels []Label
	// Window is the default channel (the live one the contact last wrote on, else their newest
	// identity), read with the conversation; nil without one.
	Window *Window
	// WindowOpenUntil is when the default channel's window closes while it is open, as
	// stored for the inbox's window sort and filters (see window.go).
	WindowOpenUntil *time.Time
	// Alert is the window's next alert; nil when none is to come.
	Alert *NextAlert
	// ReplyWindow is the rule table's answer for a person on the default channel, decided for
	// an answer (DecideReplyWindow); nil until then and without a default channel.
	ReplyWindow *ReplyWindow
}

// Errors of this package.
var (
	ErrNotFound = errkind.New(errkind.KindNotFound, "conversation_not_found", "No such conversation in this workspace.")
	ErrClosed   = errkind.New(errkind.KindConflict, "conversation_closed", "The conversation is already closed.")
	ErrOpen     = errkind.New(errkind.KindConflict, "conversation_open", "The conversation is already open.")
	// ErrSnoozeClosed: only an open or snoozed conversation can be snoozed.
	ErrSnoozeClosed = errkind.New(errkind.KindConflict, "conversation_closed",
		"The conversation is closed; reopen it before snoozing it.")
	// ErrAssignForbidden: agents may only assign conversations to themselves or unassign themselves.
	// ErrUnknownTeam: the team to set is no team of this workspace.
	ErrUnknownTeam     = errkind.Invalid(errkind.Field{Field: "team_id", Message: "must be a team of this workspace"})
	ErrAssignForbidden = errkind.New(errkind.KindForbidden, "assignment_forbidden",
		"Agents may assign a conversation only to themselves, and unassign only themselves.")
)

func (c *Conversation) event(typ EventType, by Actor, now time.Time) Event {
	return Event{WorkspaceID: c.WorkspaceID, ID: uuid.Must(uuid.NewV7()), ConversationID: c.ID, Type: typ, Actor: by, At: now}
}

// Close closes an open conversation with a closing note, unassigning it when unassign is set.
// It returns the events to record: closed, then unassigned when it applied.
func (c *Conversation) Close(category, summary *string, unassign bool, by Actor, now time.Time) ([]Event, error) {
	if c.Status == StatusClosed {
		return nil, ErrClosed
	}
	c.Status = StatusClosed
	c.ClosedAt = &now
	c.SnoozedUntil = nil
	c.ClosingNote = &ClosingNote{Category: category, Summary: summary, ClosedAt: now, ClosedBy: by}
	c.UpdatedAt = now
	e := c.event(EventClosed, by, now)
	e.Category, e.Summary = category, summary
	events := []Event{e}
	if unassign && c.AssigneeID != nil {
		events = append(events, c.setAssignee(nil, by, now)...)
	}
	return events, nil
}

// Reopen opens a closed or snoozed conversation and, when assignTo is set, assigns it to that
// user. It returns the events to record: reopened, then assigned when the assignee changed.
func (c *Conversation) Reopen(assignTo *uuid.UUID, by Actor, now time.Time) ([]Event, error) {
	if c.Status == StatusOpen {
		return nil, ErrOpen
	}
	c.Status = StatusOpen
	c.ClosedAt = nil
	c.SnoozedUntil = nil
	c.UpdatedAt = now
	events := []Event{c.event(EventReopened, by, now)}
	if assignTo != nil {
		events = append(events, c.setAssignee(assignTo, by, now)...)
	}
	return events, nil
}

// Assign sets or clears the assignee. Assigning the current assignee changes nothing and
// records nothing.
func (c *Conversation) Assign(to *uuid.UUID, by Actor, now time.Time) []Event {
	return c.setAssignee(to, by, now)
}

func (c *Conversation) setAssignee(to *uuid.UUID, by Actor, now time.Time) []Event {
	from := c.AssigneeID
	if (from == nil && to == nil) || (from != nil && to != nil && *from == *to) {
		return nil
	}
	var e Event
	if to != nil {
		// A reassignment is one assigned event; the previous assignee is the one before it.
		id := *to
		e = c.event(EventAssigned, by, now)
		e.AssigneeID = &id
		c.AssigneeID = &id
	} else {
		e = c.event(EventUnassigned, by, now)
		e.AssigneeID = from
		c.AssigneeID = nil
	}
	c.Assignee = nil // stale until read back
	c.UpdatedAt = now
	return []Event{e}
}
