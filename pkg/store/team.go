package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/team"
)

// A workspace's teams and their members (migration 0021). Routing reads a team under its lock
// in the ingestion transaction (routeInbound, inbound.go); a conversation's team is a column of
// its row (conversation.go).

type teamRow struct {
	WorkspaceID uuid.UUID
	ID          uuid.UUID
	Name        string
	MemberIDs   []uuid.UUID
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (r teamRow) domain() team.Team {
	members := r.MemberIDs
	if members == nil {
		members = []uuid.UUID{}
	}
	return team.Team{WorkspaceID: r.WorkspaceID, ID: r.ID, Name: r.Name, MemberIDs: members, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// teamColumns are teamRow's columns of teams t, the members read with them.
const teamColumns = `t.workspace_id, t.id, t.name, t.created_at, t.updated_at,
       array(SELECT m.user_id FROM team_members m WHERE m.workspace_id = t.workspace_id AND m.team_id = t.id
             ORDER BY m.user_id) AS member_ids`

// teamExists turns a unique violation on a team's name into team.ErrExists naming the team
// that holds it; other errors pass through.
func (s *Store) teamExists(ctx context.Context, err error, t team.Team) error {
	if code, constraint := pgCode(err); code != uniqueViolation || constraint != "teams_name_key" {
		return err
	}
	// A fresh query: the violation has aborted any transaction it happened in.
	var id uuid.UUID
	_ = s.Pool.QueryRow(ctx, `SELECT id FROM teams WHERE workspace_id = $1 AND lower(name) COLLATE "C" = lower($2) COLLATE "C"`,
		t.WorkspaceID, t.Name).Scan(&id)
	return team.ErrExists.With("existing_id", id.String())
}

// CreateTeam stores a team without members; a name the workspace already has (without regard
// to case) is team.ErrExists with the holder's id.
func (s *Store) CreateTeam(ctx context.Context, t team.Team) error {
	const q = `INSERT INTO teams (workspace_id, id, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)`
	if _, err := s.Pool.Exec(ctx, q, t.WorkspaceID, t.ID, t.Name, t.CreatedAt, t.UpdatedAt); err != nil {
		return s.teamExists(ctx, fmt.Errorf("insert team: %w", err), t)
	}
	return nil
}

// Team reads one team with its members.
func (s *Store) Team(ctx context.Context, ws, id uuid.UUID) (team.Team, error) {
	r, err := queryRow[teamRow](ctx, s.Pool, `SELECT `+teamColumns+` FROM teams t WHERE t.workspace_id = $1 AND t.id = $2`, ws, id)
	if isNotFound(err) {
		return team.Team{}, team.ErrNotFound
	}
	if err != nil {
		return team.Team{}, fmt.Errorf("get team: %w", err)
	}
	return r.domain(), nil
}

// teamCursor is a position in the team list: the name, unique without regard to case.
type teamCursor struct {
	Name string `json:"n"`
}

var teamsByName = keyset[teamRow, teamCursor]{
	key:   func(r teamRow) teamCursor { return teamCursor{Name: r.Name} },
	valid: func(c teamCursor) bool { return c.Name != "" },
}

// Teams lists the workspace's teams by name without regard to case, walking teams_name_key.
func (s *Store) Teams(ctx context.Context, ws uuid.UUID, p page.Request) ([]team.Team, string, error) {
	return list(teamsByName, p, func(after *teamCursor, limit int) ([]teamRow, error) {
		args := params{ws}
		cond := ""
		if after != nil {
			cond = ` AND lower(t.name) COLLATE "C" > lower(` + args.add(after.Name) + `) COLLATE "C"`
		}
		q := `SELECT ` + teamColumns + ` FROM teams t WHERE t.workspace_id = $1` + cond + `
ORDER BY lower(t.name) COLLATE "C"
LIMIT ` + args.add(limit)
		rows, err := queryRows[teamRow](ctx, s.Pool, q, args...)
		if err != nil {
			return nil, fmt.Errorf("list teams: %w", err)
		}
		return rows, nil
	}, teamRow.domain)
}

// UpdateTeam locks a team, applies the change and saves it. Renaming onto another team's
// name is team.ErrExists.
func (s *Store) UpdateTeam(ctx context.Context, ws, id uuid.UUID, apply func(*team.Team) error) (team.Team, error) {
	return teamChange.run(ctx, s, apply, ws, id)
}

var teamChange = change[teamRow, team.Team]{
	lock:    `SELECT ` + teamColumns + ` FROM teams t WHERE t.workspace_id = $1 AND t.id = $2 FOR UPDATE OF t`,
	missing: team.ErrNotFound,
	domain:  teamRow.domain,
	save: func(t team.Team) (string, []any) {
		const q = `UPDATE teams SET name = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2`
		return q, []any{t.WorkspaceID, t.ID, t.Name, t.UpdatedAt}
	},
	what: "team",
	explain: func(ctx context.Context, s *Store, err error, t team.Team) error {
		return s.teamExists(ctx, err, t)
	},
}

// DeleteTeam takes the team off its conversations and channels, then deletes it (and its
// members) in one transaction. The conversations are cleared first, walking
// conversations_team, so this path, like ingestion, locks conversations before the team:
// ingestion holds a conversation and then waits for the team's lock, and would deadlock with a
// delete that held the team while it waited for that conversation. (The foreign keys' ON
// DELETE SET NULL would clear them after the team's row.)
func (s *Store) DeleteTeam(ctx context.Context, ws, id uuid.UUID) error {
	return s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		var deleted int
		b := &batch{}
		b.exec("clear conversations' team", statement{`UPDATE conversations SET team_id = NULL WHERE workspace_id = $1 AND team_id = $2`, []any{ws, id}})
		b.exec("clear channels' routing", statement{`UPDATE channels SET routing_team_id = NULL WHERE workspace_id = $1 AND routing_team_id = $2`, []any{ws, id}})
		queueValue(b, "delete team", &deleted, statement{`WITH d AS (DELETE FROM teams WHERE workspace_id = $1 AND id = $2 RETURNING 1) SELECT count(*)::int FROM d`, []any{ws, id}})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		if deleted == 0 {
			return nil, team.ErrNotFound
		}
		return nil, nil
	})
}

const (
	// lockTeamSQL locks a team for a change of its members: FOR NO KEY UPDATE, the lock
	// routing takes (lockRoutingTeamSQL), so a routing reads the members before or after the
	// change, never half of it.
	lockTeamSQL = `SELECT ` + teamColumns + ` FROM teams t WHERE t.workspace_id = $1 AND t.id = $2 FOR NO KEY UPDATE OF t`
	// wantedUsersSQL reads which of $2 are users of the workspace, and keeps them (FOR KEY
	// SHARE, as the foreign key's own check would) until the members are written.
	wantedUsersSQL   = `SELECT id FROM users WHERE workspace_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR KEY SHARE`
	removeMembersSQL = `DELETE FROM team_members WHERE workspace_id = $1 AND team_id = $2 AND user_id <> ALL($3::uuid[])`
	// addMembersSQL adds the new members; those who stay keep their last_routed_at.
	addMembersSQL = `
INSERT INTO team_members (workspace_id, team_id, user_id, created_at)
SELECT $1, $2, u, $4 FROM unnest($3::uuid[]) AS u
ON CONFLICT DO NOTHING`
	touchTeamSQL = `UPDATE teams SET updated_at = $3 WHERE workspace_id = $1 AND id = $2`
)

// ReplaceTeamMembers locks the team, reads which of want are users of ws, lets decide refuse,
// and replaces the members with want, in one transaction: BEGIN with the lock and the users;
// the writes and the team read back with COMMIT.
func (s *Store) ReplaceTeamMembers(ctx context.Context, ws, id uuid.UUID, want []uuid.UUID, decide func(found []uuid.UUID) error, now time.Time) (team.Team, error) {
	var out teamRow
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		var r teamRow
		var found bool
		var users []struct{ ID uuid.UUID }
		b := &batch{}
		queueRow(b, "lock team", &r, &found, statement{lockTeamSQL, []any{ws, id}})
		queueRows(b, "read users", &users, statement{wantedUsersSQL, []any{ws, want}})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		if !found {
			return nil, team.ErrNotFound
		}
		ids := make([]uuid.UUID, len(users))
		for i, u := range users {
			ids[i] = u.ID
		}
		if err := decide(ids); err != nil {
			return nil, err
		}
		var again bool
		b = &batch{}
		b.exec("remove members", statement{removeMembersSQL, []any{ws, id, want}})
		b.exec("add members", statement{addMembersSQL, []any{ws, id, want, now}})
		b.exec("touch team", statement{touchTeamSQL, []any{ws, id, now}})
		queueRow(b, "get team", &out, &again, statement{`SELECT ` + teamColumns + ` FROM teams t WHERE t.workspace_id = $1 AND t.id = $2`, []any{ws, id}})
		return b, nil
	})
	if err != nil {
		return team.Team{}, err
	}
	return out.domain(), nil
}

// SetConversationTeam locks the conversation, lets change set its team and, when it changed,
// saves it, reads it back (with the team's name) and publishes conversation.team_changed, in
// one transaction. The team's foreign key is the check that it is a team of the workspace.
func (s *Store) SetConversationTeam(ctx context.Context, ws, id uuid.UUID, change func(*conversation.Conversation) bool) (conversation.Conversation, error) {
	var out conversation.Conversation
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		var r conversationRow
		var found bool
		b := &batch{}
		queueRow(b, "lock conversation", &r, &found, lockConversation(ws, id))
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		if !found {
			return nil, conversation.ErrNotFound
		}
		c := r.domain()
		if out = c; !change(&c) {
			return nil, nil
		}
		b = &batch{}
		queueConversationUpdate(b, c)
		queueRow(b, "get conversation", &r, &found, conversationByID(ws, id))
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		out = r.domain()
		b = &batch{}
		return b, s.queuePublish(b, ws, []pending{{typ: event.ConversationTeamChanged, conv: &out.ID, v: out}})
	})
	return out, err
}
