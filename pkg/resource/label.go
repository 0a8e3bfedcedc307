package resource

import (
	"time"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/label"
)

// Label is a workspace's label for conversations.
type Label struct {
	ID string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f90"`
	// Name is unique in the workspace without regard to case.
	Name      string    `json:"name" minLength:"1" maxLength:"50" example:"Refund"`
	Color     string    `json:"color" pattern:"^#[0-9a-f]{6}$" example:"#1f93ff"`
	CreatedAt time.Time `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt time.Time `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Label

// LabelList is a page of the workspace's labels, by name.
type LabelList struct {
	Data       []Label `json:"data"`
	NextCursor *string `json:"next_cursor" extensions:"x-nullable" example:"eyJuIjoiUmVmdW5kIn0"`
} // @name LabelList

// ConversationLabel is a label as a conversation carries it.
type ConversationLabel struct {
	ID    string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f90"`
	Name  string `json:"name" example:"Refund"`
	Color string `json:"color" pattern:"^#[0-9a-f]{6}$" example:"#1f93ff"`
} // @name ConversationLabel

// ToLabel is l as the API writes it.
func ToLabel(l label.Label) Label {
	return Label{ID: l.ID.String(), Name: l.Name, Color: l.Color, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
}

// toConversationLabels are a conversation's labels as the API writes them: [] when it has none.
func toConversationLabels(ls []conversation.Label) []ConversationLabel {
	out := make([]ConversationLabel, len(ls))
	for i, l := range ls {
		out[i] = ConversationLabel{ID: l.ID.String(), Name: l.Name, Color: l.Color}
	}
	return out
}
