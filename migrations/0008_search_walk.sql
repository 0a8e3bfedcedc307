-- Description: searches that walk an index without visiting the table.
--
-- A search matching many contacts is answered fastest by walking the list's own order (contacts
-- newest first; the inbox by last message) and keeping the matches until a page is full. Until
-- now each step of that walk visited a table row (a contact's search text, or, for the inbox,
-- the conversation and then its contact) — at 1 000 000 contacts a common last-name fragment
-- read ~4 000–20 000 buffers and took 20–30 ms. Here the text a search matches is carried in
-- the walked indexes themselves (INCLUDE), so the walk is an index-only scan: ~100 entries a
-- page, a LIKE on each, and no table visit where the visibility map allows.
--
-- conversations.search_text and .phone_digits copy the contact's generated columns (one
-- conversation per contact), kept equal by two triggers, so that no code path that creates a
-- conversation or edits a contact (API, inbound, seed) can forget them.

-- +goose Up
ALTER TABLE conversations
    ADD COLUMN search_text  text NOT NULL DEFAULT '',
    ADD COLUMN phone_digits text NOT NULL DEFAULT '';

UPDATE conversations v SET search_text = c.search_text, phone_digits = c.phone_digits
FROM contacts c WHERE c.workspace_id = v.workspace_id AND c.id = v.contact_id;

-- +goose StatementBegin
CREATE FUNCTION conversations_copy_contact_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT c.search_text, c.phone_digits INTO NEW.search_text, NEW.phone_digits
    FROM contacts c WHERE c.workspace_id = NEW.workspace_id AND c.id = NEW.contact_id;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER conversations_contact_search BEFORE INSERT OR UPDATE OF contact_id ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_copy_contact_search();

-- +goose StatementBegin
CREATE FUNCTION contacts_share_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET search_text = NEW.search_text, phone_digits = NEW.phone_digits
    WHERE workspace_id = NEW.workspace_id AND contact_id = NEW.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER contacts_search_to_conversations AFTER UPDATE ON contacts
    FOR EACH ROW WHEN (OLD.search_text IS DISTINCT FROM NEW.search_text OR OLD.phone_digits IS DISTINCT FROM NEW.phone_digits)
    EXECUTE FUNCTION contacts_share_search();

-- The inbox's walks (0002), now carrying the search text.
DROP INDEX conversations_open;
DROP INDEX conversations_closed;
DROP INDEX conversations_recent;
DROP INDEX conversations_assignee;
CREATE INDEX conversations_open ON conversations (workspace_id, last_message_at, id)
    INCLUDE (search_text, phone_digits) WHERE status = 'open';
CREATE INDEX conversations_closed ON conversations (workspace_id, last_message_at, id)
    INCLUDE (search_text, phone_digits) WHERE status = 'closed';
CREATE INDEX conversations_recent ON conversations (workspace_id, last_message_at, id)
    INCLUDE (search_text, phone_digits);
CREATE INDEX conversations_assignee ON conversations (workspace_id, assignee_id, status, last_message_at, id)
    INCLUDE (search_text, phone_digits);

-- Contact search's walk, newest first.
CREATE INDEX contacts_search_walk ON contacts (workspace_id, id) INCLUDE (search_text, phone_digits);

ANALYZE conversations;
ANALYZE contacts;

-- +goose Down
DROP INDEX contacts_search_walk;
DROP INDEX conversations_open;
DROP INDEX conversations_closed;
DROP INDEX conversations_recent;
DROP INDEX conversations_assignee;
DROP TRIGGER contacts_search_to_conversations ON contacts;
DROP FUNCTION contacts_share_search();
DROP TRIGGER conversations_contact_search ON conversations;
DROP FUNCTION conversations_copy_contact_search();
ALTER TABLE conversations DROP COLUMN search_text, DROP COLUMN phone_digits;
CREATE INDEX conversations_open ON conversations (workspace_id, last_message_at, id) WHERE status = 'open';
CREATE INDEX conversations_closed ON conversations (workspace_id, last_message_at, id) WHERE status = 'closed';
CREATE INDEX conversations_recent ON conversations (workspace_id, last_message_at, id);
CREATE INDEX conversations_assignee ON conversations (workspace_id, assignee_id, status, last_message_at, id);
