-- Description: broadcasts (issue 16). One message to an audience of contacts (given ids, or
-- every contact with a tag) on one channel, each recipient sent through the ordinary
-- rule-checked send by a River job (inserted with the broadcast, unique by its id, due at
-- send_at). Creating inserts the broadcast and every recipient in one INSERT ... SELECT.
--
-- broadcast_recipients is the broadcast's progress and its guard against writing to anyone
-- twice: a recipient's row is locked and flipped from 'pending' in the transaction that writes
-- its message (or records the refusal or failure), so a worker that crashed and was rescued
-- skips everyone already done. The worker walks the pending ones by contact_id, the recipients
-- list pages by contact_id filtered by status, and the counts count by status: each a range of
-- broadcast_recipients_status (the unfiltered list walks the primary key).
--
-- Counts (sent, refused, failed) are kept on the broadcast by the worker, added after each
-- batch and counted again from the recipients when it starts and when it stops, so a crash
-- between a batch and its count leaves them behind by at most one batch until the broadcast
-- resumes. pending is total minus the others. No foreign key to contacts: a deleted contact's
-- recipient stays (its send fails with contact_not_found), and deleting a contact does not
-- have to search the recipients of every broadcast.

-- +goose Up
CREATE TABLE broadcasts (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id uuid NOT NULL,
    name text NOT NULL,
    channel_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'running', 'done', 'cancelled')),
    -- The message: {type, text, template}, with {{contact.*}} variables unfilled.
    message jsonb NOT NULL,
    -- {contact_ids: n} or {tag: "..."}: how the audience was chosen (the ids are the recipients).
    audience jsonb NOT NULL,
    send_at timestamptz,
    created_by_kind text NOT NULL CHECK (created_by_kind IN ('user', 'api_key')),
    created_by_id uuid NOT NULL,
    -- The person the sends are made as (a user, or the user a key acted for); NULL for a key.
    user_id uuid,
    total integer NOT NULL,
    sent integer NOT NULL DEFAULT 0,
    refused integer NOT NULL DEFAULT 0,
    failed integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE broadcast_recipients (
    workspace_id uuid NOT NULL,
    broadcast_id uuid NOT NULL,
    contact_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'refused', 'failed')),
    -- The rule table's answer when it refused (and when it allowed: the send's decision).
    decision jsonb,
    message_id uuid,
    -- A refusal's code (messaging_window_closed, no_channel_identity, ...) or a failure's.
    error text,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, broadcast_id, contact_id),
    FOREIGN KEY (workspace_id, broadcast_id) REFERENCES broadcasts (workspace_id, id) ON DELETE CASCADE,
    CHECK ((status = 'sent') = (message_id IS NOT NULL))
);

CREATE INDEX broadcast_recipients_status ON broadcast_recipients (workspace_id, broadcast_id, status, contact_id);

-- +goose Down
DROP TABLE broadcast_recipients;
DROP TABLE broadcasts;
