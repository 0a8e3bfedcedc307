-- Description: internal notes and @mentions (DESIGN §7 "Notes and mentions").
--
-- A note is a row of messages: type 'note', direction 'internal', status 'internal' (it is
-- never delivered), written by a user, on no channel and no identity, so it sits in the
-- thread's order on the thread's index (messages_conversation) and every read of a message
-- reads it too. messages.channel_id becomes nullable for that, and messages_note_check ties
-- those columns together: a note and only a note has no channel. messages.mentions is the
-- note's list of mentioned users as written (NULL for every other message).
--
-- note_mentions holds one row per note and mentioned user, with when the mention was made
-- (the note's creation, or the edit that added it); conversation_mentions keeps, per user and
-- conversation, the latest of those (last_mention_at). Both are written in the note's
-- transaction, under the conversation's row lock, and conversation_mentions is recomputed from
-- note_mentions for the users a change touched, so an edit or delete that removes a user's
-- last mention in a conversation removes the row. GET /v1/conversations?inbox=mentions walks
-- conversation_mentions_recent (backwards for the latest first); the read state (0015) reads
-- conversation_mentions by its key.
--
-- The new CHECK constraints are checked against the existing messages in one scan, under
-- ALTER TABLE's lock (seconds at ten million messages); dropping NOT NULL and adding a column
-- without a default only change the catalog.

-- +goose Up
ALTER TABLE messages
    ALTER COLUMN channel_id DROP NOT NULL,
    ADD COLUMN mentions uuid[],
    DROP CONSTRAINT messages_direction_check,
    DROP CONSTRAINT messages_type_check,
    DROP CONSTRAINT messages_status_check,
    ADD CONSTRAINT messages_direction_check CHECK (direction IN ('incoming', 'outgoing', 'internal')),
    ADD CONSTRAINT messages_type_check CHECK (type IN ('text', 'template', 'attachment', 'note')),
    ADD CONSTRAINT messages_status_check
        CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'read', 'failed', 'internal')),
    ADD CONSTRAINT messages_note_check CHECK (
        (type = 'note') = (direction = 'internal')
        AND (type = 'note') = (status = 'internal')
        AND (type = 'note') = (channel_id IS NULL)
        AND (type = 'note') = (mentions IS NOT NULL)
        AND (type <> 'note' OR (identity_id IS NULL AND sender_kind = 'user' AND sender_id IS NOT NULL)));

CREATE TABLE note_mentions (
    workspace_id    uuid NOT NULL,
    message_id      uuid NOT NULL,
    user_id         uuid NOT NULL,
    conversation_id uuid NOT NULL,
    mentioned_at    timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, message_id, user_id),
    FOREIGN KEY (workspace_id, message_id) REFERENCES messages (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);
-- A user's latest mention in a conversation (the recomputation), and a user's deletion.
CREATE INDEX note_mentions_user ON note_mentions (workspace_id, user_id, conversation_id, mentioned_at);

CREATE TABLE conversation_mentions (
    workspace_id    uuid NOT NULL,
    user_id         uuid NOT NULL,
    conversation_id uuid NOT NULL,
    last_mention_at timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, user_id, conversation_id),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);
-- inbox=mentions, keyset on (last_mention_at, conversation_id): both columns in one direction,
-- so the row comparison of the keyset bounds the walk in either order.
CREATE INDEX conversation_mentions_recent ON conversation_mentions (workspace_id, user_id, last_mention_at, conversation_id);
-- A conversation's deletion (the cascade), and who was mentioned in one conversation.
CREATE INDEX conversation_mentions_conversation ON conversation_mentions (workspace_id, conversation_id);

-- +goose Down
DROP TABLE conversation_mentions;
DROP TABLE note_mentions;
DELETE FROM messages WHERE type = 'note';
ALTER TABLE messages
    DROP CONSTRAINT messages_note_check,
    DROP CONSTRAINT messages_direction_check,
    DROP CONSTRAINT messages_type_check,
    DROP CONSTRAINT messages_status_check,
    DROP COLUMN mentions,
    ALTER COLUMN channel_id SET NOT NULL,
    ADD CONSTRAINT messages_direction_check CHECK (direction IN ('incoming', 'outgoing')),
    ADD CONSTRAINT messages_type_check CHECK (type IN ('text', 'template', 'attachment')),
    ADD CONSTRAINT messages_status_check CHECK (status IN ('received', 'queued', 'sent', 'delivered', 'read', 'failed'));
