-- Description: snooze. An agent puts a conversation aside until an instant, or until the
-- customer writes: status 'snoozed' with snoozed_until (NULL: until the customer writes). An
-- inbound message, reopen or the instant passing wakes it (status 'open' again); close closes
-- it. snoozed_until is set only while snoozed, so a stale instant can never wake a conversation
-- that was closed or reopened meanwhile.
--
-- The inbox's status=snoozed walks its own partial index, as status=open and status=closed do
-- (with the search text, migration 0008); inbox=mine / assignee_id with status=snoozed walk
-- conversations_assignee, whose key already holds status. The wake-up job finds due snoozes
-- across workspaces by conversations_snooze_due, which holds only the timed snoozes.
--
-- The lifecycle records 'snoozed' (with the instant) and 'woke' (with why: the customer
-- replied, or the time came).

-- +goose Up
ALTER TABLE conversations
    DROP CONSTRAINT conversations_status_check,
    ADD CONSTRAINT conversations_status_check CHECK (status IN ('open', 'closed', 'snoozed')),
    ADD COLUMN snoozed_until timestamptz,
    ADD CONSTRAINT conversations_snoozed_until_check CHECK (snoozed_until IS NULL OR status = 'snoozed');

ALTER TABLE conversation_events
    DROP CONSTRAINT conversation_events_type_check,
    ADD CONSTRAINT conversation_events_type_check
        CHECK (type IN ('opened', 'closed', 'reopened', 'assigned', 'unassigned', 'snoozed', 'woke')),
    -- snoozed: the instant it was snoozed until (NULL: until the customer writes).
    ADD COLUMN snoozed_until timestamptz,
    -- woke: why.
    ADD COLUMN reason text CHECK (reason IN ('customer_replied', 'time'));

CREATE INDEX conversations_snoozed ON conversations (workspace_id, last_message_at, id)
    INCLUDE (search_text, phone_digits) WHERE status = 'snoozed';
CREATE INDEX conversations_snooze_due ON conversations (snoozed_until)
    WHERE status = 'snoozed' AND snoozed_until IS NOT NULL;

-- +goose Down
DROP INDEX conversations_snooze_due;
DROP INDEX conversations_snoozed;
DELETE FROM conversation_events WHERE type IN ('snoozed', 'woke');
ALTER TABLE conversation_events
    DROP COLUMN reason,
    DROP COLUMN snoozed_until,
    DROP CONSTRAINT conversation_events_type_check,
    ADD CONSTRAINT conversation_events_type_check
        CHECK (type IN ('opened', 'closed', 'reopened', 'assigned', 'unassigned'));
-- A snoozed conversation goes back to the inbox rather than be lost.
UPDATE conversations SET status = 'open', snoozed_until = NULL WHERE status = 'snoozed';
ALTER TABLE conversations
    DROP CONSTRAINT conversations_snoozed_until_check,
    DROP COLUMN snoozed_until,
    DROP CONSTRAINT conversations_status_check,
    ADD CONSTRAINT conversations_status_check CHECK (status IN ('open', 'closed'));
