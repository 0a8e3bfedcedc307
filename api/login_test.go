package api_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
	"github.com/switchboard/switchboard/pkg/ratelimit/redistest"
)

// login posts credentials; ws, when not "", names the workspace.
func login(t *testing.T, e *apitest.Env, email, password, ws string, header map[string]string) *apitest.Response {
	t.Helper()
	body := map[string]string{"email": email, "password": password}
	if ws != "" {
		body["workspace_id"] = ws
	}
	return e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/auth/login", Body: body, Header: header})
}

// expectThrottled checks a 429 rate_limited with a Retry-After of whole seconds.
func expectThrottled(t *testing.T, r *apitest.Response) int {
	t.Helper()
	r.ExpectProblem(t, http.StatusTooManyRequests, "rate_limited")
	s, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || s < 1 || s > 60 {
		t.Fatalf("Retry-After %q, want 1..60 seconds", r.Header.Get("Retry-After"))
	}
	return s
}

func TestLoginThrottlePerEmail(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	other := e.NewUser(t, w, "agent")

	// 30 wrong passwords for one email: at most 10 fail with 401, then every answer is 429
	// until the minute has passed.
	first429 := 0
	for i := 1; i <= 30; i++ {
		r := login(t, e, w.OwnerEmail, "wrong password!", "", nil)
		if r.Status == http.StatusUnauthorized {
			r.ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")
			if first429 != 0 {
				t.Fatalf("attempt %d answered 401 after attempt %d answered 429", i, first429)
			}
			continue
		}
		expectThrottled(t, r)
		if first429 == 0 {
			first429 = i
		}
		if i == 15 {
			// Meanwhile another user (another email, same client address) logs in normally.
			e.Login(t, other.Email, apitest.Password)
		}
	}
	if first429 == 0 || first429 > 11 {
		t.Fatalf("first 429 at attempt %d, want by the 11th", first429)
	}
	// The right password is throttled too: that is the point of throttling the email.
	expectThrottled(t, login(t, e, w.OwnerEmail, apitest.Password, "", nil))
	// Upper case is the same email.
	expectThrottled(t, login(t, e, strings.ToUpper(w.OwnerEmail), apitest.Password, "", nil))

	// After the minute the budget has refilled: the owner logs in, and new failures count again.
	e.Clock.Advance(61 * time.Second)
	login(t, e, w.OwnerEmail, apitest.Password, "", nil).Expect(t, http.StatusOK)
	for i := 0; i < 3; i++ {
		login(t, e, w.OwnerEmail, "wrong password!", "", nil).ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")
	}
}

func TestLoginThrottlePerAddress(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agent := e.NewUser(t, w, "agent")

	// 50 failures from one address, each for another email (and each claiming another
	// X-Forwarded-For, which an untrusted client may not use to escape the limit): all 401.
	spoof := func(i int) map[string]string {
		return map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i%250), "X-Real-IP": fmt.Sprintf("198.51.100.%d", i%250)}
	}
	for i := 0; i < 50; i++ {
		login(t, e, fmt.Sprintf("guess-%d@example.com", i), "wrong password!", "", spoof(i)).
			ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")
	}
	// The address has used its budget: the next failure, and even a right password from it,
	// is 429 within the next 50 attempts.
	throttled := false
	for i := 50; i < 100 && !throttled; i++ {
		r := login(t, e, fmt.Sprintf("guess-%d@example.com", i), "wrong password!", "", spoof(i))
		if r.Status == http.StatusTooManyRequests {
			expectThrottled(t, r)
			throttled = true
		} else {
			r.ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")
		}
	}
	if !throttled {
		t.Fatal("100 failures from one address were never throttled")
	}
	expectThrottled(t, login(t, e, agent.Email, apitest.Password, "", nil))

	e.Clock.Advance(61 * time.Second)
	login(t, e, agent.Email, apitest.Password, "", nil).Expect(t, http.StatusOK)
}

func TestLoginThrottleTrustsConfiguredProxies(t *testing.T) {
	e := apitest.New(t, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.0/8", "::1/128"} })
	w := e.NewWorkspace(t, "Acme")
	// Behind a trusted proxy each client is its own address: 50 failures from one client
	// leave another client (another X-Forwarded-For) free to log in.
	for i := 0; i < 50; i++ {
		login(t, e, fmt.Sprintf("guess-%d@example.com", i), "wrong password!", "", map[string]string{"X-Forwarded-For": "203.0.113.7"}).
			ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")
	}
	expectThrottled(t, login(t, e, "guess-x@example.com", "wrong password!", "", map[string]string{"X-Forwarded-For": "203.0.113.7"}))
	login(t, e, w.OwnerEmail, apitest.Password, "", map[string]string{"X-Forwarded-For": "203.0.113.8"}).Expect(t, http.StatusOK)
}

func TestConcurrentLoginsHashWithinTheBound(t *testing.T) {
	const bound = 2
	// apitest lets a login wait a minute for its turn, so none gets 503 on a slow machine.
	e := apitest.New(t, func(c *config.Config) { c.PasswordHashConcurrency = bound })
	w := e.NewWorkspace(t, "Acme")

	// 48 wrong logins at once (48 emails, below the address limit): each is checked and
	// answered 401, while no more than the bound hash at a time.
	var wg sync.WaitGroup
	answers := make([]string, 48)
	for i := range answers {
		wg.Go(func() {
			email := w.OwnerEmail
			if i > 0 {
				email = fmt.Sprintf("flood-%d@example.com", i)
			}
			r := login(t, e, email, "wrong password!", "", nil)
			answers[i] = fmt.Sprintf("%d %s", r.Status, r.Code())
		})
	}
	wg.Wait()
	for i, a := range answers {
		if a != "401 invalid_credentials" {
			t.Errorf("login %d answered %s", i, a)
		}
	}
	peak := metric(t, e, "switchboard_password_hashes_peak")
	if peak < 1 || peak > bound {
		t.Fatalf("peak concurrent password hashes %v, want 1..%d", peak, bound)
	}
	if running := metric(t, e, "switchboard_password_hashes_running"); running != 0 {
		t.Fatalf("%v hashes still running after every answer", running)
	}
	// The server is still usable.
	login(t, e, w.OwnerEmail, apitest.Password, "", nil).Expect(t, http.StatusOK)
}

// TestUserWritesHashWithinTheBound: creating users and setting passwords hash through the
// same gate as logins, so an admin key flooding POST /v1/users cannot take the memory either.
func TestUserWritesHashWithinTheBound(t *testing.T) {
	const bound = 1
	e := apitest.New(t, func(c *config.Config) { c.PasswordHashConcurrency = bound })
	w := e.NewWorkspace(t, "Acme")
	agent := e.NewUser(t, w, "agent")
	before := metric(t, e, "switchboard_password_hashes_total")

	var wg sync.WaitGroup
	answers := make([]string, 24)
	for i := range answers {
		wg.Go(func() {
			var r *apitest.Response
			if i%2 == 0 {
				r = e.Post(t, "/v1/users", w.APIKey, map[string]any{"email": fmt.Sprintf("new-%d@example.com", i),
					"password": "a long passphrase", "role": "agent"})
			} else {
				r = e.Patch(t, "/v1/users/"+agent.ID, w.OwnerToken, map[string]any{"password": fmt.Sprintf("passphrase number %d", i)})
			}
			answers[i] = fmt.Sprint(r.Status)
		})
	}
	wg.Wait()
	for i, a := range answers {
		if want := map[bool]string{true: "201", false: "200"}[i%2 == 0]; a != want {
			t.Errorf("write %d answered %s, want %s", i, a, want)
		}
	}
	if done := metric(t, e, "switchboard_password_hashes_total") - before; done != float64(len(answers)) {
		t.Fatalf("%v password hashes ran through the gate for %d user writes: each must wait its turn there", done, len(answers))
	}
	if peak := metric(t, e, "switchboard_password_hashes_peak"); peak != bound {
		t.Fatalf("peak concurrent password hashes %v, want %d", peak, bound)
	}
	if running := metric(t, e, "switchboard_password_hashes_running"); running != 0 {
		t.Fatalf("%v hashes still running after every answer", running)
	}
}

// metric reads one unlabelled sample from /metrics.
func metric(t *testing.T, e *apitest.Env, name string) float64 {
	t.Helper()
	r := e.Unvalidated(t, "/metrics")
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}

func TestSameEmailInTwoWorkspaces(t *testing.T) {
	e := apitest.New(t)
	w1 := e.NewWorkspace(t, "Acme")
	w2 := e.NewWorkspace(t, "Globex")
	create := func(w *apitest.Workspace, email, password string) *apitest.Response {
		return e.Post(t, "/v1/users", w.OwnerToken, map[string]any{"email": email, "password": password, "role": "agent"})
	}
	workspaceOf := func(r *apitest.Response) string {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		r.Expect(t, http.StatusOK).JSON(t, &tok)
		return e.Get(t, "/v1/me", tok.AccessToken).Expect(t, http.StatusOK).Map(t)["workspace_id"].(string)
	}

	// One address, a member of two workspaces with two passwords: a workspace admin learns
	// nothing about the other workspace, and the email is unique only within each.
	create(w1, "sam@example.com", "first passphrase").Expect(t, http.StatusCreated)
	create(w2, "Sam@Example.com", "second passphrase").Expect(t, http.StatusCreated)
	create(w1, "SAM@example.com", apitest.Password).ExpectProblem(t, http.StatusConflict, "email_taken")
	create(w2, w1.OwnerEmail, apitest.Password).Expect(t, http.StatusCreated)

	// The password picks the account.
	if got := workspaceOf(login(t, e, "sam@example.com", "first passphrase", "", nil)); got != w1.ID {
		t.Fatalf("first password logged into %s, want %s", got, w1.ID)
	}
	if got := workspaceOf(login(t, e, "sam@example.com", "second passphrase", "", nil)); got != w2.ID {
		t.Fatalf("second password logged into %s, want %s", got, w2.ID)
	}
	login(t, e, "sam@example.com", "third passphrase", "", nil).ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")

	// The same password in both: the account updated last logs in, unless the client names one.
	if got := workspaceOf(login(t, e, w1.OwnerEmail, apitest.Password, "", nil)); got != w2.ID {
		t.Fatalf("same password in two workspaces logged into %s, want the newer account's %s", got, w2.ID)
	}
	if got := workspaceOf(login(t, e, w1.OwnerEmail, apitest.Password, w2.ID, nil)); got != w2.ID {
		t.Fatalf("login naming %s went to %s", w2.ID, got)
	}
	if got := workspaceOf(login(t, e, w1.OwnerEmail, apitest.Password, w1.ID, nil)); got != w1.ID {
		t.Fatalf("login naming %s went to %s", w1.ID, got)
	}
	// Naming a workspace the email is not in, or a wrong password there, is the usual 401.
	login(t, e, "sam@example.com", "first passphrase", w2.ID, nil).ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")
	login(t, e, w1.OwnerEmail, apitest.Password, uuid.NewString(), nil).ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")
	r := login(t, e, w1.OwnerEmail, apitest.Password, "not-an-id", nil).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	if f := problemFields(t, r); !f["workspace_id"] {
		t.Fatalf("malformed workspace_id: fields %v", f)
	}
}

// TestAnotherWorkspaceCannotGuessAnOwnersPassword: emails are unique per workspace, so
// workspace B may add A's owner's address and set that account's password to each guess. Its
// logins must say nothing about A's account (an earlier version answered 422
// workspace_required when a guess matched both: a free oracle for A's owner's password), and
// logging into its own account must not clear the failures its guesses at A ran up.
func TestAnotherWorkspaceCannotGuessAnOwnersPassword(t *testing.T) {
	e := apitest.New(t)
	a := e.NewWorkspace(t, "Victim")
	b := e.NewWorkspace(t, "Attacker")
	var copyOfOwner struct {
		ID string `json:"id"`
	}
	e.Post(t, "/v1/users", b.OwnerToken, map[string]any{"email": a.OwnerEmail, "password": "first guess, wrong", "role": "agent"}).
		Expect(t, http.StatusCreated).JSON(t, &copyOfOwner)
	workspaceOf := func(r *apitest.Response) string {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		r.Expect(t, http.StatusOK).JSON(t, &tok)
		return e.Get(t, "/v1/me", tok.AccessToken).Expect(t, http.StatusOK).Map(t)["workspace_id"].(string)
	}

	// Each guess, the right one last: B's copy of the account logs in every time.
	for _, guess := range []string{"second guess, wrong", "third guess, wrong", apitest.Password} {
		e.Clock.Advance(time.Second) // each password change makes B's account the newest
		e.Patch(t, "/v1/users/"+copyOfOwner.ID, b.OwnerToken, map[string]any{"password": guess}).Expect(t, http.StatusOK)
		if got := workspaceOf(login(t, e, a.OwnerEmail, guess, "", nil)); got != b.ID {
			t.Fatalf("guess %q logged into %s, want the attacker's own workspace %s", guess, got, b.ID)
		}
	}

	// Guesses naming A's workspace count, and B's successful logins in between clear nothing:
	// at most 10 failures in the minute, then 429 (even for A's owner's right password).
	failures, throttled := 0, false
	for i := 1; i <= 12 && !throttled; i++ {
		r := login(t, e, a.OwnerEmail, fmt.Sprintf("guess number %d", i), a.ID, nil)
		if throttled = r.Status == http.StatusTooManyRequests; throttled {
			break
		}
		r.ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")
		failures++
		// B's own login is let through while the budget lasts, and clears nothing.
		if r := login(t, e, a.OwnerEmail, apitest.Password, b.ID, nil); r.Status == http.StatusTooManyRequests {
			throttled = true
		} else {
			r.Expect(t, http.StatusOK)
		}
	}
	if !throttled || failures > 10 {
		t.Fatalf("%d wrong guesses at A's owner, each followed by a login to B's copy, throttled=%v: want 429 after at most 10", failures, throttled)
	}
	expectThrottled(t, login(t, e, a.OwnerEmail, apitest.Password, a.ID, nil))
}

// TestLoginThrottleSharedThroughRedis: with REDIS_URL two API processes count an email's failed
// logins together, so failures split across both reach the lock-out as one process's would
// (in each process alone it would take twice as many), and both refuse after it; a success
// spends nothing. When Redis stops, each process decides alone (fail open): a wrong password is
// 401, never 500, with a warning and the fail-open metric.
func TestLoginThrottleSharedThroughRedis(t *testing.T) {
	srv := redistest.Start(t)
	e := apitest.New(t, func(c *config.Config) { c.RedisURL = srv.URL })
	twin := e.Twin(t)
	w := e.NewWorkspace(t, "Acme")
	other := e.NewUser(t, w, "agent")
	envs := []*apitest.Env{e, twin}

	first429 := 0
	for i := 1; i <= 12 && first429 == 0; i++ {
		r := login(t, envs[i%2], w.OwnerEmail, "wrong password!", "", nil)
		if r.Status == http.StatusTooManyRequests {
			expectThrottled(t, r)
			first429 = i
		} else {
			r.ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")
		}
	}
	// LOGIN_FAILURES_PER_EMAIL 10 is a burst of 5 and one more every 12 s (on Redis's clock):
	// the 6th is refused, or the 7th on a machine slow enough to take 12 s over the first.
	// Counted per process, the burst would be 5 on each: the 11th.
	if first429 < 6 || first429 > 7 {
		t.Fatalf("first 429 at attempt %d over two processes, want the 6th (or the 7th)", first429)
	}
	for _, p := range envs {
		expectThrottled(t, login(t, p, w.OwnerEmail, apitest.Password, "", nil))
	}
	// Successes give their place back: another user logs in again and again through both.
	for i := 0; i < 8; i++ {
		login(t, envs[i%2], other.Email, apitest.Password, "", nil).Expect(t, http.StatusOK)
	}

	srv.Stop()
	for _, p := range envs {
		login(t, p, other.Email, "wrong password!", "", nil).ExpectProblem(t, http.StatusUnauthorized, "invalid_credentials")
		if !strings.Contains(p.LogText(), "Redis does not answer") {
			t.Fatalf("no warning of the outage in the log:\n%s", p.LogText())
		}
		// The address's budget and the email's: two decisions made in the process.
		m := string(p.Unvalidated(t, "/metrics").Body)
		if !strings.Contains(m, "switchboard_ratelimit_fail_open_total 2") || !strings.Contains(m, "switchboard_ratelimit_redis_up 0") {
			t.Fatalf("metrics do not count the outage:\n%s", grepLines(m, "switchboard_ratelimit"))
		}
	}
}
