package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// querier runs a query: the pool, or a pgx transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queryRows runs q and reads every row into an R by column name (collect): each column needs a
// field of that name and each field a column, so a statement's column list and the row struct
// cannot drift apart unnoticed.
func queryRows[R any](ctx context.Context, db querier, q string, args ...any) ([]R, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return collect[R](rows, 0)
}

// queryRow is queryRows for the first row; no row is pgx.ErrNoRows (isNotFound).
func queryRow[R any](ctx context.Context, db querier, q string, args ...any) (R, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		var zero R
		return zero, err
	}
	return collectOne[R](rows)
}

// exists runs q, a SELECT EXISTS (...).
func exists(ctx context.Context, db querier, q string, args ...any) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, q, args...).Scan(&ok)
	return ok, err
}
