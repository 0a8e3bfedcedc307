package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/resource"
	"github.com/switchboard/switchboard/pkg/team"
	"github.com/switchboard/switchboard/pkg/workspace"
)

type teamHandler struct {
	teams         *team.Service
	conversations *conversation.Service
	workspaces    *workspace.Service
}

// createTeamRequest creates a team.
type createTeamRequest struct {
	// Name is 1 to 100 characters once surrounding spaces are trimmed, unique in the workspace
	// without regard to case.
	Name string `json:"name" validate:"required" minLength:"1" maxLength:"100" extensions:"x-pattern=notBlank" example:"Billing"`
} // @name CreateTeamRequest

// updateTeamRequest renames a team; an absent name stays.
type updateTeamRequest struct {
	// Name is 1 to 100 characters once surrounding spaces are trimmed, unique in the workspace
	// without regard to case.
	Name *string `json:"name" minLength:"1" maxLength:"100" extensions:"x-pattern=notBlank" example:"Billing EU"`
} // @name UpdateTeamRequest

// setTeamMembersRequest replaces a team's members.
type setTeamMembersRequest struct {
	// UserIDs are users of this workspace: at most 500 distinct ids (a repeated id counts
	// once); [] empties the team. Required.
	UserIDs []string `json:"user_ids" validate:"required,max=500" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
} // @name SetTeamMembersRequest

// setConversationTeamRequest puts a conversation in a team, or takes it out.
type setConversationTeamRequest struct {
	// TeamID is a team of this workspace, or null to take the conversation out of its team.
	// Required.
	TeamID json.RawMessage `json:"team_id" validate:"required" format:"uuid" swaggertype:"string" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f80"`
} // @name SetConversationTeamRequest

// setAvailabilityRequest sets the caller's availability.
type setAvailabilityRequest struct {
	// Availability: routing gives new conversations only to online users.
	Availability string `json:"availability" validate:"required" enums:"online,away,offline" example:"online"`
} // @name SetAvailabilityRequest

// list godoc
// @Summary     List teams
// @ID          listTeams
// @Description The workspace's teams by name, without regard to case, each with its members' ids.
// @Tags        teams
// @Produce     json
// @Security    BearerAuth
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} resource.TeamList
// @Failure     400 {object} Problem "invalid_parameter, invalid_cursor"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/teams [get]
func (h *teamHandler) list(c echo.Context) error {
	data, next, err := listPage(c, h.teams.List, resource.ToTeam)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.TeamList{Data: data, NextCursor: next})
}

// create godoc
// @Summary     Create a team
// @ID          createTeam
// @Description Adds a team, without members (PUT /v1/teams/{id}/members sets them). A name the workspace already has, in any case, answers 409 team_exists with existing_id. Owners, managers and admin keys.
// @Tags        teams
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body createTeamRequest true "Team"
// @Success     201 {object} resource.Team
// @Header      201 {string} Location "The team's URL"
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     409 {object} Problem "team_exists"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/teams [post]
func (h *teamHandler) create(c echo.Context) error {
	var req createTeamRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	t, err := h.teams.Create(c.Request().Context(), principal(c).WorkspaceID, req.Name)
	if err != nil {
		return err
	}
	return created(c, "/v1/teams/"+t.ID.String(), resource.ToTeam(t))
}

// get godoc
// @Summary     Get a team
// @ID          getTeam
// @Description One team with its members' ids.
// @Tags        teams
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Team id"
// @Success     200 {object} resource.Team
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "team_not_found"
// @Router      /v1/teams/{id} [get]
func (h *teamHandler) get(c echo.Context) error {
	return getByID(c, team.ErrNotFound, h.teams.Get, resource.ToTeam)
}

// update godoc
// @Summary     Rename a team
// @ID          updateTeam
// @Description Renames a team; an absent name stays. A name another team has, in any case, answers 409 team_exists with existing_id. Owners, managers and admin keys.
// @Tags        teams
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string            true "Team id"
// @Param       body body updateTeamRequest true "Changes"
// @Success     200 {object} resource.Team
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "team_not_found"
// @Failure     409 {object} Problem "team_exists"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/teams/{id} [patch]
func (h *teamHandler) update(c echo.Context) error {
	var req updateTeamRequest
	id, err := bindByID(c, team.ErrNotFound, &req)
	if err != nil {
		return err
	}
	t, err := h.teams.Rename(c.Request().Context(), principal(c).WorkspaceID, id, req.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToTeam(t))
}

// delete godoc
// @Summary     Delete a team
// @ID          deleteTeam
// @Description Deletes the team: its conversations lose their team (they keep their assignees; no conversation.team_changed is published for them) and the channels that routed to it stop routing (routing.team_id null). Owners, managers and admin keys.
// @Tags        teams
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Team id"
// @Success     204
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "team_not_found"
// @Router      /v1/teams/{id} [delete]
func (h *teamHandler) delete(c echo.Context) error {
	return deleteByID(c, team.ErrNotFound, h.teams.Delete)
}

// setMembers godoc
// @Summary     Set a team's members
// @ID          setTeamMembers
// @Description Replaces the team's members with user_ids (a repeated id counts once; [] empties the team). An id that is no user of this workspace (another workspace's user included) answers 422 naming it (user_ids[i]), and nothing changes. Members who stay keep their place in round robin. Owners, managers and admin keys.
// @Tags        teams
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string                true "Team id"
// @Param       body body setTeamMembersRequest true "Members"
// @Success     200 {object} resource.Team
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "team_not_found"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/teams/{id}/members [put]
func (h *teamHandler) setMembers(c echo.Context) error {
	var req setTeamMembersRequest
	id, err := bindByID(c, team.ErrNotFound, &req)
	if err != nil {
		return err
	}
	if req.UserIDs == nil {
		return errkind.Invalid(errkind.Field{Field: "user_ids", Message: "is required: the members' user ids, or [] to empty the team"})
	}
	if len(req.UserIDs) > team.MaxMembers {
		return errkind.Invalid(errkind.Field{Field: "user_ids", Message: "a team holds at most " + strconv.Itoa(team.MaxMembers) + " users"})
	}
	ids := make([]uuid.UUID, len(req.UserIDs))
	var errs errkind.Fields
	for i, s := range req.UserIDs {
		if ids[i], err = uuid.Parse(s); err != nil && len(errs) < 20 {
			errs.Add("user_ids["+strconv.Itoa(i)+"]", "must be a user id")
		}
	}
	if err := errs.Err(); err != nil {
		return err
	}
	t, err := h.teams.SetMembers(c.Request().Context(), principal(c).WorkspaceID, id, ids)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToTeam(t))
}

// setConversation godoc
// @Summary     Set a conversation's team
// @ID          setConversationTeam
// @Description Puts the conversation in a team of this workspace ({"team_id": "..."}) or takes it out of its team ({"team_id": null}); its assignee stays. While unassigned it is in the team's queue: GET /v1/conversations?team_id=...&inbox=unassigned. A team_id that is no team of this workspace (another workspace's included) answers 422. A change moves updated_at and publishes conversation.team_changed; the same team again changes nothing. Agents may move any conversation they can see.
// @Tags        conversations
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string                     true "Conversation id"
// @Param       body body setConversationTeamRequest true "Team"
// @Success     200 {object} resource.Conversation
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem "conversation_not_found"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/conversations/{id}/team [put]
func (h *teamHandler) setConversation(c echo.Context) error {
	var req setConversationTeamRequest
	id, err := bindByID(c, conversation.ErrNotFound, &req)
	if err != nil {
		return err
	}
	var to *uuid.UUID
	switch raw := bytes.TrimSpace(req.TeamID); {
	case len(raw) == 0:
		return errkind.Invalid(errkind.Field{Field: "team_id", Message: "is required: a team id, or null to take the conversation out of its team"})
	case string(raw) == "null":
	default:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return errkind.Invalid(errkind.Field{Field: "team_id", Message: "must be a team id or null"})
		}
		t, err := uuidField("team_id", s)
		if err != nil {
			return err
		}
		to = &t
	}
	v, err := h.conversations.SetTeam(c.Request().Context(), principal(c).WorkspaceID, id, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conversationFor(principal(c), resource.ToConversation(v)))
}

// setAvailability godoc
// @Summary     Set my availability
// @ID          setMyAvailability
// @Description Sets the calling user's availability: routing (a channel's routing, round_robin or least_open) gives new and customer-reopened conversations only to online members of the channel's team. Going away or offline does not take anyone's conversations away: those assigned to the user stay theirs until someone reassigns them (a manager can move many at once with POST /v1/conversations/bulk). Users only: an API key has no availability and gets 403 user_required. A new user is offline.
// @Tags        auth
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body setAvailabilityRequest true "Availability"
// @Success     200 {object} resource.User
// @Failure     400 {object} Problem "invalid_json, invalid_type, unknown_field"
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem "user_required"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed"
// @Router      /v1/me/availability [put]
func (h *teamHandler) setAvailability(c echo.Context) error {
	var req setAvailabilityRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	p := principal(c)
	if !p.IsUser() {
		return errUserRequired.Detailf("Availability is a person's: an API key has none.")
	}
	u, err := h.workspaces.SetAvailability(c.Request().Context(), p.WorkspaceID, p.UserID, workspace.Availability(req.Availability))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToUser(u))
}
