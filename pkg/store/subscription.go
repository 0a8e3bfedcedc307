package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/subscription"
)

type webhookRow struct {
	WorkspaceID    uuid.UUID `gorm:"primaryKey"`
	ID             uuid.UUID `gorm:"primaryKey"`
	URL            string
	Description    string
	Events         textArray
	SecretSealed   []byte
	Enabled        bool
	FailingSince   *time.Time
	DisabledAt     *time.Time
	DisabledReason *string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (webhookRow) TableName() string { return "webhooks" }

func (r webhookRow) domain() subscription.Webhook {
	return subscription.Webhook{WorkspaceID: r.WorkspaceID, ID: r.ID, URL: r.URL, Description: r.Description,
		Events: []string(r.Events), Enabled: r.Enabled, FailingSince: r.FailingSince, DisabledAt: r.DisabledAt,
		DisabledReason: r.DisabledReason, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// CreateWebhook stores a webhook with its sealed signing secret.
func (s *Store) CreateWebhook(ctx context.Context, w subscription.Webhook, sealed []byte) error {
	r := webhookRow{WorkspaceID: w.WorkspaceID, ID: w.ID, URL: w.URL, Description: w.Description,
		Events: textArray(w.Events), SecretSealed: sealed, Enabled: w.Enabled, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
	if err := s.conn(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("insert webhook: %w", err)
	}
	return nil
}

func webhookByID(db *gorm.DB, ws, id uuid.UUID, lock bool) (subscription.Webhook, error) {
	q := `SELECT * FROM webhooks WHERE workspace_id = ? AND id = ?`
	if lock {
		q += ` FOR UPDATE`
	}
	var r webhookRow
	res := db.Raw(q, ws, id).Scan(&r)
	if res.Error != nil {
		return subscription.Webhook{}, fmt.Errorf("get webhook: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return subscription.Webhook{}, subscription.ErrNotFound
	}
	return r.domain(), nil
}

// Webhook returns one webhook of the workspace.
func (s *Store) Webhook(ctx context.Context, ws, id uuid.UUID) (subscription.Webhook, error) {
	return webhookByID(s.conn(ctx), ws, id, false)
}

// Webhooks lists the workspace's webhooks newest first.
func (s *Store) Webhooks(ctx context.Context, ws uuid.UUID, p page.Request) ([]subscription.Webhook, string, error) {
	q := s.conn(ctx).Where("workspace_id = ?", ws)
	if p.Cursor != "" {
		var c idCursor
		if err := page.Decode(p.Cursor, &c); err != nil {
			return nil, "", err
		}
		q = q.Where("id < ?", c.ID)
	}
	var rows []webhookRow
	if err := q.Order("id DESC").Limit(p.Limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list webhooks: %w", err)
	}
	next := ""
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		next = page.Encode(idCursor{rows[len(rows)-1].ID})
	}
	out := make([]subscription.Webhook, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}

// UpdateWebhook locks a webhook, applies the change and saves it.
func (s *Store) UpdateWebhook(ctx context.Context, ws, id uuid.UUID, apply func(*subscription.Webhook) error) (subscription.Webhook, error) {
	var out subscription.Webhook
	err := s.tx(ctx, func(tx *gorm.DB) error {
		w, err := webhookByID(tx, ws, id, true)
		if err != nil {
			return err
		}
		if err := apply(&w); err != nil {
			return err
		}
		const q = `
UPDATE webhooks SET url = ?, description = ?, events = ?, enabled = ?, failing_since = ?, disabled_at = ?,
       disabled_reason = ?, updated_at = ?
WHERE workspace_id = ? AND id = ?`
		if err := tx.Exec(q, w.URL, w.Description, textArray(w.Events), w.Enabled, w.FailingSince, w.DisabledAt,
			w.DisabledReason, w.UpdatedAt, ws, id).Error; err != nil {
			return fmt.Errorf("update webhook: %w", err)
		}
		out = w
		return nil
	})
	return out, err
}

// DeleteWebhook removes a webhook and its delivery log.
func (s *Store) DeleteWebhook(ctx context.Context, ws, id uuid.UUID) error {
	res := s.conn(ctx).Exec(`DELETE FROM webhooks WHERE workspace_id = ? AND id = ?`, ws, id)
	if res.Error != nil {
		return fmt.Errorf("delete webhook: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return subscription.ErrNotFound
	}
	return nil
}

type deliveryRow struct {
	ID             int64
	WebhookID      uuid.UUID
	EventID        int64
	EventType      string
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	LastStatusCode *int
	LastLatencyMs  *int
	LastError      *string
	AttemptLog     []byte
	CreatedAt      time.Time
	DeliveredAt    *time.Time
}

type deliveryCursor struct {
	ID int64 `json:"id"`
}

// Deliveries lists a webhook's deliveries newest first, each with its attempts.
func (s *Store) Deliveries(ctx context.Context, ws, id uuid.UUID, p page.Request) ([]subscription.Delivery, string, error) {
	if _, err := s.Webhook(ctx, ws, id); err != nil {
		return nil, "", err
	}
	q := `SELECT d.id, d.webhook_id, d.event_id, e.type AS event_type, d.status, d.attempts, d.next_attempt_at,
       d.last_status_code, d.last_latency_ms, d.last_error, d.attempt_log, d.created_at, d.delivered_at
FROM webhook_deliveries d JOIN events e ON e.workspace_id = d.workspace_id AND e.id = d.event_id
WHERE d.workspace_id = ? AND d.webhook_id = ?`
	args := []any{ws, id}
	if p.Cursor != "" {
		var c deliveryCursor
		if err := page.Decode(p.Cursor, &c); err != nil {
			return nil, "", err
		}
		if c.ID <= 0 {
			return nil, "", errkind.ErrInvalidCursor
		}
		q += ` AND d.id < ?`
		args = append(args, c.ID)
	}
	q += ` ORDER BY d.id DESC LIMIT ?`
	args = append(args, p.Limit+1)
	var rows []deliveryRow
	if err := s.conn(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	next := ""
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		next = page.Encode(deliveryCursor{rows[len(rows)-1].ID})
	}
	out := make([]subscription.Delivery, len(rows))
	for i, r := range rows {
		d := subscription.Delivery{ID: r.ID, WebhookID: r.WebhookID, EventID: r.EventID, EventType: r.EventType,
			Status: r.Status, Attempts: r.Attempts, LastStatusCode: r.LastStatusCode, LastLatencyMS: r.LastLatencyMs,
			LastError: r.LastError, CreatedAt: r.CreatedAt, DeliveredAt: r.DeliveredAt, Log: []subscription.Attempt{}}
		if r.Status == subscription.StatusPending {
			t := r.NextAttemptAt
			d.NextAttemptAt = &t
		}
		if err := json.Unmarshal(r.AttemptLog, &d.Log); err != nil {
			return nil, "", fmt.Errorf("decode attempt log: %w", err)
		}
		out[i] = d
	}
	return out, next, nil
}

// claimLockKey serialises claims across processes (pg_advisory_xact_lock), so that each
// claim counts the leases every earlier claim committed and no share is overrun by two
// claims racing. A claim holds it for one short statement.
const claimLockKey = "switchboard/webhook_deliveries/claim"

// claimSQL leases due deliveries of enabled webhooks. Only the oldest pending delivery of each
// (webhook, order key) is eligible, so a conversation's events arrive in order. Deliveries in
// flight are the rows whose lease has not run out (every process's); a webhook gets at most
// @per_webhook of them and a workspace at most @per_workspace, so an endpoint that hangs holds
// only its own share of the workers. Within the shares, the claim goes round the workspaces
// (each one's first, then each one's second, ...) and, within a workspace, round its webhooks,
// oldest first. The lease (leased_until, and next_attempt_at moved to the same time) keeps
// other workers off the delivery while it is attempted; a worker that dies before recording
// the outcome leaves it to be retried when the lease ends (at-least-once).
const claimSQL = `
WITH busy AS (
    SELECT workspace_id, webhook_id, count(*) AS n
    FROM webhook_deliveries
    WHERE leased_until IS NOT NULL AND leased_until > @now
    GROUP BY workspace_id, webhook_id
),
busy_workspace AS (
    SELECT workspace_id, sum(n) AS n FROM busy GROUP BY workspace_id
),
candidate AS (
    SELECT w.workspace_id, w.id AS webhook_id, c.id, c.next_attempt_at,
           row_number() OVER (PARTITION BY w.workspace_id, w.id ORDER BY c.next_attempt_at, c.id) AS webhook_rank,
           coalesce(b.n, 0) AS webhook_busy
    FROM webhooks w
    LEFT JOIN busy b ON b.workspace_id = w.workspace_id AND b.webhook_id = w.id
    CROSS JOIN LATERAL (
        SELECT d.id, d.next_attempt_at
        FROM webhook_deliveries d
        WHERE d.workspace_id = w.workspace_id AND d.webhook_id = w.id
          AND d.status = 'pending' AND d.next_attempt_at <= @now
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o
              WHERE o.workspace_id = d.workspace_id AND o.webhook_id = d.webhook_id AND o.order_key = d.order_key
                AND o.status = 'pending' AND o.id < d.id)
        ORDER BY d.next_attempt_at, d.id
        LIMIT @per_webhook
    ) c
    WHERE w.enabled AND coalesce(b.n, 0) < @per_webhook
),
ranked AS (
    SELECT c.workspace_id, c.id, c.next_attempt_at,
           row_number() OVER (PARTITION BY c.workspace_id ORDER BY c.webhook_rank, c.next_attempt_at, c.id) AS workspace_rank
    FROM candidate c
    WHERE c.webhook_rank <= @per_webhook - c.webhook_busy
),
picked AS (
    SELECT r.workspace_id, r.id
    FROM ranked r
    LEFT JOIN busy_workspace bw ON bw.workspace_id = r.workspace_id
    WHERE r.workspace_rank <= @per_workspace - coalesce(bw.n, 0)
    ORDER BY r.workspace_rank, r.next_attempt_at, r.id
    LIMIT @limit
),
due AS (
    SELECT d.workspace_id, d.id
    FROM webhook_deliveries d
    JOIN picked p ON p.workspace_id = d.workspace_id AND p.id = d.id
    WHERE d.status = 'pending' AND d.next_attempt_at <= @now
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d SET next_attempt_at = @lease, leased_until = @lease
FROM due, webhooks w, events e
WHERE d.workspace_id = due.workspace_id AND d.id = due.id
  AND w.workspace_id = d.workspace_id AND w.id = d.webhook_id
  AND e.workspace_id = d.workspace_id AND e.id = d.event_id
RETURNING d.workspace_id, d.id AS delivery_id, d.webhook_id, w.url, w.secret_sealed, d.attempts, d.created_at,
          e.id AS event_id, e.type AS event_type, e.occurred_at, e.conversation_id, e.payload`

// ClaimDeliveries leases up to c.Limit due deliveries within each workspace's and webhook's
// share (claimSQL), under the claim lock.
func (s *Store) ClaimDeliveries(ctx context.Context, c subscription.Claim) ([]subscription.Job, error) {
	var rows []struct {
		WorkspaceID    uuid.UUID
		DeliveryID     int64
		WebhookID      uuid.UUID
		URL            string
		SecretSealed   []byte
		Attempts       int
		CreatedAt      time.Time
		EventID        int64
		EventType      string
		OccurredAt     time.Time
		ConversationID *uuid.UUID
		Payload        []byte
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// A statement of its own: the claim's snapshot must be taken after the lock is held.
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(@key, 0))`, map[string]any{"key": claimLockKey}).Error; err != nil {
			return fmt.Errorf("lock webhook delivery claims: %w", err)
		}
		args := map[string]any{"now": c.Now, "lease": c.Now.Add(c.Lease), "limit": c.Limit,
			"per_workspace": c.PerWorkspace, "per_webhook": c.PerWebhook}
		if err := tx.Raw(claimSQL, args).Scan(&rows).Error; err != nil {
			return fmt.Errorf("claim webhook deliveries: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]subscription.Job, len(rows))
	for i, r := range rows {
		out[i] = subscription.Job{WorkspaceID: r.WorkspaceID, DeliveryID: r.DeliveryID, WebhookID: r.WebhookID, URL: r.URL,
			SealedSecret: r.SecretSealed, Attempts: r.Attempts, CreatedAt: r.CreatedAt,
			Event: event.Event{WorkspaceID: r.WorkspaceID, ID: r.EventID, Type: r.EventType, OccurredAt: r.OccurredAt,
				ConversationID: r.ConversationID, Payload: r.Payload}}
	}
	return out, nil
}

// attemptLogSize is how many attempts a delivery's log keeps (the newest).
const attemptLogSize = 30

// FinishDelivery records an attempt on the delivery, ends its lease (it no longer counts as in
// flight) and keeps the webhook's failure streak: a success ends it, a failure starts it, and
// a streak longer than o.DisableAfter disables the webhook until someone enables it again.
func (s *Store) FinishDelivery(ctx context.Context, j subscription.Job, o subscription.Outcome) error {
	entry, err := json.Marshal(o.Attempt)
	if err != nil {
		return fmt.Errorf("encode attempt: %w", err)
	}
	at := o.Attempt.At
	next := o.NextAttemptAt
	if o.Status != subscription.StatusPending {
		next = at
	}
	var delivered *time.Time
	if o.Status == subscription.StatusDelivered {
		delivered = &at
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		const q = `
UPDATE webhook_deliveries SET attempts = attempts + 1, status = @status, next_attempt_at = @next, leased_until = NULL,
       last_attempt_at = @at, last_status_code = @code, last_latency_ms = @latency, last_error = @err,
       delivered_at = @delivered,
       attempt_log = (CASE WHEN jsonb_array_length(attempt_log) >= @keep THEN attempt_log - 0 ELSE attempt_log END) || jsonb_build_array(CAST(@entry AS jsonb))
WHERE workspace_id = @ws AND id = @id`
		if err := tx.Exec(q, map[string]any{"status": o.Status, "next": next, "at": at, "code": o.Attempt.StatusCode,
			"latency": o.Attempt.LatencyMS, "err": o.Attempt.Error, "delivered": delivered, "keep": attemptLogSize,
			"entry": string(entry), "ws": j.WorkspaceID, "id": j.DeliveryID}).Error; err != nil {
			return fmt.Errorf("record delivery attempt: %w", err)
		}
		if o.Status == subscription.StatusDelivered {
			if err := tx.Exec(`UPDATE webhooks SET failing_since = NULL WHERE workspace_id = ? AND id = ? AND failing_since IS NOT NULL`,
				j.WorkspaceID, j.WebhookID).Error; err != nil {
				return fmt.Errorf("clear webhook failures: %w", err)
			}
			return nil
		}
		const fail = `
UPDATE webhooks SET failing_since = coalesce(failing_since, @at),
       enabled = enabled AND NOT (coalesce(failing_since, @at) <= @cutoff),
       disabled_at = CASE WHEN enabled AND coalesce(failing_since, @at) <= @cutoff THEN @at ELSE disabled_at END,
       disabled_reason = CASE WHEN enabled AND coalesce(failing_since, @at) <= @cutoff
           THEN 'every delivery failed since ' || to_char(coalesce(failing_since, @at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
           ELSE disabled_reason END
WHERE workspace_id = @ws AND id = @id`
		if err := tx.Exec(fail, map[string]any{"at": at, "cutoff": at.Add(-o.DisableAfter), "ws": j.WorkspaceID,
			"id": j.WebhookID}).Error; err != nil {
			return fmt.Errorf("record webhook failure: %w", err)
		}
		return nil
	})
}
