package resource

import (
	"time"

	"github.com/switchboard/switchboard/pkg/audit"
)

// AuditActor is who made a change.
type AuditActor struct {
	// Kind is user or api_key; system for what no request did, anonymous for a failed login.
	Kind string  `json:"kind" enums:"user,api_key,system,anonymous" example:"user"`
	ID   *string `json:"id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
} // @name AuditActor

// AuditResource is what a change was made to.
type AuditResource struct {
	Type string  `json:"type" example:"channel"`
	ID   *string `json:"id" extensions:"x-nullable" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
} // @name AuditResource

// AuditChange is one field's value before and after the change (null: none). A secret's is
// "changed" (it had a value) or null, never the value.
type AuditChange struct {
	Before any `json:"before" swaggertype:"string" extensions:"x-any,x-nullable" example:"Support"`
	After  any `json:"after" swaggertype:"string" extensions:"x-any,x-nullable" example:"Support EU"`
} // @name AuditChange

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID     string     `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	Action string     `json:"action" example:"channel.updated"`
	Actor  AuditActor `json:"actor"`
	// ClientIP is the client's address (X-Forwarded-For only from TRUSTED_PROXIES); null for
	// what no request did.
	ClientIP  *string                `json:"client_ip" extensions:"x-nullable" example:"203.0.113.7"`
	UserAgent string                 `json:"user_agent" example:"curl/8.5.0"`
	Resource  AuditResource          `json:"resource"`
	Changes   map[string]AuditChange `json:"changes"`
	CreatedAt time.Time              `json:"created_at" format:"date-time" example:"2026-12-05T10:00:00Z"`
} // @name AuditEntry

// AuditLog is a page of the audit log.
type AuditLog struct {
	Data       []AuditEntry `json:"data"`
	NextCursor *string      `json:"next_cursor" extensions:"x-nullable"`
} // @name AuditLog

// ToAuditEntry is e as the API shows it.
func ToAuditEntry(e audit.Entry) AuditEntry {
	out := AuditEntry{ID: e.ID.String(), Action: e.Action, Actor: AuditActor{Kind: e.Actor.Kind},
		UserAgent: e.UserAgent, Resource: AuditResource{Type: e.Resource.Type}, Changes: map[string]AuditChange{},
		CreatedAt: e.CreatedAt}
	if e.Actor.ID != nil {
		s := e.Actor.ID.String()
		out.Actor.ID = &s
	}
	if e.Resource.ID != nil {
		s := e.Resource.ID.String()
		out.Resource.ID = &s
	}
	if e.ClientIP != "" {
		ip := e.ClientIP
		out.ClientIP = &ip
	}
	for k, c := range e.Changes {
		out.Changes[k] = AuditChange{Before: c.Before, After: c.After}
	}
	return out
}
