-- Description: find a user's sessions by index.
--
-- A password change or reset now ends all the user's other sessions in the transaction that
-- writes the new password (UPDATE sessions ... WHERE workspace_id = ? AND user_id = ?), and
-- deleting a user already cascades to their sessions. Without an index on the user both walk
-- every session of the workspace (sessions are kept after they end, so the table only grows);
-- with it they touch the user's own rows.

-- +goose Up
CREATE INDEX sessions_user_idx ON sessions (workspace_id, user_id);

-- +goose Down
DROP INDEX sessions_user_idx;
