package resource

import (
	"time"

	"github.com/switchboard/switchboard/pkg/canned"
)

// CannedResponse is a reusable answer; its text may hold {{contact.first_name}},
// {{contact.last_name}} and {{agent.name}}, which render fills.
type CannedResponse struct {
	ID string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f90"`
	// Shortcut is unique in the workspace without regard to case.
	Shortcut  string    `json:"shortcut" minLength:"1" maxLength:"50" example:"refund"`
	Title     string    `json:"title" minLength:"1" maxLength:"200" example:"Refund on its way"`
	Text      string    `json:"text" minLength:"1" maxLength:"5000" example:"Hi {{contact.first_name}}, your refund is on its way. {{agent.name}}"`
	CreatedAt time.Time `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt time.Time `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name CannedResponse

// CannedResponseList is a page of canned responses, by shortcut.
type CannedResponseList struct {
	Data       []CannedResponse `json:"data"`
	NextCursor *string          `json:"next_cursor" extensions:"x-nullable" example:"eyJzIjoicmVmdW5kIn0"`
} // @name CannedResponseList

// RenderedCannedResponse is a canned response's text with its variables filled.
type RenderedCannedResponse struct {
	Text string `json:"text" example:"Hi Maria, your refund is on its way. Ana Silva"`
} // @name RenderedCannedResponse

// ToCannedResponse is r as the API writes it.
func ToCannedResponse(r canned.Response) CannedResponse {
	return CannedResponse{ID: r.ID.String(), Shortcut: r.Shortcut, Title: r.Title, Text: r.Text, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}
