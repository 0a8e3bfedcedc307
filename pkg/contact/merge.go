package contact

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/pkg/errkind"
)

// Merge is what the contact.merged event says: MergedID went into SurvivorID.
type Merge struct {
	SurvivorID uuid.UUID
	MergedID   uuid.UUID
}

// Errors of a merge: from_contact_id names the contact itself, or no contact of the workspace
// (another workspace's contact is unknown here: tenancy).
var (
	ErrMergeSelf    = errkind.Invalid(errkind.Field{Field: "from_contact_id", Message: "must be another contact than the one merged into"})
	ErrMergeUnknown = errkind.Invalid(errkind.Field{Field: "from_contact_id", Message: "must be a contact of this workspace"})
)

// Absorb unites o's details into c, the survivor of a merge: c's values win, and o's fill in
// what c lacks (names, email, phone, language, country, and each custom field c has no key
// for); tags are united, c's first, at most maxTags.
func (c *Contact) Absorb(o Contact, now time.Time) {
	fill := func(dst *string, src string) {
		if *dst == "" {
			*dst = src
		}
	}
	fill(&c.FirstName, o.FirstName)
	fill(&c.LastName, o.LastName)
	fill(&c.Language, o.Language)
	fill(&c.Country, o.Country)
	if c.Email == nil {
		c.Email = o.Email
	}
	if c.Phone == nil {
		c.Phone = o.Phone
	}
	seen := map[string]bool{}
	tags := make([]string, 0, len(c.Tags)+len(o.Tags))
	for _, t := range append(append([]string{}, c.Tags...), o.Tags...) {
		if !seen[t] && len(tags) < maxTags {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	c.Tags = tags
	if c.CustomFields == nil {
		c.CustomFields = map[string]any{}
	}
	for k, v := range o.CustomFields {
		if _, ok := c.CustomFields[k]; !ok {
			c.CustomFields[k] = v
		}
	}
	c.UpdatedAt = now
}

// Merge merges contact from into contact id (the survivor) and answers the survivor. Repeating
// a merge that happened answers the same.
func (s *Service) Merge(ctx context.Context, ws, id, from uuid.UUID) (Contact, error) {
	if id == from {
		if _, err := s.store.Contact(ctx, ws, id); err != nil {
			return Contact{}, err // {id} unknown is 404 before anything else
		}
		return Contact{}, ErrMergeSelf
	}
	return s.store.MergeContacts(ctx, ws, id, from, s.now().UTC().Truncate(time.Microsecond))
}
