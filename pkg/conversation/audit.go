package conversation

import (
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/audit"
)

// BulkRecord is the audit entry of a bulk action's change of one conversation from before to
// after: the action, and each field a bulk action can change that did change (status,
// assignee_id, label_ids, snoozed_until, and the closing note's category and summary). Closing
// with unassign_on_close shows the assignee leaving too: the entry says what happened to the
// conversation, not only what was asked.
//
// Single changes record no entry: they are the conversation's own events. A bulk action is an
// operator's sweep over many conversations at once, which "who changed this?" must answer.
func BulkRecord(action string, before, after Conversation) audit.Record {
	ch := audit.Changes{"action": {Before: nil, After: action}}
	ch.Set("status", string(before.Status), string(after.Status))
	ch.Set("assignee_id", idValue(before.AssigneeID), idValue(after.AssigneeID))
	ch.Set("label_ids", labelIDs(before.Labels), labelIDs(after.Labels))
	ch.Set("snoozed_until", timeValue(before.SnoozedUntil), timeValue(after.SnoozedUntil))
	if n := after.ClosingNote; n != nil && after.Status == StatusClosed && before.Status != StatusClosed {
		// The note is new with this close: an earlier close's note, kept through the reopen,
		// is no "before" of it.
		ch.Set("closing_category", nil, stringValue(n.Category))
		ch.Set("closing_summary", nil, stringValue(n.Summary))
	}
	return audit.On(audit.ConversationBulk, "conversation", after.ID, ch)
}

// The values below are what the log's JSON shows, so that Changes.Set compares them as a
// reader would: nil for none, never a typed nil pointer.

func idValue(id *uuid.UUID) any {
	if id == nil {
		return nil
	}
	return id.String()
}

func timeValue(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func stringValue(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// labelIDs are the labels' ids in their (name) order; [] for none, as the API shows them.
func labelIDs(ls []Label) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.ID.String()
	}
	return out
}
