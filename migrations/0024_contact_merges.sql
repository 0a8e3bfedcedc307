-- Description: contact merge (issue 17, DESIGN §7 "Contact merge").
--
-- POST /v1/contacts/{id}/merge moves everything of the merged contact to the survivor and
-- deletes the merged contact (so it answers 404 everywhere: reads, search, the inbox). What is
-- left of it is this row: which contact it went into, so that repeating the same merge answers
-- the same result (200 with the survivor) instead of 422 for an unknown from_contact_id.
-- The primary key serves that lookup; contact_merges_survivor serves a survivor's deletion.
-- The survivor's deletion takes its rows with it: after that nothing is left to answer with.

-- +goose Up
CREATE TABLE contact_merges (
    workspace_id uuid NOT NULL,
    merged_id    uuid NOT NULL,
    survivor_id  uuid NOT NULL,
    merged_at    timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, merged_id),
    FOREIGN KEY (workspace_id, survivor_id) REFERENCES contacts (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX contact_merges_survivor ON contact_merges (workspace_id, survivor_id);

-- +goose Down
DROP TABLE contact_merges;
