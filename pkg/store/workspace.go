package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm/clause"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/workspace"
)

type workspaceRow struct {
	ID                    uuid.UUID `gorm:"primaryKey"`
	Name                  string
	UnassignOnClose       bool
	ClosingNoteRequired   bool
	ClosingNoteCategories textArray
	DefaultPhoneRegion    string
	WindowClosingMinutes  int
	AuditRetentionDays    int
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

func (workspaceRow) TableName() string { return "workspaces" }

func (r workspaceRow) domain() workspace.Workspace {
	return workspace.Workspace{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Settings: workspace.Settings{UnassignOnClose: r.UnassignOnClose, ClosingNoteRequired: r.ClosingNoteRequired,
			ClosingNoteCategories: []string(r.ClosingNoteCategories), DefaultPhoneRegion: r.DefaultPhoneRegion,
			WindowClosingMinutes: r.WindowClosingMinutes, AuditRetentionDays: r.AuditRetentionDays}}
}

// workspaceColumns are workspaceRow's columns.
const workspaceColumns = `id, name, unassign_on_close, closing_note_required, closing_note_categories,
       default_phone_region, window_closing_minutes, audit_retention_days, created_at, updated_at`

func toWorkspaceRow(w workspace.Workspace) workspaceRow {
	if w.Settings.WindowClosingMinutes == 0 {
		// A workspace made without the setting (it came with migration 0018) takes its default.
		w.Settings.WindowClosingMinutes = workspace.DefaultWindowClosingMinutes
	}
	if w.Settings.AuditRetentionDays == 0 {
		w.Settings.AuditRetentionDays = audit.DefaultRetentionDays // as migration 0022's default
	}
	return workspaceRow{ID: w.ID, Name: w.Name, UnassignOnClose: w.Settings.UnassignOnClose,
		ClosingNoteRequired: w.Settings.ClosingNoteRequired, ClosingNoteCategories: textArray(w.Settings.ClosingNoteCategories),
		DefaultPhoneRegion: w.Settings.DefaultPhoneRegion, WindowClosingMinutes: w.Settings.WindowClosingMinutes,
		AuditRetentionDays: w.Settings.AuditRetentionDays, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

type userRow struct {
	WorkspaceID  uuid.UUID `gorm:"primaryKey"`
	ID           uuid.UUID `gorm:"primaryKey"`
	Email        string
	Name         string
	Role         string
	PasswordHash string
	Availability string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) domain() workspace.User {
	return workspace.User{WorkspaceID: r.WorkspaceID, ID: r.ID, Email: r.Email, Name: r.Name,
		Role: workspace.Role(r.Role), PasswordHash: r.PasswordHash, Availability: workspace.Availability(r.Availability),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// userColumns are userRow's columns.
const userColumns = `workspace_id, id, email, name, role, password_hash, availability, created_at, updated_at`

func toUserRow(u workspace.User) userRow {
	r := userRow{WorkspaceID: u.WorkspaceID, ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role),
		PasswordHash: u.PasswordHash, Availability: string(u.Availability), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
	if r.Availability == "" {
		r.Availability = string(workspace.Offline) // a new user is offline until they say otherwise
	}
	return r
}

func userErr(err error) error {
	if code, constraint := pgCode(err); code == uniqueViolation && constraint == "users_email_key" {
		return workspace.ErrEmailTaken
	}
	return err
}

// CreateWorkspace stores a workspace with its first owner in one transaction; an owner email
// that any workspace already has is workspace.ErrEmailTaken. Two round trips: BEGIN with the
// lock and then the check; the inserts with COMMIT.
func (s *Store) CreateWorkspace(ctx context.Context, ws workspace.Workspace, owner workspace.User) error {
	const (
		insertWorkspace = `INSERT INTO workspaces (` + workspaceColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
		insertOwner     = `INSERT INTO users (` + userColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	)
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		// Bootstrap is the operator's command, so refusing an email another workspace has tells
		// no tenant anything; it keeps a repeated bootstrap from making a second workspace. The
		// lock makes two concurrent bootstraps of one email take turns at the check, a
		// statement of its own that reads after the lock is held.
		var taken bool
		b := &batch{}
		b.exec("lock owner email", statement{`SELECT pg_advisory_xact_lock(hashtextextended('bootstrap:' || $1, 0))`,
			[]any{owner.Email}})
		queueValue(b, "check owner email", &taken, statement{`SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)`,
			[]any{owner.Email}})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		if taken {
			return nil, workspace.ErrEmailTaken.Detailf("A user with this email already exists in a workspace; bootstrap needs an email no workspace has.")
		}
		w, u := toWorkspaceRow(ws), toUserRow(owner)
		b = &batch{}
		b.exec("insert workspace", statement{insertWorkspace, []any{w.ID, w.Name, w.UnassignOnClose, w.ClosingNoteRequired,
			w.ClosingNoteCategories, w.DefaultPhoneRegion, w.WindowClosingMinutes, w.AuditRetentionDays, w.CreatedAt, w.UpdatedAt}})
		b.execWrap(statement{insertOwner, []any{u.WorkspaceID, u.ID, u.Email, u.Name, u.Role, u.PasswordHash,
			u.Availability, u.CreatedAt, u.UpdatedAt}}, func(err error) error { return fmt.Errorf("insert owner: %w", userErr(err)) })
		return b, nil
	})
	return userErr(err)
}

// Workspace returns one workspace.
//
// It reads straight through pgx: every inbound message needs the workspace's phone region,
// and gorm's reflection cost more than the query.
func (s *Store) Workspace(ctx context.Context, id uuid.UUID) (workspace.Workspace, error) {
	r, err := queryRow[workspaceRow](ctx, s.Pool, `SELECT `+workspaceColumns+` FROM workspaces WHERE id = $1`, id)
	if isNotFound(err) {
		return workspace.Workspace{}, workspace.ErrNotFound
	}
	if err != nil {
		return workspace.Workspace{}, fmt.Errorf("get workspace: %w", err)
	}
	return r.domain(), nil
}

// UpdateWorkspace locks the workspace row, applies the change and saves it with its audit
// records.
func (s *Store) UpdateWorkspace(ctx context.Context, id uuid.UUID, apply func(*workspace.Workspace) ([]audit.Record, error)) (workspace.Workspace, error) {
	return workspaceChange.runAudited(ctx, s, id, apply, id)
}

var workspaceChange = change[workspaceRow, workspace.Workspace]{
	lock:    `SELECT ` + workspaceColumns + ` FROM workspaces WHERE id = $1 FOR UPDATE`,
	missing: workspace.ErrNotFound,
	domain:  workspaceRow.domain,
	save: func(w workspace.Workspace) (string, []any) {
		r := toWorkspaceRow(w)
		return saveWorkspaceSQL, []any{r.ID, r.Name, r.UnassignOnClose, r.ClosingNoteRequired, r.ClosingNoteCategories,
			r.DefaultPhoneRegion, r.CreatedAt, r.UpdatedAt, r.WindowClosingMinutes, r.AuditRetentionDays}
	},
	what: "workspace",
}

// saveWorkspaceSQL writes a workspace back. A new window_closing_minutes moves the pending
// expiring alerts of its conversations by the difference (an expiring alert is due that long
// before its window closes), in the same statement: old reads the value before the update
// (every part of a statement sees the same snapshot). It walks conversations_window_alert,
// which holds only the pending alerts of every workspace.
const saveWorkspaceSQL = `
WITH old AS (SELECT window_closing_minutes AS minutes FROM workspaces WHERE id = $1),
saved AS (
    UPDATE workspaces SET name = $2, unassign_on_close = $3, closing_note_required = $4, closing_note_categories = $5,
           default_phone_region = $6, created_at = $7, updated_at = $8, window_closing_minutes = $9,
           audit_retention_days = $10
    WHERE id = $1)
UPDATE conversations v SET window_alert_at = v.window_alert_at + make_interval(mins => old.minutes - $9)
FROM old
WHERE old.minutes <> $9 AND v.window_alert_at IS NOT NULL AND v.workspace_id = $1
  AND v.window_alert IN ('expiring', 'tag_expiring')`

// CreateUser stores a user with its audit record, in one statement.
func (s *Store) CreateUser(ctx context.Context, u workspace.User, rec audit.Record) error {
	const q = `INSERT INTO users (` + userColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`
	r := toUserRow(u)
	st := statement{q, []any{r.WorkspaceID, r.ID, r.Email, r.Name, r.Role, r.PasswordHash, r.Availability, r.CreatedAt, r.UpdatedAt}}
	if _, err := s.execAudited(ctx, u.WorkspaceID, st, rec); err != nil {
		return fmt.Errorf("insert user: %w", userErr(err))
	}
	return nil
}

// SetAvailability sets a user's availability (no lock beyond the row's update: routing reads
// it without one, and sees it from the next routing on).
func (s *Store) SetAvailability(ctx context.Context, ws, id uuid.UUID, a workspace.Availability, now time.Time) (workspace.User, error) {
	const q = `UPDATE users SET availability = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2 RETURNING ` + userColumns
	r, err := queryRow[userRow](ctx, s.Pool, q, ws, id, string(a), now)
	if isNotFound(err) {
		return workspace.User{}, workspace.ErrUserNotFound
	}
	if err != nil {
		return workspace.User{}, fmt.Errorf("set availability: %w", err)
	}
	return r.domain(), nil
}

// User returns one user of a workspace.
func (s *Store) User(ctx context.Context, ws, id uuid.UUID) (workspace.User, error) {
	return take(s.conn(ctx), userRow.domain, workspace.ErrUserNotFound, "user", ws, id)
}

// UsersByEmail returns the accounts with the login email, at most limit, most recently
// updated first (the order a login tries them in): in every workspace, or in ws only when it
// is not nil.
func (s *Store) UsersByEmail(ctx context.Context, email string, ws *uuid.UUID, limit int) ([]workspace.User, error) {
	cond := map[string]any{"email": email}
	if ws != nil {
		cond["workspace_id"] = *ws
	}
	var rows []userRow
	err := s.conn(ctx).Where(cond).Order(clause.OrderBy{Columns: []clause.OrderByColumn{
		{Column: clause.Column{Name: "updated_at"}, Desc: true}, {Column: clause.Column{Name: "id"}, Desc: true}}}).
		Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("find users by email: %w", err)
	}
	out := make([]workspace.User, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// Users lists a workspace's users, oldest first.
func (s *Store) Users(ctx context.Context, ws uuid.UUID, p page.Request) ([]workspace.User, string, error) {
	return listByID(s.conn(ctx).Where(map[string]any{"workspace_id": ws}), usersByID, false, p, userRow.domain, "users")
}

var usersByID = byID(func(r userRow) uuid.UUID { return r.ID }, false)

// lockOwners locks the workspace's owner rows and the target user, and counts the owners; its
// batch carries the transaction's BEGIN.
func lockOwners(ctx context.Context, tx pgx.Tx, ws, id uuid.UUID) (userRow, int, error) {
	const q = `SELECT ` + userColumns + ` FROM users WHERE workspace_id = $1 AND (role = 'owner' OR id = $2) ORDER BY id FOR UPDATE`
	var rows []userRow
	b := &batch{}
	queueRows(b, "lock owners", &rows, statement{q, []any{ws, id}})
	if err := b.send(ctx, tx); err != nil {
		return userRow{}, 0, err
	}
	var target *userRow
	owners := 0
	for i := range rows {
		if rows[i].Role == string(workspace.RoleOwner) {
			owners++
		}
		if rows[i].ID == id {
			target = &rows[i]
		}
	}
	if target == nil {
		return userRow{}, 0, workspace.ErrUserNotFound
	}
	return *target, owners, nil
}

// UpdateUser changes a user under the owners' locks and ends the sessions apply names in the
// same transaction: no moment exists where the new password is stored and a session it ends
// still works. Two round trips: BEGIN with the locks; the writes with COMMIT.
func (s *Store) UpdateUser(ctx context.Context, ws, id uuid.UUID, apply func(*workspace.User, int) (workspace.EndSessions, []audit.Record, error)) (workspace.User, error) {
	var out workspace.User
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		r, owners, err := lockOwners(ctx, tx, ws, id)
		if err != nil {
			return nil, err
		}
		u := r.domain()
		end, recs, err := apply(&u, owners)
		if err != nil {
			return nil, err
		}
		const q = `
UPDATE users SET email = $3, name = $4, role = $5, password_hash = $6, created_at = $7, updated_at = $8
WHERE workspace_id = $1 AND id = $2`
		nr := toUserRow(u)
		b := &batch{}
		b.exec("save user", statement{q, []any{ws, id, nr.Email, nr.Name, nr.Role, nr.PasswordHash, nr.CreatedAt, nr.UpdatedAt}})
		if end.All {
			b.exec("end sessions", endSessions(ws, id, end.Except, s.Now()))
		}
		out = u
		return b, s.queueAudit(ctx, b, ws, recs...)
	})
	return out, err
}

// endSessions revokes a user's live sessions but keep. The session row is read on every
// authenticated request and every refresh (the token cache skips only the signature check),
// so their access and refresh tokens stop working as soon as this commits.
func endSessions(ws, user, keep uuid.UUID, now time.Time) statement {
	const q = `UPDATE sessions SET revoked_at = $1 WHERE workspace_id = $2 AND user_id = $3 AND id <> $4 AND revoked_at IS NULL`
	return statement{q, []any{now, ws, user, keep}}
}

// DeleteUser removes a user under the owners' locks; their conversations become unassigned.
// Two round trips: BEGIN with the locks; the delete with COMMIT.
func (s *Store) DeleteUser(ctx context.Context, ws, id uuid.UUID, check func(workspace.User, int) (audit.Record, error)) error {
	return s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		r, owners, err := lockOwners(ctx, tx, ws, id)
		if err != nil {
			return nil, err
		}
		rec, err := check(r.domain(), owners)
		if err != nil {
			return nil, err
		}
		b := &batch{}
		b.exec("delete user", statement{`DELETE FROM users WHERE workspace_id = $1 AND id = $2`, []any{ws, id}})
		return b, s.queueAudit(ctx, b, ws, rec)
	})
}
