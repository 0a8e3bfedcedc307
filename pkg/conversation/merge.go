package conversation

import "time"

// Absorb makes c (the survivor's conversation) the one conversation of two contacts merged
// into one (DESIGN §7 "Contact merge"); o is the merged contact's conversation, whose
// messages, notes, labels and lifecycle now belong to c. oAssignedLater reports whether o's
// latest assignment is more recent than c's. The window is not decided here: the store
// refreshes it from the contact's identities, which the merge has just united.
//
//   - Status: open if either is open (nobody's open work disappears); else snoozed if either is
//     (the earlier wake-up, and "until the customer writes" when either waits for that); else
//     closed, with the closing note and instant of the later close.
//   - Assignee: of the open ones, the most recently assigned; when neither is open, c's (or o's
//     when c has none).
//   - Team: c's, else o's.
//   - Last message: the later of the two; incoming counts add up.
func (c *Conversation) Absorb(o Conversation, oAssignedLater bool, now time.Time) {
	open := func(x Conversation) bool { return x.Status == StatusOpen }
	switch {
	case open(*c) && open(o):
		if o.AssigneeID != nil && (c.AssigneeID == nil || oAssignedLater) {
			c.AssigneeID = o.AssigneeID
		}
	case open(o):
		c.Status, c.AssigneeID, c.ClosedAt, c.SnoozedUntil = StatusOpen, o.AssigneeID, nil, nil
	case open(*c):
	case c.Status == StatusSnoozed && o.Status == StatusSnoozed:
		if c.SnoozedUntil != nil && (o.SnoozedUntil == nil || o.SnoozedUntil.Before(*c.SnoozedUntil)) {
			c.SnoozedUntil = o.SnoozedUntil
		}
		if c.AssigneeID == nil {
			c.AssigneeID = o.AssigneeID
		}
	case o.Status == StatusSnoozed:
		c.Status, c.SnoozedUntil, c.ClosedAt = StatusSnoozed, o.SnoozedUntil, nil
		if o.AssigneeID != nil {
			c.AssigneeID = o.AssigneeID
		}
	case c.Status == StatusSnoozed:
		if c.AssigneeID == nil {
			c.AssigneeID = o.AssigneeID
		}
	default: // both closed
		if c.AssigneeID == nil {
			c.AssigneeID = o.AssigneeID
		}
		if o.ClosedAt != nil && (c.ClosedAt == nil || o.ClosedAt.After(*c.ClosedAt)) {
			c.ClosedAt = o.ClosedAt
		}
	}
	if o.ClosingNote != nil && (c.ClosingNote == nil || o.ClosingNote.ClosedAt.After(c.ClosingNote.ClosedAt)) {
		c.ClosingNote = o.ClosingNote
	}
	if c.TeamID == nil {
		c.TeamID, c.Team = o.TeamID, o.Team
	}
	if o.LastMessage != nil && (c.LastMessage == nil || o.LastMessageAt.After(c.LastMessageAt) ||
		(o.LastMessageAt.Equal(c.LastMessageAt) && o.LastMessage.ID.String() > c.LastMessage.ID.String())) {
		c.LastMessage, c.LastMessageAt = o.LastMessage, o.LastMessageAt
	} else if c.LastMessage == nil && o.LastMessageAt.After(c.LastMessageAt) {
		c.LastMessageAt = o.LastMessageAt
	}
	c.IncomingCount += o.IncomingCount
	c.UpdatedAt = now
}
