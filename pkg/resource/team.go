package resource

import (
	"time"

	"github.com/switchboard/switchboard/pkg/channel"
	"github.com/switchboard/switchboard/pkg/team"
)

// Team is a workspace's team: the users routing may give its conversations to.
type Team struct {
	ID string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f80"`
	// Name is unique in the workspace without regard to case.
	Name string `json:"name" minLength:"1" maxLength:"100" example:"Billing"`
	// MemberIDs are the members' user ids, ascending.
	MemberIDs []string  `json:"member_ids" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	CreatedAt time.Time `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt time.Time `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Team

// TeamList is a page of the workspace's teams, by name.
type TeamList struct {
	Data       []Team  `json:"data"`
	NextCursor *string `json:"next_cursor" extensions:"x-nullable" example:"eyJuIjoiQmlsbGluZyJ9"`
} // @name TeamList

// ConversationTeam is a conversation's team as its rows carry it.
type ConversationTeam struct {
	ID   string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f80"`
	Name string `json:"name" example:"Billing"`
} // @name ConversationTeam

// ChannelRouting is where a channel's new and customer-reopened unassigned conversations go.
type ChannelRouting struct {
	// TeamID is the team they go to; null: no routing.
	TeamID *string `json:"team_id" extensions:"x-nullable" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f80"`
	// Mode: manual puts them in the team's unassigned queue; round_robin assigns the online
	// member under the cap routed least recently; least_open the online member under the cap
	// with the fewest open conversations (ties: routed least recently).
	Mode string `json:"mode" enums:"manual,round_robin,least_open" example:"round_robin"`
	// MaxOpenPerAgent: routing gives no member more than this many open assigned
	// conversations (counting all of theirs); null: no cap.
	MaxOpenPerAgent *int `json:"max_open_per_agent" extensions:"x-nullable" minimum:"1" maximum:"10000" example:"5"`
} // @name ChannelRouting

// ToTeam is t as the API writes it.
func ToTeam(t team.Team) Team {
	ids := make([]string, len(t.MemberIDs))
	for i, id := range t.MemberIDs {
		ids[i] = id.String()
	}
	return Team{ID: t.ID.String(), Name: t.Name, MemberIDs: ids, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

// ToChannelRouting is r as the API writes it.
func ToChannelRouting(r channel.Routing) ChannelRouting {
	return ChannelRouting{TeamID: optID(r.TeamID), Mode: string(r.Mode), MaxOpenPerAgent: r.MaxOpenPerAgent}
}
