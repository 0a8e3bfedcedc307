-- Description: the tenant, its people and credentials, and its contacts with their one
-- conversation each. Every table carries workspace_id and every key and unique index includes
-- it, so the schema can be distributed by workspace. Two lookups have to work before the
-- workspace is known and are global on purpose: users.email (login) and api_keys.key_hash
-- (authenticating a key); in a distributed setup they would be reference tables.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE workspaces (
    id                      uuid PRIMARY KEY,
    name                    text NOT NULL,
    unassign_on_close       boolean NOT NULL DEFAULT false,
    closing_note_required   boolean NOT NULL DEFAULT false,
    closing_note_categories text[] NOT NULL DEFAULT '{}',
    default_phone_region    text NOT NULL DEFAULT 'US',
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    email         text NOT NULL,
    name          text NOT NULL DEFAULT '',
    role          text NOT NULL CHECK (role IN ('owner', 'manager', 'agent')),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX users_email_key ON users (email);

-- A session is one login: its refresh tokens form a rotation family, and access tokens carry
-- its id so that logout (or reuse of a rotated refresh token) stops them at once.
CREATE TABLE sessions (
    workspace_id uuid NOT NULL,
    id           uuid NOT NULL,
    user_id      uuid NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);

CREATE TABLE refresh_tokens (
    workspace_id uuid NOT NULL,
    id           uuid NOT NULL,
    session_id   uuid NOT NULL,
    token_hash   bytea NOT NULL,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, session_id) REFERENCES sessions (workspace_id, id) ON DELETE CASCADE
);
-- The token itself names its workspace (see auth), so this lookup stays within one workspace.
CREATE UNIQUE INDEX refresh_tokens_hash_key ON refresh_tokens (workspace_id, token_hash);

CREATE TABLE api_keys (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    name         text NOT NULL,
    prefix       text NOT NULL,
    key_hash     bytea NOT NULL,
    scopes       text[] NOT NULL,
    created_by   uuid,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX api_keys_hash_key ON api_keys (key_hash);

CREATE TABLE contacts (
    workspace_id  uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    first_name    text NOT NULL DEFAULT '',
    last_name     text NOT NULL DEFAULT '',
    email         text,
    phone         text,
    language      text NOT NULL DEFAULT '',
    country       text NOT NULL DEFAULT '',
    tags          text[] NOT NULL DEFAULT '{}',
    custom_fields jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    -- What q searches: names (also as "first last") and email in one lower-cased string, and
    -- the phone's digits, so "+1 (202)" and "5550 123" match by digits.
    search_text   text GENERATED ALWAYS AS (lower(first_name || ' ' || last_name || ' ' || coalesce(email, ''))) STORED,
    phone_digits  text GENERATED ALWAYS AS (regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g')) STORED,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX contacts_email_key ON contacts (workspace_id, email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX contacts_phone_key ON contacts (workspace_id, phone) WHERE phone IS NOT NULL;
CREATE INDEX contacts_search_trgm ON contacts USING gin (search_text gin_trgm_ops);
CREATE INDEX contacts_phone_trgm ON contacts USING gin (phone_digits gin_trgm_ops);
CREATE INDEX contacts_tags ON contacts USING gin (tags);

-- One conversation per contact, reopened under the same id.
CREATE TABLE conversations (
    workspace_id     uuid NOT NULL,
    id               uuid NOT NULL,
    contact_id       uuid NOT NULL,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    assignee_id      uuid,
    last_message_at  timestamptz NOT NULL DEFAULT now(),
    closed_at        timestamptz,
    closing_category text,
    closing_summary  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, id),
    UNIQUE (workspace_id, contact_id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, assignee_id) REFERENCES users (workspace_id, id) ON DELETE SET NULL (assignee_id)
);

CREATE TABLE conversation_events (
    workspace_id     uuid NOT NULL,
    id               uuid NOT NULL,
    conversation_id  uuid NOT NULL,
    type             text NOT NULL CHECK (type IN ('opened', 'closed', 'reopened', 'assigned', 'unassigned')),
    actor_kind       text NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'contact', 'system')),
    actor_id         uuid,
    assignee_id      uuid,
    closing_category text,
    closing_summary  text,
    at               timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_events_conversation ON conversation_events (workspace_id, conversation_id, id);

-- +goose Down
DROP TABLE conversation_events;
DROP TABLE conversations;
DROP TABLE contacts;
DROP TABLE api_keys;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE workspaces;
