package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/workspace"
)

type workspaceHandler struct {
	workspaces *workspace.Service
}

type workspaceSettings struct {
	// UnassignOnClose unassigns a conversation's agent when it is closed.
	UnassignOnClose bool `json:"unassign_on_close" example:"true"`
	// ClosingNoteRequired makes a category mandatory when closing.
	ClosingNoteRequired bool `json:"closing_note_required" example:"false"`
	// ClosingNoteCategories, when not empty, are the only categories a closing note may use.
	ClosingNoteCategories []string `json:"closing_note_categories" example:"resolved,spam,no_response"`
	// DefaultPhoneRegion parses national phone numbers (ISO 3166-1 alpha-2).
	DefaultPhoneRegion string `json:"default_phone_region" example:"US"`
} // @name WorkspaceSettings

type workspaceResponse struct {
	ID        string            `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	Name      string            `json:"name" example:"Acme Support"`
	Settings  workspaceSettings `json:"settings"`
	CreatedAt time.Time         `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt time.Time         `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Workspace

type updateWorkspaceSettings struct {
	UnassignOnClose       *bool     `json:"unassign_on_close" example:"true"`
	ClosingNoteRequired   *bool     `json:"closing_note_required" example:"true"`
	ClosingNoteCategories *[]string `json:"closing_note_categories" example:"resolved,spam"`
	DefaultPhoneRegion    *string   `json:"default_phone_region" example:"GB"`
} // @name UpdateWorkspaceSettingsRequest

type updateWorkspaceRequest struct {
	Name     *string                  `json:"name" example:"Acme Support EU"`
	Settings *updateWorkspaceSettings `json:"settings"`
} // @name UpdateWorkspaceRequest

func toWorkspaceResponse(w workspace.Workspace) workspaceResponse {
	cats := w.Settings.ClosingNoteCategories
	if cats == nil {
		cats = []string{}
	}
	return workspaceResponse{ID: w.ID.String(), Name: w.Name, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
		Settings: workspaceSettings{UnassignOnClose: w.Settings.UnassignOnClose, ClosingNoteRequired: w.Settings.ClosingNoteRequired,
			ClosingNoteCategories: cats, DefaultPhoneRegion: w.Settings.DefaultPhoneRegion}}
}

// get godoc
// @Summary     Get the workspace
// @Description The caller's workspace with its settings.
// @Tags        workspace
// @Produce     json
// @Security    BearerAuth
// @Success     200 {object} workspaceResponse
// @Failure     401 {object} Problem
// @Router      /v1/workspace [get]
func (h *workspaceHandler) get(c echo.Context) error {
	w, err := h.workspaces.Get(c.Request().Context(), principal(c).WorkspaceID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWorkspaceResponse(w))
}

// update godoc
// @Summary     Update the workspace
// @Description Changes the name and settings; absent fields stay as they are. Owners, managers and admin keys.
// @Tags        workspace
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body updateWorkspaceRequest true "Changes"
// @Success     200 {object} workspaceResponse
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     422 {object} Problem
// @Router      /v1/workspace [patch]
func (h *workspaceHandler) update(c echo.Context) error {
	var req updateWorkspaceRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	p := workspace.Patch{Name: req.Name}
	if s := req.Settings; s != nil {
		p.UnassignOnClose, p.ClosingNoteRequired, p.ClosingNoteCategories, p.DefaultPhoneRegion =
			s.UnassignOnClose, s.ClosingNoteRequired, s.ClosingNoteCategories, s.DefaultPhoneRegion
	}
	w, err := h.workspaces.Update(c.Request().Context(), principal(c).WorkspaceID, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWorkspaceResponse(w))
}
