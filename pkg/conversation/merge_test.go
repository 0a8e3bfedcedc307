package conversation

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestAbsorb(t *testing.T) {
	ana, ben := uuid.New(), uuid.New()
	team1, team2 := uuid.New(), uuid.New()
	closed := func(assignee *uuid.UUID, at time.Duration) Conversation {
		v := t0.Add(at)
		return Conversation{Status: StatusClosed, AssigneeID: assignee, ClosedAt: &v}
	}
	snoozed := func(until *time.Time) Conversation { return Conversation{Status: StatusSnoozed, SnoozedUntil: until} }
	cases := []struct {
		name           string
		c, o           Conversation
		oAssignedLater bool
		status         Status
		assignee       *uuid.UUID
		snoozedUntil   *time.Time
		closedAt       *time.Time
	}{
		{"both open, the later assignment wins", Conversation{Status: StatusOpen, AssigneeID: &ana},
			Conversation{Status: StatusOpen, AssigneeID: &ben}, true, StatusOpen, &ben, nil, nil},
		{"both open, the survivor's assignment is later", Conversation{Status: StatusOpen, AssigneeID: &ana},
			Conversation{Status: StatusOpen, AssigneeID: &ben}, false, StatusOpen, &ana, nil, nil},
		{"both open, only the other assigned", Conversation{Status: StatusOpen},
			Conversation{Status: StatusOpen, AssigneeID: &ben}, false, StatusOpen, &ben, nil, nil},
		{"the other open: its state and assignee", closed(&ana, 0), Conversation{Status: StatusOpen, AssigneeID: &ben},
			false, StatusOpen, &ben, nil, nil},
		{"the survivor open stays as it is", Conversation{Status: StatusOpen}, closed(&ben, 0), true, StatusOpen, nil, nil, nil},
		{"both snoozed: the earlier wake-up", snoozed(at(2 * time.Hour)), snoozed(at(time.Hour)), false, StatusSnoozed, nil, at(time.Hour), nil},
		{"both snoozed: until the customer writes wins", snoozed(at(time.Hour)), snoozed(nil), false, StatusSnoozed, nil, nil, nil},
		{"snoozed beats closed", closed(&ana, 0), snoozed(at(time.Hour)), false, StatusSnoozed, &ana, at(time.Hour), nil},
		{"both closed: the later close", closed(nil, time.Minute), closed(&ben, time.Hour), false, StatusClosed, &ben, nil, at(time.Hour)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.Absorb(tc.o, tc.oAssignedLater, t0)
			if c.Status != tc.status || !sameID(c.AssigneeID, tc.assignee) || !sameInstant(c.SnoozedUntil, tc.snoozedUntil) ||
				(tc.closedAt != nil && !sameInstant(c.ClosedAt, tc.closedAt)) || (c.Status != StatusClosed && c.ClosedAt != nil) {
				t.Errorf("got %s assignee %v snoozed %v closed %v", c.Status, c.AssigneeID, c.SnoozedUntil, c.ClosedAt)
			}
		})
	}

	// Team, last message and counts.
	c := Conversation{Status: StatusOpen, IncomingCount: 2, LastMessageAt: t0, LastMessage: &Preview{ID: uuid.New(), Text: "older"}}
	o := Conversation{Status: StatusOpen, IncomingCount: 3, TeamID: &team2, LastMessageAt: t0.Add(time.Minute),
		LastMessage: &Preview{ID: uuid.New(), Text: "newer"}}
	c.Absorb(o, false, t0)
	if c.IncomingCount != 5 || c.LastMessage.Text != "newer" || !c.LastMessageAt.Equal(t0.Add(time.Minute)) || !sameID(c.TeamID, &team2) {
		t.Errorf("got count %d, last %q at %v, team %v", c.IncomingCount, c.LastMessage.Text, c.LastMessageAt, c.TeamID)
	}
	c = Conversation{TeamID: &team1, Status: StatusOpen}
	c.Absorb(Conversation{TeamID: &team2, Status: StatusOpen}, false, t0)
	if !sameID(c.TeamID, &team1) {
		t.Errorf("team %v, want the survivor's", c.TeamID)
	}
}

func sameID(a, b *uuid.UUID) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
