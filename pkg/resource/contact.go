package resource

import (
	"time"

	"github.com/switchboard/switchboard/pkg/contact"
)

// ConversationRef is a contact's conversation, by id and status.
type ConversationRef struct {
	ID     string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f52"`
	Status string `json:"status" enums:"open,snoozed,closed" example:"open"`
} // @name ConversationRef

// Contact is a customer with their reach, profile and conversation.
type Contact struct {
	ID        string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f53"`
	FirstName string `json:"first_name" example:"Maria"`
	LastName  string `json:"last_name" example:"Gonzalez"`
	// Email, Phone, Language, Country, Tags and CustomFields are null where the contact is
	// embedded in an answer to a caller without the contacts:read scope (an inbound answer).
	Email        *string         `json:"email" extensions:"x-nullable" example:"maria@example.com"`
	Phone        *string         `json:"phone" extensions:"x-nullable" example:"+12025550123"`
	Language     *string         `json:"language" extensions:"x-nullable" example:"es"`
	Country      *string         `json:"country" extensions:"x-nullable" example:"MX"`
	Tags         []string        `json:"tags" extensions:"x-nullable" example:"vip,newsletter"`
	CustomFields map[string]any  `json:"custom_fields" extensions:"x-nullable"`
	Conversation ConversationRef `json:"conversation"`
	CreatedAt    time.Time       `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt    time.Time       `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Contact

// ContactList is a page of contacts.
type ContactList struct {
	Data       []Contact `json:"data"`
	NextCursor *string   `json:"next_cursor" extensions:"x-nullable" example:"eyJpZCI6IjAxOTNhNWIwIn0"`
} // @name ContactList

// ToContact is c with its reach and profile.
func ToContact(c contact.Contact) Contact {
	cf := c.CustomFields
	if cf == nil {
		cf = map[string]any{}
	}
	return Contact{ID: c.ID.String(), FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, Phone: c.Phone,
		Language: &c.Language, Country: &c.Country, Tags: orEmpty(c.Tags), CustomFields: cf, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		Conversation: ConversationRef{ID: c.Conversation.ID.String(), Status: c.Conversation.Status}}
}
