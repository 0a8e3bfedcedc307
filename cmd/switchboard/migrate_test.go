package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/pkg/store/storetest"
)

type migrationRow struct {
	Version int64  `json:"version"`
	Source  string `json:"source"`
	Applied bool   `json:"applied"`
}

func migrationStatus(t *testing.T, env map[string]string) (ours, river []migrationRow) {
	t.Helper()
	out, _, err := runCLI(t, env, "migrate", "status")
	if err != nil {
		t.Fatal(err)
	}
	var rows []migrationRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("migrate status: %s (%v)", out, err)
	}
	for _, r := range rows {
		if strings.HasPrefix(r.Source, "river/") {
			river = append(river, r)
		} else {
			ours = append(ours, r)
		}
	}
	return ours, river
}

func applied(rows []migrationRow) int {
	n := 0
	for _, r := range rows {
		if r.Applied {
			n++
		}
	}
	return n
}

// TestMigrateIncludesRiver: up creates River's queue tables with ours, status lists them, and
// down removes them only after every one of ours is rolled back.
func TestMigrateIncludesRiver(t *testing.T) {
	env := map[string]string{"DATABASE_URL": storetest.URL(t)}
	ours, river := migrationStatus(t, env)
	if len(river) == 0 || applied(river) != len(river) || applied(ours) != len(ours) {
		t.Fatalf("after up: ours %d/%d applied, river %d/%d", applied(ours), len(ours), applied(river), len(river))
	}
	for range ours {
		if _, _, err := runCLI(t, env, "migrate", "down"); err != nil {
			t.Fatalf("migrate down: %v", err)
		}
	}
	ours, river = migrationStatus(t, env)
	if applied(ours) != 0 || applied(river) != len(river) {
		t.Fatalf("after rolling back ours: ours %d applied, river %d/%d (the queue must stay)", applied(ours), applied(river), len(river))
	}
	if _, _, err := runCLI(t, env, "migrate", "down"); err != nil {
		t.Fatalf("migrate down (river): %v", err)
	}
	if _, river = migrationStatus(t, env); applied(river) != 0 {
		t.Fatalf("river migrations still applied: %d", applied(river))
	}
	if _, _, err := runCLI(t, env, "migrate", "up"); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	if ours, river = migrationStatus(t, env); applied(ours) != len(ours) || applied(river) != len(river) {
		t.Fatalf("after up again: ours %d/%d, river %d/%d", applied(ours), len(ours), applied(river), len(river))
	}
}
