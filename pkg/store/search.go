package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/contact"
)

// How a search is answered. q on contacts and on the inbox is a fragment of "first last email"
// (lower-cased) or of the phone's digits, so the cost of a page depends on how many contacts
// match and where they fall in the list's order. Migration 0008 puts that text in the indexes
// the lists walk (contacts_search_walk, and the inbox's status and assignee indexes;
// conversations copy their contact's text, kept equal by triggers), so walking a list and
// testing each entry reads no table row.
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
//     after a few dozen index pages.
//  2. A lookup: the matching contacts from the trigram indexes on contacts, at most
//     SearchFirstLimit of them (searchContacts). When every match fits, the page is built from
//     their conversations alone: a rare fragment costs as many lookups as it has matches,
//     however far apart they lie.
//  3. The walk without bound: q matches more contacts than the lookup takes, but they are
//     thin at the start of the order (an old, common name).
//
// The planner cannot choose between these in one statement: the trigram indexes are on
// contacts and the order is the conversations'. So the steps ask the data. Step 2 is skipped
// when q has no trigram (one or two letters: 조, Li): pg_trgm would read its whole index to
// find nothing. (Contact search, whose order and trigram indexes are on the same table, is
// one statement the planner chooses for; see Contacts.)

// DefaultSearchWalkBound is how many index entries the first, bounded walk reads at most.
// Entries carry about 80 bytes, so that is ~60 index pages; a fragment shared by one contact
// in 200 fills a 25-row page within it.
const DefaultSearchWalkBound = 5000

// DefaultSearchFirstLimit is how many matching contacts a search still builds its page from.
const DefaultSearchFirstLimit = 1000

// searchSteps runs the steps (without q, the list's own walk: walk(0)). walk runs the inbox's
// query walking at most bound entries (math.MaxInt: to the end) and reports how many rows it
// found; fromIDs builds the page from the contacts that match (all of them). want is the page
// size plus one, a full page.
func (s *Store) searchSteps(ctx context.Context, ws uuid.UUID, q string, want int,
	walk func(bound int) (int, error), fromIDs func(ids []uuid.UUID) error) error {
	if q == "" {
		_, err := walk(0)
		return err
	}
	if s.SearchWalkBound > 0 {
		n, err := walk(s.SearchWalkBound)
		if err != nil || n >= want {
			return err
		}
	}
	if hasTrigram(q) {
		ids, few, err := s.searchContacts(ctx, ws, q)
		if err != nil {
			return err
		}
		if few {
			return fromIDs(ids)
		}
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

// searchCondition is the q predicate shared by contact search and the inbox: a fragment of the
// lower-cased "first last email" text, or of the phone's digits. alias is contacts or
// conversations (which copy both columns, migration 0008); on contacts the trigram GIN
// indexes serve it (contacts_search_trgm, contacts_phone_trgm).
func searchCondition(alias, q string, p *params) string {
	q = strings.ToLower(strings.Join(strings.Fields(q), " "))
	cond := alias + `.search_text LIKE ` + p.add(likePattern(q))
	if d := contact.SearchDigits(q); d != "" {
		cond = `(` + cond + ` OR ` + alias + `.phone_digits LIKE ` + p.add(likePattern(d)) + `)`
	}
	return cond
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
