package main

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	serverconfig "github.com/switchboard/switchboard/pkg/config"
)

// facts describe the machine and the data, printed above every table.
type facts struct {
	date          time.Time
	cores         int
	cpuModel      string
	memory        string
	postgres      string
	commit        string
	contacts      int64
	conversations string // "N (x open, y closed)"
	messages      string // a count, or why there is none
	seed          string
	dbMaxConns    string
	logLevel      string
	rateLimits    string
	load          [2]string // the load averages around a run, when the run reports them
}

func gatherFacts(ctx context.Context, e *env) (facts, error) {
	f := facts{date: time.Now().UTC(), cores: runtime.NumCPU(), seed: seedNote(e.state.Seed.Method)}
	if out, err := exec.Command("nproc").Output(); err == nil {
		f.cores, _ = strconv.Atoi(strings.TrimSpace(string(out)))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(b); m != nil {
			f.cpuModel = string(m[1])
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^MemTotal:\s*(\d+) kB`).FindSubmatch(b); m != nil {
			kb, _ := strconv.ParseFloat(string(m[1]), 64)
			f.memory = fmt.Sprintf("%.1f GiB", kb/(1<<20))
		}
	}
	// The measured binary's version (make stamps it with git describe), else the checkout's.
	if out, err := exec.Command(e.cfg.bin, "version").Output(); err == nil && strings.TrimSpace(string(out)) != "dev" {
		f.commit = strings.TrimSpace(string(out))
	} else if out, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
		f.commit = strings.TrimSpace(string(out)) + " (checkout)"
	}
	f.dbMaxConns = os.Getenv("DB_MAX_CONNS")
	if f.dbMaxConns == "" {
		for _, v := range serverconfig.Vars {
			if v.Name == "DB_MAX_CONNS" {
				f.dbMaxConns = v.Default + " (default)"
			}
		}
	}
	f.rateLimits = "rate limits off (BENCH_RATE_LIMIT=off)"
	if e.cfg.rateLimit {
		f.rateLimits = "rate limits on (BENCH_RATE_LIMIT=on, in process)"
		if os.Getenv("REDIS_URL") != "" {
			f.rateLimits = "rate limits on (BENCH_RATE_LIMIT=on, in Redis)"
		}
	}
	f.logLevel = e.cfg.logLevel
	if f.logLevel == "" {
		f.logLevel = "info (default)"
	}

	ws := e.state.WorkspaceID
	if err := e.pool.QueryRow(ctx, `SHOW server_version`).Scan(&f.postgres); err != nil {
		return f, err
	}
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM contacts WHERE workspace_id = $1`, ws).Scan(&f.contacts); err != nil {
		return f, err
	}
	var total, open int64
	if err := e.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'open') FROM conversations WHERE workspace_id = $1`, ws).Scan(&total, &open); err != nil {
		return f, err
	}
	f.conversations = fmt.Sprintf("%s (%s open, %s closed)", thousands(total), thousands(open), thousands(total-open))
	var hasMessages bool
	if err := e.pool.QueryRow(ctx, `SELECT to_regclass('messages') IS NOT NULL`).Scan(&hasMessages); err != nil {
		return f, err
	}
	f.messages = "none (no messages table yet)"
	if hasMessages {
		var n int64
		if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE workspace_id = $1`, ws).Scan(&n); err != nil {
			return f, err
		}
		f.messages = thousands(n)
	}
	return f, nil
}

func (f facts) markdown(agents int) string {
	var b strings.Builder
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, v) }
	b.WriteString("| | |\n| --- | --- |\n")
	row("date", f.date.Format("2006-01-02 15:04 UTC"))
	row("machine", fmt.Sprintf("%d cores (nproc), %s, %s", f.cores, f.memory, f.cpuModel))
	row("PostgreSQL", f.postgres)
	row("build", "`"+f.commit+"`")
	row("data", fmt.Sprintf("%s contacts; conversations: %s; messages: %s; %d agents", thousands(f.contacts), f.conversations, f.messages, agents))
	row("seed", f.seed)
	row("server", fmt.Sprintf("DB_MAX_CONNS=%s, LOG_LEVEL=%s, %s, started by the harness on 127.0.0.1", f.dbMaxConns, f.logLevel, f.rateLimits))
	return b.String()
}

// writeResults prints the table and writes it to bench/results/YYYY-MM-DD-<N>core.md
// (-<N>core-ratelimit.md with BENCH_RATE_LIMIT=on).
func writeResults(cfg config, f facts, agents int, ms []measurement, open []mixRun) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Switchboard benchmark, %s, %d cores\n\n", f.date.Format("2006-01-02"), f.cores)
	b.WriteString(f.markdown(agents) + "\n")
	// The closed-loop table, written only when a scenario ran in it (a run of open-mix alone
	// has none).
	var closed strings.Builder
	rows := 0
	fmt.Fprintf(&closed, "Load: vegeta v12.13.0 as a library, a closed loop of N clients (N workers, unlimited rate, keep-alive), "+
		"%s per level after a %s warm-up at 16 clients. SQL: pgbench -M prepared -j 2 with the same N clients and duration, "+
		"replaying the statements one request runs (authentication included), %d parameter sets shared with the API run; "+
		"-M extended for the scenarios whose statements the server plans for their arguments on every execution (the searches).\n\n",
		cfg.duration, cfg.warmup, variants)
	closed.WriteString("| scenario | clients | API req/s | p50 ms | p95 ms | p99 ms | errors | SQL tps | API % of SQL | server RSS MB | server CPU s |\n")
	closed.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	var pending, unverified, sqlErrors []string
	for _, m := range ms {
		s := m.scenario
		if m.skipped != "" {
			pending = append(pending, fmt.Sprintf("- %s (`%s`): %s", s.name, s.id, m.skipped))
			continue
		}
		sqlTPS, ratio := "—", "—"
		switch {
		case m.sqlErr != "":
			sqlTPS = "error"
			sqlErrors = append(sqlErrors, fmt.Sprintf("- %s, %d clients: %s", s.name, m.clients, m.sqlErr))
		case m.sqlTPS > 0:
			sqlTPS = thousands(int64(m.sqlTPS + 0.5))
			ratio = fmt.Sprintf("%.0f %%", 100*m.rate()/m.sqlTPS)
		}
		if len(m.sqlUnverified) > 0 && m.clients == cfg.levels[0] {
			unverified = append(unverified, fmt.Sprintf("- %s: %s", s.name, strings.Join(m.sqlUnverified, "; ")))
		}
		rows++
		fmt.Fprintf(&closed, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %.0f | %.1f |\n", s.name, m.clients,
			thousands(int64(m.rate()+0.5)), millis(m.p50), millis(m.p95), millis(m.p99), errorCell(m), sqlTPS, ratio,
			float64(m.rssPeak)/(1<<20), m.cpu.Seconds())
	}
	closed.WriteString("\nAPI req/s counts 2xx answers; every other answer is an error. API % of SQL is API req/s ÷ SQL tps: " +
		"the share of the database's own throughput that survives HTTP, authentication, Go and JSON. " +
		"Server RSS is the peak VmRSS during the level, CPU the server process's user+system seconds in it.\n")
	if rows > 0 {
		b.WriteString(closed.String())
	}
	section := func(title string, lines []string) {
		if len(lines) > 0 {
			fmt.Fprintf(&b, "\n%s\n\n%s\n", title, strings.Join(lines, "\n"))
		}
	}
	section("Not measured:", pending)
	section("WARNING: statements of the harness's store that the server did not run, built from other code? (their SQL figures compare different queries):", unverified)
	section("pgbench failures:", sqlErrors)
	if len(open) > 0 {
		b.WriteString(openMarkdown(cfg, open))
	}

	fmt.Println()
	fmt.Print(b.String())
	if err := os.MkdirAll(cfg.resultsDir, 0o755); err != nil {
		return err
	}
	// A run with the rate limits on is written beside the day's run without them, to compare.
	suffix := ""
	if cfg.rateLimit {
		suffix = "-ratelimit"
	}
	p := filepath.Join(cfg.resultsDir, fmt.Sprintf("%s-%dcore%s.md", f.date.Format("2006-01-02"), f.cores, suffix))
	logf("results written to %s", p)
	return os.WriteFile(p, []byte(b.String()), 0o644)
}

func errorCell(m measurement) string { return m.errors.String() }

func millis(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

// thousands writes n with thin spaces between groups of three digits (1 000 000).
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + " " + s[i:]
	}
	return s
}

var (
	executionTime = regexp.MustCompile(`Execution Time: ([0-9.]+) ms`)
	sharedBuffers = regexp.MustCompile(`Buffers: shared((?: \w+=\d+)+)`)
	seqScan       = regexp.MustCompile(`Seq Scan on (\w+)`)
)

// writeExplain writes EXPLAIN (ANALYZE, BUFFERS) of every read scenario's statements to
// bench/results/YYYY-MM-DD-explain.md, over all parameter sets and under both plans the API's
// prepared statements can get: a custom plan for the bound arguments (PostgreSQL's first
// five executions, and later ones when it stays cheaper), and the generic plan that the plan
// cache may switch to after that. For each, the plan that touched the most buffers is shown.
func writeExplain(ctx context.Context, e *env, f facts) error {
	var summary, plans strings.Builder
	summary.WriteString("| scenario | statement | plan | ms (median / max) | shared buffers (median / max) | index | seq scans |\n")
	summary.WriteString("| --- | --- | --- | ---: | ---: | --- | --- |\n")
	for _, s := range scenarios {
		if !e.cfg.selected(s) || e.unavailable(s) != "" || s.reads == nil {
			continue
		}
		// A request's statements depend on its parameters (a search runs one, two or three
		// steps), so statements are grouped by their text: each group is explained with every
		// parameter set that runs it.
		var shapes []string
		groups := map[string][]statement{}
		for i := range variants {
			for _, st := range e.fix.statements(s, i) {
				if _, ok := groups[st.sql]; !ok {
					shapes = append(shapes, st.sql)
				}
				groups[st.sql] = append(groups[st.sql], st)
			}
		}
		for _, shape := range shapes {
			group := groups[shape]
			what := firstWords(squash(shape), 6)
			share := ""
			if len(group) < variants {
				share = fmt.Sprintf(" (%d of %d requests)", len(group), variants)
			}
			for _, generic := range []bool{false, true} {
				if generic && group[0].planned {
					// The server never lets the plan cache give it a generic plan.
					fmt.Fprintf(&summary, "| %s | `%s`%s | generic | not used: planned on every execution | | | |\n", s.name, what, share)
					continue
				}
				var runs []explained
				for _, st := range group {
					x, err := explain(ctx, e, st, generic)
					if err != nil {
						return fmt.Errorf("explain %s: %w", s.name, err)
					}
					runs = append(runs, x)
				}
				byBuffers := func(a, b explained) int { return cmp.Compare(a.buffers, b.buffers) }
				byMS := func(a, b explained) int { return cmp.Compare(a.ms, b.ms) }
				worst := slices.MaxFunc(runs, byBuffers)
				index, seqs := "yes", map[string]bool{}
				for _, x := range runs {
					if !x.index {
						index = "not always"
					}
					for _, t := range x.seqScans {
						seqs[t] = true
					}
				}
				kind := "custom"
				if generic {
					kind = "generic"
				}
				fmt.Fprintf(&summary, "| %s | `%s`%s | %s | %.2f / %.2f | %s / %s | %s | %s |\n", s.name, what, share, kind,
					median(runs, func(x explained) float64 { return x.ms }), slices.MaxFunc(runs, byMS).ms,
					thousands(int64(median(runs, func(x explained) float64 { return float64(x.buffers) }))),
					thousands(worst.buffers), index, strings.Join(slices.Sorted(maps.Keys(seqs)), ", "))
				fmt.Fprintf(&plans, "\n## %s: `%s`%s, %s plan\n\nThe parameter set with the most buffers of %d:\n\n```sql\n%s\n```\n\n```\n%s\n```\n",
					s.name, what, share, kind, len(runs), strings.TrimSpace(worst.sql), worst.plan)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# EXPLAIN (ANALYZE, BUFFERS) of the read scenarios, %s\n\n", f.date.Format("2006-01-02"))
	b.WriteString(f.markdown(len(e.fix.agents)) + "\n")
	fmt.Fprintf(&b, "Each statement of each read scenario with each of its %d parameter sets, on the warm database "+
		"(after the benchmark when written by `make bench`). *custom*: planned for the arguments, as PostgreSQL "+
		"plans the API's prepared statements for their first five executions and whenever that stays cheaper; "+
		"*generic*: the one plan for any arguments that the plan cache may switch to after five executions "+
		"(plan_cache_mode = force_generic_plan here), except for the statements the server plans for their arguments on "+
		"every execution (the searches), which never get it. Buffers are the root node's, so the whole statement's.\n\n", variants)
	b.WriteString(summary.String() + plans.String())
	if err := alertTick(ctx, e, &b); err != nil {
		return err
	}
	if err := sequencerRun(ctx, e, &b); err != nil {
		return err
	}
	if err := os.MkdirAll(e.cfg.resultsDir, 0o755); err != nil {
		return err
	}
	p := filepath.Join(e.cfg.resultsDir, f.date.Format("2006-01-02")+"-explain.md")
	logf("EXPLAIN plans written to %s", p)
	return os.WriteFile(p, []byte(b.String()), 0o644)
}

// explained is one EXPLAIN (ANALYZE, BUFFERS) and the figures read from it.
type explained struct {
	sql, plan string
	ms        float64
	buffers   int64 // shared hit + read of the root node
	index     bool
	seqScans  []string
}

// explain runs EXPLAIN (ANALYZE, BUFFERS) of st: with its arguments written in (a custom
// plan), or prepared from the API's text ($1, $2, ...) under a forced generic plan.
func explain(ctx context.Context, e *env, st statement, generic bool) (explained, error) {
	x := explained{sql: st.literal()}
	conn, err := e.pool.Acquire(ctx)
	if err != nil {
		return x, err
	}
	defer conn.Release()
	q := "EXPLAIN (ANALYZE, BUFFERS) " + x.sql
	if generic {
		args := make([]string, len(st.args))
		for i, a := range st.args {
			args[i] = sqlLiteral(a)
		}
		x.sql = "PREPARE bench_explain AS " + strings.TrimSpace(st.sql) + ";\nEXECUTE bench_explain(" + strings.Join(args, ", ") + ");"
		// Simple protocol: PREPARE's $n are its own, not parameters of this message.
		if _, err := conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan; PREPARE bench_explain AS "+st.sql,
			pgx.QueryExecModeSimpleProtocol); err != nil {
			return x, err
		}
		defer func() {
			_, _ = conn.Exec(ctx, "DEALLOCATE bench_explain; RESET plan_cache_mode", pgx.QueryExecModeSimpleProtocol)
		}()
		q = "EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_explain(" + strings.Join(args, ", ") + ")"
	}
	rows, err := conn.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return x, err
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return x, err
	}
	x.plan = strings.Join(lines, "\n")
	x.read()
	return x, nil
}

// read takes the figures from x.plan.
func (x *explained) read() {
	if m := executionTime.FindStringSubmatch(x.plan); m != nil {
		x.ms, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := sharedBuffers.FindStringSubmatch(x.plan); m != nil { // the first is the root node's
		for kv := range strings.FieldsSeq(m[1]) {
			if k, v, _ := strings.Cut(kv, "="); k == "hit" || k == "read" {
				c, _ := strconv.ParseInt(v, 10, 64)
				x.buffers += c
			}
		}
	}
	x.index = strings.Contains(x.plan, "Index Scan") || strings.Contains(x.plan, "Index Only Scan")
	for _, m := range seqScan.FindAllStringSubmatch(x.plan, -1) {
		x.seqScans = append(x.seqScans, m[1])
	}
}

func median[T any](xs []T, v func(T) float64) float64 {
	vs := make([]float64, len(xs))
	for i, x := range xs {
		vs[i] = v(x)
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}

// alertTicks is how many ticks of the window alert job alertTick times.
const alertTicks = 10

// alertTick writes what a tick of the window alert job reads (issue 16: at 1 M conversations
// with 50 000 windows closing in the next hour, each tick reads only what is due): EXPLAIN of
// its claim of due alerts at now, and as if it ran 5 and 60 minutes late, and the time of
// real ticks at now, which send the alerts that are due (the measured server would have).
func alertTick(ctx context.Context, e *env, b *strings.Builder) error {
	var has bool
	if err := e.pool.QueryRow(ctx, `SELECT to_regclass('conversations_window_alert') IS NOT NULL`).Scan(&has); err != nil || !has {
		return err
	}
	var pending, closing int64
	if err := e.pool.QueryRow(ctx, `
SELECT count(*), count(*) FILTER (WHERE window_open_until <= now() + interval '1 hour')
FROM conversations WHERE window_alert_at IS NOT NULL`).Scan(&pending, &closing); err != nil {
		return fmt.Errorf("count pending window alerts: %w", err)
	}
	b.WriteString("\n## The window alert job's tick\n\n")
	fmt.Fprintf(b, "%s conversations have a pending window alert, %s of them a window closing within the hour. "+
		"A tick claims at most 500 due alerts (`FOR UPDATE SKIP LOCKED`, earliest first) from "+
		"`conversations_window_alert`, a partial index of the pending alerts by instant, so it reads what is due, "+
		"not what is pending.\n\n", thousands(pending), thousands(closing))
	b.WriteString("| claim as of | rows | ms | shared buffers | index | seq scans |\n| --- | ---: | ---: | ---: | --- | --- |\n")
	var plans strings.Builder
	now := time.Now()
	for _, late := range []time.Duration{0, 5 * time.Minute, time.Hour} {
		plan, err := e.st.ExplainWindowAlerts(ctx, now.Add(late), 500)
		if err != nil {
			return err
		}
		x := explained{plan: plan}
		x.read()
		rows := "?"
		if m := limitRows.FindStringSubmatch(plan); m != nil {
			rows = m[1]
		}
		what := "now"
		if late > 0 {
			what = "now + " + late.String()
		}
		fmt.Fprintf(b, "| %s | %s | %.2f | %s | %v | %s |\n", what, rows, x.ms, thousands(x.buffers), x.index, strings.Join(x.seqScans, ", "))
		fmt.Fprintf(&plans, "\nClaim as of %s:\n\n```\n%s\n```\n", what, plan)
	}
	var took []time.Duration
	sent := 0
	for range alertTicks {
		start := time.Now()
		n, err := e.fix.convs.AlertDue(ctx, 500)
		if err != nil {
			return err
		}
		took = append(took, time.Since(start))
		sent += n
		time.Sleep(time.Second)
	}
	slices.Sort(took)
	fmt.Fprintf(b, "\n%d real ticks at now, a second apart (the job's interval is WINDOW_ALERT_INTERVAL): %d alerts sent, "+
		"a tick took %s median, %s at most (claim, events and COMMIT).\n", alertTicks, sent,
		took[len(took)/2].Round(10*time.Microsecond), took[len(took)-1].Round(10*time.Microsecond))
	b.WriteString(plans.String())
	return nil
}

// limitRows is the rows the root Limit node returned.
var limitRows = regexp.MustCompile(`(?m)^Limit .*actual time=[0-9.]+\.\.[0-9.]+ rows=([0-9]+)`)

// sequencerRun writes the plans of the event sequencer (migration 0027): a run that numbers a
// batch of queued events, and the probe a reader of the outbox makes for its workspace's.
func sequencerRun(ctx context.Context, e *env, b *strings.Builder) error {
	var has bool
	if err := e.pool.QueryRow(ctx, `SELECT to_regclass('event_queue') IS NOT NULL`).Scan(&has); err != nil || !has {
		return err
	}
	ws, err := uuid.Parse(e.state.WorkspaceID)
	if err != nil {
		return fmt.Errorf("bench workspace id: %w", err)
	}
	const queued = 50
	run, probe, err := e.st.ExplainSequence(ctx, ws, queued)
	if err != nil {
		return err
	}
	b.WriteString("\n## The event sequencer\n\n")
	fmt.Fprintf(b, "Writes queue their events (`event_queue`) and every process's sequencer numbers the committed ones "+
		"every 10 ms, in one transaction under one lock. Below: a run numbering %d queued events (copies of the bench "+
		"workspace's newest, in a transaction rolled back), and a reader's probe for its workspace's queued events.\n\n", queued)
	fmt.Fprintf(b, "```\n%s\n```\n\n```\n%s\n```\n", run, probe)
	return nil
}
