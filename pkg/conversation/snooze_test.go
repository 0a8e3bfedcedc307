package conversation

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/errkind"
)

func TestCheckSnoozeUntil(t *testing.T) {
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	cases := []struct {
		name  string
		until *time.Time
		ok    bool
	}{
		{"until the customer writes", nil, true},
		{"a microsecond ahead", at(time.Microsecond), true},
		{"now", at(0), false},
		{"in the past", at(-time.Hour), false},
		{"a year ahead", at(MaxSnooze), true},
		{"past a year", at(MaxSnooze + time.Microsecond), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSnoozeUntil(tc.until, now)
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := errkind.As(err)
			if !ok || e.Code != "validation_failed" || len(e.Fields) != 1 || e.Fields[0].Field != "until" {
				t.Fatalf("got %v, want validation_failed naming until", err)
			}
		})
	}
}

// A snooze's time has come at its instant, not a microsecond before, and never for a snooze
// until the customer writes.
func TestDue(t *testing.T) {
	until := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		status Status
		until  *time.Time
		now    time.Time
		due    bool
	}{
		{"before the instant", StatusSnoozed, &until, until.Add(-time.Microsecond), false},
		{"at the instant", StatusSnoozed, &until, until, true},
		{"after it", StatusSnoozed, &until, until.Add(time.Hour), true},
		{"until the customer writes", StatusSnoozed, nil, until.Add(24 * time.Hour), false},
		{"open", StatusOpen, nil, until, false},
		{"closed", StatusClosed, nil, until, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Conversation{Status: tc.status, SnoozedUntil: tc.until}
			if got := c.Due(tc.now); got != tc.due {
				t.Fatalf("Due = %v, want %v", got, tc.due)
			}
			evs := c.WakeIfDue(tc.now)
			if woke := len(evs) == 1 && c.Status == StatusOpen && c.SnoozedUntil == nil; woke != tc.due {
				t.Fatalf("WakeIfDue: events %v, status %s; want woken %v", evs, c.Status, tc.due)
			}
			if tc.due && (evs[0].Type != EventWoke || *evs[0].Reason != WokeTime || evs[0].Actor.Kind != ActorSystem) {
				t.Fatalf("WakeIfDue recorded %+v", evs[0])
			}
		})
	}
}

func TestSnoozeTransitions(t *testing.T) {
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	ana := uuid.New()
	by := Actor{Kind: ActorUser, ID: ana}
	customer := Actor{Kind: ActorContact, ID: uuid.New()}
	later, later2 := now.Add(time.Hour), now.Add(2*time.Hour)
	cases := []struct {
		name       string
		status     Status
		until      *time.Time
		do         func(c *Conversation) ([]Event, error)
		err        error
		wantStatus Status
		wantUntil  *time.Time
		wantEvents []EventType
	}{
		{"snooze an open one", StatusOpen, nil,
			func(c *Conversation) ([]Event, error) { return c.Snooze(&later, by, now) },
			nil, StatusSnoozed, &later, []EventType{EventSnoozed}},
		{"snooze until the customer writes", StatusOpen, nil,
			func(c *Conversation) ([]Event, error) { return c.Snooze(nil, by, now) },
			nil, StatusSnoozed, nil, []EventType{EventSnoozed}},
		{"snooze again to another instant", StatusSnoozed, &later,
			func(c *Conversation) ([]Event, error) { return c.Snooze(&later2, by, now) },
			nil, StatusSnoozed, &later2, []EventType{EventSnoozed}},
		{"snooze again to the same instant", StatusSnoozed, &later,
			func(c *Conversation) ([]Event, error) { return c.Snooze(&later, by, now) },
			nil, StatusSnoozed, &later, nil},
		{"snooze a closed one", StatusClosed, nil,
			func(c *Conversation) ([]Event, error) { return c.Snooze(&later, by, now) },
			ErrSnoozeClosed, StatusClosed, nil, nil},
		{"the customer wakes it", StatusSnoozed, &later,
			func(c *Conversation) ([]Event, error) { return c.Wake(WokeCustomerReplied, customer, now), nil },
			nil, StatusOpen, nil, []EventType{EventWoke}},
		{"waking an open one does nothing", StatusOpen, nil,
			func(c *Conversation) ([]Event, error) { return c.Wake(WokeCustomerReplied, customer, now), nil },
			nil, StatusOpen, nil, nil},
		{"waking a closed one does nothing", StatusClosed, nil,
			func(c *Conversation) ([]Event, error) { return c.Wake(WokeTime, customer, now), nil },
			nil, StatusClosed, nil, nil},
		{"reopen wakes it", StatusSnoozed, &later,
			func(c *Conversation) ([]Event, error) { return c.Reopen(&ana, by, now) },
			nil, StatusOpen, nil, []EventType{EventReopened, EventAssigned}},
		{"close closes it", StatusSnoozed, &later,
			func(c *Conversation) ([]Event, error) { return c.Close(nil, nil, false, by, now) },
			nil, StatusClosed, nil, []EventType{EventClosed}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Conversation{ID: uuid.New(), Status: tc.status, SnoozedUntil: tc.until}
			evs, err := tc.do(&c)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if c.Status != tc.wantStatus || !sameInstant(c.SnoozedUntil, tc.wantUntil) {
				t.Fatalf("status %s until %v, want %s until %v", c.Status, c.SnoozedUntil, tc.wantStatus, tc.wantUntil)
			}
			var types []EventType
			for _, e := range evs {
				types = append(types, e.Type)
			}
			if !slices.Equal(types, tc.wantEvents) {
				t.Fatalf("events %v, want %v", types, tc.wantEvents)
			}
			for _, e := range evs {
				switch e.Type {
				case EventSnoozed:
					if !sameInstant(e.SnoozedUntil, tc.wantUntil) || e.Reason != nil {
						t.Errorf("snoozed event until %v reason %v", e.SnoozedUntil, e.Reason)
					}
				case EventWoke:
					if e.Reason == nil || *e.Reason != WokeCustomerReplied || e.Actor != customer {
						t.Errorf("woke event %+v", e)
					}
				}
			}
		})
	}
}
