package resource

import (
	"time"

	"github.com/switchboard/switchboard/pkg/auth"
)

// APIKey is a workspace's API key, without its secret.
type APIKey struct {
	ID         string     `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f51"`
	Name       string     `json:"name" example:"CRM sync"`
	Prefix     string     `json:"prefix" example:"sbk_Xy12ab"`
	Scopes     []string   `json:"scopes" example:"contacts:read,contacts:write"`
	CreatedBy  *string    `json:"created_by" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	CreatedAt  time.Time  `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	LastUsedAt *time.Time `json:"last_used_at" extensions:"x-nullable" format:"date-time" example:"2026-11-29T09:30:00Z"`
	// RateLimitPerMinute is the key's own budget of requests a minute; null: the server's
	// (RATE_LIMIT_PER_MINUTE).
	RateLimitPerMinute *int `json:"rate_limit_per_minute" extensions:"x-nullable" minimum:"1" example:"600"`
} // @name APIKey

// CreatedAPIKey is a new API key with its secret, shown once.
type CreatedAPIKey struct {
	APIKey
	// Key is the secret, shown only in this answer.
	Key string `json:"key" example:"sbk_Xy12abQWERTYUIOPasdfghjklzxcvbnm0123456789"`
} // @name CreatedAPIKey

// APIKeyList is a page of API keys.
type APIKeyList struct {
	Data       []APIKey `json:"data"`
	NextCursor *string  `json:"next_cursor" extensions:"x-nullable"`
} // @name APIKeyList

// TokenResponse is a login's or a refresh's tokens.
type TokenResponse struct {
	AccessToken  string `json:"access_token" example:"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."`
	RefreshToken string `json:"refresh_token" example:"sbr_AZOlsHweHSqfAGsc..."`
	ExpiresIn    int    `json:"expires_in" example:"900"`
	TokenType    string `json:"token_type" example:"Bearer"`
} // @name TokenResponse

// Me is the caller: a user or an API key, with its workspace and scopes.
type Me struct {
	Kind        string   `json:"kind" enums:"user,api_key" example:"user"`
	WorkspaceID string   `json:"workspace_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	User        *User    `json:"user" extensions:"x-nullable"`
	APIKeyID    *string  `json:"api_key_id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f51"`
	Scopes      []string `json:"scopes" example:"contacts:read,contacts:write"`
} // @name Me

// ToAPIKey is k without its secret.
func ToAPIKey(k auth.Key) APIKey {
	r := APIKey{ID: k.ID.String(), Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt,
		RateLimitPerMinute: k.RateLimitPerMinute}
	if k.CreatedBy != nil {
		s := k.CreatedBy.String()
		r.CreatedBy = &s
	}
	return r
}

// ToTokenResponse is t as bearer tokens.
func ToTokenResponse(t auth.Tokens) TokenResponse {
	return TokenResponse{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, ExpiresIn: t.ExpiresIn, TokenType: "Bearer"}
}
