package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// querier runs a query: the pool, or a pgx transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// queryRows runs q and reads every row into an R by column name: each column needs a field of
// that name and each field a column (pgx.RowToStructByName), so a statement's column list and
// the row struct cannot drift apart unnoticed.
func queryRows[R any](ctx context.Context, db querier, q string, args ...any) ([]R, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[R])
}

// queryRow is queryRows for the first row; no row is pgx.ErrNoRows (isNotFound).
func queryRow[R any](ctx context.Context, db querier, q string, args ...any) (R, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		var zero R
		return zero, err
	}
	return pgx.CollectOneRow(rows, pgx.RowToStructByName[R])
}

// exists runs q, a SELECT EXISTS (...).
func exists(ctx context.Context, db querier, q string, args ...any) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, q, args...).Scan(&ok)
	return ok, err
}

// textArray is also a pgtype.ArraySetter, so that pgx scans a text[] column into it by name
// in the binary format (its sql.Scanner reads only the text form gorm's driver passes). NULL
// reads as empty, as through the scanner.
func (a *textArray) SetDimensions(dims []pgtype.ArrayDimension) error {
	if dims == nil {
		*a = textArray{}
		return nil
	}
	return (*pgtype.FlatArray[string])(a).SetDimensions(dims)
}

// ScanIndex is the destination of the i-th element.
func (a textArray) ScanIndex(i int) any { return &a[i] }

// ScanIndexType is the type of an element's destination.
func (textArray) ScanIndexType() any { return new(string) }
