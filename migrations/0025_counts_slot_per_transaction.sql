-- Description: the inbox counters' slot is the transaction's, on every database.
--
-- Migration 0015 first chose conversation_counts' slot at random for each changed conversation.
-- A transaction that changes several conversations (a broadcast's group of sends reopens up to
-- 25, the wake job, a user's deletion) then took several slots in random order, and two such
-- transactions deadlocked: on the bench database, four broadcast groups at once failed with
-- "deadlock detected ... while inserting index tuple in relation conversation_counts" every few
-- seconds, and each failure put the broadcast's job into River's retry backoff. 0015 was
-- corrected in place (commit f9880b3: the slot is txid_current() % 16, so one transaction takes
-- one slot), which reaches only databases created after it; this migration puts the corrected
-- function on those migrated before. On a newer database it replaces the function with itself.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION conversation_counts_change() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- +goose Down
-- Nothing to undo: 0015's function, as corrected, is this one.
SELECT 1;
