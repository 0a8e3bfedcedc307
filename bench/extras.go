package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/label"
)

// The seed makes contacts, conversations and messages; the inbox's filters on labels,
// snoozes and mentions (issue 14) and on reply windows (issue 16) need rows of their own. ensureExtras makes a fixed set of
// them in the bench workspace through the services, as the API would, the first time and
// again whenever the write scenarios have used some up (an inbound message wakes a snooze):
// the same conversations every time, picked by a hash of their ids.
const (
	wideLabelRows   = 5000  // conversations labelled "bench wide": the walk probes the label per row
	narrowLabelRows = 50    // "bench narrow": the label's own index drives
	snoozedRows     = 1000  // open conversations snoozed until the customer writes
	mentionsPerUser = 40    // conversations in which a note mentions each agent
	closingRows     = 50000 // open conversations whose WhatsApp window closes within the next hour
)

// extrasNote is the text of the notes that mention the agents.
const extrasNote = "Bench: please have a look."

// ensureExtras makes the labels, snoozes and mentions the scenarios read, when the schema has
// them (migrations 0012 to 0014), and records the labels' ids in the fixture.
func (e *env) ensureExtras(ctx context.Context, f *fixture) error {
	var has bool
	if err := e.pool.QueryRow(ctx, `SELECT to_regclass('conversation_mentions') IS NOT NULL`).Scan(&has); err != nil || !has {
		return err
	}
	start := time.Now()
	made := 0
	labels := label.NewService(e.st, time.Now)
	for _, l := range []struct {
		name, color string
		rows        int
	}{{"bench wide", "#2f6feb", wideLabelRows}, {"bench narrow", "#e5484d", narrowLabelRows}} {
		id, n, err := e.labelRows(ctx, labels, f.workspaceID, l.name, l.color, l.rows)
		if err != nil {
			return err
		}
		f.labels = append(f.labels, id.String())
		made += n
	}
	n, err := e.snoozeRows(ctx, f)
	if err != nil {
		return err
	}
	made += n
	if n, err = e.mentionRows(ctx, f); err != nil {
		return err
	}
	made += n
	if n, err = e.closingRows(ctx, f); err != nil {
		return err
	}
	made += n
	if made == 0 {
		return nil
	}
	logf("made %d labellings, snoozes and notes for the inbox's filters in %s", made, time.Since(start).Round(time.Second))
	// Fresh statistics, as autovacuum would leave them, so the plans are those of settled data.
	_, err = e.pool.Exec(ctx, `VACUUM (ANALYZE) conversations, conversation_labels, conversation_mentions, conversation_reads, messages`)
	return err
}

// labelRows makes the label (or finds it by name) and puts it on conversations that have no
// label until rows carry it; it answers the label's id and how many conversations it
// labelled.
func (e *env) labelRows(ctx context.Context, labels *label.Service, ws uuid.UUID, name, color string, rows int) (uuid.UUID, int, error) {
	var id uuid.UUID
	err := e.pool.QueryRow(ctx, `SELECT id FROM labels WHERE workspace_id = $1 AND name = $2`, ws, name).Scan(&id)
	if err == pgx.ErrNoRows {
		l, cerr := labels.Create(ctx, ws, label.Fields{Name: &name, Color: &color})
		id, err = l.ID, cerr
	}
	if err != nil {
		return uuid.Nil, 0, fmt.Errorf("label %q: %w", name, err)
	}
	ids, err := e.pick(ctx, `
SELECT v.id FROM conversations v
WHERE v.workspace_id = $1 AND NOT EXISTS (SELECT 1 FROM conversation_labels cl WHERE cl.workspace_id = v.workspace_id AND cl.conversation_id = v.id)
ORDER BY md5(v.id::text) LIMIT greatest($2 - (SELECT count(*) FROM conversation_labels WHERE workspace_id = $1 AND label_id = $3), 0)`,
		ws, rows, id)
	if err != nil {
		return uuid.Nil, 0, fmt.Errorf("label %q: %w", name, err)
	}
	for _, c := range ids {
		if _, err := labels.SetConversationLabels(ctx, ws, c, []uuid.UUID{id}); err != nil {
			return uuid.Nil, 0, fmt.Errorf("label %q on %s: %w", name, c, err)
		}
	}
	return id, len(ids), nil
}

// snoozeRows snoozes open conversations until snoozedRows are snoozed, each until its
// customer writes (the wake-up job leaves those alone); it answers how many it snoozed.
func (e *env) snoozeRows(ctx context.Context, f *fixture) (int, error) {
	ids, err := e.pick(ctx, `
SELECT id FROM conversations WHERE workspace_id = $1 AND status = 'open'
ORDER BY md5(id::text) LIMIT greatest($2 - (SELECT count(*) FROM conversations WHERE workspace_id = $1 AND status = 'snoozed'), 0)`,
		f.workspaceID, snoozedRows)
	if err != nil {
		return 0, fmt.Errorf("snooze: %w", err)
	}
	for i, c := range ids {
		by := f.caller(i)
		if _, err := f.convs.Snooze(ctx, f.workspaceID, c, by, nil); err != nil {
			return 0, fmt.Errorf("snooze %s: %w", c, err)
		}
	}
	return len(ids), nil
}

// mentionRows writes, for each agent with fewer than mentionsPerUser mentioned conversations,
// notes by the next agent that mention them, in conversations of a fixed pool (agent i's
// from the i-th block of it); it answers how many notes it wrote.
func (e *env) mentionRows(ctx context.Context, f *fixture) (int, error) {
	pool, err := e.pick(ctx, `SELECT id FROM conversations WHERE workspace_id = $1 ORDER BY md5(id::text) LIMIT $2`,
		f.workspaceID, len(f.agents)*mentionsPerUser)
	if err != nil || len(pool) == 0 {
		return 0, err
	}
	made := 0
	text := extrasNote
	for i, a := range f.agents {
		have, err := e.pick(ctx, `SELECT conversation_id FROM conversation_mentions WHERE workspace_id = $1 AND user_id = $2`,
			f.workspaceID, a.id)
		if err != nil {
			return 0, fmt.Errorf("mentions of %s: %w", a.email, err)
		}
		by := f.caller(i + 1)
		for k := 0; len(have) < mentionsPerUser && k < len(pool); k++ {
			c := pool[(i*mentionsPerUser+k)%len(pool)]
			if slices.Contains(have, c) {
				continue
			}
			_, _, err := f.convs.CreateNote(ctx, f.workspaceID, c, by, conversation.NoteDraft{Text: &text, Mentions: []uuid.UUID{a.id}}, nil)
			if err != nil {
				return 0, fmt.Errorf("note mentioning %s: %w", a.email, err)
			}
			have = append(have, c)
			made++
		}
	}
	return made, nil
}

// closingRows makes open conversations' WhatsApp windows close within the next hour, until
// closingRows do, as the customers' messages would: each customer writes on the seeded
// WhatsApp channel with a received_at 23 to 24 hours ago (ingestion moves the window and
// schedules its alerts). The expiring alerts this makes are due at once (the lead is 60
// minutes): they are sent here, through the alert job's own call, so that the measured server
// only sends the closed ones as their windows close (about 14 a second). It answers how many
// customers wrote. The windows close within the hour, so every later run makes them again.
func (e *env) closingRows(ctx context.Context, f *fixture) (int, error) {
	var has bool
	if err := e.pool.QueryRow(ctx, `SELECT to_regclass('conversations_window_open') IS NOT NULL`).Scan(&has); err != nil || !has ||
		f.inboundChannel == "" {
		return 0, err // before migration 0018, or a workspace without the seeded WhatsApp channel
	}
	rows, err := e.pool.Query(ctx, `
SELECT i.identifier FROM contact_identities i
JOIN conversations v ON v.workspace_id = i.workspace_id AND v.contact_id = i.contact_id
WHERE i.workspace_id = $1 AND i.channel_id = $2 AND v.status = 'open'
  AND v.window_open_until IS NULL
ORDER BY md5(i.id::text) LIMIT greatest($3 - (SELECT count(*) FROM conversations WHERE workspace_id = $1 AND status = 'open'
    AND window_open_until > now() AND window_open_until <= now() + interval '1 hour'), 0)`, f.workspaceID, f.inboundChannel, closingRows)
	if err != nil {
		return 0, fmt.Errorf("closing windows: %w", err)
	}
	identifiers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, fmt.Errorf("closing windows: %w", err)
	}
	channel := uuid.MustParse(f.inboundChannel)
	now := time.Now()
	for i, id := range identifiers {
		// Closing 1 to 59 minutes from now, spread evenly.
		at := now.Add(-24*time.Hour + time.Minute + time.Duration(i%3480)*time.Second)
		in := conversation.InboundMessage{Identifier: id, Text: "Are you still there?", ReceivedAt: &at}
		if _, _, err := f.convs.Ingest(ctx, f.workspaceID, channel, in); err != nil {
			return 0, fmt.Errorf("closing window of %s: %w", id, err)
		}
	}
	for {
		n, err := f.convs.AlertDue(ctx, 500)
		if err != nil {
			return 0, fmt.Errorf("send the expiring alerts: %w", err)
		}
		if n < 500 {
			break
		}
	}
	return len(identifiers), nil
}

// pick runs a query of conversation ids.
func (e *env) pick(ctx context.Context, q string, args ...any) ([]uuid.UUID, error) {
	rows, err := e.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// caller is the agent of variant i acting as themselves.
func (f *fixture) caller(i int) conversation.Caller {
	a := pick(f.agents, i)
	return conversation.Caller{Actor: conversation.Actor{Kind: conversation.ActorUser, ID: a.id}, User: &a.id, Agent: true}
}
