package ratelimit

import (
	"context"
	"net/netip"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/switchboard/switchboard/pkg/auth"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/outage"
)

// Config holds the budgets and where they live.
type Config struct {
	// PerMinute is a credential's budget a minute (RATE_LIMIT_PER_MINUTE): each API key's
	// unless the key has a lower one of its own, and each user's, shared by their sessions.
	PerMinute int
	// PerAddressPerMinute is a client address's budget a minute on the routes that carry no
	// credential, or a credential that does not check out (RATE_LIMIT_PER_ADDRESS).
	PerAddressPerMinute int
	// SendsPerSecond is a workspace's budget of sends a second (SEND_RATE_PER_SECOND), over all
	// its credentials and, through WaitSend, its broadcasts.
	SendsPerSecond int
}

// Service applies the budgets of Config on a Limiter.
type Service struct {
	lim Limiter
	cfg Config
}

// Open builds the budgets of cfg: in Redis when rdb (NewClient of REDIS_URL) is not nil,
// with guard deciding around its outages; otherwise in this process.
func Open(cfg Config, rdb *redis.Client, guard *outage.Guard, now func() time.Time) *Service {
	if rdb == nil {
		return New(NewMemory(now), cfg)
	}
	return New(NewRedis(rdb, guard, now), cfg)
}

// New applies cfg's budgets on lim.
func New(lim Limiter, cfg Config) *Service {
	return &Service{lim: lim, cfg: cfg}
}

// PerMinute is the server's budget of a credential a minute, the most a key may be given.
func (s *Service) PerMinute() int { return s.cfg.PerMinute }

// Credential spends one request of the principal's budget: an API key's own (its
// rate_limit_per_minute, or the server's), or the user's, whose sessions share it.
func (s *Service) Credential(ctx context.Context, p auth.Principal) Result {
	n := s.cfg.PerMinute
	if p.RateLimit > 0 && p.RateLimit < n {
		n = p.RateLimit
	}
	if p.Kind == auth.KindAPIKey {
		return s.lim.Allow(ctx, "key:"+p.KeyID.String(), PerMinute(n))
	}
	return s.lim.Allow(ctx, "user:"+p.UserID.String(), PerMinute(n))
}

// Address spends one request of a client address's budget (IPv6: its /64, which one
// subscriber usually holds whole).
func (s *Service) Address(ctx context.Context, client netip.Addr) Result {
	return s.lim.Allow(ctx, "addr:"+addressKey(client), PerMinute(s.cfg.PerAddressPerMinute))
}

// Send spends one send of the workspace's send budget.
func (s *Service) Send(ctx context.Context, ws uuid.UUID) Result {
	return s.lim.Allow(ctx, "send:"+ws.String(), PerSecond(s.cfg.SendsPerSecond))
}

// WaitSend waits until the workspace's send budget has room for one send and spends it, or
// until ctx ends. A worker that sends on its own (broadcasts) calls it before each send, so
// its sends and the API's share one budget and providers see no more than
// SEND_RATE_PER_SECOND from a workspace. It waits on the wall clock. A nil Service
// (RATE_LIMITS=off, app.Services.Limits) never waits.
func (s *Service) WaitSend(ctx context.Context, ws uuid.UUID) error {
	if s == nil {
		return ctx.Err()
	}
	for {
		r := s.Send(ctx, ws)
		if r.Allowed {
			return nil
		}
		t := time.NewTimer(max(r.RetryAfter, time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// addressKey is an IPv4 address, or an IPv6 address's /64.
func addressKey(a netip.Addr) string {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// Errors of this package: each answers 429 rate_limited, with Retry-After from the Result.
var (
	ErrCredential = errkind.New(errkind.KindRateLimited, "rate_limited",
		"This credential's budget of requests a minute is spent; retry after the time in Retry-After.")
	ErrAddress = errkind.New(errkind.KindRateLimited, "rate_limited",
		"This client address's budget of requests a minute without a valid credential is spent; retry after the time in Retry-After.")
	ErrSend = errkind.New(errkind.KindRateLimited, "rate_limited",
		"The workspace's budget of sends a second (SEND_RATE_PER_SECOND) is spent; retry after the time in Retry-After.")
)

// Refusal is err for a refused r: it carries r's Retry-After (at least a second, as the
// header is whole seconds).
func Refusal(err *errkind.Error, r Result) error {
	return err.WithRetryAfter(max(r.RetryAfter, time.Second))
}
