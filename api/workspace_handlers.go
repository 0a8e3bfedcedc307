package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/resource"
	"github.com/switchboard/switchboard/pkg/workspace"
)

type workspaceHandler struct {
	workspaces *workspace.Service
}

type updateWorkspaceSettings struct {
	UnassignOnClose     *bool `json:"unassign_on_close" example:"true"`
	ClosingNoteRequired *bool `json:"closing_note_required" example:"true"`
	// ClosingNoteCategories are at most 50 distinct categories of 1 to 100 characters.
	ClosingNoteCategories *[]string `json:"closing_note_categories" validate:"max=50,unique" minLength:"1" maxLength:"100" extensions:"x-pattern=notBlank" example:"resolved,spam"`
	// DefaultPhoneRegion is an ISO 3166-1 alpha-2 region with a phone numbering plan (the
	// regions of the phone library, any case): national phone numbers are read in it.
	DefaultPhoneRegion *string `json:"default_phone_region" extensions:"x-pattern=^\\s*([Aa][CDEFGILMORSTUWXZcdefgilmorstuwxz]|[Bb][ABDEFGHIJLMNOQRSTWYZabdefghijlmnoqrstwyz]|[Cc][ACDFGHIKLMNORUVWXYZacdfghiklmnoruvwxyz]|[Dd][EJKMOZejkmoz]|[Ee][CEGHRSTceghrst]|[Ff][IJKMORijkmor]|[Gg][ABDEFGHILMNPQRTUWYabdefghilmnpqrtuwy]|[Hh][KNRTUknrtu]|[Ii][DELMNOQRSTdelmnoqrst]|[Jj][EMOPemop]|[Kk][EGHIMNPRWYZeghimnprwyz]|[Ll][ABCIKRSTUVYabcikrstuvy]|[Mm][ACDEFGHKLMNOPQRSTUVWXYZacdefghklmnopqrstuvwxyz]|[Nn][ACEFGILOPRUZacefgilopruz]|[Oo][Mm]|[Pp][AEFGHKLMRSTWYaefghklmrstwy]|[Qq][Aa]|[Rr][EOSUWeosuw]|[Ss][ABCDEGHIJKLMNORSTVXYZabcdeghijklmnorstvxyz]|[Tt][ACDGHJKLMNORTVWZacdghjklmnortvwz]|[Uu][AGSYZagsyz]|[Vv][ACEGINUaceginu]|[Ww][FSfs]|[Xx][Kk]|[Yy][ETet]|[Zz][AMWamw])\\s*$" example:"GB"`
	// WindowClosingMinutes is how long before a reply window closes it counts as closing
	// (window=closing, the window.expiring event): 1 to 1440. A change moves the pending
	// window.expiring alerts to the new lead.
	WindowClosingMinutes *int `json:"window_closing_minutes" minimum:"1" maximum:"1440" example:"30"`
	// AuditRetentionDays is how long the audit log keeps an entry: 1 to 3650 days.
	AuditRetentionDays *int `json:"audit_retention_days" minimum:"1" maximum:"3650" example:"365"`
} // @name UpdateWorkspaceSettingsRequest

type updateWorkspaceRequest struct {
	Name     *string                  `json:"name" minLength:"1" maxLength:"200" extensions:"x-pattern=notBlank" example:"Acme Support EU"`
	Settings *updateWorkspaceSettings `json:"settings"`
} // @name UpdateWorkspaceRequest

// get godoc
// @Summary     Get the workspace
// @ID          getWorkspace
// @Description The caller's workspace with its settings.
// @Tags        workspace
// @Produce     json
// @Security    BearerAuth
// @Success     200 {object} resource.Workspace
// @Failure     401 {object} Problem
// @Router      /v1/workspace [get]
func (h *workspaceHandler) get(c echo.Context) error {
	w, err := h.workspaces.Get(c.Request().Context(), principal(c).WorkspaceID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToWorkspace(w))
}

// update godoc
// @Summary     Update the workspace
// @ID          updateWorkspace
// @Description Changes the name and settings; absent fields stay as they are. What changed is recorded in the audit log (workspace.settings_changed). Owners, managers and admin keys.
// @Tags        workspace
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body updateWorkspaceRequest true "Changes"
// @Success     200 {object} resource.Workspace
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem
// @Router      /v1/workspace [patch]
func (h *workspaceHandler) update(c echo.Context) error {
	var req updateWorkspaceRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	p := workspace.Patch{Name: req.Name}
	if s := req.Settings; s != nil {
		p.UnassignOnClose, p.ClosingNoteRequired, p.ClosingNoteCategories, p.DefaultPhoneRegion, p.WindowClosingMinutes =
			s.UnassignOnClose, s.ClosingNoteRequired, s.ClosingNoteCategories, s.DefaultPhoneRegion, s.WindowClosingMinutes
		p.AuditRetentionDays = s.AuditRetentionDays
	}
	w, err := h.workspaces.Update(c.Request().Context(), principal(c).WorkspaceID, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToWorkspace(w))
}
