// Package store is Switchboard's persistence: every table is read and written here and nowhere
// else. It keeps one set of rules, so that any method reads like every other:
//
//   - Hand-written SQL runs on pgx (s.Pool, or the pgx.Tx of s.pgxTx) with $n placeholders.
//     A statement of more than one line is a named constant next to its method, unless its
//     conditions vary (a list, a search): then the method builds it with params.
//   - A row of more than one column is read by column name into a row struct by collect or
//     collectOne (collect.go; queryRow, queryRows, queueRow, queueRows and listRows wrap
//     them). They match columns to fields as pgx.RowToStructByName would (nothing calls it),
//     once per query rather than per row, and every column needs a field and every field a
//     column, so a column list and its row struct cannot drift apart. A single value is read
//     with Scan, a single column with pgx.CollectRows and pgx.RowTo.
//   - Every transaction the store runs is on pgx, in pgxTx (tx.go). Its statements go in
//     batches, each with how its result is read: BEGIN goes out with the first batch and
//     COMMIT with the last, so a batch costs one round trip. A statement run on the
//     transaction directly (a COPY, River's job insert, a read only some paths need) costs
//     one of its own. TestRoundTrips and TestAdminRoundTrips hold them to their counts.
//   - gorm (gorm.io/gorm, a fixed choice of the project) does single-statement CRUD of the
//     admin tables through their row models: inserts (users, API keys, channels, identities,
//     webhooks), reads by id (users, templates, webhooks), lists (users, API keys, channels,
//     webhooks), a login's users by email, deletes (templates, webhooks, labels) and an API key's
//     revocation. It is given row models, column names and values, never SQL text, and runs
//     no transaction: a read-modify-write of those rows locks and writes on pgx (change,
//     crud.go).
//   - One method uses one of the two, never both.
//   - Every list the API pages (a page.Request) goes through list (keyset.go): one cursor
//     codec, one LIMIT n+1.
//   - The store stores what it is given and calls nothing above pkg/: event payloads,
//     webhook bodies and idempotent answers are rendered by pkg/resource, deliveries are
//     enqueued through the job queue passed to Open.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Store holds the one connection pool shared by gorm, migrations and raw queries. The hot
// reads (authentication, contact search, the inbox) use Pool directly: gorm's reflection
// over database/sql cost more CPU than the queries themselves.
type Store struct {
	Pool *pgxpool.Pool
	SQL  *sql.DB
	db   *gorm.DB
	now  func() time.Time
	// SearchFirstLimit is how many contacts an inbox search may match and still be run
	// search-first (see searchContacts); tests lower it to exercise the other plan.
	SearchFirstLimit int
	// SearchWalkBound is how many index entries a search's first walk reads (see
	// searchSteps); 0 skips that walk.
	SearchWalkBound int
	queue           Queue
	// background holds a slot for each transaction background work has open (Background).
	background chan struct{}
}

// backgroundKey marks a context as background work's (Background).
type backgroundKey struct{}

// Background marks ctx as background work's: the job home's workers and loops (deliveries,
// broadcasts, scheduled sends, alerts). Their transactions (pgxTx) hold at most half the
// pool's connections at once, so the API's requests always find the rest. Without the bound a
// broadcast's groups and a burst of deliveries, each holding a connection while it waits for
// the workspace's event lock, took all eight, and an inbox page waited behind them. A
// transaction waits for its slot before it begins, holding no lock, so waiting cannot
// deadlock.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// backgroundShare is how many of a pool's connections background transactions may hold.
func backgroundShare(maxConns int32) int {
	return max(1, int(maxConns)/2)
}

// Open connects to PostgreSQL with a bounded pool. q is the queue that the store inserts jobs
// through (the delivery of every outgoing message); now is the clock every stored timestamp
// comes from, so tests can fix it.
func Open(ctx context.Context, url string, maxConns int32, q Queue, now func() time.Time) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	// Two cores serve best with a small pool: more connections only queue inside PostgreSQL.
	cfg.MaxConns = maxConns
	cfg.MaxConnIdleTime = 5 * time.Minute
	return OpenPool(ctx, cfg, q, now)
}

// OpenPool connects with a prepared pool configuration (tests use it to control the
// connections themselves). q is the queue jobs are inserted through. Unless the configuration
// has a tracer of its own, the store's records what runs under a Traced context.
func OpenPool(ctx context.Context, cfg *pgxpool.Config, q Queue, now func() time.Time) (*Store, error) {
	if q == nil {
		// A store without its queue would commit messages that are never delivered.
		return nil, errors.New("open store: no job queue")
	}
	if cfg.ConnConfig.Tracer == nil {
		cfg.ConnConfig.Tracer = tracer{}
	}
	after := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		registerTypes(c.TypeMap())
		if after != nil {
			return after(ctx, c)
		}
		return nil
	}
	for k, v := range Settings() {
		if _, set := cfg.ConnConfig.RuntimeParams[k]; !set { // DATABASE_URL may say otherwise
			cfg.ConnConfig.RuntimeParams[k] = v
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return now().UTC() },
		SkipDefaultTransaction: true,
		PrepareStmt:            false, // pgx already caches prepared statements per connection
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open gorm: %w", err)
	}
	return &Store{Pool: pool, SQL: sqlDB, db: db, now: now, queue: q, SearchFirstLimit: DefaultSearchFirstLimit,
		SearchWalkBound: DefaultSearchWalkBound, background: make(chan struct{}, backgroundShare(cfg.MaxConns))}, nil
}

// Settings are the PostgreSQL settings the store's connections run with, unless DATABASE_URL
// names them (the bench replays the store's SQL under the same).
//
// No parallel query: the API runs many small queries at once, and a parallel plan's workers
// only compete with the other requests for the same cores. Worse, a parallel walk of an index
// under a LIMIT lets every worker run ahead: an inbox search walked 23 000 closed
// conversations for 26 rows (117 049 buffers, 121 ms) where the serial plan reads 6 000
// buffers in 5 ms. At 100k contacts the closed search served 26-43 % more requests with its
// p99 halved at 1 and 16 clients.
func Settings() map[string]string {
	return map[string]string{"max_parallel_workers_per_gather": "0"}
}

// Close releases the pool.
func (s *Store) Close() {
	_ = s.SQL.Close()
	s.Pool.Close()
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.Pool.Ping(ctx)
}

// Now is the store's clock in UTC.
func (s *Store) Now() time.Time { return s.now().UTC() }

func (s *Store) conn(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// pgCode returns the SQLSTATE and constraint of a PostgreSQL error.
func pgCode(err error) (code, constraint string) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code, pe.ConstraintName
	}
	return "", ""
}

const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

// lostToConcurrent reports whether err is PostgreSQL rolling a transaction back for another
// one's sake (a deadlock, a serialization failure): nothing of it was written, and the same
// work tried again normally succeeds.
func lostToConcurrent(err error) bool {
	code, _ := pgCode(err)
	return code == deadlockDetected || code == serializationFailure
}

func isNotFound(err error) bool {
	return errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, sql.ErrNoRows)
}

// params collects a hand-written query's arguments in the order it mentions them.
type params []any

// add appends v and returns its placeholder ($1, $2, ...).
func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// addInt is add for an int (a LIMIT's placeholder, where pageLimit would write it in).
func (p *params) addInt(n int) string { return p.add(n) }

// planEach prefixes a query's arguments so that PostgreSQL plans it for these arguments on
// every execution. pgx then sends it as the unnamed statement (its description cached per
// connection, still one round trip), which PostgreSQL never switches to a generic plan. A
// search needs that: the best plan for LIKE '%...%' depends on the pattern, and the generic
// plan the plan cache adopts after five executions walks contacts_pkey with the LIKE as a
// filter, which reads the whole workspace for a rare fragment. Queries whose plan does not
// depend on their arguments keep the prepared statement and its cached plan.
func planEach(args []any) []any {
	return append([]any{pgx.QueryExecModeCacheDescribe}, args...)
}
