package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchboard/switchboard/pkg/auth"
)

type apiKeyHandler struct {
	auth *auth.Service
}

type createAPIKeyRequest struct {
	Name string `json:"name" example:"CRM sync"`
	// Scopes default to, and may not exceed, the creator's.
	Scopes []string `json:"scopes" example:"contacts:read,contacts:write"`
} // @name CreateAPIKeyRequest

type apiKeyResponse struct {
	ID         string     `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f51"`
	Name       string     `json:"name" example:"CRM sync"`
	Prefix     string     `json:"prefix" example:"sbk_Xy12ab"`
	Scopes     []string   `json:"scopes" example:"contacts:read,contacts:write"`
	CreatedBy  *string    `json:"created_by" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	CreatedAt  time.Time  `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	LastUsedAt *time.Time `json:"last_used_at" extensions:"x-nullable" format:"date-time" example:"2026-11-29T09:30:00Z"`
} // @name APIKey

type createdAPIKeyResponse struct {
	apiKeyResponse
	// Key is the secret, shown only in this answer.
	Key string `json:"key" example:"sbk_Xy12abQWERTYUIOPasdfghjklzxcvbnm0123456789"`
} // @name CreatedAPIKey

type apiKeyList struct {
	Data       []apiKeyResponse `json:"data"`
	NextCursor *string          `json:"next_cursor" extensions:"x-nullable"`
} // @name APIKeyList

func toAPIKeyResponse(k auth.Key) apiKeyResponse {
	r := apiKeyResponse{ID: k.ID.String(), Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt}
	if k.CreatedBy != nil {
		s := k.CreatedBy.String()
		r.CreatedBy = &s
	}
	return r
}

// list godoc
// @Summary     List API keys
// @Description The workspace's live keys, oldest first. Secrets are never shown again. Needs the admin scope (owners, managers).
// @Tags        api-keys
// @Produce     json
// @Security    BearerAuth
// @Param       limit  query int    false "Page size (1-100)" default(25)
// @Param       cursor query string false "Cursor from the previous page's next_cursor"
// @Success     200 {object} apiKeyList
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem
// @Router      /v1/api-keys [get]
func (h *apiKeyHandler) list(c echo.Context) error {
	data, next, err := listPage(c, h.auth.Keys, toAPIKeyResponse)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, apiKeyList{Data: data, NextCursor: next})
}

// create godoc
// @Summary     Create an API key
// @Description Creates a workspace key for integrations and scripts. The secret `key` is in this answer only; it is stored hashed. Scopes: contacts:read, contacts:write, conversations:read, conversations:write, messages:send, admin.
// @Tags        api-keys
// @Accept      json
// @Produce     json
// @Security    BearerAuth
// @Param       body body createAPIKeyRequest true "Key"
// @Success     201 {object} createdAPIKeyResponse
// @Failure     400 {object} Problem
// @Failure     401 {object} Problem
// @Failure     403 {object} Problem "forbidden or scope_exceeds_creator"
// @Failure     422 {object} Problem
// @Router      /v1/api-keys [post]
func (h *apiKeyHandler) create(c echo.Context) error {
	var req createAPIKeyRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	k, secret, err := h.auth.CreateKey(c.Request().Context(), principal(c), req.Name, req.Scopes)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, createdAPIKeyResponse{apiKeyResponse: toAPIKeyResponse(k), Key: secret})
}

// revoke godoc
// @Summary     Revoke an API key
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
