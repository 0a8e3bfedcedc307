// Command bench measures Switchboard's API at scale against the database itself. It seeds a
// bench workspace once (reused while its size stays the same), starts `switchboard serve` on a
// loopback port, drives it with vegeta at fixed concurrency levels, replays each read
// scenario's SQL with pgbench at the same concurrency, and writes a Markdown table under
// bench/results/. `make bench` builds and runs it; bench/README.md explains the figures.
//
// Usage:
//
//	bench [run]   seed if needed, measure every scenario, write results and EXPLAIN plans
//	bench explain only write EXPLAIN (ANALYZE, BUFFERS) of every read scenario's SQL
//	bench broadcast  measure a broadcast's send rate against single sends, and the inbox's
//	              p99 during it (bench/broadcast_send.go)
//	bench cluster three serve and two worker processes behind HAProxy under a mixed load,
//	              against one process; then kill -9 of one of each, and the writes, deliveries
//	              and stream events lost or repeated (bench/cluster.go)
//	bench reset   drop the bench database and its state, so the next run seeds afresh
//
// Settings come from the environment (see loadConfig and bench/README.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	cmd := "run"
	if len(args) > 0 {
		cmd = args[0]
	}
	if cmd == "cluster" {
		getenv = clusterEnv(getenv)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	switch cmd {
	case "cluster":
		return measureCluster(ctx, cfg, getenv)
	case "reset":
		if err := dropDatabase(ctx, cfg.dbURL); err != nil {
			return err
		}
		return os.RemoveAll(cfg.stateDir)
	case "run", "explain", "broadcast":
	default:
		return fmt.Errorf("unknown command %q (want run, explain, broadcast, cluster or reset)", cmd)
	}

	e, err := prepare(ctx, cfg)
	if err != nil {
		return err
	}
	defer e.close()
	facts, err := gatherFacts(ctx, e)
	if err != nil {
		return err
	}
	if cmd == "broadcast" {
		return measureBroadcast(ctx, e, facts)
	}
	if err := e.settle(ctx); err != nil {
		return err
	}
	if cmd == "run" {
		ms, open, err := measure(ctx, e)
		if err != nil {
			return err
		}
		if err := writeResults(cfg, facts, len(e.fix.agents), ms, open); err != nil {
			return err
		}
	}
	return writeExplain(ctx, e, facts)
}

// config is the benchmark's settings.
type config struct {
	dbURL      string        // BENCH_DATABASE_URL: the bench database (created, and dropped on reseed)
	bin        string        // BENCH_BIN: the switchboard binary
	stateDir   string        // BENCH_STATE_DIR: the bench workspace's credentials and seed size
	resultsDir string        // BENCH_RESULTS: where the Markdown files go
	contacts   int           // BENCH_CONTACTS
	messages   int           // BENCH_MESSAGES_PER_CONTACT
	agents     int           // BENCH_AGENTS
	duration   time.Duration // BENCH_DURATION: per scenario and level
	warmup     time.Duration // BENCH_WARMUP: per scenario, before the first level
	levels     []int         // BENCH_LEVELS: concurrent clients
	openRates  []int         // BENCH_OPEN_RATES: req/s of the open-mix scenario, in the order run
	only       []string      // BENCH_SCENARIOS: scenario ids to run (all when empty)
	logLevel   string        // BENCH_LOG_LEVEL: the server's LOG_LEVEL (its default when empty)
	rateLimit  bool          // BENCH_RATE_LIMIT: the server's budgets on (never reached) or off
	serverEnv  []string      // more environment of the measured server (bench cluster's)
}

func loadConfig(getenv func(string) string) (config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var errs []error
	num := func(name, def string) int {
		n, err := strconv.Atoi(strings.ReplaceAll(get(name, def), "_", ""))
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s: want a positive integer", name))
		}
		return n
	}
	dur := func(name, def string) time.Duration {
		d, err := time.ParseDuration(get(name, def))
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s: want a duration such as 10s", name))
		}
		return d
	}
	c := config{
		dbURL:      get("BENCH_DATABASE_URL", ""),
		bin:        get("BENCH_BIN", "bin/switchboard"),
		stateDir:   get("BENCH_STATE_DIR", filepath.Join(".data", "bench")),
		resultsDir: get("BENCH_RESULTS", filepath.Join("bench", "results")),
		contacts:   num("BENCH_CONTACTS", "1000000"),
		messages:   num("BENCH_MESSAGES_PER_CONTACT", "10"),
		agents:     num("BENCH_AGENTS", "50"),
		duration:   dur("BENCH_DURATION", "10s"),
		warmup:     dur("BENCH_WARMUP", "2s"),
		logLevel:   get("BENCH_LOG_LEVEL", ""),
	}
	switch v := get("BENCH_RATE_LIMIT", "off"); v {
	case "on", "off":
		c.rateLimit = v == "on"
	default:
		errs = append(errs, fmt.Errorf("BENCH_RATE_LIMIT: want on or off, got %q", v))
	}
	if c.dbURL == "" {
		errs = append(errs, errors.New("BENCH_DATABASE_URL: required (make bench sets it to the private PostgreSQL's switchboard_bench)"))
	}
	if c.warmup < time.Second {
		errs = append(errs, errors.New("BENCH_WARMUP: at least 1s (the replayed SQL is checked against the server's during it)"))
	}
	if c.duration < time.Second || c.duration%time.Second != 0 {
		errs = append(errs, errors.New("BENCH_DURATION: whole seconds, at least 1s (pgbench runs for whole seconds, and the API as long)"))
	}
	var err error
	if c.levels, err = positiveInts(get("BENCH_LEVELS", "1,16,64")); err != nil {
		errs = append(errs, fmt.Errorf("BENCH_LEVELS: %w", err))
	}
	// From issue 19's target up, in steps a run of a few minutes covers; the sweep stops at
	// the first rate not held.
	if c.openRates, err = positiveInts(get("BENCH_OPEN_RATES", "300,400,500,600,800,1000")); err != nil {
		errs = append(errs, fmt.Errorf("BENCH_OPEN_RATES: %w", err))
	}
	for _, id := range strings.Split(get("BENCH_SCENARIOS", ""), ",") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		if !slices.ContainsFunc(scenarios, func(s scenario) bool { return s.id == id }) {
			errs = append(errs, fmt.Errorf("BENCH_SCENARIOS: unknown scenario %q", id))
		}
		c.only = append(c.only, id)
	}
	return c, errors.Join(errs...)
}

// positiveInts reads a list such as "1,16,64" (client counts, rates).
func positiveInts(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, errors.New("want positive integers separated by commas")
		}
		out = append(out, n)
	}
	return out, nil
}

// selected reports whether the scenario runs in this benchmark.
func (c config) selected(s scenario) bool {
	return len(c.only) == 0 || slices.Contains(c.only, s.id)
}
