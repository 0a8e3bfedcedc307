package store

import (
	"bytes"
	"cmp"
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
)

// inboxCursor is the inbox's position: the last row's (last_message_at, id), and the sort it
// belongs to. Under sort=window_closing it is the part the row is in too (Seg): 1, the open
// conversations with an open window, by (window_open_until, id); 2, the rest, by
// (last_message_at, id).
type inboxCursor struct {
	Sort string    `json:"s"`
	Seg  int       `json:"g,omitempty"`
	At   time.Time `json:"t"`
	ID   uuid.UUID `json:"id"`
}

// inboxPosition is r's position in the inbox f orders.
func inboxPosition(f conversation.Filter, r readRow) inboxCursor {
	if f.Sort != conversation.SortWindowClosing {
		return inboxCursor{Sort: f.Sort, At: r.LastMessageAt, ID: r.ID}
	}
	if u := r.WindowOpenUntil; r.Status == string(conversation.StatusOpen) && u != nil && u.After(f.Now) {
		return inboxCursor{Sort: f.Sort, Seg: 1, At: *u, ID: r.ID}
	}
	return inboxCursor{Sort: f.Sort, Seg: 2, At: r.LastMessageAt, ID: r.ID}
}

// compareWindowClosing orders two positions of sort=window_closing: part 1 before part 2,
// soonest-closing first in part 1 and newest first in part 2, by id (as PostgreSQL orders
// uuids) between equal instants.
func compareWindowClosing(a, b inboxCursor) int {
	if a.Seg != b.Seg {
		return cmp.Compare(a.Seg, b.Seg)
	}
	c := a.At.Compare(b.At)
	if c == 0 {
		c = bytes.Compare(a.ID[:], b.ID[:])
	}
	if a.Seg == 2 {
		return -c
	}
	return c
}

// Conversations is the inbox, newest (or oldest) last message first, keyset on (last_message_at,
// id). Every statement walks an index in that order (see migrations 0002, 0008 and 0013) or starts from known
// contacts (a search) or a label's conversations (migration 0012), picks the page's
// conversation ids, and only then joins the contact and the assignee for those rows. The
// page's labels and the reader's read state are read after it, by its ids (pageExtras). A
// search runs in steps (see searchSteps); a label filter and a search's steps are planned for
// their arguments on every execution (see inboxQuery.planEach), except a search's first,
// bounded walk and a 4-digit phone fragment's statement, whose plans do not depend on q
// (inbox's walkJoined, phoneDays).
func (s *Store) Conversations(ctx context.Context, ws uuid.UUID, f conversation.Filter, p page.Request) ([]conversation.Conversation, string, error) {
	if f.Inbox == conversation.InboxMentions {
		return s.mentionedConversations(ctx, ws, f, p) // note.go
	}
	order := keyset[readRow, inboxCursor]{
		key: func(r readRow) inboxCursor { return inboxPosition(f, r) },
		valid: func(c inboxCursor) bool {
			seg := c.Seg == 0
			if c.Sort == conversation.SortWindowClosing {
				seg = c.Seg == 1 || c.Seg == 2
			}
			return seg && !c.At.IsZero() && c.ID != uuid.Nil
		},
	}
	return list(order, p, func(after *inboxCursor, limit int) ([]readRow, error) {
		if after != nil && after.Sort != f.Sort {
			return nil, errkind.ErrInvalidCursor.Detailf("The cursor belongs to sort=%s, not sort=%s.", after.Sort, f.Sort)
		}
		return s.inbox(ctx, inboxQuery{ws: ws, f: f, after: after, limit: limit})
	}, readRow.domain)
}

// inboxQuery is one page of the inbox to read: at most limit rows after the position.
type inboxQuery struct {
	ws    uuid.UUID
	f     conversation.Filter
	after *inboxCursor
	limit int
	// secondPart reads only the second part of sort=window_closing (windowInbox).
	secondPart bool
}

// planEach reports whether the page's statements are planned for their arguments on every
// execution (the function planEach): those whose best plan depends on them. A search; a label
// filter, by how many conversations carry the label: a common label is found by walking the
// inbox's index and probing conversation_labels_label for each conversation, a rare one by
// reading its conversations from that index, looking them up and sorting them (the generic
// plan walks for every label: at 100 000 conversations an open-inbox page of a label on 50 of
// them read 105 000 buffers, 100 ms, where its own plan reads 471, 1 ms); a channel filter, for
// the same reason; and one assignee's conversations of every status, read from
// conversations_assignee and sorted for an assignee with few, by walking conversations_recent
// for one with many; a team's, the same way.
//
// Every other page walks one index whatever its arguments (a status's partial index, or
// conversations_assignee for a status and an assignee), and its statement keeps one plan per
// connection: its LIMIT is written in (pageLimit), so that PostgreSQL's plan cache adopts the
// generic plan after five executions. With the LIMIT a parameter it never did (the generic
// plan's estimate for an unknown LIMIT is a tenth of the rows, never the cheaper one), and the
// page was planned on every request: 0.2 ms of the 0.5 ms the page cost PostgreSQL.
func (q inboxQuery) planEach() bool {
	f := q.f
	switch {
	case f.Q != "", f.LabelID != nil, f.ChannelID != nil:
		return true
	}
	oneStatus := f.Status == string(conversation.StatusOpen) || f.Status == string(conversation.StatusClosed) ||
		f.Status == string(conversation.StatusSnoozed)
	return !oneStatus && (f.Inbox == conversation.InboxMine || f.AssigneeID != nil || f.TeamID != nil)
}

// listPlanEach reports whether the page's list without q is planned for its arguments on every
// execution: a search statement whose plan does not depend on q (a bounded walk, phoneDays)
// is prepared unless the list's own filters need planning.
func (q inboxQuery) listPlanEach() bool {
	q.f.Q = ""
	return q.planEach()
}

// pageLimit is the LIMIT of a page's statement, written in (see planEach): limit comes from
// page.Request, an int the API bounds, never text from a request.
func pageLimit(limit int) string { return strconv.Itoa(limit) }

// order is the inbox's ORDER BY, and the comparison that continues it after a position.
func (q inboxQuery) order() (orderBy, cmp string) {
	if q.f.Sort == conversation.SortOldest {
		return "ORDER BY v.last_message_at ASC, v.id ASC", ">"
	}
	return "ORDER BY v.last_message_at DESC, v.id DESC", "<"
}

// filters are the request's conditions on v other than q.
func (q inboxQuery) filters(args *params) string {
	f := q.f
	where := []string{q.base(args)}
	// Statuses are literals, not parameters, so the planner can match the partial
	// indexes even with a generic plan.
	if st, ok := statusLiteral(f.Status); ok {
		where = append(where, "v.status = "+st)
	}
	if f.Window != "" {
		where = append(where, q.windowCond(f.Window, args.add(f.Now)+"::timestamptz", args))
	}
	if q.after != nil {
		_, op := q.order()
		where = append(where, "(v.last_message_at, v.id) "+op+" ("+args.add(q.after.At)+", "+args.add(q.after.ID)+")")
	}
	return strings.Join(where, " AND ")
}

// statusLiteral is a status as a SQL literal; false for all.
func statusLiteral(status string) (string, bool) {
	switch status {
	case string(conversation.StatusOpen), string(conversation.StatusClosed), string(conversation.StatusSnoozed):
		return "'" + status + "'", true
	}
	return "", false
}

// windowCond is a window filter's condition on v at the instant now (a placeholder). A window
// is open while window_open_until is after now: the alert job clears the column when it
// closes, but a row it has not reached yet still holds a past instant.
func (q inboxQuery) windowCond(window, now string, args *params) string {
	switch window {
	case conversation.WindowOpen:
		return "v.window_open_until > " + now
	case conversation.WindowClosing:
		return "v.window_open_until > " + now + " AND v.window_open_until <= " + now + " + " + q.lead(args)
	}
	return "(v.window_open_until IS NULL OR v.window_open_until <= " + now + ")"
}

// lead is the workspace's window_closing_minutes as an interval: a subquery PostgreSQL runs
// once per statement (an InitPlan), not a round trip of its own.
func (q inboxQuery) lead(args *params) string {
	return "(SELECT make_interval(mins => lw.window_closing_minutes) FROM workspaces lw WHERE lw.id = " + args.add(q.ws) + ")"
}

// base are the request's conditions on v other than its status, window, position and q.
func (q inboxQuery) base(args *params) string {
	f := q.f
	where := []string{"v.workspace_id = " + args.add(q.ws)}
	switch f.Inbox {
	case conversation.InboxMine:
		where = append(where, "v.assignee_id = "+args.add(f.Me))
	case conversation.InboxUnassigned:
		where = append(where, "v.assignee_id IS NULL")
	}
	if f.AssigneeID != nil {
		where = append(where, "v.assignee_id = "+args.add(*f.AssigneeID))
	}
	if f.TeamID != nil {
		// conversations_team walks it with a status, conversations_team_queue the team's
		// unassigned queue (migration 0021).
		where = append(where, "v.team_id = "+args.add(*f.TeamID))
	}
	if f.ChannelID != nil {
		where = append(where, `EXISTS (SELECT 1 FROM contact_identities i
    WHERE i.workspace_id = v.workspace_id AND i.contact_id = v.contact_id AND i.channel_id = `+args.add(*f.ChannelID)+`)`)
	}
	if f.LabelID != nil {
		// conversation_labels_label serves it either way round: probed for each conversation
		// the walk reads, or read for the label and joined to its conversations (see inbox).
		where = append(where, `EXISTS (SELECT 1 FROM conversation_labels cl
    WHERE cl.workspace_id = v.workspace_id AND cl.label_id = `+args.add(*f.LabelID)+` AND cl.conversation_id = v.id)`)
	}
	return strings.Join(where, " AND ")
}

// joinPage joins the contact and the assignee to the conversations m picked by id. Under
// sort=window_closing the caller orders the page (windowInbox).
func (q inboxQuery) joinPage(m string, args *params) string {
	orderBy, _ := q.order()
	if q.f.Sort == conversation.SortWindowClosing {
		orderBy = ""
	}
	return `SELECT ` + conversationColumns + `
FROM (` + m + `) m
JOIN conversations v ON v.workspace_id = ` + args.add(q.ws) + ` AND v.id = m.id` + conversationJoins + `
` + orderBy
}

// walkSQL selects (id, last_message_at) of the conversations matching q.f.Q (by cond) among
// the first bound entries of the inbox from q's position (math.MaxInt: all), at most the
// page's size, in the inbox's order; limits writes a LIMIT's number. The walk passes on only
// the column cond tests: the phone digits of every entry cost a name's walk ~10 % more.
func (q inboxQuery) walkSQL(bound int, cond func(alias, q string, args *params) string, args *params, limits func(int) string) string {
	orderBy, _ := q.order()
	where := q.filters(args)
	tested, _ := searchTarget("v", q.f.Q)
	return `SELECT v.id, v.last_message_at FROM (SELECT v.id, v.last_message_at, ` + tested + ` FROM conversations v
      WHERE ` + where + ` ` + orderBy + ` LIMIT ` + limits(bound) + `) v
      WHERE ` + cond("v", q.f.Q, args) + ` ` + orderBy + ` LIMIT ` + limits(q.limit)
}

// inbox reads one page: without q the list's own walk, with q the search's steps (under
// sort=window_closing, and for a window filter without q, windowInbox's walks and
// windowFromIDs); then the page's labels and read state (pageExtras).
func (s *Store) inbox(ctx context.Context, q inboxQuery) ([]readRow, error) {
	if q.f.Sort == conversation.SortWindowClosing || (q.f.Window != "" && q.f.Q == "") {
		var found []readRow
		walk := func(bound int) (int, error) {
			var err error
			found, err = s.windowInbox(ctx, q, bound)
			return len(found), err
		}
		fromIDs := func(ids []uuid.UUID) error {
			var err error
			found, err = s.windowFromIDs(ctx, q, ids)
			return err
		}
		if err := s.searchSteps(ctx, q.ws, q.f.Q, q.limit, walk, nil, fromIDs); err != nil {
			return nil, err
		}
		return found, s.pageExtras(ctx, q.ws, q.f.Reader, len(found), func(i int) *readRow { return &found[i] })
	}
	orderBy, _ := q.order()
	run := func(sql string, args params) ([]readRow, error) {
		return listRows[readRow](ctx, s, "conversations", sql, args, q.planEach(), q.limit)
	}
	// join builds the page from the conversation ids a search picked (its walks, but for a
	// first walk joined in its own statement; phoneDays), in the inbox's order. The page's
	// join for those ids keeps one plan, where a statement that picks them and is planned for
	// its arguments would plan the ten-table join on every request (~0.75 ms, as much as
	// running it).
	join := func(ids []uuid.UUID) ([]readRow, error) {
		if len(ids) == 0 {
			return []readRow{}, nil
		}
		var page params
		sql := q.joinPage(`SELECT m.id FROM unnest(`+page.add(ids)+`::uuid[]) AS m(id)`, &page)
		return listRows[readRow](ctx, s, "conversations", sql, page, false, len(ids))
	}
	var found []readRow
	// A search's walks pick conversations at their positions (picks). The first walk's are
	// joined in its own statement (walkJoined) when its plan does not depend on q; the rest
	// are joined once at the end (joinPicks), for all the walks that picked them.
	type pickedRow struct {
		ID            uuid.UUID `db:"id"`
		LastMessageAt time.Time `db:"last_message_at"`
	}
	// While joinPicks, found holds the rows of picks' first len(found): the first walk's, when
	// walkJoined read them.
	var picks []pickedRow
	joinPicks := false
	// pick walks the inbox with q from q's position, at most bound entries, and adds its
	// matches to picks. Only columns of the walked index (conversations_open, _closed,
	// _snoozed, _recent, _assignee carry the search text), so the walk reads no table row. The
	// subquery's LIMIT keeps the walk a walk (see Contacts). The walk without bound, and walks
	// under a label or channel filter (inboxQuery.listPlanEach), are planned for their
	// arguments.
	pick := func(q inboxQuery, bound int) error {
		var args params
		m := q.walkSQL(bound, searchCondition, &args, args.addInt)
		more, err := listRows[pickedRow](ctx, s, "conversations", m, args, true, q.limit)
		picks = append(picks, more...)
		return err
	}
	// walkJoined is the first, bounded walk of a page whose list keeps one plan (not
	// listPlanEach), joined to the page's columns in the same statement: a fragment that
	// fills its page there (most do) costs one statement, not a walk and a join. It reads its
	// index whatever the fragment, so it is prepared with its limits written in, and keeps the
	// generic plan, as the list's page does. q is tested with strpos (walkCondition): with
	// LIKE the plan cache never adopted the generic plan on the bench database (0 generic
	// plans in 8 executions, 1.3 ms of planning for each).
	walkJoined := func(bound int) error {
		var args params
		m := materializedWalk(q.walkSQL(bound, walkCondition, &args, pageLimit), func(ids string) string {
			return q.joinPage(ids, &args)
		})
		rows, err := listRows[readRow](ctx, s, "conversations", m, args, false, q.limit)
		found = rows
		for _, r := range rows {
			picks = append(picks, pickedRow{ID: r.ID, LastMessageAt: r.LastMessageAt})
		}
		return err
	}
	walk := func(bound int) (int, error) {
		if q.f.Q == "" {
			var args params
			var err error
			found, err = run(`
SELECT `+conversationColumns+`
FROM conversations v`+conversationJoins+`
WHERE `+q.filters(&args)+`
`+orderBy+`
LIMIT `+pageLimit(q.limit), args)
			return len(found), err
		}
		picks, joinPicks, found = nil, true, nil
		var err error
		if bound != math.MaxInt && !q.listPlanEach() {
			err = walkJoined(bound)
		} else {
			err = pick(q, bound)
		}
		return len(picks), err
	}
	walkOn := func() (int, error) {
		// From the last row picked: the walk passed every entry before it.
		rest, last := q, picks[len(picks)-1]
		rest.after = &inboxCursor{Sort: q.f.Sort, At: last.LastMessageAt, ID: last.ID}
		rest.limit = q.limit - len(picks)
		err := pick(rest, math.MaxInt)
		return len(picks), err
	}
	fromIDs := func(ids []uuid.UUID) error {
		// At most SearchFirstLimit index lookups and a top-N sort, however the matches
		// spread over the conversations. (As a filter, contact_id = ANY(...), the planner
		// walks the last-message index instead.)
		var args params
		m := `SELECT v.id FROM unnest(` + args.add(ids) + `::uuid[]) AS c(id)
      JOIN conversations v ON v.workspace_id = ` + args.add(q.ws) + ` AND v.contact_id = c.id
      WHERE ` + q.filters(&args) + ` ` + orderBy + ` LIMIT ` + args.add(q.limit)
		var err error
		joinPicks = false
		found, err = run(q.joinPage(m, &args), args)
		return err
	}
	done := false
	if d, ok := contact.PhoneFragment(q.f.Q); ok && len(d) == contact.MinPhoneDigits {
		fromDays := func(ids []uuid.UUID) error {
			var err error
			found, err = join(ids)
			return err
		}
		var err error
		if done, err = s.phoneDays(ctx, q, d, fromDays); err != nil {
			return nil, err
		}
	}
	if !done {
		if err := s.searchSteps(ctx, q.ws, q.f.Q, q.limit, walk, walkOn, fromIDs); err != nil {
			return nil, err
		}
	}
	if joinPicks && len(picks) > len(found) {
		// The rows the walks picked past the first walk's, which come after them in the
		// inbox's order.
		ids := make([]uuid.UUID, 0, len(picks)-len(found))
		for _, p := range picks[len(found):] {
			ids = append(ids, p.ID)
		}
		rest, err := join(ids)
		if err != nil {
			return nil, err
		}
		found = append(found, rest...)
	}
	return found, s.pageExtras(ctx, q.ws, q.f.Reader, len(found), func(i int) *readRow { return &found[i] })
}

// phoneDays reads the page of a 4-digit phone fragment (one gram) from the gram's rows latest
// day of last message first (contact_phone_grams_day, migration 0028), in one statement that
// picks the page's conversation ids, from which its caller joins the page (join, in inbox):
//
//   - w: the gram's rows in day order joined to their conversations under the page's filters,
//     at most the page's size. Fewer rows are every match, and w is the page.
//   - Otherwise the day of its last row is the cutoff: every conversation of a later day is in
//     w, and every one of an earlier day is older than all of w. So the page is w and the
//     cutoff day's other rows, sorted by the exact last message.
//
// At 1 000 000 contacts a gram has ~800 rows (a third of the bench's more than 1 000), of which
// a page looks up ~30-100 conversations, where the contacts' lookup (fromIDs) looked up all of
// them and a gram of more than SearchFirstLimit walked the inbox (~30 000 entries). The
// statement also counts the gram's rows in the cutoff's days, up to SearchFirstLimit+1, and
// reads the cutoff day's other rows only when they are no more: a gram that crowds them (a
// country or area code, or every conversation written today) is done false, and the search's
// steps walk the inbox instead, which such a fragment fills at once.
//
// It was two statements, w with the count and then the rows of the cutoff day and later, each
// planned for every request.
func (s *Store) phoneDays(ctx context.Context, q inboxQuery, d string, join func(ids []uuid.UUID) error) (done bool, err error) {
	dayOrder, edge, cutoff := "DESC", "min", ">="
	if q.f.Sort == conversation.SortOldest {
		dayOrder, edge, cutoff = "ASC", "max", "<="
	}
	orderBy, op := q.order()
	// Its plan is the same for every gram: the gram's rows from contact_phone_grams_day, and
	// their conversations by (workspace_id, contact_id). So it is prepared, its limits written
	// in (see pageLimit), and PostgreSQL's plan cache keeps its generic plan, where planning it
	// for each request cost 0.57 ms, as much as running it. Unless the page's filters are
	// planned for their arguments (a label, a channel: inboxQuery.listPlanEach).
	var args params
	ws, gram, limit := args.add(q.ws), args.add(digitGrams(d)[0])+"::int2", pageLimit(q.limit)
	day := ""
	if q.after != nil {
		day = args.add(q.after.At)
	}
	// The gram's rows of table alias g (the cursor's day bounds them).
	gramRows := func(g string) string {
		where := g + `.workspace_id = ` + ws + ` AND ` + g + `.gram = ` + gram + ` AND ` + g + `.last_day IS NOT NULL`
		if day != "" {
			where += ` AND ` + g + `.last_day ` + op + `= conversation_day(` + day + `)`
		}
		return where
	}
	// The gram's rows, their conversations by (workspace_id, contact_id), the page's filters.
	joined := `contact_phone_grams g
      JOIN conversations v ON v.workspace_id = g.workspace_id AND v.contact_id = g.contact_id
      WHERE ` + gramRows("g") + ` AND ` + q.filters(&args)
	sql := `WITH w AS MATERIALIZED (
    SELECT g.last_day, g.contact_id, v.id, v.last_message_at FROM ` + joined + `
    ORDER BY g.last_day ` + dayOrder + ` LIMIT ` + limit + `),
  e AS (SELECT ` + edge + `(w.last_day) AS day, count(*) AS n FROM w),
  c AS (SELECT CASE WHEN e.n < ` + limit + ` THEN 0 ELSE (SELECT count(*) FROM (
      SELECT FROM contact_phone_grams n WHERE ` + gramRows("n") + ` AND n.last_day ` + cutoff + ` e.day
      LIMIT ` + pageLimit(s.SearchFirstLimit+1) + `) n) END AS crowd FROM e)
SELECT v.id, (SELECT crowd FROM c) AS crowd FROM (
    SELECT w.id, w.last_message_at FROM w
    UNION ALL
    SELECT v.id, v.last_message_at FROM ` + joined + ` AND g.last_day = (SELECT day FROM e)
      AND g.contact_id <> ALL (ARRAY(SELECT w.contact_id FROM w))
      AND (SELECT n FROM e) = ` + limit + ` AND (SELECT crowd FROM c) <= ` + pageLimit(s.SearchFirstLimit) + `
  ) v
` + orderBy + ` LIMIT ` + limit
	type dayRow struct {
		ID    uuid.UUID `db:"id"`
		Crowd int64     `db:"crowd"` // the gram's rows in the page's days, up to SearchFirstLimit+1
	}
	rows, err := listRows[dayRow](ctx, s, "conversations", sql, args, q.listPlanEach(), q.limit)
	if err != nil {
		return false, err
	}
	if len(rows) > 0 && rows[0].Crowd > int64(s.SearchFirstLimit) {
		return false, nil
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return true, join(ids)
}

// ExplainConversations returns EXPLAIN (ANALYZE, BUFFERS) of each statement Conversations
// runs for this filter and page, in order: how a test (or a person at a seeded database)
// checks that a filter walks an index.
func (s *Store) ExplainConversations(ctx context.Context, ws uuid.UUID, f conversation.Filter, p page.Request) ([]string, error) {
	ctx, plans := withPlans(ctx)
	if _, _, err := s.Conversations(ctx, ws, f, p); err != nil {
		return nil, err
	}
	return *plans, nil
}
