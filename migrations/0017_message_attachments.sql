-- Description: a message carries up to ten attachments, each with its fetch status.
--
-- A message had one attachment, a link. Now a send takes up to ten (stored media by id, or
-- links), and a customer's media that a provider delivers by id is fetched into the media
-- store by a job (pending → ready | failed), so each attachment has a status. The list is a
-- JSON array on the message row, as the single attachment was: a thread reads it with the
-- message, and the fetch job updates one element in place under the message's row lock.
-- Existing attachments were links the server never fetched: they are ready as they are.

-- +goose Up
ALTER TABLE messages ADD COLUMN attachments jsonb
    CONSTRAINT messages_attachments_array CHECK (jsonb_typeof(attachments) = 'array');
UPDATE messages SET attachments = jsonb_build_array(attachment || '{"status": "ready"}')
WHERE attachment IS NOT NULL;
ALTER TABLE messages DROP COLUMN attachment;

-- +goose Down
ALTER TABLE messages ADD COLUMN attachment jsonb;
UPDATE messages SET attachment = (attachments -> 0) - 'status' - 'media_id' - 'size' - 'failure_reason'
WHERE attachments IS NOT NULL AND attachments <> '[]';
ALTER TABLE messages DROP COLUMN attachments;
