package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/switchboard/switchboard/migrations"
)

func provider(db *sql.DB) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

func report(out io.Writer, verb string, res []*goose.MigrationResult) {
	if out == nil {
		return
	}
	for _, r := range res {
		if r.Error == nil {
			fmt.Fprintf(out, "migrations: %s %s (%s)\n", verb, r.Source.Path, r.Duration.Round(time.Millisecond))
		}
	}
}

// MigrateUp applies every pending migration.
func MigrateUp(ctx context.Context, db *sql.DB, out io.Writer) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	res, err := p.Up(ctx)
	report(out, "applied", res)
	if err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	if out != nil && len(res) == 0 {
		fmt.Fprintln(out, "migrations: up to date")
	}
	return nil
}

// MigrateDown rolls back the newest applied migration.
func MigrateDown(ctx context.Context, db *sql.DB, out io.Writer) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	res, err := p.Down(ctx)
	if res != nil {
		report(out, "rolled back", []*goose.MigrationResult{res})
	}
	if err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// MigrationStatus describes one migration.
type MigrationStatus struct {
	Version int64  `json:"version"`
	Source  string `json:"source"`
	Applied bool   `json:"applied"`
	At      string `json:"applied_at,omitempty"`
}

// MigrateStatus lists every migration and whether it is applied.
func MigrateStatus(ctx context.Context, db *sql.DB) ([]MigrationStatus, error) {
	p, err := provider(db)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(st))
	for _, s := range st {
		m := MigrationStatus{Version: s.Source.Version, Source: s.Source.Path, Applied: s.State == goose.StateApplied}
		if m.Applied {
			m.At = s.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		out = append(out, m)
	}
	return out, nil
}
