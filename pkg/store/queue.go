package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/dispatch"
)

// Queue inserts background jobs in the caller's transaction (job.Queue), so that a committed
// write always has its job and a rolled-back one never does. River runs its statements on the
// transaction the store passes, the send path's lazyTx included.
type Queue interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) error
	InsertManyTx(ctx context.Context, tx pgx.Tx, args ...river.JobArgs) error
}

// enqueueDelivery inserts the delivery job of message id inside tx.
func (s *Store) enqueueDelivery(ctx context.Context, tx pgx.Tx, ws, id uuid.UUID) error {
	if err := s.queue.InsertTx(ctx, tx, dispatch.Args{WorkspaceID: ws, MessageID: id}, nil); err != nil {
		return fmt.Errorf("enqueue delivery: %w", err)
	}
	return nil
}

// enqueueFetches inserts, inside tx, the fetch job of each pending attachment of an ingested
// message (dispatch.Fetcher brings the files into the media store).
func (s *Store) enqueueFetches(ctx context.Context, tx pgx.Tx, m conversation.Message) error {
	fetches := dispatch.Fetches(m)
	args := make([]river.JobArgs, len(fetches))
	for i, f := range fetches {
		args[i] = f
	}
	if err := s.queue.InsertManyTx(ctx, tx, args...); err != nil {
		return fmt.Errorf("enqueue media fetches: %w", err)
	}
	return nil
}
