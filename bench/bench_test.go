package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/store"
)

func TestStatement(t *testing.T) {
	ws := uuid.MustParse("0190a6e4-0000-7000-8000-000000000001")
	month := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		st      statement
		literal string
	}{
		{"strings and ints", statement{sql: `SELECT a FROM t WHERE b = $1 AND c LIKE $2 LIMIT $3`, args: []any{"x", "%o'k%", 26}},
			`SELECT a FROM t WHERE b = 'x' AND c LIKE '%o''k%' LIMIT 26`},
		{"uuids and times", statement{sql: `SELECT 1 WHERE w = $2 AND m = $1`, args: []any{month, ws}},
			`SELECT 1 WHERE w = '0190a6e4-0000-7000-8000-000000000001' AND m = '2026-12-01 00:00:00+00'`},
		{"a placeholder used twice", statement{sql: `SELECT $1, $1 + $2`, args: []any{1, 2}}, `SELECT 1, 1 + 2`},
		{"no arguments", statement{sql: `SELECT 1`}, `SELECT 1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.st.literal(); got != tc.literal {
				t.Errorf("literal() = %q, want %q", got, tc.literal)
			}
		})
	}
}

// TestFromStore: the store's statements become the harness's, the ids one statement found
// passed on to the next through a pgbench variable.
func TestFromStore(t *testing.T) {
	ws := uuid.MustParse("0190a6e4-0000-7000-8000-000000000001")
	a, b := uuid.MustParse("0190a6e4-0000-7000-8000-00000000000a"), uuid.MustParse("0190a6e4-0000-7000-8000-00000000000b")
	got := fromStore([]store.Statement{
		{SQL: `SELECT 1 WHERE w = $1`, Args: []any{ws}},
		{SQL: `SELECT c.id FROM contacts c WHERE c.search_text LIKE $1`, Args: []any{"%smit%"}, PlanEach: true},
		{SQL: `SELECT v.id FROM unnest($1::uuid[]) AS c(id) WHERE w = $2`, Args: []any{[]uuid.UUID{a, b}, ws}, PlanEach: true},
	})
	if got[0].planned || !got[1].planned || !got[2].planned {
		t.Errorf("planned = %v, %v, %v; want false, true, true", got[0].planned, got[1].planned, got[2].planned)
	}
	if got[1].gset != "ids" || got[0].gset != "" || got[2].gset != "" {
		t.Errorf("gset = %q, %q, %q; want the lookup's only", got[0].gset, got[1].gset, got[2].gset)
	}
	want := `SELECT v.id FROM unnest('{` + a.String() + `,` + b.String() + `}'::uuid[]) AS c(id) WHERE w = '` + ws.String() + `'`
	if lit := got[2].literal(); lit != want {
		t.Errorf("literal() = %s, want %s", lit, want)
	}
	if sql := pgbenchStatement(got[2:]); !strings.Contains(sql, "unnest(:ids::uuid[])") {
		t.Errorf("pgbench takes the ids from elsewhere: %s", sql)
	}

	// A page's ids go to the reads of its labels and read state, both given the same ids.
	page := []uuid.UUID{a, b}
	got = fromStore([]store.Statement{
		{SQL: `SELECT v.id FROM conversations v WHERE v.workspace_id = $1 LIMIT $2`, Args: []any{ws, 26}},
		{SQL: `SELECT 1 FROM conversation_reads WHERE workspace_id = $1 AND conversation_id = ANY($2)`, Args: []any{ws, page}},
		{SQL: `SELECT 1 FROM conversation_labels WHERE workspace_id = $1 AND conversation_id = ANY($2)`, Args: []any{ws, page}},
	})
	if got[0].gset != "ids" || got[1].gset != "" || got[2].gset != "" {
		t.Errorf("gset = %q, %q, %q; want the page's only", got[0].gset, got[1].gset, got[2].gset)
	}
	for _, st := range got[1:] {
		if sql := pgbenchStatement([]statement{st}); !strings.Contains(sql, "ANY(:ids)") {
			t.Errorf("pgbench takes the page's ids from elsewhere: %s", sql)
		}
	}
}

func TestPgbenchStatement(t *testing.T) {
	sql := `SELECT 1 FROM t WHERE ws = $1 AND id = $2 AND name LIKE $3 AND ids = ANY($4::uuid[]) LIMIT $5`
	w, a, b := uuid.MustParse("0190a6e4-0000-7000-8000-000000000001"), uuid.MustParse("0190a6e4-0000-7000-8000-00000000000a"),
		uuid.MustParse("0190a6e4-0000-7000-8000-00000000000b")
	variants := []statement{
		{sql: sql, args: []any{w, a, "%x%", "{a,b}", 26}},
		{sql: sql, args: []any{w, b, "%y'%", "{c}", 26}},
	}
	want := `SELECT 1 FROM t WHERE ws = '` + w.String() + `' AND id = ((ARRAY['` + a.String() + `','` + b.String() + `']::uuid[])[:i]) AND ` +
		`name LIKE ((ARRAY['%x%','%y''%']::text[])[:i]) AND ids = ANY(((ARRAY['{a,b}','{c}']::text[])[:i])::uuid[]) LIMIT 26`
	if got := pgbenchStatement(variants); got != want {
		t.Errorf("pgbenchStatement =\n%s\nwant\n%s", got, want)
	}
}

func TestScenarios(t *testing.T) {
	ids := map[string]bool{}
	for _, s := range scenarios {
		t.Run(s.id, func(t *testing.T) {
			if s.id == "" || s.name == "" || ids[s.id] || s.needs == "" {
				t.Errorf("scenario %q: wants a unique id, a name and the route it needs", s.id)
			}
			ids[s.id] = true
			if (s.pending == "" && !s.open) == (s.request == nil) {
				t.Errorf("scenario %q: wants either a request, a pending reason, or to be the open mix", s.id)
			}
		})
	}
}

func TestFragment(t *testing.T) {
	tests := []struct {
		name, s string
		n       int
		want    string
	}{
		{"short stays whole", "Lee", 3, "Lee"},
		{"start", "Gonzalez", 0, "Gonz"},
		{"moves with n", "Gonzalez", 1, "nzal"},
		{"runes, not bytes", "Müller", 1, "ülle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fragment([]rune(tc.s), tc.n); got != tc.want {
				t.Errorf("fragment(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50}, {0.95, 95}, {0.99, 99}, {1, 100}} {
		if got := quantile(d, tc.q); got != tc.want {
			t.Errorf("quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := quantile(nil, 0.5); got != 0 {
		t.Errorf("quantile of nothing = %v", got)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1 000", 1234567: "1 234 567", -1000: "-1 000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestTPSLine(t *testing.T) {
	out := "latency average = 0.077 ms\ninitial connection time = 2.221 ms\ntps = 12973.764877 (without initial connection time)\n"
	m := tpsLine.FindStringSubmatch(out)
	if m == nil || m[1] != "12973.764877" {
		t.Fatalf("tps not found in %q: %v", out, m)
	}
}

func TestProcessFigures(t *testing.T) {
	if _, err := cpuTime(os.Getpid()); err != nil {
		t.Errorf("cpuTime: %v", err)
	}
	if rss, err := vmRSS(os.Getpid()); err != nil || rss <= 0 {
		t.Errorf("vmRSS = %d, %v", rss, err)
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"defaults", map[string]string{"BENCH_DATABASE_URL": "postgres://x/switchboard_bench"}, ""},
		{"database required", map[string]string{}, "BENCH_DATABASE_URL"},
		{"bad levels", map[string]string{"BENCH_DATABASE_URL": "u", "BENCH_LEVELS": "1,x"}, "BENCH_LEVELS"},
		{"unknown scenario", map[string]string{"BENCH_DATABASE_URL": "u", "BENCH_SCENARIOS": "nope"}, "BENCH_SCENARIOS"},
		{"sub-second duration", map[string]string{"BENCH_DATABASE_URL": "u", "BENCH_DURATION": "500ms"}, "BENCH_DURATION"},
		{"fractional seconds", map[string]string{"BENCH_DATABASE_URL": "u", "BENCH_DURATION": "2500ms"}, "BENCH_DURATION"},
		{"rate limit neither on nor off", map[string]string{"BENCH_DATABASE_URL": "u", "BENCH_RATE_LIMIT": "yes"}, "BENCH_RATE_LIMIT"},
		{"bad open rates", map[string]string{"BENCH_DATABASE_URL": "u", "BENCH_OPEN_RATES": "300,0"}, "BENCH_OPEN_RATES"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadConfig(env(tc.env))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.contacts != 1_000_000 || c.duration != 10*time.Second || len(c.levels) != 3 || c.openRates[0] != openTargetRate {
					t.Errorf("defaults: %+v", c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
}

func TestAdminURL(t *testing.T) {
	admin, name, err := adminURL("postgres://postgres@127.0.0.1:5432/switchboard_bench?sslmode=disable")
	if err != nil || name != "switchboard_bench" || admin != "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable" {
		t.Errorf("adminURL = %q, %q, %v", admin, name, err)
	}
}
