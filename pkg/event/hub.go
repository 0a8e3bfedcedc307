package event

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Hub holds the process's one LISTEN connection and wakes the subscribers of the workspace a
// notification names. Subscribers then read the outbox themselves from their own position, so
// a wake-up carries no data and a missed or coalesced one loses nothing: the table is the
// source of truth, the notification only says "look now".
type Hub struct {
	connect func(ctx context.Context) (*pgx.Conn, error)

	mu    sync.Mutex
	subs  map[uuid.UUID]map[*Sub]struct{}
	all   map[*Sub]struct{}
	ready chan struct{}
	once  sync.Once
}

// NewHub builds a hub; connect opens the dedicated connection it listens on (the hub closes it).
func NewHub(connect func(ctx context.Context) (*pgx.Conn, error)) *Hub {
	return &Hub{connect: connect, subs: map[uuid.UUID]map[*Sub]struct{}{}, all: map[*Sub]struct{}{},
		ready: make(chan struct{})}
}

// Sub is one subscriber. C receives a value when there may be new events; it holds at most one,
// so bursts coalesce.
type Sub struct {
	C   chan struct{}
	ws  uuid.UUID
	any bool
	hub *Hub
}

// Subscribe wakes the subscriber on the workspace's events.
func (h *Hub) Subscribe(ws uuid.UUID) *Sub {
	s := &Sub{C: make(chan struct{}, 1), ws: ws, hub: h}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[ws] == nil {
		h.subs[ws] = map[*Sub]struct{}{}
	}
	h.subs[ws][s] = struct{}{}
	return s
}

// SubscribeAll wakes the subscriber on every workspace's events (workers).
func (h *Hub) SubscribeAll() *Sub {
	s := &Sub{C: make(chan struct{}, 1), any: true, hub: h}
	h.mu.Lock()
	h.all[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close stops the subscription.
func (s *Sub) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.any {
		delete(h.all, s)
		return
	}
	delete(h.subs[s.ws], s)
	if len(h.subs[s.ws]) == 0 {
		delete(h.subs, s.ws)
	}
}

func wake(s *Sub) {
	select {
	case s.C <- struct{}{}:
	default:
	}
}

// Notify wakes the subscribers of ws (and every SubscribeAll subscriber); uuid.Nil wakes all.
func (h *Hub) Notify(ws uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.all {
		wake(s)
	}
	if ws == uuid.Nil {
		for _, m := range h.subs {
			for s := range m {
				wake(s)
			}
		}
		return
	}
	for s := range h.subs[ws] {
		wake(s)
	}
}

// Ready is closed once the hub first listens.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Run listens until ctx ends, reconnecting after failures. After each (re)connect every
// subscriber is woken, since notifications sent while not listening are lost.
func (h *Hub) Run(ctx context.Context, log *slog.Logger) {
	for ctx.Err() == nil {
		err := h.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		log.Warn("event listener lost its connection; reconnecting", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (h *Hub) listen(ctx context.Context) error {
	conn, err := h.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	h.once.Do(func() { close(h.ready) })
	h.Notify(uuid.Nil)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		wsText, _, _ := strings.Cut(n.Payload, ":")
		ws, err := uuid.Parse(wsText)
		if err != nil {
			continue
		}
		h.Notify(ws)
	}
}
