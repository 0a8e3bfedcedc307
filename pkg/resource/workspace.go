package resource

import (
	"time"

	"github.com/switchboard/switchboard/pkg/workspace"
)

// User is a member of the workspace.
type User struct {
	ID    string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	Email string `json:"email" example:"ana@example.com"`
	Name  string `json:"name" example:"Ana Silva"`
	Role  string `json:"role" enums:"owner,manager,agent" example:"agent"`
	// Availability: routing gives conversations only to online users. A new user is offline.
	Availability string    `json:"availability" enums:"online,away,offline" example:"online"`
	CreatedAt    time.Time `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt    time.Time `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name User

// UserList is a page of users.
type UserList struct {
	Data       []User  `json:"data"`
	NextCursor *string `json:"next_cursor" extensions:"x-nullable"`
} // @name UserList

// ToUser is u without its password.
func ToUser(u workspace.User) User {
	return User{ID: u.ID.String(), Email: u.Email, Name: u.Name, Role: string(u.Role), Availability: string(u.Availability), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// WorkspaceSettings are the workspace's inbox rules and phone region.
type WorkspaceSettings struct {
	// UnassignOnClose unassigns a conversation's agent when it is closed.
	UnassignOnClose bool `json:"unassign_on_close" example:"true"`
	// ClosingNoteRequired makes a category mandatory when closing.
	ClosingNoteRequired bool `json:"closing_note_required" example:"false"`
	// ClosingNoteCategories, when not empty, are the only categories a closing note may use.
	ClosingNoteCategories []string `json:"closing_note_categories" example:"resolved,spam,no_response"`
	// DefaultPhoneRegion parses national phone numbers (ISO 3166-1 alpha-2).
	DefaultPhoneRegion string `json:"default_phone_region" example:"US"`
	// WindowClosingMinutes is how long before a reply window closes it counts as closing: the
	// inbox's window=closing lists it, and the window.expiring event goes out (1 to 1440).
	WindowClosingMinutes int `json:"window_closing_minutes" minimum:"1" maximum:"1440" example:"60"`
	// AuditRetentionDays is how long the audit log keeps an entry (1 to 3650); older ones
	// are purged.
	AuditRetentionDays int `json:"audit_retention_days" minimum:"1" maximum:"3650" example:"365"`
} // @name WorkspaceSettings

// Workspace is the caller's workspace with its settings.
type Workspace struct {
	ID        string            `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50"`
	Name      string            `json:"name" example:"Acme Support"`
	Settings  WorkspaceSettings `json:"settings"`
	CreatedAt time.Time         `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt time.Time         `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Workspace

// ToWorkspace is w with its settings.
func ToWorkspace(w workspace.Workspace) Workspace {
	return Workspace{ID: w.ID.String(), Name: w.Name, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt,
		Settings: WorkspaceSettings{UnassignOnClose: w.Settings.UnassignOnClose, ClosingNoteRequired: w.Settings.ClosingNoteRequired,
			ClosingNoteCategories: orEmpty(w.Settings.ClosingNoteCategories), DefaultPhoneRegion: w.Settings.DefaultPhoneRegion,
			WindowClosingMinutes: w.Settings.WindowClosingMinutes, AuditRetentionDays: w.Settings.AuditRetentionDays}}
}
