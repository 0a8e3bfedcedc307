// Package storetest gives each test a fresh, migrated PostgreSQL database on the server that
// `make test` started, and drops it when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/migrations"
	"github.com/switchboard/switchboard/pkg/job"
	"github.com/switchboard/switchboard/pkg/store"
)

// EnvURL names the variable holding an admin URL of the test server (any database on it).
const EnvURL = "TEST_DATABASE_URL"

// lockKey serialises template creation across the test binaries that run in parallel.
const lockKey = 0x5b_7e_57

// New creates a fresh database from a migrated template, opens a store on it with the given
// clock and a job queue, and registers cleanup. Without a server it fails and says how to
// start one.
func New(t testing.TB, now func() time.Time) *store.Store {
	t.Helper()
	dbURL := URL(t)
	q, err := job.NewQueue(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("job queue: %v", err)
	}
	st, err := store.Open(context.Background(), dbURL, 8, q, now)
	if err != nil {
		t.Fatalf("open test store: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// URL creates a fresh migrated database and returns its URL; it is dropped after the test.
func URL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvURL)
	if admin == "" {
		t.Fatalf("%s is unset: run `make test`, or start PostgreSQL with `.ci/postgres start` and "+
			"export %s=$(.ci/postgres url postgres)", EnvURL, EnvURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to test server (%s): %v", EnvURL, err)
	}
	defer conn.Close(ctx)

	tpl, err := template(ctx, conn, admin)
	if err != nil {
		t.Fatalf("prepare template database: %v", err)
	}
	name := "sbtest_" + randomHex(8)
	// CREATE DATABASE ... TEMPLATE fails while another session copies the same template, so
	// copies are serialised with the same lock.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		t.Fatalf("lock: %v", err)
	}
	_, err = conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tpl))
	_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, lockKey)
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return withDatabase(admin, name)
}

// template returns the name of a database migrated to the current migrations (River's queue
// tables included), creating it once per set of migration files.
func template(ctx context.Context, conn *pgx.Conn, admin string) (string, error) {
	name := "sbtpl_" + migrationsHash()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return "", err
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, lockKey) //nolint:errcheck
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	if _, err := conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building)); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s`, building)); err != nil {
		return "", err
	}
	q, err := job.NewQueue(slog.New(slog.DiscardHandler))
	if err != nil {
		return "", err
	}
	st, err := store.Open(ctx, withDatabase(admin, building), 2, q, time.Now)
	if err != nil {
		return "", err
	}
	err = store.MigrateUp(ctx, st.SQL, nil)
	st.Close()
	if err != nil {
		return "", err
	}
	// Publishing by rename means nobody ever copies a half-migrated template.
	if _, err := conn.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name)); err != nil {
		return "", err
	}
	return name, nil
}

func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	fmt.Fprintf(h, "river:%d", store.RiverSchemaVersion())
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + strings.TrimPrefix(name, "/")
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
