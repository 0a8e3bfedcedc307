package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/store/storetest"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestBootstrap(t *testing.T) {
	env := map[string]string{"DATABASE_URL": storetest.URL(t)}

	out, _, err := runCLI(t, env, "bootstrap", "--workspace", "Acme", "--email", "Owner@Example.com", "--password", "a long passphrase")
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("bootstrap printed %q: %v", out, err)
	}
	if got["workspace_id"] == "" || got["user_id"] == "" || !strings.HasPrefix(got["api_key"], "sbk_") || len(got) != 3 {
		t.Fatalf("bootstrap output: %v", got)
	}

	// The same email again is a clear error and creates no second workspace.
	out, _, err = runCLI(t, env, "bootstrap", "--workspace", "Other", "--email", "owner@example.com", "--password", "a long passphrase")
	if err == nil || !strings.Contains(err.Error(), "email_taken") || out != "" {
		t.Fatalf("duplicate email: out %q, err %v", out, err)
	}
	conn, err := pgx.Connect(context.Background(), env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var workspaces, users, keys int
	if err := conn.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM workspaces), (SELECT count(*) FROM users), (SELECT count(*) FROM api_keys)`).Scan(&workspaces, &users, &keys); err != nil {
		t.Fatal(err)
	}
	if workspaces != 1 || users != 1 || keys != 1 {
		t.Fatalf("after the refused bootstrap: %d workspaces, %d users, %d keys; want 1 each", workspaces, users, keys)
	}
	// Members' emails are unique per workspace only, but bootstrap still refuses an email that
	// any workspace has as a member: a new workspace's owner is a new login.
	if _, err := conn.Exec(context.Background(), `INSERT INTO users (workspace_id, id, email, role, password_hash)
VALUES ($1, gen_random_uuid(), 'member@example.com', 'agent', 'x')`, got["workspace_id"]); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCLI(t, env, "bootstrap", "--workspace", "Other", "--email", "Member@example.com", "--password", "a long passphrase")
	if err == nil || !strings.Contains(err.Error(), "email_taken") || out != "" {
		t.Fatalf("a member's email: out %q, err %v", out, err)
	}
	// A fresh email makes a second workspace.
	if _, _, err := runCLI(t, env, "bootstrap", "--workspace", "Other", "--email", "other@example.com", "--password", "a long passphrase"); err != nil {
		t.Fatalf("second workspace: %v", err)
	}
	_, _, err = runCLI(t, env, "bootstrap", "--workspace", "Acme", "--email", "x@example.com", "--password", "short")
	if err == nil || !strings.Contains(err.Error(), "password") {
		t.Fatalf("short password: %v", err)
	}
	if _, _, err := runCLI(t, env, "bootstrap", "--workspace", "Acme"); err == nil {
		t.Fatal("bootstrap without --email and --password succeeded")
	}
}

func TestMigrateStatusAndVersion(t *testing.T) {
	env := map[string]string{"DATABASE_URL": storetest.URL(t)}
	out, _, err := runCLI(t, env, "migrate", "status")
	if err != nil {
		t.Fatal(err)
	}
	var st []struct {
		Version int64 `json:"version"`
		Applied bool  `json:"applied"`
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || len(st) == 0 || !st[0].Applied || st[0].Version != 1 {
		t.Fatalf("migrate status: %s (%v)", out, err)
	}
	// Down then up again round-trips the newest migration.
	if _, _, err := runCLI(t, env, "migrate", "down"); err != nil {
		t.Fatalf("migrate down: %v", err)
	}
	if _, _, err := runCLI(t, env, "migrate", "up"); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	if _, _, err := runCLI(t, env, "migrate", "sideways"); err == nil {
		t.Fatal("unknown migrate command accepted")
	}

	out, _, err = runCLI(t, nil, "version")
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("version: %q %v", out, err)
	}
	out, _, err = runCLI(t, nil, "--help")
	if err != nil || !strings.Contains(out, "DATABASE_URL") || !strings.Contains(out, "bootstrap") {
		t.Fatalf("help: %q %v", out, err)
	}
	if _, _, err := runCLI(t, nil, "frobnicate"); err == nil {
		t.Fatal("unknown command accepted")
	}
	// serve refuses to start without a JWT secret, naming the variable.
	_, _, err = runCLI(t, map[string]string{"DATABASE_URL": "postgres://x"}, "serve")
	if err == nil || !strings.Contains(err.Error(), "JWT_SECRET") {
		t.Fatalf("serve without JWT_SECRET: %v", err)
	}
}
