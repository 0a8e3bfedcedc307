package conversation

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/channel"
)

// TeamReader locks a team for routing and reads its online members (channel.Team); false
// when the team no longer exists. The store answers it inside the ingestion transaction.
type TeamReader func(ctx context.Context, teamID uuid.UUID) (channel.Team, bool, error)

// Routed is a routing's outcome for the store to record: the member picked and the instant
// it records on them and on the team.
type Routed struct {
	TeamID uuid.UUID
	UserID uuid.UUID
	At     time.Time
}

// route applies the channel's routing to a conversation an inbound message has just been
// recorded on, on the conversation as locked: a conversation that is new (this is its first
// incoming message) or that this message reopened, open and unassigned, gets the channel's
// team and, unless the mode is manual, the member r.Pick chooses, assigned by the system. It
// reads the team only when it routes, so a channel without routing (or a conversation that
// needs none) takes no team lock. With no eligible member it stays in the team's queue.
func (c *Conversation) route(ctx context.Context, r channel.Routing, events []Event, read TeamReader, now time.Time) ([]Event, *Routed, error) {
	if r.TeamID == nil || c.Status != StatusOpen || c.AssigneeID != nil {
		return nil, nil, nil
	}
	reopened := slices.ContainsFunc(events, func(e Event) bool { return e.Type == EventReopened })
	if c.IncomingCount != 1 && !reopened {
		return nil, nil, nil
	}
	team, ok, err := read(ctx, *r.TeamID)
	if err != nil || !ok {
		// A team deleted since the channel was read routes nothing.
		return nil, nil, err
	}
	id := *r.TeamID
	if c.TeamID == nil || *c.TeamID != id {
		c.TeamID, c.Team = &id, nil // the name is read back with the row
		c.UpdatedAt = now
	}
	user, ok := r.Pick(team.Online)
	if !ok {
		return nil, nil, nil
	}
	return c.Assign(&user, Actor{Kind: ActorSystem}, now), &Routed{TeamID: id, UserID: user, At: team.RoutedAt(now)}, nil
}

// SetTeam puts the conversation in a team (a team of the workspace: another's, or an unknown
// id, is ErrUnknownTeam) or takes it out of its team (nil). Its assignee stays. A change
// publishes conversation.team_changed; the same team again changes nothing.
func (s *Service) SetTeam(ctx context.Context, ws, id uuid.UUID, teamID *uuid.UUID) (Conversation, error) {
	return s.decided(s.store.SetConversationTeam(ctx, ws, id, func(c *Conversation) bool {
		if (c.TeamID == nil && teamID == nil) || (c.TeamID != nil && teamID != nil && *c.TeamID == *teamID) {
			return false
		}
		c.TeamID, c.Team = teamID, nil
		c.UpdatedAt = s.clock()
		return true
	}))
}
