package resource

import (
	"strconv"
	"time"

	"github.com/switchboard/switchboard/pkg/subscription"
)

// Webhook is a subscriber endpoint for the workspace's events, without its secret.
type Webhook struct {
	ID             string     `json:"id" example:"0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f60"`
	URL            string     `json:"url" example:"https://crm.example.com/hooks/switchboard"`
	Description    string     `json:"description" example:"CRM sync"`
	Events         []string   `json:"events" example:"message.created,conversation.closed"`
	Enabled        bool       `json:"enabled" example:"true"`
	FailingSince   *time.Time `json:"failing_since" extensions:"x-nullable" format:"date-time" example:"2026-11-29T08:00:00Z"`
	DisabledAt     *time.Time `json:"disabled_at" extensions:"x-nullable" format:"date-time" example:"2026-12-02T08:00:00Z"`
	DisabledReason *string    `json:"disabled_reason" extensions:"x-nullable" example:"every delivery failed since 2026-11-29T08:00:00Z"`
	CreatedAt      time.Time  `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	UpdatedAt      time.Time  `json:"updated_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
} // @name Webhook

// CreatedWebhook is a new webhook with its signing secret, shown once.
type CreatedWebhook struct {
	Webhook
	// Secret signs every delivery (Standard Webhooks); it is shown only in this answer.
	Secret string `json:"secret" example:"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"`
} // @name CreatedWebhook

// WebhookList is a page of webhooks.
type WebhookList struct {
	Data       []Webhook `json:"data"`
	NextCursor *string   `json:"next_cursor" extensions:"x-nullable"`
} // @name WebhookList

// WebhookAttempt is one try of a webhook delivery.
type WebhookAttempt struct {
	Attempt    int       `json:"attempt" example:"1"`
	At         time.Time `json:"at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	StatusCode *int      `json:"status_code" extensions:"x-nullable" example:"500"`
	LatencyMS  int       `json:"latency_ms" example:"84"`
	Error      *string   `json:"error" extensions:"x-nullable" example:"HTTP 500: oops"`
} // @name WebhookAttempt

// WebhookDelivery is one event's delivery to a webhook, with its latest attempts.
type WebhookDelivery struct {
	ID             string           `json:"id" example:"311"`
	EventID        string           `json:"event_id" example:"1042"`
	EventType      string           `json:"event_type" example:"message.created"`
	Status         string           `json:"status" enums:"pending,delivered,failed" example:"delivered"`
	Attempts       int              `json:"attempts" example:"3"`
	NextAttemptAt  *time.Time       `json:"next_attempt_at" extensions:"x-nullable" format:"date-time" example:"2026-11-29T08:00:40Z"`
	LastStatusCode *int             `json:"last_status_code" extensions:"x-nullable" example:"200"`
	LastLatencyMS  *int             `json:"last_latency_ms" extensions:"x-nullable" example:"84"`
	LastError      *string          `json:"last_error" extensions:"x-nullable" example:"HTTP 500: oops"`
	AttemptLog     []WebhookAttempt `json:"attempt_log"`
	CreatedAt      time.Time        `json:"created_at" format:"date-time" example:"2026-11-29T08:00:00Z"`
	DeliveredAt    *time.Time       `json:"delivered_at" extensions:"x-nullable" format:"date-time" example:"2026-11-29T08:00:41Z"`
} // @name WebhookDelivery

// WebhookDeliveryList is a page of a webhook's delivery log.
type WebhookDeliveryList struct {
	Data       []WebhookDelivery `json:"data"`
	NextCursor *string           `json:"next_cursor" extensions:"x-nullable"`
} // @name WebhookDeliveryList

// ToWebhook is w without its secret.
func ToWebhook(w subscription.Webhook) Webhook {
	return Webhook{ID: w.ID.String(), URL: w.URL, Description: w.Description, Events: w.Events,
		Enabled: w.Enabled, FailingSince: w.FailingSince, DisabledAt: w.DisabledAt, DisabledReason: w.DisabledReason,
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

// ToWebhookDelivery is d with its attempt log.
func ToWebhookDelivery(d subscription.Delivery) WebhookDelivery {
	r := WebhookDelivery{ID: itoa(d.ID), EventID: itoa(d.EventID), EventType: d.EventType, Status: d.Status,
		Attempts: d.Attempts, NextAttemptAt: d.NextAttemptAt, LastStatusCode: d.LastStatusCode,
		LastLatencyMS: d.LastLatencyMS, LastError: d.LastError, CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt,
		AttemptLog: make([]WebhookAttempt, len(d.Log))}
	for i, a := range d.Log {
		r.AttemptLog[i] = WebhookAttempt(a)
	}
	return r
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
