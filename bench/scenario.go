package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/page"
)

// scenario is one row of the benchmark. Adding a scenario is adding one entry to scenarios.
type scenario struct {
	id   string // for BENCH_SCENARIOS and file names
	name string // as printed in the results
	// pending says why the scenario cannot run yet (its endpoint is not on main); it is
	// listed in the results and skipped.
	pending string
	// request builds the request for variant i. i is random per request; pick parameters
	// with pick(pool, i) so that the API and pgbench draw from the same pools.
	request func(f *fixture, i int) vegeta.Target
	// sql, for read scenarios, returns the statements one request runs in PostgreSQL for
	// variant i, in order and with the same arguments. pgbench replays them as one
	// transaction; nil for write scenarios.
	sql func(f *fixture, i int) []statement
}

// scenarios is the benchmark. Scenarios marked pending are implemented as soon as their
// endpoint lands on main.
var scenarios = []scenario{
	{
		id:   "contacts-phone",
		name: "contact search: 4 phone digits",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/contacts?q="+url.QueryEscape(pick(f.phoneFragments, i)))
		},
		sql: func(f *fixture, i int) []statement {
			return []statement{f.sessionUser(i), contactSearch(f.workspaceID, pick(f.phoneFragments, i))}
		},
	},
	{
		id:   "contacts-name",
		name: "contact search: last-name fragment",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/contacts?q="+url.QueryEscape(pick(f.nameFragments, i)))
		},
		sql: func(f *fixture, i int) []statement {
			return []statement{f.sessionUser(i), contactSearch(f.workspaceID, pick(f.nameFragments, i))}
		},
	},
	{
		id:      "inbox-mine",
		name:    "inbox list: open, mine",
		pending: "GET /v1/conversations?status=open&inbox=mine is not on main yet (issue 4)",
	},
	{
		id:      "closed-search",
		name:    "inbox: closed + last-name fragment",
		pending: "GET /v1/conversations?status=closed&q= is not on main yet (issue 4)",
	},
	{
		id:      "send-eligibility",
		name:    "send-eligibility",
		pending: "GET /v1/contacts/{id}/send-eligibility is not on main yet (issue 5)",
	},
	{
		id:      "send",
		name:    "rule-checked send, many contacts",
		pending: "POST /v1/contacts/{id}/messages is not on main yet (issue 5)",
	},
	{
		id:      "inbound",
		name:    "inbound ingestion",
		pending: "POST /v1/channels/{id}/inbound and `switchboard seed` channels are not on main yet (issue 4)",
	},
}

// fixture is what the scenarios draw their parameters from: the bench workspace, its agents
// (logged in for this run) and samples of the seeded data.
type fixture struct {
	base           string // http://127.0.0.1:port
	workspaceID    string
	agents         []agent
	phoneFragments []string // 4 digits of seeded phone numbers
	nameFragments  []string // 4 letters of seeded last names, lower-cased
	contactIDs     []string // a sample of seeded contacts, for per-contact scenarios
}

// agent is a logged-in agent of the bench workspace.
type agent struct {
	id, email, token, session string
	auth                      http.Header
}

// pick returns the pool entry of variant i.
func pick[T any](pool []T, i int) T { return pool[i%len(pool)] }

// get is a GET of path as the agent of variant i.
func (f *fixture) get(i int, path string) vegeta.Target {
	return vegeta.Target{Method: http.MethodGet, URL: f.base + path, Header: pick(f.agents, i).auth}
}

// statement is one SQL statement as the store sends it, with gorm's ? placeholders, and the
// arguments of one request.
type statement struct {
	sql  string
	args []any
}

// literal is the statement with its arguments written in, for pgbench (which cannot hold
// string variables) and EXPLAIN.
func (s statement) literal() string {
	return s.fill(func(n int) string {
		switch v := s.args[n].(type) {
		case int:
			return strconv.Itoa(v)
		case string:
			return "'" + strings.ReplaceAll(v, "'", "''") + "'"
		default:
			panic(fmt.Sprintf("statement argument %d: unsupported type %T", n, v))
		}
	})
}

// numbered is the statement as PostgreSQL receives it from the API ($1, $2, ...), to check
// the copy here against what the server really runs (pg_stat_activity).
func (s statement) numbered() string {
	return s.fill(func(n int) string { return "$" + strconv.Itoa(n+1) })
}

func (s statement) fill(arg func(n int) string) string {
	var b strings.Builder
	n := 0
	for _, r := range s.sql {
		if r == '?' {
			b.WriteString(arg(n))
			n++
			continue
		}
		b.WriteRune(r)
	}
	if n != len(s.args) {
		panic(fmt.Sprintf("statement has %d placeholders and %d arguments", n, len(s.args)))
	}
	return b.String()
}

// The SQL below is copied from pkg/store; every run checks the copies against the statements
// the server executes (see sqlCheck) and flags any that drifted.

// sessionUser is store.SessionUser: every request with an agent's access token runs it.
func (f *fixture) sessionUser(i int) statement {
	a := pick(f.agents, i)
	return statement{sql: `
SELECT u.* FROM sessions s JOIN users u ON u.workspace_id = s.workspace_id AND u.id = s.user_id
WHERE s.workspace_id = ? AND s.id = ? AND s.user_id = ? AND s.revoked_at IS NULL`,
		args: []any{f.workspaceID, a.session, a.id}}
}

// contactSearch is store.Contacts (contactsQuery with searchCondition) for q: the first page
// at the default limit, one extra row to know whether there is a next page.
func contactSearch(ws, q string) statement {
	q = strings.ToLower(strings.Join(strings.Fields(q), " "))
	cond := `c.search_text LIKE ?`
	args := []any{ws, likePattern(q)}
	if d := contact.SearchDigits(q); d != "" {
		cond = `(` + cond + ` OR c.phone_digits LIKE ?)`
		args = append(args, likePattern(d))
	}
	return statement{sql: `SELECT c.workspace_id, c.id, c.first_name, c.last_name, c.email, c.phone, c.language, c.country,
       c.tags, c.custom_fields, c.created_at, c.updated_at, v.id AS conversation_id, v.status AS conversation_status
FROM contacts c JOIN conversations v ON v.workspace_id = c.workspace_id AND v.contact_id = c.id
WHERE c.workspace_id = ? AND ` + cond + `
ORDER BY c.id DESC
LIMIT ?`, args: append(args, page.DefaultLimit+1)}
}

// likePattern is store.likePattern.
func likePattern(fragment string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(fragment) + "%"
}
