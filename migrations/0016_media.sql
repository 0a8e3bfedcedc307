-- Description: media files (DESIGN §7 "Media"): uploads, and the photos and documents customers
-- send, with their bytes in the blob store (MEDIA_STORE).
--
-- Blobs are content-addressed per workspace, under the key <workspace_id>/<sha256>: a file
-- uploaded twice is stored once, and two media rows may share one blob. A row's contact_id is
-- set for media a customer sent, so deleting the contact deletes its media (the cascade) as
-- DESIGN asks; uploads have none.
--
-- The blob store is not in the database's transaction, so a deleted row cannot delete its blob
-- itself. Instead a trigger records in media_orphans the (workspace, sha256) of every deleted
-- row (any path: a contact's or a workspace's cascade too), and a periodic job (the media
-- sweep) deletes the blob if no row refers to it any more, then the record. The sweep and a
-- Put of the same bytes both take the advisory lock of the (workspace, sha256) pair, so a Put
-- either commits its row before the sweep looks (the blob stays) or finds the blob gone and
-- writes it again. media_orphans has no foreign key: its records outlive the workspace they
-- name.

-- +goose Up
CREATE TABLE media (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    contact_id   uuid,
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size         bigint NOT NULL CHECK (size >= 0),
    mime_type    text NOT NULL,
    filename     text,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id),
    FOREIGN KEY (workspace_id, contact_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
-- Whether a blob is still referenced (the sweep, under the pair's lock).
CREATE INDEX media_blob ON media (workspace_id, sha256);
-- A contact's deletion (the cascade).
CREATE INDEX media_contact ON media (workspace_id, contact_id) WHERE contact_id IS NOT NULL;

-- One record per deleting statement and blob, not one per blob: a record the sweep is
-- deciding on must not absorb a later deletion's (see media_orphaned).
CREATE TABLE media_orphans (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id uuid NOT NULL,
    sha256       text NOT NULL,
    orphaned_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose StatementBegin
-- media_orphaned records the blobs of deleted rows, once per statement and blob; the sweep
-- decides, under the blob's lock, whether each is still referenced. Checking here instead
-- would let two concurrent deletions of a blob's last two rows, each still seeing the other's
-- row, both conclude that the blob is referenced. And each deletion gets a record of its own
-- (no ON CONFLICT onto an older one): the sweep may be looking at the older one right now,
-- still seeing this deletion's row, and would then forget the blob for good.
CREATE FUNCTION media_orphaned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO media_orphans (workspace_id, sha256)
    SELECT DISTINCT workspace_id, sha256 FROM gone;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER media_orphaned AFTER DELETE ON media
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION media_orphaned();

-- +goose Down
DROP TABLE media;
DROP FUNCTION media_orphaned();
DROP TABLE media_orphans;
