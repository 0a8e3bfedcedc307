package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/workspace"
)

type sessionRow struct {
	WorkspaceID uuid.UUID `gorm:"primaryKey"`
	ID          uuid.UUID `gorm:"primaryKey"`
	UserID      uuid.UUID
	CreatedAt   time.Time
	RevokedAt   *time.Time
}

func (sessionRow) TableName() string { return "sessions" }

type refreshRow struct {
	WorkspaceID uuid.UUID `gorm:"primaryKey"`
	ID          uuid.UUID `gorm:"primaryKey"`
	SessionID   uuid.UUID
	TokenHash   []byte
	ExpiresAt   time.Time
	UsedAt      *time.Time
	CreatedAt   time.Time
}

func (refreshRow) TableName() string { return "refresh_tokens" }

func toRefreshRow(t auth.RefreshToken) refreshRow {
	return refreshRow{WorkspaceID: t.WorkspaceID, ID: t.ID, SessionID: t.SessionID, TokenHash: t.Hash,
		ExpiresAt: t.ExpiresAt, CreatedAt: t.CreatedAt}
}

// CreateSession stores a new session with its first refresh token, if the user's password is
// still the one the login verified.
//
// A login reads the user, spends tens of milliseconds verifying the password, then gets here;
// a password change committed in between ends only the sessions that exist when it commits.
// The insert therefore takes a share lock on the user row and inserts only while the hash is
// passwordHash: if the change holds the row, the insert waits for its commit and then finds
// the new hash (no session); if the insert holds it, the change waits, and its revoke, a later
// statement, sees and ends the new session.
func (s *Store) CreateSession(ctx context.Context, sess auth.Session, first auth.RefreshToken, passwordHash string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		const q = `
INSERT INTO sessions (workspace_id, id, user_id, created_at)
SELECT workspace_id, ?, id, ? FROM users
WHERE workspace_id = ? AND id = ? AND password_hash = ?
FOR SHARE`
		res := tx.Exec(q, sess.ID, sess.CreatedAt, sess.WorkspaceID, sess.UserID, passwordHash)
		if res.Error != nil {
			return fmt.Errorf("insert session: %w", res.Error)
		}
		if res.RowsAffected == 0 { // the password changed (or the user was removed) since
			return auth.ErrInvalidCredentials
		}
		rr := toRefreshRow(first)
		if err := tx.Create(&rr).Error; err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		return nil
	})
}

// RotateRefresh consumes a refresh token and stores its successor, detecting reuse.
func (s *Store) RotateRefresh(ctx context.Context, ws uuid.UUID, hash []byte, next func(auth.Session) auth.RefreshToken) (auth.Session, error) {
	var out auth.Session
	reused := false
	now := s.Now()
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var row struct {
			ID             uuid.UUID
			SessionID      uuid.UUID
			ExpiresAt      time.Time
			UsedAt         *time.Time
			UserID         uuid.UUID
			SessionRevoked *time.Time
		}
		// Lock the token so two concurrent refreshes with it cannot both succeed.
		const q = `
SELECT t.id, t.session_id, t.expires_at, t.used_at, s.user_id, s.revoked_at AS session_revoked
FROM refresh_tokens t JOIN sessions s ON s.workspace_id = t.workspace_id AND s.id = t.session_id
WHERE t.workspace_id = ? AND t.token_hash = ?
FOR UPDATE OF t`
		res := tx.Raw(q, ws, hash).Scan(&row)
		if res.Error != nil {
			return fmt.Errorf("lock refresh token: %w", res.Error)
		}
		if res.RowsAffected == 0 || row.SessionRevoked != nil || !now.Before(row.ExpiresAt) {
			return auth.ErrInvalidToken
		}
		if row.UsedAt != nil {
			reused = true
			if err := tx.Exec(`UPDATE sessions SET revoked_at = ? WHERE workspace_id = ? AND id = ?`, now, ws, row.SessionID).Error; err != nil {
				return fmt.Errorf("revoke session: %w", err)
			}
			return nil
		}
		if err := tx.Exec(`UPDATE refresh_tokens SET used_at = ? WHERE workspace_id = ? AND id = ?`, now, ws, row.ID).Error; err != nil {
			return fmt.Errorf("consume refresh token: %w", err)
		}
		out = auth.Session{WorkspaceID: ws, ID: row.SessionID, UserID: row.UserID}
		nr := toRefreshRow(next(out))
		if err := tx.Create(&nr).Error; err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		return nil
	})
	if err != nil {
		return auth.Session{}, err
	}
	if reused {
		return auth.Session{}, auth.ErrRefreshReused
	}
	return out, nil
}

// RevokeSession ends a session.
func (s *Store) RevokeSession(ctx context.Context, ws, id uuid.UUID) error {
	err := s.conn(ctx).Exec(`UPDATE sessions SET revoked_at = ? WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL`, s.Now(), ws, id).Error
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// SessionUser returns the user of a live session in one query. Every request with an access
// token runs it, so it goes to pgx directly and scans by position, without gorm's reflection.
func (s *Store) SessionUser(ctx context.Context, ws, session, user uuid.UUID) (workspace.User, error) {
	const q = `
SELECT u.workspace_id, u.id, u.email, u.name, u.role, u.password_hash, u.created_at, u.updated_at
FROM sessions s JOIN users u ON u.workspace_id = s.workspace_id AND u.id = s.user_id
WHERE s.workspace_id = $1 AND s.id = $2 AND s.user_id = $3 AND s.revoked_at IS NULL`
	var r userRow
	err := s.Pool.QueryRow(ctx, q, ws, session, user).Scan(&r.WorkspaceID, &r.ID, &r.Email, &r.Name, &r.Role,
		&r.PasswordHash, &r.CreatedAt, &r.UpdatedAt)
	if isNotFound(err) {
		return workspace.User{}, auth.ErrInvalidToken
	}
	if err != nil {
		return workspace.User{}, fmt.Errorf("session user: %w", err)
	}
	return r.domain(), nil
}

type keyRow struct {
	WorkspaceID uuid.UUID `gorm:"primaryKey"`
	ID          uuid.UUID `gorm:"primaryKey"`
	Name        string
	Prefix      string
	KeyHash     []byte
	Scopes      textArray
	CreatedBy   *uuid.UUID
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
}

func (keyRow) TableName() string { return "api_keys" }

func (r keyRow) domain() auth.Key {
	return auth.Key{WorkspaceID: r.WorkspaceID, ID: r.ID, Name: r.Name, Prefix: r.Prefix, Scopes: []string(r.Scopes),
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt}
}

// CreateKey stores a key's hash.
func (s *Store) CreateKey(ctx context.Context, k auth.Key, hash []byte) error {
	r := keyRow{WorkspaceID: k.WorkspaceID, ID: k.ID, Name: k.Name, Prefix: k.Prefix, KeyHash: hash,
		Scopes: textArray(k.Scopes), CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt}
	if err := s.conn(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("insert api key: %w", err)
	}
	return nil
}

// KeyByHash finds a live key and, in the same round trip, records its use when the last
// record is over a minute old, so busy keys don't turn every request into a write. Every
// request with an API key runs it: pgx directly, scanned by position.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (auth.Key, error) {
	const q = `
WITH k AS (
    SELECT workspace_id, id, name, prefix, scopes, created_by, created_at, last_used_at
    FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL
), touched AS (
    UPDATE api_keys a SET last_used_at = $2 FROM k
    WHERE a.workspace_id = k.workspace_id AND a.id = k.id
      AND (k.last_used_at IS NULL OR k.last_used_at < CAST($2 AS timestamptz) - interval '1 minute')
)
SELECT workspace_id, id, name, prefix, scopes, created_by, created_at, last_used_at FROM k`
	r, err := scanKey(s.Pool.QueryRow(ctx, q, hash, s.Now()))
	if isNotFound(err) {
		return auth.Key{}, auth.ErrInvalidToken
	}
	if err != nil {
		return auth.Key{}, fmt.Errorf("find api key: %w", err)
	}
	return r.domain(), nil
}

// scanKey reads a row of the columns workspace_id, id, name, prefix, scopes, created_by,
// created_at, last_used_at.
func scanKey(row pgx.Row) (keyRow, error) {
	var r keyRow
	err := row.Scan(&r.WorkspaceID, &r.ID, &r.Name, &r.Prefix, (*[]string)(&r.Scopes), &r.CreatedBy, &r.CreatedAt, &r.LastUsedAt)
	return r, err
}

// LiveKey returns a key that is not revoked. Open event streams ask it every few seconds, so
// it is one primary-key lookup through pgx.
func (s *Store) LiveKey(ctx context.Context, ws, id uuid.UUID) (auth.Key, error) {
	const q = `
SELECT workspace_id, id, name, prefix, scopes, created_by, created_at, last_used_at
FROM api_keys WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL`
	r, err := scanKey(s.Pool.QueryRow(ctx, q, ws, id))
	if isNotFound(err) {
		return auth.Key{}, auth.ErrInvalidToken
	}
	if err != nil {
		return auth.Key{}, fmt.Errorf("live api key: %w", err)
	}
	return r.domain(), nil
}

// Keys lists live keys, oldest first.
func (s *Store) Keys(ctx context.Context, ws uuid.UUID, p page.Request) ([]auth.Key, string, error) {
	return list(keysByID, p, func(after *idCursor, limit int) ([]keyRow, error) {
		q := s.conn(ctx).Where("workspace_id = ? AND revoked_at IS NULL", ws)
		if after != nil {
			q = q.Where("id > ?", after.ID)
		}
		var rows []keyRow
		if err := q.Order("id").Limit(limit).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		return rows, nil
	}, keyRow.domain)
}

var keysByID = keyset[keyRow, idCursor]{key: func(r keyRow) idCursor { return idCursor{r.ID} }}

// RevokeKey revokes a live key.
func (s *Store) RevokeKey(ctx context.Context, ws, id uuid.UUID) error {
	res := s.conn(ctx).Exec(`UPDATE api_keys SET revoked_at = ? WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL`, s.Now(), ws, id)
	if res.Error != nil {
		return fmt.Errorf("revoke api key: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return auth.ErrKeyNotFound
	}
	return nil
}

var _ = errors.New
