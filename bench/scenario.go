package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
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
	// request builds the request for variant i (nil for the open mix, which has its own). i is random per request; pick parameters
	// with pick(pool, i) so that the API and pgbench draw from the same pools.
	request func(f *fixture, i int) vegeta.Target
	// reads, for read scenarios, makes the calls into the store (through the services, as
	// the API's handler does) that one request for variant i makes; pgbench replays the
	// statements the store sends for them (see statements). nil for write scenarios.
	reads func(ctx context.Context, f *fixture, i int) error
	// extras is set for a scenario that reads the labels, snoozes and mentions ensureExtras
	// makes; they are made only when such a scenario runs.
	extras bool
	// threads is set for a scenario that reads the threads ensureThreads writes (with media,
	// and text); they are written only when such a scenario runs.
	threads bool
	// open is set for the open-mix scenario: issue 19's mix at the fixed rates of
	// BENCH_OPEN_RATES (measureOpenMix), not a closed loop at the levels; no pgbench.
	open bool
	// tagged is set for a scenario that sends to the broadcast audience ensureBroadcastTag
	// tags; it is tagged only when such a scenario runs.
	tagged bool
	// spread is set for a scenario that writes to the ten workspaces ensureSpread makes.
	spread bool
}

// firstPage is the page every read scenario asks for.
var firstPage = page.Request{Limit: page.DefaultLimit}

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
		reads: func(ctx context.Context, f *fixture, i int) error {
			return f.asAgent(ctx, i, func() error {
				_, _, err := f.contacts.List(ctx, f.workspaceID, contact.Filter{Q: pick(f.phoneFragments, i)}, firstPage)
				return err
			})
		},
	},
	{
		id:    "contacts-name",
		name:  "contact search: last-name fragment",
		needs: "GET /v1/contacts",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/contacts?q="+url.QueryEscape(pick(f.nameFragments, i)))
		},
		reads: func(ctx context.Context, f *fixture, i int) error {
			return f.asAgent(ctx, i, func() error {
				_, _, err := f.contacts.List(ctx, f.workspaceID, contact.Filter{Q: pick(f.nameFragments, i)}, firstPage)
				return err
			})
		},
	},
	{
		id:    "inbox-mine",
		name:  "inbox list: open, mine",
		needs: "GET /v1/conversations",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations?status=open&inbox=mine")
		},
		reads: inboxReads(func(_ *fixture, _ int, me uuid.UUID) conversation.Filter {
			return conversation.Filter{Status: "open", Inbox: conversation.InboxMine, Me: me}
		}),
	},
	{
		// The inbox searched by phone, every status: the contacts that share the fragment's
		// 4-digit gram (contact_phone_grams), then their conversations newest first.
		id:    "inbox-phone",
		name:  "inbox: all statuses + 4 phone digits",
		needs: "GET /v1/conversations",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations?status=all&q="+url.QueryEscape(pick(f.phoneFragments, i)))
		},
		reads: inboxReads(func(f *fixture, i int, _ uuid.UUID) conversation.Filter {
			return conversation.Filter{Status: conversation.FilterAll, Q: pick(f.phoneFragments, i)}
		}),
	},
	{
		id:    "closed-search",
		name:  "inbox: closed + last-name fragment",
		needs: "GET /v1/conversations",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations?status=closed&q="+url.QueryEscape(pick(f.nameFragments, i)))
		},
		reads: inboxReads(func(f *fixture, i int, _ uuid.UUID) conversation.Filter {
			return conversation.Filter{Status: "closed", Q: pick(f.nameFragments, i)}
		}),
	},
	{
		// The two searches above without their q: the same lists, which issue 19 measures each
		// search against (every status: conversations_recent; closed: conversations_closed).
		id:    "inbox-all",
		name:  "inbox list: all statuses",
		needs: "GET /v1/conversations",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations?status=all")
		},
		reads: inboxReads(func(_ *fixture, _ int, _ uuid.UUID) conversation.Filter {
			return conversation.Filter{Status: conversation.FilterAll}
		}),
	},
	{
		id:    "inbox-closed",
		name:  "inbox list: closed",
		needs: "GET /v1/conversations",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations?status=closed")
		},
		reads: inboxReads(func(_ *fixture, _ int, _ uuid.UUID) conversation.Filter {
			return conversation.Filter{Status: "closed"}
		}),
	},
	{
		// The tab counts an inbox shows beside its list: counters, not count(*) over the open set.
		id:    "counts",
		name:  "inbox tab counts",
		needs: "GET /v1/conversations/counts",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations/counts")
		},
		reads: func(ctx context.Context, f *fixture, i int) error {
			return f.asAgent(ctx, i, func() error {
				id := pick(f.agents, i).id
				_, err := f.convs.Counts(ctx, f.workspaceID, &id)
				return err
			})
		},
	},
	{
		// The floor under counts: an authenticated read of one row by key, the same two round
		// trips (the session's lookup, then the read). At 16 clients on 2 cores its p99 is
		// what scheduling leaves any such request.
		id:    "me",
		name:  "GET /v1/me",
		needs: "GET /v1/me",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/me")
		},
		reads: func(ctx context.Context, f *fixture, i int) error {
			return f.asAgent(ctx, i, func() error {
				_, err := f.st.User(ctx, f.workspaceID, pick(f.agents, i).id)
				return err
			})
		},
	},
	{
		// The conversations whose notes mention the agent (ensureExtras writes them): a walk of
		// conversation_mentions_recent.
		id:     "inbox-mentions",
		name:   "inbox list: mentions",
		needs:  "GET /v1/conversations",
		extras: true,
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations?inbox=mentions&status=all")
		},
		reads: inboxReads(func(_ *fixture, _ int, me uuid.UUID) conversation.Filter {
			return conversation.Filter{Status: "all", Inbox: conversation.InboxMentions, Sort: conversation.SortNewest, Me: me}
		}),
	},
	{
		// Open conversations with a label, one on many conversations or one on few (see
		// ensureExtras): planned for the label on every execution.
		id:     "inbox-label",
		name:   "inbox list: open, label_id",
		needs:  "GET /v1/conversations",
		extras: true,
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations?label_id="+pick(f.labels, i))
		},
		reads: inboxReads(func(f *fixture, i int, _ uuid.UUID) conversation.Filter {
			l := uuid.MustParse(pick(f.labels, i))
			return conversation.Filter{Status: "open", Inbox: conversation.FilterAll, Sort: conversation.SortNewest, LabelID: &l}
		}),
	},
	{
		// Snoozed conversations (ensureExtras snoozes them): a walk of conversations_snoozed.
		id:     "inbox-snoozed",
		name:   "inbox list: snoozed",
		needs:  "GET /v1/conversations",
		extras: true,
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations?status=snoozed")
		},
		reads: inboxReads(func(_ *fixture, _ int, _ uuid.UUID) conversation.Filter {
			return conversation.Filter{Status: "snoozed", Inbox: conversation.FilterAll, Sort: conversation.SortNewest}
		}),
	},
	{
		// The plain inbox, as it opens: open conversations, newest first (conversations_open).
		// The window scenarios below are measured against it.
		id:    "inbox-open",
		name:  "inbox list: open",
		needs: "GET /v1/conversations",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations")
		},
		reads: inboxReads(func(_ *fixture, _ int, _ uuid.UUID) conversation.Filter {
			return conversation.Filter{Status: "open", Inbox: conversation.FilterAll, Sort: conversation.SortNewest}
		}),
	},
	{
		// Open conversations by reply window, soonest-closing first (ensureExtras opens the
		// windows): a range of conversations_window_open from now on.
		id:     "inbox-window-sort",
		name:   "inbox list: sort=window_closing",
		needs:  "GET /v1/conversations",
		extras: true,
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations?sort=window_closing")
		},
		reads: inboxReads(func(_ *fixture, _ int, _ uuid.UUID) conversation.Filter {
			return conversation.Filter{Status: "open", Inbox: conversation.FilterAll, Sort: conversation.SortWindowClosing}
		}),
	},
	{
		// The closing tab: open conversations whose window closes within the workspace's
		// window_closing_minutes (60), soonest first: a range of conversations_window_open.
		id:     "inbox-window-closing",
		name:   "inbox list: window=closing, soonest first",
		needs:  "GET /v1/conversations",
		extras: true,
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations?window=closing&sort=window_closing")
		},
		reads: inboxReads(func(_ *fixture, _ int, _ uuid.UUID) conversation.Filter {
			return conversation.Filter{Status: "open", Inbox: conversation.FilterAll, Sort: conversation.SortWindowClosing,
				Window: conversation.WindowClosing}
		}),
	},
	{
		// The same, newest first (asked for: the closing tab's default is soonest first): a walk of conversations_window_recent, which
		// passes the open windows newer than the closing ones (every window that opened in the
		// last 23 hours) before it has a page.
		id:     "inbox-window-closing-newest",
		name:   "inbox list: window=closing, newest first",
		needs:  "GET /v1/conversations",
		extras: true,
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations?window=closing&sort=newest")
		},
		reads: inboxReads(func(_ *fixture, _ int, _ uuid.UUID) conversation.Filter {
			return conversation.Filter{Status: "open", Inbox: conversation.FilterAll, Sort: conversation.SortNewest,
				Window: conversation.WindowClosing}
		}),
	},
	{
		// A thread as an agent opens it: the newest page of a conversation's messages, whose
		// newest carry photos and documents (ensureThreads: 1 to 3 files each, stored media).
		// Attachments are JSON on the message rows, so the statements are thread's; what media
		// adds is their bytes read, decoded and written out. (The conversation's own GET,
		// which the frontend sends beside it, reads no attachment.)
		id:      "thread-media",
		name:    "thread: newest page, with media",
		needs:   "GET /v1/conversations/{id}/messages",
		threads: true,
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations/"+pick(sample(f.mediaThreads), i)+"/messages")
		},
		reads: threadReads(func(f *fixture) []string { return f.mediaThreads }),
	},
	{
		// The same without media: as many messages (the same number ingested the same way),
		// text only. thread-media against it is what media adds.
		id:      "thread",
		name:    "thread: newest page, text",
		needs:   "GET /v1/conversations/{id}/messages",
		threads: true,
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/conversations/"+pick(sample(f.textThreads), i)+"/messages")
		},
		reads: threadReads(func(f *fixture) []string { return f.textThreads }),
	},
	{
		id:    "send-eligibility",
		name:  "send-eligibility",
		needs: "GET /v1/contacts/{id}/send-eligibility",
		request: func(f *fixture, i int) vegeta.Target {
			return f.get(i, "/v1/contacts/"+pick(f.contactIDs, i)+"/send-eligibility")
		},
		reads: func(ctx context.Context, f *fixture, i int) error {
			return f.asAgent(ctx, i, func() error {
				a := pick(f.agents, i)
				by := conversation.Caller{Actor: conversation.Actor{Kind: conversation.ActorUser, ID: a.id}, User: &a.id, Agent: true}
				_, err := f.sends.Eligibility(ctx, f.workspaceID, uuid.MustParse(pick(f.contactIDs, i)), by, nil, nil)
				return err
			})
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
		// The same send spread over ten workspaces (ensureSpread), each by its API key: each
		// workspace numbers its own events, so their sends do not wait on one another.
		id:      "send-spread",
		name:    "rule-checked send, 10 workspaces",
		needs:   "POST /v1/contacts/{id}/messages",
		spread:  true,
		request: sendSpread,
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
	{
		// Issue 19's realistic mix in an open loop at fixed rates (openmix.go): the latency an
		// inbox in use sees, and the highest rate the server holds. Its requests are the
		// mixer's (benchMixer), built from the other scenarios' (so not a request here: that
		// would make scenarios refer to itself).
		id:      "open-mix",
		name:    "open loop: issue 19's mix",
		needs:   "GET /v1/conversations/{id}/messages", // and the rest of mixRoutes (env.unavailable)
		open:    true,
		threads: true,
	},
	{
		// A dry run of a broadcast to 100 000 contacts by tag (ensureBroadcastTag): the audience
		// with each contact's WhatsApp identity in one query, then the rule table per contact
		// in Go. Issue 16 wants it under 2 s.
		id:      "broadcast-dry-run",
		name:    "broadcast dry run, 100 000 by tag",
		needs:   "POST /v1/broadcasts",
		tagged:  true,
		request: broadcastDryRun,
	},
	{
		// The send's throughput (recipients a second) and the inbox's p99 while it runs are
		// not a request rate: the harness has no way yet to run a load beside a background job.
		id:      "broadcast-send",
		name:    "broadcast send, 100 000 by tag",
		needs:   "POST /v1/broadcasts",
		pending: "a broadcast's throughput is recipients a second of its job, not requests: make bench-broadcast measures it",
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
	workspaceID    uuid.UUID
	agents         []agent
	phoneFragments []string // 4 digits of seeded phone numbers
	nameFragments  []string // 4 letters of seeded last names, lower-cased
	contactIDs     []string // a sample of seeded contacts, for per-contact scenarios
	sendTargets    []sendTarget
	spreadTargets  [][]spreadTarget // per workspace

	keyAuth            http.Header // the bench owner's API key, as an integration calls
	inboundChannel     string      // the seeded WhatsApp channel
	inboundIdentifiers []string    // a sample of its identities
	labels             []string    // the labels ensureExtras made: one on many conversations, one on few
	mediaThreads       []string    // conversations whose newest messages carry media (ensureThreads)
	textThreads        []string    // as many others whose newest messages are as many texts
	runID              string      // makes external ids unique across runs
	sequence           atomic.Uint64

	// The store on the bench database, and the services the read scenarios call on it.
	st       *store.Store
	contacts *contact.Service
	convs    *conversation.Service
	sends    *conversation.SendService
	mu       sync.Mutex
	recorded map[string][]statement // by scenario id and variant
}

// agent is a logged-in agent of the bench workspace.
type agent struct {
	id, session  uuid.UUID
	email, token string
	auth         http.Header
}

// pick returns the pool entry of variant i.
func pick[T any](pool []T, i int) T { return pool[i%len(pool)] }

// get is a GET of path as the agent of variant i.
func (f *fixture) get(i int, path string) vegeta.Target {
	return vegeta.Target{Method: http.MethodGet, URL: f.base + path, Header: pick(f.agents, i).auth}
}

// asAgent is a request of the agent of variant i: the session lookup of its access token,
// then do.
func (f *fixture) asAgent(ctx context.Context, i int, do func() error) error {
	a := pick(f.agents, i)
	if _, err := f.st.SessionUser(ctx, f.workspaceID, a.session, a.id); err != nil {
		return err
	}
	return do()
}

// statements are the statements one request of read scenario s for variant i runs in
// PostgreSQL, in order and with the same arguments: what the store sends when s.reads makes
// the request's calls (store.Traced), so pgbench replays the store's own SQL. Which statements
// a search runs depends on the data (see store.searchSteps), so they are recorded on the
// bench database, once per variant.
func (f *fixture) statements(s scenario, i int) []statement {
	key := s.id + "/" + strconv.Itoa(i%variants)
	f.mu.Lock()
	defer f.mu.Unlock()
	if sts, ok := f.recorded[key]; ok {
		return sts
	}
	ctx, trace := store.Traced(context.Background())
	if err := s.reads(ctx, f, i); err != nil {
		panic(fmt.Sprintf("%s: record the store's statements: %v", s.id, err)) // the harness's own calls: a bug
	}
	var sent []store.Statement
	var hidden []bool
	for _, trip := range trace.RoundTrips() {
		for k, st := range trip {
			sent = append(sent, st)
			hidden = append(hidden, k < len(trip)-1)
		}
	}
	sts := fromStore(sent)
	for k := range sts {
		sts[k].hidden = hidden[k]
	}
	f.recorded[key] = sts
	return sts
}

// statement is one SQL statement as the store sends it ($1, $2, ...), with the arguments of
// one request.
type statement struct {
	sql  string
	args []any
	// planned is set for a statement the store plans for its arguments on every execution
	// (store.planEach: pgx's unnamed statement) instead of preparing it once per connection.
	planned bool
	// gset names the pgbench variable that keeps the ids this statement finds, for an idsArg
	// of a later statement in the script, as the store passes one query's answer to the next.
	gset string
	// hidden is set for a statement of a batch other than its last: pg_stat_activity shows a
	// session's current or last statement, and this one runs for microseconds between two
	// others of one round trip, so the warm-up rarely sees it (see warmUp).
	hidden bool
}

// fromStore turns the statements the store sent into the harness's. A uuid[] argument is the
// ids the statement before it found (the inbox search's lookup hands its contacts to the
// page's statement, a page hands its conversations to the reads of their labels and read
// state), or the same ids as the statement before it was given (the second of those reads):
// pgbench passes them on in a variable instead of parsing every variant's array.
func fromStore(sts []store.Statement) []statement {
	out := make([]statement, len(sts))
	prev := "" // the ids the statement before was given, as a literal
	for i, st := range sts {
		// gorm's statements (database/sql on pgx) carry pgx's result formats as an argument.
		args := slices.DeleteFunc(slices.Clone(st.Args), func(a any) bool {
			_, ok := a.(pgx.QueryResultFormatsByOID)
			return ok
		})
		out[i] = statement{sql: st.SQL, args: args, planned: st.PlanEach}
		given := ""
		for k, a := range args {
			ids, ok := a.([]uuid.UUID)
			if !ok || i == 0 {
				continue
			}
			lit := make([]string, len(ids))
			for n, id := range ids {
				lit[n] = id.String()
			}
			given = "{" + strings.Join(lit, ",") + "}"
			if given != prev {
				out[i-1].gset = "ids"
			}
			out[i].args[k] = idsArg{literal: given, from: "ids"}
		}
		prev = given
	}
	return out
}

// idsArg is a uuid[] argument that holds what an earlier statement found: written out as an
// array literal, and in pgbench taken from the variable the earlier statement set (gset), so
// pgbench neither parses every variant's array nor skips the lookup.
type idsArg struct {
	literal string // {id,id,...}
	from    string // the pgbench variable
}

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
	case uuid.UUID:
		return "'" + v.String() + "'"
	case time.Time:
		return "'" + v.UTC().Format("2006-01-02 15:04:05.999999") + "+00'"
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
	case uuid.UUID:
		return "uuid"
	case time.Time:
		return "timestamptz"
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

var placeholder = regexp.MustCompile(`\$[0-9]+`)

// fill writes arg(n) for each placeholder $n+1.
func (s statement) fill(arg func(n int) string) string {
	used := 0
	out := placeholder.ReplaceAllStringFunc(s.sql, func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		if n < 1 || n > len(s.args) {
			panic(fmt.Sprintf("statement has %s and %d arguments", p, len(s.args)))
		}
		used = max(used, n)
		return arg(n - 1)
	})
	if used != len(s.args) {
		panic(fmt.Sprintf("statement uses %d of its %d arguments", used, len(s.args)))
	}
	return out
}

// inboxReads is an inbox scenario's reads: agent i's first page, with their read state, of
// the filter filter builds for them (me is the agent's user id).
func inboxReads(filter func(f *fixture, i int, me uuid.UUID) conversation.Filter) func(context.Context, *fixture, int) error {
	return func(ctx context.Context, f *fixture, i int) error {
		return f.asAgent(ctx, i, func() error {
			me := pick(f.agents, i).id
			fl := filter(f, i, me)
			fl.Reader = &me
			_, _, err := f.convs.List(ctx, f.workspaceID, fl, firstPage)
			return err
		})
	}
}

// threadReads is a thread scenario's reads: agent i's first page of the messages of
// conversation i of the pool.
func threadReads(pool func(f *fixture) []string) func(context.Context, *fixture, int) error {
	return func(ctx context.Context, f *fixture, i int) error {
		return f.asAgent(ctx, i, func() error {
			_, _, err := f.convs.Messages(ctx, f.workspaceID, uuid.MustParse(pick(sample(pool(f)), i)), firstPage)
			return err
		})
	}
}

// sample is the part of a pool the API run draws from: its first variants entries, so that
// the API reads what pgbench replays (pgbench has one parameter set per variant).
func sample[T any](pool []T) []T { return pool[:min(len(pool), variants)] }
