package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/resource"
	"github.com/switchboard/switchboard/pkg/workspace"
)

type userHandler struct {
	workspaces *workspace.Service
}

type createUserRequest struct {
	Email    string `json:"email" validate:"required" format:"email" maxLength:"254" example:"ana@example.com"`
	Name     string `json:"name" maxLength:"200" example:"Ana Silva"`
	Password string `json:"password" validate:"required" minLength:"10" maxLength:"256" example:"a long passphrase"`
	Role     string `json:"role" validate:"required" enums:"owner,manager,agent" example:"agent"`
} // @name CreateUserRequest

type updateUserRequest struct {
	Name     *string `json:"name" maxLength:"200" example:"Ana Silva"`
	Role     *string `json:"role" enums:"owner,manager,agent" example:"manager"`
	Password *string `json:"password" minLength:"10" maxLength:"256" example:"another long passphrase"`
	// The caller's current password: required when a user changes their own password (wrong
	// ones count against the login throttle of their email).
	CurrentPassword *string `json:"current_password" example:"a long passphrase"`
} // @name UpdateUserRequest

func actor(c echo.Context) workspace.Actor {
	p := principal(c)
	if p.IsUser() {
		return workspace.Actor{Role: p.Role, UserID: p.UserID, SessionID: p.SessionID}
	}
	if p.Manages() {
		// An admin key acts as a manager: it manages agents, never owners, managers or passwords.
		return workspace.Actor{Role: workspace.RoleManager}
	}
	return workspace.Actor{} // any other key manages nobody
}

// list godoc
// @Summary     List users
// @ID          listUsers
// @Description Members of the workspace, oldest first.
// @Tags        users
// @Produce     json
// @Security    BearerAuth
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page"
// @Success     200 {object} resource.UserList
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Router      /v1/users [get]
func (h *userHandler) list(c echo.Context) error {
	data, next, err := listPage(c, h.workspaces.Users, resource.ToUser)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.UserList{Data: data, NextCursor: next})
}

// create godoc
// @Summary     Create a user
// @ID          createUser
// @Description Adds a member. Owners and managers (or admin keys) only; only an owner may create another owner. Passwords need at least 10 characters.
// @Tags        users
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body createUserRequest true "User"
// @Success     201 {object} resource.User
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     409 {object} Problem "email_taken"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem
// @Failure     503 {object} Problem "server_busy: the server's password hashes are saturated"
// @Header      503 {integer} Retry-After "Seconds to wait before trying again."
// @Router      /v1/users [post]
func (h *userHandler) create(c echo.Context) error {
	var req createUserRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	u, err := h.workspaces.CreateUser(c.Request().Context(), principal(c).WorkspaceID, actor(c),
		workspace.NewUser{Email: req.Email, Name: req.Name, Password: req.Password, Role: workspace.Role(req.Role)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, resource.ToUser(u))
}

// update godoc
// @Summary     Update a user
// @ID          updateUser
// @Description Changes name, role or password. Every user may change their own name and password (no admin scope needed for that).
// @Description Otherwise: an owner changes anyone; a manager, or an admin key (which acts as a manager), changes agents only (403 owner_only for an owner or another manager); an agent or another key changes nobody (403 forbidden).
// @Description Only the user themself or an owner sets a password (403 password_change_forbidden), and only owners grant or take the owner role (403 owner_only). The last owner cannot be demoted (409 last_owner).
// @Description A user changing their own password gives `current_password` (422 validation_failed when it is missing or wrong; wrong ones count against the login throttle of the user's email, 429 rate_limited past it). An owner resetting someone else's password does not.
// @Description A password change ends all the user's sessions at once (their access and refresh tokens answer 401), except the session that made the change when users change their own password.
// @Tags        users
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       id   path string            true "User id"
// @Param       body body updateUserRequest true "Changes"
// @Success     200 {object} resource.User
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem "forbidden, owner_only or password_change_forbidden"
// @Failure     404 {object} Problem
// @Failure     409 {object} Problem "last_owner"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "validation_failed (e.g. current_password missing or wrong)"
// @Failure     429 {object} Problem "rate_limited: too many wrong current passwords for this email"
// @Header      429 {integer} Retry-After "Seconds to wait before the next try."
// @Failure     503 {object} Problem "server_busy: the server's password hashes are saturated"
// @Header      503 {integer} Retry-After "Seconds to wait before trying again."
// @Router      /v1/users/{id} [patch]
func (h *userHandler) update(c echo.Context) error {
	var req updateUserRequest
	id, err := bindByID(c, workspace.ErrUserNotFound, &req)
	if err != nil {
		return err
	}
	p := workspace.UserPatch{Name: req.Name, Password: req.Password, CurrentPassword: req.CurrentPassword}
	if req.Role != nil {
		r := workspace.Role(*req.Role)
		p.Role = &r
	}
	u, err := h.workspaces.UpdateUser(c.Request().Context(), principal(c).WorkspaceID, id, actor(c), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToUser(u))
}

// delete godoc
// @Summary     Delete a user
// @ID          deleteUser
// @Description Removes a member; their conversations become unassigned and their sessions end. An owner removes anyone; a manager, or an admin key, removes agents only (403 owner_only for an owner or another manager); an owner or manager may remove themself. The last owner cannot be removed (409 last_owner).
// @Tags        users
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "User id"
// @Success     204
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem "forbidden or owner_only"
// @Failure     404 {object} Problem
// @Failure     409 {object} Problem "last_owner"
// @Router      /v1/users/{id} [delete]
func (h *userHandler) delete(c echo.Context) error {
	id, err := pathID(c, workspace.ErrUserNotFound)
	if err != nil {
		return err
	}
	if err := h.workspaces.DeleteUser(c.Request().Context(), principal(c).WorkspaceID, id, actor(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
