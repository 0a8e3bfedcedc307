// Package team provides a workspace's teams: named sets of users that conversations belong to
// (their queue while unassigned) and that channels route new conversations to
// (channel.Routing).
package team

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
)

// Team is a workspace's team. Its name is unique in the workspace without regard to case.
type Team struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	Name        string
	// MemberIDs are the members' user ids, ascending; filled on reads.
	MemberIDs []uuid.UUID
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limits.
const (
	// MaxName is the longest name, in characters, once trimmed.
	MaxName = 100
	// MaxMembers is how many users one team holds.
	MaxMembers = 500
)

// Errors of this package.
var (
	ErrNotFound = errkind.New(errkind.KindNotFound, "team_not_found", "No such team in this workspace.")
	ErrExists   = errkind.New(errkind.KindConflict, "team_exists", "The workspace already has a team with this name (without regard to case).")
)

// Store is what the team service needs from persistence.
type Store interface {
	// CreateTeam stores a team (without members); a name the workspace has is ErrExists.
	CreateTeam(ctx context.Context, t Team) error
	// Team reads one team with its members.
	Team(ctx context.Context, ws, id uuid.UUID) (Team, error)
	// Teams lists the workspace's teams by name, each with its members.
	Teams(ctx context.Context, ws uuid.UUID, p page.Request) ([]Team, string, error)
	// UpdateTeam locks a team, applies the change and saves it; a name another team has is
	// ErrExists.
	UpdateTeam(ctx context.Context, ws, id uuid.UUID, apply func(*Team) error) (Team, error)
	// DeleteTeam takes the team off its conversations and channels and deletes it.
	DeleteTeam(ctx context.Context, ws, id uuid.UUID) error
	// ReplaceTeamMembers locks the team, reads which of want are users of ws, lets decide
	// check them, and replaces the members with want, in one transaction.
	ReplaceTeamMembers(ctx context.Context, ws, id uuid.UUID, want []uuid.UUID, decide func(found []uuid.UUID) error, now time.Time) (Team, error)
}

// Service runs the team use cases.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService builds a Service.
func NewService(st Store, now func() time.Time) *Service { return &Service{store: st, now: now} }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// checkName trims a name and checks its length.
func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n < 1 || n > MaxName || !utf8.ValidString(name) {
		return "", errkind.Invalid(errkind.Field{Field: "name", Message: fmt.Sprintf("must be 1 to %d characters (surrounding spaces are trimmed)", MaxName)})
	}
	return name, nil
}

// Create adds a team, without members, to the workspace.
func (s *Service) Create(ctx context.Context, ws uuid.UUID, name string) (Team, error) {
	name, err := checkName(name)
	if err != nil {
		return Team{}, err
	}
	now := s.clock()
	t := Team{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), Name: name, MemberIDs: []uuid.UUID{}, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateTeam(ctx, t); err != nil {
		return Team{}, err
	}
	return t, nil
}

// Get returns one team with its members.
func (s *Service) Get(ctx context.Context, ws, id uuid.UUID) (Team, error) {
	return s.store.Team(ctx, ws, id)
}

// List returns a page of the workspace's teams by name.
func (s *Service) List(ctx context.Context, ws uuid.UUID, p page.Request) ([]Team, string, error) {
	return s.store.Teams(ctx, ws, p)
}

// Rename renames a team.
func (s *Service) Rename(ctx context.Context, ws, id uuid.UUID, name *string) (Team, error) {
	return s.store.UpdateTeam(ctx, ws, id, func(t *Team) error {
		if name == nil {
			return nil
		}
		n, err := checkName(*name)
		if err != nil {
			return err
		}
		t.Name, t.UpdatedAt = n, s.clock()
		return nil
	})
}

// Delete deletes a team: its conversations and the channels that route to it lose it (the
// conversations keep their assignees; the channels stop routing).
func (s *Service) Delete(ctx context.Context, ws, id uuid.UUID) error {
	return s.store.DeleteTeam(ctx, ws, id)
}

// SetMembers replaces the team's members with ids (a repeated id counts once; [] empties the
// team). Each must be a user of the workspace: another workspace's user, or an unknown id, is
// invalid, named by its first position in ids, and nothing changes. Routing's record of when
// it last picked a member who stays is kept.
func (s *Service) SetMembers(ctx context.Context, ws, id uuid.UUID, ids []uuid.UUID) (Team, error) {
	want := []uuid.UUID{} // never nil: pgx sends a nil slice as NULL
	for _, u := range ids {
		if !slices.Contains(want, u) {
			want = append(want, u)
		}
	}
	if len(want) > MaxMembers {
		return Team{}, errkind.Invalid(errkind.Field{Field: "user_ids", Message: fmt.Sprintf("a team holds at most %d users", MaxMembers)})
	}
	return s.store.ReplaceTeamMembers(ctx, ws, id, want, func(found []uuid.UUID) error {
		var errs errkind.Fields
		seen := map[uuid.UUID]bool{}
		for i, u := range ids {
			if seen[u] {
				continue
			}
			seen[u] = true
			if !slices.Contains(found, u) {
				errs.Add(fmt.Sprintf("user_ids[%d]", i), "is not a user of this workspace")
			}
		}
		return errs.Err()
	}, s.clock())
}
