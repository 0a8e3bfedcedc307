-- Description: conversation labels (DESIGN §7 "Labels").
--
-- A workspace names its labels (unique without regard to case, so "Refund" and "refund" are one
-- label) and puts up to 20 of them on a conversation; the inbox rows carry them and filter by
-- one. conversation_labels is the set: its key (workspace_id, conversation_id, label_id) reads
-- a conversation's labels for a page of rows, and conversation_labels_label (workspace_id,
-- label_id, conversation_id) serves the inbox's label_id filter both ways the planner may take
-- it (a probe per walked conversation, or the label's conversations as the driving side) and
-- the cascade when a label is deleted. A label's deletion takes it off every conversation in
-- the same statement, and a conversation's takes its rows with it.

-- +goose Up
CREATE TABLE labels (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 50 AND name = btrim(name)),
    color        text NOT NULL CHECK (color ~ '^#[0-9a-f]{6}$'),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
-- One name per workspace without regard to case; in the "C" collation so that the label list
-- (which walks this index) and a row's labels are in the same order on any database locale.
CREATE UNIQUE INDEX labels_name_key ON labels (workspace_id, (lower(name) COLLATE "C"));

CREATE TABLE conversation_labels (
    workspace_id    uuid NOT NULL,
    conversation_id uuid NOT NULL,
    label_id        uuid NOT NULL,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id, label_id),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, label_id) REFERENCES labels (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_labels_label ON conversation_labels (workspace_id, label_id, conversation_id);

-- +goose Down
DROP TABLE conversation_labels;
DROP TABLE labels;
