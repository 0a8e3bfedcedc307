package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
)

// fastRecheck makes open streams check their credential every 200 ms.
func fastRecheck(c *config.Config) { c.EventStreamRecheck = 200 * time.Millisecond }

// ends fails unless the server ends the stream within d.
func (s *stream) ends(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(d):
		t.Fatalf("the stream is still open %s later", d)
	}
}

// streamStatus is the status a GET of the stream URL answers with, without waiting for the
// stream itself (a stream that opens answers 200 at once).
func streamStatus(t *testing.T, e *apitest.Env, path string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type streamToken struct {
	Token string `json:"token"`
}

// Issue 12 point 9: revoking an API key ends the streams it opened within seconds (on every
// process, here a second one on the same database), and the stream tokens it minted stop
// opening streams at once. A live key's stream is untouched.
func TestRevokedKeyEndsItsStreams(t *testing.T) {
	e := apitest.New(t, liveOpts, fastRecheck)
	p2 := e.Twin(t)
	w := e.NewWorkspace(t, "A")
	var k struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	e.Post(t, "/v1/api-keys", w.OwnerToken, map[string]any{"name": "dashboard", "scopes": []string{"conversations:read"}}).
		Expect(t, http.StatusCreated).JSON(t, &k)
	var tok, used streamToken
	e.Post(t, "/v1/events/stream-token", k.Key, nil).Expect(t, http.StatusCreated).JSON(t, &tok)
	e.Post(t, "/v1/events/stream-token", k.Key, nil).Expect(t, http.StatusCreated).JSON(t, &used)

	byHeader := openStream(t, e.URL, "/v1/events/stream", k.Key, nil)
	byToken := openStream(t, p2.URL, "/v1/events/stream?token="+used.Token, "", nil)
	other := openStream(t, e.URL, "/v1/events/stream", w.APIKey, nil)

	// Revoked through the other process: the streams learn it from the database.
	p2.Delete(t, "/v1/api-keys/"+k.ID, w.OwnerToken).Expect(t, http.StatusNoContent)
	start := time.Now()
	byHeader.ends(t, 3*time.Second)
	byToken.ends(t, 3*time.Second)
	t.Logf("streams ended %s after the revocation", time.Since(start).Round(time.Millisecond))

	if got := streamStatus(t, e, "/v1/events/stream?token="+tok.Token); got != http.StatusUnauthorized {
		t.Fatalf("a stream token of a revoked key opened a stream: %d", got)
	}
	e.Get(t, "/v1/events/stream?token="+tok.Token, "").ExpectProblem(t, http.StatusUnauthorized, "invalid_token")

	// The workspace's other key streams on.
	id := e.NewContact(t, w.APIKey, map[string]any{"first_name": "Still"})
	if ev := other.next(t, "contact.created", 3*time.Second); ev.Data["data"].(map[string]any)["id"] != id {
		t.Fatalf("live key's stream: %+v", ev)
	}
}

// A logout ends the session's streams within seconds and refuses its stream tokens; another
// session of the same user streams on.
func TestLogoutEndsItsStreams(t *testing.T) {
	e := apitest.New(t, liveOpts, fastRecheck)
	w := e.NewWorkspace(t, "A")
	u := e.NewUser(t, w, "agent")
	second, _ := e.Login(t, u.Email, apitest.Password)
	var tok, used streamToken
	e.Post(t, "/v1/events/stream-token", u.Token, nil).Expect(t, http.StatusCreated).JSON(t, &tok)
	e.Post(t, "/v1/events/stream-token", u.Token, nil).Expect(t, http.StatusCreated).JSON(t, &used)

	byHeader := openStream(t, e.URL, "/v1/events/stream", u.Token, nil)
	byToken := openStream(t, e.URL, "/v1/events/stream?token="+used.Token, "", nil)
	other := openStream(t, e.URL, "/v1/events/stream", second, nil)

	e.Post(t, "/v1/auth/logout", u.Token, nil).Expect(t, http.StatusNoContent)
	byHeader.ends(t, 3*time.Second)
	byToken.ends(t, 3*time.Second)
	if got := streamStatus(t, e, "/v1/events/stream?token="+tok.Token); got != http.StatusUnauthorized {
		t.Fatalf("a stream token of an ended session opened a stream: %d", got)
	}
	e.Get(t, "/v1/events/stream?token="+tok.Token, "").ExpectProblem(t, http.StatusUnauthorized, "invalid_token")

	id := e.NewContact(t, w.APIKey, map[string]any{"first_name": "Still"})
	if ev := other.next(t, "contact.created", 3*time.Second); ev.Data["data"].(map[string]any)["id"] != id {
		t.Fatalf("other session's stream: %+v", ev)
	}
}
