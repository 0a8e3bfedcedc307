package store

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/conversation"
)

// The inbox by reply window (migration 0018): sort=window_closing and the window filters
// without q. A conversation's window is open while its window_open_until is after now.
//
// sort=window_closing is two parts, each walked in its own order:
//
//  1. open conversations with an open window, soonest-closing first: a range of
//     conversations_window_open from now on;
//  2. the others, newest first (last message): for open conversations, those without an open
//     window (conversations_open_no_window) merged with the few whose window_open_until has
//     passed but that the alert job has not cleared yet (conversations_window_open up to now);
//     for snoozed and closed ones (status=all), their own indexes.
//
// One statement reads the page's ids: part 1 then part 2 under one LIMIT, each a LIMIT of its
// own. PostgreSQL's Append runs its branches in turn and the LIMIT stops pulling once the page
// is full, so part 2 is not read while part 1 fills the page (EXPLAIN shows it "never
// executed"). The page is then joined as a search's is (joinPage) and put in order here.
//
// A window filter with sort=newest or oldest is part 2's shape (window=closed) or a walk with
// the window's condition (window=open, closing; planned for its arguments: the range of
// conversations_window_open and a sort, or the status index's walk).

// windowInbox reads one page of the inbox by window without q, or, with q, the first or third
// of the search's steps (searchSteps): each walk keeps the entries that match q, reading at
// most bound of them (0 or math.MaxInt: no bound). The walked indexes carry the search text,
// so a match is tested without reading the table.
func (s *Store) windowInbox(ctx context.Context, q inboxQuery, bound int) ([]readRow, error) {
	f := q.f
	byWindow := f.Sort == conversation.SortWindowClosing
	first := byWindow && !q.secondPart && (f.Status == string(conversation.StatusOpen) || f.Status == conversation.FilterAll) &&
		f.Window != conversation.WindowClosed && (q.after == nil || q.after.Seg == 1)
	if first && f.Q == "" {
		// The first part alone, walked as the plain list walks its index: a page costs what
		// that one does. Only the page where it ends reads on into the second part.
		rows, err := s.windowFirstPart(ctx, q)
		if err != nil || len(rows) >= q.limit {
			return rows, err
		}
		rest := q
		rest.limit, rest.secondPart = q.limit-len(rows), true
		more, err := s.windowInbox(ctx, rest, bound)
		return append(rows, more...), err
	}
	var args params
	base := q.base(&args)
	// now is the instant's placeholder, added when a condition uses it (PostgreSQL refuses a
	// parameter no statement names: it cannot tell its type).
	var nowArg string
	now := func() string {
		if nowArg == "" {
			nowArg = args.add(f.Now) + "::timestamptz" // typed: now + interval must not read it as an interval
		}
		return nowArg
	}
	limit := pageLimit(q.limit)
	// walk is one index walk in order, keeping q's matches among at most bound entries.
	walk := func(cols, from, where, orderBy string) string {
		if f.Q == "" {
			return "(SELECT " + cols + " FROM " + from + " WHERE " + where + "\n      ORDER BY " + orderBy + " LIMIT " + limit + ")"
		}
		if bound <= 0 || bound == math.MaxInt {
			return "(SELECT " + cols + " FROM " + from + " WHERE " + where + " AND " + searchCondition("v", f.Q, &args) +
				"\n      ORDER BY " + orderBy + " LIMIT " + limit + ")"
		}
		return "(SELECT " + cols + " FROM (SELECT " + cols + ", v.search_text, v.phone_digits FROM " + from + " WHERE " + where +
			" ORDER BY " + orderBy + " LIMIT " + args.add(bound) + ") v\n      WHERE " + searchCondition("v", f.Q, &args) +
			" ORDER BY " + orderBy + " LIMIT " + limit + ")"
	}
	var ctes, parts []string
	if first {
		w := base + " AND v.status = 'open' AND v.window_open_until > " + now()
		if f.Window == conversation.WindowClosing {
			w += " AND v.window_open_until <= " + now() + " + " + q.lead(&args)
		}
		if q.after != nil {
			w += " AND (v.window_open_until, v.id) > (" + args.add(q.after.At) + ", " + args.add(q.after.ID) + ")"
		}
		parts = append(parts, "(SELECT v.id FROM "+walk("v.id, v.window_open_until", "conversations v", w, "v.window_open_until, v.id")+" v)")
	}
	if branches := q.lastMessageBranches(now, &args); len(branches) > 0 {
		orderBy, op := "v.last_message_at DESC, v.id DESC", "<"
		if f.Sort == conversation.SortOldest {
			orderBy, op = "v.last_message_at, v.id", ">"
		}
		after := ""
		if q.after != nil && (!byWindow || q.after.Seg == 2) {
			after = " AND (v.last_message_at, v.id) " + op + " (" + args.add(q.after.At) + ", " + args.add(q.after.ID) + ")"
		}
		var walks []string
		for _, b := range branches {
			from, where := "conversations v", base+" AND "+b.where+after
			if b.lag {
				// The rows past their window that the job has not cleared: a range of
				// conversations_window_open up to now, read whole (they are few) and sorted, so
				// that no plan walks the open conversations by last message to find them.
				ctes = append(ctes, "lag AS MATERIALIZED (SELECT v.id, v.last_message_at, v.search_text, v.phone_digits FROM conversations v WHERE "+
					base+" AND "+b.where+")")
				from, where = "lag v", "true"+after
			}
			walks = append(walks, walk("v.id, v.last_message_at", from, where, orderBy))
		}
		part := walks[0]
		if len(walks) > 1 {
			part = "(SELECT v.id, v.last_message_at FROM (" + strings.Join(walks, "\n    UNION ALL ") + ") v\n      ORDER BY " + orderBy + " LIMIT " + limit + ")"
		}
		parts = append(parts, "(SELECT v.id FROM "+part+" v)")
	}
	if len(parts) == 0 {
		return nil, nil
	}
	m := "SELECT v.id FROM (" + strings.Join(parts, "\n  UNION ALL ") + ") v LIMIT " + limit
	if len(ctes) > 0 {
		m = "WITH " + strings.Join(ctes, ", ") + "\n" + m
	}
	planEach := q.planEach() || (!byWindow && (f.Window == conversation.WindowOpen || f.Window == conversation.WindowClosing))
	found, err := listRows[readRow](ctx, s, "conversations", q.joinPage(m, &args), args, planEach, q.limit)
	if err != nil {
		return nil, err
	}
	if byWindow {
		sortWindowClosing(f, found)
	}
	return found, nil
}

// windowFirstPart reads the first part of sort=window_closing: open conversations whose window
// is open (and closing, for window=closing), soonest-closing first, from the position: a walk
// of conversations_window_open, joined as the plain list's rows are.
func (s *Store) windowFirstPart(ctx context.Context, q inboxQuery) ([]readRow, error) {
	var args params
	now := args.add(q.f.Now) + "::timestamptz"
	w := q.base(&args) + " AND v.status = 'open' AND v.window_open_until > " + now
	if q.f.Window == conversation.WindowClosing {
		w += " AND v.window_open_until <= " + now + " + " + q.lead(&args)
	}
	if q.after != nil {
		w += " AND (v.window_open_until, v.id) > (" + args.add(q.after.At) + ", " + args.add(q.after.ID) + ")"
	}
	return listRows[readRow](ctx, s, "conversations", `
SELECT `+conversationColumns+`
FROM conversations v`+conversationJoins+`
WHERE `+w+`
ORDER BY v.window_open_until, v.id
LIMIT `+pageLimit(q.limit), args, q.planEach(), q.limit)
}

// windowFromIDs is the second of the search's steps under sort=window_closing: the page from
// the conversations of the contacts that match q (at most SearchFirstLimit), ordered as the
// window sort orders (its first part, soonest-closing first, then the rest, newest first),
// after the position.
func (s *Store) windowFromIDs(ctx context.Context, q inboxQuery, ids []uuid.UUID) ([]readRow, error) {
	var args params
	unpositioned := q
	unpositioned.after = nil
	where := unpositioned.filters(&args)
	now := args.add(q.f.Now) + "::timestamptz"
	first := "(v.status = 'open' AND coalesce(v.window_open_until > " + now + ", false))"
	if a := q.after; a != nil {
		t, id := args.add(a.At), args.add(a.ID)
		if a.Seg == 1 {
			where += " AND (NOT " + first + " OR (v.window_open_until, v.id) > (" + t + ", " + id + "))"
		} else {
			where += " AND NOT " + first + " AND (v.last_message_at, v.id) < (" + t + ", " + id + ")"
		}
	}
	m := `SELECT v.id FROM unnest(` + args.add(ids) + `::uuid[]) AS c(id)
      JOIN conversations v ON v.workspace_id = ` + args.add(q.ws) + ` AND v.contact_id = c.id
      WHERE ` + where + `
      ORDER BY ` + first + ` DESC, CASE WHEN ` + first + ` THEN v.window_open_until END, CASE WHEN ` + first + ` THEN v.id END,
               v.last_message_at DESC, v.id DESC
      LIMIT ` + pageLimit(q.limit)
	found, err := listRows[readRow](ctx, s, "conversations", q.joinPage(m, &args), args, true, q.limit)
	if err != nil {
		return nil, err
	}
	sortWindowClosing(q.f, found)
	return found, nil
}

// sortWindowClosing puts a page read by id in the order of sort=window_closing.
func sortWindowClosing(f conversation.Filter, rows []readRow) {
	slices.SortFunc(rows, func(a, b readRow) int { return compareWindowClosing(inboxPosition(f, a), inboxPosition(f, b)) })
}

// lastMessageBranch is one index walk of the inbox by last message: its conditions on v, and
// whether it is the rows past their window that the alert job has not cleared (lag).
type lastMessageBranch struct {
	where string
	lag   bool
}

// lastMessageBranches are the walks, by last message, of the rows the request lists in that
// order: under sort=window_closing its second part, otherwise every row. One walk a status,
// each on its status's index; for open conversations whose window must be closed, the two
// sets that make that up (see windowInbox).
func (q inboxQuery) lastMessageBranches(now func() string, args *params) []lastMessageBranch {
	statuses := []string{q.f.Status}
	if q.f.Status == conversation.FilterAll {
		statuses = []string{string(conversation.StatusOpen), string(conversation.StatusClosed), string(conversation.StatusSnoozed)}
	}
	var out []lastMessageBranch
	for _, st := range statuses {
		lit, _ := statusLiteral(st)
		where := "v.status = " + lit
		window := q.f.Window
		if st == string(conversation.StatusOpen) {
			if q.f.Sort == conversation.SortWindowClosing {
				if window == conversation.WindowOpen || window == conversation.WindowClosing {
					continue // all in the first part
				}
				window = conversation.WindowClosed
			}
			if window == conversation.WindowClosed {
				out = append(out, lastMessageBranch{where: where + " AND v.window_open_until IS NULL"},
					lastMessageBranch{where: where + " AND v.window_open_until <= " + now(), lag: true})
				continue
			}
		}
		if window != "" {
			where += " AND " + q.windowCond(window, now(), args)
		}
		out = append(out, lastMessageBranch{where: where})
	}
	return out
}
