package resource

import (
	"time"

	"github.com/switchboard/switchboard/pkg/template"
)

// TemplateButton is a button of a template.
type TemplateButton struct {
	Type string `json:"type" enums:"quick_reply,url,phone_number" example:"url"`
	Text string `json:"text" example:"Track order"`
	// Value is the URL of a url button or the number of a phone_number button; empty for a
	// quick_reply.
	Value string `json:"value" example:"https://example.com/track"`
} // @name TemplateButton

// Template is a channel's pre-approved message.
type Template struct {
	ID        string `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f70"`
	ChannelID string `json:"channel_id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	Name      string `json:"name" example:"order_update"`
	Language  string `json:"language" example:"en_US"`
	Category  string `json:"category" enums:"marketing,utility,authentication" example:"utility"`
	// Status mirrors the platform's review; only an approved template can be sent.
	Status string `json:"status" enums:"approved,pending,rejected,paused" example:"approved"`
	Body   string `json:"body" example:"Hi {{1}}, your order {{2}} has shipped."`
	// Header and Footer are empty when the template has none.
	Header  string           `json:"header" example:"Order update"`
	Footer  string           `json:"footer" example:"Reply STOP to opt out"`
	Buttons []TemplateButton `json:"buttons"`
	// Variables is the number of {{n}} placeholders in the body: the values a send supplies.
	Variables int       `json:"variables" example:"2"`
	CreatedAt time.Time `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt time.Time `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Template

// TemplateList is a page of a channel's templates.
type TemplateList struct {
	Data       []Template `json:"data"`
	NextCursor *string    `json:"next_cursor" extensions:"x-nullable" example:"eyJuIjoib3JkZXJfdXBkYXRlIiwibCI6ImVuX1VTIn0"`
} // @name TemplateList

// ToTemplate is t with the number of variables a send supplies.
func ToTemplate(t template.Template) Template {
	bs := make([]TemplateButton, len(t.Buttons))
	for i, b := range t.Buttons {
		bs[i] = TemplateButton{Type: b.Type, Text: b.Text, Value: b.Value}
	}
	return Template{ID: t.ID.String(), ChannelID: t.ChannelID.String(), Name: t.Name, Language: t.Language,
		Category: t.Category, Status: t.Status, Body: t.Body, Header: t.Header, Footer: t.Footer, Buttons: bs,
		Variables: t.Variables(), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}
