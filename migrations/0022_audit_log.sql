-- Description: the audit log (issue 18): who (a user or an API key, from which client address
-- and user agent) did what to which resource and when, with the changed fields' before and
-- after. Each entry is written in the same transaction as the change it records. Secrets never
-- reach it: their before and after are "changed" or null.
--
-- The list walks audit_log_pkey backwards (newest first: ids are UUID v7); its filters have an
-- index each, with id last so a filtered page is still a walk in id order: action (the column
-- is collated "C", so a prefix like channel.* is a range of the same index), actor_id, and
-- created_at (since; also the retention purge, per workspace).
--
-- A workspace keeps its entries audit_retention_days (default 365, 1 to 3650); a periodic job
-- deletes older ones in batches.

-- +goose Up
ALTER TABLE workspaces ADD COLUMN audit_retention_days integer NOT NULL DEFAULT 365
    CONSTRAINT workspaces_audit_retention_days_check CHECK (audit_retention_days BETWEEN 1 AND 3650);

CREATE TABLE audit_log (
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    action        text COLLATE "C" NOT NULL,
    actor_kind    text NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'system', 'anonymous')),
    actor_id      uuid,
    client_ip     inet,
    user_agent    text NOT NULL DEFAULT '',
    resource_type text NOT NULL,
    resource_id   uuid,
    changes       jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

CREATE INDEX audit_log_action ON audit_log (workspace_id, action, id);
CREATE INDEX audit_log_actor ON audit_log (workspace_id, actor_id, id) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_log_created ON audit_log (workspace_id, created_at);

-- +goose Down
DROP TABLE audit_log;
ALTER TABLE workspaces DROP COLUMN audit_retention_days;
