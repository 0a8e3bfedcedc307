package api_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/api/apitest"
)

// TestPhoneSearch holds search by phone digits (contact_phone_grams, migration 0026) to the
// contacts that really hold the digits, on contacts and in the inbox, at any page size, as
// contacts are created, renumbered, deleted and merged; to the minimum fragment; and to the
// workspace.
func TestPhoneSearch(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	other := e.NewWorkspace(t, "Globex")
	seedContacts(t, e, w.ID, 300) // phones +447700000001 ... +447700000300
	target := e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Adaeze", "last_name": "Quist", "phone": "+1 (415) 867-5309"})
	// The same number in another workspace, and a text-only contact whose email holds the digits.
	stranger := e.NewContact(t, other.OwnerToken, map[string]any{"first_name": "Eve", "last_name": "Other", "phone": "+1 (415) 867-5309"})
	e.NewContact(t, w.OwnerToken, map[string]any{"first_name": "Mail", "last_name": "Only", "email": "x8675309@example.org"})

	// contacts pages through /v1/contacts?q= by limit and returns the ids, checking the order.
	contacts := func(t *testing.T, token, q string, limit int) []string {
		t.Helper()
		var ids []string
		path := fmt.Sprintf("/v1/contacts?limit=%d&q=%s", limit, url.QueryEscape(q))
		for next := path; ; {
			var p contactPage
			e.Get(t, next, token).Expect(t, http.StatusOK).JSON(t, &p)
			for _, c := range p.Data {
				if len(ids) > 0 && c.ID >= ids[len(ids)-1] {
					t.Fatalf("q=%s: %s after %s, not newest first", q, c.ID, ids[len(ids)-1])
				}
				ids = append(ids, c.ID)
			}
			if p.NextCursor == nil {
				return ids
			}
			next = path + "&cursor=" + url.QueryEscape(*p.NextCursor)
		}
	}
	// conversations pages through the inbox (every status) by limit.
	conversations := func(t *testing.T, token, q string, limit int) []string {
		t.Helper()
		var ids []string
		v := url.Values{"status": {"all"}, "inbox": {"all"}, "q": {q}, "limit": {fmt.Sprint(limit)}}
		for _, c := range inboxPages(t, e, token, v) {
			ids = append(ids, c.ID)
		}
		return ids
	}
	// want is what the documented rule answers, from every contact of the workspace: its ids,
	// newest first, and their conversations' ids (as a set).
	want := func(t *testing.T, q string) (ids, convs []string) {
		t.Helper()
		d := digitsOf(q)
		for _, c := range all(t, e, w.OwnerToken) {
			if c.Phone != nil && strings.Contains(digitsOf(*c.Phone), d) {
				ids = append(ids, c.ID)
				convs = append(convs, c.Conversation.ID)
			}
		}
		slices.Sort(convs)
		return ids, convs
	}
	check := func(t *testing.T, q string, min int) {
		t.Helper()
		wantIDs, wantConvs := want(t, q)
		if len(wantIDs) < min {
			t.Fatalf("q=%s: %d contacts hold the digits, the case needs %d", q, len(wantIDs), min)
		}
		for _, limit := range []int{7, 100} {
			if got := contacts(t, w.OwnerToken, q, limit); !slices.Equal(got, wantIDs) {
				t.Errorf("contacts q=%s limit %d: %d contacts %v, want %d %v", q, limit, len(got), got, len(wantIDs), wantIDs)
			}
			got := conversations(t, w.OwnerToken, q, limit)
			slices.Sort(got)
			if !slices.Equal(got, wantConvs) {
				t.Errorf("inbox q=%s limit %d: %d conversations, want %d", q, limit, len(got), len(wantConvs))
			}
		}
	}

	cases := []struct {
		name string
		q    string
		min  int // contacts that hold it, at least
	}{
		{"one gram, one contact", "8675", 1},
		{"one gram, with punctuation", "867-5", 1},
		{"several grams, the whole number", "+1 (415) 867-5309", 1},
		{"one gram, every seeded contact", "7700", 300},
		{"several grams, many contacts over pages", "4477000001", 100},
		{"several grams, a few", "00002", 10},
		{"digits no phone holds", "99999999", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { check(t, tc.q, tc.min) })
	}
	// The inbox's other steps: more matches than it looks up (the walk), and a walk bound.
	t.Run("inbox beyond the lookup", func(t *testing.T) {
		first := e.Store.SearchFirstLimit
		defer func() { e.Store.SearchFirstLimit = first }()
		e.Store.SearchFirstLimit = 5
		check(t, "00002", 10)
		check(t, "8675", 1)
	})

	t.Run("the digits of a text-only contact's email match only as text", func(t *testing.T) {
		if got := contacts(t, w.OwnerToken, "x8675309", 25); len(got) != 1 {
			t.Errorf("x8675309 found %v, want the contact with it in its email", got)
		}
		if got := contacts(t, w.OwnerToken, "8675309", 25); !slices.Equal(got, []string{target}) {
			t.Errorf("8675309 found %v, want only %s: a phone fragment searches phones", got, target)
		}
	})

	t.Run("minimum fragment", func(t *testing.T) {
		for _, q := range []string{"867", "+1 (4", "5", "0-0"} {
			e.Get(t, "/v1/contacts?q="+url.QueryEscape(q), w.OwnerToken).ExpectProblem(t, http.StatusUnprocessableEntity, "search_too_short")
			e.Get(t, "/v1/conversations?status=all&q="+url.QueryEscape(q), w.OwnerToken).ExpectProblem(t, http.StatusUnprocessableEntity, "search_too_short")
		}
		// A fragment with a letter is text, whatever its length.
		for _, q := range []string{"q", "86a", "+"} {
			e.Get(t, "/v1/contacts?q="+url.QueryEscape(q), w.OwnerToken).Expect(t, http.StatusOK)
		}
	})

	t.Run("tenancy", func(t *testing.T) {
		if got := contacts(t, w.OwnerToken, "4158675309", 25); !slices.Equal(got, []string{target}) {
			t.Errorf("Acme finds %v, want only its own %s", got, target)
		}
		if got := contacts(t, other.OwnerToken, "8675", 25); !slices.Equal(got, []string{stranger}) {
			t.Errorf("Globex finds %v, want only its own %s", got, stranger)
		}
		if got := conversations(t, other.OwnerToken, "7700", 25); len(got) != 0 {
			t.Errorf("Globex's inbox finds %d of Acme's conversations", len(got))
		}
	})

	t.Run("kept as contacts change", func(t *testing.T) {
		e.Patch(t, "/v1/contacts/"+target, w.OwnerToken, map[string]any{"phone": "+1 (212) 555-0199"}).Expect(t, http.StatusOK)
		check(t, "8675", 0)
		check(t, "2125550199", 1)
		if got := contacts(t, w.OwnerToken, "2125550199", 25); !slices.Equal(got, []string{target}) {
			t.Errorf("the new number finds %v, want %s", got, target)
		}
		e.Patch(t, "/v1/contacts/"+target, w.OwnerToken, map[string]any{"phone": "+1 (415) 867-5309"}).Expect(t, http.StatusOK)
		check(t, "5550199", 0)
		check(t, "8675309", 1)
		e.Delete(t, "/v1/contacts/"+target, w.OwnerToken).Expect(t, http.StatusNoContent)
		check(t, "8675", 0)
		// Still the other workspace's.
		if got := contacts(t, other.OwnerToken, "8675", 25); !slices.Equal(got, []string{stranger}) {
			t.Errorf("after Acme's deletion Globex finds %v, want %s", got, stranger)
		}
	})

	t.Run("merge", func(t *testing.T) {
		fb := newChannel(t, e, w.OwnerToken, "messenger")
		wa := newChannel(t, e, w.OwnerToken, "whatsapp")
		m, wm := mergePair(t, e, w, fb, wa, "psid-maria", "+12025550180", e.Clock.Now().Add(-time.Hour))
		check(t, "2025550180", 1)
		merge(e, t, w.OwnerToken, m.Contact.ID, wm.Contact.ID).Expect(t, http.StatusOK)
		check(t, "2025550180", 1)
		if got := contacts(t, w.OwnerToken, "2025550180", 25); !slices.Equal(got, []string{m.Contact.ID}) {
			t.Errorf("after the merge the number finds %v, want the survivor %s", got, m.Contact.ID)
		}
	})
}

// all lists every contact of the workspace, newest first.
func all(t *testing.T, e *apitest.Env, token string) []contactBody {
	t.Helper()
	var out []contactBody
	for next := "/v1/contacts?limit=100"; ; {
		var p contactPage
		e.Get(t, next, token).Expect(t, http.StatusOK).JSON(t, &p)
		out = append(out, p.Data...)
		if p.NextCursor == nil {
			return out
		}
		next = "/v1/contacts?limit=100&cursor=" + url.QueryEscape(*p.NextCursor)
	}
}

// TestInboxPhoneSearchByDay holds the inbox's 4-digit search, which reads a gram's rows latest
// day of last message first (migration 0028), to the page the plain inbox gives for the
// contacts that hold the digits: the same conversations in the same order, page after page,
// newest or oldest first, under a status filter, with conversations spread over many days and
// several at one instant; as a message moves a conversation to a new day; and through the walk
// that takes over when a page's days hold more rows than the search looks up.
func TestInboxPhoneSearchByDay(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	other := e.NewWorkspace(t, "Globex")
	seedContacts(t, e, w.ID, 400) // phones +447700000001 ... +447700000400
	seedContacts(t, e, other.ID, 50)
	ctx := context.Background()
	// 400 conversations over 10 days, 40 a day, five or six at each instant (the page's
	// order breaks ties by id), a third of them closed: by the seed's number in the phone, so
	// each case holds the same conversations on every run.
	if _, err := e.Store.Pool.Exec(ctx, `
UPDATE conversations v SET last_message_at = date_trunc('second', now()) - (n.i % 10) * interval '1 day' - (n.i % 7) * interval '1 minute',
       status = CASE WHEN n.i % 3 = 0 THEN 'closed' ELSE 'open' END
FROM (SELECT v.id, right(c.phone, 6)::int AS i FROM conversations v
      JOIN contacts c ON c.workspace_id = v.workspace_id AND c.id = v.contact_id WHERE v.workspace_id = $1) n
WHERE v.workspace_id = $1 AND v.id = n.id`, w.ID); err != nil {
		t.Fatal(err)
	}

	// pages lists the inbox page by page (limit rows a page) and returns the conversation ids
	// with their contacts' phones.
	pages := func(t *testing.T, v url.Values, limit int) (ids, phones []string) {
		t.Helper()
		if !v.Has("inbox") {
			v.Set("inbox", "all")
		}
		v.Set("limit", fmt.Sprint(limit))
		for _, c := range inboxPages(t, e, w.OwnerToken, v) {
			ids = append(ids, c.ID)
			phones = append(phones, *c.Contact.Phone)
		}
		return ids, phones
	}
	// checkIn compares the search with the plain list filtered by the digits, under the
	// request's other filters.
	checkIn := func(t *testing.T, filters url.Values, q string, min int) {
		t.Helper()
		list, phones := pages(t, maps.Clone(filters), 100)
		var want []string
		for i, id := range list {
			if strings.Contains(digitsOf(phones[i]), q) {
				want = append(want, id)
			}
		}
		if len(want) < min {
			t.Fatalf("%v q=%s: %d conversations hold the digits, the case needs %d", filters, q, len(want), min)
		}
		for _, limit := range []int{1, 7, 26, 100} {
			v := maps.Clone(filters)
			v.Set("q", q)
			got, _ := pages(t, v, limit)
			if !slices.Equal(got, want) {
				t.Errorf("%v q=%s limit %d: %d conversations %v, want %d %v", filters, q, limit, len(got), got, len(want), want)
			}
		}
	}
	check := func(t *testing.T, status, sort, q string, min int) {
		t.Helper()
		checkIn(t, url.Values{"status": {status}, "sort": {sort}}, q, min)
	}
	cases := []struct {
		q   string
		min int
	}{
		{"7700", 400}, // every contact: the page's days are the latest few
		{"0000", 300}, // 000001-000399 hold it, the rest (000400) too
		{"0003", 100}, // 0003xx and a few more
		{"0012", 10},  // fewer than a page under some filters: every match
		{"9999", 0},   // none
	}
	for _, tc := range cases {
		for _, status := range []string{"all", "closed", "open"} {
			for _, sort := range []string{"newest", "oldest"} {
				t.Run(tc.q+"/"+status+"/"+sort, func(t *testing.T) {
					min := tc.min
					if status != "all" {
						min /= 4
					}
					check(t, status, sort, tc.q, min)
				})
			}
		}
	}

	t.Run("a message moves a conversation to today", func(t *testing.T) {
		// The oldest of the gram's conversations gets a message now: it leads the page.
		list, phones := pages(t, url.Values{"status": {"all"}, "sort": {"oldest"}}, 100)
		var oldest string
		for i, id := range list {
			if strings.Contains(digitsOf(phones[i]), "0003") {
				oldest = id
				break
			}
		}
		if _, err := e.Store.Pool.Exec(ctx, `UPDATE conversations SET last_message_at = now() + interval '1 second' WHERE workspace_id = $1 AND id = $2`, w.ID, oldest); err != nil {
			t.Fatal(err)
		}
		got, _ := pages(t, url.Values{"status": {"all"}, "q": {"0003"}}, 5)
		if len(got) == 0 || got[0] != oldest {
			t.Fatalf("after its message %s leads the search, got %v", oldest, got)
		}
		check(t, "all", "newest", "0003", 100)
	})

	t.Run("a gram that crowds its latest days walks the inbox", func(t *testing.T) {
		first := e.Store.SearchFirstLimit
		defer func() { e.Store.SearchFirstLimit = first }()
		// The latest days of a page hold 26 or more rows: more than 10.
		e.Store.SearchFirstLimit = 10
		check(t, "all", "newest", "7700", 400)
		check(t, "closed", "oldest", "0003", 25)
	})

	t.Run("mine and a label", func(t *testing.T) {
		// Every other conversation is the owner's, every third carries a label: the page's
		// filters apply to the gram's rows of every day (a label's page is planned for its
		// arguments, mine of every status too; open and mine keeps the generic plan).
		refund := newLabel(t, e, w.OwnerToken, "Refund", "#e5484d")
		if _, err := e.Store.Pool.Exec(ctx, `
UPDATE conversations v SET assignee_id = CASE WHEN n.i % 2 = 0 THEN $2::uuid END
FROM (SELECT v.id, right(c.phone, 6)::int AS i FROM conversations v
      JOIN contacts c ON c.workspace_id = v.workspace_id AND c.id = v.contact_id WHERE v.workspace_id = $1) n
WHERE v.workspace_id = $1 AND v.id = n.id`, w.ID, w.OwnerID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Store.Pool.Exec(ctx, `
INSERT INTO conversation_labels (workspace_id, conversation_id, label_id, created_at)
SELECT v.workspace_id, v.id, $2, now() FROM conversations v JOIN contacts c ON c.workspace_id = v.workspace_id AND c.id = v.contact_id
WHERE v.workspace_id = $1 AND right(c.phone, 6)::int % 3 = 0`, w.ID, refund.ID); err != nil {
			t.Fatal(err)
		}
		for _, sort := range []string{"newest", "oldest"} {
			for _, q := range []string{"7700", "0003"} {
				checkIn(t, url.Values{"status": {"all"}, "inbox": {"mine"}, "sort": {sort}}, q, 15)
				checkIn(t, url.Values{"status": {"open"}, "inbox": {"mine"}, "sort": {sort}}, q, 10)
				checkIn(t, url.Values{"status": {"all"}, "label_id": {refund.ID}, "sort": {sort}}, q, 10)
			}
		}
	})

	t.Run("tenancy", func(t *testing.T) {
		p := inbox(t, e, other.OwnerToken, url.Values{"status": {"all"}, "inbox": {"all"}, "q": {"7700"}, "limit": {"100"}})
		if len(p.Data) != 50 {
			t.Errorf("Globex finds %d conversations for 7700, want its own 50", len(p.Data))
		}
	})
}
