package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/conversation"
)

// Snooze's wake-up by time. A snooze is set, and woken by an inbound message or a reopen,
// through the conversation's own paths (ChangeConversation, Ingest); here the periodic job
// wakes the snoozes whose instant has passed, across workspaces, in batches.

// dueSnoozesSQL locks the snoozed conversations due at $1, earliest first, at most $2. It walks
// conversations_snooze_due. Rows another transaction holds are skipped, not waited for: a
// second runner's batch, or an inbound message or a reopen on one right now (which decides
// its fate). A row that changed since the statement began is read again under the lock, so
// one woken meanwhile no longer matches: every snooze wakes once, however many runners.
const dueSnoozesSQL = conversationSelect + `
WHERE v.status = 'snoozed' AND v.snoozed_until <= $1
ORDER BY v.snoozed_until
LIMIT $2
FOR UPDATE OF v SKIP LOCKED`

// WakeSnoozed locks at most limit snoozed conversations due at now, lets wake decide each, and
// saves those it changed with their lifecycle events and their events in the outbox, in one
// transaction of two round trips: BEGIN with the lock; the writes, the events and COMMIT. It
// answers how many changed.
func (s *Store) WakeSnoozed(ctx context.Context, now time.Time, limit int, wake func(*conversation.Conversation) []conversation.Event) (int, error) {
	var woke int
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		woke = 0
		var due []conversationRow
		b := &batch{}
		queueRows(b, "lock due snoozes", &due, statement{dueSnoozesSQL, []any{now, limit}})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		// Written in (workspace, assignee) order: the counters' user rows are locked in the same
		// order as by any other writer of several conversations, so two cannot deadlock.
		slices.SortFunc(due, func(a, b conversationRow) int {
			if c := bytes.Compare(a.WorkspaceID[:], b.WorkspaceID[:]); c != 0 {
				return c
			}
			var x, y []byte
			if a.AssigneeID != nil {
				x = a.AssigneeID[:]
			}
			if b.AssigneeID != nil {
				y = b.AssigneeID[:]
			}
			return bytes.Compare(x, y)
		})
		b = &batch{}
		var events []conversation.Event
		published := map[uuid.UUID][]pending{}
		for _, r := range due {
			c := r.domain()
			evs := wake(&c)
			if len(evs) == 0 {
				continue
			}
			queueConversationUpdate(b, c)
			events = append(events, evs...)
			published[c.WorkspaceID] = append(published[c.WorkspaceID], conversationEvents(evs, c)...)
			woke++
		}
		if woke == 0 {
			return nil, nil
		}
		b.exec("insert conversation events", eventsInsert(events))
		if err := s.queuePublishEach(b, published); err != nil {
			return nil, err
		}
		return b, nil
	})
	if err != nil {
		return 0, fmt.Errorf("wake due snoozes: %w", err)
	}
	return woke, nil
}

// ExplainWake returns EXPLAIN (ANALYZE, BUFFERS) of the wake-up's lock of due snoozes, in a
// transaction rolled back (so nothing stays locked), for tests that check its plan.
func (s *Store) ExplainWake(ctx context.Context, now time.Time, limit int) (string, error) {
	return s.explainLocking(ctx, "explain wake", dueSnoozesSQL, now, limit)
}
