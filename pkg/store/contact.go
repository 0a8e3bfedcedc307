package store

import (
	"bytes"
	"context"
	"fmt"
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

// Contacts lists contacts newest first (keyset on id), with optional search (see searchSteps)
// and tag filter. Each statement chooses the page's contact ids first and joins the rest
// (every contact has exactly one conversation) for those rows only.
func (s *Store) Contacts(ctx context.Context, ws uuid.UUID, f contact.Filter, p page.Request) ([]contact.Contact, string, error) {
	var after *uuid.UUID
	if p.Cursor != "" {
		var cur contactCursor
		if err := page.Decode(p.Cursor, &cur); err != nil {
			return nil, "", err
		}
		after = &cur.ID
	}
	var found []contactRow
	// joinPage joins the conversation to the contacts a query picked: by id (m), or with their
	// columns (c).
	joinPage := func(m string, args *params) string {
		return `SELECT ` + contactColumns + `
FROM (` + m + `) m
JOIN contacts c ON c.workspace_id = ` + args.add(ws) + ` AND c.id = m.id
JOIN conversations v ON v.workspace_id = c.workspace_id AND v.contact_id = c.id
ORDER BY c.id DESC`
	}
	run := func(q string, args params) (int, error) {
		// How many contacts match decides a search's or a tag's plan (see planEach).
		return listRows(ctx, s, "contacts", q, args, f.Q != "" || f.Tag != "", p.Limit+1, contactFields, &found)
	}
	walk := func(bound int) (int, error) {
		var args params
		where := []string{"c.workspace_id = " + args.add(ws)}
		if f.Tag != "" {
			where = append(where, "c.tags @> ARRAY["+args.add(f.Tag)+"]::text[]")
		}
		if after != nil {
			where = append(where, "c.id < "+args.add(*after))
		}
		if f.Q != "" {
			// Only indexed columns (contacts_search_walk), so the walk reads no table row. The
			// subquery's LIMIT keeps the walk a walk: the planner could otherwise prefer the
			// trigram indexes, which find every match of a common fragment to sort them.
			m := `SELECT c.id FROM (SELECT c.id, c.search_text, c.phone_digits FROM contacts c WHERE ` + strings.Join(where, " AND ") +
				` ORDER BY c.id DESC LIMIT ` + args.add(bound) + `) c
      WHERE ` + searchCondition("c", f.Q, &args) + ` ORDER BY c.id DESC LIMIT ` + args.add(p.Limit+1)
			return run(joinPage(m, &args), args)
		}
		q := `SELECT ` + contactColumns + `
FROM (SELECT c.workspace_id, c.id, c.first_name, c.last_name, c.email, c.phone, c.language, c.country,
             c.tags, c.custom_fields, c.created_at, c.updated_at
      FROM contacts c
      WHERE ` + strings.Join(where, " AND ") + `
      ORDER BY c.id DESC
      LIMIT ` + args.add(p.Limit+1) + `) c
JOIN conversations v ON v.workspace_id = c.workspace_id AND v.contact_id = c.id
ORDER BY c.id DESC`
		return run(q, args)
	}
	fromIDs := func(ids []uuid.UUID) error {
		// Every match is known: newest first after the cursor, in Go.
		slices.SortFunc(ids, func(a, b uuid.UUID) int { return bytes.Compare(b[:], a[:]) })
		if after != nil {
			ids = slices.DeleteFunc(ids, func(id uuid.UUID) bool { return bytes.Compare(id[:], after[:]) >= 0 })
		}
		var args params
		var m string
		if f.Tag == "" {
			m = `SELECT m.id FROM unnest(` + args.add(ids[:min(len(ids), p.Limit+1)]) + `::uuid[]) m(id)`
		} else {
			m = `SELECT c.id FROM unnest(` + args.add(ids) + `::uuid[]) m(id)
      JOIN contacts c ON c.workspace_id = ` + args.add(ws) + ` AND c.id = m.id
      WHERE c.tags @> ARRAY[` + args.add(f.Tag) + `]::text[] ORDER BY c.id DESC LIMIT ` + args.add(p.Limit+1)
		}
		_, err := run(joinPage(m, &args), args)
		return err
	}
	if err := s.searchSteps(ctx, ws, f.Q, p.Limit+1, walk, fromIDs); err != nil {
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
