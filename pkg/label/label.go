// Package label provides conversation labels: a workspace's named, coloured labels, their
// validation, and the replacement of a conversation's set of labels.
package label

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
)

// Label is a workspace's label. Its name is unique in the workspace without regard to case.
type Label struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	Name        string
	Color       string // #rrggbb, lower-case
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Limits.
const (
	// MaxName is the longest name, in characters, once trimmed.
	MaxName = 50
	// MaxPerConversation is how many labels one conversation may carry.
	MaxPerConversation = 20
)

// Errors of this package.
var (
	ErrNotFound = errkind.New(errkind.KindNotFound, "label_not_found", "No such label in this workspace.")
	ErrExists   = errkind.New(errkind.KindConflict, "label_exists", "The workspace already has a label with this name (without regard to case).")
)

var colorRe = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

// Fields are a label's editable parts; in a patch nil fields stay as they are.
type Fields struct {
	Name  *string
	Color *string
}

// apply validates f onto l: the name trimmed, 1 to MaxName characters; the colour #rrggbb,
// stored lower-case.
func (f Fields) apply(l *Label) error {
	var errs errkind.Fields
	if f.Name != nil {
		l.Name = strings.TrimSpace(*f.Name)
	}
	if f.Color != nil {
		l.Color = strings.ToLower(strings.TrimSpace(*f.Color))
	}
	if n := utf8.RuneCountInString(l.Name); n < 1 || n > MaxName {
		errs.Add("name", fmt.Sprintf("must be 1 to %d characters (surrounding spaces are trimmed)", MaxName))
	}
	if !colorRe.MatchString(l.Color) {
		errs.Add("color", "must be a colour as #rrggbb, like #1f93ff")
	}
	return errs.Err()
}

// Store is what the label service needs from persistence.
type Store interface {
	// CreateLabel stores a label; a name the workspace has is ErrExists with existing_id.
	CreateLabel(ctx context.Context, l Label) error
	// Labels lists the workspace's labels by name.
	Labels(ctx context.Context, ws uuid.UUID, p page.Request) ([]Label, string, error)
	// UpdateLabel locks a label, applies the change and saves it; a name another label has is
	// ErrExists with existing_id.
	UpdateLabel(ctx context.Context, ws, id uuid.UUID, apply func(*Label) error) (Label, error)
	// DeleteLabel deletes a label and takes it off every conversation.
	DeleteLabel(ctx context.Context, ws, id uuid.UUID) error
	// ReplaceConversationLabels locks the conversation (with its labels) and reads the labels
	// of ws among want, in name order, keeping them until commit; decide changes the
	// conversation and reports whether its labels changed. When they did, the store writes the
	// new set and publishes conversation.labels_changed, in the same transaction.
	ReplaceConversationLabels(ctx context.Context, ws, id uuid.UUID, want []uuid.UUID,
		decide func(c *conversation.Conversation, found []conversation.Label) (bool, error)) (conversation.Conversation, error)
}

// Service runs the label use cases.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService builds a Service.
func NewService(st Store, now func() time.Time) *Service { return &Service{store: st, now: now} }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Create adds a label to the workspace.
func (s *Service) Create(ctx context.Context, ws uuid.UUID, f Fields) (Label, error) {
	now := s.clock()
	l := Label{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), CreatedAt: now, UpdatedAt: now}
	if err := f.apply(&l); err != nil {
		return Label{}, err
	}
	if err := s.store.CreateLabel(ctx, l); err != nil {
		return Label{}, err
	}
	return l, nil
}

// List returns a page of the workspace's labels by name.
func (s *Service) List(ctx context.Context, ws uuid.UUID, p page.Request) ([]Label, string, error) {
	return s.store.Labels(ctx, ws, p)
}

// Update renames or recolours a label; the conversations that carry it show the change.
func (s *Service) Update(ctx context.Context, ws, id uuid.UUID, f Fields) (Label, error) {
	return s.store.UpdateLabel(ctx, ws, id, func(l *Label) error {
		if err := f.apply(l); err != nil {
			return err
		}
		l.UpdatedAt = s.clock()
		return nil
	})
}

// Delete removes a label from the workspace and from every conversation that carries it.
func (s *Service) Delete(ctx context.Context, ws, id uuid.UUID) error {
	return s.store.DeleteLabel(ctx, ws, id)
}

// SetConversationLabels replaces the conversation's labels with ids (duplicates count once;
// an empty list clears them) and answers the conversation. Each id must be a label of the
// workspace. A set equal to the current one changes nothing and publishes nothing.
func (s *Service) SetConversationLabels(ctx context.Context, ws, id uuid.UUID, ids []uuid.UUID) (conversation.Conversation, error) {
	want, err := distinct(ids)
	if err != nil {
		return conversation.Conversation{}, err
	}
	c, err := s.store.ReplaceConversationLabels(ctx, ws, id, want, func(c *conversation.Conversation, found []conversation.Label) (bool, error) {
		return Replace(c, ids, found, s.clock())
	})
	if err == nil {
		c.DecideReplyWindow(s.clock())
	}
	return c, err
}

// distinct is ids without repeats, in their order; more than MaxPerConversation is invalid.
func distinct(ids []uuid.UUID) ([]uuid.UUID, error) {
	out := []uuid.UUID{} // never nil: pgx sends a nil slice as NULL
	for _, id := range ids {
		if !slices.Contains(out, id) {
			if out = append(out, id); len(out) > MaxPerConversation {
				break
			}
		}
	}
	if len(out) > MaxPerConversation {
		return nil, errkind.Invalid(errkind.Field{Field: "label_ids",
			Message: fmt.Sprintf("a conversation carries at most %d labels", MaxPerConversation)})
	}
	return out, nil
}

// Replace decides a replacement of c's labels by the ids a request names: found are the
// workspace's labels among them, in name order. An id that is none of them (unknown, or
// another workspace's) is invalid, named by its first position in ids. It reports whether the set
// changed; when it did, c carries found and was updated at now.
func Replace(c *conversation.Conversation, ids []uuid.UUID, found []conversation.Label, now time.Time) (bool, error) {
	var errs errkind.Fields
	seen := make(map[uuid.UUID]bool, len(found))
	for i, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if !slices.ContainsFunc(found, func(l conversation.Label) bool { return l.ID == id }) {
			errs.Add(fmt.Sprintf("label_ids[%d]", i), "is not a label of this workspace")
		}
	}
	if err := errs.Err(); err != nil {
		return false, err
	}
	same := len(c.Labels) == len(found)
	for _, l := range c.Labels {
		same = same && slices.ContainsFunc(found, func(f conversation.Label) bool { return f.ID == l.ID })
	}
	if same {
		return false, nil
	}
	c.Labels = slices.Clone(found)
	c.UpdatedAt = now
	return true, nil
}
