package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/switchboard/switchboard/pkg/audit"
	"github.com/switchboard/switchboard/pkg/page"
)

// The plain reads, lists and deletes of the admin tables (gorm, through their row models),
// and their locked read-modify-write (pgx).

// take reads the row of a workspace's table with the id, through gorm; none is missing.
func take[R, D any](db *gorm.DB, domain func(R) D, missing error, what string, ws, id uuid.UUID) (D, error) {
	var r R
	if err := db.Where(map[string]any{"workspace_id": ws, "id": id}).Take(&r).Error; err != nil {
		var zero D
		if isNotFound(err) {
			return zero, missing
		}
		return zero, fmt.Errorf("get %s: %w", what, err)
	}
	return domain(r), nil
}

// remove deletes the row of a workspace's table with the id, through gorm; none is missing.
func remove[R any](db *gorm.DB, missing error, what string, ws, id uuid.UUID) error {
	res := db.Where(map[string]any{"workspace_id": ws, "id": id}).Delete(new(R))
	if res.Error != nil {
		return fmt.Errorf("delete %s: %w", what, res.Error)
	}
	if res.RowsAffected == 0 {
		return missing
	}
	return nil
}

// idCursor is the position in a list ordered by id alone.
type idCursor struct {
	ID uuid.UUID `json:"id"`
}

// byID is the keyset of a list ordered by id; refuseNil refuses a cursor without one.
func byID[R any](id func(R) uuid.UUID, refuseNil bool) keyset[R, idCursor] {
	k := keyset[R, idCursor]{key: func(r R) idCursor { return idCursor{id(r)} }}
	if refuseNil {
		k.valid = func(c idCursor) bool { return c.ID != uuid.Nil }
	}
	return k
}

// listByID lists the rows q selects one page at a time, by id: ascending, or descending when
// desc.
func listByID[R, D any](q *gorm.DB, k keyset[R, idCursor], desc bool, p page.Request, domain func(R) D, what string) ([]D, string, error) {
	return list(k, p, func(c *idCursor, limit int) ([]R, error) {
		if c != nil {
			var after clause.Expression = clause.Gt{Column: "id", Value: c.ID}
			if desc {
				after = clause.Lt{Column: "id", Value: c.ID}
			}
			q = q.Where(after)
		}
		var rows []R
		if err := q.Order(clause.OrderByColumn{Column: clause.Column{Name: "id"}, Desc: desc}).Limit(limit).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("list %s: %w", what, err)
		}
		return rows, nil
	}, domain)
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
	explain func(ctx context.Context, s *Store, err error, v D) error
	// also, when set, runs on the transaction after apply, with the value as locked and as
	// changed: the jobs a change starts go in with it.
	also func(ctx context.Context, tx pgx.Tx, before, after D) error
}

// run applies apply to the row the key arguments of lock select, in two round trips: BEGIN
// with the lock; the UPDATE with COMMIT.
func (c change[R, D]) run(ctx context.Context, s *Store, apply func(*D) error, key ...any) (D, error) {
	return c.runAudited(ctx, s, uuid.Nil, func(d *D) ([]audit.Record, error) { return nil, apply(d) }, key...)
}

// runAudited is run whose apply also returns the change's audit records, written to
// workspace ws's log in the UPDATE's batch.
func (c change[R, D]) runAudited(ctx context.Context, s *Store, ws uuid.UUID, apply func(*D) ([]audit.Record, error), key ...any) (D, error) {
	var out D
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		var r R
		var found bool
		b := &batch{}
		queueRow(b, "lock "+c.what, &r, &found, statement{c.lock, key})
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		if !found {
			return nil, c.missing
		}
		v := c.domain(r)
		before := c.domain(r)
		recs, err := apply(&v)
		if err != nil {
			return nil, err
		}
		if c.also != nil {
			if err := c.also(ctx, tx, before, v); err != nil {
				return nil, err
			}
		}
		out = v
		q, args := c.save(v)
		b = &batch{}
		b.exec("update "+c.what, statement{q, args})
		return b, s.queueAudit(ctx, b, ws, recs...)
	})
	if err != nil {
		if c.explain != nil {
			err = c.explain(ctx, s, err, out)
		}
		var zero D
		return zero, err
	}
	return out, nil
}
