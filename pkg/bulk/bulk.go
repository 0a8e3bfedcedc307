// Package bulk applies one action to many conversations, each in its own transaction through
// the single-conversation use cases, and answers per conversation: a manager reassigns an
// offline agent's queue, closes a batch of spam, labels or snoozes a selection. Each
// conversation an action changed is recorded in the audit log (conversation.bulk).
package bulk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/label"
)

// MaxIDs is how many conversations one request names.
const MaxIDs = 100

// The actions.
const (
	Assign   = "assign"
	Unassign = "unassign"
	Close    = "close"
	Label    = "label"
	Snooze   = "snooze"
)

// Actions lists the actions, in a stable order.
var Actions = []string{Assign, Unassign, Close, Label, Snooze}

// Request is one action on many conversations, with what the action takes.
type Request struct {
	ConversationIDs []uuid.UUID
	Action          string
	// AssigneeID is the user to assign (assign).
	AssigneeID *uuid.UUID
	// LabelIDs replace each conversation's labels (label).
	LabelIDs []uuid.UUID
	// Until is when a snoozed conversation wakes; nil: when the customer writes (snooze).
	Until *time.Time
	// Category and Summary are the closing note (close).
	Category, Summary *string
}

// Result is one conversation's outcome: Err nil when the action applied (or changed nothing).
type Result struct {
	ID  uuid.UUID
	Err error
}

// Service applies bulk actions.
type Service struct {
	conversations *conversation.Service
	labels        *label.Service
}

// NewService builds a Service on the single-conversation use cases.
func NewService(conversations *conversation.Service, labels *label.Service) *Service {
	return &Service{conversations: conversations, labels: labels}
}

// check refuses a request no conversation could take.
func (r Request) check() error {
	var errs errkind.Fields
	if n := len(r.ConversationIDs); n < 1 || n > MaxIDs {
		errs.Add("conversation_ids", fmt.Sprintf("must name 1 to %d conversations", MaxIDs))
	}
	if !slices.Contains(Actions, r.Action) {
		errs.Add("action", "must be one of assign, unassign, close, label, snooze")
	}
	if len(r.LabelIDs) > label.MaxPerConversation {
		errs.Add("label_ids", fmt.Sprintf("a conversation carries at most %d labels", label.MaxPerConversation))
	}
	if r.Category != nil && utf8.RuneCountInString(*r.Category) > 100 {
		errs.Add("category", "must be at most 100 characters")
	}
	if r.Summary != nil && utf8.RuneCountInString(*r.Summary) > 2000 {
		errs.Add("summary", "must be at most 2000 characters")
	}
	return errs.Err()
}

// Apply runs the action on each conversation in turn, each in its own transaction through the
// single-conversation use case with its rules (an agent assigns only themselves, a closing
// note follows the workspace's settings...). A repeated id is applied once and answered once.
// A conversation of another workspace (or none) answers 422 on conversation_id, and the
// others are applied. Only a request no conversation could take is an error of its own.
func (s *Service) Apply(ctx context.Context, ws uuid.UUID, by conversation.Caller, r Request) ([]Result, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	var out []Result
	for _, id := range r.ConversationIDs {
		if slices.ContainsFunc(out, func(x Result) bool { return x.ID == id }) {
			continue
		}
		err := s.one(ctx, ws, by, r, id)
		if errors.Is(err, conversation.ErrNotFound) {
			// The id is the request's, not a path's: a reference to nothing is invalid input,
			// as any other field naming another workspace's resource (issue 17).
			err = errkind.Invalid(errkind.Field{Field: "conversation_id", Message: "must be a conversation of this workspace"})
		}
		out = append(out, Result{ID: id, Err: err})
	}
	return out, nil
}

func (s *Service) one(ctx context.Context, ws uuid.UUID, by conversation.Caller, r Request, id uuid.UUID) error {
	// The use case's transaction records the conversation in the audit log when it changes
	// it (audit.WithBulk says why the mark travels in the context).
	ctx = audit.WithBulk(ctx, r.Action)
	var err error
	switch r.Action {
	case Assign:
		// What each conversation's own request would refuse, each answers: the spec cannot
		// tie assignee_id to the action.
		if r.AssigneeID == nil {
			return errkind.Invalid(errkind.Field{Field: "assignee_id", Message: "is required to assign"})
		}
		_, err = s.conversations.Assign(ctx, ws, id, by, r.AssigneeID)
	case Unassign:
		_, err = s.conversations.Assign(ctx, ws, id, by, nil)
	case Close:
		_, err = s.conversations.Close(ctx, ws, id, by, r.Category, r.Summary)
	case Label:
		if r.LabelIDs == nil {
			return errkind.Invalid(errkind.Field{Field: "label_ids", Message: "is required to label: the labels' ids, or [] to take them all off"})
		}
		_, err = s.labels.SetConversationLabels(ctx, ws, id, r.LabelIDs)
	case Snooze:
		_, err = s.conversations.Snooze(ctx, ws, id, by, r.Until)
	}
	return err
}
