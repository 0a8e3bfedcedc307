package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchboard/switchboard/api/apitest"
	"github.com/switchboard/switchboard/pkg/contact"
	"github.com/switchboard/switchboard/pkg/conversation"
	"github.com/switchboard/switchboard/pkg/page"
)

// walkOnLayout is where, in a list of 30 newest first, the contacts called Walkon are: two
// within the first walk's 4 entries (common: the walk goes on from the second, at 3), none
// in the 4 entries after 10 (rare: the trigram lookup), one in the 4 before the end.
var walkOnLayout = []int{1, 3, 10, 15, 20, 25, 29}

// searchPages pages through path (a query without cursor) and returns every page's ids and
// next cursor.
func searchPages(t *testing.T, e *apitest.Env, token, path string) []string {
	t.Helper()
	var pages []string
	for cursor := ""; ; {
		var p struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		next := path
		if cursor != "" {
			next += "&cursor=" + url.QueryEscape(cursor)
		}
		e.Get(t, next, token).Expect(t, http.StatusOK).JSON(t, &p)
		ids := make([]string, len(p.Data))
		for i, r := range p.Data {
			ids[i] = r.ID
		}
		line := strings.Join(ids, ",")
		if p.NextCursor != nil {
			line += " next " + *p.NextCursor
		}
		pages = append(pages, line)
		if p.NextCursor == nil || len(pages) > 40 {
			return pages
		}
		cursor = *p.NextCursor
	}
}

// TestSearchWalksOn checks that a text search the first walk found common, which walks on from
// its last match instead of starting over (store.searchSteps, Contacts), gives exactly the
// pages and cursors of one walk without bound, in the inbox and in contact search; that a
// page whose first walk finds nothing still takes the trigram lookup; and that another
// workspace's matches never appear.
func TestSearchWalksOn(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	other := e.NewWorkspace(t, "Other")
	ch := newChannel(t, e, w.OwnerToken, "custom")
	otherCh := newChannel(t, e, other.OwnerToken, "custom")
	base := e.Clock.Now().Add(-time.Hour)
	var convs, contacts []string // newest first, as the lists order them
	for i := range 30 {
		// Oldest first, so position i (newest first) is 29-i; the other workspace's
		// Walkons are interleaved in time and created between ours.
		pos := 29 - i
		last := "Filler"
		if slices.Contains(walkOnLayout, pos) {
			last = fmt.Sprintf("Walkon%02d", pos)
		}
		at := base.Add(time.Duration(i) * time.Minute)
		in := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": fmt.Sprintf("w-%02d", i), "text": "hi",
			"received_at": at.Format(time.RFC3339), "contact": map[string]any{"last_name": last}})
		convs = append([]string{in.Conversation.ID}, convs...)
		contacts = append([]string{in.Contact.ID}, contacts...)
		ingest(t, e, other.APIKey, otherCh, map[string]any{"identifier": fmt.Sprintf("o-%02d", i), "text": "hi",
			"received_at": at.Add(30 * time.Second).Format(time.RFC3339), "contact": map[string]any{"last_name": "Walkon"}})
	}
	// The contacts list's own order (by id) is the walk's; the layout assumes creation order.
	if got := searchPages(t, e, w.APIKey, "/v1/contacts?limit=30"); got[0] != strings.Join(contacts, ",") {
		t.Fatalf("contacts are not newest first by creation:\n%s\nwant %s", got[0], strings.Join(contacts, ","))
	}
	var wantConvs, wantContacts []string
	for _, pos := range walkOnLayout {
		wantConvs, wantContacts = append(wantConvs, convs[pos]), append(wantContacts, contacts[pos])
	}

	bound, first := e.Store.SearchWalkBound, e.Store.SearchFirstLimit
	defer func() { e.Store.SearchWalkBound, e.Store.SearchFirstLimit = bound, first }()
	cases := []struct {
		name, path string
		want       []string // every match, in the list's order
	}{
		{"inbox", "/v1/conversations?q=walkon&limit=3", wantConvs},
		{"inbox by 2", "/v1/conversations?q=walkon&limit=2", wantConvs},
		{"inbox, every status", "/v1/conversations?q=walkon&status=all&limit=3", wantConvs},
		{"inbox, oldest first", "/v1/conversations?q=walkon&sort=oldest&limit=3", reversed(wantConvs)},
		{"contacts", "/v1/contacts?q=walkon&limit=3", wantContacts},
		{"contacts by 2", "/v1/contacts?q=walkon&limit=2", wantContacts},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// One walk without bound (no first walk; the lookup takes no contact).
			e.Store.SearchWalkBound, e.Store.SearchFirstLimit = 0, 0
			want := searchPages(t, e, w.APIKey, tc.path)
			var all []string
			for _, p := range want {
				ids, _, _ := strings.Cut(p, " ")
				all = append(all, strings.Split(ids, ",")...)
			}
			if !slices.Equal(all, tc.want) {
				t.Fatalf("the plain walk found %v, want %v", all, tc.want)
			}
			// A first walk of 4 entries, the lookup taking every match.
			e.Store.SearchWalkBound, e.Store.SearchFirstLimit = 4, 1000
			if got := searchPages(t, e, w.APIKey, tc.path); !slices.Equal(got, want) {
				t.Fatalf("pages\n%s\nwant those of one walk\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}

	// A first walk that fills the page reads it in one statement, the walk joined to the
	// page's columns, and then the page's labels.
	e.Store.SearchWalkBound, e.Store.SearchFirstLimit = bound, first
	ctx := context.Background()
	ws := uuid.MustParse(w.ID)
	plans, err := e.Store.ExplainConversations(ctx, ws, conversation.Filter{Status: "open", Sort: conversation.SortNewest, Q: "walkon"},
		page.Request{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 2 || !strings.Contains(plans[0], "strpos") || !strings.Contains(plans[0], " on contacts c") {
		t.Errorf("%d statements, want the first walk with the page's join, and the page's labels:\n%s", len(plans), strings.Join(plans, "\n\n"))
	}
	// The first page's statements when the first walk is 4 entries: the first walk (2 of
	// its 4 entries match) with their join, and the walk on from the second match,
	// positioned after it, never the trigram lookup; then the join of the page's rows the
	// walk on picked, and the page's labels.
	e.Store.SearchWalkBound, e.Store.SearchFirstLimit = 4, 1000
	plans, err = e.Store.ExplainConversations(ctx, ws, conversation.Filter{Status: "open", Sort: conversation.SortNewest, Q: "walkon"},
		page.Request{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 4 || !strings.Contains(plans[1], convs[3]) || strings.Contains(plans[1], "contacts_search_trgm") ||
		!strings.Contains(plans[2], "unnest") {
		t.Errorf("%d statements, want the first walk, the walk on from %s, the page of its rows and the page's labels:\n%s", len(plans), convs[3],
			strings.Join(plans, "\n\n"))
	}
	plans, err = e.Store.ExplainContacts(ctx, ws, contact.Filter{Q: "walkon"}, page.Request{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 2 || !strings.Contains(plans[1], contacts[3]) {
		t.Errorf("%d statements, want the first walk and the walk on from %s:\n%s", len(plans), contacts[3], strings.Join(plans, "\n\n"))
	}
	// Positioned after the match at 10, the first walk reads 11-14 and finds nothing: rare.
	after := conversationCursor(t, e, w.APIKey, "/v1/conversations?q=walkon&limit=3")
	plans, err = e.Store.ExplainConversations(ctx, ws, conversation.Filter{Status: "open", Sort: conversation.SortNewest, Q: "walkon"},
		page.Request{Limit: 3, Cursor: after})
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 4 {
		t.Errorf("%d statements after position 10, want the first walk, the lookup, the page from it and its labels:\n%s",
			len(plans), strings.Join(plans, "\n\n"))
	}
}

// conversationCursor is the next cursor of path's first page.
func conversationCursor(t *testing.T, e *apitest.Env, token, path string) string {
	t.Helper()
	var p conversationPage
	e.Get(t, path, token).Expect(t, http.StatusOK).JSON(t, &p)
	if p.NextCursor == nil {
		t.Fatalf("%s: no next page", path)
	}
	return *p.NextCursor
}

// reversed is a reversed copy of ids.
func reversed(ids []string) []string {
	out := slices.Clone(ids)
	slices.Reverse(out)
	return out
}

// TestSearchTakesWildcardsLiterally checks that %, _ and \ in q are literal and that q's case
// and repeated spaces do not matter, both where a first walk fills the page (strpos in a
// prepared statement, store.walkCondition) and where the pages after it take the other
// steps (LIKE with the wildcards escaped): every page of each search, inbox and contacts,
// holds exactly the contacts whose name holds the fragment.
func TestSearchTakesWildcardsLiterally(t *testing.T) {
	e := apitest.New(t)
	w := e.NewWorkspace(t, "Acme")
	ch := newChannel(t, e, w.OwnerToken, "custom")
	names := []string{`100% Sure`, `100X Sure`, `Under_Score`, `UnderXScore`, `Back\Slash`, `BackXSlash`, `Back\\Slash`}
	contacts := map[string][]string{} // name -> its contacts' ids, two of each
	convs := map[string]string{}      // conversation id -> its contact's name
	for i := range 2 * len(names) {
		name := names[i%len(names)]
		in := ingest(t, e, w.APIKey, ch, map[string]any{"identifier": fmt.Sprintf("wild-%02d", i), "text": "hi",
			"contact": map[string]any{"first_name": "Wild", "last_name": name}})
		contacts[name] = append(contacts[name], in.Contact.ID)
		convs[in.Conversation.ID] = name
	}
	for _, tc := range []struct {
		q    string
		want []string // the names that hold it
	}{
		{"0% s", []string{`100% Sure`}},
		{"100%   SURE", []string{`100% Sure`}},
		{"r_s", []string{`Under_Score`}},
		{"UNDER_", []string{`Under_Score`}},
		{`k\s`, []string{`Back\Slash`}},
		{`k\\s`, []string{`Back\\Slash`}},
		{`ck\`, []string{`Back\Slash`, `Back\\Slash`}},
		{"%", []string{`100% Sure`}},
		{"_", []string{`Under_Score`}},
	} {
		t.Run(tc.q, func(t *testing.T) {
			var wantContacts, wantNames []string
			for _, n := range tc.want {
				wantContacts = append(wantContacts, contacts[n]...)
				wantNames = append(wantNames, n, n)
			}
			slices.Sort(wantContacts)
			slices.Sort(wantNames)
			// limit=1: the first walk fills the first page (two contacts hold each name).
			var inbox, people []string
			for _, line := range searchPages(t, e, w.APIKey, "/v1/conversations?status=all&limit=1&q="+url.QueryEscape(tc.q)) {
				if ids := strings.Split(line, " next ")[0]; ids != "" {
					for _, id := range strings.Split(ids, ",") {
						inbox = append(inbox, convs[id])
					}
				}
			}
			for _, line := range searchPages(t, e, w.APIKey, "/v1/contacts?limit=1&q="+url.QueryEscape(tc.q)) {
				if ids := strings.Split(line, " next ")[0]; ids != "" {
					people = append(people, strings.Split(ids, ",")...)
				}
			}
			slices.Sort(inbox)
			slices.Sort(people)
			if !slices.Equal(inbox, wantNames) {
				t.Errorf("the inbox found the conversations of %q, want those of %q", inbox, wantNames)
			}
			if !slices.Equal(people, wantContacts) {
				t.Errorf("contact search found %v, want %v", people, wantContacts)
			}
		})
	}
}
