package store

import (
	"context"
	"fmt"

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

// change locks one row, hands its domain value to apply and writes the result back, in one
// pgx transaction: the read-modify-write of an admin row that the service decides on.
type change[R, D any] struct {
	// lock selects the row's columns FOR UPDATE.
	lock string
	// missing is the error when lock finds no row.
	missing error
	domain  func(R) D
	// save is the UPDATE that writes the changed value back, with its arguments.
	save func(D) (string, []any)
	// what names the row in errors.
	what string
	// explain, when set, rewrites the transaction's error after it has ended; it gets the
	// changed value when apply ran (to name what a unique violation collided with).
	explain func(s *Store, ctx context.Context, err error, v D) error
}

// run applies apply to the row the key arguments of lock select.
func (c change[R, D]) run(ctx context.Context, s *Store, apply func(*D) error, key ...any) (D, error) {
	var out D
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		r, err := queryRow[R](ctx, tx, c.lock, key...)
		if isNotFound(err) {
			return c.missing
		}
		if err != nil {
			return fmt.Errorf("lock %s: %w", c.what, err)
		}
		v := c.domain(r)
		if err := apply(&v); err != nil {
			return err
		}
		out = v
		q, args := c.save(v)
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("update %s: %w", c.what, err)
		}
		return nil
	})
	if err != nil {
		if c.explain != nil {
			err = c.explain(s, ctx, err, out)
		}
		var zero D
		return zero, err
	}
	return out, nil
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
