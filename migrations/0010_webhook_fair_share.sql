-- Description: independent, fairly shared subscriber-webhook deliveries (issue 12 point 6).
--
-- The worker used to claim a batch of 20 due deliveries and wait for the slowest, so one
-- tenant's endpoint that never answered held everyone's webhooks for WEBHOOK_TIMEOUT per batch.
-- Now each delivery finishes on its own, and a claim takes at most a fixed share of deliveries
-- in flight per workspace and per webhook, counted over every process. leased_until marks a
-- delivery being attempted (until then: a worker that dies leaves its lease to run out, and the
-- delivery is retried); the claim counts those rows per (workspace, webhook), and FinishDelivery
-- clears the mark. The claim walks each enabled webhook's due deliveries oldest first, which
-- webhook_deliveries_due_per_webhook serves; the old global due index is no longer read.

-- +goose Up
ALTER TABLE webhook_deliveries ADD COLUMN leased_until timestamptz;
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (workspace_id, webhook_id)
    WHERE leased_until IS NOT NULL;
CREATE INDEX webhook_deliveries_due_per_webhook ON webhook_deliveries (workspace_id, webhook_id, next_attempt_at, id)
    WHERE status = 'pending';
DROP INDEX webhook_deliveries_due;

-- +goose Down
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
DROP INDEX webhook_deliveries_due_per_webhook;
DROP INDEX webhook_deliveries_leased;
ALTER TABLE webhook_deliveries DROP COLUMN leased_until;
