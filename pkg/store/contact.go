package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/page"
)

// contactRow is a contact with its conversation's id and status.
type contactRow struct {
	WorkspaceID        uuid.UUID
	ID                 uuid.UUID
	FirstName          string
	LastName           string
	Email              *string
	Phone              *string
	Language           string
	Country            string
	Tags               textArray
	CustomFields       jsonObject
	CreatedAt          time.Time
	UpdatedAt          time.Time
	ConversationID     uuid.UUID
	ConversationStatus string
}

func (r contactRow) domain() contact.Contact {
	if r.Tags == nil {
		r.Tags = textArray{}
	}
	if r.CustomFields == nil {
		r.CustomFields = jsonObject{}
	}
	return contact.Contact{WorkspaceID: r.WorkspaceID, ID: r.ID, FirstName: r.FirstName, LastName: r.LastName,
		Email: r.Email, Phone: r.Phone, Language: r.Language, Country: r.Country, Tags: []string(r.Tags),
		CustomFields: map[string]any(r.CustomFields), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Conversation: contact.ConversationRef{ID: r.ConversationID, Status: r.ConversationStatus}}
}

// contactColumns are contactRow's columns, of contacts c and their conversations v, for every
// contact read.
const contactColumns = `c.workspace_id, c.id, c.first_name, c.last_name, c.email, c.phone, c.language, c.country,
       c.tags, c.custom_fields, c.created_at, c.updated_at, v.id AS conversation_id, v.status AS conversation_status`

// contactSelect reads contactRows; a WHERE on c follows.
const contactSelect = `SELECT ` + contactColumns + `
FROM contacts c JOIN conversations v ON v.workspace_id = c.workspace_id AND v.contact_id = c.id`

// contactByID reads one contact.
func contactByID(ws, id uuid.UUID) statement {
	return statement{contactSelect + "\nWHERE c.workspace_id = $1 AND c.id = $2", []any{ws, id}}
}

// contactExists turns a unique violation on email or phone into contact.ErrExists naming the
// contact that holds the value.
func (s *Store) contactExists(ctx context.Context, err error, ws uuid.UUID, c *contact.Contact) error {
	code, constraint := pgCode(err)
	if code != uniqueViolation {
		return err
	}
	var col string
	var val *string
	switch constraint {
	case "contacts_email_key":
		col, val = "email", c.Email
	case "contacts_phone_key":
		col, val = "phone", c.Phone
	default:
		return err
	}
	var id uuid.UUID
	if val != nil {
		_ = s.Pool.QueryRow(ctx, `SELECT id FROM contacts WHERE workspace_id = $1 AND `+col+` = $2`, ws, *val).Scan(&id)
	}
	return contact.ErrExists.Detailf("A contact with this %s already exists.", col).With("existing_id", id.String()).With("field", col)
}

// CreateContact inserts a contact, its conversation and the conversation's opened event, in
// two round trips: BEGIN with the writes and the conversation read back; the events with
// COMMIT.
func (s *Store) CreateContact(ctx context.Context, c *contact.Contact) error {
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		contactSt, convSt, err := contactInsert(c)
		if err != nil {
			return nil, err
		}
		var conv conversationRow
		var found bool
		b := &batch{}
		b.exec("insert contact", contactSt)
		b.exec("insert conversation", convSt)
		queueRow(b, "get conversation", &conv, &found, conversationByID(c.WorkspaceID, c.Conversation.ID))
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		b = &batch{}
		return b, s.queuePublish(b, c.WorkspaceID, []pending{contactEvent(event.ContactCreated, *c),
			{typ: event.ConversationOpened, conv: &conv.ID, v: conv.domain()}})
	})
	if err != nil {
		return s.contactExists(ctx, err, c.WorkspaceID, c)
	}
	return nil
}

// contactInsert builds the statements that write a new contact and its open conversation
// with the conversation's opened event, and sets c.Conversation.
func contactInsert(c *contact.Contact) (contactSt, convSt statement, err error) {
	tags, fields, err := contactArgs(*c)
	if err != nil {
		return statement{}, statement{}, err
	}
	contactSt = statement{insertContactSQL, []any{c.WorkspaceID, c.ID, c.FirstName, c.LastName, c.Email, c.Phone,
		c.Language, c.Country, tags, fields, c.CreatedAt, c.UpdatedAt}}
	conv := uuid.Must(uuid.NewV7())
	convSt = statement{insertConversationSQL, []any{c.WorkspaceID, conv, c.ID, c.CreatedAt, uuid.Must(uuid.NewV7())}}
	c.Conversation = contact.ConversationRef{ID: conv, Status: "open"}
	return contactSt, convSt, nil
}

const (
	insertContactSQL = `
INSERT INTO contacts (workspace_id, id, first_name, last_name, email, phone, language, country, tags, custom_fields,
                      created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb, $11, $12)`
	// insertConversationSQL opens a new contact's conversation with its opened event.
	insertConversationSQL = `
WITH v AS (
    INSERT INTO conversations (workspace_id, id, contact_id, status, last_message_at, created_at, updated_at)
    VALUES ($1, $2, $3, 'open', $4, $4, $4)
)
INSERT INTO conversation_events (workspace_id, id, conversation_id, type, actor_kind, at)
VALUES ($1, $5, $2, 'opened', 'system', $4)`
)

// contactArgs are the arguments of a contact's tags (text[]) and custom fields (text cast to
// jsonb): empty, not NULL, when it has none.
func contactArgs(c contact.Contact) (tags, fields any, err error) {
	if tags, err = textArray(c.Tags).Value(); err != nil {
		return nil, nil, err
	}
	if fields, err = jsonObject(c.CustomFields).Value(); err != nil {
		return nil, nil, err
	}
	return tags, fields, nil
}

// Contact returns one contact with its conversation.
func (s *Store) Contact(ctx context.Context, ws, id uuid.UUID) (contact.Contact, error) {
	st := contactByID(ws, id)
	r, err := queryRow[contactRow](ctx, s.Pool, st.sql, st.args...)
	if isNotFound(err) {
		return contact.Contact{}, contact.ErrNotFound
	}
	if err != nil {
		return contact.Contact{}, fmt.Errorf("get contact: %w", err)
	}
	return r.domain(), nil
}

type contactCursor struct {
	ID uuid.UUID `json:"id"`
}

// Contacts lists contacts newest first (keyset on id), with optional search and tag filter.
// With q, the page's contact ids are chosen from contacts_search_walk's columns alone and the
// rest (every contact has exactly one conversation) is joined for those rows only. A text
// search first walks that index newest first over at most SearchWalkBound entries
// (index-only, a test of q per entry; without a tag one prepared statement with the page's
// join, see walk below). When that falls short of a page, the matches it found
// estimate how common q is (searchRare): a common one walks on from the last match; a rare
// one runs one statement planned for its arguments (see planEach), where the planner weighs,
// from the column's statistics (migration 0007), walking on against collecting every match
// from the trigram indexes and sorting them (the inbox, whose order and trigram indexes are
// on different tables, runs in steps: see searchSteps). A q without a trigram cannot use the
// trigram index except by reading it whole, so it always walks. A phone fragment walks its
// rarest 4-digit gram in contact_phone_grams, which is in this list's order (see
// phoneMatches).
func (s *Store) Contacts(ctx context.Context, ws uuid.UUID, f contact.Filter, p page.Request) ([]contact.Contact, string, error) {
	return list(contactOrder, p, func(after *contactCursor, limit int) ([]contactRow, error) {
		return s.contacts(ctx, ws, f, after, limit)
	}, contactRow.domain)
}

// contactOrder pages contacts newest first, by id.
var contactOrder = keyset[contactRow, contactCursor]{key: func(r contactRow) contactCursor { return contactCursor{r.ID} }}

// contacts reads at most limit contacts after the position.
func (s *Store) contacts(ctx context.Context, ws uuid.UUID, f contact.Filter, after *contactCursor, limit int) ([]contactRow, error) {
	var args params
	where := []string{"c.workspace_id = " + args.add(ws)}
	if f.Tag != "" {
		where = append(where, "c.tags @> ARRAY["+args.add(f.Tag)+"]::text[]")
	}
	if after != nil {
		where = append(where, "c.id < "+args.add(after.ID))
	}
	// run runs one statement; how many contacts match decides a search's or a tag's plan
	// (see planEach). Each statement gets its own copy of the common arguments.
	runAs := func(planEach bool, m func(args *params) string) ([]contactRow, error) {
		args := slices.Clone(args)
		q := m(&args)
		return listRows[contactRow](ctx, s, "contacts", q, args, planEach, limit)
	}
	run := func(m func(args *params) string) ([]contactRow, error) { return runAs(f.Q != "" || f.Tag != "", m) }
	// walk walks contacts_search_walk newest first over at most bound entries, reading only
	// its columns (no table row), for at most n matches; the subquery's LIMIT keeps it a walk.
	// from, when set, is where it starts instead of the page's position.
	//
	// prepared, the walk's plan is the same for any fragment (a bounded walk without a tag):
	// its limits are written in and q is tested with strpos (walkCondition), so the plan
	// cache adopts the generic plan, as for the inbox's first walk (Store.inbox's walkJoined);
	// it was planned on every request.
	walk := func(from *uuid.UUID, bound, n int, prepared bool) func(args *params) string {
		return func(args *params) string {
			w := strings.Join(where, " AND ")
			if from != nil {
				w += " AND c.id < " + args.add(*from)
			}
			limits, cond := args.addInt, searchCondition
			if prepared {
				limits, cond = pageLimit, walkCondition
			}
			// The walk passes on only the column q is tested against.
			tested, _ := searchTarget("c", f.Q)
			m := `SELECT c.id FROM (SELECT c.id, ` + tested + ` FROM contacts c WHERE ` +
				w + ` ORDER BY c.id DESC LIMIT ` + limits(bound) + `) c
      WHERE ` + cond("c", f.Q, args) + ` ORDER BY c.id DESC LIMIT ` + limits(n)
			if prepared {
				return materializedWalk(m, func(ids string) string { return contactsByID(ids, args, ws) })
			}
			return contactsByID(m, args, ws)
		}
	}
	switch {
	case f.Q == "":
		return run(func(args *params) string {
			return `SELECT ` + contactColumns + `
FROM (SELECT c.workspace_id, c.id, c.first_name, c.last_name, c.email, c.phone, c.language, c.country,
             c.tags, c.custom_fields, c.created_at, c.updated_at
      FROM contacts c
      WHERE ` + strings.Join(where, " AND ") + `
      ORDER BY c.id DESC
      LIMIT ` + args.add(limit) + `) c
JOIN conversations v ON v.workspace_id = c.workspace_id AND v.contact_id = c.id
ORDER BY c.id DESC`
		})
	}
	if d, ok := contact.PhoneFragment(f.Q); ok {
		// The rarest gram's entries newest first (see phoneMatches): a full page after ~26
		// index entries for 4 digits, and no sort.
		// Its own arguments: the common conditions are on c, this walk's on g.
		var args params
		var cond string
		if f.Tag != "" {
			cond = "c.tags @> ARRAY[" + args.add(f.Tag) + "]::text[]"
		}
		m := phoneMatches(ws, d, cond, &args)
		if after != nil {
			m += " AND g.contact_id < " + args.add(after.ID)
		}
		q := contactsByID(m+` ORDER BY g.contact_id DESC LIMIT `+args.add(limit), &args, ws)
		return listRows[contactRow](ctx, s, "contacts", q, args, true, limit)
	}
	if !hasTrigram(f.Q) {
		return run(walk(nil, math.MaxInt, limit, false))
	}
	// A common fragment fills the page within the walk's first entries; the planner guesses
	// some of them rare (Santos: 595 contacts for 8 339) and would sort every match, so the
	// bounded walk goes first.
	if s.SearchWalkBound > 0 {
		found, err := runAs(f.Tag != "", walk(nil, s.SearchWalkBound, limit, f.Tag == ""))
		if err != nil || len(found) >= limit {
			return found, err
		}
		if !searchRare(len(found), s.SearchWalkBound) {
			// Common, but thin here: walk on without bound from the last match, as the
			// inbox's search does (searchSteps). The bounded walk read every entry before it,
			// so found is the page's start; the planner, asked instead, collected every match
			// from the trigram index (4 000 to 22 000 for the bench's fragments) and sorted them.
			more, err := run(walk(&found[len(found)-1].ID, math.MaxInt, limit-len(found), false))
			return append(found, more...), err
		}
	}
	return run(func(args *params) string {
		return contactsByID(`SELECT c.id FROM contacts c WHERE `+strings.Join(where, " AND ")+` AND `+
			searchCondition("c", f.Q, args)+` ORDER BY c.id DESC LIMIT `+args.add(limit), args, ws)
	})
}

// contactsByID joins the conversation to the contacts that m picked by id.
func contactsByID(m string, args *params, ws uuid.UUID) string {
	return `SELECT ` + contactColumns + `
FROM (` + m + `) m
JOIN contacts c ON c.workspace_id = ` + args.add(ws) + ` AND c.id = m.id
JOIN conversations v ON v.workspace_id = c.workspace_id AND v.contact_id = c.id
ORDER BY c.id DESC`
}

// ExplainContacts returns EXPLAIN (ANALYZE, BUFFERS) of each statement Contacts runs for this
// request, in order, for tests and benchmarks that check their plans.
func (s *Store) ExplainContacts(ctx context.Context, ws uuid.UUID, f contact.Filter, p page.Request) ([]string, error) {
	ctx, plans := withPlans(ctx)
	if _, _, err := s.Contacts(ctx, ws, f, p); err != nil {
		return nil, err
	}
	return *plans, nil
}

// explain runs EXPLAIN (ANALYZE, BUFFERS) of q with args as given (planEach included).
func (s *Store) explain(ctx context.Context, q string, args ...any) (string, error) {
	return explainOn(ctx, s.Pool, q, args...)
}

// explainOn runs EXPLAIN (ANALYZE, BUFFERS) of q on the pool or inside a transaction.
func explainOn(ctx context.Context, on querier, q string, args ...any) (string, error) {
	rows, _ := on.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q, args...)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	return strings.Join(lines, "\n"), nil
}

// UpdateContact locks a contact, applies the change and saves it, in two round trips: BEGIN
// with the lock; the update and the event with COMMIT.
func (s *Store) UpdateContact(ctx context.Context, ws, id uuid.UUID, apply func(*contact.Contact) error) (contact.Contact, error) {
	var out contact.Contact
	err := s.pgxTx(ctx, func(tx pgx.Tx) (*batch, error) {
		var r contactRow
		var found bool
		b := &batch{}
		lock := contactByID(ws, id)
		lock.sql += " FOR UPDATE OF c"
		queueRow(b, "lock contact", &r, &found, lock)
		if err := b.send(ctx, tx); err != nil {
			return nil, err
		}
		if !found {
			return nil, contact.ErrNotFound
		}
		c := r.domain()
		if err := apply(&c); err != nil {
			return nil, err
		}
		out = c
		tags, fields, err := contactArgs(c)
		if err != nil {
			return nil, err
		}
		b = &batch{}
		b.exec("update contact", statement{updateContactSQL, []any{c.FirstName, c.LastName, c.Email, c.Phone, c.Language,
			c.Country, tags, fields, c.UpdatedAt, ws, id}})
		return b, s.queuePublish(b, ws, []pending{contactEvent(event.ContactUpdated, c)})
	})
	if err != nil {
		return contact.Contact{}, s.contactExists(ctx, err, ws, &out)
	}
	return out, nil
}

const updateContactSQL = `
UPDATE contacts SET first_name = $1, last_name = $2, email = $3, phone = $4, language = $5, country = $6,
       tags = $7, custom_fields = $8::text::jsonb, updated_at = $9
WHERE workspace_id = $10 AND id = $11`

// DeleteContact removes a contact; its conversation, events and messages go with it.
func (s *Store) DeleteContact(ctx context.Context, ws, id uuid.UUID) error {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM contacts WHERE workspace_id = $1 AND id = $2`, ws, id)
	if err != nil {
		return fmt.Errorf("delete contact: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return contact.ErrNotFound
	}
	return nil
}
