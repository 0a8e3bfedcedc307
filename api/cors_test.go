package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

const appOrigin = "https://app.example.com"

// exposed are the response headers a page on an allowed origin must be able to read.
var exposed = []string{"X-Request-Id", "Idempotent-Replayed", "Location", "Retry-After",
	"RateLimit", "RateLimit-Policy", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}

// list reads a comma-separated header (over all its lines) as lower-case names.
func list(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for _, s := range strings.Split(v, ",") {
			if s = strings.ToLower(strings.TrimSpace(s)); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func containsAll(t *testing.T, h http.Header, name string, want ...string) {
	t.Helper()
	got := list(h, name)
	for _, w := range want {
		if !slices.Contains(got, strings.ToLower(w)) {
			t.Errorf("%s %q lacks %s", name, h.Values(name), w)
		}
	}
}

// allowedRead checks that a page on origin may read this answer and the headers it needs.
func allowedRead(t *testing.T, r *apitest.Response, origin string) {
	t.Helper()
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("%d answer: Access-Control-Allow-Origin %q, want %q", r.Status, got, origin)
	}
	containsAll(t, r.Header, "Access-Control-Expose-Headers", exposed...)
	containsAll(t, r.Header, "Vary", "Origin")
	if v := r.Header.Get("Access-Control-Allow-Credentials"); v != "" {
		t.Errorf("Access-Control-Allow-Credentials %q: credentials are bearer tokens, never cookies", v)
	}
}

func noCORS(t *testing.T, h http.Header) {
	t.Helper()
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			t.Errorf("unexpected CORS header %s: %q", k, h.Values(k))
		}
	}
}

func TestCORSPreflight(t *testing.T) {
	e := apitest.New(t, apitest.WithCORS(appOrigin+",http://localhost:*"))
	tests := []struct {
		name, origin, method, path string
		headers                    []string
		allowed                    bool
	}{
		{"send with an idempotency key", appOrigin, http.MethodPost, "/v1/contacts/00000000-0000-0000-0000-000000000000/messages",
			[]string{"Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"}, true},
		{"stream resumption", appOrigin, http.MethodGet, "/v1/events/stream", []string{"Authorization", "Last-Event-ID"}, true},
		{"update", appOrigin, http.MethodPatch, "/v1/contacts/00000000-0000-0000-0000-000000000000", []string{"Authorization", "Content-Type"}, true},
		{"delete", appOrigin, http.MethodDelete, "/v1/api-keys/00000000-0000-0000-0000-000000000000", []string{"Authorization"}, true},
		{"put", appOrigin, http.MethodPut, "/v1/conversations/00000000-0000-0000-0000-000000000000/assignee", []string{"Authorization", "Content-Type"}, true},
		// The page then gets the 404 problem, readable.
		{"unknown route", appOrigin, http.MethodGet, "/v1/nope", []string{"Authorization"}, true},
		{"any port of localhost", "http://localhost:5173", http.MethodPost, "/v1/auth/login", []string{"Content-Type"}, true},
		{"localhost without a port", "http://localhost", http.MethodGet, "/v1/me", []string{"Authorization"}, true},
		{"another origin", "https://evil.example.com", http.MethodPost, "/v1/contacts", []string{"Authorization", "Content-Type"}, false},
		{"another scheme", "http://app.example.com", http.MethodGet, "/v1/me", []string{"Authorization"}, false},
		{"another port", "https://app.example.com:8443", http.MethodGet, "/v1/me", []string{"Authorization"}, false},
		{"a suffix of the host", "https://app.example.com.evil.com", http.MethodGet, "/v1/me", []string{"Authorization"}, false},
		{"localhost's name in another host", "http://localhost.evil.com:5173", http.MethodGet, "/v1/me", []string{"Authorization"}, false},
		{"opaque origin", "null", http.MethodGet, "/v1/me", []string{"Authorization"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Preflight(t, tc.path, tc.origin, tc.method, tc.headers...)
			containsAll(t, r.Header, "Vary", "Origin")
			if !tc.allowed {
				// The browser reads a preflight without Access-Control-Allow-Origin as refused.
				for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers"} {
					if v := r.Header.Get(h); v != "" {
						t.Errorf("a preflight from %s got %s %q", tc.origin, h, v)
					}
				}
				return
			}
			if r.Status != http.StatusNoContent {
				t.Errorf("status %d, want 204", r.Status)
			}
			if got := r.Header.Get("Access-Control-Allow-Origin"); got != tc.origin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.origin)
			}
			containsAll(t, r.Header, "Access-Control-Allow-Methods", "GET", "POST", "PUT", "PATCH", "DELETE")
			containsAll(t, r.Header, "Access-Control-Allow-Headers", "Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID")
			if got := r.Header.Get("Access-Control-Max-Age"); got != "7200" {
				t.Errorf("Access-Control-Max-Age %q, want 7200", got)
			}
			if v := r.Header.Get("Access-Control-Allow-Credentials"); v != "" {
				t.Errorf("Access-Control-Allow-Credentials %q", v)
			}
		})
	}

	// An OPTIONS request without Origin is no preflight: the router answers as without CORS.
	r := e.Preflight(t, "/v1/nope", "", http.MethodGet)
	if r.Status != http.StatusNotFound {
		t.Errorf("OPTIONS without Origin on an unknown path: %d, want 404", r.Status)
	}
	noCORS(t, r.Header)
}

// TestCORSResponses checks that actual answers, problems and the event stream included, are
// readable by an allowed origin and by no other.
func TestCORSResponses(t *testing.T) {
	e := apitest.New(t, apitest.WithCORS(appOrigin+",http://localhost:*"))
	w := e.NewWorkspace(t, "Acme")
	from := func(origin string) map[string]string { return map[string]string{"Origin": origin} }

	r := e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Token: w.OwnerToken, Header: from(appOrigin)}).Expect(t, http.StatusOK)
	allowedRead(t, r, appOrigin)
	r = e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Token: w.OwnerToken, Header: from("http://localhost:3000")}).Expect(t, http.StatusOK)
	allowedRead(t, r, "http://localhost:3000")
	r = e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/contacts", Token: w.OwnerToken, Header: from(appOrigin),
		Body: map[string]any{"first_name": "Ada"}}).Expect(t, http.StatusCreated)
	allowedRead(t, r, appOrigin)

	problems := []struct {
		name   string
		req    apitest.Request
		status int
		code   string
	}{
		{"401 without a token", apitest.Request{Method: http.MethodGet, Path: "/v1/me"}, http.StatusUnauthorized, "unauthenticated"},
		{"401 with a bad token", apitest.Request{Method: http.MethodGet, Path: "/v1/me", Token: "nope"}, http.StatusUnauthorized, "invalid_token"},
		{"404 unknown route", apitest.Request{Method: http.MethodGet, Path: "/v1/nope", Token: w.OwnerToken}, http.StatusNotFound, "route_not_found"},
		{"404 unknown contact", apitest.Request{Method: http.MethodGet, Path: "/v1/contacts/00000000-0000-0000-0000-000000000000", Token: w.OwnerToken},
			http.StatusNotFound, "contact_not_found"},
		{"405", apitest.Request{Method: http.MethodPut, Path: "/v1/contacts", Token: w.OwnerToken}, http.StatusMethodNotAllowed, "method_not_allowed"},
		{"413 from the body limit", apitest.Request{Method: http.MethodPost, Path: "/v1/contacts", Token: w.OwnerToken,
			Body: `{"first_name":"` + strings.Repeat("x", 70<<10) + `"}`}, http.StatusRequestEntityTooLarge, "body_too_large"},
	}
	for _, tc := range problems {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Header = from(appOrigin)
			r := e.Do(t, tc.req).ExpectProblem(t, tc.status, tc.code)
			allowedRead(t, r, appOrigin)
			// The same refusal to a page on another origin is not readable by it.
			tc.req.Header = from("https://evil.example.com")
			r = e.Do(t, tc.req).ExpectProblem(t, tc.status, tc.code)
			noCORS(t, r.Header)
		})
	}

	r = e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Token: w.OwnerToken, Header: from("https://evil.example.com")}).Expect(t, http.StatusOK)
	noCORS(t, r.Header)
	containsAll(t, r.Header, "Vary", "Origin") // a cache must not hand this answer to an allowed origin

	// The event stream as EventSource opens it cross-origin: a stream token in the query.
	var tok struct {
		Token string `json:"token"`
	}
	r = e.Do(t, apitest.Request{Method: http.MethodPost, Path: "/v1/events/stream-token", Token: w.OwnerToken, Header: from(appOrigin)}).
		Expect(t, http.StatusCreated)
	allowedRead(t, r, appOrigin)
	r.JSON(t, &tok)
	s := openStream(t, e.URL, "/v1/events/stream?token="+tok.Token, "", map[string]string{"Origin": appOrigin, "Last-Event-ID": "0"})
	if got := s.header.Get("Access-Control-Allow-Origin"); got != appOrigin {
		t.Errorf("stream: Access-Control-Allow-Origin %q, want %q", got, appOrigin)
	}
	containsAll(t, s.header, "Access-Control-Expose-Headers", "X-Request-Id")
	containsAll(t, s.header, "Vary", "Origin")
	e.Post(t, "/v1/contacts", w.OwnerToken, map[string]any{"first_name": "Grace"}).Expect(t, http.StatusCreated)
	s.next(t, "contact.created", 5*time.Second)
	s = openStream(t, e.URL, "/v1/events/stream", w.OwnerToken, map[string]string{"Origin": "https://evil.example.com"})
	noCORS(t, s.header)
}

// TestCORSOff checks that without CORS_ALLOWED_ORIGINS no answer carries a CORS header.
func TestCORSOff(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	noCORS(t, e.Preflight(t, "/v1/me", appOrigin, http.MethodGet, "Authorization").Header)
	noCORS(t, e.Preflight(t, "/v1/contacts", appOrigin, http.MethodPost, "Authorization", "Content-Type").Header)
	r := e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Token: w.OwnerToken, Header: map[string]string{"Origin": appOrigin}}).
		Expect(t, http.StatusOK)
	noCORS(t, r.Header)
	if slices.Contains(list(r.Header, "Vary"), "origin") {
		t.Errorf("Vary: Origin without CORS")
	}
	r = e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/v1/me", Header: map[string]string{"Origin": appOrigin}}).
		ExpectProblem(t, http.StatusUnauthorized, "unauthenticated")
	noCORS(t, r.Header)
}
