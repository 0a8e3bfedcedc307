package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestLazyTxFailedBegin: a statement whose BEGIN fails answers the error through its rows as
// well as its error, as pgx's own Query does, and the transaction stays unbegun.
func TestLazyTxFailedBegin(t *testing.T) {
	conn := testConn(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // BEGIN fails before it is sent
	tx := &lazyTx{conn: conn}

	rows, err := tx.Query(ctx, `SELECT 1`)
	if err == nil || rows == nil {
		t.Fatalf("Query = %v, %v; want rows carrying an error", rows, err)
	}
	if _, cerr := pgx.CollectRows(rows, pgx.RowTo[int]); !errors.Is(cerr, context.Canceled) {
		t.Errorf("the rows' error = %v, want the failed BEGIN's", cerr)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT 1`).Scan(&n); !errors.Is(err, context.Canceled) {
		t.Errorf("QueryRow's error = %v, want the failed BEGIN's", err)
	}
	if tx.begun {
		t.Error("the transaction counts as begun")
	}
	if err := conn.Ping(context.Background()); err != nil {
		t.Errorf("the connection is unusable after: %v", err)
	}
}

// TestBatchStatementSnapshot: a statement queued after a lock in one batch reads what
// committed while it waited for the lock, as ClaimDeliveries and CreateWorkspace need (under
// READ COMMITTED a statement takes its snapshot when it starts, and PostgreSQL starts a
// batch's statements one after another). The lock inside the reading statement would not do.
func TestBatchStatementSnapshot(t *testing.T) {
	const lock = `SELECT pg_advisory_xact_lock(hashtextextended('switchboard/test/batch-snapshot', 0))`
	tests := []struct {
		name string
		read func(table string) []statement
		want int
	}{
		{"the lock, then the read", func(table string) []statement {
			return []statement{{sql: lock}, {`SELECT count(*) FROM pg_class WHERE relname = $1`, []any{table}}}
		}, 1},
		{"the lock within the read", func(table string) []statement {
			return []statement{{`SELECT (SELECT count(*) FROM pg_class WHERE relname = $1) FROM (` + lock + `) l`, []any{table}}}
		}, 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			holder, reader := testConn(t), testConn(t)
			table := fmt.Sprintf("batch_snapshot_probe_%d_%d", os.Getpid(), i)
			// The holder takes the lock and, in the same transaction, makes a table the
			// reader counts in the catalog.
			if _, err := holder.Exec(ctx, `BEGIN`); err != nil {
				t.Fatal(err)
			}
			if _, err := holder.Exec(ctx, lock); err != nil {
				t.Fatal(err)
			}
			if _, err := holder.Exec(ctx, `CREATE TEMP TABLE `+table+` ()`); err != nil {
				t.Fatal(err)
			}
			got := make(chan error, 1)
			var n int
			pid := reader.PgConn().PID()
			go func() {
				tx := &lazyTx{conn: reader}
				b := &batch{}
				sts := tc.read(table)
				for _, st := range sts[:len(sts)-1] {
					b.exec("lock", st)
				}
				queueValue(b, "count", &n, sts[len(sts)-1])
				err := b.send(ctx, tx)
				if rerr := tx.Rollback(ctx); err == nil {
					err = rerr
				}
				got <- err
			}()
			// Commit once the reader waits for the lock.
			for waiting := false; !waiting; {
				select {
				case err := <-got:
					t.Fatalf("the read did not wait for the lock (error %v)", err)
				case <-time.After(5 * time.Millisecond):
				}
				if err := holder.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND locktype = 'advisory' AND NOT granted)`,
					pid).Scan(&waiting); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := holder.Exec(ctx, `COMMIT`); err != nil {
				t.Fatal(err)
			}
			if err := <-got; err != nil {
				t.Fatal(err)
			}
			if n != tc.want {
				t.Errorf("the read counted %d tables, want %d", n, tc.want)
			}
		})
	}
}

// testConn is a connection to the test server, for the tests of the store's own machinery
// (storetest cannot serve them: it imports the store).
func testConn(t *testing.T) *pgx.Conn {
	t.Helper()
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		t.Fatal("TEST_DATABASE_URL is unset: start PostgreSQL with `.ci/postgres start` and export TEST_DATABASE_URL=$(.ci/postgres url postgres)")
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestBackgroundShare: background work's transactions hold at most half the pool at once, and
// a request's transaction still gets a connection while they hold theirs: two background
// transactions wait inside for a lock, a third waits for its turn before it begins, and a
// foreground one runs meanwhile.
func TestBackgroundShare(t *testing.T) {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(os.Getenv("TEST_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := &Store{Pool: pool, background: make(chan struct{}, backgroundShare(cfg.MaxConns))}
	if got := cap(s.background); got != 2 {
		t.Fatalf("a pool of 4 gives background work %d connections, want 2", got)
	}

	const lock = `SELECT pg_advisory_xact_lock(hashtextextended('switchboard/test/background-share', 0))`
	holder := testConn(t)
	if _, err := holder.Exec(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, lock); err != nil {
		t.Fatal(err)
	}
	bg := Background(ctx)
	inside := make(chan int, 3)
	done := make(chan error, 3)
	for i := range 3 {
		go func() {
			done <- s.pgxTx(bg, func(tx pgx.Tx) (*batch, error) {
				inside <- i
				_, err := tx.Exec(bg, lock)
				return nil, err
			})
		}()
	}
	// Two begin (and wait for the lock inside, holding their slots); the third waits for a
	// slot, which neither gives up before the lock is released.
	<-inside
	<-inside
	if err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		_, err := tx.Exec(ctx, `SELECT 1`)
		return nil, err
	}); err != nil {
		t.Fatalf("a foreground transaction beside two background ones: %v", err)
	}
	select {
	case i := <-inside:
		t.Fatalf("background transaction %d began while two others held the background share", i)
	default:
	}
	if _, err := holder.Exec(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(inside); n != 1 {
		t.Fatalf("%d background transactions began after the lock was released, want the third", n)
	}
}
