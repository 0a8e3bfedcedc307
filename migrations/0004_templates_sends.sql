-- Description: what rule-checked sends need. Templates are a channel's pre-approved messages
-- (unique per channel by name and language); a send after the WhatsApp or WeChat window
-- names one. channel_usage counts a channel's chatbot-initiated messages per calendar month
-- in UTC (Viber's monthly allowance), one row per channel and month, incremented in the
-- send's transaction with a guard so concurrent sends never pass the limit.

-- +goose Up
CREATE TABLE templates (
    workspace_id uuid NOT NULL,
    id           uuid NOT NULL,
    channel_id   uuid NOT NULL,
    name         text NOT NULL,
    language     text NOT NULL,
    category     text NOT NULL CHECK (category IN ('marketing', 'utility', 'authentication')),
    status       text NOT NULL CHECK (status IN ('approved', 'pending', 'rejected', 'paused')),
    body         text NOT NULL,
    header       text NOT NULL DEFAULT '',
    footer       text NOT NULL DEFAULT '',
    buttons      jsonb NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX templates_name_key ON templates (workspace_id, channel_id, name, language);

CREATE TABLE channel_usage (
    workspace_id uuid NOT NULL,
    channel_id   uuid NOT NULL,
    month        date NOT NULL, -- first day of the month, UTC
    initiated    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, channel_id, month),
    FOREIGN KEY (workspace_id, channel_id) REFERENCES channels (workspace_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE channel_usage;
DROP TABLE templates;
