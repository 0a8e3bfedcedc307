package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/contact"
)

// How a search is answered. q on contacts and on the inbox is a fragment of "first last email"
// (lower-cased), or, when it is a phone number fragment (contact.PhoneFragment: digits and
// phone punctuation only, at least contact.MinPhoneDigits digits), of the phone's digits; so
// the cost of a page depends on how many contacts match and where they fall in the list's
// order.
//
// A phone fragment is read from contact_phone_grams (migration 0026): one of its 4-digit
// grams, the rarest (phoneGram), walked newest contact first, so contact search stops at a
// full page after a few index pages (phoneContacts, Contacts), and the inbox looks its
// contacts up there (step 2 below, in place of the trigram index and of the first walk, which
// a fragment held by one contact in 1 000 would read to the end). For a fragment of 4 digits
// (one gram) the inbox's lists by last message read the gram's rows latest day first instead
// (migration 0028, Store.phoneDays), and look up only the conversations of the days that hold
// the page. Migration 0008 puts the search text and the digits in the indexes the lists walk
// (contacts_search_walk, and the inbox's status and assignee indexes; conversations copy their
// contact's text, kept equal by triggers), so walking a list and testing each entry reads no
// table row.
//
// Contact search (Contacts) first walks contacts_search_walk newest first over at most
// SearchWalkBound entries (a common fragment fills its page there), and otherwise runs one
// statement that PostgreSQL plans for its arguments: walk on, or collect the matches from the
// trigram indexes and sort them, whichever its statistics say is cheaper (they can take a
// common name for a rare one, which the first walk makes harmless).
//
// The inbox's search answers q in up to three steps, each stopping when it has the page:
//
//  1. A bounded walk: the inbox's own order (the status or assignee index by last message), at
//     most SearchWalkBound entries, keeping the matches. The walked indexes carry the search
//     text (migration 0008), so this is an index-only scan: a common fragment fills a page
//     after a few dozen index pages. Where the list keeps one plan, the same statement joins
//     the page's rows (Store.inbox's walkJoined), so such a page costs one statement.
//  2. A lookup: the matching contacts from the trigram indexes on contacts, at most
//     SearchFirstLimit of them (searchContacts). When every match fits, the page is built from
//     their conversations alone: a rare fragment costs as many lookups as it has matches,
//     however far apart they lie. Only for a fragment the first walk found rare (searchRare).
//  3. The walk without bound, for the rows still missing: q matches more contacts than the
//     lookup takes, or the first walk found it common, but its matches are thin at the start
//     of the order (an old name). It continues after the last row step 1 found (walkOn):
//     step 1 read every entry up to its bound and found no more, so the rows before that
//     one are already the page's first rows.
//
// The planner cannot choose between these in one statement: the trigram indexes are on
// contacts and the order is the conversations'. So the steps ask the data: how many matches
// step 1 found in its SearchWalkBound entries estimates how many contacts match (see
// searchRare). Step 2 is skipped when q has no trigram (one or two letters: 조, Li): pg_trgm
// would read its whole index to find nothing. (Contact search, whose order and trigram
// indexes are on the same table, lets the planner choose for the rare; see Contacts.)

// DefaultSearchWalkBound is how many index entries the first, bounded walk reads at most.
// Entries carry about 80 bytes, so that is ~60 index pages; a fragment shared by one contact
// in 200 fills a 25-row page within it.
const DefaultSearchWalkBound = 5000

// DefaultSearchFirstLimit is how many matching contacts a search still builds its page from.
const DefaultSearchFirstLimit = 1000

// searchRareEvery is the density below which the first walk's matches make a fragment rare:
// fewer than one match in searchRareEvery walked entries (at the default bound, at most 3 of
// 5 000). Then the trigram lookup (step 2) builds the page; otherwise the walk goes on.
//
// At density p the walk goes on for (want-n)/p more entries; the lookup collects p*C matching
// contacts (C in the workspace) and looks up each one's conversation. Measured on the bench
// database (1 000 000 contacts, warm): a walked entry of conversations_closed costs ~0.23 µs
// (5 000 in 1.1 ms, index-only), a looked-up contact ~15 µs ("emeka obi", 330 contacts: the
// trigram lookup 2.4 ms, their conversations 2.5 ms). For a 26-row page the two cost the same
// near p = 1/1 500, and from p = 1/1 000 the lookup exceeds SearchFirstLimit and is thrown
// away (3–5 ms for nothing). 1/1 250 keeps the lookup for the fragments it answers, and bounds
// the walk that goes on instead near want*searchRareEvery (~32 000) entries, ~7 ms.
const searchRareEvery = 1250

// searchRare reports whether a bounded walk that found n matches, fewer than a page, in its
// bound entries estimates q rare enough for the trigram lookup.
func searchRare(n, bound int) bool {
	return n*searchRareEvery < bound
}

// searchSteps runs the steps (without q, the list's own walk: walk(0)). walk runs the inbox's
// query from the page's position walking at most bound entries (math.MaxInt: to the end) and
// reports how many rows it found; walkOn, after walk found n rows (0 < n < want), walks on
// from the last of them without bound and reports how many rows there are now. walkOn is nil
// where a walk cannot go on from a row (sort=window_closing's walks are several, each bounded
// on its own, so their matches are no prefix of the order) or where nobody measured it
// (inbox=mentions): those keep step 2 and the walk from the start. fromIDs builds the page
// from the contacts that match (all of them). want is the page size plus one, a full page.
func (s *Store) searchSteps(ctx context.Context, ws uuid.UUID, q string, want int,
	walk func(bound int) (int, error), walkOn func() (int, error), fromIDs func(ids []uuid.UUID) error) error {
	if q == "" {
		_, err := walk(0)
		return err
	}
	if d, ok := contact.PhoneFragment(q); ok {
		// No bounded walk first: 4 digits are held by ~1 contact in 1 300, so a walk rarely
		// fills a page. At 1 000 000 contacts, the 521 contacts of one gram took 10 buffers to
		// find and ~2 100 to look up in closed conversations; the walk of conversations_closed
		// for the same digits read ~35 000 (44 000 entries, a third of them heap fetches).
		ids, err := s.phoneContacts(ctx, ws, d, s.SearchFirstLimit+1)
		if err != nil {
			return err
		}
		if len(ids) <= s.SearchFirstLimit {
			return fromIDs(ids)
		}
		_, err = walk(math.MaxInt)
		return err
	}
	n, rare := 0, true
	if s.SearchWalkBound > 0 {
		var err error
		if n, err = walk(s.SearchWalkBound); err != nil || n >= want {
			return err
		}
		rare = walkOn == nil || searchRare(n, s.SearchWalkBound)
	}
	if rare && hasTrigram(q) {
		ids, few, err := s.searchContacts(ctx, ws, q)
		if err != nil {
			return err
		}
		if few {
			return fromIDs(ids)
		}
	}
	if n > 0 && walkOn != nil {
		_, err := walkOn()
		return err
	}
	_, err := walk(math.MaxInt)
	return err
}

// searchContacts is step 2: the contacts matching q, at most SearchFirstLimit; few reports
// whether ids holds every match.
func (s *Store) searchContacts(ctx context.Context, ws uuid.UUID, q string) (ids []uuid.UUID, few bool, err error) {
	var args params
	limit := s.SearchFirstLimit
	sql := `SELECT c.id FROM contacts c WHERE c.workspace_id = ` + args.add(ws) + ` AND ` + searchCondition("c", q, &args) +
		` LIMIT ` + args.add(limit+1)
	ids, err = pgx.CollectRows(s.query(ctx, sql, planEach(args)...), pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, false, fmt.Errorf("search contacts: %w", err)
	}
	if ids == nil {
		ids = []uuid.UUID{}
	}
	return ids, len(ids) <= limit, nil
}

// phoneContacts returns the contacts whose phone holds the digits d (at least
// contact.MinPhoneDigits), newest first, at most limit: contact_phone_grams' entries of d's
// rarest gram, walked backwards by contact id (index-only), and for a d longer than one gram
// checked against the whole fragment in contacts_search_walk (index-only too).
func (s *Store) phoneContacts(ctx context.Context, ws uuid.UUID, d string, limit int) ([]uuid.UUID, error) {
	var args params
	sql := phoneMatches(ws, d, "", &args) + ` ORDER BY g.contact_id DESC LIMIT ` + args.add(limit)
	ids, err := pgx.CollectRows(s.query(ctx, sql, planEach(args)...), pgx.RowTo[uuid.UUID])
	if err != nil {
		return nil, fmt.Errorf("search phone digits: %w", err)
	}
	if ids == nil {
		ids = []uuid.UUID{}
	}
	return ids, nil
}

// phoneMatches selects (as id) the contacts of workspace ws whose phone holds the digits d,
// and meet cond on c (contacts, joined only with cond or a d longer than one gram), unordered:
// the caller orders by g.contact_id DESC, which walks contact_phone_grams' primary key
// backwards for the one gram phoneGram picks.
func phoneMatches(ws uuid.UUID, d, cond string, args *params) string {
	w := args.add(ws)
	where := []string{"g.workspace_id = " + w, "g.gram = " + phoneGram(w, d, args)}
	from := "contact_phone_grams g"
	if len(d) > contact.MinPhoneDigits || cond != "" {
		from += " JOIN contacts c ON c.workspace_id = g.workspace_id AND c.id = g.contact_id"
	}
	if len(d) > contact.MinPhoneDigits {
		where = append(where, "c.phone_digits LIKE "+args.add(likePattern(d)))
	}
	if cond != "" {
		where = append(where, cond)
	}
	return `SELECT g.contact_id AS id FROM ` + from + ` WHERE ` + strings.Join(where, " AND ")
}

// phoneGramCap is how many entries phoneGram counts of each gram at most: enough to tell a
// gram that fills a page at once from one that needs the whole fragment checked often, while
// the counting reads at most ~10 index pages a gram.
const phoneGramCap = 2000

// phoneGram is the SQL of the gram of d to walk. Four digits are one gram; a longer fragment
// has several, and the rarest has the fewest entries to check against the whole fragment (a
// country code's gram is in a tenth of the contacts, the subscriber's digits in ~0.1 %), so
// an InitPlan counts each up to phoneGramCap and picks the smallest. Its result is a constant
// to the walk, which therefore stays in the index's order.
func phoneGram(ws, d string, args *params) string {
	// Each gram a parameter of its own, an int: the bench harness writes them into pgbench
	// scripts (bench/scenario.go sqlLiteral).
	grams := digitGrams(d)
	if len(grams) == 1 {
		return args.add(grams[0]) + "::int2"
	}
	ps := make([]string, len(grams))
	for i, g := range grams {
		ps[i] = args.add(g)
	}
	return `(SELECT x.gram FROM unnest(ARRAY[` + strings.Join(ps, ", ") + `]::int2[]) AS x(gram)
    ORDER BY (SELECT count(*) FROM (SELECT FROM contact_phone_grams n WHERE n.workspace_id = ` + ws + ` AND n.gram = x.gram
              LIMIT ` + strconv.Itoa(phoneGramCap) + `) n) LIMIT 1)`
}

// digitGrams are the distinct 4-digit grams of d as migration 0026's phone_grams stores them
// (the digits read as a number).
func digitGrams(d string) []int {
	var grams []int
	for i := 0; i+contact.MinPhoneDigits <= len(d); i++ {
		n, _ := strconv.Atoi(d[i : i+contact.MinPhoneDigits])
		if !slices.Contains(grams, n) {
			grams = append(grams, n)
		}
	}
	return grams
}

// hasTrigram reports whether pg_trgm finds a trigram in q's LIKE pattern: a run of three
// letters or digits. Without one, the trigram index can only be read whole.
func hasTrigram(q string) bool {
	run := 0
	for _, r := range q {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if run++; run >= 3 {
				return true
			}
			continue
		}
		run = 0
	}
	return false
}

// searchTarget is what q is matched against: the phone's digits and q's digits when q is a
// phone fragment (contact.PhoneFragment), else the lower-cased "first last email" text and q
// lower-cased with its spaces collapsed. alias is contacts or conversations (which copy both
// columns, migration 0008).
func searchTarget(alias, q string) (column, fragment string) {
	if d, ok := contact.PhoneFragment(q); ok {
		return alias + ".phone_digits", d
	}
	return alias + ".search_text", strings.ToLower(strings.Join(strings.Fields(q), " "))
}

// searchCondition is the q predicate of a search wherever PostgreSQL chooses how to find the
// matches, or walks with a plan made for q: a LIKE of searchTarget's fragment anywhere in its
// column. On contacts the trigram GIN index contacts_search_trgm serves the text,
// contact_phone_grams the digits (phoneMatches).
func searchCondition(alias, q string, p *params) string {
	column, fragment := searchTarget(alias, q)
	return column + ` LIKE ` + p.add(likePattern(fragment))
}

// walkCondition is searchCondition as strpos, for a prepared statement that walks an index
// and tests each entry (the first, bounded walks: Store.inbox's walkJoined, Store.contacts):
// the same matches, as strpos has no wildcards to escape, but one selectivity estimate for
// every q, so the statement's generic plan costs what its custom plans do. With LIKE,
// PostgreSQL estimates each pattern from the column's statistics and found each custom plan
// cheaper, so the plan cache never adopted the generic one. (No trigram index serves strpos:
// searchCondition's LIKE stays wherever one can.)
func walkCondition(alias, q string, p *params) string {
	column, fragment := searchTarget(alias, q)
	return `strpos(` + column + `, ` + p.add(fragment) + `) > 0`
}

// materializedWalk is a statement that runs walk (which selects id) once, MATERIALIZED, and
// joins the page's rows to its ids with join (given the ids' subquery): whichever side of the
// join the plan puts the walk on (on an almost empty table the planner looped over the rows
// outside it), it runs once.
func materializedWalk(walk string, join func(ids string) string) string {
	return "WITH w AS MATERIALIZED (" + walk + ")\n" + join("SELECT w.id FROM w")
}

// likePattern escapes LIKE's wildcards in a user's fragment and wraps it in %.
func likePattern(fragment string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(fragment) + "%"
}

type plansKey struct{}

// withPlans makes the store's list statements run under ctx also write their EXPLAIN
// (ANALYZE, BUFFERS) into the returned slice, first: how ExplainContacts shows every
// statement a request runs.
func withPlans(ctx context.Context) (context.Context, *[]string) {
	plans := new([]string)
	return context.WithValue(ctx, plansKey{}, plans), plans
}

// query runs a list's statement (see withPlans). Errors surface from the rows (an EXPLAIN's
// in place of its plan).
func (s *Store) query(ctx context.Context, q string, args ...any) pgx.Rows {
	if plans, ok := ctx.Value(plansKey{}).(*[]string); ok {
		plan, err := s.explain(ctx, q, args...)
		if err != nil {
			plan = err.Error()
		}
		*plans = append(*plans, plan)
	}
	rows, _ := s.Pool.Query(ctx, q, args...)
	return rows
}

// sendReads sends a batch of a list's reads on the pool (see withPlans: their plans first).
func (s *Store) sendReads(ctx context.Context, b *batch) error {
	if plans, ok := ctx.Value(plansKey{}).(*[]string); ok {
		for _, q := range b.b.QueuedQueries {
			plan, err := s.explain(ctx, q.SQL, q.Arguments...)
			if err != nil {
				plan = err.Error()
			}
			*plans = append(*plans, plan)
		}
	}
	return b.send(ctx, s.Pool)
}

// listRows runs one statement of a list (see query), planned for its arguments on every
// execution when perExecution is set, and reads its rows (room for n) by column name.
func listRows[T any](ctx context.Context, s *Store, what, q string, args params, perExecution bool, n int) ([]T, error) {
	qargs := []any(args)
	if perExecution {
		qargs = planEach(args)
	}
	rows, err := collect[T](s.query(ctx, q, qargs...), n)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return rows, nil
}
