package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/store"
)

// scenario is one row of the benchmark. Adding a scenario is adding one entry to scenarios.
type scenario struct {
	id   string // for BENCH_SCENARIOS and file names
	name string // as printed in the results
	// needs is the route the scenario drives ("GET /v1/conversations"). A server whose
	// spec (/openapi.json) lacks it does not run the scenario, so scenarios can be written
	// ahead of their endpoint and start running once it is merged.
	needs string
	// pending says why the scenario has no implementation yet; it is listed in the results.
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
		id:    "contacts-phone",
		name:  "contact search: 4 phone digits",
		needs: "GET /v1/contacts",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/contacts?q="+url.QueryEscape(pick(f.phoneFragments, i)))
		},
		sql: func(f *fixture, i int) []statement {
			return append([]statement{f.sessionUser(i)}, f.contactSearch(f.workspaceID, pick(f.phoneFragments, i))...)
		},
	},
	{
		id:    "contacts-name",
		name:  "contact search: last-name fragment",
		needs: "GET /v1/contacts",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/contacts?q="+url.QueryEscape(pick(f.nameFragments, i)))
		},
		sql: func(f *fixture, i int) []statement {
			return append([]statement{f.sessionUser(i)}, f.contactSearch(f.workspaceID, pick(f.nameFragments, i))...)
		},
	},
	{
		id:    "inbox-mine",
		name:  "inbox list: open, mine",
		needs: "GET /v1/conversations",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations?status=open&inbox=mine")
		},
		sql: func(f *fixture, i int) []statement {
			return []statement{f.sessionUser(i), inboxList(f.workspaceID, "v.status = 'open'",
				statement{sql: "v.assignee_id = ?", args: []any{pick(f.agents, i).id}})}
		},
	},
	{
		id:    "closed-search",
		name:  "inbox: closed + last-name fragment",
		needs: "GET /v1/conversations",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations?status=closed&q="+url.QueryEscape(pick(f.nameFragments, i)))
		},
		sql: func(f *fixture, i int) []statement {
			return append([]statement{f.sessionUser(i)}, f.inboxSearch(f.workspaceID, "v.status = 'closed'", pick(f.nameFragments, i))...)
		},
	},
	{
		id:    "send-eligibility",
		name:  "send-eligibility",
		needs: "GET /v1/contacts/{id}/send-eligibility",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/contacts/"+pick(f.contactIDs, i)+"/send-eligibility")
		},
		sql: func(f *fixture, i int) []statement {
			return []statement{f.sessionUser(i), eligibility(f.workspaceID, uuidArg(pick(f.contactIDs, i)))}
		},
	},
	{
		// An agent follows up on a channel without a window (Telegram, SMS, email, LINE,
		// website chat), so every send is allowed and the figure is the send path's cost,
		// spread over many contacts.
		id:    "send",
		name:  "rule-checked send, many contacts",
		needs: "POST /v1/contacts/{id}/messages",
		request: func(f *fixture, i int) vegeta.Target {
			t := pick(f.sendTargets, i)
			body, _ := json.Marshal(map[string]string{"type": "text", "text": pick(sendTexts, i), "channel_id": t.channel})
			tg := f.get(i, "/v1/contacts/"+t.contact+"/messages")
			tg.Method, tg.Body = http.MethodPost, body
			tg.Header = tg.Header.Clone()
			tg.Header.Set("Content-Type", "application/json")
			return tg
		},
	},
	{
		// A bridge (API key) delivers customers' messages on WhatsApp: seeded identities
		// writing again, each message new (unique external_id).
		id:    "inbound",
		name:  "inbound ingestion",
		needs: "POST /v1/channels/{id}/inbound",
		request: func(f *fixture, i int) vegeta.Target {
			body, _ := json.Marshal(map[string]string{
				"identifier":  pick(f.inboundIdentifiers, i),
				"text":        pick(inboundTexts, i),
				"external_id": "bench-" + strconv.FormatUint(f.sequence.Add(1), 36) + "-" + f.runID,
			})
			return vegeta.Target{Method: http.MethodPost, URL: f.base + "/v1/channels/" + f.inboundChannel + "/inbound",
				Header: f.keyAuth, Body: body}
		},
	},
}

var sendTexts = []string{"Following up on your order: it ships today.", "Did the replacement arrive?",
	"Your refund has been issued.", "We're open 9-5 on Sunday."}

var inboundTexts = []string{"Hi, my order hasn't arrived yet", "Can I change the delivery address?",
	"Thanks, that worked!", "Is the store open on Sunday?", "I'd like to return an item", "Hello?"}

// sendTarget is a contact with an identity on a channel that has no messaging window.
type sendTarget struct{ contact, channel string }

// fixture is what the scenarios draw their parameters from: the bench workspace, its agents
// (logged in for this run) and samples of the seeded data.
type fixture struct {
	base           string // http://127.0.0.1:port
	workspaceID    uuidArg
	agents         []agent
	phoneFragments []string // 4 digits of seeded phone numbers
	nameFragments  []string // 4 letters of seeded last names, lower-cased
	contactIDs     []string // a sample of seeded contacts, for per-contact scenarios
	sendTargets    []sendTarget

	keyAuth            http.Header // the bench owner's API key, as an integration calls
	inboundChannel     string      // the seeded WhatsApp channel
	inboundIdentifiers []string    // a sample of its identities
	runID              string      // makes external ids unique across runs
	sequence           atomic.Uint64

	db        *pgxpool.Pool // for statements whose shape depends on the data (inboxSearch)
	mu        sync.Mutex
	searchIDs map[string][]string
}

// agent is a logged-in agent of the bench workspace.
type agent struct {
	id, session  uuidArg
	email, token string
	auth         http.Header
}

// pick returns the pool entry of variant i.
func pick[T any](pool []T, i int) T { return pool[i%len(pool)] }

// get is a GET of path as the agent of variant i.
func (f *fixture) get(i int, path string) vegeta.Target {
	return vegeta.Target{Method: http.MethodGet, URL: f.base + path, Header: pick(f.agents, i).auth}
}

// statement is one SQL statement as the store sends it, with ? for its placeholders ($1, $2,
// ... in the store), and the arguments of one request: string (text), int or uuidArg.
type statement struct {
	sql  string
	args []any
	// planned is set for a statement the store plans for its arguments on every execution
	// (store.planEach: pgx's unnamed statement) instead of preparing it once per connection.
	planned bool
	// gset names the pgbench variable that keeps the ids this statement finds, for an idsArg
	// of a later statement in the script, as the store passes one query's answer to the next.
	gset string
}

// idsArg is a uuid[] argument that holds what an earlier statement found: written out as an
// array literal, and in pgbench taken from the variable the earlier statement set (gset), so
// pgbench neither parses every variant's array nor skips the lookup.
type idsArg struct {
	literal string // {id,id,...}
	from    string // the pgbench variable
}

// uuidArg is a uuid argument; its type matters where pgbench gets it out of an array.
type uuidArg string

// literal is the statement with its arguments written in, for EXPLAIN and the lookups.
func (s statement) literal() string {
	return s.fill(func(n int) string { return sqlLiteral(s.args[n]) })
}

func sqlLiteral(v any) string {
	switch v := v.(type) {
	case int:
		return strconv.Itoa(v)
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case uuidArg:
		return "'" + string(v) + "'"
	case idsArg:
		return "'" + v.literal + "'"
	default:
		panic(fmt.Sprintf("statement argument of unsupported type %T", v))
	}
}

// sqlType is the PostgreSQL type of an argument.
func sqlType(v any) string {
	switch v.(type) {
	case int:
		return "bigint"
	case uuidArg:
		return "uuid"
	default:
		return "text"
	}
}

// pgbenchStatement is one statement for several variants of a request, with the same shape:
// an argument equal in all of them is written in, any other is picked from an array of the
// variants' values by the script's variable :i (1-based). Under -M prepared the statement is
// prepared once per connection, as the API's is, and when PostgreSQL plans it for the bound
// :i it folds the array element to a constant, as it would the API's bound parameter.
func pgbenchStatement(variants []statement) string {
	first := variants[0]
	return first.fill(func(n int) string {
		if ids, ok := first.args[n].(idsArg); ok {
			return ":" + ids.from
		}
		vals := make([]string, len(variants))
		same := true
		for k, v := range variants {
			vals[k] = sqlLiteral(v.args[n])
			same = same && vals[k] == vals[0]
		}
		if same {
			return vals[0]
		}
		return "((ARRAY[" + strings.Join(vals, ",") + "]::" + sqlType(first.args[n]) + "[])[:i])"
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
SELECT u.workspace_id, u.id, u.email, u.name, u.role, u.password_hash, u.created_at, u.updated_at
FROM sessions s JOIN users u ON u.workspace_id = s.workspace_id AND u.id = s.user_id
WHERE s.workspace_id = ? AND s.id = ? AND s.user_id = ? AND s.revoked_at IS NULL`,
		args: []any{f.workspaceID, a.session, a.id}}
}

// searchCondition is store.searchCondition: a fragment of the names and email, or of the
// phone's digits.
func searchCondition(alias, q string) statement {
	q = strings.ToLower(strings.Join(strings.Fields(q), " "))
	st := statement{sql: alias + `.search_text LIKE ?`, args: []any{likePattern(q)}}
	if d := contact.SearchDigits(q); d != "" {
		st = statement{sql: `(` + st.sql + ` OR ` + alias + `.phone_digits LIKE ?)`, args: append(st.args, likePattern(d))}
	}
	return st
}

// The inbox's search (store.Conversations with q) runs up to three steps (store.searchSteps),
// each stopping once it has the page. Which steps a request runs depends on the data, so
// searchSteps asks the bench database, as the store does.

// The server runs with the store's defaults; the harness decides the steps with the same.
const (
	searchWalkBound  = store.DefaultSearchWalkBound
	searchFirstLimit = store.DefaultSearchFirstLimit
)

// searchSteps is store.searchSteps: the bounded walk; when it finds less than a page, the
// lookup (searchFirst) if q has a trigram, and then the page from the lookup's ids when they
// are all the matches, else the unbounded walk.
func (f *fixture) searchSteps(ws uuidArg, q string, walk func(bound int) statement,
	fromIDs func(first *statement, ids []string) statement) []statement {
	bounded := walk(searchWalkBound)
	if len(f.found(bounded)) >= page.DefaultLimit+1 {
		return []statement{bounded}
	}
	if !store.HasTrigram(q) {
		return []statement{bounded, walk(math.MaxInt)}
	}
	first := searchFirst(ws, q)
	ids := f.found(first)
	if len(ids) > searchFirstLimit {
		return []statement{bounded, first, walk(math.MaxInt)}
	}
	list := fromIDs(&first, ids)
	return []statement{bounded, first, list}
}

// found runs st on the bench database once and keeps the first column of its rows.
func (f *fixture) found(st statement) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := st.literal()
	ids, ok := f.searchIDs[key]
	if !ok {
		rows, err := f.db.Query(context.Background(), key)
		if err == nil {
			ids, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
				vals, err := r.Values()
				if err != nil {
					return "", err
				}
				if id, ok := vals[0].([16]byte); ok {
					return uuid.UUID(id).String(), nil
				}
				return fmt.Sprint(vals[0]), nil
			})
		}
		if err != nil {
			panic(fmt.Sprintf("search step: %v\n%s", err, key)) // the harness's own query: a bug
		}
		f.searchIDs[key] = ids
	}
	return ids
}

// contactColumns is store.contactColumns.
const contactColumns = `c.workspace_id, c.id, c.first_name, c.last_name, c.email, c.phone, c.language, c.country,
       c.tags, c.custom_fields, c.created_at, c.updated_at, v.id AS conversation_id, v.status AS conversation_status`

// contactSearch is store.Contacts for q, first page at the default limit (one extra row to
// know whether there is a next page): the bounded walk, and when it finds less than a page
// one statement the planner chooses for; for a q without a trigram, the walk to the end.
func (f *fixture) contactSearch(ws uuidArg, q string) []statement {
	if !store.HasTrigram(q) {
		return []statement{contactWalk(ws, q, math.MaxInt)}
	}
	bounded := contactWalk(ws, q, searchWalkBound)
	if len(f.found(bounded)) >= page.DefaultLimit+1 {
		return []statement{bounded}
	}
	cond := searchCondition("c", q)
	return []statement{bounded, contactPage(ws, `SELECT c.id FROM contacts c WHERE c.workspace_id = ? AND `+cond.sql+` ORDER BY c.id DESC LIMIT ?`,
		append(append([]any{ws}, cond.args...), page.DefaultLimit+1))}
}

// contactPage joins the conversations to the contacts m picked (by id).
func contactPage(ws uuidArg, m string, args []any) statement {
	return statement{sql: `SELECT ` + contactColumns + `
FROM (` + m + `) m
JOIN contacts c ON c.workspace_id = ? AND c.id = m.id
JOIN conversations v ON v.workspace_id = c.workspace_id AND v.contact_id = c.id
ORDER BY c.id DESC`, args: append(args, ws), planned: true}
}

// contactWalk is contact search walking contacts newest first (index-only) over at most
// bound entries (math.MaxInt: to the end).
func contactWalk(ws uuidArg, q string, bound int) statement {
	cond := searchCondition("c", q)
	return contactPage(ws, `SELECT c.id FROM (SELECT c.id, c.search_text, c.phone_digits FROM contacts c WHERE c.workspace_id = ? ORDER BY c.id DESC LIMIT ?) c
      WHERE `+cond.sql+` ORDER BY c.id DESC LIMIT ?`, append(append([]any{ws, bound}, cond.args...), page.DefaultLimit+1))
}

// inboxColumns and inboxJoins are store.conversationColumns and store.conversationJoins.
const inboxColumns = `
SELECT v.workspace_id, v.id, v.contact_id, v.status, v.assignee_id, v.last_message_at, v.last_message_id,
       v.last_message_channel_id, v.last_message_direction, v.last_message_type, v.last_message_text,
       v.closed_at, v.closing_category, v.closing_summary, v.closing_at, v.closing_actor_kind, v.closing_actor_id,
       v.created_at, v.updated_at,
       c.first_name AS contact_first_name, c.last_name AS contact_last_name, c.email AS contact_email,
       c.phone AS contact_phone, u.name AS assignee_name, u.email AS assignee_email`

const inboxJoins = `
JOIN contacts c ON c.workspace_id = v.workspace_id AND c.id = v.contact_id
LEFT JOIN users u ON u.workspace_id = v.workspace_id AND u.id = v.assignee_id`

// inboxList is store.Conversations, first page, newest first, with the status literal and
// one more condition.
func inboxList(ws uuidArg, status string, cond statement) statement {
	return inboxPage(statement{sql: inboxColumns + `
FROM conversations v` + inboxJoins}, ws, status, cond)
}

// inboxPage is the inbox's first page from a FROM clause (with its arguments).
func inboxPage(from statement, ws uuidArg, status string, cond statement) statement {
	where, args := `WHERE v.workspace_id = ? AND `+status, append(append([]any{}, from.args...), ws)
	if cond.sql != "" {
		where += ` AND ` + cond.sql
		args = append(args, cond.args...)
	}
	return statement{sql: from.sql + `
` + where + `
ORDER BY v.last_message_at DESC, v.id DESC
LIMIT ?`, args: append(args, page.DefaultLimit+1)}
}

// searchFirst is store.searchContacts: the lookup of at most searchFirstLimit (+1) contacts.
func searchFirst(ws uuidArg, q string) statement {
	cond := searchCondition("c", q)
	return statement{sql: `SELECT c.id FROM contacts c WHERE c.workspace_id = ? AND ` + cond.sql + ` LIMIT ?`,
		args: append(append([]any{ws}, cond.args...), searchFirstLimit+1), planned: true}
}

// inboxSearch is store.Conversations for q with the status literal, first page, newest first.
// When the lookup finds every match, pgbench passes its ids on in :ids.
func (f *fixture) inboxSearch(ws uuidArg, status string, q string) []statement {
	walk := func(bound int) statement { return inboxWalk(ws, status, q, bound) }
	fromIDs := func(first *statement, ids []string) statement {
		first.gset = "ids"
		return inboxPageOf(ws, `SELECT v.id FROM unnest(?::uuid[]) AS c(id)
      JOIN conversations v ON v.workspace_id = ? AND v.contact_id = c.id
      WHERE v.workspace_id = ? AND `+status+` `+inboxOrder+` LIMIT ?`,
			[]any{idsArg{literal: "{" + strings.Join(ids, ",") + "}", from: first.gset}, ws, ws, page.DefaultLimit + 1})
	}
	return f.searchSteps(ws, q, walk, fromIDs)
}

const inboxOrder = `ORDER BY v.last_message_at DESC, v.id DESC`

// inboxPageOf joins the contacts and assignees to the conversations m picked (by id).
func inboxPageOf(ws uuidArg, m string, args []any) statement {
	return statement{sql: inboxColumns + `
FROM (` + m + `) m
JOIN conversations v ON v.workspace_id = ? AND v.id = m.id` + inboxJoins + `
` + inboxOrder, args: append(args, ws), planned: true}
}

// inboxWalk is the inbox's search walking conversations by last message, over at most bound
// of them (index-only; math.MaxInt: to the end).
func inboxWalk(ws uuidArg, status, q string, bound int) statement {
	cond := searchCondition("v", q)
	return inboxPageOf(ws, `SELECT v.id FROM (SELECT v.id, v.last_message_at, v.search_text, v.phone_digits FROM conversations v
      WHERE v.workspace_id = ? AND `+status+` `+inboxOrder+` LIMIT ?) v
      WHERE `+cond.sql+` `+inboxOrder+` LIMIT ?`, append(append([]any{ws, bound}, cond.args...), page.DefaultLimit+1))
}

// likePattern is store.likePattern.
func likePattern(fragment string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(fragment) + "%"
}

// eligibility is store.Eligibility: a contact's identities with their channels and this
// month's usage, in one statement.
func eligibility(ws, contactID uuidArg) statement {
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02 15:04:05+00")
	return statement{sql: `
SELECT c.id AS contact_id, i.id AS identity_id, i.channel_id, ch.type AS channel_type, i.identifier,
       i.last_inbound_at, i.outbound_since_inbound, i.created_at AS identity_created_at, ch.rule_options,
       coalesce(u.initiated, 0) AS initiated
FROM contacts c
LEFT JOIN contact_identities i ON i.workspace_id = c.workspace_id AND i.contact_id = c.id
LEFT JOIN channels ch ON ch.workspace_id = i.workspace_id AND ch.id = i.channel_id
LEFT JOIN channel_usage u ON u.workspace_id = ch.workspace_id AND u.channel_id = ch.id AND u.month = ?
WHERE c.workspace_id = ? AND c.id = ? AND (i.id IS NULL OR ch.archived_at IS NULL)
ORDER BY i.created_at, i.id`, args: []any{month, ws, contactID}}
}
