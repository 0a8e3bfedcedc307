package api

import (
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/resource"
	"github.com/switchboard/switchboard/pkg/workspace"
)

type authHandler struct {
	auth       *auth.Service
	workspaces *workspace.Service
}

type loginRequest struct {
	Email    string `json:"email" validate:"required" minLength:"1" example:"owner@example.com"`
	Password string `json:"password" validate:"required" minLength:"1" maxLength:"256" example:"correct horse battery"`
	// The workspace whose account logs in, for an email that is a member of several. Without
	// it a login tries the email's two most recently updated accounts, newest first.
	WorkspaceID *string `json:"workspace_id" format:"uuid" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
} // @name LoginRequest

type refreshRequest struct {
	RefreshToken string `json:"refresh_token" validate:"required" example:"sbr_AZOlsHweHSqfAGsc..."`
} // @name RefreshRequest

// login godoc
// @Summary     Log in
// @ID          login
// @Description Exchanges a user's email and password for a short-lived access token and a refresh token. An email may be a member of several workspaces: `workspace_id` names the account; without it the login tries the email's two most recently updated accounts, newest first, and the first the password matches logs in. Every login costs the same password hashing whatever its outcome.
// @Description Failed logins are throttled per email (at most 10 a minute by default) and per client address (at least 50): beyond them every login for that email or from that address, a right password's included, answers 429 `rate_limited` until the time in `Retry-After`. When the server's password checks are saturated a login waits a bounded time, then answers 503 `server_busy` with `Retry-After`.
// @Tags        auth
// @Accept      json
// @Produce     json
// @Param       body body loginRequest true "Credentials"
// @Success     200 {object} resource.TokenResponse
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem "invalid_credentials"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "invalid_character, validation_failed (a null body or field, or workspace_id is not an id)"
// @Failure     429 {object} Problem "rate_limited"
// @Header      429 {integer} Retry-After "Seconds to wait before the next login for this email or from this address."
// @Failure     503 {object} Problem "server_busy"
// @Header      503 {integer} Retry-After "Seconds to wait before trying again."
// @Router      /v1/auth/login [post]
func (h *authHandler) login(c echo.Context) error {
	var req loginRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	in := auth.LoginRequest{Email: req.Email, Password: req.Password}
	if req.WorkspaceID != nil {
		ws, err := uuidField("workspace_id", *req.WorkspaceID)
		if err != nil {
			return err
		}
		in.WorkspaceID = &ws
	}
	// RealIP is the connection's address unless TRUSTED_PROXIES names the proxy in front (see
	// New's IPExtractor), so a client cannot pick its own address with X-Forwarded-For.
	in.Client = clientAddr(c)
	t, err := h.auth.Login(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToTokenResponse(t))
}

// refresh godoc
// @Summary     Rotate a refresh token
// @ID          refreshSession
// @Description Answers new tokens; the presented refresh token stops working. Presenting a rotated token again revokes the whole session.
// @Tags        auth
// @Accept      json
// @Produce     json
// @Param       body body refreshRequest true "Refresh token"
// @Success     200 {object} resource.TokenResponse
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem "invalid_token or refresh_token_reused"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem "invalid_character, validation_failed (a null body or field)"
// @Router      /v1/auth/refresh [post]
func (h *authHandler) refresh(c echo.Context) error {
	var req refreshRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	t, err := h.auth.Refresh(c.Request().Context(), req.RefreshToken)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.ToTokenResponse(t))
}

// logout godoc
// @Summary     Log out
// @ID          logout
// @Description Revokes the caller's session: its access token and refresh tokens stop working at once.
// @Tags        auth
// @Produce     json
// @Security    BearerAuth
// @Success     204
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem "not_a_session (API keys cannot log out)"
// @Router      /v1/auth/logout [post]
func (h *authHandler) logout(c echo.Context) error {
	if err := h.auth.Logout(c.Request().Context(), principal(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// me godoc
// @Summary     Who am I
// @ID          getMe
// @Description The caller: a user (with role) or an API key, its workspace and scopes.
// @Tags        auth
// @Produce     json
// @Security    BearerAuth
// @Success     200 {object} resource.Me
// @Failure     401 {object} Problem
// @Router      /v1/me [get]
func (h *authHandler) me(c echo.Context) error {
	p := principal(c)
	out := resource.Me{Kind: p.Kind, WorkspaceID: p.WorkspaceID.String(), Scopes: p.Scopes}
	if p.IsUser() {
		u, err := h.workspaces.User(c.Request().Context(), p.WorkspaceID, p.UserID)
		if err != nil {
			return err
		}
		ur := resource.ToUser(u)
		out.User = &ur
	} else {
		id := p.KeyID.String()
		out.APIKeyID = &id
	}
	return c.JSON(http.StatusOK, out)
}

// clientAddr is the client's address for the login throttle: RealIP, or the connection's own
// address when RealIP is not an address, so that no client falls into a bucket shared with
// every other unparseable one.
func clientAddr(c echo.Context) netip.Addr {
	if a, err := netip.ParseAddr(c.RealIP()); err == nil {
		return a
	}
	ap, _ := netip.ParseAddrPort(c.Request().RemoteAddr)
	return ap.Addr()
}
