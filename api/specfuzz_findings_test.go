package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/config"
)

// What the spec fuzz run (TestSpecFuzz) found on the server's side, kept as tests.

// TestLengthsCountCharacters: every length the spec declares (maxLength) counts characters,
// and so does the server. The spec fuzz run found these counted in bytes, so a name of 100
// accented letters (200 bytes) was refused although the spec allows 100 characters: API key
// and user names, passwords, the workspace's name and closing note categories, webhook
// descriptions, custom field keys and the contact search.
func TestLengthsCountCharacters(t *testing.T) {
	e := apitest.New(t, func(c *config.Config) { c.WebhookAllowLoopback = true })
	w := e.NewWorkspace(t, "Acme")
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(hook.Close)
	chars := func(n int) string { return strings.Repeat("é", n) } // 2 bytes each
	tests := []struct {
		name, method, path string
		token              string
		body               func(n int) any
		max                int
		field              string
	}{
		{"API key name", "POST", "/v1/api-keys", w.OwnerToken, func(n int) any { return map[string]any{"name": chars(n)} }, 100, "name"},
		{"user name", "POST", "/v1/users", w.OwnerToken, func(n int) any {
			return map[string]any{"email": fmt.Sprintf("u%d@example.com", n), "name": chars(n), "password": "long enough password", "role": "agent"}
		}, 200, "name"},
		{"password", "POST", "/v1/users", w.OwnerToken, func(n int) any {
			return map[string]any{"email": fmt.Sprintf("p%d@example.com", n), "password": chars(n), "role": "agent"}
		}, 256, "password"},
		{"workspace name", "PATCH", "/v1/workspace", w.OwnerToken, func(n int) any { return map[string]any{"name": chars(n)} }, 200, "name"},
		{"closing note category", "PATCH", "/v1/workspace", w.OwnerToken, func(n int) any {
			return map[string]any{"settings": map[string]any{"closing_note_categories": []string{chars(n)}}}
		}, 100, "closing_note_categories[0]"},
		{"webhook description", "POST", "/v1/webhooks", w.OwnerToken, func(n int) any {
			return map[string]any{"url": hook.URL, "events": []string{"*"}, "description": chars(n)}
		}, 500, "description"},
		{"custom field key", "POST", "/v1/contacts", w.APIKey, func(n int) any {
			return map[string]any{"custom_fields": map[string]any{chars(n): 1}}
		}, 64, "custom_fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.Do(t, apitest.Request{Method: tc.method, Path: tc.path, Token: tc.token, Body: tc.body(tc.max)}).Expect(t, okStatus(tc.method))
			r := e.Do(t, apitest.Request{Method: tc.method, Path: tc.path, Token: tc.token, Body: tc.body(tc.max + 1)})
			r.ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			if got := namedFields(t, r); !slices.Equal(got, []string{tc.field}) {
				t.Errorf("fields %q, want %q", got, tc.field)
			}
		})
	}
	// A user logs in with the longest password, in characters.
	email := "long@example.com"
	e.Post(t, "/v1/users", w.OwnerToken, map[string]any{"email": email, "password": chars(256), "role": "agent"}).Expect(t, http.StatusCreated)
	e.Login(t, email, chars(256))
	// The contact search takes 200 characters.
	e.Get(t, "/v1/contacts?q="+url.QueryEscape(chars(200)), w.APIKey).Expect(t, http.StatusOK)
	e.Get(t, "/v1/contacts?q="+url.QueryEscape(chars(201)), w.APIKey).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
}

func okStatus(method string) int {
	if method == http.MethodPost {
		return http.StatusCreated
	}
	return http.StatusOK
}

// TestStreamRefusesEitherMalformedResumption: last_event_id and the Last-Event-ID header are
// each an event id (the spec's integer, minimum 0); the header wins when both are given, but a
// malformed query value beside it is refused rather than ignored, as the spec says.
func TestStreamRefusesEitherMalformedResumption(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	for _, tc := range []struct {
		query, header, field string
	}{
		{"?last_event_id=x", "0", "last_event_id"},
		{"?last_event_id=0", "x", "Last-Event-ID"},
		{"?last_event_id=-1", "", "last_event_id"},
	} {
		r := e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/events/stream" + tc.query, Token: w.APIKey,
			Header: map[string]string{"Last-Event-ID": tc.header}})
		r.ExpectProblem(t, http.StatusBadRequest, "invalid_parameter")
		if got := namedFields(t, r); !slices.Equal(got, []string{tc.field}) {
			t.Errorf("%s with header %q: fields %q, want %q", tc.query, tc.header, got, tc.field)
		}
	}
	// Both well formed: the stream opens (its body, which never ends, is not read).
	r, err := e.Check(t, apitest.Request{Method: http.MethodGet, Path: "/v1/events/stream?last_event_id=0", Token: w.APIKey,
		Header: map[string]string{"Last-Event-ID": "0"}})
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("stream with both: %d, %v", r.Status, err)
	}
}
