-- Description: read state per user and conversation, and the inbox's tab counts as counters.
--
-- unread_count is the conversation's incoming messages after the user's last read. Counting
-- them per row on every inbox page would read every unread message of every row, so the
-- conversation keeps incoming_count (written by ingestion, under the conversation's lock) and a
-- read keeps how many of them it covered (read_incoming): unread_count is the difference.
--
-- GET /v1/conversations/counts answers from counters, never count(*) over the open set.
-- Triggers keep them, so every path that changes a conversation's status or assignee
-- (close, reopen, assign, snooze, wake, a send's reopen, a new contact, a deleted contact, a
-- deleted user's SET NULL) counts, in the transaction that makes the change:
--   - conversation_counts: the workspace's open, open-unassigned and snoozed totals, spread
--     over 16 slots per workspace (the transaction's id picks the slot, so one transaction
--     that changes many conversations takes one slot, and concurrent ones in one workspace
--     mostly take different slots), so they do not queue on one row; a read sums the slots;
--   - user_inbox_counts: per user, open and snoozed conversations assigned to them, and
--     mentions_unread: conversations with a mention of the user after the user's last read
--     (conversation_mentions, migration 0014, is copied into the read state by a trigger, so
--     one row per user and conversation decides it).
-- The conversation trigger fires only when status or assignee changes (WHEN), so an inbound
-- message or a send that changes neither costs nothing more. Counter tables have no foreign
-- keys: a cascade (a deleted user or contact) updates them while it deletes.

-- +goose Up
ALTER TABLE conversations ADD COLUMN incoming_count bigint NOT NULL DEFAULT 0;
UPDATE conversations v SET incoming_count = m.n
FROM (SELECT workspace_id, conversation_id, count(*) AS n FROM messages
      WHERE direction = 'incoming' GROUP BY workspace_id, conversation_id) m
WHERE v.workspace_id = m.workspace_id AND v.id = m.conversation_id;

-- How far a user has read a conversation, and (kept by the mentions trigger below) when they
-- were last mentioned in it.
CREATE TABLE conversation_reads (
    workspace_id    uuid NOT NULL,
    user_id         uuid NOT NULL,
    conversation_id uuid NOT NULL,
    last_read_at    timestamptz,
    read_incoming   bigint NOT NULL DEFAULT 0,
    last_mention_at timestamptz,
    PRIMARY KEY (workspace_id, user_id, conversation_id),
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_reads_conversation ON conversation_reads (workspace_id, conversation_id);

CREATE TABLE conversation_counts (
    workspace_id    uuid NOT NULL,
    slot            smallint NOT NULL,
    open_all        bigint NOT NULL DEFAULT 0,
    open_unassigned bigint NOT NULL DEFAULT 0,
    snoozed_all     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, slot)
);

CREATE TABLE user_inbox_counts (
    workspace_id    uuid NOT NULL,
    user_id         uuid NOT NULL,
    open_mine       bigint NOT NULL DEFAULT 0,
    snoozed_mine    bigint NOT NULL DEFAULT 0,
    mentions_unread bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, user_id)
);

INSERT INTO conversation_counts (workspace_id, slot, open_all, open_unassigned, snoozed_all)
SELECT workspace_id, 0, count(*) FILTER (WHERE status = 'open'),
       count(*) FILTER (WHERE status = 'open' AND assignee_id IS NULL), count(*) FILTER (WHERE status = 'snoozed')
FROM conversations GROUP BY workspace_id;
INSERT INTO user_inbox_counts (workspace_id, user_id, open_mine, snoozed_mine)
SELECT workspace_id, assignee_id, count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'snoozed')
FROM conversations WHERE assignee_id IS NOT NULL GROUP BY workspace_id, assignee_id;

-- +goose StatementBegin
-- user_counts_add adds to one user's counters.
CREATE FUNCTION user_counts_add(ws uuid, usr uuid, d_open bigint, d_snoozed bigint, d_mentions bigint) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO user_inbox_counts AS u (workspace_id, user_id, open_mine, snoozed_mine, mentions_unread)
    VALUES (ws, usr, d_open, d_snoozed, d_mentions)
    ON CONFLICT (workspace_id, user_id) DO UPDATE
    SET open_mine = u.open_mine + d_open, snoozed_mine = u.snoozed_mine + d_snoozed,
        mentions_unread = u.mentions_unread + d_mentions
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- conversation_counts_change applies a conversation's move between tabs to the counters.
CREATE FUNCTION conversation_counts_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o_open int := 0; o_unassigned int := 0; o_snoozed int := 0; o_user uuid;
    n_open int := 0; n_unassigned int := 0; n_snoozed int := 0; n_user uuid;
    ws uuid;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        ws := OLD.workspace_id; o_user := OLD.assignee_id;
        o_open := (OLD.status = 'open')::int;
        o_unassigned := (OLD.status = 'open' AND OLD.assignee_id IS NULL)::int;
        o_snoozed := (OLD.status = 'snoozed')::int;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        ws := NEW.workspace_id; n_user := NEW.assignee_id;
        n_open := (NEW.status = 'open')::int;
        n_unassigned := (NEW.status = 'open' AND NEW.assignee_id IS NULL)::int;
        n_snoozed := (NEW.status = 'snoozed')::int;
    END IF;
    IF n_open <> o_open OR n_unassigned <> o_unassigned OR n_snoozed <> o_snoozed THEN
        INSERT INTO conversation_counts AS c (workspace_id, slot, open_all, open_unassigned, snoozed_all)
        VALUES (ws, (txid_current() % 16)::smallint, n_open - o_open, n_unassigned - o_unassigned, n_snoozed - o_snoozed)
        ON CONFLICT (workspace_id, slot) DO UPDATE
        SET open_all = c.open_all + EXCLUDED.open_all, open_unassigned = c.open_unassigned + EXCLUDED.open_unassigned,
            snoozed_all = c.snoozed_all + EXCLUDED.snoozed_all;
    END IF;
    -- Users' rows in id order, so two reassignments between the same users cannot deadlock.
    IF o_user IS NOT DISTINCT FROM n_user THEN
        IF n_user IS NOT NULL AND (n_open <> o_open OR n_snoozed <> o_snoozed) THEN
            PERFORM user_counts_add(ws, n_user, n_open - o_open, n_snoozed - o_snoozed, 0);
        END IF;
    ELSIF o_user IS NULL OR (n_user IS NOT NULL AND n_user < o_user) THEN
        IF n_user IS NOT NULL AND (n_open + n_snoozed) > 0 THEN PERFORM user_counts_add(ws, n_user, n_open, n_snoozed, 0); END IF;
        IF o_user IS NOT NULL AND (o_open + o_snoozed) > 0 THEN PERFORM user_counts_add(ws, o_user, -o_open, -o_snoozed, 0); END IF;
    ELSE
        IF o_user IS NOT NULL AND (o_open + o_snoozed) > 0 THEN PERFORM user_counts_add(ws, o_user, -o_open, -o_snoozed, 0); END IF;
        IF n_user IS NOT NULL AND (n_open + n_snoozed) > 0 THEN PERFORM user_counts_add(ws, n_user, n_open, n_snoozed, 0); END IF;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER conversations_count_insert AFTER INSERT ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversation_counts_change();
CREATE TRIGGER conversations_count_update AFTER UPDATE OF status, assignee_id ON conversations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id)
    EXECUTE FUNCTION conversation_counts_change();
CREATE TRIGGER conversations_count_delete AFTER DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversation_counts_change();

-- +goose StatementBegin
-- conversation_reads_change keeps mentions_unread: a conversation counts for the user while
-- their last mention in it is after their last read. Every change to the pair goes through
-- this row (reads write it; the mentions trigger copies last_mention_at into it), and its row
-- lock orders them, so the count stays exact under concurrent notes and reads.
CREATE FUNCTION conversation_reads_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    o int := 0; n int := 0;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        o := (OLD.last_mention_at IS NOT NULL AND (OLD.last_read_at IS NULL OR OLD.last_mention_at > OLD.last_read_at))::int;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        n := (NEW.last_mention_at IS NOT NULL AND (NEW.last_read_at IS NULL OR NEW.last_mention_at > NEW.last_read_at))::int;
    END IF;
    IF n <> o THEN
        PERFORM user_counts_add(COALESCE(NEW.workspace_id, OLD.workspace_id), COALESCE(NEW.user_id, OLD.user_id), 0, 0, n - o);
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER conversation_reads_count AFTER INSERT OR UPDATE OR DELETE ON conversation_reads
    FOR EACH ROW EXECUTE FUNCTION conversation_reads_change();

-- +goose StatementBegin
-- conversation_mentions_change copies a user's latest mention in a conversation (migration
-- 0014 keeps it in conversation_mentions) into their read state, whose trigger counts it.
CREATE FUNCTION conversation_mentions_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE conversation_reads SET last_mention_at = NULL
        WHERE workspace_id = OLD.workspace_id AND user_id = OLD.user_id AND conversation_id = OLD.conversation_id;
    ELSE
        INSERT INTO conversation_reads AS r (workspace_id, user_id, conversation_id, last_mention_at)
        VALUES (NEW.workspace_id, NEW.user_id, NEW.conversation_id, NEW.last_mention_at)
        ON CONFLICT (workspace_id, user_id, conversation_id) DO UPDATE SET last_mention_at = EXCLUDED.last_mention_at;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER conversation_mentions_read AFTER INSERT OR UPDATE OR DELETE ON conversation_mentions
    FOR EACH ROW EXECUTE FUNCTION conversation_mentions_change();

-- Mentions made before this migration.
INSERT INTO conversation_reads (workspace_id, user_id, conversation_id, last_mention_at)
SELECT workspace_id, user_id, conversation_id, last_mention_at FROM conversation_mentions
ON CONFLICT (workspace_id, user_id, conversation_id) DO UPDATE SET last_mention_at = EXCLUDED.last_mention_at;

-- +goose Down
DROP TRIGGER conversation_mentions_read ON conversation_mentions;
DROP FUNCTION conversation_mentions_change();
DROP TRIGGER conversation_reads_count ON conversation_reads;
DROP FUNCTION conversation_reads_change();
DROP TRIGGER conversations_count_delete ON conversations;
DROP TRIGGER conversations_count_update ON conversations;
DROP TRIGGER conversations_count_insert ON conversations;
DROP FUNCTION conversation_counts_change();
DROP FUNCTION user_counts_add(uuid, uuid, bigint, bigint, bigint);
DROP TABLE user_inbox_counts;
DROP TABLE conversation_counts;
DROP TABLE conversation_reads;
ALTER TABLE conversations DROP COLUMN incoming_count;
