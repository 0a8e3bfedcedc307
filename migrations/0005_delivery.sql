-- Description: what the delivery dispatcher records and looks up. Each outgoing message counts
-- its provider calls (attempts, last_attempt_at), shown by the API. Receipts from a provider's
-- webhook name the provider's message id, so it is indexed within the channel (workspace_id
-- first, like every index). message_status_rank orders delivery statuses so that a status
-- change is one UPDATE that only moves forward: queued < sent < delivered < read; failed may
-- follow queued or sent and is final.
--
-- Provider webhooks arrive at /webhooks/{channel_id}/{provider}, before the workspace is known,
-- so channels also get a global unique index on id, on purpose and like users.email and
-- api_keys.key_hash in 0001: channel ids are UUIDs, unique anyway; in a distributed setup this
-- lookup would be a reference table from channel id to workspace.
--
-- River's own tables (the job queue) are created by `switchboard migrate up` through River's
-- migrator, not here.

-- +goose Up
ALTER TABLE messages
    ADD COLUMN attempts        integer NOT NULL DEFAULT 0,
    ADD COLUMN last_attempt_at timestamptz;

CREATE INDEX messages_provider_message_id ON messages (workspace_id, channel_id, provider_message_id)
    WHERE provider_message_id IS NOT NULL;

CREATE UNIQUE INDEX channels_id_key ON channels (id);

-- The rank a status must exceed to replace another: see the header.
-- +goose StatementBegin
CREATE FUNCTION message_status_rank(status text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE status
        WHEN 'queued' THEN 0
        WHEN 'sent' THEN 1
        WHEN 'delivered' THEN 2
        WHEN 'read' THEN 3
        WHEN 'failed' THEN 4
        ELSE 5
    END;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION message_status_rank(text);
DROP INDEX channels_id_key;
DROP INDEX messages_provider_message_id;
ALTER TABLE messages
    DROP COLUMN attempts,
    DROP COLUMN last_attempt_at;
