package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStatement(t *testing.T) {
	tests := []struct {
		name              string
		st                statement
		literal, numbered string
	}{
		{"strings and ints", statement{sql: `SELECT a FROM t WHERE b = ? AND c LIKE ? LIMIT ?`, args: []any{"x", "%o'k%", 26}},
			`SELECT a FROM t WHERE b = 'x' AND c LIKE '%o''k%' LIMIT 26`,
			`SELECT a FROM t WHERE b = $1 AND c LIKE $2 LIMIT $3`},
		{"no arguments", statement{sql: `SELECT 1`}, `SELECT 1`, `SELECT 1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.st.literal(); got != tc.literal {
				t.Errorf("literal() = %q, want %q", got, tc.literal)
			}
			if got := tc.st.numbered(); got != tc.numbered {
				t.Errorf("numbered() = %q, want %q", got, tc.numbered)
			}
		})
	}
}

func TestSearchCondition(t *testing.T) {
	tests := []struct {
		name, q  string
		phone    bool
		patterns []any
	}{
		{"digits search the phone too", "2119", true, []any{"%2119%", "%2119%"}},
		{"a name searches the text only", "Gonz", false, []any{"%gonz%"}},
		{"wildcards are escaped", "a_b%", false, []any{`%a\_b\%%`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := searchCondition("c", tc.q)
			if got := strings.Contains(st.sql, "phone_digits LIKE"); got != tc.phone {
				t.Errorf("searches phone_digits: %v, want %v", got, tc.phone)
			}
			if !slices.Equal(st.args, tc.patterns) {
				t.Errorf("args = %v, want %v", st.args, tc.patterns)
			}
		})
	}
}

// wantStatements checks that sts are len(want) statements, the i-th containing want[i]
// (whitespace squashed), each with as many arguments as placeholders.
func wantStatements(t *testing.T, sts []statement, want []string) {
	t.Helper()
	if len(sts) != len(want) {
		t.Fatalf("%d statements, want %d", len(sts), len(want))
	}
	for i, st := range sts {
		if got := squash(st.sql); !strings.Contains(got, want[i]) {
			t.Errorf("statement %d\n%s\ndoes not contain %s", i, got, want[i])
		}
		_ = st.literal() // placeholders and arguments agree
	}
}

func TestContactSearch(t *testing.T) {
	page := make([]string, 26)
	tests := []struct {
		name   string
		q      string
		walked []string // what the bounded walk finds
		want   []string
	}{
		{"the bounded walk fills the page", "gonz", page, []string{"LIMIT ?) c WHERE c.search_text LIKE ?"}},
		{"then one planned statement", "gonz", page[:3], []string{"LIMIT ?) c WHERE c.search_text LIKE ?",
			"FROM (SELECT c.id FROM contacts c WHERE c.workspace_id = ? AND c.search_text LIKE ? ORDER BY c.id DESC LIMIT ?) m"}},
		{"no trigram: the walk to the end", "li", nil, []string{"LIMIT ?) c WHERE c.search_text LIKE ?"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fixture{searchIDs: map[string][]string{contactWalk("ws", tc.q, searchWalkBound).literal(): tc.walked}}
			sts := f.contactSearch("ws", tc.q)
			wantStatements(t, sts, tc.want)
			if bound := sts[0].args[1]; (tc.walked == nil) != (bound == math.MaxInt) {
				t.Errorf("first walk bounded by %v", bound)
			}
		})
	}
}

// TestSearchSteps checks that the harness runs the statements the inbox's search steps run,
// given what each step finds (kept in the fixture's cache, as if read from the database).
func TestSearchSteps(t *testing.T) {
	const closed = "v.status = 'closed'"
	rows := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("00000000-0000-0000-0000-%012d", i)
		}
		return out
	}
	tests := []struct {
		name          string
		q             string
		walked, found int // rows the bounded walk and the lookup find
		want          []string
	}{
		{"the bounded walk fills the page", "gonz", 26, 0, []string{"LIMIT ?) v WHERE"}},
		{"few matches: the page from the lookup", "gonz", 3, 2, []string{"LIMIT ?) v WHERE", "SELECT c.id FROM contacts c", "unnest(?::uuid[])"}},
		{"many matches: the unbounded walk", "gonz", 3, 1001, []string{"LIMIT ?) v WHERE", "SELECT c.id FROM contacts c", "LIMIT ?) v WHERE"}},
		{"no trigram: no lookup", "li", 3, 0, []string{"LIMIT ?) v WHERE", "LIMIT ?) v WHERE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fixture{searchIDs: map[string][]string{}}
			// The walk's and the lookup's literal SQL, as found() keys them.
			f.searchIDs[inboxWalk("ws", closed, tc.q, searchWalkBound).literal()] = rows(tc.walked)
			f.searchIDs[searchFirst("ws", tc.q).literal()] = rows(tc.found)
			sts := f.inboxSearch("ws", closed, tc.q)
			wantStatements(t, sts, tc.want)
			if last := sts[len(sts)-1]; strings.Contains(last.sql, "LIMIT ?) v") && len(sts) > 1 && last.args[1] != math.MaxInt {
				t.Errorf("the last walk is bounded by %v, want no bound", last.args[1])
			}
			if few := tc.found > 0 && tc.found <= searchFirstLimit; (len(sts) == 3 && sts[1].gset != "") != few {
				t.Errorf("lookup gset = %q with %d ids", sts[1].gset, tc.found)
			}
		})
	}
}

func TestPgbenchStatement(t *testing.T) {
	sql := `SELECT 1 FROM t WHERE ws = ? AND id = ? AND name LIKE ? AND ids = ANY(?::uuid[]) LIMIT ?`
	variants := []statement{
		{sql: sql, args: []any{uuidArg("w"), uuidArg("a"), "%x%", "{a,b}", 26}},
		{sql: sql, args: []any{uuidArg("w"), uuidArg("b"), "%y'%", "{c}", 26}},
	}
	want := `SELECT 1 FROM t WHERE ws = 'w' AND id = ((ARRAY['a','b']::uuid[])[:i]) AND ` +
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
			if (s.pending == "") == (s.request == nil) {
				t.Errorf("scenario %q: wants either a request or a pending reason", s.id)
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := loadConfig(env(tc.env))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.contacts != 1_000_000 || c.duration != 10*time.Second || len(c.levels) != 3 {
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

func TestInboxSearch(t *testing.T) {
	many := make([]string, searchFirstLimit+1)
	for i := range many {
		many[i] = "id"
	}
	tests := []struct {
		name     string
		ids      []string
		contains string
	}{
		{"few matches start from them", []string{"a", "b"}, "FROM (SELECT v.id FROM unnest($1::uuid[]) AS c(id) JOIN conversations v ON v.workspace_id = $2 " +
			"AND v.contact_id = c.id WHERE v.workspace_id = $3 AND v.status = 'closed' ORDER BY v.last_message_at DESC, v.id DESC LIMIT $4) m"},
		{"many matches walk the conversations", many, "LIMIT $2) v WHERE v.search_text LIKE $3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &fixture{searchIDs: map[string][]string{searchFirst("ws", "gonz").literal(): tc.ids}}
			f.searchIDs[inboxWalk("ws", "v.status = 'closed'", "gonz", searchWalkBound).literal()] = []string{}
			sts := f.inboxSearch("ws", "v.status = 'closed'", "gonz")
			if len(sts) != 3 {
				t.Fatalf("%d statements, want the bounded walk, the lookup and the page", len(sts))
			}
			if few := len(tc.ids) <= searchFirstLimit; (sts[1].gset != "") != few {
				t.Errorf("lookup gset = %q with %d ids", sts[1].gset, len(tc.ids))
			}
			if got := squash(sts[2].numbered()); !strings.Contains(got, tc.contains) {
				t.Errorf("statement\n%s\ndoes not contain\n%s", got, tc.contains)
			}
			_ = sts[2].literal()
		})
	}
}
