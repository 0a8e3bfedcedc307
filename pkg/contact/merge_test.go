package contact

import (
	"fmt"
	"testing"
	"time"
)

func TestAbsorb(t *testing.T) {
	phone, email, theirEmail := "+12025550123", "maria@example.com", "other@example.com"
	c := Contact{FirstName: "Maria", Email: &email, Tags: []string{"vip"}, CustomFields: map[string]any{"plan": "gold"}}
	o := Contact{FirstName: "M.", LastName: "Gonzalez", Email: &theirEmail, Phone: &phone, Country: "MX",
		Tags: []string{"es", "vip"}, CustomFields: map[string]any{"plan": "free", "city": "Madrid"}}
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	c.Absorb(o, now)
	if c.FirstName != "Maria" || c.LastName != "Gonzalez" || *c.Email != email || c.Phone == nil || *c.Phone != phone || c.Country != "MX" {
		t.Errorf("details %+v: the survivor's win, the other's fill the gaps", c)
	}
	if fmt.Sprint(c.Tags) != "[vip es]" || fmt.Sprint(c.CustomFields) != "map[city:Madrid plan:gold]" || !c.UpdatedAt.Equal(now) {
		t.Errorf("tags %v, custom fields %v, updated %v", c.Tags, c.CustomFields, c.UpdatedAt)
	}

	// Tags stay within the limit, the survivor's first.
	c = Contact{}
	o = Contact{}
	for i := 0; i < maxTags; i++ {
		c.Tags = append(c.Tags, fmt.Sprint("s", i))
		o.Tags = append(o.Tags, fmt.Sprint("o", i))
	}
	c.Absorb(o, now)
	if len(c.Tags) != maxTags || c.Tags[maxTags-1] != fmt.Sprint("s", maxTags-1) || c.CustomFields == nil {
		t.Errorf("%d tags, last %q", len(c.Tags), c.Tags[len(c.Tags)-1])
	}
}
