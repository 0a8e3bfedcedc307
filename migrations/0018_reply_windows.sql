-- Description: reply windows on the inbox. Each inbox row answers, for its conversation's
-- default channel (the live channel the contact last wrote on, else their newest identity),
-- what the rule table allows a person to send now, and the inbox sorts and filters by when
-- that channel's window closes. Alerts (window.expiring, window.closed) go out before and at
-- the close, once per window, from one process.
--
-- The conversation keeps what the inbox needs to answer and order a row without a lookup per
-- row (the channel's type and options are a lookup per channel, which a page's rows share):
--   - window_identity_id, window_channel_id: the default identity and its channel;
--     window_inbound_at, window_sent: that identity's last_inbound_at and
--     outbound_since_inbound, copied. Ingestion moves them with the customer's messages, a send
--     on the default identity counts in window_sent, a new identity of a contact who never
--     wrote becomes the default, and archiving or deleting a channel moves them to the next
--     identity (job RefreshWindows, or the delete itself).
--   - window_open_until: when the default channel's window closes, while it is open; NULL
--     without a window, before the customer ever wrote and once it has closed (the alert job
--     clears it at window.closed; until it does, readers compare it with now). A change of the
--     channel's rule options recomputes it (job RefreshWindows).
--   - window_alert, window_alert_at: the next alert of the window and its instant: expiring
--     (the workspace's window_closing_minutes before the close), closed (at the close), and on
--     Messenger and Instagram with the HUMAN_AGENT tag the same two for the tag's 7 days. The
--     alert job reads only rows whose instant has come, by conversations_window_alert, and
--     moves them to the next alert in the same transaction as the events.
--
-- The inbox's sort=window_closing walks conversations_window_open (open conversations whose
-- window is open, soonest-closing first; conversations_window_assignee for one assignee's), then conversations_open_no_window (the others, newest
-- first) together with the rows of conversations_window_open whose instant has passed but that
-- the job has not cleared yet. window=closed walks the same two; window=open and
-- window=closing, newest (or oldest) first, walk conversations_window_recent, the open windows
-- by last message, testing each entry's close in the index.
--
-- Existing rows get their default identity, and the windows still open now (and HUMAN_AGENT
-- tag periods) their state from the rule table as of rule_version 2026-11-01 (WhatsApp,
-- Messenger, Instagram, Viber 24 h, WeChat 48 h, custom window_hours; tag 7 days) and the
-- default lead of 60 minutes.

-- +goose Up
ALTER TABLE workspaces ADD COLUMN window_closing_minutes integer NOT NULL DEFAULT 60
    CONSTRAINT workspaces_window_closing_minutes_check CHECK (window_closing_minutes BETWEEN 1 AND 1440);

ALTER TABLE conversations
    ADD COLUMN window_identity_id uuid,
    ADD COLUMN window_channel_id uuid,
    ADD COLUMN window_inbound_at timestamptz,
    ADD COLUMN window_sent integer NOT NULL DEFAULT 0,
    ADD COLUMN window_open_until timestamptz,
    ADD COLUMN window_alert text
        CONSTRAINT conversations_window_alert_check CHECK (window_alert IN ('expiring', 'closed', 'tag_expiring', 'tag_closed')),
    ADD COLUMN window_alert_at timestamptz,
    ADD CONSTRAINT conversations_window_alert_at_check CHECK ((window_alert IS NULL) = (window_alert_at IS NULL));

-- Every contact's default identity on a live channel (the one they last wrote on, else the
-- newest), with the instants its window and tag period close (rule_version 2026-11-01).
WITH defaults AS (
    SELECT DISTINCT ON (i.workspace_id, i.contact_id) i.workspace_id, i.contact_id, i.id, i.channel_id,
           i.last_inbound_at, i.outbound_since_inbound,
           i.last_inbound_at + make_interval(hours => CASE ch.type
               WHEN 'whatsapp' THEN 24 WHEN 'messenger' THEN 24 WHEN 'instagram' THEN 24 WHEN 'viber' THEN 24
               WHEN 'wechat' THEN 48 WHEN 'custom' THEN nullif((ch.rule_options ->> 'window_hours')::int, 0) END) AS closes,
           CASE WHEN (ch.type = 'messenger' AND coalesce((ch.rule_options ->> 'human_agent_tag')::boolean, true))
                  OR (ch.type = 'instagram' AND coalesce((ch.rule_options ->> 'human_agent_tag')::boolean, false))
                THEN i.last_inbound_at + interval '168 hours' END AS tag_closes
    FROM contact_identities i
    JOIN channels ch ON ch.workspace_id = i.workspace_id AND ch.id = i.channel_id
    WHERE ch.archived_at IS NULL
    ORDER BY i.workspace_id, i.contact_id, i.last_inbound_at DESC NULLS LAST, i.created_at DESC
)
UPDATE conversations v SET
    window_identity_id = d.id,
    window_channel_id = d.channel_id,
    window_inbound_at = d.last_inbound_at,
    window_sent = d.outbound_since_inbound,
    window_open_until = CASE WHEN d.closes > now() THEN d.closes END,
    window_alert = CASE WHEN d.closes > now() THEN 'expiring' WHEN d.tag_closes > now() THEN 'tag_expiring' END,
    window_alert_at = CASE WHEN d.closes > now() THEN d.closes - interval '60 minutes'
                           WHEN d.tag_closes > now() THEN d.tag_closes - interval '60 minutes' END
FROM defaults d
WHERE v.workspace_id = d.workspace_id AND v.contact_id = d.contact_id;

-- sort=window_closing's first part and window=open|closing: open conversations with an open
-- window, soonest-closing first. The search text makes q an index-only filter of the walk, and
-- last_message_at the rows past their close an index-only read (the second part's lag).
CREATE INDEX conversations_window_open ON conversations (workspace_id, window_open_until, id)
    INCLUDE (last_message_at, search_text, phone_digits) WHERE status = 'open' AND window_open_until IS NOT NULL;
-- The same for inbox=mine, assignee_id and inbox=unassigned (assignee_id IS NULL): one
-- assignee's open windows, soonest-closing first.
CREATE INDEX conversations_window_assignee ON conversations (workspace_id, assignee_id, window_open_until, id)
    INCLUDE (last_message_at) WHERE status = 'open' AND window_open_until IS NOT NULL;
-- window=open and window=closing by last message: the same rows, newest first. Closing windows
-- are a slice of the open ones (an hour of a day's), so a page reads some dozens of entries.
CREATE INDEX conversations_window_recent ON conversations (workspace_id, last_message_at, id)
    INCLUDE (window_open_until, assignee_id, search_text, phone_digits) WHERE status = 'open' AND window_open_until IS NOT NULL;
-- Its second part and window=closed: open conversations without an open window, newest first.
CREATE INDEX conversations_open_no_window ON conversations (workspace_id, last_message_at, id)
    INCLUDE (assignee_id, search_text, phone_digits) WHERE status = 'open' AND window_open_until IS NULL;
-- The alert job: the alerts whose instant has come, across workspaces.
CREATE INDEX conversations_window_alert ON conversations (window_alert_at) WHERE window_alert_at IS NOT NULL;

ANALYZE conversations;

-- +goose Down
DROP INDEX conversations_window_alert;
DROP INDEX conversations_open_no_window;
DROP INDEX conversations_window_recent;
DROP INDEX conversations_window_assignee;
DROP INDEX conversations_window_open;
ALTER TABLE conversations
    DROP CONSTRAINT conversations_window_alert_at_check,
    DROP COLUMN window_alert_at,
    DROP COLUMN window_alert,
    DROP COLUMN window_open_until,
    DROP COLUMN window_sent,
    DROP COLUMN window_inbound_at,
    DROP COLUMN window_channel_id,
    DROP COLUMN window_identity_id;
ALTER TABLE workspaces DROP COLUMN window_closing_minutes;
