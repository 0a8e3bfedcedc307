package store_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/label"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/store"
	"github.com/switchboard/switchboard/pkg/store/storetest"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// TestInboxPagesKeepTheirPlan: a page whose best plan is the same for any arguments keeps one
// plan per connection (the plan cache adopts the generic plan, as its LIMIT is written in),
// and one whose plan depends on them is planned on every execution (store planEach).
func TestInboxPagesKeepTheirPlan(t *testing.T) {
	ctx := context.Background()
	q, err := job.NewQueue(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	// One connection, so the prepared statements the test reads are the lists'.
	st, err := store.Open(ctx, storetest.URL(t), 1, q, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	w, owner, err := workspace.NewService(st, nil, nil, time.Now).Bootstrap(ctx, "Acme",
		workspace.NewUser{Email: "owner@example.com", Name: "Owner", Password: "a long passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	contacts := contact.NewService(st, time.Now)
	for i := range 30 {
		name := fmt.Sprint("Ann ", i)
		if _, err := contacts.Create(ctx, w.ID, contact.Fields{FirstName: &name}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Pool.Exec(ctx, `UPDATE conversations SET assignee_id = $2 WHERE workspace_id = $1 AND id IN (
    SELECT id FROM conversations WHERE workspace_id = $1 ORDER BY id LIMIT 20)`, w.ID, owner.ID); err != nil {
		t.Fatal(err)
	}
	l, err := label.NewService(st, time.Now).Create(ctx, w.ID, label.Fields{Name: ptr("Refund"), Color: ptr("#e5484d")})
	if err != nil {
		t.Fatal(err)
	}
	me, channel := owner.ID, uuid.New()
	for _, tc := range []struct {
		name string
		f    conversation.Filter
		keep bool
		stmt int // which of the request's statements (0: the page's)
	}{
		{"open", conversation.Filter{Status: "open"}, true, 0},
		{"open, mine", conversation.Filter{Status: "open", Inbox: conversation.InboxMine, Me: me, Reader: &me}, true, 0},
		{"snoozed, oldest", conversation.Filter{Status: "snoozed", Sort: conversation.SortOldest, Reader: &me}, true, 0},
		{"all", conversation.Filter{Status: "all"}, true, 0},
		{"open, unassigned", conversation.Filter{Status: "open", Inbox: conversation.InboxUnassigned}, true, 0},
		{"open, an assignee", conversation.Filter{Status: "open", AssigneeID: &me}, true, 0},
		{"mentions", conversation.Filter{Status: "all", Inbox: conversation.InboxMentions, Me: me, Reader: &me}, true, 0},
		{"all, mine", conversation.Filter{Status: "all", Inbox: conversation.InboxMine, Me: me, Reader: &me}, false, 0},
		{"open, a channel", conversation.Filter{Status: "open", ChannelID: &channel}, false, 0},
		{"open, a label", conversation.Filter{Status: "open", LabelID: &l.ID}, false, 0},
		// A search's bounded walk picks the page's ids, and the page's join for those ids: each
		// keeps its plan whatever q is.
		{"open, q", conversation.Filter{Status: "open", Q: "ann"}, true, 0},
		{"open, a label, q", conversation.Filter{Status: "open", LabelID: &l.ID, Q: "ann"}, false, 0},
		{"open, q: the page for the ids", conversation.Filter{Status: "open", Q: "ann"}, true, 1},
		// 4 phone digits pick the page's ids from the gram's rows by day the same way for any
		// gram (Store.phoneDays).
		{"all, 4 phone digits", conversation.Filter{Status: "all", Q: "5550"}, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var page0 store.Statement
			for i := range 8 {
				tctx, trace := store.Traced(ctx)
				if _, _, err := st.Conversations(tctx, w.ID, tc.f, page.Request{Limit: 5}); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					page0 = trace.Statements()[tc.stmt]
				}
			}
			if !tc.keep {
				if !page0.PlanEach {
					t.Errorf("the page's statement is prepared; its plan depends on its arguments:\n%s", page0.SQL)
				}
				return
			}
			var generic, custom int64
			err := st.Pool.QueryRow(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1`,
				page0.SQL).Scan(&generic, &custom)
			if err != nil || page0.PlanEach || generic == 0 {
				t.Errorf("the page's statement does not keep its plan (%d generic, %d custom plans, %v):\n%s", generic, custom, err, page0.SQL)
			}
		})
	}
}
