package store

import (
	"context"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Trace is what the store sent to PostgreSQL under one context (see Traced), one entry per
// round trip: a statement, or the statements of one batch. Tests hold the send and ingest
// paths to their round trips with it, and bench replays the statements a request runs, so
// bench runs the store's SQL rather than a copy of it.
type Trace struct {
	mu   sync.Mutex
	trip [][]Statement
}

// Statement is one SQL statement as the store sent it.
type Statement struct {
	SQL  string // with $1, $2, ... placeholders
	Args []any  // as given to pgx, without planEach's mode
	// PlanEach is set when PostgreSQL plans it for its arguments on every execution (see
	// planEach); otherwise it is prepared once per connection.
	PlanEach bool
}

type traceKey struct{}

// Traced returns a context under which the store records its statements into the returned
// Trace. A statement's first execution on a connection may cost one more round trip, to
// prepare it; those are not recorded.
func Traced(ctx context.Context) (context.Context, *Trace) {
	t := &Trace{}
	return context.WithValue(ctx, traceKey{}, t), t
}

// RoundTrips returns the statements of each round trip, in order.
func (t *Trace) RoundTrips() [][]Statement {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.trip)
}

// Statements returns every statement, in order.
func (t *Trace) Statements() []Statement {
	return slices.Concat(t.RoundTrips()...)
}

func (t *Trace) add(sts ...Statement) {
	t.mu.Lock()
	t.trip = append(t.trip, sts)
	t.mu.Unlock()
}

func statementOf(sql string, args []any) Statement {
	if len(args) > 0 && args[0] == pgx.QueryExecModeCacheDescribe {
		return Statement{SQL: sql, Args: args[1:], PlanEach: true}
	}
	return Statement{SQL: sql, Args: args}
}

// tracer records into the Trace of a statement's context, if it has one. OpenPool installs
// it on every connection; without a Trace it costs a context lookup per round trip.
type tracer struct{}

func (tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if t, ok := ctx.Value(traceKey{}).(*Trace); ok {
		t.add(statementOf(d.SQL, d.Args))
	}
	return ctx
}

func (tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (tracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	if t, ok := ctx.Value(traceKey{}).(*Trace); ok {
		sts := make([]Statement, len(d.Batch.QueuedQueries))
		for i, q := range d.Batch.QueuedQueries {
			sts[i] = statementOf(q.SQL, q.Arguments)
		}
		t.add(sts...)
	}
	return ctx
}

func (tracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (tracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
