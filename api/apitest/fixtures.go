package apitest

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/workspace"
)

// Password is every fixture user's password.
const Password = "correct horse battery staple"

// Workspace is a bootstrapped tenant: its owner (logged in) and an all-scope API key.
type Workspace struct {
	ID           string
	OwnerID      string
	OwnerEmail   string
	OwnerToken   string
	RefreshToken string
	APIKey       string
}

// NewWorkspace bootstraps a workspace as `switchboard bootstrap` does, then logs the owner in
// and creates an all-scope key over HTTP.
func (e *Env) NewWorkspace(t testing.TB, name string) *Workspace {
	t.Helper()
	email := fmt.Sprintf("owner-%s@example.com", uuid.NewString()[:8])
	ws, owner, err := e.Services.Workspaces.Bootstrap(context.Background(), name,
		workspace.NewUser{Email: email, Name: name + " Owner", Password: Password})
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	w := &Workspace{ID: ws.ID.String(), OwnerID: owner.ID.String(), OwnerEmail: email}
	w.OwnerToken, w.RefreshToken = e.Login(t, email, Password)
	var key struct {
		Key string `json:"key"`
	}
	e.Post(t, "/v1/api-keys", w.OwnerToken, map[string]any{"name": "all"}).Expect(t, http.StatusCreated).JSON(t, &key)
	w.APIKey = key.Key
	return w
}

// Login answers an access and a refresh token.
func (e *Env) Login(t testing.TB, email, password string) (access, refresh string) {
	t.Helper()
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	e.Post(t, "/v1/auth/login", "", map[string]string{"email": email, "password": password}).
		Expect(t, http.StatusOK).JSON(t, &tok)
	return tok.AccessToken, tok.RefreshToken
}

// User is a workspace member with an access token.
type User struct {
	ID    string
	Email string
	Name  string
	Token string
}

// NewUser creates a member of the role through the API and logs them in.
func (e *Env) NewUser(t testing.TB, w *Workspace, role string) *User {
	t.Helper()
	u := &User{Email: fmt.Sprintf("%s-%s@example.com", role, uuid.NewString()[:8]), Name: "Test " + role}
	var out struct {
		ID string `json:"id"`
	}
	e.Post(t, "/v1/users", w.OwnerToken, map[string]string{"email": u.Email, "name": u.Name, "password": Password, "role": role}).
		Expect(t, http.StatusCreated).JSON(t, &out)
	u.ID = out.ID
	u.Token, _ = e.Login(t, u.Email, Password)
	return u
}

// NewKey creates an API key with the scopes (nil: the owner's, i.e. all).
func (e *Env) NewKey(t testing.TB, w *Workspace, scopes ...string) string {
	t.Helper()
	body := map[string]any{"name": "test key"}
	if scopes != nil {
		body["scopes"] = scopes
	}
	var key struct {
		Key string `json:"key"`
	}
	e.Post(t, "/v1/api-keys", w.OwnerToken, body).Expect(t, http.StatusCreated).JSON(t, &key)
	return key.Key
}

// NewContact creates a contact and returns its id.
func (e *Env) NewContact(t testing.TB, token string, fields map[string]any) string {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	e.Post(t, "/v1/contacts", token, fields).Expect(t, http.StatusCreated).JSON(t, &out)
	return out.ID
}
