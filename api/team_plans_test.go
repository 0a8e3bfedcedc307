package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/page"
)

// The inbox's team_id filter walks conversations_team, and the team's queue (team_id with
// inbox=unassigned) conversations_team_queue (migration 0021): no sequential scan, no sort.
func TestTeamInboxPlans(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	seedContacts(t, e, w.ID, 10000)
	ctx := context.Background()
	team := uuid.Must(uuid.NewV7())
	if _, err := e.Store.Pool.Exec(ctx, `INSERT INTO teams (workspace_id, id, name, created_at, updated_at) VALUES ($1, $2, 'Billing', now(), now())`,
		w.ID, team); err != nil {
		t.Fatal(err)
	}
	// A tenth of the conversations in the team, most of those assigned.
	if _, err := e.Store.Pool.Exec(ctx, `
WITH n AS (SELECT id, row_number() OVER (ORDER BY id) AS i FROM conversations WHERE workspace_id = $1)
UPDATE conversations v SET
    last_message_at = now() - n.i * interval '1 minute',
    team_id = CASE WHEN n.i % 10 = 0 THEN $2::uuid END,
    assignee_id = CASE WHEN n.i % 30 <> 0 THEN $3::uuid END
FROM n WHERE v.workspace_id = $1 AND v.id = n.id`, w.ID, team, w.OwnerID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Pool.Exec(ctx, "VACUUM (ANALYZE) conversations"); err != nil {
		t.Fatal(err)
	}
	ws := uuid.MustParse(w.ID)
	cases := []struct {
		name  string
		inbox string
		index string
	}{
		{"team_id", "all", "conversations_team "},
		{"team_id&inbox=unassigned", "unassigned", "conversations_team_queue"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := conversation.Filter{Status: "open", Inbox: tc.inbox, Sort: "newest", TeamID: &team}
			plans, err := e.Store.ExplainConversations(ctx, ws, f, page.Request{Limit: 25})
			if err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(plans, "\n\n")
			if !strings.Contains(plans[0], "using "+tc.index) || strings.Contains(plans[0], "Seq Scan on conversations") ||
				strings.Contains(plans[0], "Sort Key") {
				t.Errorf("the page does not walk %s:\n%s", tc.index, plan)
			}
		})
	}
}
