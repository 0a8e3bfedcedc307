package store

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"

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

// riverMigrator migrates River's own tables (river_job and friends): the delivery queue.
func riverMigrator(db *sql.DB) (*rivermigrate.Migrator[*sql.Tx], error) {
	m, err := rivermigrate.New(riverdatabasesql.New(db), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("load river migrations: %w", err)
	}
	return m, nil
}

// MigrateUp applies every pending migration: Switchboard's, then River's (the job queue).
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
	rm, err := riverMigrator(db)
	if err != nil {
		return err
	}
	rres, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("migrate river up: %w", err)
	}
	reportRiver(out, "applied", rres)
	if out != nil && len(res) == 0 && len(rres.Versions) == 0 {
		fmt.Fprintln(out, "migrations: up to date")
	}
	return nil
}

func reportRiver(out io.Writer, verb string, res *rivermigrate.MigrateResult) {
	if out == nil || res == nil {
		return
	}
	for _, v := range res.Versions {
		fmt.Fprintf(out, "migrations: %s river %03d_%s (%s)\n", verb, v.Version, v.Name, v.Duration.Round(time.Millisecond))
	}
}

// MigrateDown rolls back the newest applied Switchboard migration. River's tables hold the
// delivery queue, so they are removed only once every Switchboard migration is rolled back:
// a down with none of ours left applied removes River's schema entirely.
func MigrateDown(ctx context.Context, db *sql.DB, out io.Writer) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	version, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	if version == 0 {
		rm, err := riverMigrator(db)
		if err != nil {
			return err
		}
		rres, err := rm.Migrate(ctx, rivermigrate.DirectionDown, &rivermigrate.MigrateOpts{TargetVersion: -1})
		if err != nil {
			return fmt.Errorf("migrate river down: %w", err)
		}
		reportRiver(out, "rolled back", rres)
		return nil
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

// MigrationStatus describes one migration. River's migrations follow Switchboard's, with
// sources "river/NNN_name".
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
	rm, err := riverMigrator(db)
	if err != nil {
		return nil, err
	}
	// Before River's first migration its version table does not exist: nothing is applied.
	existing, err := rm.ExistingVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate status: river: %w", err)
	}
	applied := map[int]bool{}
	for _, v := range existing {
		applied[v.Version] = true
	}
	for _, v := range rm.AllVersions() {
		m := MigrationStatus{Version: int64(v.Version), Source: fmt.Sprintf("river/%03d_%s", v.Version, v.Name)}
		m.Applied = applied[v.Version]
		out = append(out, m)
	}
	return out, nil
}

// RiverSchemaVersion is the newest River migration MigrateUp applies; test templates are
// rebuilt when it changes.
func RiverSchemaVersion() int {
	rm, err := riverMigrator(nil)
	if err != nil {
		return 0
	}
	all := rm.AllVersions()
	if len(all) == 0 {
		return 0
	}
	return all[len(all)-1].Version
}
