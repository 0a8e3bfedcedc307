package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// DeliveryQueue puts the delivery job of an outgoing message in the caller's transaction, so a
// committed message always has its job and a rolled-back one never does.
type DeliveryQueue interface {
	InsertTx(ctx context.Context, tx *sql.Tx, ws, messageID uuid.UUID) error
}

// SetDeliveryQueue makes every stored outgoing message enqueue its delivery. Without a queue
// (tests of the API alone) messages stay queued.
func (s *Store) SetDeliveryQueue(q DeliveryQueue) { s.queue = q }

// enqueueDelivery inserts the delivery job of message id inside tx.
func (s *Store) enqueueDelivery(ctx context.Context, tx *gorm.DB, ws, id uuid.UUID) error {
	if s.queue == nil {
		return nil
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return errors.New("enqueue delivery: not inside a transaction")
	}
	if err := s.queue.InsertTx(ctx, sqlTx, ws, id); err != nil {
		return fmt.Errorf("enqueue delivery: %w", err)
	}
	return nil
}
