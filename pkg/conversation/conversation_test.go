package conversation

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestTransitions(t *testing.T) {
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	ana, ben := uuid.New(), uuid.New()
	by := Actor{Kind: ActorUser, ID: ana}
	cat := "resolved"
	type state struct {
		status   Status
		assignee *uuid.UUID
	}
	cases := []struct {
		name       string
		from       state
		do         func(c *Conversation) ([]Event, error)
		err        error
		want       state
		wantEvents []EventType
	}{
		{"close keeps the assignee", state{StatusOpen, &ana},
			func(c *Conversation) ([]Event, error) { return c.Close(&cat, nil, false, by, now) },
			nil, state{StatusClosed, &ana}, []EventType{EventClosed}},
		{"close with unassign", state{StatusOpen, &ana},
			func(c *Conversation) ([]Event, error) { return c.Close(&cat, nil, true, by, now) },
			nil, state{StatusClosed, nil}, []EventType{EventClosed, EventUnassigned}},
		{"close unassigned with unassign", state{StatusOpen, nil},
			func(c *Conversation) ([]Event, error) { return c.Close(nil, nil, true, by, now) },
			nil, state{StatusClosed, nil}, []EventType{EventClosed}},
		{"close a closed one", state{StatusClosed, nil},
			func(c *Conversation) ([]Event, error) { return c.Close(nil, nil, false, by, now) },
			ErrClosed, state{StatusClosed, nil}, nil},
		{"reopen and assign", state{StatusClosed, &ben},
			func(c *Conversation) ([]Event, error) { return c.Reopen(&ana, by, now) },
			nil, state{StatusOpen, &ana}, []EventType{EventReopened, EventAssigned}},
		{"reopen by the assignee", state{StatusClosed, &ana},
			func(c *Conversation) ([]Event, error) { return c.Reopen(&ana, by, now) },
			nil, state{StatusOpen, &ana}, []EventType{EventReopened}},
		{"reopen without assigning", state{StatusClosed, &ben},
			func(c *Conversation) ([]Event, error) { return c.Reopen(nil, by, now) },
			nil, state{StatusOpen, &ben}, []EventType{EventReopened}},
		{"reopen an open one", state{StatusOpen, nil},
			func(c *Conversation) ([]Event, error) { return c.Reopen(&ana, by, now) },
			ErrOpen, state{StatusOpen, nil}, nil},
		{"assign", state{StatusOpen, nil},
			func(c *Conversation) ([]Event, error) { return c.Assign(&ana, by, now), nil },
			nil, state{StatusOpen, &ana}, []EventType{EventAssigned}},
		{"reassign is one event", state{StatusClosed, &ben},
			func(c *Conversation) ([]Event, error) { return c.Assign(&ana, by, now), nil },
			nil, state{StatusClosed, &ana}, []EventType{EventAssigned}},
		{"assign the same user", state{StatusOpen, &ana},
			func(c *Conversation) ([]Event, error) { return c.Assign(&ana, by, now), nil },
			nil, state{StatusOpen, &ana}, nil},
		{"unassign", state{StatusOpen, &ben},
			func(c *Conversation) ([]Event, error) { return c.Assign(nil, by, now), nil },
			nil, state{StatusOpen, nil}, []EventType{EventUnassigned}},
		{"unassign nobody", state{StatusOpen, nil},
			func(c *Conversation) ([]Event, error) { return c.Assign(nil, by, now), nil },
			nil, state{StatusOpen, nil}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Conversation{ID: uuid.New(), Status: tc.from.status, AssigneeID: tc.from.assignee}
			events, err := tc.do(&c)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			var types []EventType
			for _, e := range events {
				types = append(types, e.Type)
				if e.ConversationID != c.ID || e.Actor != by || !e.At.Equal(now) {
					t.Errorf("event %+v", e)
				}
			}
			if !slices.Equal(types, tc.wantEvents) {
				t.Fatalf("events %v, want %v", types, tc.wantEvents)
			}
			if c.Status != tc.want.status || (c.AssigneeID == nil) != (tc.want.assignee == nil) ||
				(c.AssigneeID != nil && *c.AssigneeID != *tc.want.assignee) {
				t.Fatalf("state %s %v, want %s %v", c.Status, c.AssigneeID, tc.want.status, tc.want.assignee)
			}
			if slices.Contains(types, EventClosed) && (c.ClosedAt == nil || c.ClosingNote == nil || c.ClosingNote.ClosedBy != by) {
				t.Fatalf("closed without a note: %+v", c)
			}
			if c.Status == StatusOpen && c.ClosedAt != nil {
				t.Fatalf("open with closed_at")
			}
		})
	}
}

func TestPreviewIsTruncatedByCharacters(t *testing.T) {
	long := ""
	for range 250 {
		long += "é"
	}
	p := Message{Text: long}.Preview()
	if n := len([]rune(p.Text)); n != PreviewLength {
		t.Fatalf("preview has %d characters, want %d", n, PreviewLength)
	}
}
