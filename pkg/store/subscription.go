package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/resource"
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

// CreateWebhook stores a webhook with its sealed signing secret and its audit record, in one
// statement.
func (s *Store) CreateWebhook(ctx context.Context, w subscription.Webhook, sealed []byte, rec audit.Record) error {
	const q = `INSERT INTO webhooks (` + webhookColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`
	st := statement{q, []any{w.WorkspaceID, w.ID, w.URL, w.Description, textArray(w.Events), sealed, w.Enabled, w.FailingSince,
		w.DisabledAt, w.DisabledReason, w.CreatedAt, w.UpdatedAt}}
	if _, err := s.execAudited(ctx, w.WorkspaceID, st, rec); err != nil {
		return fmt.Errorf("insert webhook: %w", err)
	}
	return nil
}

// Webhook returns one webhook of the workspace.
func (s *Store) Webhook(ctx context.Context, ws, id uuid.UUID) (subscription.Webhook, error) {
	return take(s.conn(ctx), webhookRow.domain, subscription.ErrNotFound, "webhook", ws, id)
}

// Webhooks lists the workspace's webhooks newest first.
func (s *Store) Webhooks(ctx context.Context, ws uuid.UUID, p page.Request) ([]subscription.Webhook, string, error) {
	return listByID(s.conn(ctx).Where(map[string]any{"workspace_id": ws}), webhooksByID, true, p, webhookRow.domain, "webhooks")
}

var webhooksByID = byID(func(r webhookRow) uuid.UUID { return r.ID }, false)

// UpdateWebhook locks a webhook, applies the change and saves it.
func (s *Store) UpdateWebhook(ctx context.Context, ws, id uuid.UUID, apply func(*subscription.Webhook) ([]audit.Record, error)) (subscription.Webhook, error) {
	return webhookChange.runAudited(ctx, s, ws, apply, ws, id)
}

// webhookColumns are webhookRow's columns.
const webhookColumns = `workspace_id, id, url, description, events, secret_sealed, enabled, failing_since, disabled_at,
       disabled_reason, created_at, updated_at`

var webhookChange = change[webhookRow, subscription.Webhook]{
	lock:    `SELECT ` + webhookColumns + ` FROM webhooks WHERE workspace_id = $1 AND id = $2 FOR UPDATE`,
	missing: subscription.ErrNotFound,
	domain:  webhookRow.domain,
	save: func(w subscription.Webhook) (string, []any) {
		const q = `
UPDATE webhooks SET url = $3, description = $4, events = $5, enabled = $6, failing_since = $7, disabled_at = $8,
       disabled_reason = $9, updated_at = $10
WHERE workspace_id = $1 AND id = $2`
		return q, []any{w.WorkspaceID, w.ID, w.URL, w.Description, textArray(w.Events), w.Enabled, w.FailingSince,
			w.DisabledAt, w.DisabledReason, w.UpdatedAt}
	},
	what: "webhook",
}

// DeleteWebhook removes a webhook and its delivery log, with its audit record, in one
// statement.
func (s *Store) DeleteWebhook(ctx context.Context, ws, id uuid.UUID, rec audit.Record) error {
	const q = `DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2 RETURNING id`
	found, err := s.execAudited(ctx, ws, statement{q, []any{ws, id}}, rec)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	if !found {
		return subscription.ErrNotFound
	}
	return nil
}

// deliveryRow is a row of a webhook's delivery log; the attempt log is decoded as it is read.
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
	AttemptLog     []subscription.Attempt
	CreatedAt      time.Time
	DeliveredAt    *time.Time
}

// deliveryCursor is the position in a webhook's delivery log.
type deliveryCursor struct {
	ID int64 `json:"id"`
}

var deliveriesByID = keyset[deliveryRow, deliveryCursor]{
	key:   func(r deliveryRow) deliveryCursor { return deliveryCursor{r.ID} },
	valid: func(c deliveryCursor) bool { return c.ID > 0 },
}

// Deliveries lists a webhook's deliveries newest first, each with its attempts.
func (s *Store) Deliveries(ctx context.Context, ws, id uuid.UUID, p page.Request) ([]subscription.Delivery, string, error) {
	found, err := exists(ctx, s.Pool, `SELECT EXISTS (SELECT 1 FROM webhooks WHERE workspace_id = $1 AND id = $2)`, ws, id)
	if err != nil {
		return nil, "", fmt.Errorf("get webhook: %w", err)
	}
	if !found {
		return nil, "", subscription.ErrNotFound
	}
	return list(deliveriesByID, p, func(after *deliveryCursor, limit int) ([]deliveryRow, error) {
		args := params{ws, id}
		cond := ""
		if after != nil {
			cond = ` AND d.id < ` + args.add(after.ID)
		}
		q := `
SELECT d.id, d.webhook_id, d.event_id, e.type AS event_type, d.status, d.attempts, d.next_attempt_at,
       d.last_status_code, d.last_latency_ms, d.last_error, d.attempt_log, d.created_at, d.delivered_at
FROM webhook_deliveries d JOIN events e ON e.workspace_id = d.workspace_id AND e.id = d.event_id
WHERE d.workspace_id = $1 AND d.webhook_id = $2` + cond + `
ORDER BY d.id DESC
LIMIT ` + args.add(limit)
		rows, err := queryRows[deliveryRow](ctx, s.Pool, q, args...)
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		return rows, nil
	}, deliveryRow.domain)
}

func (r deliveryRow) domain() subscription.Delivery {
	d := subscription.Delivery{ID: r.ID, WebhookID: r.WebhookID, EventID: r.EventID, EventType: r.EventType,
		Status: r.Status, Attempts: r.Attempts, LastStatusCode: r.LastStatusCode, LastLatencyMS: r.LastLatencyMs,
		LastError: r.LastError, CreatedAt: r.CreatedAt, DeliveredAt: r.DeliveredAt, Log: r.AttemptLog}
	if r.Status == subscription.StatusPending {
		t := r.NextAttemptAt
		d.NextAttemptAt = &t
	}
	return d
}

// claimLockKey serialises claims across processes (pg_advisory_xact_lock), so that each
// claim counts the leases every earlier claim committed and no share is overrun by two
// claims racing. A claim holds it for one short statement.
const claimLockKey = "switchboard/webhook_deliveries/claim"

// claimSQL leases due deliveries of enabled webhooks. Only the oldest pending delivery of each
// (webhook, order key) is eligible, so a conversation's events arrive in order. Deliveries in
// flight are the rows whose lease has not run out (every process's); a webhook gets at most
// $3 of them and a workspace at most $4, so an endpoint that hangs holds only its own share of
// the workers. Within the shares, the claim goes round the workspaces
// (each one's first, then each one's second, ...) and, within a workspace, round its webhooks,
// oldest first. The lease (leased_until, and next_attempt_at moved to the same time) keeps
// other workers off the delivery while it is attempted; a worker that dies before recording
// the outcome leaves it to be retried when the lease ends (at-least-once).
//
// $1 is now, $2 the end of the lease, $3 and $4 the per-webhook and per-workspace shares, $5
// the most deliveries to lease.
const claimSQL = `
WITH busy AS (
    SELECT workspace_id, webhook_id, count(*) AS n
    FROM webhook_deliveries
    WHERE leased_until IS NOT NULL AND leased_until > $1
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
          AND d.status = 'pending' AND d.next_attempt_at <= $1
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o
              WHERE o.workspace_id = d.workspace_id AND o.webhook_id = d.webhook_id AND o.order_key = d.order_key
                AND o.status = 'pending' AND o.id < d.id)
        ORDER BY d.next_attempt_at, d.id
        LIMIT $3
    ) c
    WHERE w.enabled AND coalesce(b.n, 0) < $3
),
ranked AS (
    SELECT c.workspace_id, c.id, c.next_attempt_at,
           row_number() OVER (PARTITION BY c.workspace_id ORDER BY c.webhook_rank, c.next_attempt_at, c.id) AS workspace_rank
    FROM candidate c
    WHERE c.webhook_rank <= $3 - c.webhook_busy
),
picked AS (
    SELECT r.workspace_id, r.id
    FROM ranked r
    LEFT JOIN busy_workspace bw ON bw.workspace_id = r.workspace_id
    WHERE r.workspace_rank <= $4 - coalesce(bw.n, 0)
    ORDER BY r.workspace_rank, r.next_attempt_at, r.id
    LIMIT $5
),
due AS (
    SELECT d.workspace_id, d.id
    FROM webhook_deliveries d
    JOIN picked p ON p.workspace_id = d.workspace_id AND p.id = d.id
    WHERE d.status = 'pending' AND d.next_attempt_at <= $1
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d SET next_attempt_at = $2, leased_until = $2
FROM due, webhooks w, events e
WHERE d.workspace_id = due.workspace_id AND d.id = due.id
  AND w.workspace_id = d.workspace_id AND w.id = d.webhook_id
  AND e.workspace_id = d.workspace_id AND e.id = d.event_id
RETURNING d.workspace_id, d.id AS delivery_id, d.webhook_id, w.url, w.secret_sealed, d.attempts, d.created_at,
          e.id AS event_id, e.type AS event_type, e.occurred_at, e.conversation_id, e.payload`

// ClaimDeliveries leases up to c.Limit due deliveries within each workspace's and webhook's
// share (claimSQL), under the claim lock, each with its event rendered as the body to post.
func (s *Store) ClaimDeliveries(ctx context.Context, c subscription.Claim) ([]subscription.Job, error) {
	type claimed struct {
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
	var rows []claimed
	err := s.pgxTx(ctx, func(pgx.Tx) (*batch, error) {
		// The lock is a statement of its own, before the claim: the claim's snapshot must be
		// taken after the lock is held. Under READ COMMITTED each statement of a batch takes
		// its snapshot when PostgreSQL starts it, after the one before has finished, so the
		// two can share the transaction's one batch, with BEGIN and COMMIT.
		b := &batch{}
		b.exec("lock webhook delivery claims", statement{`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, []any{claimLockKey}})
		queueRows(b, "claim webhook deliveries", &rows, statement{claimSQL,
			[]any{c.Now, c.Now.Add(c.Lease), c.PerWebhook, c.PerWorkspace, c.Limit}})
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]subscription.Job, len(rows))
	for i, r := range rows {
		body, err := resource.EventBody(event.Event{WorkspaceID: r.WorkspaceID, ID: r.EventID, Type: r.EventType,
			OccurredAt: r.OccurredAt, ConversationID: r.ConversationID, Payload: r.Payload})
		if err != nil {
			return nil, fmt.Errorf("render webhook body: %w", err)
		}
		out[i] = subscription.Job{WorkspaceID: r.WorkspaceID, DeliveryID: r.DeliveryID, WebhookID: r.WebhookID, URL: r.URL,
			SealedSecret: r.SecretSealed, Attempts: r.Attempts, CreatedAt: r.CreatedAt, EventID: r.EventID, Body: body}
	}
	return out, nil
}

// attemptLogSize is how many attempts a delivery's log keeps (the newest).
const attemptLogSize = 30

// finishSQL records an attempt on a delivery and ends its lease.
const finishSQL = `
UPDATE webhook_deliveries SET attempts = attempts + 1, status = $3, next_attempt_at = $4, leased_until = NULL,
       last_attempt_at = $5, last_status_code = $6, last_latency_ms = $7, last_error = $8,
       delivered_at = $9,
       attempt_log = (CASE WHEN jsonb_array_length(attempt_log) >= $10 THEN attempt_log - 0 ELSE attempt_log END) || jsonb_build_array(CAST($11 AS jsonb))
WHERE workspace_id = $1 AND id = $2`

// webhookSucceededSQL ends a webhook's failure streak.
const webhookSucceededSQL = `UPDATE webhooks SET failing_since = NULL WHERE workspace_id = $1 AND id = $2 AND failing_since IS NOT NULL`

// webhookFailedSQL starts or continues a webhook's failure streak at $3, and disables the
// webhook when the streak began at or before the cutoff $4.
const webhookFailedSQL = `
UPDATE webhooks SET failing_since = coalesce(failing_since, $3),
       enabled = enabled AND NOT (coalesce(failing_since, $3) <= $4),
       disabled_at = CASE WHEN enabled AND coalesce(failing_since, $3) <= $4 THEN $3 ELSE disabled_at END,
       disabled_reason = CASE WHEN enabled AND coalesce(failing_since, $3) <= $4
           THEN 'every delivery failed since ' || to_char(coalesce(failing_since, $3) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
           ELSE disabled_reason END
WHERE workspace_id = $1 AND id = $2`

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
	return s.pgxTx(ctx, func(pgx.Tx) (*batch, error) {
		b := &batch{}
		b.exec("record delivery attempt", statement{finishSQL, []any{j.WorkspaceID, j.DeliveryID, o.Status, next, at,
			o.Attempt.StatusCode, o.Attempt.LatencyMS, o.Attempt.Error, delivered, attemptLogSize, string(entry)}})
		if o.Status == subscription.StatusDelivered {
			b.exec("clear webhook failures", statement{webhookSucceededSQL, []any{j.WorkspaceID, j.WebhookID}})
		} else {
			b.exec("record webhook failure", statement{webhookFailedSQL, []any{j.WorkspaceID, j.WebhookID, at, at.Add(-o.DisableAfter)}})
		}
		return b, nil
	})
}
