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
	"gorm.io/gorm"

	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/event"
	"github.com/switchboard/switchboard/pkg/page"
)

type contactRow struct {
	WorkspaceID        uuid.UUID `gorm:"primaryKey"`
	ID                 uuid.UUID `gorm:"primaryKey"`
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
	ConversationID     uuid.UUID `gorm:"->"`
	ConversationStatus string    `gorm:"->"`
}

func (contactRow) TableName() string { return "contacts" }

func (r contactRow) domain() contact.Contact {
	return contact.Contact{WorkspaceID: r.WorkspaceID, ID: r.ID, FirstName: r.FirstName, LastName: r.LastName,
		Email: r.Email, Phone: r.Phone, Language: r.Language, Country: r.Country, Tags: []string(r.Tags),
		CustomFields: map[string]any(r.CustomFields), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Conversation: contact.ConversationRef{ID: r.ConversationID, Status: r.ConversationStatus}}
}

// contactColumns are the contact's own columns plus its conversation, for every contact read.
const contactColumns = `c.workspace_id, c.id, c.first_name, c.last_name, c.email, c.phone, c.language, c.country,
       c.tags, c.custom_fields, c.created_at, c.updated_at, v.id AS conversation_id, v.status AS conversation_status`

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

// CreateContact inserts a contact, its conversation and the conversation's opened event.
func (s *Store) CreateContact(ctx context.Context, c *contact.Contact) error {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := insertContact(tx, c); err != nil {
			return err
		}
		conv, err := conversationWhere(tx, "v.workspace_id = ? AND v.id = ?", false, c.WorkspaceID, c.Conversation.ID)
		if err != nil {
			return err
		}
		return s.publish(tx, c.WorkspaceID, []pending{contactEvent(event.ContactCreated, *c),
			{typ: event.ConversationOpened, conv: &conv.ID, v: conv}})
	})
	if err != nil {
		return s.contactExists(ctx, err, c.WorkspaceID, c)
	}
	return nil
}

// insertContact writes a contact with its open conversation inside tx.
func insertContact(tx *gorm.DB, c *contact.Contact) error {
	contactSt, convSt, err := contactInsert(c)
	if err != nil {
		return err
	}
	if err := execSQL(tx, contactSt); err != nil {
		return fmt.Errorf("insert contact: %w", err)
	}
	if err := execSQL(tx, convSt); err != nil {
		return fmt.Errorf("insert conversation: %w", err)
	}
	return nil
}

// contactInsert builds the statements that write a new contact and its open conversation
// with the conversation's opened event, and sets c.Conversation.
func contactInsert(c *contact.Contact) (contactSt, convSt statement, err error) {
	tags, err := textArray(c.Tags).Value()
	if err != nil {
		return statement{}, statement{}, err
	}
	fields, err := jsonObject(c.CustomFields).Value()
	if err != nil {
		return statement{}, statement{}, err
	}
	contactSt = statement{`
INSERT INTO contacts (workspace_id, id, first_name, last_name, email, phone, language, country, tags, custom_fields,
                      created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb, $11, $12)`,
		[]any{c.WorkspaceID, c.ID, c.FirstName, c.LastName, c.Email, c.Phone, c.Language, c.Country, tags, fields,
			c.CreatedAt, c.UpdatedAt}}
	conv := uuid.Must(uuid.NewV7())
	convSt = statement{`
WITH v AS (
    INSERT INTO conversations (workspace_id, id, contact_id, status, last_message_at, created_at, updated_at)
    VALUES ($1, $2, $3, 'open', $4, $4, $4)
)
INSERT INTO conversation_events (workspace_id, id, conversation_id, type, actor_kind, at)
VALUES ($1, $5, $2, 'opened', 'system', $4)`,
		[]any{c.WorkspaceID, conv, c.ID, c.CreatedAt, uuid.Must(uuid.NewV7())}}
	c.Conversation = contact.ConversationRef{ID: conv, Status: "open"}
	return contactSt, convSt, nil
}

// Contact returns one contact with its conversation.
func (s *Store) Contact(ctx context.Context, ws, id uuid.UUID) (contact.Contact, error) {
	const q = `SELECT ` + contactColumns + `
FROM contacts c JOIN conversations v ON v.workspace_id = c.workspace_id AND v.contact_id = c.id
WHERE c.workspace_id = $1 AND c.id = $2`
	var r contactRow
	err := s.Pool.QueryRow(ctx, q, ws, id).Scan(contactFields(&r)...)
	r.fill()
	if isNotFound(err) {
		return contact.Contact{}, contact.ErrNotFound
	}
	if err != nil {
		return contact.Contact{}, fmt.Errorf("get contact: %w", err)
	}
	return r.domain(), nil
}

// contactFields are the scan destinations of a row of contactColumns; fill completes it.
func contactFields(r *contactRow) []any {
	return []any{&r.WorkspaceID, &r.ID, &r.FirstName, &r.LastName, &r.Email, &r.Phone, &r.Language, &r.Country,
		(*[]string)(&r.Tags), (*map[string]any)(&r.CustomFields), &r.CreatedAt, &r.UpdatedAt,
		&r.ConversationID, &r.ConversationStatus}
}

// scanContact reads one row of contactColumns.
func scanContact(row pgx.Row, r *contactRow) error {
	err := row.Scan(contactFields(r)...)
	r.fill()
	return err
}

// fill gives a scanned row empty tags and custom fields where the scan left none.
func (r *contactRow) fill() {
	if r.Tags == nil {
		r.Tags = textArray{}
	}
	if r.CustomFields == nil {
		r.CustomFields = jsonObject{}
	}
}

type contactCursor struct {
	ID uuid.UUID `json:"id"`
}

// Contacts lists contacts newest first (keyset on id), with optional search and tag filter.
// With q, the page's contact ids are chosen from contacts_search_walk's columns alone and the
// rest (every contact has exactly one conversation) is joined for those rows only. The search
// is one statement planned for its arguments (see planEach): the planner weighs, from the
// column's statistics (migration 0007), walking that index newest first — index-only, a LIKE
// per entry — against collecting every match from the trigram indexes and sorting them, and at
// 1 000 000 contacts it chooses as well as any fixed rule we measured (the inbox, which has no
// such choice, runs in steps: see searchSteps). A q without a trigram cannot use the trigram
// indexes except by reading them whole, so it always walks.
func (s *Store) Contacts(ctx context.Context, ws uuid.UUID, f contact.Filter, p page.Request) ([]contact.Contact, string, error) {
	var args params
	where := []string{"c.workspace_id = " + args.add(ws)}
	if f.Tag != "" {
		where = append(where, "c.tags @> ARRAY["+args.add(f.Tag)+"]::text[]")
	}
	if p.Cursor != "" {
		var cur contactCursor
		if err := page.Decode(p.Cursor, &cur); err != nil {
			return nil, "", err
		}
		where = append(where, "c.id < "+args.add(cur.ID))
	}
	var found []contactRow
	// list runs one statement; how many contacts match decides a search's or a tag's plan
	// (see planEach). Each statement gets its own copy of the common arguments.
	list := func(m func(args *params) string) (int, error) {
		args := slices.Clone(args)
		q := m(&args)
		return listRows(ctx, s, "contacts", q, args, f.Q != "" || f.Tag != "", p.Limit+1, contactFields, &found)
	}
	// walk walks contacts_search_walk newest first over at most bound entries, reading only
	// its columns (no table row); the subquery's LIMIT keeps it a walk.
	walk := func(bound int) func(args *params) string {
		return func(args *params) string {
			return contactsByID(`SELECT c.id FROM (SELECT c.id, c.search_text, c.phone_digits FROM contacts c WHERE `+
				strings.Join(where, " AND ")+` ORDER BY c.id DESC LIMIT `+args.add(bound)+`) c
      WHERE `+searchCondition("c", f.Q, args)+` ORDER BY c.id DESC LIMIT `+args.add(p.Limit+1), args, ws)
		}
	}
	var err error
	switch {
	case f.Q == "":
		_, err = list(func(args *params) string {
			return `SELECT ` + contactColumns + `
FROM (SELECT c.workspace_id, c.id, c.first_name, c.last_name, c.email, c.phone, c.language, c.country,
             c.tags, c.custom_fields, c.created_at, c.updated_at
      FROM contacts c
      WHERE ` + strings.Join(where, " AND ") + `
      ORDER BY c.id DESC
      LIMIT ` + args.add(p.Limit+1) + `) c
JOIN conversations v ON v.workspace_id = c.workspace_id AND v.contact_id = c.id
ORDER BY c.id DESC`
		})
	case !HasTrigram(f.Q):
		_, err = list(walk(math.MaxInt))
	default:
		// A common fragment fills the page within the walk's first entries; the planner
		// guesses some of them rare (Santos: 595 contacts for 8 339) and would sort every
		// match, so the bounded walk goes first.
		n := 0
		if s.SearchWalkBound > 0 {
			n, err = list(walk(s.SearchWalkBound))
		}
		if err == nil && n <= p.Limit {
			_, err = list(func(args *params) string {
				return contactsByID(`SELECT c.id FROM contacts c WHERE `+strings.Join(where, " AND ")+` AND `+
					searchCondition("c", f.Q, args)+` ORDER BY c.id DESC LIMIT `+args.add(p.Limit+1), args, ws)
			})
		}
	}
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(found) > p.Limit {
		found = found[:p.Limit]
		next = page.Encode(contactCursor{found[len(found)-1].ID})
	}
	out := make([]contact.Contact, len(found))
	for i, r := range found {
		r.fill()
		out[i] = r.domain()
	}
	return out, next, nil
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
	rows, _ := s.Pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q, args...)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	return strings.Join(lines, "\n"), nil
}

// UpdateContact locks a contact, applies the change and saves it.
func (s *Store) UpdateContact(ctx context.Context, ws, id uuid.UUID, apply func(*contact.Contact) error) (contact.Contact, error) {
	var out contact.Contact
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var r contactRow
		q := `SELECT ` + contactColumns + `
FROM contacts c JOIN conversations v ON v.workspace_id = c.workspace_id AND v.contact_id = c.id
WHERE c.workspace_id = ? AND c.id = ? FOR UPDATE OF c`
		res := tx.Raw(q, ws, id).Scan(&r)
		if res.Error != nil {
			return fmt.Errorf("lock contact: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return contact.ErrNotFound
		}
		c := r.domain()
		if err := apply(&c); err != nil {
			return err
		}
		out = c
		const u = `
UPDATE contacts SET first_name = ?, last_name = ?, email = ?, phone = ?, language = ?, country = ?,
       tags = ?, custom_fields = ?, updated_at = ?
WHERE workspace_id = ? AND id = ?`
		if err := tx.Exec(u, c.FirstName, c.LastName, c.Email, c.Phone, c.Language, c.Country,
			textArray(c.Tags), jsonObject(c.CustomFields), c.UpdatedAt, ws, id).Error; err != nil {
			return fmt.Errorf("update contact: %w", err)
		}
		return s.publish(tx, ws, []pending{contactEvent(event.ContactUpdated, c)})
	})
	if err != nil {
		return contact.Contact{}, s.contactExists(ctx, err, ws, &out)
	}
	return out, nil
}

// DeleteContact removes a contact; its conversation, events and messages go with it.
func (s *Store) DeleteContact(ctx context.Context, ws, id uuid.UUID) error {
	res := s.conn(ctx).Exec(`DELETE FROM contacts WHERE workspace_id = ? AND id = ?`, ws, id)
	if res.Error != nil {
		return fmt.Errorf("delete contact: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return contact.ErrNotFound
	}
	return nil
}
