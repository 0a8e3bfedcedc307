-- Description: the inbox's phone search walks a gram's conversations newest first.
--
-- A 4-digit fragment is held by ~800 contacts in 1 000 000 (contact_phone_grams, 0026), and the
-- inbox lists their conversations newest last message first: without that order in the grams,
-- each of the ~800 conversations was looked up (4 buffers a lookup, ~5-8 ms) to keep 26, and a
-- gram of more than SearchFirstLimit rows walked every conversation (~30 000 index entries).
-- Here each gram row also carries its contact's conversation and that conversation's last
-- message instant, and contact_phone_grams_recent orders one gram's rows as the inbox orders
-- conversations: a page walks the gram's rows and looks up its 26 conversations (more under a
-- filter), whatever the gram's size.
--
-- The instant, not a coarser day: the rows of one day were tried first, but one broadcast
-- writes 100 000 conversations within minutes, and a page then had to look up and sort every
-- row of the gram in that day (310 of a gram's 720 on the bench database). The price is a
-- send's: a new last message rewrites its contact's gram rows (8 for a 11-digit phone), on
-- top of the conversation's own row and its 15 index entries.
--
-- One conversation per contact (conversations_workspace_id_contact_id_key), so the rows stay
-- the contact's; NULL for a contact without a conversation, which the inbox never lists. Kept
-- by triggers on conversations (insert; a new last message or another contact on update), and
-- by 0026's triggers on contacts, which now give the rows they insert (a new contact, a new
-- phone) the contact's conversation. A deleted conversation leaves its id behind: the search
-- joins conversations, so those rows lead nowhere until the contact's next conversation writes
-- its own.

-- +goose Up
ALTER TABLE contact_phone_grams ADD COLUMN conversation_id uuid, ADD COLUMN last_message_at timestamptz;

-- The backfill rewrites every row once; at 1 000 000 contacts (7.6 M rows) it is the slow part.
UPDATE contact_phone_grams g SET conversation_id = v.id, last_message_at = v.last_message_at
FROM conversations v WHERE v.workspace_id = g.workspace_id AND v.contact_id = g.contact_id;

CREATE INDEX contact_phone_grams_recent ON contact_phone_grams (workspace_id, gram, last_message_at, conversation_id)
    WHERE conversation_id IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION conversations_phone_grams_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The gram rows by the primary key (workspace_id, gram, contact_id): the conversation's
    -- phone_digits are its contact's (migration 0008 copies them).
    UPDATE contact_phone_grams p SET conversation_id = n.id, last_message_at = n.last_message_at
    FROM new_conversations n, phone_grams(n.phone_digits) AS g
    WHERE p.workspace_id = n.workspace_id AND p.gram = g AND p.contact_id = n.contact_id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- Per statement with a transition table, so a seed's COPY of a million conversations runs one
-- UPDATE, not a million.
CREATE TRIGGER conversations_phone_grams_insert AFTER INSERT ON conversations
    REFERENCING NEW TABLE AS new_conversations FOR EACH STATEMENT EXECUTE FUNCTION conversations_phone_grams_insert();

-- +goose StatementBegin
CREATE FUNCTION conversations_phone_grams_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- gram = ANY(ARRAY(...)), not gram IN (SELECT ...): the index condition then holds all
    -- three columns of the primary key, one probe a gram; with IN the planner scanned the
    -- key's (workspace_id, contact_id) range, every gram row of the workspace (107 000 blocks
    -- at 1 000 000 contacts, seconds a send).
    UPDATE contact_phone_grams SET conversation_id = NEW.id, last_message_at = NEW.last_message_at
    WHERE workspace_id = NEW.workspace_id AND contact_id = NEW.contact_id
      AND gram = ANY (ARRAY(SELECT phone_grams(NEW.phone_digits)));
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER conversations_phone_grams_update AFTER UPDATE OF last_message_at, contact_id ON conversations
    FOR EACH ROW WHEN (OLD.last_message_at IS DISTINCT FROM NEW.last_message_at OR OLD.contact_id IS DISTINCT FROM NEW.contact_id)
    EXECUTE FUNCTION conversations_phone_grams_update();

-- A new contact's rows take its conversation too: a statement that inserts the contact and its
-- conversation together (a data-modifying WITH) fires both statement triggers at its end, and
-- whichever runs second finds the other's rows.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION contacts_phone_grams_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contact_phone_grams (workspace_id, gram, contact_id, conversation_id, last_message_at)
    SELECT n.workspace_id, g, n.id, v.id, v.last_message_at
    FROM new_contacts n
    LEFT JOIN conversations v ON v.workspace_id = n.workspace_id AND v.contact_id = n.id,
    phone_grams(n.phone_digits) AS g;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- A new phone: the new rows take the contact's conversation, and the old rows go by the
-- primary key (gram = ANY, as above; 0026's IN scanned the workspace's rows).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION contacts_phone_grams_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM contact_phone_grams
    WHERE workspace_id = OLD.workspace_id AND contact_id = OLD.id AND gram = ANY (ARRAY(SELECT phone_grams(OLD.phone_digits)));
    INSERT INTO contact_phone_grams (workspace_id, gram, contact_id, conversation_id, last_message_at)
    SELECT NEW.workspace_id, g, NEW.id, v.id, v.last_message_at
    FROM phone_grams(NEW.phone_digits) AS g
    LEFT JOIN conversations v ON v.workspace_id = NEW.workspace_id AND v.contact_id = NEW.id;
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
DROP TRIGGER conversations_phone_grams_update ON conversations;
DROP TRIGGER conversations_phone_grams_insert ON conversations;
DROP FUNCTION conversations_phone_grams_update();
DROP FUNCTION conversations_phone_grams_insert();
DROP INDEX contact_phone_grams_recent;
ALTER TABLE contact_phone_grams DROP COLUMN last_message_at, DROP COLUMN conversation_id;
