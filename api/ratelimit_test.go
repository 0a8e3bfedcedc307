package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/ratelimit/redistest"
)

// rateHeaders reads an answer's RateLimit headers, failing unless all three are integers.
func rateHeaders(t *testing.T, r *apitest.Response) (limit, remaining, reset int) {
	t.Helper()
	n := make([]int, 3)
	for i, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
		v, err := strconv.Atoi(r.Header.Get(h))
		if err != nil || v < 0 {
			t.Fatalf("%s %q on a %d answer, want a whole number", h, r.Header.Get(h), r.Status)
		}
		n[i] = v
	}
	return n[0], n[1], n[2]
}

// newLimitedKey creates a key with its own budget a minute and checks the key resource shows it.
func newLimitedKey(t *testing.T, e *apitest.Env, w *apitest.Workspace, perMinute int) string {
	t.Helper()
	var key struct {
		Key                string `json:"key"`
		ID                 string `json:"id"`
		RateLimitPerMinute *int   `json:"rate_limit_per_minute"`
	}
	e.Post(t, "/v1/api-keys", w.OwnerToken, map[string]any{"name": "script", "rate_limit_per_minute": perMinute}).
		Expect(t, http.StatusCreated).JSON(t, &key)
	if key.RateLimitPerMinute == nil || *key.RateLimitPerMinute != perMinute {
		t.Fatalf("created key's rate_limit_per_minute %v, want %d", key.RateLimitPerMinute, perMinute)
	}
	return key.Key
}

// expectCountdown sends n requests with token and checks the budget counts down to 0.
func expectCountdown(t *testing.T, envs []*apitest.Env, token string, limit int) {
	t.Helper()
	for i := 0; i < limit; i++ {
		r := envs[i%len(envs)].Get(t, "/v1/me", token).Expect(t, http.StatusOK)
		l, rem, reset := rateHeaders(t, r)
		if l != limit || rem != limit-1-i || reset < 1 || reset > 60 {
			t.Fatalf("request %d: RateLimit-Limit %d, -Remaining %d, -Reset %d; want %d, %d, 1..60", i+1, l, rem, reset, limit, limit-1-i)
		}
	}
}

// expectLimited checks a 429 rate_limited problem with Retry-After and the headers at zero.
func expectLimited(t *testing.T, r *apitest.Response) int {
	t.Helper()
	r.ExpectProblem(t, http.StatusTooManyRequests, "rate_limited")
	retry, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 60 {
		t.Fatalf("Retry-After %q, want 1..60 seconds", r.Header.Get("Retry-After"))
	}
	if _, rem, _ := rateHeaders(t, r); rem != 0 {
		t.Fatalf("RateLimit-Remaining %d on a 429, want 0", rem)
	}
	return retry
}

// TestRateLimitPerCredential is issue 18's acceptance 1 in one process: a key created with
// rate_limit_per_minute 20 answers 20 requests counting down, the 21st is 429 with Retry-After;
// another key and a user are unaffected, a user's sessions share their budget, and the
// budget comes back one request per 3 s (the server's clock).
func TestRateLimitPerCredential(t *testing.T) {
	e := apitest.New(t, apitest.WithRateLimits())
	w := e.NewWorkspace(t, "Acme")

	t.Run("a key's own budget is 1 to the server's", func(t *testing.T) {
		for _, n := range []int{0, 1201} {
			r, _ := e.Check(t, apitest.Request{Method: http.MethodPost, Path: "/v1/api-keys", Token: w.OwnerToken,
				Body: map[string]any{"name": "x", "rate_limit_per_minute": n}})
			r.ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			if !strings.Contains(string(r.Body), "rate_limit_per_minute") {
				t.Fatalf("422 does not name the field: %s", r.Body)
			}
		}
		var keys struct {
			Data []struct {
				RateLimitPerMinute *int `json:"rate_limit_per_minute"`
			} `json:"data"`
		}
		e.Get(t, "/v1/api-keys", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &keys)
		if len(keys.Data) == 0 || keys.Data[0].RateLimitPerMinute != nil {
			t.Fatalf("a key made without a budget: %+v, want rate_limit_per_minute null", keys.Data)
		}
	})

	limited := newLimitedKey(t, e, w, 20)
	expectCountdown(t, []*apitest.Env{e}, limited, 20)
	if retry := expectLimited(t, e.Get(t, "/v1/me", limited)); retry != 3 {
		t.Fatalf("Retry-After %d, want 3 (a minute / 20)", retry)
	}
	// Refused on every route, errors included: the budget is spent before the scope check.
	expectLimited(t, e.Get(t, "/v1/contacts", limited))

	t.Run("another key is unaffected", func(t *testing.T) {
		r := e.Get(t, "/v1/me", w.APIKey).Expect(t, http.StatusOK)
		if l, rem, _ := rateHeaders(t, r); l != 1200 || rem >= 1200 {
			t.Fatalf("other key: limit %d remaining %d, want the server's 1200", l, rem)
		}
	})
	t.Run("a user's sessions share one budget of their own", func(t *testing.T) {
		u := e.NewUser(t, w, "agent")
		_, before, _ := rateHeaders(t, e.Get(t, "/v1/me", u.Token).Expect(t, http.StatusOK))
		second, _ := e.Login(t, u.Email, apitest.Password)
		_, after, _ := rateHeaders(t, e.Get(t, "/v1/me", second).Expect(t, http.StatusOK))
		if after != before-1 {
			t.Fatalf("second session's remaining %d after the first's %d: not one budget", after, before)
		}
		// Errors carry the headers too (403: an agent lacks admin).
		r := e.Get(t, "/v1/api-keys", u.Token).ExpectProblem(t, http.StatusForbidden, "forbidden")
		if _, rem, _ := rateHeaders(t, r); rem != after-1 {
			t.Fatalf("403's remaining %d, want %d", rem, after-1)
		}
	})
	t.Run("a credential that does not check out spends the address's budget", func(t *testing.T) {
		r := e.Get(t, "/v1/me", "sbk_not-a-key").ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
		if l, _, _ := rateHeaders(t, r); l != e.Config.RateLimitPerAddress {
			t.Fatalf("401's RateLimit-Limit %d, want the address budget %d", l, e.Config.RateLimitPerAddress)
		}
	})
	t.Run("the budget refills one request per interval", func(t *testing.T) {
		e.Clock.Advance(3 * time.Second)
		r := e.Get(t, "/v1/me", limited).Expect(t, http.StatusOK)
		if _, rem, _ := rateHeaders(t, r); rem != 0 {
			t.Fatalf("remaining %d after one interval, want 0", rem)
		}
		expectLimited(t, e.Get(t, "/v1/me", limited))
	})
}

// TestRateLimitSharedThroughRedis: two API processes on one database and one Redis share a
// key's budget; when Redis stops, both go on answering (fail open) from their own budgets,
// log a warning and count it in /metrics.
func TestRateLimitSharedThroughRedis(t *testing.T) {
	srv := redistest.Start(t)
	e := apitest.New(t, apitest.WithRateLimits(), func(c *config.Config) { c.RedisURL = srv.URL })
	twin := e.Twin(t)
	w := e.NewWorkspace(t, "Acme")
	limited := newLimitedKey(t, e, w, 20)

	expectCountdown(t, []*apitest.Env{e, twin}, limited, 20)
	expectLimited(t, e.Get(t, "/v1/me", limited))
	expectLimited(t, twin.Get(t, "/v1/me", limited))

	srv.Stop()
	for _, p := range []*apitest.Env{e, twin, e, twin} {
		rateHeaders(t, p.Get(t, "/v1/me", limited).Expect(t, http.StatusOK))
	}
	for _, p := range []*apitest.Env{e, twin} {
		if !strings.Contains(p.LogText(), "Redis does not answer") {
			t.Fatalf("no warning of the outage in the log:\n%s", p.LogText())
		}
		m := string(p.Unvalidated(t, "/metrics").Body)
		if !strings.Contains(m, "switchboard_ratelimit_fail_open_total 2") || !strings.Contains(m, "switchboard_ratelimit_redis_up 0") {
			t.Fatalf("metrics do not count the outage:\n%s", grepLines(m, "switchboard_ratelimit"))
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestSendBudget: a workspace's sends share SEND_RATE_PER_SECOND over its credentials; past
// it a send is 429 rate_limited with Retry-After, and the next second has room again.
func TestSendBudget(t *testing.T) {
	e := apitest.New(t, apitest.WithRateLimits(), func(c *config.Config) { c.SendRatePerSecond = 3 })
	w := e.NewWorkspace(t, "Acme")
	s := newSendEnv(t, e, w, "sms", nil, "+14155550178", time.Hour)
	other := e.NewKey(t, w)
	text := func() map[string]any { return map[string]any{"type": "text", "text": "hello"} }
	for _, tok := range []string{w.OwnerToken, w.APIKey, other} {
		s.send(t, tok, text()).Expect(t, http.StatusCreated)
	}
	r := s.send(t, other, text())
	r.ExpectProblem(t, http.StatusTooManyRequests, "rate_limited")
	if r.Header.Get("Retry-After") != "1" || !strings.Contains(string(r.Body), "SEND_RATE_PER_SECOND") {
		t.Fatalf("send over budget: Retry-After %q, body %s", r.Header.Get("Retry-After"), r.Body)
	}
	// Other requests of the workspace are not sends.
	e.Get(t, "/v1/contacts/"+s.contact, other).Expect(t, http.StatusOK)
	e.Clock.Advance(time.Second)
	s.send(t, w.OwnerToken, text()).Expect(t, http.StatusCreated)
}

// TestLoginThrottleWithRateLimits: with the budgets on, the failed-login throttle still answers
// first (429 after at most 10 failures for an email), and login answers carry the address's
// budget.
func TestLoginThrottleWithRateLimits(t *testing.T) {
	e := apitest.New(t, apitest.WithRateLimits())
	w := e.NewWorkspace(t, "Acme")
	first429 := 0
	for i := 1; i <= 12 && first429 == 0; i++ {
		r := e.Post(t, "/v1/auth/login", "", map[string]string{"email": w.OwnerEmail, "password": "wrong-password"})
		if l, _, _ := rateHeaders(t, r); l != e.Config.RateLimitPerAddress {
			t.Fatalf("login answer's RateLimit-Limit %d, want the address budget %d", l, e.Config.RateLimitPerAddress)
		}
		if r.Status == http.StatusTooManyRequests {
			first429 = i
			expectThrottled(t, r)
		} else {
			r.ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")
		}
	}
	if first429 == 0 || first429 > 11 {
		t.Fatalf("first 429 at attempt %d, want by the 11th", first429)
	}
}
