-- Description: phone-digit search reads a page's worth of index entries, not every match.
--
-- A 4-digit fragment matched through contacts_phone_trgm (0001) collects every contact sharing
-- its two trigrams (~2 000 of 1 000 000) as a bitmap, then fetches each heap row (~1 900
-- blocks) to sort by id and keep 26. Here each contact's phone digits are cut into their
-- 4-digit grams, one row per (gram, contact), in a btree ordered as the contact list is (id,
-- newest first): a search walks one gram's entries backwards and stops when the page is full,
-- an index-only scan of a few pages whatever the gram's size. Four digits is therefore the
-- shortest phone fragment q takes (pkg/contact: MinPhoneDigits). A gram is the 4 digits read as
-- a number (0000-9999 fit a smallint, and every gram has 4 digits, so "0123" and "123" never
-- meet): 34 bytes a row instead of ~40 as text.
--
-- Kept by triggers on contacts, so no path that writes a contact (API, inbound, seed, merge)
-- can forget it: per statement with transition tables for INSERT and DELETE (the seed inserts
-- a million contacts in a few statements), per row for an UPDATE that changes the digits.
-- contacts_phone_trgm goes: nothing reads it any more, and every phone write paid for it.
-- There is no foreign key: a cascade would need an index on (workspace_id, contact_id) that
-- no read uses; the DELETE trigger removes a contact's rows by the primary key instead.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION phone_grams(digits text) RETURNS SETOF smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT DISTINCT substr(digits, i, 4)::smallint FROM generate_series(1, length(digits) - 3) AS i
$$;
-- +goose StatementEnd

CREATE TABLE contact_phone_grams (
    workspace_id uuid     NOT NULL,
    gram         smallint NOT NULL,
    contact_id   uuid     NOT NULL
);

-- The backfill, before the index: one sort builds it, instead of a million index insertions.
INSERT INTO contact_phone_grams (workspace_id, gram, contact_id)
SELECT c.workspace_id, g, c.id FROM contacts c, phone_grams(c.phone_digits) AS g;

ALTER TABLE contact_phone_grams ADD PRIMARY KEY (workspace_id, gram, contact_id);

-- +goose StatementBegin
CREATE FUNCTION contacts_phone_grams_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contact_phone_grams (workspace_id, gram, contact_id)
    SELECT n.workspace_id, g, n.id FROM new_contacts n, phone_grams(n.phone_digits) AS g;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER contacts_phone_grams_insert AFTER INSERT ON contacts
    REFERENCING NEW TABLE AS new_contacts FOR EACH STATEMENT EXECUTE FUNCTION contacts_phone_grams_insert();

-- +goose StatementBegin
CREATE FUNCTION contacts_phone_grams_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM contact_phone_grams p USING old_contacts o, phone_grams(o.phone_digits) AS g
    WHERE p.workspace_id = o.workspace_id AND p.gram = g AND p.contact_id = o.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER contacts_phone_grams_delete AFTER DELETE ON contacts
    REFERENCING OLD TABLE AS old_contacts FOR EACH STATEMENT EXECUTE FUNCTION contacts_phone_grams_delete();

-- +goose StatementBegin
CREATE FUNCTION contacts_phone_grams_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM contact_phone_grams
    WHERE workspace_id = OLD.workspace_id AND contact_id = OLD.id AND gram IN (SELECT phone_grams(OLD.phone_digits));
    INSERT INTO contact_phone_grams (workspace_id, gram, contact_id)
    SELECT NEW.workspace_id, g, NEW.id FROM phone_grams(NEW.phone_digits) AS g;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER contacts_phone_grams_update AFTER UPDATE ON contacts
    FOR EACH ROW WHEN (OLD.phone_digits IS DISTINCT FROM NEW.phone_digits OR OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION contacts_phone_grams_update();

DROP INDEX contacts_phone_trgm;

ANALYZE contact_phone_grams;

-- +goose Down
CREATE INDEX contacts_phone_trgm ON contacts USING gin (phone_digits gin_trgm_ops);
DROP TRIGGER contacts_phone_grams_update ON contacts;
DROP TRIGGER contacts_phone_grams_delete ON contacts;
DROP TRIGGER contacts_phone_grams_insert ON contacts;
DROP FUNCTION contacts_phone_grams_update();
DROP FUNCTION contacts_phone_grams_delete();
DROP FUNCTION contacts_phone_grams_insert();
DROP TABLE contact_phone_grams;
DROP FUNCTION phone_grams(text);
