package store_test

import (
	"context"
	"strings"
	"testing"
)

// TestExplainSequenceNumbersNothing: the bench's plan of a sequencer run runs it for real
// (EXPLAIN ANALYZE) on copies of the workspace's events, and leaves no trace: nothing queued,
// nothing numbered.
func TestExplainSequenceNumbersNothing(t *testing.T) {
	ctx := context.Background()
	st, w, _, _ := acme(t)
	for range 3 {
		if _, err := st.Pool.Exec(ctx, `INSERT INTO events (workspace_id, type, occurred_at, payload)
VALUES ($1, 'contact.created', now(), '{}')`, w.ID); err != nil {
			t.Fatal(err)
		}
	}
	run, probe, err := st.ExplainSequence(ctx, w.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(run, "Insert on events") || !strings.Contains(run, "(actual time=") || !strings.Contains(probe, "event_queue") {
		t.Fatalf("plans:\n%s\n%s", run, probe)
	}
	var queued, events int
	if err := st.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM event_queue), (SELECT count(*) FROM events WHERE workspace_id = $1)`,
		w.ID).Scan(&queued, &events); err != nil {
		t.Fatal(err)
	}
	if queued != 0 || events != 3 {
		t.Fatalf("after the explain: %d queued, %d events; want 0 and 3", queued, events)
	}
}
