package store

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
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
