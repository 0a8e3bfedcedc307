-- Description: scheduled sends (issue 16). A message an agent or integration asks to send at a
-- later instant: the draft is kept as given (validated at scheduling), and at send_at a River
-- job (inserted in the scheduling transaction, unique by the row's id) runs it through the
-- ordinary send path, which decides again on the state of that moment. status moves once, from
-- 'scheduled' to 'sent' (message_id set), 'blocked' (refused, fallback too), 'cancelled' (DELETE,
-- or the customer replied) or 'failed' (the send could not be attempted: the identity or channel
-- is gone). decision is the fire-time answer; preview_decision the one computed at scheduling
-- for send_at, assuming nothing else happens.
--
-- Lists filter by contact or status and page by id (UUIDv7: creation order), each an index walk.
-- An inbound message cancels the contact's rows that asked for it with one indexed UPDATE
-- (scheduled_messages_reply_cancel holds only those still waiting).

-- +goose Up
CREATE TABLE scheduled_messages (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id uuid NOT NULL,
    contact_id uuid NOT NULL,
    channel_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'scheduled'
        CHECK (status IN ('scheduled', 'sent', 'blocked', 'cancelled', 'failed')),
    send_at timestamptz NOT NULL,
    -- The draft: {type, text, template, attachments, tag}, as an immediate send takes it.
    draft jsonb NOT NULL,
    -- {name, language, variables}: an approved template of channel_id, tried when the draft is refused.
    fallback_template jsonb,
    cancel_if_customer_replied boolean NOT NULL DEFAULT false,
    -- Who scheduled it: the actor, and the person (a user, or the user a key acted for) whom a
    -- send assigns the conversation to; NULL for a key on its own.
    created_by_kind text NOT NULL CHECK (created_by_kind IN ('user', 'api_key')),
    created_by_id uuid NOT NULL,
    user_id uuid,
    preview_decision jsonb NOT NULL,
    decision jsonb,
    message_id uuid,
    -- Why it is not sent: customer_replied, cancelled, or a refusal or failure code.
    reason text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE,
    CHECK ((status = 'sent') = (message_id IS NOT NULL))
);

CREATE INDEX scheduled_messages_contact ON scheduled_messages (workspace_id, contact_id, id);
CREATE INDEX scheduled_messages_status ON scheduled_messages (workspace_id, status, id);
CREATE INDEX scheduled_messages_reply_cancel ON scheduled_messages (workspace_id, contact_id)
    WHERE status = 'scheduled' AND cancel_if_customer_replied;
-- Not read by the job (River holds the due time); for operators' "what is due" and the bench.
CREATE INDEX scheduled_messages_due ON scheduled_messages (send_at) WHERE status = 'scheduled';

-- +goose Down
DROP TABLE scheduled_messages;
