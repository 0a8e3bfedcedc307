package api_test

import (
	"strings"
	"testing"

	"github.com/switchboard/switchboard/api/apitest"
)

// TestMalformedRequests feeds broken input to every route and expects a 4xx problem with a
// stable code, never a 500.
func TestMalformedRequests(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	contact := e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Ana"})
	owner := w.OwnerToken
	huge := `{"first_name":"` + strings.Repeat("x", 70*1024) + `"}`

	cases := []struct {
		name   string
		method string
		path   string
		token  string
		body   any
		header map[string]string
		status int
		code   string
	}{
		// Bodies that are not JSON objects of the right shape.
		{"login: not JSON", "POST", "/v1/auth/login", "", "{email:", nil, 400, "invalid_json"},
		{"login: empty body", "POST", "/v1/auth/login", "", "", nil, 400, "invalid_json"},
		{"login: array", "POST", "/v1/auth/login", "", `[]`, nil, 400, "invalid_type"},
		{"login: number email", "POST", "/v1/auth/login", "", `{"email": 5, "password": "x"}`, nil, 400, "invalid_type"},
		{"login: unknown field", "POST", "/v1/auth/login", "", `{"email": "a@b.co", "password": "x", "admin": true}`, nil, 400, "unknown_field"},
		{"login: two objects", "POST", "/v1/auth/login", "", `{"email":"a@b.co","password":"x"}{}`, nil, 400, "invalid_json"},
		{"login: text/plain", "POST", "/v1/auth/login", "", `{"email":"a@b.co","password":"x"}`, map[string]string{"Content-Type": "text/plain"}, 400, "unsupported_media_type"},
		{"login: null body", "POST", "/v1/auth/login", "", `null`, nil, 422, "validation_failed"},
		{"refresh: garbage token", "POST", "/v1/auth/refresh", "", `{"refresh_token": "sbr_!!!"}`, nil, 401, "invalid_token"},
		{"refresh: foreign prefix", "POST", "/v1/auth/refresh", "", `{"refresh_token": "abc"}`, nil, 401, "invalid_token"},
		{"refresh: wrong type", "POST", "/v1/auth/refresh", "", `{"refresh_token": ["a"]}`, nil, 400, "invalid_type"},
		{"logout: no token", "POST", "/v1/auth/logout", "", nil, nil, 401, "unauthenticated"},
		{"me: bad bearer", "GET", "/v1/me", "xyz", nil, nil, 401, "invalid_token"},

		{"contacts: body too large", "POST", "/v1/contacts", owner, huge, nil, 413, "body_too_large"},
		{"contacts: truncated JSON", "POST", "/v1/contacts", owner, `{"first_name": "A`, nil, 400, "invalid_json"},
		{"contacts: tags not a list", "POST", "/v1/contacts", owner, `{"tags": "vip"}`, nil, 400, "invalid_type"},
		{"contacts: tags of numbers", "POST", "/v1/contacts", owner, `{"tags": [1, 2]}`, nil, 400, "invalid_type"},
		{"contacts: custom_fields not an object", "POST", "/v1/contacts", owner, `{"custom_fields": [1]}`, nil, 400, "invalid_type"},
		{"contacts: unknown field", "POST", "/v1/contacts", owner, `{"nickname": "A"}`, nil, 400, "unknown_field"},
		{"contacts: bad email", "POST", "/v1/contacts", owner, `{"email": "not-an-email"}`, nil, 422, "validation_failed"},
		{"contacts: bad phone", "POST", "/v1/contacts", owner, `{"phone": "+1 2"}`, nil, 422, "validation_failed"},
		{"contacts: control characters in phone", "POST", "/v1/contacts", owner, `{"phone": "\u0001\u0002"}`, nil, 422, "validation_failed"},
		{"contacts: NUL in phone", "POST", "/v1/contacts", owner, `{"phone": "\u0000\u0001"}`, nil, 422, "invalid_character"},
		{"contacts: limit zero", "GET", "/v1/contacts?limit=0", owner, nil, nil, 400, "invalid_parameter"},
		{"contacts: limit too big", "GET", "/v1/contacts?limit=101", owner, nil, nil, 400, "invalid_parameter"},
		{"contacts: limit not a number", "GET", "/v1/contacts?limit=ten", owner, nil, nil, 400, "invalid_parameter"},
		{"contacts: broken query string", "GET", "/v1/contacts?cursor=%%%", owner, nil, nil, 400, "invalid_query"},
		{"contacts: cursor not base64", "GET", "/v1/contacts?cursor=***", owner, nil, nil, 400, "invalid_cursor"},
		{"contacts: cursor of wrong shape", "GET", "/v1/contacts?cursor=eyJ4IjoxfQ", owner, nil, nil, 400, "invalid_cursor"},
		{"contacts: overlong cursor", "GET", "/v1/contacts?cursor=" + strings.Repeat("A", 600), owner, nil, nil, 400, "invalid_cursor"},
		{"contacts: overlong q", "GET", "/v1/contacts?q=" + strings.Repeat("a", 201), owner, nil, nil, 422, "validation_failed"},
		{"contacts: id not a uuid", "GET", "/v1/contacts/not-an-id", owner, nil, nil, 404, "contact_not_found"},
		{"contacts: unknown id", "GET", "/v1/contacts/0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50", owner, nil, nil, 404, "contact_not_found"},
		{"contacts: patch bad id", "PATCH", "/v1/contacts/42", owner, `{"first_name": "A"}`, nil, 404, "contact_not_found"},
		{"contacts: patch wrong type", "PATCH", "/v1/contacts/" + contact, owner, `{"first_name": 7}`, nil, 400, "invalid_type"},
		{"contacts: patch without body", "PATCH", "/v1/contacts/" + contact, owner, nil, nil, 400, "invalid_json"},
		{"contacts: delete bad id", "DELETE", "/v1/contacts/%20", owner, nil, nil, 404, "contact_not_found"},
		{"contacts: no credentials", "GET", "/v1/contacts", "", nil, nil, 401, "unauthenticated"},

		{"users: bad role", "POST", "/v1/users", owner, `{"email": "x@example.com", "password": "long enough pass", "role": "god"}`, nil, 422, "validation_failed"},
		{"users: short password", "POST", "/v1/users", owner, `{"email": "x@example.com", "password": "short", "role": "agent"}`, nil, 422, "validation_failed"},
		{"users: role wrong type", "PATCH", "/v1/users/" + w.OwnerID, owner, `{"role": true}`, nil, 400, "invalid_type"},
		{"users: unknown id", "PATCH", "/v1/users/0193a5b0-7c1e-7d2a-9f00-6b1c2d3e4f50", owner, `{"name": "x"}`, nil, 404, "user_not_found"},
		{"users: bad cursor", "GET", "/v1/users?cursor=zzz", owner, nil, nil, 400, "invalid_cursor"},
		{"users: delete bad id", "DELETE", "/v1/users/abc", owner, nil, nil, 404, "user_not_found"},

		{"api-keys: unknown scope", "POST", "/v1/api-keys", owner, `{"name": "k", "scopes": ["root"]}`, nil, 422, "validation_failed"},
		{"api-keys: scopes not a list", "POST", "/v1/api-keys", owner, `{"name": "k", "scopes": "admin"}`, nil, 400, "invalid_type"},
		{"api-keys: missing name", "POST", "/v1/api-keys", owner, `{}`, nil, 422, "validation_failed"},
		{"api-keys: delete bad id", "DELETE", "/v1/api-keys/xyz", owner, nil, nil, 404, "api_key_not_found"},
		{"api-keys: bad limit", "GET", "/v1/api-keys?limit=-1", owner, nil, nil, 400, "invalid_parameter"},

		{"workspace: settings wrong type", "PATCH", "/v1/workspace", owner, `{"settings": {"unassign_on_close": "yes"}}`, nil, 400, "invalid_type"},
		{"workspace: unknown setting", "PATCH", "/v1/workspace", owner, `{"settings": {"dark_mode": true}}`, nil, 400, "unknown_field"},
		{"workspace: bad region", "PATCH", "/v1/workspace", owner, `{"settings": {"default_phone_region": "ZZ"}}`, nil, 422, "validation_failed"},
		{"workspace: categories of objects", "PATCH", "/v1/workspace", owner, `{"settings": {"closing_note_categories": [{}]}}`, nil, 400, "invalid_type"},

		{"routing: unknown route", "GET", "/v1/contactz", owner, nil, nil, 404, "route_not_found"},
		{"routing: wrong method", "PUT", "/v1/contacts/" + contact, owner, `{}`, nil, 405, "method_not_allowed"},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Do(t, apitest.Request{Method: tc.method, Path: tc.path, Token: tc.token, Body: tc.body, Header: tc.header})
			r.ExpectProblem(t, tc.status, tc.code)
			p := r.Map(t)
			if p["status"] != float64(tc.status) || p["title"] == "" || p["detail"] == "" || p["type"] != "urn:switchboard:problem:"+tc.code {
				t.Errorf("incomplete problem: %s", r.Body)
			}
		})
	}
}
