package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/switchboard/switchboard/pkg/store"
)

// measurement is one scenario at one concurrency level.
type measurement struct {
	scenario      scenario
	skipped       string // why the scenario did not run
	clients       int
	ok            int          // 2xx answers
	errors        statusCounts // every other answer by status (0: no answer)
	elapsed       time.Duration
	p50, p95, p99 time.Duration
	rssPeak       int64         // bytes, the server's VmRSS sampled every 100 ms
	cpu           time.Duration // the server's user+system CPU time
	sqlTPS        float64       // pgbench, for read scenarios (0: not run)
	sqlErr        string
	sqlUnverified []string // statements of the scenario not seen among the server's queries
}

func (m measurement) errorCount() int { return m.errors.total() }

// statusCounts counts answers by HTTP status (0: no answer), the errors of a closed-loop level
// and of an open-loop run alike.
type statusCounts map[int]int

func (c statusCounts) total() int {
	n := 0
	for _, k := range c {
		n += k
	}
	return n
}

// String is the results' error cell: "0", or the total and each status, "3 (500×2, no answer×1)".
func (c statusCounts) String() string {
	n := c.total()
	if n == 0 {
		return "0"
	}
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(c)) {
		label := strconv.Itoa(code)
		if code == 0 {
			label = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", label, c[code]))
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(parts, ", "))
}

func (m measurement) rate() float64 { return float64(m.ok) / m.elapsed.Seconds() }

// measure runs every selected scenario at every level: the API first, then pgbench; and the
// open-mix scenario at its rates, whose runs it returns apart.
func measure(ctx context.Context, e *env) ([]measurement, []mixRun, error) {
	tmp, err := os.MkdirTemp("", "switchboard-bench-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(tmp)

	var out []measurement
	var open []mixRun
	for _, s := range scenarios {
		if !e.cfg.selected(s) {
			continue
		}
		if why := e.unavailable(s); why != "" {
			logf("%s: not run: %s", s.name, why)
			out = append(out, measurement{scenario: s, skipped: why})
			continue
		}
		if s.open {
			if open, err = measureOpenMix(ctx, e); err != nil {
				return nil, nil, err
			}
			continue
		}
		logf("%s: warming up for %s", s.name, e.cfg.warmup)
		unverified, err := warmUp(ctx, e, s)
		if err != nil {
			return nil, nil, err
		}
		var scripts []string
		mode := "prepared"
		if s.reads != nil {
			if scripts, err = writeScripts(filepath.Join(tmp, s.id), e.fix, s); err != nil {
				return nil, nil, err
			}
			mode = pgbenchMode(e.fix.statements(s, 0))
		}
		for _, n := range e.cfg.levels {
			m, err := attack(ctx, e, s, n, e.cfg.duration)
			if err != nil {
				return nil, nil, err
			}
			m.sqlUnverified = unverified
			if scripts != nil {
				m.sqlTPS, err = pgbench(ctx, e.cfg.dbURL, scripts, mode, n, e.cfg.duration)
				if err != nil {
					m.sqlErr = err.Error()
					logf("%s, %d clients: pgbench: %v", s.name, n, err)
				}
			}
			logf("%s, %d clients: %.0f req/s, p99 %s, %d errors, SQL %.0f tps", s.name, n, m.rate(),
				m.p99.Round(10*time.Microsecond), m.errorCount(), m.sqlTPS)
			out = append(out, m)
		}
	}
	return out, open, ctx.Err()
}

// warmUp runs the scenario briefly at 16 clients (caches, prepared statements, connections)
// and meanwhile checks that the SQL replayed by pgbench, the harness's store's, is what the
// server executes (a server built from other code runs other SQL). It returns the
// scenario's statements that were not seen.
func warmUp(ctx context.Context, e *env, s scenario) ([]string, error) {
	var (
		mu   sync.Mutex
		seen = map[string]bool{} // squashed query → cut short by track_activity_query_size
	)
	watchCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if s.reads != nil {
		wg.Go(func() {
			watchQueries(watchCtx, e.pool, func(q string, cut bool) { mu.Lock(); seen[q] = cut; mu.Unlock() })
		})
	}
	m, err := attack(ctx, e, s, 16, e.cfg.warmup)
	stop()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if m.ok == 0 {
		return nil, fmt.Errorf("%s: no successful request while warming up (%v); see %s", s.name, m.errors,
			filepath.Join(e.cfg.stateDir, "server.log"))
	}
	if s.reads == nil {
		return nil, nil
	}
	// Every shape the scenario's statements take (the inbox searches one way or another
	// depending on the data), not only variant 0's; of a batch, its last statement (see
	// statement.hidden).
	var missing []string
	checked := map[string]bool{}
	for i := range variants {
		for _, st := range e.fix.statements(s, i) {
			want := squash(st.sql)
			if checked[want] || st.hidden {
				continue
			}
			checked[want] = true
			if !ranStatement(seen, want) {
				missing = append(missing, firstWords(want, 8))
				logf("%s: WARNING: the server never ran this statement of the harness's store; is it built from other code? %s", s.name, want)
			}
		}
	}
	return missing, nil
}

// ranStatement reports whether want is among the statements seen in pg_stat_activity (or
// starts with one PostgreSQL cut short).
func ranStatement(seen map[string]bool, want string) bool {
	for q, cut := range seen {
		if q == want || (cut && strings.HasPrefix(want, q)) {
			return true
		}
	}
	return false
}

// watchQueries reports the queries of the other sessions on the bench database every 20 ms,
// and whether PostgreSQL cut them short (at track_activity_query_size).
func watchQueries(ctx context.Context, pool *pgxpool.Pool, seen func(q string, cut bool)) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		rows, err := pool.Query(ctx, `
SELECT query, octet_length(query) >= (SELECT setting::int - 1 FROM pg_settings WHERE name = 'track_activity_query_size')
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`)
		if err == nil {
			for rows.Next() {
				var q string
				var cut bool
				if rows.Scan(&q, &cut) == nil {
					seen(squash(q), cut)
				}
			}
			rows.Close()
			err = rows.Err()
		}
		if err != nil && ctx.Err() == nil {
			logf("watching pg_stat_activity: %v", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// squash folds whitespace, to compare statements however they are indented.
func squash(q string) string { return strings.Join(strings.Fields(q), " ") }

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) <= n {
		return s
	}
	return strings.Join(f[:n], " ") + " …"
}

// attack drives the API with a closed loop of n clients: vegeta with n workers and no rate
// limit, so each worker sends its next request as soon as the previous answer arrives.
func attack(ctx context.Context, e *env, s scenario, n int, d time.Duration) (measurement, error) {
	m := measurement{scenario: s, clients: n, errors: statusCounts{}}
	atk := vegeta.NewAttacker(
		vegeta.Workers(uint64(n)), vegeta.MaxWorkers(uint64(n)),
		vegeta.Connections(n), vegeta.KeepAlive(true),
		vegeta.Timeout(30*time.Second), vegeta.Redirects(vegeta.NoFollow),
	)
	defer context.AfterFunc(ctx, func() { atk.Stop() })()
	targeter := func(t *vegeta.Target) error {
		*t = s.request(e.fix, rand.IntN(1<<30))
		return nil
	}

	pid := e.server.pid()
	cpu0, err := cpuTime(pid)
	if err != nil {
		return m, err
	}
	rssCtx, stopRSS := context.WithCancel(ctx)
	rss := make(chan int64, 1)
	go func() { rss <- sampleRSS(rssCtx, pid) }()

	latencies := make([]time.Duration, 0, 1<<16)
	shown := 0
	start := time.Now()
	for r := range atk.Attack(targeter, vegeta.Rate{Freq: 0}, d, s.id) {
		latencies = append(latencies, r.Latency)
		if r.Code >= 200 && r.Code < 300 {
			m.ok++
			continue
		}
		m.errors[int(r.Code)]++
		if shown < 3 {
			shown++
			logf("%s: error %d %s: %s", s.name, r.Code, r.Error, bytes.TrimSpace(r.Body))
		}
	}
	m.elapsed = time.Since(start)
	stopRSS()
	m.rssPeak = <-rss
	cpu1, err := cpuTime(pid)
	if err != nil {
		return m, err
	}
	m.cpu = cpu1 - cpu0
	slices.Sort(latencies)
	m.p50, m.p95, m.p99 = quantile(latencies, 0.50), quantile(latencies, 0.95), quantile(latencies, 0.99)
	return m, ctx.Err()
}

// quantile of sorted latencies, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// sampleRSS returns the highest VmRSS of pid seen every 100 ms until ctx ends.
func sampleRSS(ctx context.Context, pid int) int64 {
	var peak int64
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if v, err := vmRSS(pid); err == nil {
			peak = max(peak, v)
		}
		select {
		case <-ctx.Done():
			return peak
		case <-t.C:
		}
	}
}

func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// cpuTime is utime+stime of pid from /proc/<pid>/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name may contain spaces; the fields after it are fixed: state is field 3,
	// utime 14 and stime 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	return time.Duration(ut+st) * time.Second / time.Duration(clockTicks()), nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times.
var clockTicks = sync.OnceValue(func() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if n, perr := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && perr == nil && n > 0 {
		return n
	}
	return 100
})

// writeScripts writes the pgbench scripts of a read scenario: the statements of its request
// for all parameter variants. Variants whose statements differ in shape (the inbox searches
// one way or another depending on the data) go to separate scripts, weighted by how many
// variants each holds, so pgbench runs each shape as often as the API does.
func writeScripts(dir string, f *fixture, s scenario) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var shapes []string
	groups := map[string][][]statement{}
	for i := range variants {
		sts := f.statements(s, i)
		var key strings.Builder
		for _, st := range sts {
			key.WriteString(st.sql + "\x00")
		}
		if _, ok := groups[key.String()]; !ok {
			shapes = append(shapes, key.String())
		}
		groups[key.String()] = append(groups[key.String()], sts)
	}
	var scripts []string
	for n, shape := range shapes {
		g := groups[shape]
		var b strings.Builder
		fmt.Fprintf(&b, "\\set i random(1, %d)\n", len(g))
		for k := range g[0] {
			same := make([]statement, len(g))
			for v := range g {
				same[v] = g[v][k]
			}
			// pgbench ends a statement at a semicolon at the end of a line; one line each.
			st := squash(pgbenchStatement(same))
			if v := g[0][k].gset; v != "" {
				// The ids it found, as one uuid[] in :v for the statement that uses them.
				fmt.Fprintf(&b, "SELECT coalesce(array_agg(id), '{}') AS %s FROM (%s) found \\gset\n", v, st)
				continue
			}
			b.WriteString(st + ";\n")
		}
		p := filepath.Join(dir, fmt.Sprintf("shape%d.sql", n))
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			return nil, err
		}
		scripts = append(scripts, fmt.Sprintf("%s@%d", p, len(g)))
	}
	return scripts, nil
}

// pgbenchMode is the query protocol pgbench replays a request's statements with: prepared, as
// the server prepares its statements once per connection and lets the plan cache keep a
// generic plan; or extended (the unnamed statement, parsed and planned for its arguments each
// time) when the server plans any of them on every execution (store.planEach). Extended then
// applies to the whole script, so the session lookup is planned each time too: a few
// microseconds more per transaction than the server spends on it.
func pgbenchMode(sts []statement) string {
	for _, st := range sts {
		if st.planned {
			return "extended"
		}
	}
	return "prepared"
}

var tpsLine = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench runs the scripts ("path@weight"; each transaction picks one) with n clients over
// two threads, with the query protocol mode (see pgbenchMode), and returns transactions per
// second.
func pgbench(ctx context.Context, dbURL string, scripts []string, mode string, n int, d time.Duration) (float64, error) {
	args := []string{"-n", "-c", strconv.Itoa(n), "-j", strconv.Itoa(min(2, n)),
		"-T", strconv.Itoa(int(d / time.Second)), "-M", mode}
	for _, s := range scripts {
		args = append(args, "-f", s)
	}
	cmd := exec.CommandContext(ctx, pgbenchPath(), append(args, dbURL)...)
	// pgbench's sessions run under the server's settings (store.Settings).
	opts := strings.TrimSpace(os.Getenv("PGOPTIONS"))
	for _, k := range slices.Sorted(maps.Keys(store.Settings())) {
		opts += " -c " + k + "=" + store.Settings()[k]
	}
	cmd.Env = append(os.Environ(), "PGOPTIONS="+strings.TrimSpace(opts))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil || strings.Contains(stderr.String(), "error") {
		return 0, fmt.Errorf("%v: %s", err, firstLine(stderr.String()))
	}
	mt := tpsLine.FindStringSubmatch(stdout.String())
	if mt == nil {
		return 0, fmt.Errorf("no tps in pgbench output: %s", firstLine(stdout.String()))
	}
	return strconv.ParseFloat(mt[1], 64)
}

// pgbenchPath is pgbench from PATH, else from the newest PostgreSQL under /usr/lib/postgresql.
func pgbenchPath() string {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	if len(ms) == 0 {
		return "pgbench"
	}
	slices.Sort(ms)
	return ms[len(ms)-1]
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
