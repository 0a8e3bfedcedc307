package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/store/storetest"
)

func TestSeed(t *testing.T) {
	// seed builds the services, which open the media store: a temporary one, not the default
	// under the working directory (this package's source).
	env := map[string]string{"DATABASE_URL": storetest.URL(t), "MEDIA_STORE": "file://" + t.TempDir()}
	out, _, err := runCLI(t, env, "bootstrap", "--workspace", "Demo", "--email", "owner@example.com", "--password", "a long passphrase")
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	var ws struct {
		WorkspaceID string `json:"workspace_id"`
	}
	if err := json.Unmarshal([]byte(out), &ws); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name          string
		args          []string
		contacts      int // in the workspace afterwards
		messages      int
		agents        int
		fails         string
		wantsProgress bool
	}{
		{"no workspace", []string{"seed", "--contacts", "10"}, 0, 0, 0, "--workspace", false},
		{"unknown workspace", []string{"seed", "--workspace", "01a22679-f129-7758-b7c0-a7a54fa4c298"}, 0, 0, 0, "workspace_not_found", false},
		{"negative size", []string{"seed", "--workspace", ws.WorkspaceID, "--contacts", "-1"}, 0, 0, 0, "--contacts", false},
		{"first run", []string{"seed", "--workspace", ws.WorkspaceID, "--contacts", "7003", "--messages-per-contact", "3", "--agents", "3", "--seed", "9"}, 7003, 21009, 3, "", true},
		{"second run adds to it", []string{"seed", "--workspace", ws.WorkspaceID, "--contacts", "500", "--messages-per-contact", "0", "--agents", "0"}, 7503, 21009, 3, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := runCLI(t, env, tc.args...)
			if tc.fails != "" {
				if err == nil || !strings.Contains(err.Error()+errOut, tc.fails) {
					t.Fatalf("err %v (stderr %q), want mention of %s", err, errOut, tc.fails)
				}
				return
			}
			if err != nil {
				t.Fatalf("seed: %v\n%s", err, errOut)
			}
			if tc.wantsProgress && !strings.Contains(errOut, "contacts,") {
				t.Errorf("no progress output: %q", errOut)
			}
			var res struct {
				Contacts int `json:"contacts"`
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil || res.Contacts == 0 {
				t.Fatalf("output %q: %v", out, err)
			}
			conn, err := pgx.Connect(context.Background(), env["DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			var contacts, convs, msgs, agents, channels, orphans int
			err = conn.QueryRow(context.Background(), `SELECT
				(SELECT count(*) FROM contacts), (SELECT count(*) FROM conversations), (SELECT count(*) FROM messages),
				(SELECT count(*) FROM users WHERE role = 'agent'), (SELECT count(*) FROM channels),
				(SELECT count(*) FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM contact_identities i WHERE i.contact_id = c.id))`).
				Scan(&contacts, &convs, &msgs, &agents, &channels, &orphans)
			if err != nil {
				t.Fatal(err)
			}
			if contacts != tc.contacts || convs != tc.contacts || msgs != tc.messages || agents != tc.agents || channels != 11 || orphans != 0 {
				t.Fatalf("contacts %d, conversations %d, messages %d, agents %d, channels %d, contacts without identity %d",
					contacts, convs, msgs, agents, channels, orphans)
			}
		})
	}
}
