package conversation

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/errkind"
)

// Snooze: a conversation put aside until an instant, or until the customer writes. The
// decisions are here, pure: what a snooze may be (CheckSnoozeUntil), what it changes (Snooze),
// when its time has come (Due) and what waking changes (Wake). The store locks, stores and
// publishes around them; the wake-up job only runs WakeDue periodically.

// MaxSnooze is how far ahead a snooze may reach.
const MaxSnooze = 365 * 24 * time.Hour

// CheckSnoozeUntil checks a snooze's instant at now: nil (until the customer writes), or an
// instant after now and at most MaxSnooze ahead.
func CheckSnoozeUntil(until *time.Time, now time.Time) error {
	switch {
	case until == nil:
		return nil
	case !until.After(now):
		return invalidUntil("must be in the future")
	case until.Sub(now) > MaxSnooze:
		return invalidUntil(fmt.Sprintf("must be at most %d days ahead", int(MaxSnooze/(24*time.Hour))))
	}
	return nil
}

// Snooze puts an open or snoozed conversation aside until the instant (nil: until the
// customer writes), and records snoozed. Snoozing a snoozed conversation again changes its
// instant; the same instant again changes nothing and records nothing. A closed conversation
// is ErrSnoozeClosed. The assignee stays.
func (c *Conversation) Snooze(until *time.Time, by Actor, now time.Time) ([]Event, error) {
	if c.Status == StatusClosed {
		return nil, ErrSnoozeClosed
	}
	if c.Status == StatusSnoozed && sameInstant(c.SnoozedUntil, until) {
		return nil, nil
	}
	c.Status = StatusSnoozed
	c.SnoozedUntil = copyTime(until)
	c.UpdatedAt = now
	e := c.event(EventSnoozed, by, now)
	e.SnoozedUntil = copyTime(until)
	return []Event{e}, nil
}

// Due reports whether a snoozed conversation's time has come at now: never before its instant,
// and never for a snooze until the customer writes.
func (c *Conversation) Due(now time.Time) bool {
	return c.Status == StatusSnoozed && c.SnoozedUntil != nil && !c.SnoozedUntil.After(now)
}

// Wake opens a snoozed conversation again and records woke with why. Any other conversation
// stays as it is and nothing is recorded. The assignee stays.
func (c *Conversation) Wake(why WakeReason, by Actor, now time.Time) []Event {
	if c.Status != StatusSnoozed {
		return nil
	}
	c.Status = StatusOpen
	c.SnoozedUntil = nil
	c.UpdatedAt = now
	e := c.event(EventWoke, by, now)
	e.Reason = &why
	return []Event{e}
}

// WakeIfDue wakes a snooze whose time has come at now, as the system, for the reason time.
func (c *Conversation) WakeIfDue(now time.Time) []Event {
	if !c.Due(now) {
		return nil
	}
	return c.Wake(WokeTime, Actor{Kind: ActorSystem}, now)
}

// Snooze puts a conversation aside until the instant, or until the customer writes (nil).
// Whoever may close a conversation may snooze it.
func (s *Service) Snooze(ctx context.Context, ws, id uuid.UUID, by Caller, until *time.Time) (Conversation, error) {
	now := s.clock()
	if until != nil {
		u := until.UTC().Truncate(time.Microsecond) // what PostgreSQL keeps
		until = &u
	}
	if err := CheckSnoozeUntil(until, now); err != nil {
		return Conversation{}, err
	}
	return s.decided(s.store.ChangeConversation(ctx, ws, id, func(c *Conversation) ([]Event, error) {
		return c.Snooze(until, by.Actor, now)
	}))
}

// WakeDue wakes at most limit snoozed conversations whose time has come, each once however
// many processes run it at once, and answers how many it woke.
func (s *Service) WakeDue(ctx context.Context, limit int) (int, error) {
	now := s.clock()
	n, err := s.store.WakeSnoozed(ctx, now, limit, func(c *Conversation) []Event { return c.WakeIfDue(now) })
	if err != nil {
		return n, fmt.Errorf("wake snoozed conversations: %w", err)
	}
	return n, nil
}

func invalidUntil(msg string) error {
	return errkind.Invalid(errkind.Field{Field: "until", Message: msg})
}

func sameInstant(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}
