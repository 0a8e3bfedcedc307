-- Description: events are numbered by one sequencer, not under a lock held through COMMIT
-- (issue 19).
--
-- Until now a transaction that published events took the workspace's advisory lock, inserted
-- them into events and committed holding it, so ids were allocated in commit order and
-- "id > Last-Event-ID" never skipped an event that committed late. The lock was held through
-- the commit's WAL flush: one workspace's writes committed one at a time (~1 100 sends/s at
-- most, whatever the cores), and PostgreSQL's group commit never had two of them to group.
--
-- Now a transaction appends its events to event_queue, with no lock and no NOTIFY (a
-- notifying transaction takes a database-wide lock through its commit, which serialized every
-- write's commit too). A sequencer (store.SequenceEvents: every process runs one every 10 ms,
-- and readers of the outbox run it inline when their workspace has queued events) takes the
-- events' lock, moves the committed queue rows into events in queue order, numbering them
-- there, with their webhook deliveries, notifies each workspace's listeners, and commits: one
-- lock and one flush for every event that committed meanwhile. Ids stay integers allocated in
-- commit order (the sequencer's), so Last-Event-ID resumption is unchanged. Per conversation
-- the order is causal: a transaction that waited for a conversation's row lock queues its
-- events after the holder committed, so with a larger queue id.
--
-- The queue is drained continuously, so it holds the events of the last few milliseconds; its
-- rows die as fast as they are born, so autovacuum visits it by a fixed count of dead rows
-- rather than a share of a table that is nearly always empty.

-- +goose Up
CREATE TABLE event_queue (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    type            text NOT NULL,
    occurred_at     timestamptz NOT NULL,
    conversation_id uuid,
    payload         jsonb NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000);
-- A reader's "has my workspace queued events?" (store.sequenceQueued).
CREATE INDEX event_queue_workspace ON event_queue (workspace_id);

-- +goose Down
-- Events still queued are numbered first, so going down loses none.
INSERT INTO events (workspace_id, type, occurred_at, conversation_id, payload)
SELECT workspace_id, type, occurred_at, conversation_id, payload FROM event_queue ORDER BY id;
DROP TABLE event_queue;
