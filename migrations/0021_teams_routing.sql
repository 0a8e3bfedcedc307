-- Description: teams, agent availability, per-channel routing and canned responses (issue 17,
-- DESIGN §7 "Teams and routing", "Canned responses").
--
-- A team is a named set of users of one workspace (team_members). A conversation may carry one
-- team (conversations.team_id); the inbox filters by it, and with inbox=unassigned that is the
-- team's queue: conversations_team serves team_id with a status, newest first, and
-- conversations_team_queue the queue alone (a team whose conversations are mostly assigned
-- would otherwise be walked past its assigned rows).
--
-- Routing: a channel names a team and a mode (routing_*). The ingestion transaction locks the
-- team row, then reads its online members with their open assigned conversations
-- (conversations_assignee counts them) and team_members.last_routed_at, picks one and moves
-- their last_routed_at, all under the team's lock, so concurrent inbound on any number of
-- processes takes turns at the choice.
--
-- Deleting a team takes it off conversations and channels (ON DELETE SET NULL of the team
-- column only: workspace_id stays), and its members with it; deleting a user takes them off
-- every team (team_members_user serves that cascade).
--
-- canned_responses: a workspace's reusable answers, one shortcut each without regard to case;
-- the list is by shortcut (canned_responses_shortcut_key) and q is a prefix of the shortcut or
-- of the title (canned_responses_title for the latter).

-- +goose Up
CREATE TABLE teams (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100 AND name = btrim(name)),
    -- The team's latest routing: each routing stamps its member strictly after it, so round
    -- robin's order never ties, whatever the clock says.
    last_routed_at timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX teams_name_key ON teams (workspace_id, (lower(name) COLLATE "C"));

CREATE TABLE team_members (
    workspace_id   uuid NOT NULL,
    team_id        uuid NOT NULL,
    user_id        uuid NOT NULL,
    -- When routing last gave this member a conversation of this team: round robin picks the
    -- eligible member routed least recently (never routed first).
    last_routed_at timestamptz,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, team_id, user_id),
    FOREIGN KEY (workspace_id, team_id) REFERENCES teams (workspace_id, id) ON DELETE CASCADE,
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX team_members_user ON team_members (workspace_id, user_id);

ALTER TABLE users ADD COLUMN availability text NOT NULL DEFAULT 'offline'
    CHECK (availability IN ('online', 'away', 'offline'));

ALTER TABLE conversations ADD COLUMN team_id uuid,
    ADD CONSTRAINT conversations_team_fkey FOREIGN KEY (workspace_id, team_id)
        REFERENCES teams (workspace_id, id) ON DELETE SET NULL (team_id);
CREATE INDEX conversations_team ON conversations (workspace_id, team_id, status, last_message_at, id)
    INCLUDE (search_text, phone_digits) WHERE team_id IS NOT NULL;
CREATE INDEX conversations_team_queue ON conversations (workspace_id, team_id, status, last_message_at, id)
    INCLUDE (search_text, phone_digits) WHERE team_id IS NOT NULL AND assignee_id IS NULL;

ALTER TABLE channels ADD COLUMN routing_team_id uuid,
    ADD COLUMN routing_mode text NOT NULL DEFAULT 'manual' CHECK (routing_mode IN ('manual', 'round_robin', 'least_open')),
    ADD COLUMN routing_max_open integer CHECK (routing_max_open >= 1),
    ADD CONSTRAINT channels_routing_team_fkey FOREIGN KEY (workspace_id, routing_team_id)
        REFERENCES teams (workspace_id, id) ON DELETE SET NULL (routing_team_id);
CREATE INDEX channels_routing_team ON channels (workspace_id, routing_team_id) WHERE routing_team_id IS NOT NULL;

CREATE TABLE canned_responses (
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    id           uuid NOT NULL,
    shortcut     text NOT NULL CHECK (char_length(shortcut) BETWEEN 1 AND 50 AND shortcut = btrim(shortcut)),
    title        text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    text         text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 5000),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
-- In the "C" collation: the list walks it in byte order, and a prefix (LIKE 'abc%') is a range
-- of it.
CREATE UNIQUE INDEX canned_responses_shortcut_key ON canned_responses (workspace_id, (lower(shortcut) COLLATE "C"));
CREATE INDEX canned_responses_title ON canned_responses (workspace_id, (lower(title) COLLATE "C"));

-- +goose Down
DROP TABLE canned_responses;
ALTER TABLE channels DROP COLUMN routing_max_open, DROP COLUMN routing_mode, DROP COLUMN routing_team_id;
ALTER TABLE conversations DROP COLUMN team_id;
ALTER TABLE users DROP COLUMN availability;
DROP TABLE team_members;
DROP TABLE teams;
