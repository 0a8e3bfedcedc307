package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/resource"
)

type apiKeyHandler struct {
	auth *auth.Service
}

type createAPIKeyRequest struct {
	Name string `json:"name" validate:"required" minLength:"1" maxLength:"100" extensions:"x-pattern=notBlank" example:"CRM sync"`
	// Scopes default to, and may not exceed, the creator's.
	Scopes []string `json:"scopes" validate:"min=1" enums:"contacts:read,contacts:write,conversations:read,conversations:write,messages:send,admin" example:"contacts:read,contacts:write"`
	// RateLimitPerMinute is the key's own budget of requests a minute, at most the server's
	// RATE_LIMIT_PER_MINUTE (1200 unless the server sets another; above it: 422). Without it
	// the key has the server's budget.
	RateLimitPerMinute *int `json:"rate_limit_per_minute" minimum:"1" maximum:"1200" extensions:"x-nullable" example:"600"`
} // @name CreateAPIKeyRequest

// list godoc
// @Summary     List API keys
// @ID          listAPIKeys
// @Description The workspace's live keys, oldest first. Secrets are never shown again. Needs the admin scope (owners, managers).
// @Tags        api-keys
// @Produce     json
// @Security    BearerAuth
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page's next_cursor"
// @Success     200 {object} resource.APIKeyList
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/api-keys [get]
func (h *apiKeyHandler) list(c echo.Context) error {
	data, next, err := listPage(c, h.auth.Keys, resource.ToAPIKey)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, resource.APIKeyList{Data: data, NextCursor: next})
}

// create godoc
// @Summary     Create an API key
// @ID          createAPIKey
// @Description Creates a workspace key for integrations and scripts. The secret `key` is in this answer only; it is stored hashed. Scopes: contacts:read, contacts:write, conversations:read, conversations:write, messages:send, admin.
// @Tags        api-keys
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body createAPIKeyRequest true "Key"
// @Success     201 {object} resource.CreatedAPIKey
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem "forbidden or scope_exceeds_creator"
// @Failure     413 {object} Problem
// @Failure     422 {object} Problem
// @Router      /v1/api-keys [post]
func (h *apiKeyHandler) create(c echo.Context) error {
	var req createAPIKeyRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	k, secret, err := h.auth.CreateKey(c.Request().Context(), principal(c),
		auth.NewKey{Name: req.Name, Scopes: req.Scopes, RateLimitPerMinute: req.RateLimitPerMinute})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, resource.CreatedAPIKey{APIKey: resource.ToAPIKey(k), Key: secret})
}

// revoke godoc
// @Summary     Revoke an API key
// @ID          revokeAPIKey
// @Description Requests with the key get 401 from now on.
// @Tags        api-keys
// @Produce     json
// @Security    BearerAuth
// @Param       id path string true "Key id"
// @Success     204
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Failure     404 {object} Problem
// @Router      /v1/api-keys/{id} [delete]
func (h *apiKeyHandler) revoke(c echo.Context) error {
	return deleteByID(c, auth.ErrKeyNotFound, h.auth.RevokeKey)
}
