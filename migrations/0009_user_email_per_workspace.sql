-- Description: a user's email is unique within its workspace, no longer across all of them.
-- With one global unique index, POST /v1/users answered 409 email_taken for an address that
-- exists in another workspace, so a workspace admin could learn who uses the service elsewhere
-- (issue 12). Now the same address may be a member of several workspaces, each account with its
-- own password; login finds the accounts by email (this index, email first, serves that lookup
-- and the uniqueness) and the password, or the workspace_id the client names, picks one.
-- Down restores the global index, and fails while an email is in two workspaces.

-- +goose Up
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (email, workspace_id);

-- +goose Down
DROP INDEX users_email_key;
CREATE UNIQUE INDEX users_email_key ON users (email);
