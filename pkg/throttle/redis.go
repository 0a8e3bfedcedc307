package throttle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchboard/switchboard/pkg/outage"
)

// Shared is the Redis that budgets share across API processes (the rate limiter's client,
// REDIS_URL), and the Guard of its outages. The zero Shared keeps budgets in this process.
type Shared struct {
	Redis *redis.Client
	Guard *outage.Guard
}

// Budget returns a budget of burst failures per key, one more every every: in Redis, shared
// by every process, when s names one; otherwise in this process. name sets the budget's keys
// apart from another budget's on the same Redis.
func (s Shared) Budget(name string, burst int, every time.Duration) Budget {
	local := New(burst, every)
	if s.Redis == nil {
		return local
	}
	return &redisBudget{rdb: s.Redis, guard: s.Guard, local: local, prefix: "throttle:" + name + ":",
		burst: max(burst, 1), every: every}
}

// redisBudget keeps a budget in Redis as a GCRA: per key one value, the theoretical arrival
// time (TAT) of the next token, which the Limiter's token bucket amounts to (tokens at t =
// burst - (TAT - t)/every). redis_rate has this algorithm, and the rate limiter uses it; it is
// not used here because a throttle must give a place back: an attempt takes its place at
// Begin, across processes, so that parallel guesses on two processes cannot all pass the check
// before the first failure is counted (what the Limiter's pending count does in one), and a
// success gives it back. redis_rate has no give-back (a negative cost leaves a debt under one
// interval in place), and without one a success would spend the budget. INCR with EXPIRE
// would count per fixed window, which lets twice the budget through across a window's edge
// (10 failures at 0:59, 10 more at 1:00), where DESIGN bounds any minute.
//
// The scripts read Redis's clock, as redis_rate's does, so the processes' clocks need not
// agree; the caller's now decides only in this process, during an outage.
type redisBudget struct {
	rdb    *redis.Client
	guard  *outage.Guard
	local  *Limiter // during an outage
	prefix string
	burst  int
	every  time.Duration
}

// redisTimeout bounds each call, as the rate limiter's: a login waits at most about this long
// for Redis before it is decided in this process.
const redisTimeout = 250 * time.Millisecond

// takeScript takes a place in KEYS[1]'s budget (ARGV: every in microseconds, burst) and
// answers 0, or, when the budget has no place, the microseconds until it has one. The key
// expires when its budget is whole again. The TAT is whole microseconds since 1970, written
// with %.0f: Redis would write a Lua number with 14 digits, and these have 16.
var takeScript = redis.NewScript(`
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local every, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = math.max(tonumber(redis.call("GET", KEYS[1]) or now), now)
local wait = tat + every - burst * every - now
if wait > 0 then
  return wait
end
redis.call("SET", KEYS[1], string.format("%.0f", tat + every), "PX", math.ceil((tat + every - now) / 1000))
return 0
`)

// giveBackScript returns the place an attempt took in KEYS[1]'s budget (ARGV: every in
// microseconds): a success spends nothing. A budget whole again needs no key.
var giveBackScript = redis.NewScript(`
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call("GET", KEYS[1]))
if not tat then
  return 0
end
tat = tat - tonumber(ARGV[1])
if tat <= now then
  redis.call("DEL", KEYS[1])
else
  redis.call("SET", KEYS[1], string.format("%.0f", tat), "PX", math.ceil((tat - now) / 1000))
end
return 0
`)

// Begin takes a place in key's budget in Redis, or in this process while Redis does not
// answer (fail open: the Guard warns once and counts it).
func (b *redisBudget) Begin(ctx context.Context, key string, now time.Time) (Attempt, time.Duration, bool) {
	if b.guard.Ask() {
		rctx, cancel := context.WithTimeout(ctx, redisTimeout)
		wait, err := takeScript.Run(rctx, b.rdb, []string{b.key(key)}, b.every.Microseconds(), b.burst).Int64()
		cancel()
		if err == nil {
			b.guard.Answered()
			if wait > 0 {
				return Attempt{}, time.Duration(wait) * time.Microsecond, false
			}
			return Attempt{key: key, shared: b}, 0, true
		}
		if ctx.Err() != nil {
			// The client went away: not Redis's fault.
			return b.local.Begin(ctx, key, now)
		}
		b.guard.Failed(err)
	}
	b.guard.Local()
	return b.local.Begin(ctx, key, now)
}

// end gives a success's place back; a failure keeps it, as the failure it counts. A give-back
// that Redis does not take leaves the place taken until it refills, as a failure would: a
// success during an outage is not worth a timeout.
func (b *redisBudget) end(ctx context.Context, key string, failed bool) {
	if failed || !b.guard.Ask() {
		return
	}
	// The give-back is bookkeeping that a client hanging up must not skip.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), redisTimeout)
	defer cancel()
	if err := giveBackScript.Run(rctx, b.rdb, []string{b.key(key)}, b.every.Microseconds()).Err(); err != nil {
		b.guard.Failed(err)
		return
	}
	b.guard.Answered()
}

// key is key's name in Redis: hashed, so that the emails and addresses it throttles do not sit
// in Redis in the clear.
func (b *redisBudget) key(key string) string {
	h := sha256.Sum256([]byte(key))
	return b.prefix + hex.EncodeToString(h[:16])
}
