package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/page"
)

type contactBody struct {
	ID           string         `json:"id"`
	FirstName    string         `json:"first_name"`
	LastName     string         `json:"last_name"`
	Email        *string        `json:"email"`
	Phone        *string        `json:"phone"`
	Language     string         `json:"language"`
	Country      string         `json:"country"`
	Tags         []string       `json:"tags"`
	CustomFields map[string]any `json:"custom_fields"`
	Conversation struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	} `json:"conversation"`
}

type contactPage struct {
	Data       []contactBody `json:"data"`
	NextCursor *string       `json:"next_cursor"`
}

func TestContactCRUD(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")

	var c contactBody
	e.Post(t, "/v1/contacts", w.OwnerToken, map[string]any{
		"first_name": " Maria ", "last_name": "González", "email": "  Maria.Gonzalez@Example.COM ",
		"phone": "(202) 555-0123", "language": "es-MX", "country": "mx", "tags": []string{"vip", "vip", "b2b"},
		"custom_fields": map[string]any{"plan": "gold", "seats": 12},
	}).Expect(t, http.StatusCreated).JSON(t, &c)
	if c.FirstName != "Maria" || *c.Email != "maria.gonzalez@example.com" || *c.Phone != "+12025550123" ||
		c.Country != "MX" || strings.Join(c.Tags, ",") != "vip,b2b" || c.CustomFields["seats"] != float64(12) {
		t.Fatalf("normalised contact: %+v", c)
	}
	if c.Conversation.ID == "" || c.Conversation.Status != "open" {
		t.Fatalf("contact has no open conversation: %+v", c.Conversation)
	}

	var got contactBody
	e.Get(t, "/v1/contacts/"+c.ID, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &got)
	if got.ID != c.ID || got.Conversation.ID != c.Conversation.ID {
		t.Fatalf("get: %+v", got)
	}

	// Patch: absent fields stay, an empty email clears it.
	var upd contactBody
	e.Patch(t, "/v1/contacts/"+c.ID, w.OwnerToken, map[string]any{"last_name": "Gonzalez", "email": ""}).Expect(t, http.StatusOK).JSON(t, &upd)
	if upd.LastName != "Gonzalez" || upd.Email != nil || upd.Phone == nil || upd.FirstName != "Maria" {
		t.Fatalf("patched: %+v", upd)
	}

	// Email and phone are unique in the workspace; the conflict names the holder.
	r := e.Post(t, "/v1/contacts", w.OwnerToken, map[string]any{"first_name": "Dup", "phone": "+1 202-555-0123"}).
		ExpectProblem(t, http.StatusConflict, "contact_exists")
	if r.Map(t)["existing_id"] != c.ID {
		t.Fatalf("conflict does not name the existing contact: %s", r.Body)
	}
	other := e.NewContact(t, w.OwnerToken, map[string]any{"email": "other@example.com"})
	r = e.Patch(t, "/v1/contacts/"+c.ID, w.OwnerToken, map[string]any{"email": "OTHER@example.com"}).ExpectProblem(t, http.StatusConflict, "contact_exists")
	if r.Map(t)["existing_id"] != other {
		t.Fatalf("patch conflict does not name the holder: %s", r.Body)
	}

	// National numbers parse with the workspace's region.
	e.Patch(t, "/v1/workspace", w.OwnerToken, map[string]any{"settings": map[string]any{"default_phone_region": "GB"}}).Expect(t, http.StatusOK)
	var uk contactBody
	e.Post(t, "/v1/contacts", w.OwnerToken, map[string]any{"phone": "020 7946 0958"}).Expect(t, http.StatusCreated).JSON(t, &uk)
	if *uk.Phone != "+442079460958" {
		t.Fatalf("national GB number: %v", *uk.Phone)
	}

	e.Delete(t, "/v1/contacts/"+c.ID, w.OwnerToken).Expect(t, http.StatusNoContent)
	e.Get(t, "/v1/contacts/"+c.ID, w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
	e.Delete(t, "/v1/contacts/"+c.ID, w.OwnerToken).ExpectProblem(t, http.StatusNotFound, "contact_not_found")
}

func TestContactValidation(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"bad email", map[string]any{"email": "maria@"}, "email"},
		{"email with display name", map[string]any{"email": "Maria <m@example.com>"}, "email"},
		{"bad phone", map[string]any{"phone": "12"}, "phone"},
		{"letters as phone", map[string]any{"phone": "call me"}, "phone"},
		{"bad country", map[string]any{"country": "Mexico"}, "country"},
		{"bad language", map[string]any{"language": "español!"}, "language"},
		{"empty tag", map[string]any{"tags": []string{"ok", " "}}, "tags[1]"},
		{"long first name", map[string]any{"first_name": strings.Repeat("a", 201)}, "first_name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post(t, "/v1/contacts", w.OwnerToken, tc.body).ExpectProblem(t, http.StatusUnprocessableEntity, "validation_failed")
			if !problemFields(t, r)[tc.field] {
				t.Errorf("problem does not name %s: %s", tc.field, r.Body)
			}
		})
	}
}

// seedContacts bulk-inserts n contacts (with their conversations) straight into the database:
// realistic names in several scripts, emails and UK mobile numbers.
func seedContacts(t *testing.T, e *apitest.Env, ws string, n int) {
	t.Helper()
	const q = `
WITH names AS (
    SELECT ARRAY['Smith','Jones','Müller','García','Rossi','Nguyen','Kowalski','Silva','Tanaka','Ivanova',
                 'Kim','Dubois','Hansen','Yılmaz','Novak','Cohen','Singh','Okafor','Иванов','王']::text[] AS last,
           ARRAY['Anna','Ben','Chloé','Dmitri','Eva','Farid','Grace','Hiro','Ines','Jonas']::text[] AS first
), rows AS (
    SELECT $1::uuid AS ws, gen_random_uuid() AS id, i,
           names.first[1 + i % 10] AS first_name,
           names.last[1 + (i / 10) % 20] || CASE WHEN i % 3 = 0 THEN '' ELSE '-' || (i % 97)::text END AS last_name
    FROM generate_series(1, $2::int) AS i, names
), c AS (
    INSERT INTO contacts (workspace_id, id, first_name, last_name, email, phone, tags)
    SELECT ws, id, first_name, last_name, 'user' || i || '@mail' || (i % 50) || '.example.org',
           '+447700' || lpad(i::text, 6, '0'), CASE WHEN i % 10 = 0 THEN ARRAY['newsletter'] ELSE '{}' END
    FROM rows RETURNING workspace_id, id
)
INSERT INTO conversations (workspace_id, id, contact_id) SELECT workspace_id, gen_random_uuid(), id FROM c`
	if _, err := e.Store.Pool.Exec(context.Background(), q, ws, n); err != nil {
		t.Fatalf("seed contacts: %v", err)
	}
	if _, err := e.Store.Pool.Exec(context.Background(), `ANALYZE contacts; ANALYZE conversations`); err != nil {
		t.Fatal(err)
	}
}

func TestContactSearch(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	seedContacts(t, e, w.ID, 10000)
	target := e.NewContact(t, w.OwnerToken, map[string]any{
		"first_name": "Adaeze", "last_name": "Oyelaran-Quist", "email": "a.oyelaran@northwind.example", "phone": "+1 (415) 867-5309",
	})

	search := func(t *testing.T, q string) []contactBody {
		var p contactPage
		e.Get(t, "/v1/contacts?limit=100&q="+url.QueryEscape(q), w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &p)
		return p.Data
	}
	cases := []struct {
		name string
		q    string
	}{
		{"last name fragment", "yelara"},
		{"last name fragment, other case", "QUIST"},
		{"first and last", "adaeze oyel"},
		{"email fragment", "northwind.ex"},
		{"four middle digits", "8675"},
		{"digits with spaces", "867 53"},
		{"international prefix with punctuation", "+1 (415)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			found := false
			for _, c := range search(t, tc.q) {
				if c.ID == target {
					found = true
				}
				if !matches(c, tc.q) {
					t.Errorf("%q matched %+v, which does not contain it", tc.q, c)
				}
			}
			if !found {
				t.Errorf("%q did not find the contact", tc.q)
			}
		})
	}
	if got := search(t, "no-such-person-anywhere"); len(got) != 0 {
		t.Errorf("nonsense query found %d contacts", len(got))
	}
	// Fragments that match many seeded contacts return only real matches.
	for _, c := range search(t, "müller") {
		if !strings.Contains(strings.ToLower(c.LastName), "müller") {
			t.Errorf("müller matched %+v", c)
		}
	}
	if got := search(t, "иванов"); len(got) == 0 {
		t.Error("Cyrillic last name not found")
	}
	// Paging through a common fragment gives the same contacts, newest first, at any page size.
	pageAll := func(t *testing.T, q string, limit int) []string {
		var ids []string
		path := fmt.Sprintf("/v1/contacts?limit=%d&q=%s", limit, url.QueryEscape(q))
		for next := path; ; {
			var p contactPage
			e.Get(t, next, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &p)
			for _, c := range p.Data {
				if len(ids) > 0 && c.ID >= ids[len(ids)-1] {
					t.Fatalf("%s after %s: not newest first", c.ID, ids[len(ids)-1])
				}
				ids = append(ids, c.ID)
			}
			if p.NextCursor == nil {
				return ids
			}
			next = path + "&cursor=" + url.QueryEscape(*p.NextCursor)
		}
	}
	want := pageAll(t, "müller", 100)
	if len(want) < 10 {
		t.Fatalf("müller: %d contacts, want a fragment common enough to page", len(want))
	}
	if got := pageAll(t, "müller", 7); !slices.Equal(got, want) {
		t.Errorf("paging by 7 found %d contacts, by 100 %d", len(got), len(want))
	}
	// Two letters have no trigram: the search walks contacts newest first instead.
	if got, want := pageAll(t, "ü", 40), pageAll(t, "ü", 7); len(got) == 0 || !slices.Equal(got, want) {
		t.Errorf("ü: paging by 40 found %d contacts, by 7 %d", len(got), len(want))
	}

	// As autovacuum leaves a table that has settled, so that index-only scans need no heap.
	if _, err := e.Store.Pool.Exec(context.Background(), "VACUUM (ANALYZE) contacts"); err != nil {
		t.Fatal(err)
	}
	// A rare fragment: the bounded walk of contacts_search_walk (index-only) finds less than
	// a page, and the planner looks it up in the trigram index; a fragment without a trigram
	// walks that index to the end; phone digits walk one gram's entries in
	// contact_phone_grams, newest first. Nothing scans the contacts.
	wsID := uuid.MustParse(w.ID)
	for _, q := range []string{"yelara", "8675", "qu"} {
		plans, err := e.Store.ExplainContacts(context.Background(), wsID, contact.Filter{Q: q}, page.Request{Limit: 25})
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(plans, "\n\n")
		if strings.Contains(plan, "Seq Scan on contacts") {
			t.Errorf("plan for %q scans contacts:\n%s", q, plan)
		}
		switch q {
		case "8675":
			if len(plans) != 1 || !strings.Contains(plan, "Index Only Scan Backward using contact_phone_grams_pkey") ||
				strings.Contains(plan, "Sort") {
				t.Errorf("plan for %q is not one walk of contact_phone_grams_pkey without a sort:\n%s", q, plan)
			}
		default:
			if want := map[bool]int{true: 1, false: 2}[q == "qu"]; len(plans) != want ||
				!strings.Contains(plans[0], "Index Only Scan Backward using contacts_search_walk") {
				t.Fatalf("%d statements for %q, want %d, the first an index-only walk:\n%s", len(plans), q, want, plan)
			}
			if q != "qu" && !strings.Contains(plans[1], "contacts_search_trgm") {
				t.Errorf("plan for %q does not use contacts_search_trgm:\n%s", q, plan)
			}
		}
		t.Logf("EXPLAIN ANALYZE for q=%q on 10 001 contacts:\n%s", q, plan)
	}
}

// matches applies the documented semantics: a phone fragment (digits and phone punctuation)
// is a fragment of the phone's digits; any other q, of "first last email".
func matches(c contactBody, q string) bool {
	if d, ok := contact.PhoneFragment(q); ok {
		return c.Phone != nil && strings.Contains(digitsOf(*c.Phone), d)
	}
	text := strings.ToLower(c.FirstName + " " + c.LastName + " ")
	if c.Email != nil {
		text += *c.Email
	}
	return strings.Contains(text, strings.ToLower(strings.Join(strings.Fields(q), " ")))
}

// digitsOf is a phone number's digits, as contacts.phone_digits holds them.
func digitsOf(phone string) string {
	return strings.Map(func(r rune) rune {
		if r < '0' || r > '9' {
			return -1
		}
		return r
	}, phone)
}

func TestContactPaginationAndTags(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	seedContacts(t, e, w.ID, 230)

	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		path := "/v1/contacts?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var p contactPage
		e.Get(t, path, w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &p)
		pages++
		for _, c := range p.Data {
			if seen[c.ID] {
				t.Fatalf("contact %s on two pages", c.ID)
			}
			seen[c.ID] = true
		}
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	if len(seen) != 230 || pages != 3 {
		t.Fatalf("paged %d contacts in %d pages, want 230 in 3", len(seen), pages)
	}

	var tagged contactPage
	e.Get(t, "/v1/contacts?limit=100&tag=newsletter", w.OwnerToken).Expect(t, http.StatusOK).JSON(t, &tagged)
	if len(tagged.Data) != 23 {
		t.Fatalf("tag filter found %d, want 23", len(tagged.Data))
	}
	for _, c := range tagged.Data {
		if len(c.Tags) != 1 || c.Tags[0] != "newsletter" {
			t.Fatalf("untagged contact in tag filter: %+v", c)
		}
	}
}
