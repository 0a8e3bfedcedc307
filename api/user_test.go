package api_test

import (
	"net/http"
	"testing"

	"github.com/switchboard/switchboard/api/apitest"
)

func TestUserManagement(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	manager := e.NewUser(t, w, "manager")
	agent := e.NewUser(t, w, "agent")

	// Agents work conversations but do not manage members.
	e.Post(t, "/v1/users", agent.Token, map[string]any{"email": "x@example.com", "password": apitest.Password, "role": "agent"}).
		ExpectProblem(t, http.StatusForbidden, "forbidden")
	e.Patch(t, "/v1/users/"+agent.ID, agent.Token, map[string]any{"role": "manager"}).ExpectProblem(t, http.StatusForbidden, "forbidden")
	e.Get(t, "/v1/users", agent.Token).Expect(t, http.StatusOK)

	// Managers manage agents and managers, never owners.
	e.Post(t, "/v1/users", manager.Token, map[string]any{"email": "new@example.com", "password": apitest.Password, "role": "owner"}).
		ExpectProblem(t, http.StatusForbidden, "owner_only")
	e.Patch(t, "/v1/users/"+w.OwnerID, manager.Token, map[string]any{"role": "agent"}).ExpectProblem(t, http.StatusForbidden, "owner_only")
	e.Delete(t, "/v1/users/"+w.OwnerID, manager.Token).ExpectProblem(t, http.StatusForbidden, "owner_only")
	promoted := e.Patch(t, "/v1/users/"+agent.ID, manager.Token, map[string]any{"role": "manager", "name": "  Lead  "}).Expect(t, http.StatusOK).Map(t)
	if promoted["role"] != "manager" || promoted["name"] != "Lead" {
		t.Fatalf("promoted: %v", promoted)
	}

	// Duplicate emails and short passwords.
	e.Post(t, "/v1/users", w.OwnerToken, map[string]any{"email": upper(manager.Email), "password": apitest.Password, "role": "agent"}).
		ExpectProblem(t, http.StatusConflict, "email_taken")
	r := e.Post(t, "/v1/users", w.OwnerToken, map[string]any{"email": "short@example.com", "password": "short", "role": "boss"}).
		ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	fields := problemFields(t, r)
	if !fields["password"] || !fields["role"] {
		t.Errorf("fields %v should name password and role", fields)
	}

	// A password change takes effect for login.
	e.Patch(t, "/v1/users/"+manager.ID, w.OwnerToken, map[string]any{"password": "a brand new passphrase"}).Expect(t, http.StatusOK)
	e.Login(t, manager.Email, "a brand new passphrase")

	// Deleting a member ends their sessions.
	e.Delete(t, "/v1/users/"+agent.ID, w.OwnerToken).Expect(t, http.StatusNoContent)
	e.Get(t, "/v1/me", agent.Token).ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
	e.Delete(t, "/v1/users/"+agent.ID, w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "user_not_found")
}

func TestLastOwnerIsKept(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")

	e.Patch(t, "/v1/users/"+w.OwnerID, w.OwnerToken, map[string]any{"role": "manager"}).ExpectProblem(t, http.StatusConflict, "last_owner")
	e.Delete(t, "/v1/users/"+w.OwnerID, w.OwnerToken).ExpectProblem(t, http.StatusConflict, "last_owner")

	// With a second owner the first may step down; then the second is the last.
	second := e.NewUser(t, w, "owner")
	e.Patch(t, "/v1/users/"+w.OwnerID, w.OwnerToken, map[string]any{"role": "agent"}).Expect(t, http.StatusOK)
	e.Delete(t, "/v1/users/"+second.ID, second.Token).ExpectProblem(t, http.StatusConflict, "last_owner")
	users := e.Get(t, "/v1/users?limit=1", second.Token).Expect(t, http.StatusOK).Map(t)
	if users["next_cursor"] == nil {
		t.Fatalf("two users with limit=1 should give a next page: %v", users)
	}
	next := e.Get(t, "/v1/users?limit=1&cursor="+users["next_cursor"].(string), second.Token).Expect(t, http.StatusOK).Map(t)
	a := users["data"].([]any)[0].(map[string]any)["id"]
	b := next["data"].([]any)[0].(map[string]any)["id"]
	if a == b {
		t.Fatalf("pages repeat user %v", a)
	}
}

func TestWorkspaceSettings(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agent := e.NewUser(t, w, "agent")

	got := e.Get(t, "/v1/workspace", agent.Token).Expect(t, http.StatusOK).Map(t)
	s := got["settings"].(map[string]any)
	if got["id"] != w.ID || s["default_phone_region"] != "US" || s["unassign_on_close"] != false || len(s["closing_note_categories"].([]any)) != 0 {
		t.Fatalf("defaults: %v", got)
	}
	e.Patch(t, "/v1/workspace", agent.Token, map[string]any{"name": "Mine"}).ExpectProblem(t, http.StatusForbidden, "forbidden")

	upd := e.Patch(t, "/v1/workspace", w.OwnerToken, map[string]any{"name": "Acme EU", "settings": map[string]any{
		"unassign_on_close": true, "closing_note_required": true, "closing_note_categories": []string{"resolved", " spam "}, "default_phone_region": "gb",
	}}).Expect(t, http.StatusOK).Map(t)
	s = upd["settings"].(map[string]any)
	if upd["name"] != "Acme EU" || s["default_phone_region"] != "GB" || s["unassign_on_close"] != true || s["closing_note_categories"].([]any)[1] != "spam" {
		t.Fatalf("updated: %v", upd)
	}
	// A partial patch leaves the rest alone.
	upd = e.Patch(t, "/v1/workspace", w.OwnerToken, map[string]any{"settings": map[string]any{"unassign_on_close": false}}).Expect(t, http.StatusOK).Map(t)
	if upd["name"] != "Acme EU" || upd["settings"].(map[string]any)["closing_note_required"] != true {
		t.Fatalf("partial patch changed other fields: %v", upd)
	}

	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"unknown region", map[string]any{"settings": map[string]any{"default_phone_region": "XX"}}, "default_phone_region"},
		{"empty name", map[string]any{"name": " "}, "name"},
		{"duplicate category", map[string]any{"settings": map[string]any{"closing_note_categories": []string{"a", "a"}}}, "closing_note_categories[1]"},
		{"empty category", map[string]any{"settings": map[string]any{"closing_note_categories": []string{""}}}, "closing_note_categories[0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Patch(t, "/v1/workspace", w.OwnerToken, tc.body).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			if !problemFields(t, r)[tc.field] {
				t.Errorf("problem does not name %s: %s", tc.field, r.Body)
			}
		})
	}
}

// problemFields returns the set of fields a validation problem names.
func problemFields(t *testing.T, r *apitest.Response) map[string]bool {
	t.Helper()
	var p struct {
		Errors []struct {
			Field string `json:"field"`
		} `json:"errors"`
	}
	r.JSON(t, &p)
	out := map[string]bool{}
	for _, e := range p.Errors {
		out[e.Field] = true
	}
	return out
}
