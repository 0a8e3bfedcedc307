-- Description: the inbox's phone search reads a page's worth of conversations, not every match.
--
-- A 4-digit fragment is held by ~800 contacts in 1 000 000 (contact_phone_grams, 0026), and the
-- inbox lists their conversations newest last message first: without the order in the grams,
-- each of the ~800 conversations was looked up (4 buffers a lookup, ~5-7 ms) to keep 26. Here
-- each gram row also carries the day (UTC, days since 1970) of its contact's conversation's
-- last message, last_day, and contact_phone_grams_day walks one gram's rows latest day first.
-- A page takes the rows of the latest days until it has its 26 matches, and only those days'
-- conversations are looked up and sorted by their exact instant: every conversation of an
-- earlier day is older than any of a later day, so the page is exact.
--
-- The day, not the instant: the instant changes with every message, and rewriting a contact's
-- gram rows (8 for a 11-digit phone) on each send was measured: the send bench fell from 626 to
-- 444 sends a second at 64 clients (one workspace), from 692 to 564 over ten. The day changes
-- at most once a day for a conversation, so most messages rewrite nothing (the trigger's WHEN
-- compares the days). Its price is a day that many conversations share: a broadcast writes
-- 100 000 conversations within minutes, and a page whose latest days hold such a crowd looks
-- up every row of its gram there (Store.phoneDays walks the inbox instead past
-- SearchFirstLimit of them).
--
-- One conversation per contact (conversations_workspace_id_contact_id_key), so the day sits on
-- the contact's gram rows; NULL for a contact without a conversation, which the inbox never
-- lists. Kept by triggers on conversations (insert; a new day or another contact on update),
-- and by 0026's triggers on contacts, which now give the rows they insert (a new contact, a
-- new phone) the day of the contact's conversation.
-- A deleted conversation leaves its day behind: the search joins conversations, so the rows
-- lead nowhere until the contact's next conversation writes its own day.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION conversation_day(at timestamptz) RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT floor(extract(epoch FROM at) / 86400)::int
$$;
-- +goose StatementEnd

ALTER TABLE contact_phone_grams ADD COLUMN last_day int;

-- The backfill rewrites every row once; at 1 000 000 contacts (7.6 M rows) it is the slow part.
UPDATE contact_phone_grams g SET last_day = conversation_day(v.last_message_at)
FROM conversations v WHERE v.workspace_id = g.workspace_id AND v.contact_id = g.contact_id;

CREATE INDEX contact_phone_grams_day ON contact_phone_grams (workspace_id, gram, last_day, contact_id)
    WHERE last_day IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION conversations_phone_gram_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The gram rows by the primary key (workspace_id, gram, contact_id): the conversation's
    -- phone_digits are its contact's (migration 0008 copies them).
    UPDATE contact_phone_grams p SET last_day = conversation_day(n.last_message_at)
    FROM new_conversations n, phone_grams(n.phone_digits) AS g
    WHERE p.workspace_id = n.workspace_id AND p.gram = g AND p.contact_id = n.contact_id
      AND p.last_day IS DISTINCT FROM conversation_day(n.last_message_at);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- Per statement with a transition table, so a seed's COPY of a million conversations runs one
-- UPDATE, not a million.
CREATE TRIGGER conversations_phone_gram_days_insert AFTER INSERT ON conversations
    REFERENCING NEW TABLE AS new_conversations FOR EACH STATEMENT EXECUTE FUNCTION conversations_phone_gram_days();

-- +goose StatementBegin
CREATE FUNCTION conversations_phone_gram_day() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- gram = ANY(ARRAY(...)), not gram IN (SELECT ...): the index condition then holds all
    -- three columns of the primary key, one probe a gram; with IN the planner scanned the
    -- key's (workspace_id, contact_id) range, every gram row of the workspace (107 000 blocks
    -- at 1 000 000 contacts).
    UPDATE contact_phone_grams SET last_day = conversation_day(NEW.last_message_at)
    WHERE workspace_id = NEW.workspace_id AND contact_id = NEW.contact_id
      AND gram = ANY (ARRAY(SELECT phone_grams(NEW.phone_digits)));
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER conversations_phone_gram_day AFTER UPDATE OF last_message_at, contact_id ON conversations
    FOR EACH ROW WHEN (conversation_day(OLD.last_message_at) IS DISTINCT FROM conversation_day(NEW.last_message_at)
                       OR OLD.contact_id IS DISTINCT FROM NEW.contact_id)
    EXECUTE FUNCTION conversations_phone_gram_day();

-- A new contact's rows take its conversation's day too: a statement that inserts the contact
-- and its conversation together (a data-modifying WITH) fires both statement triggers at its
-- end, and whichever runs second finds the other's rows.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION contacts_phone_grams_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contact_phone_grams (workspace_id, gram, contact_id, last_day)
    SELECT n.workspace_id, g, n.id, conversation_day(v.last_message_at)
    FROM new_contacts n
    LEFT JOIN conversations v ON v.workspace_id = n.workspace_id AND v.contact_id = n.id,
    phone_grams(n.phone_digits) AS g;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- A new phone: the new rows take the day of the contact's conversation, and the old rows go by
-- the primary key (gram = ANY, as above; 0026's IN scanned the workspace's rows).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION contacts_phone_grams_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM contact_phone_grams
    WHERE workspace_id = OLD.workspace_id AND contact_id = OLD.id AND gram = ANY (ARRAY(SELECT phone_grams(OLD.phone_digits)));
    INSERT INTO contact_phone_grams (workspace_id, gram, contact_id, last_day)
    SELECT NEW.workspace_id, g, NEW.id,
           (SELECT conversation_day(v.last_message_at) FROM conversations v
            WHERE v.workspace_id = NEW.workspace_id AND v.contact_id = NEW.id)
    FROM phone_grams(NEW.phone_digits) AS g;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

ANALYZE contact_phone_grams;

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION contacts_phone_grams_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contact_phone_grams (workspace_id, gram, contact_id)
    SELECT n.workspace_id, g, n.id FROM new_contacts n, phone_grams(n.phone_digits) AS g;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION contacts_phone_grams_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM contact_phone_grams
    WHERE workspace_id = OLD.workspace_id AND contact_id = OLD.id AND gram IN (SELECT phone_grams(OLD.phone_digits));
    INSERT INTO contact_phone_grams (workspace_id, gram, contact_id)
    SELECT NEW.workspace_id, g, NEW.id FROM phone_grams(NEW.phone_digits) AS g;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
DROP TRIGGER conversations_phone_gram_day ON conversations;
DROP TRIGGER conversations_phone_gram_days_insert ON conversations;
DROP FUNCTION conversations_phone_gram_day();
DROP FUNCTION conversations_phone_gram_days();
DROP INDEX contact_phone_grams_day;
ALTER TABLE contact_phone_grams DROP COLUMN last_day;
DROP FUNCTION conversation_day(timestamptz);
