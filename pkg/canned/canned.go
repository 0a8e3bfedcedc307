// Package canned provides a workspace's canned responses: reusable answers that agents find
// by shortcut or title and render for a conversation, with the contact's and the agent's
// names filled in.
package canned

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// Response is a canned response. Its shortcut is unique in the workspace without regard to
// case.
type Response struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	Shortcut    string
	Title       string
	Text        string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Limits, in characters.
const (
	MaxShortcut = 50
	MaxTitle    = 200
	MaxText     = 5000
	MaxQ        = 50
)

// Errors of this package.
var (
	ErrNotFound = errkind.New(errkind.KindNotFound, "canned_response_not_found", "No such canned response in this workspace.")
	ErrTaken    = errkind.New(errkind.KindConflict, "canned_shortcut_taken", "The workspace already has a canned response with this shortcut (without regard to case).")
)

// Fields are a canned response's editable parts; in a patch nil fields stay as they are.
type Fields struct {
	Shortcut *string
	Title    *string
	Text     *string
}

// apply validates f onto r: the shortcut trimmed, 1 to MaxShortcut characters without spaces;
// the title trimmed, 1 to MaxTitle; the text 1 to MaxText, kept as written.
func (f Fields) apply(r *Response) error {
	var errs errkind.Fields
	if f.Shortcut != nil {
		r.Shortcut = strings.TrimSpace(*f.Shortcut)
	}
	if f.Title != nil {
		r.Title = strings.TrimSpace(*f.Title)
	}
	if f.Text != nil {
		r.Text = *f.Text
	}
	if n := utf8.RuneCountInString(r.Shortcut); n < 1 || n > MaxShortcut || strings.ContainsFunc(r.Shortcut, unicode.IsSpace) {
		errs.Add("shortcut", fmt.Sprintf("must be 1 to %d characters without spaces", MaxShortcut))
	}
	if n := utf8.RuneCountInString(r.Title); n < 1 || n > MaxTitle {
		errs.Add("title", fmt.Sprintf("must be 1 to %d characters (surrounding spaces are trimmed)", MaxTitle))
	}
	if n := utf8.RuneCountInString(r.Text); n < 1 || n > MaxText || strings.TrimSpace(r.Text) == "" {
		errs.Add("text", fmt.Sprintf("must be 1 to %d characters, not only spaces", MaxText))
	}
	return errs.Err()
}

// Store is what the canned response service needs from persistence.
type Store interface {
	// CreateCannedResponse stores one; a shortcut the workspace has is ErrTaken.
	CreateCannedResponse(ctx context.Context, r Response) error
	CannedResponse(ctx context.Context, ws, id uuid.UUID) (Response, error)
	// CannedResponses lists the workspace's by shortcut, those whose shortcut or title
	// starts with q (without regard to case) when q is not empty.
	CannedResponses(ctx context.Context, ws uuid.UUID, q string, p page.Request) ([]Response, string, error)
	// UpdateCannedResponse locks one, applies the change and saves it; a shortcut another
	// has is ErrTaken.
	UpdateCannedResponse(ctx context.Context, ws, id uuid.UUID, apply func(*Response) error) (Response, error)
	DeleteCannedResponse(ctx context.Context, ws, id uuid.UUID) error
	Conversation(ctx context.Context, ws, id uuid.UUID) (conversation.Conversation, error)
	User(ctx context.Context, ws, id uuid.UUID) (workspace.User, error)
}

// Service runs the canned response use cases.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService builds a Service.
func NewService(st Store, now func() time.Time) *Service { return &Service{store: st, now: now} }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Create adds a canned response.
func (s *Service) Create(ctx context.Context, ws uuid.UUID, f Fields) (Response, error) {
	now := s.clock()
	r := Response{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), CreatedAt: now, UpdatedAt: now}
	if err := f.apply(&r); err != nil {
		return Response{}, err
	}
	if err := s.store.CreateCannedResponse(ctx, r); err != nil {
		return Response{}, err
	}
	return r, nil
}

// Get returns one canned response.
func (s *Service) Get(ctx context.Context, ws, id uuid.UUID) (Response, error) {
	return s.store.CannedResponse(ctx, ws, id)
}

// List returns a page of the workspace's canned responses by shortcut; q (trimmed) keeps those
// whose shortcut or title starts with it, without regard to case.
func (s *Service) List(ctx context.Context, ws uuid.UUID, q string, p page.Request) ([]Response, string, error) {
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) > MaxQ {
		return nil, "", errkind.Invalid(errkind.Field{Field: "q", Message: fmt.Sprintf("must be at most %d characters", MaxQ)})
	}
	return s.store.CannedResponses(ctx, ws, q, p)
}

// Update changes a canned response.
func (s *Service) Update(ctx context.Context, ws, id uuid.UUID, f Fields) (Response, error) {
	return s.store.UpdateCannedResponse(ctx, ws, id, func(r *Response) error {
		if err := f.apply(r); err != nil {
			return err
		}
		r.UpdatedAt = s.clock()
		return nil
	})
}

// Delete removes a canned response.
func (s *Service) Delete(ctx context.Context, ws, id uuid.UUID) error {
	return s.store.DeleteCannedResponse(ctx, ws, id)
}

// Render fills the canned response's variables for a conversation: its contact's first and
// last name, and agent, the user rendering it (nil for an API key, whose {{agent.name}} is
// empty: a key is no person to sign with). An unknown conversation is
// conversation.ErrNotFound.
func (s *Service) Render(ctx context.Context, ws, id, conversationID uuid.UUID, agent *uuid.UUID) (string, error) {
	r, err := s.store.CannedResponse(ctx, ws, id)
	if err != nil {
		return "", err
	}
	c, err := s.store.Conversation(ctx, ws, conversationID)
	if err != nil {
		return "", err
	}
	vars := map[string]string{"contact.first_name": c.Contact.FirstName, "contact.last_name": c.Contact.LastName, "agent.name": ""}
	if agent != nil {
		u, err := s.store.User(ctx, ws, *agent)
		if err != nil {
			return "", fmt.Errorf("render canned response: %w", err)
		}
		vars["agent.name"] = u.Name
	}
	return Fill(r.Text, vars), nil
}

var variable = regexp.MustCompile(`\{\{\s*([a-z_.]+)\s*\}\}`)

// Fill replaces each {{name}} (spaces inside the braces allowed) of vars in text by its value;
// a name vars lacks stays as written, so a typo shows rather than vanishes.
func Fill(text string, vars map[string]string) string {
	return variable.ReplaceAllStringFunc(text, func(m string) string {
		if v, ok := vars[variable.FindStringSubmatch(m)[1]]; ok {
			return v
		}
		return m
	})
}
