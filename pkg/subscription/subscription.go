// Package subscription provides subscriber webhooks: endpoints a workspace registers to hear
// about its events, the SSRF guard on their URLs, and the worker that delivers the outbox to
// them, signed in the Standard Webhooks style, in order per conversation, with retries.
package subscription

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/secret"
)

// AllEvents subscribes to every event type, including types added later.
const AllEvents = "*"

// Webhook is a subscriber endpoint.
type Webhook struct {
	WorkspaceID    uuid.UUID
	ID             uuid.UUID
	URL            string
	Description    string
	Events         []string
	Enabled        bool
	FailingSince   *time.Time
	DisabledAt     *time.Time
	DisabledReason *string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Delivery is one event's delivery to one webhook, with its attempts.
type Delivery struct {
	ID             int64
	WebhookID      uuid.UUID
	EventID        int64
	EventType      string
	Status         string // pending, delivered, failed (gave up)
	Attempts       int
	NextAttemptAt  *time.Time
	LastStatusCode *int
	LastLatencyMS  *int
	LastError      *string
	Log            []Attempt
	CreatedAt      time.Time
	DeliveredAt    *time.Time
}

// Attempt is one try of a delivery.
type Attempt struct {
	Attempt    int       `json:"attempt"`
	At         time.Time `json:"at"`
	StatusCode *int      `json:"status_code"`
	LatencyMS  int       `json:"latency_ms"`
	Error      *string   `json:"error"`
}

// Delivery statuses.
const (
	StatusPending   = "pending"
	StatusDelivered = "delivered"
	StatusFailed    = "failed"
)

// Errors of this package.
var (
	ErrNotFound   = errkind.New(errkind.KindNotFound, "webhook_not_found", "No such webhook in this workspace.")
	ErrURLRefused = errkind.New(errkind.KindInvalid, "webhook_url_refused", "The webhook URL is not allowed.")
	// ErrSecretsUnavailable means the server has no SECRETS_KEY to seal signing secrets with.
	ErrSecretsUnavailable = errkind.New(errkind.KindInvalid, "secrets_unavailable",
		"The server has no SECRETS_KEY, so it cannot keep webhook signing secrets.")
)

// Store is what the service needs from persistence.
type Store interface {
	// CreateWebhook stores a webhook with its sealed secret and its audit record.
	CreateWebhook(ctx context.Context, w Webhook, sealedSecret []byte, rec audit.Record) error
	Webhooks(ctx context.Context, ws uuid.UUID, p page.Request) ([]Webhook, string, error)
	UpdateWebhook(ctx context.Context, ws, id uuid.UUID, apply func(*Webhook) ([]audit.Record, error)) (Webhook, error)
	// DeleteWebhook removes a webhook with its audit record.
	DeleteWebhook(ctx context.Context, ws, id uuid.UUID, rec audit.Record) error
	Deliveries(ctx context.Context, ws, id uuid.UUID, p page.Request) ([]Delivery, string, error)
}

// Service manages a workspace's webhooks.
type Service struct {
	store Store
	box   *secret.Box
	guard Guard
	now   func() time.Time
}

// NewService builds a Service; box seals signing secrets (nil: none can be created).
func NewService(st Store, box *secret.Box, guard Guard, now func() time.Time) *Service {
	return &Service{store: st, box: box, guard: guard, now: now}
}

// New is a webhook to create.
type New struct {
	URL         string
	Description string
	Events      []string
}

// Patch changes a webhook; nil fields stay.
type Patch struct {
	URL         *string
	Description *string
	Events      []string
	Enabled     *bool
}

// SecretAD binds a sealed signing secret to its webhook.
func SecretAD(ws, id uuid.UUID) []byte { return []byte("webhook:" + ws.String() + ":" + id.String()) }

func checkEvents(f *errkind.Fields, evs []string) []string {
	if len(evs) == 0 {
		f.Add("events", `must list event types, or be ["*"] for all`)
		return nil
	}
	var out []string
	for i, e := range evs {
		if e != AllEvents && !slices.Contains(event.Types, e) {
			f.Add(fmt.Sprintf("events[%d]", i), "must be * or one of "+strings.Join(event.Types, ", "))
			continue
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if slices.Contains(out, AllEvents) {
		return []string{AllEvents}
	}
	return out
}

// Create registers a webhook and returns it with its signing secret, which is shown only now.
func (s *Service) Create(ctx context.Context, ws uuid.UUID, in New) (Webhook, string, error) {
	var f errkind.Fields
	if utf8.RuneCountInString(in.Description) > 500 {
		f.Add("description", "must be at most 500 characters")
	}
	evs := checkEvents(&f, in.Events)
	if err := f.Err(); err != nil {
		return Webhook{}, "", err
	}
	u, err := s.guard.CheckURL(ctx, in.URL, true)
	if err != nil {
		return Webhook{}, "", err
	}
	if s.box == nil {
		return Webhook{}, "", ErrSecretsUnavailable
	}
	raw := make([]byte, 24)
	_, _ = rand.Read(raw)
	plain := "whsec_" + base64.StdEncoding.EncodeToString(raw)
	now := s.now().UTC()
	w := Webhook{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), URL: u, Description: in.Description, Events: evs,
		Enabled: true, CreatedAt: now, UpdatedAt: now}
	sealed, err := s.box.Seal([]byte(plain), SecretAD(ws, w.ID))
	if err != nil {
		return Webhook{}, "", fmt.Errorf("seal webhook secret: %w", err)
	}
	ch := webhookChanges(Webhook{}, w)
	ch.Secret("secret", false, true, true) // shown once to the caller, never to the log
	if err := s.store.CreateWebhook(ctx, w, sealed, audit.On(audit.WebhookCreated, "webhook", w.ID, ch)); err != nil {
		return Webhook{}, "", err
	}
	return w, plain, nil
}

// List lists the workspace's webhooks, newest first.
func (s *Service) List(ctx context.Context, ws uuid.UUID, p page.Request) ([]Webhook, string, error) {
	return s.store.Webhooks(ctx, ws, p)
}

// Update changes a webhook. Enabling it again clears its failure record.
func (s *Service) Update(ctx context.Context, ws, id uuid.UUID, p Patch) (Webhook, error) {
	var f errkind.Fields
	if p.Description != nil && utf8.RuneCountInString(*p.Description) > 500 {
		f.Add("description", "must be at most 500 characters")
	}
	var evs []string
	if p.Events != nil {
		evs = checkEvents(&f, p.Events)
	}
	if err := f.Err(); err != nil {
		return Webhook{}, err
	}
	var u string
	if p.URL != nil {
		var err error
		if u, err = s.guard.CheckURL(ctx, *p.URL, true); err != nil {
			return Webhook{}, err
		}
	}
	now := s.now().UTC()
	return s.store.UpdateWebhook(ctx, ws, id, func(w *Webhook) ([]audit.Record, error) {
		before := *w
		if p.URL != nil {
			w.URL = u
		}
		if p.Description != nil {
			w.Description = *p.Description
		}
		if evs != nil {
			w.Events = evs
		}
		if p.Enabled != nil {
			if *p.Enabled && !w.Enabled {
				w.FailingSince, w.DisabledAt, w.DisabledReason = nil, nil, nil
			}
			if !*p.Enabled && w.Enabled {
				reason := "disabled through the API"
				w.DisabledAt, w.DisabledReason = &now, &reason
			}
			w.Enabled = *p.Enabled
		}
		w.UpdatedAt = now
		ch := webhookChanges(before, *w)
		if len(ch) == 0 {
			return nil, nil
		}
		return []audit.Record{audit.On(audit.WebhookUpdated, "webhook", w.ID, ch)}, nil
	})
}

// webhookChanges are the fields that differ from a to b (a zero Webhook: created), by API
// name.
func webhookChanges(a, b Webhook) audit.Changes {
	ch := audit.Changes{}
	if a.ID == uuid.Nil {
		ch.Set("url", nil, b.URL)
		ch.Set("description", nil, b.Description)
		ch.Set("events", nil, b.Events)
		ch.Set("enabled", nil, b.Enabled)
		return ch
	}
	ch.Set("url", a.URL, b.URL)
	ch.Set("description", a.Description, b.Description)
	ch.Set("events", a.Events, b.Events)
	ch.Set("enabled", a.Enabled, b.Enabled)
	return ch
}

// Delete removes a webhook with its delivery log.
func (s *Service) Delete(ctx context.Context, ws, id uuid.UUID) error {
	return s.store.DeleteWebhook(ctx, ws, id, audit.On(audit.WebhookDeleted, "webhook", id, nil))
}

// Deliveries lists a webhook's deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, ws, id uuid.UUID, p page.Request) ([]Delivery, string, error) {
	return s.store.Deliveries(ctx, ws, id, p)
}
