package event

import (
	"context"

	"github.com/google/uuid"
)

// Store is what the event service needs from persistence.
type Store interface {
	EventsAfter(ctx context.Context, ws uuid.UUID, after int64, f Filter, limit int) ([]Event, error)
	LastEventID(ctx context.Context, ws uuid.UUID) (int64, error)
}

// Service reads the outbox for polling clients and streams.
type Service struct {
	store Store
	Hub   *Hub
}

// NewService builds a Service.
func NewService(st Store, hub *Hub) *Service { return &Service{store: st, Hub: hub} }

// After lists the workspace's events after the id, oldest first.
func (s *Service) After(ctx context.Context, ws uuid.UUID, after int64, f Filter, limit int) ([]Event, error) {
	return s.store.EventsAfter(ctx, ws, after, f, limit)
}

// Last is the workspace's newest event id, 0 when there is none.
func (s *Service) Last(ctx context.Context, ws uuid.UUID) (int64, error) {
	return s.store.LastEventID(ctx, ws)
}
