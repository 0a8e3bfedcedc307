-- Description: channels, contact identities and messages, and what the inbox needs on
-- conversations. Customers write in on a channel through an identity (their address on that
-- channel); each message belongs to the contact's one conversation. The inbox lists
-- conversations filtered by status, assignee and channel, sorted by last message time, and
-- embeds the last message and the latest closing note: both are kept on the conversation row,
-- so a page of the inbox is one query without a lookup per row. Every key, unique index and
-- foreign key starts with workspace_id, so the schema can be distributed by workspace.

-- +goose Up
CREATE TABLE channels (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    type         text NOT NULL CHECK (type IN ('whatsapp', 'messenger', 'instagram', 'viber', 'wechat',
                                               'telegram', 'line', 'webchat', 'sms', 'email', 'custom')),
    name         text NOT NULL,
    provider     text NOT NULL DEFAULT 'sandbox',
    -- The provider's non-secret settings; its secrets are one AES-256-GCM sealed JSON object.
    config       jsonb NOT NULL DEFAULT '{}',
    secrets      bytea,
    secret_names text[] NOT NULL DEFAULT '{}',
    rule_options jsonb NOT NULL DEFAULT '{}',
    -- A channel with messages is archived rather than deleted: its history stays readable.
    archived_at  timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id)
);

-- A contact's address on one channel. last_inbound_at starts the channel's messaging window;
-- outbound_since_inbound counts our messages since then (WeChat allows five per customer
-- message), reset when last_inbound_at moves forward.
CREATE TABLE contact_identities (
    workspace_id           uuid NOT NULL,
    id                     uuid NOT NULL,
    contact_id             uuid NOT NULL,
    channel_id             uuid NOT NULL,
    identifier             text NOT NULL,
    last_inbound_at        timestamptz,
    outbound_since_inbound integer NOT NULL DEFAULT 0,
    created_at             timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);
-- Ingestion finds the identity by its address; it also serves "has an identity on channel X".
CREATE UNIQUE INDEX contact_identities_identifier_key ON contact_identities (workspace_id, channel_id, identifier);
CREATE INDEX contact_identities_contact ON contact_identities (workspace_id, contact_id, channel_id);

CREATE TABLE messages (
    workspace_id        uuid NOT NULL,
    id                  uuid NOT NULL,
    conversation_id     uuid NOT NULL,
    contact_id          uuid NOT NULL,
    channel_id          uuid NOT NULL,
    identity_id         uuid,
    direction           text NOT NULL CHECK (direction IN ('incoming', 'outgoing')),
    type                text NOT NULL CHECK (type IN ('text', 'template', 'attachment')),
    text                text NOT NULL DEFAULT '',
    attachment          jsonb,
    template            jsonb,
    tag                 text,
    sender_kind         text NOT NULL CHECK (sender_kind IN ('contact', 'user', 'api_key', 'system')),
    sender_id           uuid,
    status              text NOT NULL CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'read', 'failed')),
    billable            boolean NOT NULL DEFAULT false,
    provider_message_id text,
    -- The sender's id of an ingested message, for dedupe: one message per channel and id.
    external_id         text,
    error_code          text,
    error_message       text,
    -- When the message happened: received (incoming) or created (outgoing).
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id),
    -- A contact's messages go with its conversation. contact_id and identity_id have no foreign
    -- key of their own: they die with the conversation (one contact, one conversation), and a
    -- cascade through them would need two more indexes on the largest table.
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE,
    -- No cascade: a channel with messages is archived, never deleted.
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id)
);
CREATE UNIQUE INDEX messages_external_id_key ON messages (workspace_id, channel_id, external_id) WHERE external_id IS NOT NULL;
-- A thread, newest first, by keyset.
CREATE INDEX messages_conversation ON messages (workspace_id, conversation_id, created_at, id);
-- "Does this channel have messages?" when deleting it.
CREATE INDEX messages_channel ON messages (workspace_id, channel_id);

-- The inbox row: the last message's preview and who wrote the latest closing note.
ALTER TABLE conversations
    ADD COLUMN last_message_id         uuid,
    ADD COLUMN last_message_channel_id uuid,
    ADD COLUMN last_message_direction  text,
    ADD COLUMN last_message_type       text,
    ADD COLUMN last_message_text       text,
    ADD COLUMN closing_at              timestamptz,
    ADD COLUMN closing_actor_kind      text,
    ADD COLUMN closing_actor_id        uuid;

-- The inbox's filters and sorts, each walked in last-message order so a page stops at LIMIT.
-- status=open / status=closed (partial, small) and status=all:
CREATE INDEX conversations_open ON conversations (workspace_id, last_message_at, id) WHERE status = 'open';
CREATE INDEX conversations_closed ON conversations (workspace_id, last_message_at, id) WHERE status = 'closed';
CREATE INDEX conversations_recent ON conversations (workspace_id, last_message_at, id);
-- inbox=mine, assignee_id=..., inbox=unassigned (assignee_id IS NULL), with or without status:
CREATE INDEX conversations_assignee ON conversations (workspace_id, assignee_id, status, last_message_at, id);

-- +goose Down
DROP INDEX conversations_assignee;
DROP INDEX conversations_recent;
DROP INDEX conversations_closed;
DROP INDEX conversations_open;
ALTER TABLE conversations
    DROP COLUMN last_message_id,
    DROP COLUMN last_message_channel_id,
    DROP COLUMN last_message_direction,
    DROP COLUMN last_message_type,
    DROP COLUMN last_message_text,
    DROP COLUMN closing_at,
    DROP COLUMN closing_actor_kind,
    DROP COLUMN closing_actor_id;
DROP TABLE messages;
DROP TABLE contact_identities;
DROP TABLE channels;
