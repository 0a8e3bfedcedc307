package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/canned"
	"github.com/switchboard/switchboard/pkg/page"
)

// A workspace's canned responses (migration 0021): listed by shortcut, found by a prefix of
// the shortcut or the title.

type cannedRow struct {
	WorkspaceID uuid.UUID `gorm:"primaryKey"`
	ID          uuid.UUID `gorm:"primaryKey"`
	Shortcut    string
	Title       string
	Text        string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (cannedRow) TableName() string { return "canned_responses" }

func (r cannedRow) domain() canned.Response {
	return canned.Response{WorkspaceID: r.WorkspaceID, ID: r.ID, Shortcut: r.Shortcut, Title: r.Title, Text: r.Text,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// cannedColumns are cannedRow's columns.
const cannedColumns = `workspace_id, id, shortcut, title, text, created_at, updated_at`

// cannedTaken turns a unique violation on a shortcut into canned.ErrTaken naming the response
// that holds it; other errors pass through.
func (s *Store) cannedTaken(ctx context.Context, err error, r canned.Response) error {
	if code, constraint := pgCode(err); code != uniqueViolation || constraint != "canned_responses_shortcut_key" {
		return err
	}
	// A fresh query: the violation has aborted any transaction it happened in.
	var id uuid.UUID
	_ = s.Pool.QueryRow(ctx, `SELECT id FROM canned_responses WHERE workspace_id = $1 AND lower(shortcut) COLLATE "C" = lower($2) COLLATE "C"`,
		r.WorkspaceID, r.Shortcut).Scan(&id)
	return canned.ErrTaken.With("existing_id", id.String())
}

// CreateCannedResponse stores a canned response; a shortcut the workspace has (without regard
// to case) is canned.ErrTaken with the holder's id.
func (s *Store) CreateCannedResponse(ctx context.Context, r canned.Response) error {
	const q = `INSERT INTO canned_responses (` + cannedColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	if _, err := s.Pool.Exec(ctx, q, r.WorkspaceID, r.ID, r.Shortcut, r.Title, r.Text, r.CreatedAt, r.UpdatedAt); err != nil {
		return s.cannedTaken(ctx, fmt.Errorf("insert canned response: %w", err), r)
	}
	return nil
}

// CannedResponse reads one canned response.
func (s *Store) CannedResponse(ctx context.Context, ws, id uuid.UUID) (canned.Response, error) {
	return take(s.conn(ctx), cannedRow.domain, canned.ErrNotFound, "canned response", ws, id)
}

// cannedCursor is a position in the list: the shortcut, unique without regard to case.
type cannedCursor struct {
	Shortcut string `json:"s"`
}

var cannedByShortcut = keyset[cannedRow, cannedCursor]{
	key:   func(r cannedRow) cannedCursor { return cannedCursor{Shortcut: r.Shortcut} },
	valid: func(c cannedCursor) bool { return c.Shortcut != "" },
}

// likePrefix is q as a LIKE pattern that matches what starts with it, lower-cased.
func likePrefix(q string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q)) + "%"
}

// CannedResponses lists the workspace's canned responses by shortcut without regard to case,
// walking canned_responses_shortcut_key; q keeps those whose shortcut or title starts with it
// (a range of that index, or of canned_responses_title, in the "C" collation).
func (s *Store) CannedResponses(ctx context.Context, ws uuid.UUID, q string, p page.Request) ([]canned.Response, string, error) {
	return list(cannedByShortcut, p, func(after *cannedCursor, limit int) ([]cannedRow, error) {
		args := params{ws}
		cond := ""
		if q != "" {
			like := args.add(likePrefix(q))
			cond += ` AND (lower(shortcut) COLLATE "C" LIKE ` + like + ` OR lower(title) COLLATE "C" LIKE ` + like + `)`
		}
		if after != nil {
			cond += ` AND lower(shortcut) COLLATE "C" > lower(` + args.add(after.Shortcut) + `) COLLATE "C"`
		}
		sql := `SELECT ` + cannedColumns + ` FROM canned_responses WHERE workspace_id = $1` + cond + `
ORDER BY lower(shortcut) COLLATE "C"
LIMIT ` + args.add(limit)
		rows, err := queryRows[cannedRow](ctx, s.Pool, sql, args...)
		if err != nil {
			return nil, fmt.Errorf("list canned responses: %w", err)
		}
		return rows, nil
	}, cannedRow.domain)
}

// UpdateCannedResponse locks a canned response, applies the change and saves it. A shortcut
// another has is canned.ErrTaken.
func (s *Store) UpdateCannedResponse(ctx context.Context, ws, id uuid.UUID, apply func(*canned.Response) error) (canned.Response, error) {
	return cannedChange.run(ctx, s, apply, ws, id)
}

var cannedChange = change[cannedRow, canned.Response]{
	lock:    `SELECT ` + cannedColumns + ` FROM canned_responses WHERE workspace_id = $1 AND id = $2 FOR UPDATE`,
	missing: canned.ErrNotFound,
	domain:  cannedRow.domain,
	save: func(r canned.Response) (string, []any) {
		const q = `UPDATE canned_responses SET shortcut = $3, title = $4, text = $5, updated_at = $6 WHERE workspace_id = $1 AND id = $2`
		return q, []any{r.WorkspaceID, r.ID, r.Shortcut, r.Title, r.Text, r.UpdatedAt}
	},
	what: "canned response",
	explain: func(ctx context.Context, s *Store, err error, r canned.Response) error {
		return s.cannedTaken(ctx, err, r)
	},
}

// DeleteCannedResponse deletes a canned response.
func (s *Store) DeleteCannedResponse(ctx context.Context, ws, id uuid.UUID) error {
	return remove[cannedRow](s.conn(ctx), canned.ErrNotFound, "canned response", ws, id)
}
