package auth

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// verifiedTokens bounds the token cache: about 4 MB at most, more than the access tokens a
// server sees live within their 15 minutes unless it serves thousands of users.
const verifiedTokens = 10_000

// verifiedToken is what an access token says, once its signature and claims were checked.
type verifiedToken struct {
	workspace, session, user uuid.UUID
	issued, expires          time.Time
}

// tokenCache remembers access tokens whose signature and claims were verified, so the next
// requests with the same token skip the HMAC and the JSON decoding (about 20 µs, 60
// allocations: 7 % of an inbox request's CPU). It grants nothing by itself: the session is
// still looked up on every request, so a logout or a revoked session takes effect at once,
// and a hit's expiry and issue time are checked again against the clock. Only the exact
// token string that was verified hits. When full it starts over rather than tracking age.
type tokenCache struct {
	mu     sync.RWMutex
	tokens map[string]verifiedToken
	max    int
}

func newTokenCache(max int) *tokenCache {
	return &tokenCache{tokens: make(map[string]verifiedToken), max: max}
}

func (c *tokenCache) get(token string) (verifiedToken, bool) {
	c.mu.RLock()
	t, ok := c.tokens[token]
	c.mu.RUnlock()
	return t, ok
}

func (c *tokenCache) put(token string, t verifiedToken) {
	c.mu.Lock()
	if len(c.tokens) >= c.max {
		clear(c.tokens)
	}
	c.tokens[token] = t
	c.mu.Unlock()
}
