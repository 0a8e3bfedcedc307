package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/page"
)

// The window sort and filters walk their indexes (migration 0018) and the alert job reads a
// range of conversations_window_alert: no sequential scan of conversations. While the first
// part of sort=window_closing fills the page, the second is never executed.
func TestWindowPlans(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	seedContacts(t, e, w.ID, 10000)
	ctx := context.Background()
	// Half open, the rest closed; every 10th open one with a window closing within a day
	// (a 40th within the hour), its expiring alert an hour before; every 7th the owner's.
	if _, err := e.Store.Pool.Exec(ctx, `
WITH n AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM conversations WHERE workspace_id = $1)
UPDATE conversations v SET
    last_message_at = now() - n.i * interval '1 minute',
    status = CASE WHEN n.i % 2 = 0 THEN 'closed' ELSE 'open' END,
    window_open_until = CASE WHEN n.i % 20 = 1 THEN now() + (n.i % 1440) * interval '1 minute' END,
    window_alert = CASE WHEN n.i % 20 = 1 THEN 'expiring' END,
    window_alert_at = CASE WHEN n.i % 20 = 1 THEN now() + (n.i % 1440 - 60) * interval '1 minute' END,
    assignee_id = CASE WHEN n.i % 7 = 0 THEN $2::uuid END
FROM n WHERE v.workspace_id = $1 AND v.id = n.id`, w.ID, w.OwnerID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Pool.Exec(ctx, "VACUUM (ANALYZE) conversations"); err != nil {
		t.Fatal(err)
	}
	ws, owner := uuid.MustParse(w.ID), uuid.MustParse(w.OwnerID)
	now := time.Now()
	f := func(sort, window, inbox string) conversation.Filter {
		return conversation.Filter{Status: "open", Inbox: inbox, Me: owner, Sort: sort, Window: window, Now: now}
	}
	cases := []struct {
		name  string
		f     conversation.Filter
		index []string // in the page's statement
	}{
		// The first part fills the page: one statement, the plain list's shape, no second part.
		{"sort=window_closing", f("window_closing", "", "all"), []string{"Index Scan using conversations_window_open"}},
		{"sort=window_closing&window=closing", f("window_closing", "closing", "all"), []string{"Index Scan using conversations_window_open"}},
		{"sort=window_closing&inbox=mine", f("window_closing", "", "mine"), []string{"using conversations_window_assignee"}},
		// The closing range and a sort, or the open windows by last message: planned for the data.
		{"window=closing", f("newest", "closing", "all"), []string{"using conversations_window_"}},
		{"window=open", f("newest", "open", "all"), []string{"using conversations_window_recent"}},
		{"window=closed", f("newest", "closed", "all"), []string{"using conversations_open_no_window", "using conversations_window_open"}},
		{"sort=window_closing&window=closed", f("window_closing", "closed", "all"), []string{"using conversations_open_no_window"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plans, err := e.Store.ExplainConversations(ctx, ws, tc.f, page.Request{Limit: 25})
			if err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(plans, "\n\n")
			for _, want := range tc.index {
				if !strings.Contains(plans[0], want) {
					t.Errorf("the page's plan has no %q", want)
				}
			}
			if strings.HasPrefix(tc.name, "sort=window_closing&") || tc.name == "sort=window_closing" {
				if tc.f.Window != "closed" && (len(plans) != 2 || strings.Contains(plan, "conversations_open_no_window")) {
					t.Errorf("the first part did not fill the page alone: %d statements", len(plans))
				}
			}
			if strings.Contains(plan, "Seq Scan on conversations") || t.Failed() {
				t.Fatalf("plan:\n%s", plan)
			}
			t.Logf("EXPLAIN ANALYZE, %s, 10 000 conversations (250 open windows):\n%s", tc.name, plans[0])
		})
	}
	t.Run("alert job", func(t *testing.T) {
		plan, err := e.Store.ExplainWindowAlerts(ctx, now.Add(2*time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "conversations_window_alert") || strings.Contains(plan, "Seq Scan on conversations") {
			t.Fatalf("the alert job does not read conversations_window_alert:\n%s", plan)
		}
		t.Logf("EXPLAIN ANALYZE, alerts due in 2 hours:\n%s", plan)
	})
}
