package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// CreateSession stores a new session with its first refresh token, if the user's password is
// still the one the login verified.
//
// A login reads the user, spends tens of milliseconds verifying the password, then gets here;
// a password change committed in between ends only the sessions that exist when it commits.
// The insert therefore takes a share lock on the user row and inserts only while the hash is
// passwordHash: if the change holds the row, the insert waits for its commit and then finds
// the new hash (no session); if the insert holds it, the change waits, and its revoke, a later
// statement, sees and ends the new session. The refresh token goes in the same statement, so
// there is one only when the session is, and so does the login's audit entry (rec).
func (s *Store) CreateSession(ctx context.Context, sess auth.Session, first auth.RefreshToken, passwordHash string, rec audit.Record) error {
	args := params{sess.WorkspaceID, sess.ID, sess.CreatedAt, sess.UserID, passwordHash,
		first.WorkspaceID, first.ID, first.SessionID, first.Hash, first.ExpiresAt, first.CreatedAt}
	row, err := s.auditRowSQL(ctx, &args, sess.WorkspaceID, rec)
	if err != nil {
		return err
	}
	q := `
WITH session AS (
    INSERT INTO sessions (workspace_id, id, user_id, created_at)
    SELECT workspace_id, $2, id, $3 FROM users
    WHERE workspace_id = $1 AND id = $4 AND password_hash = $5
    FOR SHARE
    RETURNING id
), token AS (
    INSERT INTO refresh_tokens (workspace_id, id, session_id, token_hash, expires_at, created_at)
    SELECT $6, $7, $8, $9, $10, $11 FROM session
    RETURNING id
)
` + insertAudit + `
SELECT ` + row + `
WHERE EXISTS (SELECT 1 FROM token)`
	tag, err := s.Pool.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	if tag.RowsAffected() == 0 { // the password changed (or the user was removed) since
		return auth.ErrInvalidCredentials
	}
	return nil
}

// RotateRefresh consumes a refresh token and stores its successor, detecting reuse. Two
// round trips: BEGIN with the token's lock; the writes with COMMIT.
func (s *Store) RotateRefresh(ctx context.Context, ws uuid.UUID, hash []byte, next func(auth.Session) auth.RefreshToken) (auth.Session, error) {
	var out auth.Session
	reused := false
	now := s.Now()
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		// Lock the token so two concurrent refreshes with it cannot both succeed.
		const lock = `
SELECT t.id, t.session_id, t.expires_at, t.used_at, s.user_id, s.revoked_at AS session_revoked
FROM refresh_tokens t JOIN sessions s ON s.workspace_id = t.workspace_id AND s.id = t.session_id
WHERE t.workspace_id = $1 AND t.token_hash = $2
FOR UPDATE OF t`
		type locked struct {
			ID             uuid.UUID
			SessionID      uuid.UUID
			ExpiresAt      time.Time
			UsedAt         *time.Time
			UserID         uuid.UUID
			SessionRevoked *time.Time
		}
		var row locked
		var found bool
		b := &batch{}
		queueRow(b, "lock refresh token", &row, &found, statement{lock, []any{ws, hash}})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		if !found || row.SessionRevoked != nil || !now.Before(row.ExpiresAt) {
			return nil, auth.ErrInvalidToken
		}
		b = &batch{}
		if row.UsedAt != nil {
			reused = true
			b.exec("revoke session", statement{`UPDATE sessions SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3`,
				[]any{now, ws, row.SessionID}})
			return b, nil
		}
		b.exec("consume refresh token", statement{`UPDATE refresh_tokens SET used_at = $1 WHERE workspace_id = $2 AND id = $3`,
			[]any{now, ws, row.ID}})
		out = auth.Session{WorkspaceID: ws, ID: row.SessionID, UserID: row.UserID}
		nr := next(out)
		const insert = `
INSERT INTO refresh_tokens (workspace_id, id, session_id, token_hash, expires_at, created_at)
VALUES ($1, $2, $3, $4, $5, $6)`
		b.exec("insert refresh token", statement{insert, []any{nr.WorkspaceID, nr.ID, nr.SessionID, nr.Hash, nr.ExpiresAt, nr.CreatedAt}})
		return b, nil
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
	const q = `UPDATE sessions SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL`
	if _, err := s.Pool.Exec(ctx, q, s.Now(), ws, id); err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	return nil
}

// SessionUser returns the user of a live session in one query. Every request with an access
// token runs it, so it goes to pgx directly.
func (s *Store) SessionUser(ctx context.Context, ws, session, user uuid.UUID) (workspace.User, error) {
	const q = `
SELECT ` + userColumns + ` FROM users u
WHERE u.workspace_id = $1 AND u.id = $3
  AND EXISTS (SELECT 1 FROM sessions s
              WHERE s.workspace_id = u.workspace_id AND s.id = $2 AND s.user_id = u.id AND s.revoked_at IS NULL)`
	r, err := queryRow[userRow](ctx, s.Pool, q, ws, session, user)
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
	// RateLimitPerMinute is the key's own budget; NULL: the server's.
	RateLimitPerMinute *int
}

func (keyRow) TableName() string { return "api_keys" }

// keyColumns are keyRow's columns.
const keyColumns = `workspace_id, id, name, prefix, key_hash, scopes, created_by, created_at, last_used_at, revoked_at, rate_limit_per_minute`

func (r keyRow) domain() auth.Key {
	return auth.Key{WorkspaceID: r.WorkspaceID, ID: r.ID, Name: r.Name, Prefix: r.Prefix, Scopes: []string(r.Scopes),
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt, RateLimitPerMinute: r.RateLimitPerMinute}
}

// CreateKey stores a key's hash with its audit record, in one statement.
func (s *Store) CreateKey(ctx context.Context, k auth.Key, hash []byte, rec audit.Record) error {
	const q = `INSERT INTO api_keys (` + keyColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, $9) RETURNING id`
	st := statement{q, []any{k.WorkspaceID, k.ID, k.Name, k.Prefix, hash, textArray(k.Scopes), k.CreatedBy, k.CreatedAt, k.RateLimitPerMinute}}
	if _, err := s.execAudited(ctx, k.WorkspaceID, st, rec); err != nil {
		return fmt.Errorf("insert api key: %w", err)
	}
	return nil
}

// KeyByHash finds a live key and, in the same round trip, records its use when the last
// record is over a minute old, so busy keys don't turn every request into a write. Every
// request with an API key runs it: pgx directly.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (auth.Key, error) {
	const q = `
WITH k AS (
    SELECT ` + keyColumns + `
    FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL
), touched AS (
    UPDATE api_keys a SET last_used_at = $2 FROM k
    WHERE a.workspace_id = k.workspace_id AND a.id = k.id
      AND (k.last_used_at IS NULL OR k.last_used_at < CAST($2 AS timestamptz) - interval '1 minute')
)
SELECT ` + keyColumns + ` FROM k`
	return s.liveKey(ctx, "find api key", q, hash, s.Now())
}

// LiveKey returns a key that is not revoked. Open event streams ask it every few seconds, so
// it is one primary-key lookup through pgx.
func (s *Store) LiveKey(ctx context.Context, ws, id uuid.UUID) (auth.Key, error) {
	const q = `SELECT ` + keyColumns + ` FROM api_keys WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL`
	return s.liveKey(ctx, "live api key", q, ws, id)
}

// liveKey reads the key q selects; none is auth.ErrInvalidToken.
func (s *Store) liveKey(ctx context.Context, what, q string, args ...any) (auth.Key, error) {
	r, err := queryRow[keyRow](ctx, s.Pool, q, args...)
	if isNotFound(err) {
		return auth.Key{}, auth.ErrInvalidToken
	}
	if err != nil {
		return auth.Key{}, fmt.Errorf("%s: %w", what, err)
	}
	return r.domain(), nil
}

// Keys lists live keys, oldest first.
func (s *Store) Keys(ctx context.Context, ws uuid.UUID, p page.Request) ([]auth.Key, string, error) {
	return listByID(s.conn(ctx).Where(map[string]any{"workspace_id": ws, "revoked_at": nil}), keysByID, false, p, keyRow.domain, "api keys")
}

var keysByID = byID(func(r keyRow) uuid.UUID { return r.ID }, false)

// RevokeKey revokes a live key with its audit record, in one statement.
func (s *Store) RevokeKey(ctx context.Context, ws, id uuid.UUID, rec audit.Record) error {
	const q = `UPDATE api_keys SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL RETURNING id`
	found, err := s.execAudited(ctx, ws, statement{q, []any{s.Now(), ws, id}}, rec)
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if !found {
		return auth.ErrKeyNotFound
	}
	return nil
}
