// Package contact provides the people a workspace talks to: their details, normalised email
// and phone, tags and custom fields, and fragment search over names, email and phone digits.
package contact

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/errkind"
	"github.com/switchboard/switchboard/pkg/page"
	"github.com/switchboard/switchboard/pkg/phone"
	"github.com/switchboard/switchboard/pkg/workspace"
)

// ConversationRef is the contact's one conversation, as embedded in a contact.
type ConversationRef struct {
	ID     uuid.UUID
	Status string
}

// Contact is a person the workspace talks to.
type Contact struct {
	WorkspaceID  uuid.UUID
	ID           uuid.UUID
	FirstName    string
	LastName     string
	Email        *string
	Phone        *string
	Language     string
	Country      string
	Tags         []string
	CustomFields map[string]any
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Conversation ConversationRef
}

// Errors of this package.
var (
	ErrNotFound = errkind.New(errkind.KindNotFound, "contact_not_found", "No such contact in this workspace.")
	// ErrExists carries existing_id: the contact that already has this email or phone.
	ErrExists = errkind.New(errkind.KindConflict, "contact_exists", "A contact with this email or phone already exists.")
	// ErrSearchTooShort is CheckQuery's answer to a phone fragment under MinPhoneDigits.
	ErrSearchTooShort = &errkind.Error{Kind: errkind.KindInvalid, Code: "search_too_short",
		Detail: fmt.Sprintf("q: a phone number fragment needs at least %d digits.", MinPhoneDigits),
		Fields: []errkind.Field{{Field: "q", Message: fmt.Sprintf("must have at least %d digits to search phone numbers", MinPhoneDigits)}}}
)

// Filter selects contacts in a list.
type Filter struct {
	Q   string // fragment of names or email, or of phone digits (see PhoneFragment)
	Tag string
}

// Store is what the contact service needs from persistence.
type Store interface {
	Workspace(ctx context.Context, id uuid.UUID) (workspace.Workspace, error)
	// CreateContact stores the contact with its conversation (open, with its `opened` event).
	CreateContact(ctx context.Context, c *Contact) error
	Contact(ctx context.Context, ws, id uuid.UUID) (Contact, error)
	Contacts(ctx context.Context, ws uuid.UUID, f Filter, p page.Request) ([]Contact, string, error)
	UpdateContact(ctx context.Context, ws, id uuid.UUID, apply func(*Contact) error) (Contact, error)
	DeleteContact(ctx context.Context, ws, id uuid.UUID) error
	// MergeContacts merges contact merged into survivor in one transaction and answers the
	// survivor; ErrNotFound for an unknown survivor, ErrMergeUnknown for an unknown merged.
	MergeContacts(ctx context.Context, ws, survivor, merged uuid.UUID, now time.Time) (Contact, error)
}

// Service runs the contact use cases.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService builds a Service.
func NewService(st Store, now func() time.Time) *Service { return &Service{store: st, now: now} }

// Fields is the editable part of a contact. In a patch a nil field stays as it is; an empty
// Email or Phone clears it.
type Fields struct {
	FirstName    *string
	LastName     *string
	Email        *string
	Phone        *string
	Language     *string
	Country      *string
	Tags         *[]string
	CustomFields *map[string]any
}

// Limits on contact fields.
const (
	maxName         = 200
	maxTags         = 50
	maxTag          = 64
	maxCustomFields = 16 * 1024 // bytes of JSON
)

// apply validates f and writes it onto c. region parses national phone numbers.
func (f Fields) apply(c *Contact, region string) error {
	var errs errkind.Fields
	str := func(field string, in *string, out *string, max int) {
		if in == nil {
			return
		}
		v := strings.TrimSpace(*in)
		if utf8.RuneCountInString(v) > max || !utf8.ValidString(v) {
			errs.Add(field, fmt.Sprintf("must be at most %d characters", max))
			return
		}
		*out = v
	}
	str("first_name", f.FirstName, &c.FirstName, maxName)
	str("last_name", f.LastName, &c.LastName, maxName)
	if f.Language != nil {
		v := strings.TrimSpace(*f.Language)
		if v != "" && !validLanguage(v) {
			errs.Add("language", "must be a BCP 47 language tag such as en, pt-BR or zh-Hant")
		} else {
			c.Language = v
		}
	}
	if f.Country != nil {
		v := strings.ToUpper(strings.TrimSpace(*f.Country))
		if v != "" && (len(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z') {
			errs.Add("country", "must be an ISO 3166-1 alpha-2 code such as US or DE")
		} else {
			c.Country = v
		}
	}
	if f.Email != nil {
		if v := strings.TrimSpace(*f.Email); v == "" {
			c.Email = nil
		} else if e, ok := workspace.NormalizeEmail(v); ok {
			c.Email = &e
		} else {
			errs.Add("email", "must be a valid email address")
		}
	}
	if f.Phone != nil {
		if v := strings.TrimSpace(*f.Phone); v == "" {
			c.Phone = nil
		} else if p, err := phone.Normalize(v, region); err == nil {
			c.Phone = &p
		} else {
			errs.Add("phone", "must be a valid phone number, international (+1 202 555 0123) or national to the workspace's default_phone_region")
		}
	}
	if f.Tags != nil {
		tags := make([]string, 0, len(*f.Tags))
		seen := map[string]bool{}
		for i, t := range *f.Tags {
			t = strings.TrimSpace(t)
			if t == "" || utf8.RuneCountInString(t) > maxTag {
				errs.Add(fmt.Sprintf("tags[%d]", i), fmt.Sprintf("must be 1 to %d characters", maxTag))
				continue
			}
			if !seen[t] {
				seen[t] = true
				tags = append(tags, t)
			}
		}
		if len(tags) > maxTags {
			errs.Add("tags", fmt.Sprintf("at most %d tags", maxTags))
		}
		c.Tags = tags
	}
	if f.CustomFields != nil {
		cf := *f.CustomFields
		if cf == nil {
			cf = map[string]any{}
		}
		b, _ := json.Marshal(cf)
		if len(b) > maxCustomFields {
			errs.Add("custom_fields", fmt.Sprintf("must be at most %d bytes of JSON", maxCustomFields))
		}
		for k, v := range cf {
			if k == "" || utf8.RuneCountInString(k) > 64 {
				errs.Add("custom_fields", "keys must be 1 to 64 characters")
				break
			}
			if v == nil {
				// The contract types a field's value as any JSON but null; to drop a field, leave
				// its key out of the replacing object.
				errs.Add("custom_fields."+k, "must not be null; leave the key out to remove the field")
			}
		}
		c.CustomFields = cf
	}
	return errs.Err()
}

// validLanguage accepts BCP 47-shaped tags: letters and digits in 1-8 character subtags.
func validLanguage(s string) bool {
	if len(s) > 35 {
		return false
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' })
	if len(parts) == 0 || len(parts[0]) < 2 || len(parts[0]) > 3 {
		return false
	}
	for _, p := range parts {
		if len(p) == 0 || len(p) > 8 {
			return false
		}
		for _, r := range p {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

// New builds a new contact from validated fields (not yet stored). region parses national
// phone numbers.
func New(ws uuid.UUID, f Fields, region string, now time.Time) (Contact, error) {
	c := Contact{WorkspaceID: ws, ID: uuid.Must(uuid.NewV7()), Tags: []string{}, CustomFields: map[string]any{},
		CreatedAt: now, UpdatedAt: now}
	if err := f.apply(&c, region); err != nil {
		return Contact{}, err
	}
	return c, nil
}

// Create adds a contact with its conversation.
func (s *Service) Create(ctx context.Context, ws uuid.UUID, f Fields) (Contact, error) {
	w, err := s.store.Workspace(ctx, ws)
	if err != nil {
		return Contact{}, fmt.Errorf("create contact: %w", err)
	}
	// Microseconds, as stored, so the answer equals what a read returns later.
	c, err := New(ws, f, w.Settings.DefaultPhoneRegion, s.now().UTC().Truncate(time.Microsecond))
	if err != nil {
		return Contact{}, err
	}
	if err := s.store.CreateContact(ctx, &c); err != nil {
		return Contact{}, err
	}
	return c, nil
}

// Get returns one contact.
func (s *Service) Get(ctx context.Context, ws, id uuid.UUID) (Contact, error) {
	return s.store.Contact(ctx, ws, id)
}

// List returns a page of contacts, newest first.
func (s *Service) List(ctx context.Context, ws uuid.UUID, f Filter, p page.Request) ([]Contact, string, error) {
	f.Q = strings.TrimSpace(f.Q)
	if utf8.RuneCountInString(f.Q) > 200 {
		return nil, "", errkind.Invalid(errkind.Field{Field: "q", Message: "must be at most 200 characters"})
	}
	if err := CheckQuery(f.Q); err != nil {
		return nil, "", err
	}
	return s.store.Contacts(ctx, ws, f, p)
}

// Update patches a contact.
func (s *Service) Update(ctx context.Context, ws, id uuid.UUID, f Fields) (Contact, error) {
	w, err := s.store.Workspace(ctx, ws)
	if err != nil {
		return Contact{}, fmt.Errorf("update contact: %w", err)
	}
	return s.store.UpdateContact(ctx, ws, id, func(c *Contact) error {
		if err := f.apply(c, w.Settings.DefaultPhoneRegion); err != nil {
			return err
		}
		c.UpdatedAt = s.now().UTC()
		return nil
	})
}

// Delete removes a contact with its conversation and messages.
func (s *Service) Delete(ctx context.Context, ws, id uuid.UUID) error {
	return s.store.DeleteContact(ctx, ws, id)
}

// MinPhoneDigits is the fewest digits a phone fragment in q may have. Phone search reads the
// 4-digit grams of the contacts' phone numbers (migration 0026), newest contact first, and
// stops at a full page; a shorter fragment would have to collect and sort every phone that
// holds it (a third of them for 2 digits), so it is refused rather than served slowly.
const MinPhoneDigits = 4

// PhoneFragment reports whether q searches phone numbers and returns its digits: q is digits
// with, at most, the punctuation people type in numbers (spaces, + - ( ) . /) between them.
// Any other q (one letter or symbol is enough) searches the "first last email" text only.
func PhoneFragment(q string) (digits string, ok bool) {
	var b strings.Builder
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(" +-()./", r):
		default:
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}

// CheckQuery refuses a q that search does not take: a phone fragment of fewer than
// MinPhoneDigits digits (search_too_short, a 422 naming q). Contacts and the inbox check it
// alike.
func CheckQuery(q string) error {
	if d, ok := PhoneFragment(q); ok && len(d) < MinPhoneDigits {
		return ErrSearchTooShort
	}
	return nil
}
