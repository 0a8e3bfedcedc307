package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchboard/switchboard/pkg/errkind"
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
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

func (workspaceRow) TableName() string { return "workspaces" }

func (r workspaceRow) domain() workspace.Workspace {
	return workspace.Workspace{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Settings: workspace.Settings{UnassignOnClose: r.UnassignOnClose, ClosingNoteRequired: r.ClosingNoteRequired,
			ClosingNoteCategories: []string(r.ClosingNoteCategories), DefaultPhoneRegion: r.DefaultPhoneRegion}}
}

func toWorkspaceRow(w workspace.Workspace) workspaceRow {
	return workspaceRow{ID: w.ID, Name: w.Name, UnassignOnClose: w.Settings.UnassignOnClose,
		ClosingNoteRequired: w.Settings.ClosingNoteRequired, ClosingNoteCategories: textArray(w.Settings.ClosingNoteCategories),
		DefaultPhoneRegion: w.Settings.DefaultPhoneRegion, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

type userRow struct {
	WorkspaceID  uuid.UUID `gorm:"primaryKey"`
	ID           uuid.UUID `gorm:"primaryKey"`
	Email        string
	Name         string
	Role         string
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

func (r userRow) domain() workspace.User {
	return workspace.User{WorkspaceID: r.WorkspaceID, ID: r.ID, Email: r.Email, Name: r.Name,
		Role: workspace.Role(r.Role), PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func toUserRow(u workspace.User) userRow {
	return userRow{WorkspaceID: u.WorkspaceID, ID: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role),
		PasswordHash: u.PasswordHash, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func userErr(err error) error {
	if code, constraint := pgCode(err); code == uniqueViolation && constraint == "users_email_key" {
		return workspace.ErrEmailTaken
	}
	return err
}

// CreateWorkspace stores a workspace with its first owner in one transaction; an owner email
// that any workspace already has is workspace.ErrEmailTaken.
func (s *Store) CreateWorkspace(ctx context.Context, ws workspace.Workspace, owner workspace.User) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		// Bootstrap is the operator's command, so refusing an email another workspace has tells
		// no tenant anything; it keeps a repeated bootstrap from making a second workspace. The
		// lock makes two concurrent bootstraps of one email take turns at the check.
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended('bootstrap:' || ?, 0))`, owner.Email).Error; err != nil {
			return fmt.Errorf("lock owner email: %w", err)
		}
		var taken bool
		if err := tx.Raw(`SELECT EXISTS (SELECT 1 FROM users WHERE email = ?)`, owner.Email).Scan(&taken).Error; err != nil {
			return fmt.Errorf("check owner email: %w", err)
		}
		if taken {
			return workspace.ErrEmailTaken.Detailf("A user with this email already exists in a workspace; bootstrap needs an email no workspace has.")
		}
		wr := toWorkspaceRow(ws)
		if err := tx.Create(&wr).Error; err != nil {
			return fmt.Errorf("insert workspace: %w", err)
		}
		ur := toUserRow(owner)
		if err := tx.Create(&ur).Error; err != nil {
			return fmt.Errorf("insert owner: %w", userErr(err))
		}
		return nil
	})
	return userErr(err)
}

// Workspace returns one workspace.
//
// It reads straight through pgx: every inbound message needs the workspace's phone region,
// and gorm's reflection cost more than the query.
func (s *Store) Workspace(ctx context.Context, id uuid.UUID) (workspace.Workspace, error) {
	const q = `SELECT id, name, unassign_on_close, closing_note_required, closing_note_categories, default_phone_region,
       created_at, updated_at FROM workspaces WHERE id = $1`
	var r workspaceRow
	err := s.Pool.QueryRow(ctx, q, id).Scan(&r.ID, &r.Name, &r.UnassignOnClose, &r.ClosingNoteRequired,
		(*[]string)(&r.ClosingNoteCategories), &r.DefaultPhoneRegion, &r.CreatedAt, &r.UpdatedAt)
	if isNotFound(err) {
		return workspace.Workspace{}, workspace.ErrNotFound
	}
	if err != nil {
		return workspace.Workspace{}, fmt.Errorf("get workspace: %w", err)
	}
	if r.ClosingNoteCategories == nil {
		r.ClosingNoteCategories = textArray{}
	}
	return r.domain(), nil
}

// UpdateWorkspace locks the workspace row, applies the change and saves it.
func (s *Store) UpdateWorkspace(ctx context.Context, id uuid.UUID, apply func(*workspace.Workspace) error) (workspace.Workspace, error) {
	var out workspace.Workspace
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var r workspaceRow
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Take(&r, "id = ?", id).Error; err != nil {
			if isNotFound(err) {
				return workspace.ErrNotFound
			}
			return fmt.Errorf("lock workspace: %w", err)
		}
		w := r.domain()
		if err := apply(&w); err != nil {
			return err
		}
		nr := toWorkspaceRow(w)
		if err := tx.Save(&nr).Error; err != nil {
			return fmt.Errorf("save workspace: %w", err)
		}
		out = w
		return nil
	})
	return out, err
}

// CreateUser stores a user.
func (s *Store) CreateUser(ctx context.Context, u workspace.User) error {
	r := toUserRow(u)
	if err := s.conn(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("insert user: %w", userErr(err))
	}
	return nil
}

// User returns one user of a workspace.
func (s *Store) User(ctx context.Context, ws, id uuid.UUID) (workspace.User, error) {
	var r userRow
	if err := s.conn(ctx).Take(&r, "workspace_id = ? AND id = ?", ws, id).Error; err != nil {
		if isNotFound(err) {
			return workspace.User{}, workspace.ErrUserNotFound
		}
		return workspace.User{}, fmt.Errorf("get user: %w", err)
	}
	return r.domain(), nil
}

// UsersByEmail returns the accounts with the login email, at most limit, most recently
// updated first (the order a login tries them in): in every workspace, or in ws only when it
// is not nil.
func (s *Store) UsersByEmail(ctx context.Context, email string, ws *uuid.UUID, limit int) ([]workspace.User, error) {
	q := s.conn(ctx).Where("email = ?", email)
	if ws != nil {
		q = q.Where("workspace_id = ?", *ws)
	}
	var rows []userRow
	if err := q.Order("updated_at DESC, id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find users by email: %w", err)
	}
	out := make([]workspace.User, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

type idCursor struct {
	ID uuid.UUID `json:"id"`
}

// Users lists a workspace's users, oldest first.
func (s *Store) Users(ctx context.Context, ws uuid.UUID, p page.Request) ([]workspace.User, string, error) {
	q := s.conn(ctx).Where("workspace_id = ?", ws)
	if p.Cursor != "" {
		var c idCursor
		if err := page.Decode(p.Cursor, &c); err != nil {
			return nil, "", err
		}
		q = q.Where("id > ?", c.ID)
	}
	var rows []userRow
	if err := q.Order("id").Limit(p.Limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list users: %w", err)
	}
	next := ""
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		next = page.Encode(idCursor{rows[len(rows)-1].ID})
	}
	out := make([]workspace.User, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}

// lockOwners locks the workspace's owner rows and the target user, and counts the owners.
func lockOwners(tx *gorm.DB, ws, id uuid.UUID) (userRow, int, error) {
	var rows []userRow
	const q = `SELECT * FROM users WHERE workspace_id = ? AND (role = 'owner' OR id = ?) ORDER BY id FOR UPDATE`
	if err := tx.Raw(q, ws, id).Scan(&rows).Error; err != nil {
		return userRow{}, 0, fmt.Errorf("lock owners: %w", err)
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
// still works.
func (s *Store) UpdateUser(ctx context.Context, ws, id uuid.UUID, apply func(*workspace.User, int) (workspace.EndSessions, error)) (workspace.User, error) {
	var out workspace.User
	err := s.tx(ctx, func(tx *gorm.DB) error {
		r, owners, err := lockOwners(tx, ws, id)
		if err != nil {
			return err
		}
		u := r.domain()
		end, err := apply(&u, owners)
		if err != nil {
			return err
		}
		nr := toUserRow(u)
		if err := tx.Save(&nr).Error; err != nil {
			return fmt.Errorf("save user: %w", err)
		}
		if end.All {
			if err := endSessions(tx, ws, id, end.Except, s.Now()); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	return out, err
}

// endSessions revokes a user's live sessions but keep. The session row is read on every
// authenticated request and every refresh (the token cache skips only the signature check),
// so their access and refresh tokens stop working as soon as this commits.
func endSessions(tx *gorm.DB, ws, user, keep uuid.UUID, now time.Time) error {
	const q = `UPDATE sessions SET revoked_at = ? WHERE workspace_id = ? AND user_id = ? AND id <> ? AND revoked_at IS NULL`
	if err := tx.Exec(q, now, ws, user, keep).Error; err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	return nil
}

// DeleteUser removes a user under the owners' locks; their conversations become unassigned.
func (s *Store) DeleteUser(ctx context.Context, ws, id uuid.UUID, check func(workspace.User, int) error) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		r, owners, err := lockOwners(tx, ws, id)
		if err != nil {
			return err
		}
		if err := check(r.domain(), owners); err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM users WHERE workspace_id = ? AND id = ?`, ws, id).Error; err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		return nil
	})
}

var _ = errkind.KindNotFound
