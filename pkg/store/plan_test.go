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
	// Fragments of the contacts' names, each held by more than a page of them; newest, by
	// the two newest too (Ann 29 and 28: a first walk of 2 entries finds both and walks on).
	fragments := []string{"ann", "nn 1", "ann 2", "n 1", "ANN", "an", "ann 1", "nn"}
	newest := []string{"ann", "ann 2", "nn 2", "n 2", "ANN 2", "an"}
	for _, tc := range []struct {
		name string
		f    conversation.Filter
		keep bool
		stmt int // which of the request's statements (0: the page's)
		// bound is the search's first walk (0: the default), and qs the fragments the
		// executions search in turn (nil: f.Q each time).
		bound int
		qs    []string
	}{
		{"open", conversation.Filter{Status: "open"}, true, 0, 0, nil},
		{"open, mine", conversation.Filter{Status: "open", Inbox: conversation.InboxMine, Me: me, Reader: &me}, true, 0, 0, nil},
		{"snoozed, oldest", conversation.Filter{Status: "snoozed", Sort: conversation.SortOldest, Reader: &me}, true, 0, 0, nil},
		{"all", conversation.Filter{Status: "all"}, true, 0, 0, nil},
		{"open, unassigned", conversation.Filter{Status: "open", Inbox: conversation.InboxUnassigned}, true, 0, 0, nil},
		{"open, an assignee", conversation.Filter{Status: "open", AssigneeID: &me}, true, 0, 0, nil},
		{"mentions", conversation.Filter{Status: "all", Inbox: conversation.InboxMentions, Me: me, Reader: &me}, true, 0, 0, nil},
		{"all, mine", conversation.Filter{Status: "all", Inbox: conversation.InboxMine, Me: me, Reader: &me}, false, 0, 0, nil},
		{"open, a channel", conversation.Filter{Status: "open", ChannelID: &channel}, false, 0, 0, nil},
		{"open, a label", conversation.Filter{Status: "open", LabelID: &l.ID}, false, 0, 0, nil},
		// A search's bounded walk joined to the page keeps its plan whatever q is (each
		// execution below searches another fragment); the page's join for the ids a walk on
		// picks, too.
		{"open, q", conversation.Filter{Status: "open", Q: "ann"}, true, 0, 0, fragments},
		{"open, a label, q", conversation.Filter{Status: "open", LabelID: &l.ID, Q: "ann"}, false, 0, 0, nil},
		{"open, q: the page for the ids the walk on picks", conversation.Filter{Status: "open", Q: "ann"}, true, 2, 2, newest},
		// 4 phone digits pick the page's ids from the gram's rows by day the same way for any
		// gram (Store.phoneDays).
		{"all, 4 phone digits", conversation.Filter{Status: "all", Q: "5550"}, true, 0, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.bound != 0 {
				defer func(b int) { st.SearchWalkBound = b }(st.SearchWalkBound)
				st.SearchWalkBound = tc.bound
			}
			var page0 store.Statement
			for i := range 8 {
				f := tc.f
				if tc.qs != nil {
					f.Q = tc.qs[i%len(tc.qs)]
				}
				tctx, trace := store.Traced(ctx)
				if _, _, err := st.Conversations(tctx, w.ID, f, page.Request{Limit: 5}); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					page0 = trace.Statements()[tc.stmt]
				}
			}
			checkKept(t, st, page0, tc.keep)
		})
	}

	// A contact search's bounded walk keeps its plan whatever q is (each fragment has a
	// trigram, three letters or digits in a row, so each execution takes that walk); under a
	// tag, whose plan depends on how many contacts carry it, it is planned on every execution.
	for _, tc := range []struct {
		name string
		f    contact.Filter
		keep bool
	}{
		{"contacts, q", contact.Filter{}, true},
		{"contacts, a tag, q", contact.Filter{Tag: "vip"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var walk store.Statement
			for i, q := range []string{"ann", "ann 1", "ann 22", "ANN", "ann 2", "ann 10", "ann 3", "Ann 1"} {
				f := tc.f
				f.Q = q
				tctx, trace := store.Traced(ctx)
				if _, _, err := st.Contacts(tctx, w.ID, f, page.Request{Limit: 5}); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					walk = trace.Statements()[0]
				}
			}
			checkKept(t, st, walk, tc.keep)
		})
	}
}

// checkKept checks that stmt, run eight times, kept its plan (keep: the plan cache adopted
// the generic plan of its prepared statement), or else was planned on every execution.
func checkKept(t *testing.T, st *store.Store, stmt store.Statement, keep bool) {
	t.Helper()
	if !keep {
		if !stmt.PlanEach {
			t.Errorf("the statement is prepared; its plan depends on its arguments:\n%s", stmt.SQL)
		}
		return
	}
	var generic, custom int64
	err := st.Pool.QueryRow(context.Background(), `SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1`,
		stmt.SQL).Scan(&generic, &custom)
	if err != nil || stmt.PlanEach || generic == 0 {
		t.Errorf("the statement does not keep its plan (%d generic, %d custom plans, %v):\n%s", generic, custom, err, stmt.SQL)
	}
}
