package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// DeliveryQueue puts the delivery job of an outgoing message in the caller's transaction, so a
// committed message always has its job and a rolled-back one never does.
type DeliveryQueue interface {
	InsertTx(ctx context.Context, tx pgx.Tx, ws, messageID uuid.UUID) error
}

// SetDeliveryQueue makes every stored outgoing message enqueue its delivery. Without a queue
// (tests of the API alone) messages stay queued.
func (s *Store) SetDeliveryQueue(q DeliveryQueue) { s.queue = q }

// enqueueDelivery inserts the delivery job of message id inside tx.
func (s *Store) enqueueDelivery(ctx context.Context, tx pgx.Tx, ws, id uuid.UUID) error {
	if s.queue == nil {
		return nil
	}
	if err := s.queue.InsertTx(ctx, tx, ws, id); err != nil {
		return fmt.Errorf("enqueue delivery: %w", err)
	}
	return nil
}
