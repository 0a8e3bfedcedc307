-- Description: live events (issue 8). events is the transactional outbox of every change a
-- subscriber can hear about: written in the same transaction as the change, with the resource
-- as the API returns it. Its id is a bigint identity, and writers of one workspace take a
-- transaction advisory lock before inserting, so within a workspace ids are allocated in
-- commit order and "id > Last-Event-ID" never skips an event that commits late.
-- webhooks are subscriber endpoints (the signing secret sealed with SECRETS_KEY);
-- webhook_deliveries is the per-subscription outbox a worker drains with FOR UPDATE SKIP
-- LOCKED, oldest first per (webhook, order_key), where order_key is the conversation.

-- +goose Up
CREATE TABLE events (
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id              bigint GENERATED ALWAYS AS IDENTITY,
    type            text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    conversation_id uuid,
    payload         jsonb NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX events_occurred_at ON events (occurred_at);

CREATE TABLE webhooks (
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id              uuid NOT NULL,
    url             text NOT NULL,
    description     text NOT NULL DEFAULT '',
    events          text[] NOT NULL,
    secret_sealed   bytea NOT NULL,
    enabled         boolean NOT NULL DEFAULT true,
    failing_since   timestamptz,
    disabled_at     timestamptz,
    disabled_reason text,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE TABLE webhook_deliveries (
    workspace_id     uuid NOT NULL,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    webhook_id       uuid NOT NULL,
    event_id         bigint NOT NULL,
    order_key        uuid NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_latency_ms  integer,
    last_error       text,
    attempt_log      jsonb NOT NULL DEFAULT '[]',
    created_at       timestamptz NOT NULL,
    delivered_at     timestamptz,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, webhook_id) REFERENCES webhooks (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, event_id) REFERENCES events (workspace_id, id) ON DELETE CASCADE
);
-- The worker's scan: due pending deliveries, and the "is an older one of my key pending" probe.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_key ON webhook_deliveries (workspace_id, webhook_id, order_key, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (workspace_id, webhook_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE events;
