package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// statement is one SQL statement with its arguments.
type statement struct {
	sql  string
	args []any
}

// batch is a pgx.Batch whose statements each carry how their result is read, so that the
// order a transaction's statements are read in is the order they were queued in, written
// once. A statement that fails makes PostgreSQL skip the rest of the batch; its error, with
// the statement's name, is the batch's.
type batch struct {
	b     pgx.Batch
	reads []func(pgx.BatchResults) error
}

// exec queues a statement whose answer is only an error; what names it in that error.
func (b *batch) exec(what string, st statement) {
	b.execWrap(st, func(err error) error { return fmt.Errorf("%s: %w", what, err) })
}

// execWrap is exec with the error turned into the caller's by wrap.
func (b *batch) execWrap(st statement, wrap func(error) error) {
	b.read(st, func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return wrap(err)
		}
		return nil
	})
}

// read queues a statement whose result read reads.
func (b *batch) read(st statement, read func(pgx.BatchResults) error) {
	b.b.Queue(st.sql, st.args...)
	b.reads = append(b.reads, read)
}

// append queues o's statements after b's, each read as o would have read it: the writes of
// several sends, made under their own locks, go out together in one round trip.
func (b *batch) append(o *batch) {
	b.b.QueuedQueries = append(b.b.QueuedQueries, o.b.QueuedQueries...)
	b.reads = append(b.reads, o.reads...)
}

// queueRow queues a statement whose row, if it returns one, is read into dst by column name
// (see collect); found reports whether it did. what names the statement in its error.
func queueRow[T any](b *batch, what string, dst *T, found *bool, st statement) {
	b.read(st, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err == nil {
			*dst, err = collectOne[T](rows)
		}
		*found = err == nil
		if err != nil && !isNotFound(err) {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

// queueRows queues a statement whose rows are read into dst by column name (see collect).
func queueRows[T any](b *batch, what string, dst *[]T, st statement) {
	b.read(st, func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err == nil {
			*dst, err = collect[T](rows, 1)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

// queueValue queues a statement that returns one row of one column, read into dst (a SELECT
// EXISTS, a count). what names the statement in its error.
func queueValue[T any](b *batch, what string, dst *T, st statement) {
	b.read(st, func(br pgx.BatchResults) error {
		if err := br.QueryRow().Scan(dst); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}

// batchSender is a transaction, or the pool for a batch of reads.
type batchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// send sends the batch and reads its results in order; the first error wins.
func (b *batch) send(ctx context.Context, to batchSender) error {
	br := to.SendBatch(ctx, &b.b)
	var err error
	for _, read := range b.reads {
		if err = read(br); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// pgxTx runs fn in a transaction on one pooled connection, on pgx. fn returns the
// transaction's last batch, or nil when it has nothing more to write. COMMIT goes out in that
// batch: a lock the batch takes (publish's) is held while PostgreSQL runs the batch and
// commits, not also for a round trip to the server and back. A statement that fails makes
// PostgreSQL skip the rest of the batch, COMMIT included, and the transaction is rolled
// back. BEGIN goes out with fn's first batch (see lazyTx), so a transaction whose statements
// all go in batches costs one round trip per batch.
//
// What cannot stop the COMMIT is a read that fails in Go (a scan into the wrong type): by
// then PostgreSQL has run the whole batch, so the caller gets that error for a transaction
// that committed. A read whose Go-side check must decide the commit goes in an earlier batch.
func (s *Store) pgxTx(ctx context.Context, fn func(tx pgx.Tx) (*batch, error)) error {
	if ctx.Value(backgroundKey{}) != nil {
		select {
		case s.background <- struct{}{}:
			defer func() { <-s.background }()
		case <-ctx.Done():
			return fmt.Errorf("wait for a background connection: %w", ctx.Err())
		}
	}
	c, err := s.Pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire connection: %w", err)
	}
	defer c.Release() // a connection left inside a transaction is closed, not reused
	tx := &lazyTx{conn: c.Conn()}
	last, err := fn(tx)
	if err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	if last == nil {
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	}
	last.read(statement{sql: "COMMIT"}, func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		switch {
		case err != nil:
			return fmt.Errorf("commit: %w", err)
		case tag.String() != "COMMIT":
			return pgx.ErrTxCommitRollback
		}
		return nil
	})
	if err := last.send(ctx, tx); err != nil {
		_ = tx.Rollback(ctx)
		return err
	}
	return nil
}

// lazyTx is a transaction whose BEGIN is sent with its first batch, in the same round trip;
// any other first statement sends BEGIN on its own first. It serves the store's pgx paths and
// River's inserts (which run Exec and Query on it); it has no nested transactions or large
// objects. pgxTx commits or rolls it back.
type lazyTx struct {
	conn  *pgx.Conn
	begun bool
}

var _ pgx.Tx = (*lazyTx)(nil)

func (t *lazyTx) begin(ctx context.Context) error {
	if t.begun {
		return nil
	}
	if _, err := t.conn.Exec(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	t.begun = true
	return nil
}

// Begin refuses: nothing on these paths nests a transaction.
func (t *lazyTx) Begin(context.Context) (pgx.Tx, error) {
	return nil, errors.New("nested transactions are not supported")
}

func (t *lazyTx) Commit(ctx context.Context) error {
	if !t.begun {
		return nil
	}
	t.begun = false
	tag, err := t.conn.Exec(ctx, "COMMIT")
	if err == nil && tag.String() != "COMMIT" {
		err = pgx.ErrTxCommitRollback
	}
	return err
}

func (t *lazyTx) Rollback(ctx context.Context) error {
	if !t.begun {
		return nil
	}
	t.begun = false
	_, err := t.conn.Exec(ctx, "ROLLBACK")
	return err
}

func (t *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if t.begun {
		return t.conn.SendBatch(ctx, b)
	}
	t.begun = true
	withBegin := &pgx.Batch{}
	withBegin.Queue("BEGIN")
	withBegin.QueuedQueries = append(withBegin.QueuedQueries, b.QueuedQueries...)
	br := t.conn.SendBatch(ctx, withBegin)
	if _, err := br.Exec(); err != nil {
		_ = br.Close()
		return pgx.FailedBatchResults(b, fmt.Errorf("begin: %w", err))
	}
	return br
}

func (t *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	if err := t.begin(ctx); err != nil {
		return 0, err
	}
	return t.conn.CopyFrom(ctx, table, columns, src)
}

func (t *lazyTx) LargeObjects() pgx.LargeObjects { return pgx.LargeObjects{} }

func (t *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	return t.conn.Prepare(ctx, name, sql)
}

func (t *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if err := t.begin(ctx); err != nil {
		return pgconn.CommandTag{}, err
	}
	return t.conn.Exec(ctx, sql, args...)
}

// Query on a failed BEGIN returns rows that carry the error, as pgx's own Query does, so
// a caller that reads the rows before checking the error (pgx.CollectRows(tx.Query(...)))
// gets the error, not a nil dereference.
func (t *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := t.begin(ctx); err != nil {
		return failedRows{err}, err
	}
	return t.conn.Query(ctx, sql, args...)
}

func (t *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	if err := t.begin(ctx); err != nil {
		return failedRows{err}
	}
	return t.conn.QueryRow(ctx, sql, args...)
}

func (t *lazyTx) Conn() *pgx.Conn { return t.conn }

// failedRows are the rows, and the row, of a statement that was never sent: no rows, and err.
type failedRows struct{ err error }

var _ pgx.Rows = failedRows{}

func (failedRows) Close()                                       {}
func (f failedRows) Err() error                                 { return f.err }
func (failedRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (failedRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (failedRows) Next() bool                                   { return false }
func (f failedRows) Scan(...any) error                          { return f.err }
func (f failedRows) Values() ([]any, error)                     { return nil, f.err }
func (failedRows) RawValues() [][]byte                          { return nil }
func (failedRows) Conn() *pgx.Conn                              { return nil }
func (failedRows) TypeMap() *pgtype.Map                         { return nil }
