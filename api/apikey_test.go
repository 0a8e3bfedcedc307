package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

func TestAPIKeyScopes(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	readOnly := e.NewKey(t, w, "contacts:read")
	if !strings.HasPrefix(readOnly, "sbk_") {
		t.Fatalf("key %q lacks the sbk_ prefix", readOnly)
	}
	e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Ana"})

	list := e.Get(t, "/v1/contacts", readOnly).Expect(t, http.StatusOK).Map(t)
	if n := len(list["data"].([]any)); n != 1 {
		t.Fatalf("read-only key sees %d contacts, want 1", n)
	}
	e.Post(t, "/v1/contacts", readOnly, map[string]any{"first_name": "Bo"}).ExpectProblem(t, http.StatusForbidden, "forbidden")
	e.Get(t, "/v1/api-keys", readOnly).ExpectProblem(t, http.StatusForbidden, "forbidden")
	e.Patch(t, "/v1/workspace", readOnly, map[string]any{"name": "x"}).ExpectProblem(t, http.StatusForbidden, "forbidden")

	me := e.Get(t, "/v1/me", readOnly).Expect(t, http.StatusOK).Map(t)
	if me["kind"] != "api_key" || me["user"] != nil || me["api_key_id"] == nil {
		t.Fatalf("me for a key: %v", me)
	}
}

func TestAPIKeyLifecycle(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")

	var created struct {
		ID         string     `json:"id"`
		Key        string     `json:"key"`
		Prefix     string     `json:"prefix"`
		Scopes     []string   `json:"scopes"`
		LastUsedAt *time.Time `json:"last_used_at"`
	}
	e.Post(t, "/v1/api-keys", w.OwnerToken, map[string]any{"name": "crm", "scopes": []string{"messages:send", "contacts:read", "contacts:read"}}).
		Expect(t, http.StatusCreated).JSON(t, &created)
	if strings.Join(created.Scopes, ",") != "contacts:read,messages:send" || !strings.HasPrefix(created.Key, created.Prefix) || created.LastUsedAt != nil {
		t.Fatalf("created key: %+v", created)
	}

	e.Get(t, "/v1/me", created.Key).Expect(t, http.StatusOK)
	list := e.Get(t, "/v1/api-keys", w.OwnerToken).Expect(t, http.StatusOK)
	if strings.Contains(string(list.Body), created.Key) {
		t.Fatal("the key's secret is listed")
	}
	var keys struct {
		Data []struct {
			ID         string     `json:"id"`
			LastUsedAt *time.Time `json:"last_used_at"`
		} `json:"data"`
	}
	list.JSON(t, &keys)
	found := false
	for _, k := range keys.Data {
		if k.ID == created.ID {
			found = true
			if k.LastUsedAt == nil {
				t.Error("last_used_at not recorded after use")
			}
		}
	}
	if !found {
		t.Fatalf("key %s not listed: %s", created.ID, list.Body)
	}

	e.Delete(t, "/v1/api-keys/"+created.ID, w.OwnerToken).Expect(t, http.StatusNoContent)
	e.Get(t, "/v1/me", created.Key).ExpectProblem(t, http.StatusUnauthorized, "invalid_token")
	e.Delete(t, "/v1/api-keys/"+created.ID, w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "api_key_not_found")
}

func TestAPIKeyCreationLimits(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	agent := e.NewUser(t, w, "agent")
	manager := e.NewUser(t, w, "manager")
	narrow := e.NewKey(t, w, "contacts:read", "admin")

	// Agents do not manage keys.
	e.Post(t, "/v1/api-keys", agent.Token, map[string]any{"name": "mine"}).ExpectProblem(t, http.StatusForbidden, "forbidden")
	// Managers do, with any scope.
	e.Post(t, "/v1/api-keys", manager.Token, map[string]any{"name": "ops", "scopes": []string{"messages:send"}}).Expect(t, http.StatusCreated)
	// An admin key implies every scope, so its keys may hold any.
	e.Post(t, "/v1/api-keys", narrow, map[string]any{"name": "child", "scopes": []string{"contacts:write"}}).Expect(t, http.StatusCreated)
	// Bad scopes and names are validation errors naming the field.
	r := e.Post(t, "/v1/api-keys", w.OwnerToken, map[string]any{"name": "x", "scopes": []string{"everything"}}).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
	if !strings.Contains(string(r.Body), `"field":"scopes[0]"`) {
		t.Errorf("problem does not name scopes[0]: %s", r.Body)
	}
	e.Post(t, "/v1/api-keys", w.OwnerToken, map[string]any{"name": "", "scopes": []string{}}).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
}
