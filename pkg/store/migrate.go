package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"

	"github.com/pressly/goose/v3"

	"github.com/switchboard/switchboard/migrations"
)

func provider(db *sql.DB, out io.Writer) (*goose.Provider, error) {
	opts := []goose.ProviderOption{}
	if out != nil {
		opts = append(opts, goose.WithLogger(log.New(out, "", 0)), goose.WithVerbose(true))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, opts...)
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// MigrateUp applies every pending migration.
func MigrateUp(ctx context.Context, db *sql.DB, out io.Writer) error {
	p, err := provider(db, out)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// MigrateDown rolls back the newest applied migration.
func MigrateDown(ctx context.Context, db *sql.DB, out io.Writer) error {
	p, err := provider(db, out)
	if err != nil {
		return err
	}
	if _, err := p.Down(ctx); err != nil {
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
	p, err := provider(db, nil)
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
