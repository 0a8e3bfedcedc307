package channel

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/errkind"
)

// RoutingMode is how a channel's new conversations find an agent.
type RoutingMode string

// The routing modes.
const (
	// RoutingManual gives the conversation the team and leaves it in the team's queue.
	RoutingManual RoutingMode = "manual"
	// RoutingRoundRobin assigns the eligible member routed least recently.
	RoutingRoundRobin RoutingMode = "round_robin"
	// RoutingLeastOpen assigns the eligible member with the fewest open conversations, ties
	// going to the one routed least recently.
	RoutingLeastOpen RoutingMode = "least_open"
)

// MaxOpenCap is the highest max_open_per_agent: more is no cap in practice, and the column is
// an integer.
const MaxOpenCap = 10000

// RoutingModes lists the modes, in a stable order.
var RoutingModes = []RoutingMode{RoutingManual, RoutingRoundRobin, RoutingLeastOpen}

// Routing is a channel's routing: which team its new and customer-reopened unassigned
// conversations go to, and how a member is picked. No team: no routing.
type Routing struct {
	TeamID *uuid.UUID
	Mode   RoutingMode
	// MaxOpenPerAgent caps the open conversations assigned to a member (all of theirs, not
	// only this team's) for routing to give them one more; nil: no cap.
	MaxOpenPerAgent *int
}

// RoutingPatch replaces a channel's routing as a whole: no team turns routing off.
type RoutingPatch struct {
	TeamID          *uuid.UUID
	Mode            string
	MaxOpenPerAgent *int
}

// apply validates p onto r. Whether the team is one of the workspace's the store answers
// (ErrRoutingTeamUnknown), under the channel's lock.
func (p RoutingPatch) apply(r *Routing, errs *errkind.Fields) {
	next := Routing{TeamID: p.TeamID, Mode: RoutingMode(p.Mode), MaxOpenPerAgent: p.MaxOpenPerAgent}
	if next.Mode == "" {
		next.Mode = RoutingManual
	}
	bad := false
	if !slices.Contains(RoutingModes, next.Mode) {
		errs.Add("routing.mode", "must be one of manual, round_robin, least_open")
		bad = true
	}
	if n := p.MaxOpenPerAgent; n != nil && (*n < 1 || *n > MaxOpenCap) {
		errs.Add("routing.max_open_per_agent", fmt.Sprintf("must be 1 to %d (null: no cap)", MaxOpenCap))
		bad = true
	}
	if !bad {
		*r = next
	}
}

// ErrRoutingTeamUnknown answers a routing team that is no team of the channel's workspace.
var ErrRoutingTeamUnknown = errkind.Invalid(errkind.Field{Field: "routing.team_id", Message: "must be a team of this workspace"})

// Candidate is a team member routing may pick: online, with how many open conversations are
// assigned to them and when routing last picked them in this team (nil: never).
type Candidate struct {
	UserID       uuid.UUID
	Open         int
	LastRoutedAt *time.Time
}

// Pick chooses the member a conversation goes to among the team's online members, or false
// when every one is at the cap (or there is none). round_robin takes the member routed least
// recently (never routed first); least_open the one with the fewest open conversations, then
// the one routed least recently; ties by user id, so the choice is the same on every process.
// manual picks no one.
func (r Routing) Pick(members []Candidate) (uuid.UUID, bool) {
	if r.Mode != RoutingRoundRobin && r.Mode != RoutingLeastOpen {
		return uuid.Nil, false
	}
	eligible := slices.DeleteFunc(slices.Clone(members), func(c Candidate) bool {
		return r.MaxOpenPerAgent != nil && c.Open >= *r.MaxOpenPerAgent
	})
	if len(eligible) == 0 {
		return uuid.Nil, false
	}
	best := slices.MinFunc(eligible, func(a, b Candidate) int {
		if r.Mode == RoutingLeastOpen && a.Open != b.Open {
			return a.Open - b.Open
		}
		if c := compareRouted(a.LastRoutedAt, b.LastRoutedAt); c != 0 {
			return c
		}
		return slices.Compare(a.UserID[:], b.UserID[:])
	})
	return best.UserID, true
}

// compareRouted orders never-routed first, then earlier before later.
func compareRouted(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(*b)
}

// Team is what routing reads of a team under its lock: its online members, and when it last
// routed a conversation (nil: never).
type Team struct {
	Online       []Candidate
	LastRoutedAt *time.Time
}

// RoutedAt is the instant a routing at now records: now, or just after the team's previous
// routing when that is not before now. Strictly increasing per team, so round robin's order
// holds even when two routings share a clock reading (or a test's clock stands still).
func (t Team) RoutedAt(now time.Time) time.Time {
	if t.LastRoutedAt != nil && !now.After(*t.LastRoutedAt) {
		return t.LastRoutedAt.Add(time.Microsecond)
	}
	return now
}
