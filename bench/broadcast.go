package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The broadcast scenarios' audience: a tag on broadcastAudience of the seeded contacts (all of
// them at a smaller scale), picked by a hash of their ids, so every run asks for the same
// contacts. Some have an identity on the seeded WhatsApp channel, inside or after its window,
// and some none: a dry run meets every bucket it counts.
const (
	broadcastTag      = "bench-broadcast"
	broadcastAudience = 100000
	// reachableTag is the broadcast send's audience (ensureReachableTag).
	reachableTag = "bench-broadcast-reachable"
)

// ensureBroadcastTag tags the audience when the schema has broadcasts (migration 0020), once:
// a later run finds the tag on them and changes nothing.
func (e *env) ensureBroadcastTag(ctx context.Context) error {
	var has bool
	if err := e.pool.QueryRow(ctx, `SELECT to_regclass('broadcasts') IS NOT NULL`).Scan(&has); err != nil || !has {
		return err
	}
	return e.tagContacts(ctx, broadcastTag, `SELECT id FROM contacts WHERE workspace_id = $1 ORDER BY md5(id::text) LIMIT $3`,
		broadcastAudience)
}

// ensureReachableTag tags broadcastAudience contacts (all that have one, at a smaller scale)
// with an identity on the window-less channel that has the most identities, picked by a hash
// of their ids, once, and answers the channel and how many are tagged: the audience of the
// broadcast send (measureBroadcast).
func (e *env) ensureReachableTag(ctx context.Context) (channel string, tagged int64, err error) {
	err = e.pool.QueryRow(ctx, `
SELECT ch.id::text FROM channels ch JOIN contact_identities i ON i.workspace_id = ch.workspace_id AND i.channel_id = ch.id
WHERE ch.workspace_id = $1 AND ch.archived_at IS NULL AND ch.type IN ('telegram', 'sms', 'email', 'line', 'webchat')
GROUP BY ch.id ORDER BY count(*) DESC, ch.id LIMIT 1`, e.state.WorkspaceID).Scan(&channel)
	if err != nil {
		return "", 0, fmt.Errorf("pick the broadcast's channel: %w", err)
	}
	err = e.tagContacts(ctx, reachableTag, `SELECT contact_id FROM contact_identities WHERE workspace_id = $1 AND channel_id = $4
                                   ORDER BY md5(contact_id::text) LIMIT $3`, broadcastAudience, channel)
	if err != nil {
		return "", 0, err
	}
	err = e.pool.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE workspace_id = $1 AND tags @> ARRAY[$2]::text[]`,
		e.state.WorkspaceID, reachableTag).Scan(&tagged)
	return channel, tagged, err
}

// tagContacts adds tag to the bench workspace's contacts that pick selects ($1 the workspace,
// $2 the tag, $3 limit, $4… more), those not tagged yet, and vacuums contacts when it tagged
// any: a later run finds the tag on them and changes nothing.
func (e *env) tagContacts(ctx context.Context, tag, pick string, limit int, more ...any) error {
	start := time.Now()
	res, err := e.pool.Exec(ctx, `
UPDATE contacts SET tags = array_append(tags, $2)
WHERE workspace_id = $1 AND id IN (`+pick+`)
  AND NOT tags @> ARRAY[$2]::text[]`, append([]any{e.state.WorkspaceID, tag, limit}, more...)...)
	if err != nil {
		return fmt.Errorf("tag contacts %q: %w", tag, err)
	}
	if n := res.RowsAffected(); n > 0 {
		logf("tagged %d contacts %q in %s", n, tag, time.Since(start).Round(time.Second))
		_, err = e.pool.Exec(ctx, `VACUUM (ANALYZE) contacts`)
	}
	return err
}

// broadcastDryRun is the broadcast-dry-run scenario's request: a dry run of a text to the
// tagged audience on the seeded WhatsApp channel, as the owner's API key (an integration
// checking the cost before sending).
func broadcastDryRun(f *fixture, i int) vegeta.Target {
	body, _ := json.Marshal(map[string]any{"name": "bench", "channel_id": f.inboundChannel, "dry_run": true,
		"audience": map[string]any{"tag": broadcastTag},
		"message":  map[string]any{"type": "text", "text": pick(sendTexts, i) + " {{contact.first_name}}"}})
	return vegeta.Target{Method: http.MethodPost, URL: f.base + "/v1/broadcasts", Header: f.keyAuth, Body: body}
}
