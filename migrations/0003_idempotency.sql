-- Description: Idempotency-Key records. A retried request with the same key replays the first
-- answer byte for byte. The record is written in the same transaction as the work it guards,
-- so a committed send always has its record and a rolled-back one never does; a concurrent
-- duplicate waits on the key's unique index until the first commits, then replays it.

-- +goose Up
CREATE TABLE idempotency_keys (
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key             text NOT NULL,
    request_hash    bytea NOT NULL,
    response_status integer,
    response_body   bytea,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, key)
);
-- Expired records are purged in batches by age.
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
